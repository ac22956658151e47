"""Salesforce's two OAuth flows: the JWT bearer flow and the refresh-token flow.

Shapes come from Salesforce Help:

* "OAuth 2.0 JWT Bearer Flow for Server-to-Server Integration" (``remoteaccess_oauth_jwt_flow.htm``):
  ``POST /services/oauth2/token`` with ``grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer`` and
  ``assertion=<JWT>``; the JWT has header ``{"alg": "RS256"}`` and claims ``iss`` (the connected app's
  consumer key), ``sub`` (the username), ``aud`` (``https://login.salesforce.com``,
  ``https://test.salesforce.com`` or an Experience Cloud site URL) and ``exp`` (no more than three
  minutes ahead); the answer has ``access_token``, ``scope``, ``instance_url``, ``id`` and
  ``token_type`` and no refresh token; errors are ``{"error": "invalid_grant", "error_description":
  "user hasn't approved this consumer"}`` and the like, with 400.
* "OAuth 2.0 Refresh Token Flow for Renewed Sessions" (``remoteaccess_oauth_refresh_token_flow.htm``):
  ``grant_type=refresh_token``, ``refresh_token``, and the client as ``client_id``/``client_secret``
  or HTTP Basic; the answer adds ``signature`` and ``issued_at``, and ``refresh_token`` only when the
  app rotates them; a dead refresh token is ``invalid_grant`` "expired access/refresh token".
"""

from __future__ import annotations

import asyncio
import base64
import logging
import time
import traceback
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import respx
from joserfc import jwt
from joserfc.errors import BadSignatureError
from joserfc.jwk import RSAKey
from pydantic import SecretStr

from connectors.crm.salesforce._connector import token_endpoint
from sdk import (
    ConfigurationError,
    MalformedCredentialError,
    MemoryAuditSink,
    NexoraConnect,
    ReauthorizationRequiredError,
    VendorAuthError,
    VendorPayloadError,
    VendorServerError,
)
from sdk._auth import retarget
from sdk.testing import MemoryCredentialSource, make_canary
from tests.connectors import salesforce_cases as sf
from tests.oauth.support import MemorySource
from vault import (
    CredentialLease,
    OAuthTokenSource,
    TokenEndpoint,
    credential_to_secret_data,
    parse_credential,
)
from vault._credentials import OAuth2JWTCredential


@pytest.fixture
def router() -> Iterator[respx.MockRouter]:
    with sf.salesforce() as mock:
        yield mock


@pytest.fixture
def query(router: respx.MockRouter) -> respx.Route:
    return router.get(sf.INSTANCE + sf.QUERY).respond(200, json=sf.fixture("query_contacts_by_email"))


def jwt_source(credential: OAuth2JWTCredential | None = None) -> MemoryCredentialSource:
    source = MemoryCredentialSource()
    for integration in (sf.READ, sf.WRITE):
        source.put("acme", integration, credential or sf.jwt_credential())
    return source


async def find(nc: NexoraConnect, integration: str = sf.READ, conversation: str = "call-1") -> Any:
    async with nc.conversation(tenant="acme", conversation_id=conversation) as conv:
        return await conv.call(integration, "find_contacts", email=sf.CALLER_EMAIL)


def decode(assertion: str, slot: int = 0) -> Any:
    return jwt.decode(assertion, RSAKey.import_key(sf.public_pem(slot)), algorithms=["RS256"])


# --- the JWT bearer flow ---------------------------------------------------------------------------------


async def test_the_token_request_is_a_signed_assertion_and_nothing_else(
    router: respx.MockRouter, query: respx.Route
) -> None:
    token = router.post(sf.TOKEN_URL).respond(200, json=sf.token_answer())
    before = int(time.time())
    async with sf.runtime(router, jwt_source()) as nc:
        for _ in range(3):
            await find(nc)
    after = int(time.time())
    assert token.call_count == 1  # held in memory, not requested per call
    sent = token.calls[0].request
    assert sent.headers["content-type"] == "application/x-www-form-urlencoded"
    assert "authorization" not in sent.headers  # no client secret in this flow
    fields = sf.form(sent)
    assert set(fields) == {"grant_type", "assertion"}
    assert fields["grant_type"] == "urn:ietf:params:oauth:grant-type:jwt-bearer"
    decoded = decode(fields["assertion"])
    assert decoded.header["alg"] == "RS256"
    claims = decoded.claims
    assert claims["iss"] == sf.CONSUMER_KEY
    assert claims["sub"] == sf.USERNAME
    assert claims["aud"] == "https://login.salesforce.com"
    assert before <= claims["iat"] <= after
    assert 0 < claims["exp"] - claims["iat"] <= 180  # Salesforce refuses an exp more than 3 minutes ahead
    assert claims["jti"]


