"""Every request the HubSpot connector builds, and every fixture it parses, against HubSpot's specs.

The specs are read from ``../shared/vendor-specs`` (or ``$NEXORA_VENDOR_SPECS``) at test time and
never copied into the repository: HubSpot's licence forbids redistributing them. Without them these
tests are skipped; the behaviour tests in ``test_hubspot.py`` still run.
"""

from __future__ import annotations

import httpx
import pytest

from sdk.testing import make_canary
from tests.connectors import hubspot_cases as hs
from tests.contracts.openapi_contract import ContractRecorder, VendorSpec, request_errors

CASES = hs.cases()


@pytest.fixture(scope="module")
def recorder() -> ContractRecorder:
    return ContractRecorder(*(VendorSpec.load(name) for name in hs.SPEC_NAMES))


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
async def test_case_traffic_matches_hubspot_spec(case: hs.Case, recorder: ContractRecorder) -> None:
    router = await hs.run_and_check(case, make_canary("secret"))
    exercised = recorder.check(router)
    assert set(case.operation_ids) <= set(exercised)


def test_cases_cover_every_endpoint_the_connector_uses(recorder: ContractRecorder) -> None:
    """Each HubSpot operation the connector calls has a case, and each is in HubSpot's specs."""
    used = {
        "post-/crm/v3/objects/contacts/search_doSearch",
        "get-/crm/v3/objects/contacts/{contactId}_getById",
        "get-/crm/v3/objects/companies/{companyId}_getById",
        "post-/crm/v3/objects/notes_create",
        "get-/crm/v3/objects/contacts_getPage",
    }
    assert used <= {operation for case in CASES for operation in case.operation_ids}
    known = {operation for spec in recorder.specs for operation in spec.operations}
    assert used <= known


def test_search_body_requires_sorts_and_after(recorder: ContractRecorder) -> None:
    """The contract quirk the connector works around: a body without sorts/after is refused."""
    spec = VendorSpec.load("hubspot-contacts")
    body = {"filterGroups": [], "properties": ["email"], "limit": 5}
    request = httpx.Request("POST", hs.BASE + hs.SEARCH, json=body, headers={"Authorization": "Bearer t"})
    errors = request_errors(spec, request)
    assert any("sorts" in line for line in errors)
    assert any("after" in line for line in errors)
