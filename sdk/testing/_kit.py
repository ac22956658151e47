"""One battery of conformance tests for any connector, from one declaration.

In a connector's test module::

    TestAcmeConformance = connector_test_class(
        AcmeConnector,
        cases=[OperationCase("find_contacts", {"email": "a@example.test"}, mock=mock_search), ...],
        pagination=PaginationCase("find_contacts", {"email": "a@example.test"}, mock=mock_pages),
        credential=lambda secret: ApiKeyCredential(type="api_key", api_key=SecretStr(secret)),
    )

``mock(router, canary)`` installs every respx route the operation needs, with
the vendor's happy-path response, plants ``canary`` in a personal field of it,
and returns the *primary* route: the kit replaces that route's answers with
401s, 429s, 5xx and broken payloads. Give the primary route a fixed answer
(``.respond(...)``) or a callable side effect, not a list.

``PaginationCase.mock(router, next_cursors)`` installs a route whose n-th call
answers a page of one item whose "next page" cursor is ``next_cursors[n]``
(None: last page).

Everything runs in process against respx; nothing reaches the network.
"""

from __future__ import annotations

import contextlib
import json
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import httpx
import pytest

from sdk._connector import Connector
from sdk._dispatch import dispatch
from sdk._errors import (
    NexoraError,
    ScopeDeniedError,
    VendorAuthError,
    VendorPayloadError,
    VendorRateLimitError,
    VendorServerError,
)
from sdk.testing._attack import attack_argument
from sdk.testing._cases import OperationCase, PaginationCase
from sdk.testing._credentials import make_canary
from sdk.testing._harness import INTEGRATION, TENANT, ConformanceHarness, always, script
from sdk.testing._hostile import HOSTILE_VALUES, hostile_request_problem
from vault._credentials import Credential, OAuth2RefreshCredential

__all__ = ["ConnectorConformance", "OperationCase", "PaginationCase", "connector_test_class"]