async def test_the_signature_does_not_verify_with_another_key(
    router: respx.MockRouter, query: respx.Route
) -> None:
    token = router.post(sf.TOKEN_URL).respond(200, json=sf.token_answer())
    async with sf.runtime(router, jwt_source()) as nc:
        await find(nc)
    assertion = sf.form(token.calls[0].request)["assertion"]
    with pytest.raises(BadSignatureError):
        decode(assertion, slot=1)
    header, _claims, signature = assertion.split(".")
    forged = base64.urlsafe_b64encode(b'{"iss":"someone-else"}').rstrip(b"=").decode()
    with pytest.raises(BadSignatureError):
        decode(f"{header}.{forged}.{signature}")


async def test_every_token_request_signs_a_new_assertion(router: respx.MockRouter) -> None:
    token = router.post(sf.TOKEN_URL).mock(
        side_effect=lambda request: httpx.Response(200, json=sf.token_answer())
    )
    router.get(sf.INSTANCE + sf.QUERY).mock(
        side_effect=[
            httpx.Response(401, json=sf.fixture("error_invalid_session")),
            httpx.Response(200, json=sf.fixture("query_contacts_by_email")),
        ]
    )
    async with sf.runtime(router, jwt_source()) as nc:
        await find(nc)
    first, second = (sf.form(call.request)["assertion"] for call in token.calls)
    assert first != second
    assert decode(first).claims["jti"] != decode(second).claims["jti"]


async def test_concurrent_calls_share_one_token_request(router: respx.MockRouter, query: respx.Route) -> None:
    token = router.post(sf.TOKEN_URL).respond(200, json=sf.token_answer())
    async with sf.runtime(router, jwt_source()) as nc:
        await asyncio.gather(*(find(nc, conversation=f"call-{n}") for n in range(20)))
    assert token.call_count == 1
    assert query.call_count == 20


@pytest.mark.parametrize(
    ("settings", "fields", "token_url", "audience"),
    [
        (
            {"login_url": "https://test.salesforce.com"},
            {},
            "https://test.salesforce.com",
            "https://test.salesforce.com",
        ),
        (
            {"login_url": "https://acme--uat.sandbox.my.salesforce.com"},
            {},
            "https://acme--uat.sandbox.my.salesforce.com",
            "https://test.salesforce.com",
        ),
        (
            {"login_url": "https://acme.my.salesforce.com/"},
            {},
            "https://acme.my.salesforce.com",
            "https://login.salesforce.com",
        ),
        (
            {},
            {
                "audience": "https://acme.my.site.com/customers",
                "token_url": "https://acme.my.site.com/customers/services/oauth2/token",
            },
            "https://acme.my.site.com/customers",
            "https://acme.my.site.com/customers",
        ),
    ],
)
async def test_sandboxes_my_domains_and_credential_overrides(
    settings: dict[str, Any], fields: dict[str, Any], token_url: str, audience: str
) -> None:
    with sf.salesforce() as router:
        token = router.post(token_url + "/services/oauth2/token").respond(200, json=sf.token_answer())
        router.get(sf.INSTANCE + sf.QUERY).respond(200, json=sf.query_result())
        async with sf.runtime(router, jwt_source(sf.jwt_credential(**fields)), settings=settings) as nc:
            await find(nc)
    assert decode(sf.form(token.calls[0].request)["assertion"]).claims["aud"] == audience


