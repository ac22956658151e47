"""The conformance battery's harness: a runtime and conversation per scenario, scripted routes, a leak scan.

Each scenario of the battery (:mod:`sdk.testing._kit`) runs in a
conversation of its own, against a runtime whose only integration is the
connector under test, with a credential made of a fresh canary secret and
vendor answers that carry a fresh canary of customer data. What the scenario
produced (the requests, the audit records, the errors) is kept in a
:class:`ScenarioRun`, so that the leak scan can look for both canaries in all
of it.
"""

from __future__ import annotations

import contextlib
import traceback
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import respx

from sdk._audit import MemoryAuditSink
from sdk._call import Conversation
from sdk._connector import Connector
from sdk.testing._cases import OperationCase, PaginationCase
from sdk.testing._credentials import WritableMemoryCredentialSource, make_canary
from sdk.testing._runtime import mock_runtime
from sdk.testing._token_endpoint import MockTokenEndpoint, mock_token_endpoint
from vault._credentials import Credential

__all__ = ["INTEGRATION", "TENANT", "ConformanceHarness", "ScenarioRun", "always", "script"]

TENANT = "kit-tenant"
INTEGRATION = "kit"


@dataclass
class ScenarioRun:
    """Everything one scenario produced, for the assertions and the leak scan."""

    router: respx.MockRouter
    credentials: WritableMemoryCredentialSource
    audit: MemoryAuditSink
    secret: str
    canary: str
    errors: list[BaseException] = field(default_factory=list)
    tokens: MockTokenEndpoint | None = None
    """The mock token endpoint, when the battery was given a ``token_url``."""


def script(route: respx.Route, first: Sequence[httpx.Response | Exception]) -> None:
    """Make ``route`` answer ``first`` in order, then what it answered before."""
    original_effect = route.side_effect
    original_return = route.return_value
    queue = list(first)

    def answer(request: httpx.Request, **params: Any) -> httpx.Response:
        if queue:
            item = queue.pop(0)
            if isinstance(item, Exception):
                raise item
            return item
        if callable(original_effect):
            result = original_effect(request, **params) if params else original_effect(request)
            assert isinstance(result, httpx.Response)
            return result
        if isinstance(original_return, httpx.Response):
            return httpx.Response(
                original_return.status_code, headers=original_return.headers, content=original_return.content
            )
        raise AssertionError("the case's primary route needs a fixed response or a callable side effect")

    route.side_effect = answer


def always(
    route: respx.Route, status: int, *, content: bytes = b"{}", headers: Mapping[str, str] | None = None
) -> None:
    """Make ``route`` answer the same status and body to every call."""

    def answer(request: httpx.Request, **params: Any) -> httpx.Response:
        return httpx.Response(status, content=content, headers=headers)

    route.side_effect = answer


class ConformanceHarness:
    """What every test of the battery stands on; ``connector_test_class`` fills in the class attributes.

    :meth:`_assert_no_leak` is the override point for a connector whose
    credential holds more than the planted secret (a private key, say): call
    the base, then search for what else must not leak.
    """

    connector: type[Connector]
    cases: Sequence[OperationCase]
    pagination: PaginationCase | None
    credential: Callable[[str], Credential]
    settings: Mapping[str, Any]
    token_url: str | None = None

    @contextlib.asynccontextmanager
    async def _conversation(
        self, *, read_only: bool = False
    ) -> AsyncIterator[tuple[Conversation, ScenarioRun]]:
        run = ScenarioRun(
            router=respx.MockRouter(assert_all_called=False, assert_all_mocked=True),
            credentials=WritableMemoryCredentialSource(),
            audit=MemoryAuditSink(),
            secret=make_canary("secret"),
            canary=make_canary("customer"),
        )
        run.credentials.seed(TENANT, INTEGRATION, self.credential(run.secret))
        async with contextlib.AsyncExitStack() as stack:
            if self.token_url is not None:
                run.tokens = stack.enter_context(mock_token_endpoint(self.token_url))
            yield await stack.enter_async_context(self._running(run, read_only=read_only))

    @contextlib.asynccontextmanager
    async def _running(
        self, run: ScenarioRun, *, read_only: bool
    ) -> AsyncIterator[tuple[Conversation, ScenarioRun]]:
        write_scopes = sorted({str(s.scope) for s in self.connector.operations.values() if s.is_write})
        async with (
            mock_runtime(
                self.connector,
                run.router,
                run.credentials,
                tenant=TENANT,
                integration=INTEGRATION,
                settings=self.settings,
                write_scopes=() if read_only else write_scopes,
                audit_sink=run.audit,
            ) as nc,
            nc.conversation(tenant=TENANT, conversation_id="kit-call") as conv,
        ):
            yield conv, run

    async def _call(self, conv: Conversation, run: ScenarioRun, case: OperationCase | PaginationCase) -> Any:
        try:
            return await conv.call(INTEGRATION, case.operation, **dict(case.arguments))
        except BaseException as exc:
            run.errors.append(exc)
            raise

    def _reads(self) -> list[OperationCase]:
        return [c for c in self.cases if not self.connector.operations[c.operation].is_write]

    def _writes(self) -> list[OperationCase]:
        return [c for c in self.cases if self.connector.operations[c.operation].is_write]

    def _assert_no_leak(self, run: ScenarioRun, caplog: pytest.LogCaptureFixture) -> None:
        texts: list[tuple[str, str]] = [("log", r.getMessage()) for r in caplog.records]
        texts += [("audit", r.model_dump_json()) for r in run.audit.records]
        for exc in run.errors:
            texts.append(("exception", "".join(traceback.format_exception(exc))))
            texts.append(("exception repr", repr(exc)))
        tokens = [*run.tokens.issued_access, *run.tokens.issued_refresh] if run.tokens else []
        for where, text in texts:
            assert run.secret not in text, f"the credential leaked into a {where}"
            assert run.canary not in text, f"customer data leaked into a {where}"
            assert not any(token in text for token in tokens), f"an OAuth token leaked into a {where}"
