"""The kit runs an OAuth connector holding a rotating refresh token: write-back and token endpoint included.

Xero rotates its refresh token on every refresh. Before the kit had a writable credential source,
an OAuth connector could run the battery only with a client-credentials grant (the SDK refuses to
spend a refresh token it cannot write back); here the whole battery runs with a refresh-token
credential and the mock token endpoint, and the tests below check the write-back really happened
and no spent token was ever presented twice.
"""

from __future__ import annotations

import httpx
import pytest
from pydantic import SecretStr

from connectors.billing.xero import XeroConnector
from connectors.billing.xero._connector import TOKEN_URL
from sdk import ConfigurationError
from sdk.testing import (
    MemoryCredentialSource,
    WritableMemoryCredentialSource,
    connector_test_class,
    make_canary,
    mock_runtime,
    mock_token_endpoint,
)
from sdk.testing._harness import script
from tests.connectors import xero_cases as xc
from vault import OAuth2RefreshCredential


def refresh_credential(secret: str) -> OAuth2RefreshCredential:
    """The kit's secret is planted as the client secret; the refresh token is a canary too."""
    return OAuth2RefreshCredential(
        type="oauth2_refresh",
        client_id="nexora-xero-test",
        client_secret=SecretStr(secret),
        refresh_token=SecretStr(make_canary("refresh")),
    )


TestXeroRefreshConformance = connector_test_class(
    XeroConnector,
    cases=xc.KIT_CASES,
    pagination=xc.KIT_PAGINATION,
    credential=refresh_credential,
    settings=xc.SETTINGS,
    token_url=TOKEN_URL,
)


async def test_a_rotated_refresh_token_is_written_back_and_used_next_time() -> None:
    source = WritableMemoryCredentialSource()
    first = refresh_credential(make_canary("secret"))
    source.seed("acme", "xero", first)
    case = xc.KIT_CASES[0]
    with mock_token_endpoint(TOKEN_URL) as tokens, xc.xero() as router:
        primary = case.mock(router, make_canary("customer"))
        async with mock_runtime(XeroConnector, router, source, settings=xc.SETTINGS) as nc:
            async with nc.conversation(tenant="acme", conversation_id="call-1") as conv:
                await conv.call("xero", case.operation, **dict(case.arguments))
            # The vendor refuses the access token: the refresh must present the token written back.
            script(primary, [httpx.Response(401, json={})])
            async with nc.conversation(tenant="acme", conversation_id="call-2") as conv:
                await conv.call("xero", case.operation, **dict(case.arguments))
    assert tokens.grants == ["refresh_token", "refresh_token"]
    assert source.writes == 2, "each rotation must be written back"
    assert len(tokens.issued_refresh) == 2
    latest = source.latest("acme", "xero")
    assert isinstance(latest, OAuth2RefreshCredential)
    assert latest.refresh_token.get_secret_value() == tokens.issued_refresh[-1]
    assert first.refresh_token.get_secret_value() in tokens.spent
    assert tokens.reuses == 0, "a spent refresh token was presented again"


async def test_a_read_only_memory_source_refuses_to_spend_a_refresh_token() -> None:
    """The reason the writable source exists: a rotated token that cannot be saved would be lost."""
    source = MemoryCredentialSource()
    source.put("acme", "xero", refresh_credential(make_canary("secret")))
    case = xc.KIT_CASES[0]
    with mock_token_endpoint(TOKEN_URL) as tokens, xc.xero() as router:
        case.mock(router, make_canary("customer"))
        async with (
            mock_runtime(XeroConnector, router, source, settings=xc.SETTINGS) as nc,
            nc.conversation(tenant="acme", conversation_id="call-1") as conv,
        ):
            with pytest.raises(ConfigurationError, match="cannot write a rotated one back"):
                await conv.call("xero", case.operation, **dict(case.arguments))
    assert tokens.grants == [], "the refresh token was spent although it could not be saved"