@pytest.mark.parametrize(
    ("status", "body", "error", "code"),
    [
        (400, sf.fixture("token_error_not_approved"), VendorAuthError, "invalid_grant"),
        (
            400,
            {"error": "invalid_grant", "error_description": "audience is invalid"},
            VendorAuthError,
            "invalid_grant",
        ),
        (400, sf.fixture("token_error_invalid_client"), VendorAuthError, "invalid_client"),
        (503, {"error": "temporarily_unavailable"}, VendorServerError, "temporarily_unavailable"),
        (200, {"token_type": "Bearer", "instance_url": sf.INSTANCE}, VendorPayloadError, None),
        (200, {**sf.token_answer(), "token_type": "MAC"}, VendorPayloadError, None),
    ],
)
async def test_token_endpoint_errors_are_typed_and_say_what_to_check(
    caplog: pytest.LogCaptureFixture,
    status: int,
    body: dict[str, Any],
    error: type[Exception],
    code: str | None,
) -> None:
    caplog.set_level(logging.DEBUG)
    with sf.salesforce(assert_all_called=False) as router:
        token = router.post(sf.TOKEN_URL).mock(side_effect=lambda request: httpx.Response(status, json=body))
        router.get(sf.INSTANCE + sf.QUERY).respond(200, json=sf.query_result())
        async with sf.runtime(router, jwt_source()) as nc:
            with pytest.raises(error) as caught:
                await find(nc)
    assert getattr(caught.value, "vendor_code", None) == code
    if error is VendorAuthError:
        assert "JWT assertion" in str(caught.value)
        assert "'acme'" in str(caught.value)
    assertions = [sf.form(call.request)["assertion"] for call in token.calls]
    text = "".join(traceback.format_exception(caught.value)) + caplog.text
    for assertion in assertions:
        assert assertion not in text
        assert assertion.split(".")[2] not in text
    for material in sf.key_material(sf.private_pem()):
        assert material not in text


async def test_the_private_key_appears_nowhere(caplog: pytest.LogCaptureFixture) -> None:
    """The key is read, used to sign and dropped: not in logs, audit records, errors or reprs."""
    caplog.set_level(logging.DEBUG)
    audit = MemoryAuditSink()
    source = jwt_source()
    failures: list[BaseException] = []
    with sf.salesforce() as router:
        router.post(sf.TOKEN_URL).mock(
            side_effect=[
                httpx.Response(200, json=sf.token_answer()),
                httpx.Response(400, json=sf.fixture("token_error_not_approved")),
            ]
        )
        router.get(sf.INSTANCE + sf.QUERY).mock(
            side_effect=[
                httpx.Response(200, json=sf.fixture("query_contacts_by_email")),
                httpx.Response(401, json=sf.fixture("error_invalid_session")),
            ]
        )
        async with sf.runtime(router, source, audit=audit) as nc:
            await find(nc)
            try:
                await find(nc)
            except VendorAuthError as exc:
                failures.append(exc)
            binding = nc._binding("acme", sf.READ)
            reprs = [repr(binding), repr(binding.connector), repr(binding.connector.http.__dict__)]
    lease = await source.get("acme", sf.READ)
    reprs += [repr(lease), str(lease), repr(lease.credential), str(lease.credential)]
    texts = [caplog.text, *reprs, *(r.model_dump_json() for r in audit.records)]
    texts += ["".join(traceback.format_exception(exc)) for exc in failures]
    assert failures
    assert len(audit.records) == 2
    for text in texts:
        for material in sf.key_material(sf.private_pem()):
            assert material not in text


