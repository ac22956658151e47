"""Tolerant reading seen from the customer context: each source says what it skipped, and why.

The records a source could read reach the context; its ``SourceResult`` counts the records left
out and names the field paths (never the values), and the status stays ``ok``: the caller was
found, and what is shown is all that could be read.
"""

from __future__ import annotations

import secrets

import respx

from sdk import MemoryAuditSink
from tests.connectors import stripe_cases as sc
from tests.mock_nexora import vendor_router
from tests.sdk.fakes import make_secret

INVOICES = f"{sc.BASE}/v1/invoices"


async def test_a_source_reports_its_skipped_records_and_keeps_the_rest() -> None:
    planted = "Canary" + secrets.token_hex(6)
    router: respx.MockRouter = vendor_router(sc.BASE)
    customer = sc.fixture("customer")
    router.get(f"{sc.BASE}/v1/customers/search").respond(200, json=sc.search_page([customer], None))
    everything = sc.fixture("invoices_all")
    everything["data"][2] = {"object": "invoice", "id": "", "number": planted}
    router.get(INVOICES, params={"status": "open"}).respond(200, json=sc.list_page("/v1/invoices", []))
    router.get(INVOICES).respond(200, json=everything)
    router.get(f"{sc.BASE}/v1/subscriptions").respond(200, json=sc.fixture("subscriptions"))
    audit = MemoryAuditSink()
    async with (
        sc.runtime(router, sc.credentials(make_secret()), audit=audit) as nc,
        nc.conversation(tenant=sc.TENANT, conversation_id="call-ctx") as conv,
    ):
        context = await conv.customer_context(phone="021 555 0100", budget=5)
        source = context.sources[sc.READ]
        assert source.status.value == "ok"
        assert context.complete
        assert (source.records_skipped, source.skipped_fields) == (1, ("invoice.id",))
        assert not source.truncated
        assert len(context.records(sc.READ).invoices) == len(everything["data"]) - 1
        assert planted not in source.model_dump_json()
        assert planted not in str(context.for_llm("json"))
        # Asked again: the steps come from the conversation's cache, and still say what was skipped.
        again = await conv.customer_context(phone="021 555 0100", budget=5)
        assert again.sources[sc.READ].records_skipped == 1
    assert all(planted not in record.model_dump_json() for record in audit.records)
