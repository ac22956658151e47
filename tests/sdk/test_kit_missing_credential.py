"""A credential the test forgot to store is reported as a missing credential, naming the integration.

Before, the kit's in-memory source raised a bare ``KeyError`` inside the auth flow, which reached the
author as a malformed vendor payload: the wrong place to look. These run through the kit's own
runtime (``sdk.testing.mock_runtime``), as a connector author's test would.
"""

from __future__ import annotations

import json

import pytest
import respx

from sdk import CredentialError, CredentialNotFoundError, ToolResult, VendorError
from sdk.testing import MemoryCredentialSource, WritableMemoryCredentialSource, make_canary, mock_runtime
from tests.sdk.fakes import TOY_BASE, ToyCRM, contact_json
from vault import ApiKeyCredential

SOURCES = [MemoryCredentialSource, WritableMemoryCredentialSource]


def _router(canary: str) -> respx.MockRouter:
    router = respx.MockRouter(assert_all_called=False, assert_all_mocked=True)
    router.post(f"{TOY_BASE}/contacts/search").respond(json={"results": [contact_json(name=canary)]})
    return router


@pytest.mark.parametrize("source_type", SOURCES)
async def test_an_empty_source_raises_a_credential_error_naming_the_integration(
    source_type: type[MemoryCredentialSource | WritableMemoryCredentialSource],
) -> None:
    integration = "crm-" + make_canary("eu").split("-")[1][:6]
    router = _router(make_canary("customer"))
    async with (
        mock_runtime(ToyCRM, router, source_type(), integration=integration) as nc,
        nc.conversation(tenant="acme", conversation_id="call-1") as conv,
    ):
        with pytest.raises(CredentialNotFoundError) as caught:
            await conv.call(integration, "find_contacts", email="aroha@example.test")
    assert not isinstance(caught.value, VendorError), "a missing credential is not a vendor failure"
    assert repr(integration) in str(caught.value)
    assert "'acme'" in str(caught.value)
    assert not router.calls, "a request went out without a credential"


async def test_a_credential_of_another_integration_or_tenant_does_not_stand_in() -> None:
    source = WritableMemoryCredentialSource()
    secret = make_canary("secret")
    key = ApiKeyCredential(type="api_key", api_key=secret)  # type: ignore[arg-type]
    source.seed("globex", "toy", key)  # another tenant
    source.seed("acme", "toy-rw", key)  # another integration
    router = _router(make_canary("customer"))
    async with (
        mock_runtime(ToyCRM, router, source) as nc,
        nc.conversation(tenant="acme", conversation_id="call-1") as conv,
    ):
        with pytest.raises(CredentialError, match="integration 'toy' of tenant 'acme'") as caught:
            await conv.call("toy", "find_contacts", email="aroha@example.test")
    assert secret not in str(caught.value)
    assert not router.calls


async def test_the_tool_path_reports_it_as_a_credential_problem_too() -> None:
    router = _router(make_canary("customer"))
    async with (
        mock_runtime(ToyCRM, router, MemoryCredentialSource()) as nc,
        nc.conversation(tenant="acme", conversation_id="call-1") as conv,
    ):
        (name,) = [tool["function"]["name"] for tool in conv.tools() if "find_contacts" in json.dumps(tool)]
        with pytest.raises(CredentialNotFoundError) as caught:
            await conv.invoke(name, {"email": "a@example.test"})
    answer = ToolResult.from_error(caught.value)
    assert not answer.ok
    text = answer.as_json().lower()
    assert "payload" not in text
    assert "malformed" not in text
    assert not router.calls
