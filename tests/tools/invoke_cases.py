"""Tool calls whose answers to the model are pinned byte for byte while ``invoke`` is made faster (issue 13).

Every case of the three shipped connectors (reads, granted writes, writes that were never granted),
a ticket with internal comments, and the arguments a model gets wrong, run under five policies,
with the arguments as a mapping and as JSON text. What is pinned is what the model receives: each
result in every provider's message format (:meth:`ToolResult.to_message`). Inputs are
deterministic (no random canaries: the expected outputs are stored) and hostile where customers
and staff write (a card number and an IRD number in the planted value, :data:`STAFF_MARK` in every
internal comment). Regenerate the stored outputs only for an intended change of rendering::

    .venv/bin/python -m tests.tools.invoke_cases --write
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

import respx

from connectors.billing.stripe import StripeConnector
from connectors.crm.hubspot import HubSpotConnector
from connectors.ticketing.zendesk import ZendeskConnector
from sdk import NexoraConfig, NexoraError
from sdk._call import ToolResult
from sdk._call._tool_formats import FORMATS
from sdk.testing import MemoryCredentialSource
from tests.connectors import hubspot_cases, stripe_cases, zendesk_cases
from tests.llm_policy.conftest import comments_page
from tests.mock_nexora import registry_of, runtime_on

EXPECTED = Path(__file__).with_name("invoke_expected.json")
CARD = "4111 1111 1111 1111"
IRD = "49-091-850"
STAFF_MARK = "STAFFONLY"
PLANTED = f"Planted {CARD} ird {IRD}"
"""Put where each case's vendor answer carries customer text (a name, a subject, a note body)."""
KEY = "pinned-invoke-key-0000"
"""A placeholder credential: the vendors are respx routes that never check it."""

POLICIES: dict[str, dict[str, Any] | None] = {
    "default": None,
    "internal-keep": {"internal_notes": "keep"},
    "internal-mask": {"internal_notes": "mask"},
    "fields": {
        "fields": {
            "Contact.email": "mask",
            "Contact.phone": "last4",
            "Ticket.subject": "drop",
            "TicketComment.author_id": "mask",
            "Invoice.amount_due": "drop",
            "BillingCustomer.balance": "drop",
        }
    },
    "pii-mask-identifiers": {
        "pii": "mask",
        "pci": "keep",
        "identifiers": {"card": "keep", "nz_ird": "last4", "email": "mask", "phone": "last4"},
    },
}
_CONNECTORS = {"crm": "hubspot", "desk": "zendesk", "billing": "stripe"}
_WRITES = {"crm": ["notes:write"], "desk": ["comments:write"]}
_CASES = {"crm": hubspot_cases.KIT_CASES, "desk": zendesk_cases.CASES, "billing": stripe_cases.CASES}

BAD_CALLS: dict[str, tuple[str, Any]] = {
    "unknown-tool": ("crm__no_such_tool", {"contact_id": "51"}),
    "unknown-integration": ("nowhere__get_contact", {}),
    "wrong-type": ("crm__get_contact", {"contact_id": 51}),
    "missing-argument": ("crm__get_contact", {}),
    "unexpected-argument": ("crm__get_contact", {"contact_id": "51", "card": CARD}),
    "data-as-argument-name": ("crm__get_contact", {"contact_id": "51", CARD: "x"}),
    "not-json": ("crm__get_contact", '{"contact_id": "51", card 4111'),
    "json-list": ("crm__get_contact", '["51"]'),
    "null-for-default": ("billing__list_invoices", {"customer_id": stripe_cases.CUSTOMER_ID, "limit": None}),
    "ungranted-write-bad-arguments": ("billing__resend_invoice", {"invoice": CARD}),
}


def config() -> NexoraConfig:
    tenants: dict[str, Any] = {}
    for tenant, redaction in POLICIES.items():
        integrations: dict[str, Any] = {}
        for integration, connector in _CONNECTORS.items():
            entry: dict[str, Any] = {"connector": connector}
            if integration == "desk":
                entry["settings"] = dict(zendesk_cases.SETTINGS)
            if integration in _WRITES:
                entry |= {"grant": "scoped-write", "write_scopes": _WRITES[integration]}
            integrations[integration] = entry
        tenants[tenant] = {"integrations": integrations}
        if redaction is not None:
            tenants[tenant]["redaction"] = redaction
    return NexoraConfig.parse({"vault": {"address": "http://127.0.0.1:9"}, "tenants": tenants})


def _credentials() -> MemoryCredentialSource:
    source = MemoryCredentialSource()
    for tenant in POLICIES:
        source.put(tenant, "crm", hubspot_cases.credential(KEY))
        source.put(tenant, "desk", zendesk_cases.credential(KEY))
        source.put(tenant, "billing", stripe_cases.credential(KEY))
    return source