class ConnectorConformance(ConformanceHarness):
    """The battery; ``connector_test_class`` fills in the class attributes."""

    def test_declared_capabilities_match_operations(self) -> None:
        implemented = self.connector.implemented_operations()
        assert implemented, f"{self.connector.__name__} implements no operation"
        covered = {c.operation for c in self.cases}
        assert covered <= set(implemented), (
            f"cases name unknown operations: {sorted(covered - set(implemented))}"
        )
        assert set(implemented) <= covered, f"operations without a case: {sorted(set(implemented) - covered)}"
        for name, spec in implemented.items():
            assert spec.is_write == (spec.scope.access.value == "write"), name
            if spec.is_write:
                assert not spec.reads_over_post, f"{name}: a write cannot declare reads over POST"
            assert spec.endpoints, (
                f"{name} declares no endpoint, so it may send nothing: add @endpoints('GET /path/{{id}}') "
                "to its implementation"
            )
        assert self.connector.verify_spec.endpoints, (
            f"{self.connector.__name__}.verify() declares no endpoint: add @endpoints('GET /path') to it"
        )
        authored = [
            k
            for k in self.connector.__mro__
            if issubclass(k, Connector) and k.__module__.split(".")[0] != "sdk"
        ]
        assert any("verify" in vars(k) for k in authored), (
            f"{self.connector.__name__} must implement verify()"
        )

    @pytest.mark.asyncio
    async def test_every_operation_succeeds_and_only_sends_what_its_scope_allows(self) -> None:
        for case in self.cases:
            async with self._conversation() as (conv, run):
                case.mock(run.router, run.canary)
                result = await self._call(conv, run, case)
                spec = self.connector.operations[case.operation]
                spec.result_adapter.validate_python(result)
                assert run.router.calls, f"{case.label} sent no request"
                base = conv._runtime.binding(TENANT, INTEGRATION).connector.http.base_path
                for call in run.router.calls:
                    request = call.request
                    problem = hostile_request_problem(request, spec.endpoints, base)
                    assert problem is None, f"{case.label} ({spec.scope}) sent {problem}"
                    assert spec.is_write or request.method in ("GET", "HEAD", "OPTIONS", "POST"), (
                        f"{case.label} ({spec.scope}) sent {request.method}"
                    )

    @pytest.mark.asyncio
    async def test_hostile_arguments_never_leave_the_declared_endpoints(
        self, caplog: pytest.LogCaptureFixture
    ) -> None:
        """Every string argument, every attack class: typed errors or results, and declared requests only.

        The values are what a caller can steer a language model into sending
        (``sdk.testing._hostile``). A catch-all route answers whatever the
        case's own routes do not, so a request to any other path would be
        seen here; every request that reached the mock transport is checked
        against the operation's declared endpoints by an implementation
        independent of the SDK's guard. Tool calls (``conv.invoke``) get the
        traversal and injection classes too.
        """
        caplog.set_level(logging.DEBUG)
        for case in self.cases:
            targets = [name for name, value in case.arguments.items() if isinstance(value, str)]
            for argument in targets:
                async with self._conversation() as (conv, run):
                    case.mock(run.router, run.canary)
                    run.router.route().respond(404, json={"error": run.canary})
                    base = conv._runtime.binding(TENANT, INTEGRATION).connector.http.base_path
                    spec = self.connector.operations[case.operation]
                    for attack, values in HOSTILE_VALUES.items():
                        for value in values:
                            await attack_argument(conv, run, case, spec, argument, attack, value, base)
                self._assert_no_leak(run, caplog)

    @pytest.mark.asyncio
    async def test_read_only_grant_refuses_every_write_before_the_transport(self) -> None:
        for case in self._writes():
            async with self._conversation(read_only=True) as (conv, run):
                case.mock(run.router, run.canary)
                with pytest.raises(ScopeDeniedError):
                    await self._call(conv, run, case)
                assert len(run.router.calls) == 0, (
                    f"{case.label} reached the transport under a read-only grant"
                )
                assert run.credentials.reads == 0, f"{case.label} read the key although it was denied"

    @pytest.mark.asyncio
    async def test_reads_work_under_a_read_only_grant(self) -> None:
        for case in self._reads():
            async with self._conversation(read_only=True) as (conv, run):
                case.mock(run.router, run.canary)
                await self._call(conv, run, case)

    @pytest.mark.asyncio
    async def test_vendor_401_causes_one_fresh_credential_read_and_one_resend(self) -> None:
        for case in self.cases:
            async with self._conversation() as (conv, run):
                primary = case.mock(run.router, run.canary)
                run.credentials.seed(TENANT, INTEGRATION, self.credential(make_canary("rotated")))
                run.credentials.lagging = True
                script(primary, [httpx.Response(401, json={})])
                await self._call(conv, run, case)
                assert primary.call_count == 2, (
                    f"{case.label}: expected one resend, got {primary.call_count - 1}"
                )
                assert run.credentials.invalidations == 1
                if isinstance(self.credential("probe"), OAuth2RefreshCredential):
                    # Every refresh grant reads the credential fresh under the refresh lock and
                    # writes the rotated token back: one grant before the 401, exactly one after.
                    # The audit names the version whose refresh token the access token came from.
                    stored = run.credentials.versions[(TENANT, INTEGRATION)]
                    version = run.audit.records[-1].credential_version
                    assert version is not None, case.label
                    assert 2 <= version <= len(stored), f"{case.label}: {version}"
                    assert run.credentials.writes == 2, (
                        f"{case.label}: each rotated token must be written back"
                    )
                    if run.tokens is not None:
                        assert run.tokens.grants == ["refresh_token"] * 2, (
                            f"{case.label}: expected one token refresh after the 401"
                        )
                        assert run.tokens.reuses == 0, f"{case.label} presented a spent refresh token"
                    continue
                assert run.credentials.fresh_reads == 1, f"{case.label}: expected exactly one fresh read"
                assert run.audit.records[-1].credential_version == 2

    @pytest.mark.asyncio
    async def test_persistent_401_gives_vendor_auth_error_without_the_secret(
        self, caplog: pytest.LogCaptureFixture
    ) -> None:
        caplog.set_level(logging.DEBUG)
        case = self.cases[0]
        async with self._conversation() as (conv, run):
            primary = case.mock(run.router, run.canary)
            always(primary, 401, content=json.dumps({"error": run.canary}).encode())
            with pytest.raises(VendorAuthError):
                await self._call(conv, run, case)
            assert primary.call_count == 2
        self._assert_no_leak(run, caplog)

    @pytest.mark.asyncio
    async def test_429_with_retry_after_is_honoured(self) -> None:
        for case in self._reads():
            async with self._conversation() as (conv, run):
                primary = case.mock(run.router, run.canary)
                script(primary, [httpx.Response(429, headers={"Retry-After": "0"}, json={})])
                await self._call(conv, run, case)
                assert primary.call_count == 2, case.label

    @pytest.mark.asyncio
    async def test_retry_after_beyond_the_budget_is_not_slept_through(self) -> None:
        case = self._reads()[0] if self._reads() else self.cases[0]
        async with self._conversation() as (conv, run):
            primary = case.mock(run.router, run.canary)
            always(primary, 429, headers={"Retry-After": "120"})
            binding = conv._runtime.binding(TENANT, INTEGRATION)
            with pytest.raises(VendorRateLimitError):
                await dispatch(
                    binding,
                    binding.spec(case.operation),
                    dict(case.arguments),
                    audit=run.audit,
                    conversation_id=None,
                    deadline=time.monotonic() + 1.0,
                )
            assert primary.call_count == 1

    @pytest.mark.asyncio
    async def test_5xx_on_reads_is_retried(self) -> None:
        for case in self._reads():
            async with self._conversation() as (conv, run):
                primary = case.mock(run.router, run.canary)
                script(primary, [httpx.Response(503, json={})])
                await self._call(conv, run, case)
                assert primary.call_count == 2, case.label

    @pytest.mark.asyncio
    async def test_writes_are_retried_only_with_an_idempotency_key(self) -> None:
        header = self.connector.idempotency_header
        for case in self._writes():
            async with self._conversation() as (conv, run):
                primary = case.mock(run.router, run.canary)
                script(primary, [httpx.Response(503, json={})])
                failed: VendorServerError | None = None
                try:
                    await self._call(conv, run, case)
                except VendorServerError as exc:
                    failed = exc
                keys = [call.request.headers.get(header) for call in primary.calls] if header else [None]
                if keys[0] is None:
                    assert primary.call_count == 1, f"{case.label} was retried without an idempotency key"
                    assert failed is not None, f"{case.label}: the 503 of an unrepeatable write must surface"
                else:
                    assert failed is None, f"{case.label} carries {header} but its retry did not succeed"
                    assert primary.call_count == 2, f"{case.label} carries {header} but was not retried"
                    assert len(set(keys)) == 1, f"{case.label}: a retried write must resend the same {header}"

    @pytest.mark.asyncio
    async def test_malformed_truncated_and_oversized_payloads_raise_typed_errors(
        self, caplog: pytest.LogCaptureFixture
    ) -> None:
        caplog.set_level(logging.DEBUG)
        limit = self.connector.max_response_bytes
        broken: dict[str, Callable[[str], bytes]] = {
            "truncated": lambda canary: b'{"id": "1", "name": "' + canary.encode(),
            "not-json": lambda canary: b"<html>" + canary.encode() + b"</html>",
            "oversized": lambda canary: b'{"pad": "' + b"x" * (limit + 1) + b'"}',
        }
        for case in self.cases:
            for make in broken.values():
                async with self._conversation() as (conv, run):
                    primary = case.mock(run.router, run.canary)
                    always(primary, 200, content=make(run.canary))
                    with pytest.raises(VendorPayloadError):
                        await self._call(conv, run, case)
                self._assert_no_leak(run, caplog)
            for label, drift in {"empty-object": b"{}", "null": b"null", "list": b"[]"}.items():
                async with self._conversation() as (conv, run):
                    primary = case.mock(run.router, run.canary)
                    always(primary, 200, content=drift)
                    try:
                        await self._call(conv, run, case)
                    except NexoraError:
                        pass  # a typed error is fine; anything else is a crash
                    except Exception as exc:  # noqa: BLE001 - the assertion names what escaped
                        raise AssertionError(
                            f"{case.label} crashed on a {label} payload: {type(exc).__name__}"
                        ) from None

    @pytest.mark.asyncio
    async def test_pagination_terminates_and_detects_a_repeated_cursor(self) -> None:
        if self.pagination is None:
            pytest.skip("this connector declares no PaginationCase")
        case = self.pagination
        async with self._conversation() as (conv, run):
            route = case.mock(run.router, ["page-2", "page-3", None])
            await self._call(conv, run, case)
            assert route.call_count == 3, f"expected 3 pages, fetched {route.call_count}"
        async with self._conversation() as (conv, run):
            route = case.mock(run.router, ["same", "same", "same", "same", "same", "same"])
            with pytest.raises(VendorPayloadError):
                await self._call(conv, run, case)
            assert route.call_count <= 3
        async with self._conversation() as (conv, run):
            route = case.mock(run.router, [f"page-{n}" for n in range(2, 200)])
            with contextlib.suppress(NexoraError):
                await self._call(conv, run, case)
            assert route.call_count <= 50, "pagination must be bounded"

    @pytest.mark.asyncio
    async def test_no_secret_or_customer_data_in_logs_audit_or_errors(
        self, caplog: pytest.LogCaptureFixture
    ) -> None:
        caplog.set_level(logging.DEBUG)
        for case in self.cases:
            for failure in (None, 404, 409, 500):
                async with self._conversation() as (conv, run):
                    primary = case.mock(run.router, run.canary)
                    if failure is not None:
                        body = {"error": run.canary, "message": run.canary, "description": run.canary}
                        always(primary, failure, content=json.dumps(body).encode())
                    with contextlib.suppress(NexoraError):
                        result = await self._call(conv, run, case)
                        assert run.secret not in repr(result)
                    assert run.secret not in repr(conv)
                    assert run.canary not in repr(conv)
                self._assert_no_leak(run, caplog)


def connector_test_class(
    connector: type[Connector],
    *,
    cases: Sequence[OperationCase],
    credential: Callable[[str], Credential],
    settings: Mapping[str, Any] | None = None,
    pagination: PaginationCase | None = None,
    token_url: str | None = None,
) -> type[ConnectorConformance]:
    """Return a pytest test class running the whole battery against ``connector``.

    ``token_url``: for a connector whose ``credential`` is an OAuth one, the vendor's token
    endpoint; every scenario then runs with :func:`sdk.testing.mock_token_endpoint` answering it
    (rotating refresh tokens, written back to the kit's writable credential source).
    """
    if not cases:
        raise ValueError("connector_test_class needs at least one OperationCase")
    return type(
        f"Test{connector.__name__}Conformance",
        (ConnectorConformance,),
        {
            "connector": connector,
            "cases": tuple(cases),
            "pagination": pagination,
            "credential": staticmethod(credential),
            "settings": dict(settings or {}),
            "token_url": token_url,
        },
    )
