"""OAuthTokenSource in one process: single flight, expiry, write-back rules, vendor errors, 401s.

These run against the strict in-process :class:`TokenVendor` (single-use refresh tokens,
family revocation on reuse) and a check-and-set memory source; the same rules against
real OpenBao are in ``test_writeback.py`` and across processes in ``test_multiprocess.py``.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from connectors.crm.hubspot import HubSpotConnector
from sdk import (
    ConfigurationError,
    DeadlineExceededError,
    MalformedCredentialError,
    ReauthorizationRequiredError,
    VaultUnavailableError,
    VendorAuthError,
    VendorPayloadError,
    VendorRateLimitError,
    VendorServerError,
)
from sdk._auth import VaultCredentialAuth
from sdk._context import CallContext, _running
from sdk._scopes import Grant
from sdk.testing import MemoryCredentialSource, make_canary
from tests.oauth.support import (
    RESOURCE_PATH,
    TOKEN_PATH,
    MemorySource,
    TokenVendor,
    refresh_credential,
)
from vault import ApiKeyCredential, OAuth2ClientCredential, OAuth2RefreshCredential
from vault._oauth import OAuthTokenSource
from vault._token_endpoint import TokenEndpoint

BASE = "https://vendor.test"
ENDPOINT = TokenEndpoint(url=BASE + TOKEN_PATH, auth_method="client_secret_post")
T, INTEGRATION = "acme", "crm"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def setup(vendor: TokenVendor, **options: Any) -> tuple[MemorySource, OAuthTokenSource]:
    source = MemorySource()
    source.seed(T, INTEGRATION, refresh_credential(vendor, vendor.new_family()))
    return source, OAuthTokenSource(source, transport=vendor.transport(), **options)


async def get(source: MemorySource, tokens: OAuthTokenSource) -> Any:
    return await tokens.token(await source.get(T, INTEGRATION), ENDPOINT)


def stored_refresh(source: MemorySource) -> str:
    credential = source.latest(T, INTEGRATION)
    assert isinstance(credential, OAuth2RefreshCredential)
    return credential.refresh_token.get_secret_value()


# --- single flight -------------------------------------------------------------------------------


async def test_fifty_concurrent_callers_share_one_refresh() -> None:
    vendor = TokenVendor(delay=0.02)
    source, tokens = setup(vendor)
    lease = await source.get(T, INTEGRATION)
    results = await asyncio.gather(*(tokens.token(lease, ENDPOINT) for _ in range(50)))
    assert vendor.requests == 1
    assert vendor.refreshes == 1
    assert tokens.locks.stats.acquired == 1  # one refresh in flight, not fifty queued on the lock
    assert len({id(token) for token in results}) == 1
    assert results[0].value.get_secret_value() == vendor.issued_access[-1]
    assert source.writes == 1
    # Dropped after a 401, the next burst again costs exactly one refresh.
    tokens.drop(T, INTEGRATION, results[0])
    again = await asyncio.gather(*(get(source, tokens) for _ in range(50)))
    assert vendor.refreshes == 2
    assert len({id(token) for token in again}) == 1
    assert vendor.reuses == 0


async def test_a_failed_refresh_fails_every_waiter_with_one_request() -> None:
    vendor = TokenVendor(delay=0.02)
    source = MemorySource()
    source.seed(T, INTEGRATION, refresh_credential(vendor, make_canary("refresh")))  # unknown to the vendor
    tokens = OAuthTokenSource(source, transport=vendor.transport())
    lease = await source.get(T, INTEGRATION)
    outcomes = await asyncio.gather(
        *(tokens.token(lease, ENDPOINT) for _ in range(50)), return_exceptions=True
    )
    assert all(isinstance(outcome, ReauthorizationRequiredError) for outcome in outcomes)
    assert vendor.requests == 1


async def test_a_cancelled_caller_does_not_abort_the_refresh() -> None:
    vendor = TokenVendor(delay=0.05)
    source, tokens = setup(vendor)
    caller = asyncio.create_task(get(source, tokens))
    await asyncio.sleep(0.01)
    caller.cancel()
    with pytest.raises(asyncio.CancelledError):
        await caller
    token = await get(source, tokens)  # joins the refresh still in flight, or finds its result
    assert vendor.refreshes == 1
    assert source.writes == 1
    assert stored_refresh(source) == vendor.issued_refresh[-1]
    assert token.value.get_secret_value() == vendor.issued_access[-1]


# --- expiry -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expires_in", "margin", "usable"),
    [(100, 30, 70.0), (40, 30, 20.0), (None, 30, 570.0)],
    ids=["expires-in-minus-margin", "half-life-when-margin-too-big", "assumed-lifetime"],
)
async def test_a_token_is_handed_out_until_expiry_minus_margin(
    expires_in: int | None, margin: float, usable: float
) -> None:
    vendor = TokenVendor(expires_in=expires_in)
    clock = FakeClock()
    source, tokens = setup(vendor, margin=margin, clock=clock, assumed_lifetime=600)
    first = await get(source, tokens)
    clock.now += usable - 0.01
    assert await get(source, tokens) is first
    assert vendor.requests == 1
    clock.now += 0.02
    second = await get(source, tokens)
    assert second is not first
    assert vendor.requests == 2
    assert vendor.reuses == 0


async def test_drop_forgets_only_the_token_that_was_refused() -> None:
    vendor = TokenVendor()
    source, tokens = setup(vendor)
    first = await get(source, tokens)
    tokens.drop(T, INTEGRATION, first)
    second = await get(source, tokens)
    tokens.drop(T, INTEGRATION, first)  # a late 401 for the old token
    assert await get(source, tokens) is second
    assert vendor.refreshes == 2


async def test_a_different_app_in_vault_is_not_served_the_old_apps_token() -> None:
    vendor = TokenVendor()
    source, tokens = setup(vendor)
    first = await get(source, tokens)
    other = TokenVendor(client_id="another-app")
    source.seed(T, INTEGRATION, refresh_credential(other, other.new_family()))
    lease = await source.get(T, INTEGRATION)
    assert tokens.peek(lease, ENDPOINT) is None
    assert tokens.peek(await source.get(T, INTEGRATION), ENDPOINT) is None
    assert first is not None


# --- write-back rules ----------------------------------------------------------------------------


async def test_a_rotated_refresh_token_is_written_back_with_check_and_set() -> None:
    vendor = TokenVendor()
    source, tokens = setup(vendor)
    token = await get(source, tokens)
    assert source.writes == 1
    assert len(source.versions[(T, INTEGRATION)]) == 2
    assert stored_refresh(source) == vendor.issued_refresh[-1] != vendor.issued_refresh[0]
    assert token.credential_version == 2
    assert tokens.stats.write_backs == 1


async def test_an_omitted_refresh_token_keeps_the_stored_one_without_a_write() -> None:
    vendor = TokenVendor(rotate=False)
    source, tokens = setup(vendor)
    original = stored_refresh(source)
    await get(source, tokens)
    assert "refresh_token" not in vendor.forms[-1] or vendor.forms[-1]["refresh_token"] == original
    assert source.writes == 0
    assert stored_refresh(source) == original
    assert tokens.stats.kept == 1


async def test_a_write_back_that_loses_cas_to_an_unrelated_change_is_merged() -> None:
    vendor = TokenVendor(delay=0.05)
    source, tokens = setup(vendor)
    pending = asyncio.create_task(get(source, tokens))
    await asyncio.sleep(0.02)  # the refresh is at the vendor now
    touched = source.latest(T, INTEGRATION).model_copy(update={"token_url": BASE + TOKEN_PATH})
    source.seed(T, INTEGRATION, touched)
    await pending
    latest = source.latest(T, INTEGRATION)
    assert isinstance(latest, OAuth2RefreshCredential)
    assert latest.refresh_token.get_secret_value() == vendor.issued_refresh[-1]
    assert latest.token_url == BASE + TOKEN_PATH  # the other writer's change survived
    assert tokens.stats.write_back_conflicts == 1


async def test_a_reauthorisation_stored_during_a_refresh_is_not_overwritten() -> None:
    vendor = TokenVendor(delay=0.05)
    source, tokens = setup(vendor)
    pending = asyncio.create_task(get(source, tokens))
    await asyncio.sleep(0.02)
    fresh_grant = vendor.new_family()
    source.seed(T, INTEGRATION, refresh_credential(vendor, fresh_grant))
    token = await pending
    assert stored_refresh(source) == fresh_grant
    assert token.value.get_secret_value() == vendor.issued_access[-1]


async def test_a_write_back_vault_briefly_refuses_is_retried() -> None:
    vendor = TokenVendor()
    source, tokens = setup(vendor, write_back_pauses=(0, 0))
    source.fail_writes = 2
    await get(source, tokens)
    assert stored_refresh(source) == vendor.issued_refresh[-1]
    assert source.writes == 1


async def test_a_rotated_token_vault_refused_is_saved_on_the_next_call_before_any_refresh() -> None:
    vendor = TokenVendor()
    source, tokens = setup(vendor, write_back_pauses=(0, 0))
    source.fail_writes = 3
    with pytest.raises(VaultUnavailableError):
        await get(source, tokens)
    rotated = vendor.issued_refresh[-1]
    assert stored_refresh(source) != rotated
    source.fail_writes = 0
    await get(source, tokens)
    # The rotated token was saved first, then spent: never the stale one (that would revoke all).
    assert vendor.reuses == 0
    assert not vendor.revoked(rotated)
    assert vendor.refreshes == 2
    assert stored_refresh(source) == vendor.issued_refresh[-1]


async def test_a_source_that_cannot_write_back_is_refused_before_the_token_is_spent() -> None:
    vendor = TokenVendor()
    source = MemoryCredentialSource()
    source.put(T, INTEGRATION, refresh_credential(vendor, vendor.new_family()))
    tokens = OAuthTokenSource(source, transport=vendor.transport())
    with pytest.raises(ConfigurationError, match="cannot write a rotated one back"):
        await tokens.token(await source.get(T, INTEGRATION), ENDPOINT)
    assert vendor.requests == 0


# --- what the vendor may say --------------------------------------------------------------------


async def test_a_rejected_refresh_token_asks_for_reauthorisation_without_naming_it() -> None:
    vendor = TokenVendor()
    source = MemorySource()
    dead = make_canary("refresh")
    source.seed(T, INTEGRATION, refresh_credential(vendor, dead))
    tokens = OAuthTokenSource(source, transport=vendor.transport())
    with pytest.raises(ReauthorizationRequiredError) as caught:
        await get(source, tokens)
    message = str(caught.value)
    assert "'acme'" in message
    assert "'crm'" in message
    assert "authorise the app again" in message
    assert dead not in message
    assert vendor.client_secret not in message
    assert caught.value.__cause__ is None
    # The same dead token is not sent again; a new grant stored by the tenant works at once.
    with pytest.raises(ReauthorizationRequiredError):
        await get(source, tokens)
    assert vendor.requests == 1
    source.seed(T, INTEGRATION, refresh_credential(vendor, vendor.new_family()))
    await get(source, tokens)
    assert vendor.refreshes == 1


@pytest.mark.parametrize(
    ("response", "error"),
    [
        (httpx.Response(401, json={"error": "invalid_client"}), VendorAuthError),
        (httpx.Response(400, json={"error": "invalid_client"}), VendorAuthError),
        (
            httpx.Response(429, json={"error": "slow_down"}, headers={"Retry-After": "3"}),
            VendorRateLimitError,
        ),
        (httpx.Response(503, text="busy"), VendorServerError),
        (httpx.Response(200, text="<html>login</html>"), VendorPayloadError),
        (httpx.Response(200, json={"token_type": "bearer"}), VendorPayloadError),
        (httpx.Response(200, json={"access_token": "a b", "token_type": "bearer"}), VendorPayloadError),
        (httpx.Response(200, json={"access_token": "x", "token_type": "mac"}), VendorPayloadError),
    ],
    ids=["401", "invalid-client", "429", "503", "not-json", "no-token", "bad-token", "not-bearer"],
)
async def test_vendor_answers_become_typed_errors(response: httpx.Response, error: type[Exception]) -> None:
    source = MemorySource()
    refresh = make_canary("refresh")
    source.seed(T, INTEGRATION, refresh_credential(TokenVendor(), refresh))
    tokens = OAuthTokenSource(source, transport=httpx.MockTransport(lambda request: response))
    with pytest.raises(error) as caught:
        await get(source, tokens)
    assert refresh not in str(caught.value)
    assert caught.value.__context__ is None or not isinstance(caught.value.__context__, httpx.HTTPError)


async def test_a_rotated_refresh_token_is_saved_even_when_the_rest_of_the_answer_is_unusable() -> None:
    rotated = make_canary("refresh")
    source = MemorySource()
    source.seed(T, INTEGRATION, refresh_credential(TokenVendor(), make_canary("refresh")))
    transport = httpx.MockTransport(lambda request: httpx.Response(200, json={"refresh_token": rotated}))
    tokens = OAuthTokenSource(source, transport=transport)
    with pytest.raises(VendorPayloadError):
        await get(source, tokens)
    assert stored_refresh(source) == rotated


async def test_an_unreachable_token_endpoint_is_a_connection_error_without_secrets() -> None:
    source = MemorySource()
    refresh = make_canary("refresh")
    source.seed(T, INTEGRATION, refresh_credential(TokenVendor(), refresh))

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    tokens = OAuthTokenSource(source, transport=httpx.MockTransport(refuse))
    with pytest.raises(Exception, match="could not connect") as caught:
        await get(source, tokens)
    assert caught.value.__context__ is None
    assert refresh not in repr(caught.value)


# --- client credentials --------------------------------------------------------------------------


async def test_client_credentials_grant_uses_basic_auth_and_scopes_and_writes_nothing() -> None:
    vendor = TokenVendor()
    seen: list[httpx.Request] = []
    inner = vendor.transport()

    async def spy(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return await inner.handle_async_request(request)

    source = MemorySource()
    source.seed(
        T,
        INTEGRATION,
        OAuth2ClientCredential(
            type="oauth2_client",
            client_id=vendor.client_id,
            client_secret=SecretStr(vendor.client_secret),
            token_url=BASE + TOKEN_PATH,
            scopes=("contacts.read", "notes.write"),
        ),
    )
    tokens = OAuthTokenSource(source, transport=httpx.MockTransport(spy))
    token = await tokens.token(await source.get(T, INTEGRATION))  # the URL comes from the credential
    assert token.value.get_secret_value() == vendor.issued_access[-1]
    request = seen[0]
    assert request.headers["authorization"].startswith("Basic ")
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert vendor.forms[-1] == {"grant_type": "client_credentials", "scope": "contacts.read notes.write"}
    assert source.writes == 0
    assert tokens.locks.stats.acquired == 0


async def test_an_oauth_credential_without_any_token_url_says_what_to_add() -> None:
    source = MemorySource()
    source.seed(T, INTEGRATION, refresh_credential(TokenVendor(), make_canary("refresh")))
    tokens = OAuthTokenSource(source)
    with pytest.raises(MalformedCredentialError, match="add token_url"):
        await tokens.token(await source.get(T, INTEGRATION))


# --- through VaultCredentialAuth -----------------------------------------------------------------


def auth_client(
    source: MemorySource, vendor: TokenVendor, tokens: OAuthTokenSource
) -> tuple[httpx.AsyncClient, VaultCredentialAuth]:
    auth = VaultCredentialAuth(
        source=source,
        tenant=T,
        integration=INTEGRATION,
        accepted_types=(ApiKeyCredential, OAuth2RefreshCredential),
        apply=lambda request, credential: None,
        tokens=tokens,
        token_endpoint=ENDPOINT,
    )
    return httpx.AsyncClient(base_url=BASE, transport=vendor.transport(), auth=auth), auth


async def test_a_401_drops_the_access_token_and_refreshes_exactly_once() -> None:
    vendor = TokenVendor()
    source, tokens = setup(vendor)
    client, _ = auth_client(source, vendor, tokens)
    async with client:
        assert (await client.get(RESOURCE_PATH)).status_code == 200
        assert (await client.get(RESOURCE_PATH)).status_code == 200
        assert vendor.refreshes == 1
        vendor.revoke_access(vendor.issued_access[-1])
        assert (await client.get(RESOURCE_PATH)).status_code == 200
        assert vendor.refreshes == 2
        # Refused even after a refresh: one retry only, then the 401 stands.
        original = vendor.resource
        vendor.resource = lambda authorization: 401  # type: ignore[method-assign]
        assert (await client.get(RESOURCE_PATH)).status_code == 401
        assert vendor.refreshes == 3
        vendor.resource = original  # type: ignore[method-assign]
    assert vendor.reuses == 0


async def test_a_403_is_not_answered_with_a_refresh() -> None:
    vendor = TokenVendor()
    source, tokens = setup(vendor)
    client, _ = auth_client(source, vendor, tokens)
    vendor.resource = lambda authorization: 403  # type: ignore[method-assign]
    async with client:
        assert (await client.get(RESOURCE_PATH)).status_code == 403
    assert vendor.refreshes == 1
    assert len([form for form in vendor.forms if form.get("grant_type") == "refresh_token"]) == 1


async def test_a_caller_past_its_deadline_stops_waiting_but_the_refresh_completes() -> None:
    vendor = TokenVendor(delay=0.1)
    source, tokens = setup(vendor)
    client, _ = auth_client(source, vendor, tokens)
    ctx = CallContext(
        tenant=T,
        integration=INTEGRATION,
        connector="hubspot",
        operation=HubSpotConnector.operations["get_contact"],
        grant=Grant.read_only(),
        deadline=time.monotonic() + 0.02,
    )
    with _running(ctx):
        async with client:
            with pytest.raises(DeadlineExceededError, match="OAuth access token"):
                await client.get(RESOURCE_PATH)
    token = await get(source, tokens)
    assert vendor.refreshes == 1
    assert source.writes == 1
    assert token.value.get_secret_value() == vendor.issued_access[-1]