async def test_an_unreadable_key_is_a_credential_error_that_quotes_nothing(
    router: respx.MockRouter, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    canary = make_canary("key")
    body = base64.b64encode(canary.encode() * 4).decode()
    garbage = f"-----BEGIN PRIVATE KEY-----\n{body}\n-----END PRIVATE KEY-----\n"
    async with sf.runtime(router, jwt_source(sf.jwt_credential(private_key=SecretStr(garbage)))) as nc:
        with pytest.raises(MalformedCredentialError, match="private_key") as caught:
            await find(nc)
    text = "".join(traceback.format_exception(caught.value)) + caplog.text
    assert body not in text
    assert canary not in text
    assert caught.value.__cause__ is None
    assert caught.value.__context__ is None
    assert not router.calls  # nothing was sent


# --- the credential in Vault --------------------------------------------------------------------------


def test_a_jwt_credential_round_trips_through_vaults_flat_strings() -> None:
    credential = sf.jwt_credential(audience="https://test.salesforce.com")
    data = credential_to_secret_data(credential)
    assert data["private_key"] == sf.private_pem()
    assert parse_credential(data, tenant="acme", integration=sf.READ, path="p") == credential
    crlf = {**data, "private_key": data["private_key"].replace("\n", "\r\n")}
    assert parse_credential(crlf, tenant="acme", integration=sf.READ, path="p").type == "oauth2_jwt"


@pytest.mark.parametrize(
    ("private_key", "reason"),
    [
        (None, "missing"),
        ("not a key", "PEM private key"),
        ("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----", "PEM private key"),
        ("-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----", "unencrypted"),
        ("-----BEGIN PRIVATE KEY-----\\nAAAA\\n-----END PRIVATE KEY-----", "PEM private key"),  # literal \n
        ("-----BEGIN PRIVATE KEY-----\nAA\x00AA\n-----END PRIVATE KEY-----", "control character"),
        ("-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----", "PEM private key"),
    ],
)
def test_a_malformed_key_in_vault_names_the_field_not_the_value(private_key: str | None, reason: str) -> None:
    data = {"type": "oauth2_jwt", "client_id": sf.CONSUMER_KEY, "username": sf.USERNAME}
    if private_key is not None:
        data["private_key"] = private_key
    with pytest.raises(MalformedCredentialError, match=reason) as caught:
        parse_credential(data, tenant="acme", integration=sf.READ, path="tenants/acme/salesforce")
    assert "'private_key'" in str(caught.value)
    if private_key is not None:
        assert "AAAA" not in str(caught.value)


def test_the_key_is_masked_in_reprs() -> None:
    credential = sf.jwt_credential()
    lease = CredentialLease(credential=credential, version=1, tenant="acme", integration=sf.READ, path="p")
    for text in (repr(credential), str(credential), repr(lease)):
        for material in sf.key_material(sf.private_pem()):
            assert material not in text


# --- the refresh-token flow ----------------------------------------------------------------------------


@pytest.fixture
def refresh_source() -> tuple[MemorySource, str, str]:
    refresh, secret = make_canary("refresh"), make_canary("client-secret")
    source = MemorySource()
    for integration in (sf.READ, sf.WRITE):
        source.seed("acme", integration, sf.refresh_credential(refresh, secret))
    return source, refresh, secret


async def test_a_refresh_grant_authenticates_the_app_and_keeps_a_refresh_token_salesforce_did_not_rotate(
    router: respx.MockRouter, query: respx.Route, refresh_source: tuple[MemorySource, str, str]
) -> None:
    source, refresh, secret = refresh_source
    access = make_canary("access")
    token = router.post(sf.TOKEN_URL).respond(200, json=sf.token_answer(access, kind="refresh"))
    async with sf.runtime(router, source) as nc:
        await find(nc)
        await find(nc)
    assert token.call_count == 1
    sent = token.calls[0].request
    assert sf.form(sent) == {"grant_type": "refresh_token", "refresh_token": refresh}
    basic = base64.b64encode(f"{sf.CONSUMER_KEY}:{secret}".encode()).decode()
    assert sent.headers["authorization"] == f"Basic {basic}"
    assert query.calls[0].request.headers["authorization"] == f"Bearer {access}"
    assert query.calls[0].request.url.host == "acme.my.salesforce.com"
    assert source.writes == 0  # no refresh_token in the answer: the stored one stays


async def test_a_rotated_refresh_token_is_written_back(
    router: respx.MockRouter, query: respx.Route, refresh_source: tuple[MemorySource, str, str]
) -> None:
    source, _refresh, _ = refresh_source
    rotated = make_canary("refresh")
    router.post(sf.TOKEN_URL).respond(200, json=sf.token_answer(refresh=rotated, kind="refresh"))
    async with sf.runtime(router, source) as nc:
        await find(nc)
    stored = source.latest("acme", sf.READ)
    assert stored.refresh_token.get_secret_value() == rotated  # type: ignore[union-attr]
    assert source.writes == 1


async def test_an_expired_refresh_token_asks_for_reauthorisation_once(
    router: respx.MockRouter, refresh_source: tuple[MemorySource, str, str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    source, refresh, secret = refresh_source
    token = router.post(sf.TOKEN_URL).respond(400, json=sf.fixture("token_error_expired_refresh"))
    failures: list[ReauthorizationRequiredError] = []
    async with sf.runtime(router, source) as nc:
        for _ in range(2):
            with pytest.raises(ReauthorizationRequiredError) as caught:
                await find(nc)
            failures.append(caught.value)
    assert token.call_count == 1  # the refused token is not presented again
    text = "".join("".join(traceback.format_exception(exc)) for exc in failures) + caplog.text
    assert refresh not in text
    assert secret not in text
    assert "'acme'" in str(failures[0])
    assert sf.READ in str(failures[0])


async def test_a_refresh_answer_with_a_forged_instance_url_is_not_used_but_its_rotation_is_kept(
    router: respx.MockRouter, refresh_source: tuple[MemorySource, str, str]
) -> None:
    source, _, _ = refresh_source
    rotated = make_canary("refresh")
    answer = sf.token_answer(refresh=rotated, kind="refresh", instance_url="https://evil.example")
    router.post(sf.TOKEN_URL).respond(200, json=answer)
    async with sf.runtime(router, source) as nc:
        with pytest.raises(VendorPayloadError, match="instance_url"):
            await find(nc)
    # Salesforce spent the old refresh token; losing the new one would lock the tenant out.
    assert source.latest("acme", sf.READ).refresh_token.get_secret_value() == rotated  # type: ignore[union-attr]
    assert len(router.calls) == 1


# --- the general pieces the flows stand on ------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"instance_url_field": "instance_url"}, "must list instance_hosts"),
        ({"instance_url_field": "instance_url", "instance_hosts": ("*",)}, "host name"),
        ({"instance_url_field": "instance_url", "instance_hosts": ("Acme.example",)}, "host name"),
        ({"assertion_lifetime": 0}, "assertion_lifetime"),
        ({"assertion_lifetime": 3601}, "assertion_lifetime"),
    ],
)
def test_token_endpoint_declarations_are_checked(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        TokenEndpoint(url=sf.TOKEN_URL, **fields)


@pytest.mark.parametrize(
    ("origin", "url", "host_header"),
    [
        (
            "https://acme.my.salesforce.com",
            "https://acme.my.salesforce.com/services/data/v60.0/query?q=x",
            "acme.my.salesforce.com",
        ),
        ("https://127.0.0.1:8443", "https://127.0.0.1:8443/services/data/v60.0/query?q=x", "127.0.0.1:8443"),
    ],
)
def test_retarget_moves_the_request_and_its_host_header(origin: str, url: str, host_header: str) -> None:
    request = httpx.Request(
        "GET", "https://login.salesforce.com/services/data/v60.0/query", params={"q": "x"}
    )
    retarget(request, origin)
    assert (str(request.url), request.headers["host"]) == (url, host_header)


async def test_a_new_user_in_vault_is_not_served_the_old_users_token() -> None:
    source = MemoryCredentialSource()
    source.put("acme", sf.READ, sf.jwt_credential())
    endpoint = token_endpoint(sf.LOGIN)
    with sf.salesforce() as router:
        token = router.post(sf.TOKEN_URL).mock(
            side_effect=lambda request: httpx.Response(200, json=sf.token_answer())
        )
        tokens = OAuthTokenSource(source)
        first = await tokens.token(await source.get("acme", sf.READ), endpoint)
        assert await tokens.token(await source.get("acme", sf.READ), endpoint) is first
        source.put("acme", sf.READ, sf.jwt_credential(username="someone.else@acme.example"))
        second = await tokens.token(await source.get("acme", sf.READ), endpoint)
    assert second is not first
    assert decode(sf.form(token.calls[1].request)["assertion"]).claims["sub"] == "someone.else@acme.example"
    assert (tokens.stats.assertion_grants, tokens.stats.requests, tokens.stats.refreshes) == (2, 2, 0)
    assert first.instance_url == sf.INSTANCE
    assert first.credential_version == 1
    assert "instance_url" not in first.extras
    assert first.extras == {"scope": "api"}
