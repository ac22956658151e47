"""Salesforce test material: keys, credentials, fixtures, a runtime wired to a respx Salesforce, kit cases.

The JSON under ``fixtures/salesforce/`` is written in the shapes Salesforce documents; its README names
the documentation page of each. Salesforce has two hosts per org: the login server, which issues
tokens (``LOGIN``), and the org's instance, which every API request goes to (``INSTANCE``, taken from
each token's ``instance_url``).

Token requests are made by :class:`vault.OAuthTokenSource` on a client of its own (never the vendor
client with its scope guard), which has no transport to replace: tests reach it by patching httpx
with a started respx router, exactly as the HubSpot OAuth tests do.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import cache
from typing import Any
from urllib.parse import parse_qs

import httpx
import respx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from pydantic import SecretStr

from connectors.crm.salesforce import SalesforceConnector
from connectors.crm.salesforce._query import id_suffix
from sdk import MemoryAuditSink, NexoraConfig, NexoraConnect
from sdk._auth import CredentialSource
from sdk.authoring import ConnectorRegistry
from sdk.testing import OperationCase, PaginationCase, make_canary
from tests.connectors.payloads import VendorPayloads
from tests.mock_nexora import one_connector_config, registry_of, runtime_on
from vault import OAuth2RefreshCredential
from vault._credentials import OAuth2JWTCredential

LOGIN = "https://login.salesforce.com"
TOKEN_URL = LOGIN + "/services/oauth2/token"
INSTANCE = "https://acme.my.salesforce.com"
DATA = "/services/data/v60.0"
QUERY = DATA + "/query"
SEARCH = DATA + "/search"
LOCATOR = DATA + "/query/01gD0000002HU6KIAW-2000"
fixture = VendorPayloads("salesforce")
"""A fresh copy of ``fixtures/salesforce/<name>.json`` (tests may change it)."""
FIXTURES = fixture.directory

CONSUMER_KEY = "3MVG9-nexora-test-connected-app"
USERNAME = "integration@acme.example"
JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"

READ = "salesforce"
"""Integration with a read-only grant."""
WRITE = "salesforce-rw"
"""Integration granted notes:write."""

AROHA = "0035g00000ArohaAAB"
HEMI = "0035g00000HemiPAAR"
KAURI = "0015g00000KauriAAB"
TASK = "00T5g00000CallAEAR"
CALLER_EMAIL = "aroha.ngata@example.co.nz"
CALLER_PHONE = "021 555 0100"  # NZ national format; E.164 +64215550100


def sf_id(prefix: str, n: int) -> str:
    """A valid 18-character id of the object with key ``prefix``, unique per ``n``."""
    id15 = f"{prefix}5g0000{n:06d}"
    return id15 + id_suffix(id15)


# --- keys ------------------------------------------------------------------------------------------


@cache
def private_key(slot: int = 0) -> rsa.RSAPrivateKey:
    """A test RSA key (2048 bits, as Salesforce requires), made once per process per slot."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def private_pem(slot: int = 0) -> str:
    return (
        private_key(slot)
        .private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        .decode("ascii")
    )


def public_pem(slot: int = 0) -> str:
    return (
        private_key(slot)
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode("ascii")
    )


def key_material(pem: str) -> list[str]:
    """What must never be seen of a PEM key: its whole base64 body and every line of it."""
    lines = [line for line in pem.strip().splitlines() if not line.startswith("-----")]
    return ["".join(lines), *lines]


def jwt_credential(slot: int = 0, **fields: Any) -> OAuth2JWTCredential:
    """What a tenant stores in Vault for the JWT bearer flow."""
    values: dict[str, Any] = {
        "client_id": CONSUMER_KEY,
        "username": USERNAME,
        "private_key": SecretStr(private_pem(slot)),
        **fields,
    }
    return OAuth2JWTCredential(type="oauth2_jwt", **values)


def refresh_credential(refresh: str, secret: str, **fields: Any) -> OAuth2RefreshCredential:
    """What a tenant stores in Vault for the refresh-token flow."""
    return OAuth2RefreshCredential(
        type="oauth2_refresh",
        client_id=CONSUMER_KEY,
        client_secret=SecretStr(secret),
        refresh_token=SecretStr(refresh),
        **fields,
    )


# --- payloads --------------------------------------------------------------------------------------


def token_answer(
    access: str | None = None,
    *,
    instance_url: Any = INSTANCE,
    refresh: str | None = None,
    kind: str = "jwt_bearer",
) -> dict[str, Any]:
    """A token endpoint answer with a fresh (or the given) access token and instance URL."""
    body: dict[str, Any] = fixture(f"token_{kind}")
    body["access_token"] = access or make_canary("access")
    if instance_url is None:
        del body["instance_url"]
    else:
        body["instance_url"] = instance_url
    if refresh is not None:
        body["refresh_token"] = refresh
    return body


def form(request: httpx.Request) -> dict[str, str]:
    """The form fields of a token request."""
    return {k: v[0] for k, v in parse_qs(request.content.decode(), keep_blank_values=True).items()}


def query_result(*records: dict[str, Any], following: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"totalSize": len(records), "done": following is None, "records": list(records)}
    if following is not None:
        body["nextRecordsUrl"] = following
    return body


def contact_record(contact_id: str, **fields: Any) -> dict[str, Any]:
    """A Contact record with the fields the connector asks for, null unless given."""
    record: dict[str, Any] = {
        "attributes": {"type": "Contact", "url": f"{DATA}/sobjects/Contact/{contact_id}"},
        "Id": contact_id,
        **dict.fromkeys(
            (
                "FirstName",
                "LastName",
                "Name",
                "Email",
                "Phone",
                "MobilePhone",
                "HomePhone",
                "OtherPhone",
                "AccountId",
                "CreatedDate",
                "LastModifiedDate",
            )
        ),
    }
    record.update(fields)
    return record


