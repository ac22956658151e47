"""JSM: both of its users' auth schemes, and records of another desk or project never returned.

Basic (email + API token) is covered by ``test_jsm.py``; here OAuth 2.0 through Atlassian's API
gateway (``https://api.atlassian.com/ex/jira/{cloudId}``) with a token from
``auth.atlassian.com``, the settings that select it, and the project checks on what comes back.
The Prism runs in ``tests/vendor_mocks`` drive every operation with both schemes.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs

import pytest
import respx
from pydantic import SecretStr, ValidationError

from connectors.ticketing.jsm import JSMConnector, JSMSettings
from sdk import MalformedCredentialError, NexoraConnect, VendorNotFoundError, VendorPayloadError
from sdk.testing import make_canary
from tests.connectors import jsm_cases
from tests.connectors.jsm_cases import CALLER_EMAIL, SETTINGS, TICKET_ID, fixture
from tests.mock_nexora import call_once
from vault import OAuth2ClientCredential

TENANT = "acme"
INTEGRATION = "jsm"
CLOUD_ID = "3f2c1a9e-5b7d-4e8f-a1c2-d3e4f5a6b7c8"
GATEWAY = f"https://api.atlassian.com/ex/jira/{CLOUD_ID}"
TOKEN_URL = "https://auth.atlassian.com/oauth/token"
OAUTH_SETTINGS = {key: value for key, value in SETTINGS.items() if key != "site"} | {"cloud_id": CLOUD_ID}


def _client_credential(secret: str) -> OAuth2ClientCredential:
    return OAuth2ClientCredential(type="oauth2_client", client_id="jsm-app", client_secret=SecretStr(secret))


async def _call(nc: NexoraConnect, operation: str, **arguments: Any) -> Any:
    return await call_once(nc, INTEGRATION, operation, **arguments)


@pytest.fixture
def gateway() -> respx.MockRouter:
    return respx.MockRouter(base_url=GATEWAY, assert_all_called=False, assert_all_mocked=True)


@pytest.fixture
def secret() -> str:
    return make_canary("client-secret")


@pytest.fixture
async def oauth_nc(gateway: respx.MockRouter, secret: str) -> AsyncIterator[NexoraConnect]:
    async with jsm_cases.runtime(gateway, _client_credential(secret), OAUTH_SETTINGS) as runtime:
        yield runtime


# --- settings -------------------------------------------------------------------------------------


def test_a_cloud_id_selects_atlassians_api_gateway() -> None:
    settings = JSMSettings.model_validate(OAUTH_SETTINGS)
    assert JSMConnector.resolve_base_url(settings) == GATEWAY
    # With both, the gateway wins: it is the root OAuth tokens and scoped API tokens need.
    both = JSMSettings.model_validate({**SETTINGS, "cloud_id": CLOUD_ID})
    assert JSMConnector.resolve_base_url(both) == GATEWAY


@pytest.mark.parametrize(
    "cloud_id",
    [
        CLOUD_ID.upper(),
        CLOUD_ID + "/../x",
        "not-a-uuid",
        CLOUD_ID.replace("-", ""),
        CLOUD_ID + "\n",
        "",
    ],
)
def test_a_cloud_id_that_is_not_a_lower_case_uuid_is_refused(cloud_id: str) -> None:
    with pytest.raises(ValidationError):
        JSMSettings.model_validate({**OAUTH_SETTINGS, "cloud_id": cloud_id})


def test_settings_need_a_site_or_a_cloud_id() -> None:
    without = {key: value for key, value in OAUTH_SETTINGS.items() if key != "cloud_id"}
    with pytest.raises(ValidationError, match=r"site .* or cloud_id"):
        JSMSettings.model_validate(without)


# --- OAuth 2.0 ------------------------------------------------------------------------------------


async def test_oauth_sends_a_bearer_token_from_atlassians_token_endpoint_to_the_gateway(
    oauth_nc: NexoraConnect, gateway: respx.MockRouter, secret: str
) -> None:
    access_token = make_canary("access-token")
    with respx.mock(assert_all_called=True) as auth:
        token = auth.post(TOKEN_URL).respond(
            200, json={"access_token": access_token, "token_type": "Bearer", "expires_in": 3600}
        )
        comment = gateway.post(f"/rest/servicedeskapi/request/{TICKET_ID}/comment").respond(
            201, json=fixture("comment_created")
        )
        await _call(oauth_nc, "add_comment", ticket_id=TICKET_ID, body="Called back.")
        await _call(oauth_nc, "add_comment", ticket_id=TICKET_ID, body="Called back again.")

    form = parse_qs(token.calls.last.request.content.decode())
    assert form == {"grant_type": ["client_credentials"], "client_id": ["jsm-app"], "client_secret": [secret]}
    assert token.call_count == 1  # the access token is reused until it nears expiry
    sent = comment.calls.last.request
    assert str(sent.url) == f"{GATEWAY}/rest/servicedeskapi/request/{TICKET_ID}/comment"
    assert sent.headers["Authorization"] == f"Bearer {access_token}"
    assert secret not in str(sent.headers)


async def test_oauth_without_a_cloud_id_fails_before_any_token_or_request_is_sent(
    secret: str,
) -> None:
    site = respx.MockRouter(assert_all_called=False, assert_all_mocked=True)
    with respx.mock(assert_all_called=False) as auth:
        token = auth.post(TOKEN_URL).respond(200, json={"access_token": "x", "expires_in": 3600})
        async with jsm_cases.runtime(site, _client_credential(secret), dict(SETTINGS)) as nc:
            with pytest.raises(MalformedCredentialError, match="token"):
                await _call(nc, "add_comment", ticket_id=TICKET_ID, body="x")
    assert not token.called
    assert not site.calls


# --- what comes back must be this desk's and this project's --------------------------------------


async def test_a_request_whose_key_is_of_another_project_is_not_found(
    oauth_nc: NexoraConnect, gateway: respx.MockRouter
) -> None:
    body = fixture("request")
    body["issueKey"] = "OTHER-7"  # same desk id, another project (e.g. an issue moved away)
    gateway.get(f"/rest/servicedeskapi/request/{TICKET_ID}").respond(200, json=body)
    gateway.get(f"/rest/servicedeskapi/request/{TICKET_ID}/comment").respond(200, json=fixture("comments"))
    with respx.mock() as auth:
        auth.post(TOKEN_URL).respond(200, json={"access_token": make_canary("at"), "expires_in": 3600})
        with pytest.raises(VendorNotFoundError, match="another service desk or project"):
            await _call(oauth_nc, "get_ticket", ticket_id=TICKET_ID)


async def test_search_hits_of_another_project_are_left_out(
    oauth_nc: NexoraConnect, gateway: respx.MockRouter
) -> None:
    search = fixture("search")
    keys = [issue["key"] for issue in search["issues"]]
    search["issues"][0]["key"] = "OTHER-" + keys[0].split("-")[1]
    gateway.get("/rest/servicedeskapi/servicedesk/10/customer").respond(200, json=fixture("customers"))
    gateway.get("/rest/api/3/search/jql").respond(200, json=search)
    with respx.mock() as auth:
        auth.post(TOKEN_URL).respond(200, json={"access_token": make_canary("at"), "expires_in": 3600})
        found = await _call(oauth_nc, "list_tickets", email=CALLER_EMAIL)
    assert sorted(ticket.id for ticket in found) == sorted(keys[1:])
    assert all(ticket.id.startswith("HELP-") for ticket in found)


@pytest.mark.parametrize("change", [{"issueKey": "OTHER-13"}, {"serviceDeskId": "11"}, {"issueKey": None}])
async def test_a_created_request_outside_the_desk_or_project_is_a_payload_error(
    oauth_nc: NexoraConnect, gateway: respx.MockRouter, change: dict[str, Any]
) -> None:
    created = fixture("request_created") | change
    gateway.get("/rest/servicedeskapi/servicedesk/10/customer").respond(200, json=fixture("customers"))
    gateway.post("/rest/servicedeskapi/request").respond(201, json=created)
    with respx.mock() as auth:
        auth.post(TOKEN_URL).respond(200, json={"access_token": make_canary("at"), "expires_in": 3600})
        with pytest.raises(VendorPayloadError, match="not in this integration's service desk and project"):
            await _call(oauth_nc, "create_ticket", subject="s", body="b", email=CALLER_EMAIL)
