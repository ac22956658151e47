"""The connector test kit run against the toy connector: proves the battery itself works."""

from __future__ import annotations

import httpx
import pytest
import respx
from pydantic import SecretStr

from sdk import Contact, VendorPayloadError
from sdk.authoring import endpoints
from sdk.testing import OperationCase, connector_test_class
from tests.sdk.fakes import TOY_BASE, ToyCRM, contact_json
from vault import ApiKeyCredential


def _search(router: respx.MockRouter, canary: str) -> respx.Route:
    return router.post(f"{TOY_BASE}/contacts/search").respond(json={"results": [contact_json(name=canary)]})


def _contact(router: respx.MockRouter, canary: str) -> respx.Route:
    return router.get(f"{TOY_BASE}/contacts/c-1").respond(json=contact_json(name=canary))


def _account(router: respx.MockRouter, canary: str) -> respx.Route:
    return router.get(f"{TOY_BASE}/accounts/a-1").respond(json={"id": "a-1", "name": canary})


def _note(router: respx.MockRouter, canary: str) -> respx.Route:
    return router.post(f"{TOY_BASE}/notes").respond(json={"id": "n-1"})


CASES = [
    OperationCase("find_contacts", {"email": "aroha@example.test"}, mock=_search),
    OperationCase("get_contact", {"contact_id": "c-1"}, mock=_contact),
    OperationCase("get_account", {"account_id": "a-1"}, mock=_account),
    OperationCase("create_note", {"contact_id": "c-1", "body": "called about an invoice"}, mock=_note),
]

TestToyConformance = connector_test_class(
    ToyCRM,
    cases=CASES,
    credential=lambda secret: ApiKeyCredential(type="api_key", api_key=SecretStr(secret)),
)


class LeakyCRM(ToyCRM):
    """Puts the vendor's answer into its own error: exactly what the kit must catch."""

    name = "leaky"

    @endpoints("GET /contacts/{contact_id}")
    async def get_contact(self, contact_id: str) -> Contact:
        data = await self.http.json("GET", "/contacts/{contact_id}", path_params={"contact_id": contact_id})
        raise VendorPayloadError(f"unexpected contact {data}")


async def test_kit_catches_a_connector_that_echoes_vendor_data_in_an_error(
    caplog: pytest.LogCaptureFixture,
) -> None:
    broken = connector_test_class(
        LeakyCRM, cases=CASES, credential=lambda s: ApiKeyCredential(type="api_key", api_key=SecretStr(s))
    )()
    with pytest.raises(AssertionError, match="customer data leaked"):
        await broken.test_no_secret_or_customer_data_in_logs_audit_or_errors(caplog)


class EchoingCodeCRM(ToyCRM):
    """Returns the vendor's whole error text as its "error code": the SDK must not pass it on."""

    name = "echoing"

    def error_code(self, response: httpx.Response) -> str | None:
        return response.text


async def test_the_sdk_drops_an_error_code_that_is_not_a_plain_token(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """What the old leaky connector did is now stopped by the HTTP layer itself (S3)."""
    fixed = connector_test_class(
        EchoingCodeCRM,
        cases=CASES,
        credential=lambda s: ApiKeyCredential(type="api_key", api_key=SecretStr(s)),
    )()
    await fixed.test_no_secret_or_customer_data_in_logs_audit_or_errors(caplog)


def test_kit_catches_an_operation_without_a_case() -> None:
    partial = connector_test_class(
        ToyCRM, cases=CASES[:2], credential=lambda s: ApiKeyCredential(type="api_key", api_key=SecretStr(s))
    )()
    with pytest.raises(AssertionError, match="operations without a case"):
        partial.test_declared_capabilities_match_operations()