# --- a runtime ---------------------------------------------------------------------------------------


def config(settings: dict[str, Any] | None = None, phone_region: str = "NZ") -> NexoraConfig:
    return one_connector_config(
        "salesforce", {READ: (), WRITE: ("notes:write",)}, settings=settings, phone_region=phone_region
    )


def registry(connector: type[SalesforceConnector] = SalesforceConnector) -> ConnectorRegistry:
    return registry_of(salesforce=connector)


def runtime(
    router: respx.MockRouter,
    creds: CredentialSource,
    *,
    audit: MemoryAuditSink | None = None,
    connector: type[SalesforceConnector] = SalesforceConnector,
    settings: dict[str, Any] | None = None,
) -> NexoraConnect:
    return runtime_on(router, config(settings), registry(connector), creds, audit=audit or MemoryAuditSink())


@contextmanager
def salesforce(*, assert_all_called: bool = True) -> Iterator[respx.MockRouter]:
    """One strict respx Salesforce (login server and instance) for both clients.

    It is the vendor client's transport (pass it to :func:`runtime`) and, started, it also patches
    httpx for the token client.
    """
    with respx.mock(assert_all_called=assert_all_called, assert_all_mocked=True) as mock:
        yield mock


# --- cases for the connector test kit (``test_salesforce_kit.py``) --------------------------------

KIT_KEYS: dict[str, str] = {}
"""The PEM key of every credential the kit made, by the kit's secret (scanned for by the kit test)."""


def kit_credential(secret: str) -> OAuth2JWTCredential:
    """The kit's credential for ``secret``: a JWT credential whose key stands for that secret.

    The kit plants ``secret`` and searches for it; a PEM key cannot be made of a given string, so the
    key (one of two, so that a rotated credential holds another) is remembered under the secret and
    the kit test searches for its material as well.
    """
    slot = len(KIT_KEYS) % 2
    KIT_KEYS[secret] = private_pem(slot)
    return jwt_credential(slot)


@contextmanager
def kit_login() -> Iterator[respx.Route]:
    """The login server for the kit: every JWT grant gets a fresh access token for ``INSTANCE``."""
    with respx.mock(assert_all_called=False, assert_all_mocked=True) as mock:

        def grant(request: httpx.Request) -> httpx.Response:
            assert form(request)["grant_type"] == JWT_GRANT
            return httpx.Response(200, json=token_answer())

        yield mock.post(TOKEN_URL).mock(side_effect=grant)


def _with_canary(record: dict[str, Any], canary: str) -> dict[str, Any]:
    record["FirstName"] = canary
    record["Name"] = f"{canary} Ngata"
    return record


def query_route(router: respx.MockRouter, canary: str) -> respx.Route:
    body = fixture("query_contacts_by_email")
    _with_canary(body["records"][0], canary)
    return router.get(INSTANCE + QUERY).respond(200, json=body)


def search_route(router: respx.MockRouter, canary: str) -> respx.Route:
    body = fixture("search_contacts_by_phone")
    _with_canary(body["searchRecords"][0], canary)
    return router.get(INSTANCE + SEARCH).respond(200, json=body)


def contact_route(router: respx.MockRouter, canary: str) -> respx.Route:
    return router.get(f"{INSTANCE}{DATA}/sobjects/Contact/{AROHA}").respond(
        200, json=_with_canary(fixture("contact"), canary)
    )


def account_route(router: respx.MockRouter, canary: str) -> respx.Route:
    body = fixture("account")
    body["Name"] = canary
    return router.get(f"{INSTANCE}{DATA}/sobjects/Account/{KAURI}").respond(200, json=body)


def task_route(router: respx.MockRouter, canary: str) -> respx.Route:
    return router.post(f"{INSTANCE}{DATA}/sobjects/Task").respond(201, json=fixture("task_created"))


KIT_CASES = [
    OperationCase("find_contacts", {"email": CALLER_EMAIL}, mock=query_route, id="find_contacts_by_email"),
    OperationCase("find_contacts", {"phone": CALLER_PHONE}, mock=search_route, id="find_contacts_by_phone"),
    OperationCase("get_contact", {"contact_id": AROHA}, mock=contact_route),
    OperationCase("get_account", {"account_id": KAURI}, mock=account_route),
    OperationCase(
        "create_note", {"contact_id": AROHA, "body": "Caller asked about invoice INV-12."}, mock=task_route
    ),
]


def query_pages_route(router: respx.MockRouter, next_cursors: Sequence[str | None]) -> respx.Route:
    """A query whose n-th batch holds one matching contact and a locator made of ``next_cursors[n]``."""
    served = 0

    def page(request: httpx.Request) -> httpx.Response:
        nonlocal served
        index, served = served, served + 1
        cursor = next_cursors[index]
        following = None if cursor is None else f"{QUERY}/01gD0000002HU6KIAW-{cursor.replace('-', '')}"
        record = contact_record(sf_id("003", 1000 + index), Email=CALLER_EMAIL, LastName="Page")
        return httpx.Response(200, json=query_result(record, following=following))

    pattern = "^" + re.escape(INSTANCE + QUERY) + r"(/[^/?]+)?(\?.*)?$"
    return router.route(method="GET", url__regex=pattern).mock(side_effect=page)


KIT_PAGINATION = PaginationCase("find_contacts", {"email": CALLER_EMAIL}, mock=query_pages_route)