AS_JSON = "$as_json"
"""Stored in place of a message's output text when it is exactly ``as_json`` (pinned once)."""
JSON_TEXT = " (JSON text)"
"""Ends the label of a case run with its arguments as JSON text: it must answer as the mapping did."""


def _marked(node: Any, text: str) -> Any:
    if node == text:
        return AS_JSON
    if isinstance(node, dict):
        return {key: _marked(value, text) for key, value in node.items()}
    return node


def messages(result: ToolResult, tool: str) -> dict[str, Any]:
    """What the model receives for ``result``: the bare JSON text and each provider's message."""
    text = result.as_json()
    out: dict[str, Any] = {"as_json": text}
    for format in FORMATS:
        out[format] = _marked(result.to_message(format, "call_1", name=tool), text)  # type: ignore[arg-type]
    return out


def _calls() -> list[tuple[str, str, Any, Any]]:
    """``(case, tool, arguments, mock)`` for every call, each argument form of each case."""
    calls: list[tuple[str, str, Any, Any]] = []
    for integration, cases in _CASES.items():
        for case in cases:
            tool = f"{integration}__{case.operation}"
            label = f"{integration}__{case.label}"
            calls.append((label, tool, dict(case.arguments), case.mock))
            calls.append((f"{label}{JSON_TEXT}", tool, json.dumps(dict(case.arguments)), case.mock))
    calls.append(("internal-comments", "desk__get_ticket", {"ticket_id": zendesk_cases.TICKET_ID}, _internal))
    for label, (tool, arguments) in BAD_CALLS.items():
        mock = next((c.mock for i, cs in _CASES.items() for c in cs if f"{i}__{c.operation}" == tool), None)
        calls.append((label, tool, arguments, mock))
    return calls


def _internal(router: respx.MockRouter, planted: str) -> None:
    """A ticket with one public reply between internal notes that hold :data:`STAFF_MARK`."""
    page = comments_page(
        (f"{STAFF_MARK}: escalate, card {CARD}", False),
        (f"{planted} thanks", True),
        (f"{STAFF_MARK} again, IRD {IRD}", False),
    )
    router.get(zendesk_cases.COMMENTS).respond(200, json=page)
    zendesk_cases.show_ticket_route(router, planted)


async def _invoke_all() -> dict[str, dict[str, Any]]:
    registry = registry_of(HubSpotConnector, ZendeskConnector, StripeConnector)
    out: dict[str, dict[str, Any]] = {tenant: {} for tenant in POLICIES}
    for label, tool, arguments, mock in _calls():
        # A router per case: each answer comes from the case's own routes, never a previous one's.
        router = respx.MockRouter(assert_all_called=False, assert_all_mocked=True)
        if mock is not None:
            mock(router, PLANTED)
        async with runtime_on(router, config(), registry, _credentials()) as nc:
            for tenant in POLICIES:
                async with nc.conversation(tenant=tenant, conversation_id=f"pinned-{tenant}") as conv:
                    try:
                        result = await conv.invoke(tool, arguments)
                    except NexoraError as exc:  # every SDK error the model may be told of
                        result = ToolResult.from_error(exc, tool=tool)
                out[tenant][label] = messages(result, tool)
    return out


def dump(pinned: dict[str, dict[str, Any]]) -> str:
    """One line per case, so that a change of rendering shows in a diff as the cases it touched."""
    lines = ["{"]
    for t, (tenant, cases) in enumerate(pinned.items()):
        lines.append(f" {json.dumps(tenant)}: {{")
        for c, (label, got) in enumerate(cases.items()):
            comma = "," if c < len(cases) - 1 else ""
            lines.append(f"  {json.dumps(label)}: {json.dumps(got, ensure_ascii=False)}{comma}")
        lines.append(" }" + ("," if t < len(pinned) - 1 else ""))
    return "\n".join([*lines, "}"]) + "\n"


def invoke_all() -> dict[str, dict[str, Any]]:
    """Every case's messages under every policy, from a fresh runtime (not inside a running loop)."""
    return asyncio.run(_invoke_all())


if __name__ == "__main__":  # pragma: no cover - regenerates the stored outputs on purpose
    if sys.argv[1:] != ["--write"]:
        raise SystemExit("usage: python -m tests.tools.invoke_cases --write")
    pinned = {
        tenant: {label: got for label, got in cases.items() if not label.endswith(JSON_TEXT)}
        for tenant, cases in invoke_all().items()
    }
    EXPECTED.write_text(dump(pinned))
    print(f"wrote {EXPECTED}")
