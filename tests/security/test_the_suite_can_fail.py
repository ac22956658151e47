"""Controls: with the SDK's guard switched off, the suite sees the attacks that would get through.

The security suite passes because the SDK stops every attack; these tests
prove it would notice if it did not. A connector that formats ids into paths
by hand (as every connector did before endpoints were declared) is attacked
with the guard and the path filling bypassed: the traversal that once handed
other customers' invoices to the model must show up as findings.
"""

from __future__ import annotations

from typing import ClassVar

import httpx
import pytest
import respx

import sdk._http._guard
from sdk import Invoice
from sdk._context import CallContext
from sdk._endpoints import Endpoint
from sdk.authoring import BillingConnector, endpoints
from sdk.testing import OperationCase
from tests.security._drive import attack
from tests.security._targets import Target
from vault import ApiKeyCredential

BASE = "https://billing.example"


class HandFormattingBilling(BillingConnector):
    """The pre-guard bug: the customer id is pasted into the path."""

    name: ClassVar[str] = "handmade_billing"
    base_url: ClassVar[str] = BASE

    @endpoints("GET /api/v1/customers/{customer_id}/invoices")
    async def list_invoices(self, customer_id: str, limit: int = 10) -> list[Invoice]:
        data = await self.http.json("GET", f"/api/v1/customers/{customer_id}/invoices")
        return [
            Invoice(id=str(item["id"]), source=self.integration, number=str(item.get("number", "")))
            for item in data.get("data", [])
        ]


def _mock(router: respx.MockRouter, canary: str) -> respx.Route:
    return router.get(f"{BASE}/api/v1/customers/cus_1/invoices").respond(
        json={"data": [{"id": "in_1", "number": canary}]}
    )


TARGET = Target(
    HandFormattingBilling,
    [OperationCase("list_invoices", {"customer_id": "cus_1"}, mock=_mock)],
    lambda secret: ApiKeyCredential(api_key=secret),  # type: ignore[arg-type]
)


def _permissive(request: httpx.Request) -> tuple[CallContext, Endpoint]:
    ctx = sdk._http._guard.running_call()
    assert ctx is not None
    return ctx, ctx.operation.endpoints[0]


async def test_with_the_guard_off_a_traversal_reaches_another_path_and_is_reported(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(sdk._http._guard, "check_request", _permissive)
    findings = await attack(TARGET, "traversal", "call")
    assert any("not a declared endpoint" in problem for problem in findings.problems), findings.problems
    assert any("another path came back" in problem for problem in findings.problems), findings.problems


async def test_with_the_guard_on_the_same_connector_sends_nothing_undeclared() -> None:
    findings = await attack(TARGET, "traversal", "call")
    assert findings.attempts > 0
    assert findings.problems == []
