"""ctx.for_llm() in both formats: internal comments and field rules, through the real fan-out."""

from __future__ import annotations

import json
from typing import Any

import respx

from sdk import NexoraConnect
from sdk._call import COMMENTS_SHOWN, INTERNAL_WITHHELD
from sdk.testing import make_canary
from tests.llm_policy.conftest import DEFAULT, FIELDS, KEEP, MASK, comments_page
from tests.runtime.support import CALLER_PHONE, CARD, Vendors


async def _render(nc: NexoraConnect, tenant: str) -> tuple[str, dict[str, Any]]:
    async with nc.conversation(tenant=tenant, conversation_id=f"call-{tenant}") as conv:
        ctx = await conv.customer_context(phone=CALLER_PHONE)
        return ctx.for_llm(), ctx.for_llm("json")


def _comments(view: dict[str, Any]) -> list[dict[str, Any]]:
    return [c for t in view["sources"]["desk"].get("tickets", []) for c in t.get("comments", [])]


async def test_internal_comments_reach_the_model_only_when_the_tenant_opts_in(
    nc: NexoraConnect, router: respx.MockRouter
) -> None:
    reply, secret = make_canary("reply"), make_canary("internal")
    page = comments_page((f"{reply} still down", True), (f"{secret}: card {CARD}, do not refund", False))
    Vendors(router).mount(comments=page)

    text, view = await _render(nc, DEFAULT)
    assert reply in text
    assert reply in json.dumps(view)
    assert secret not in text
    assert secret not in json.dumps(view)
    assert "internal" not in text.lower()
    assert [c["public"] for c in _comments(view)] == [True]

    text, view = await _render(nc, KEEP)
    assert secret in text
    assert secret in json.dumps(view)
    assert "internal note" in text
    assert CARD not in text
    assert CARD.replace(" ", "") not in json.dumps(view)
    assert "[card ending 1111]" in text

    text, view = await _render(nc, MASK)
    assert secret not in text
    assert secret not in json.dumps(view)
    assert f"internal note 2024-06-02: {INTERNAL_WITHHELD}" in text
    assert sorted(c["public"] for c in _comments(view)) == [False, True]


async def test_dropped_internal_comments_do_not_crowd_out_the_replies(
    nc: NexoraConnect, router: respx.MockRouter
) -> None:
    """The newest comments are shown: internal ones, however many and however new, take no place."""
    replies = [make_canary(f"reply{n}") for n in range(COMMENTS_SHOWN)]
    secrets = [make_canary(f"internal{n}") for n in range(COMMENTS_SHOWN + 2)]
    page = comments_page(*[(r, True) for r in replies], *[(s, False) for s in secrets])
    Vendors(router).mount(comments=page)

    text, view = await _render(nc, DEFAULT)
    for value in replies:
        assert value in text
    for value in secrets:
        assert value not in text
        assert value not in json.dumps(view)

    text, _ = await _render(nc, KEEP)
    assert all(value in text for value in secrets[-COMMENTS_SHOWN:])
    assert not any(value in text for value in replies)


async def test_field_rules_hold_in_both_renderings(nc: NexoraConnect, router: respx.MockRouter) -> None:
    Vendors(router).mount()
    plain_text, plain = await _render(nc, DEFAULT)
    text, view = await _render(nc, FIELDS)
    contact, masked = plain["sources"]["crm"]["contact"], view["sources"]["crm"]["contact"]
    billing, billed = plain["sources"]["billing"], view["sources"]["billing"]
    subjects = [t["subject"] for t in plain["sources"]["desk"]["tickets"]]
    dues = [i["amount_due"] for i in billing["invoices"] if "amount_due" in i]
    assert subjects
    assert dues
    assert "balance" in billing

    assert masked["email"] == "[redacted personal data]"
    assert masked["phone"] == f"[personal data ending {contact['phone'][-4:]}]"
    assert masked["name"] == contact["name"]  # not named: the pii default (keep)
    assert all("subject" not in t for t in view["sources"]["desk"]["tickets"])
    assert all("amount_due" not in i for i in billed["invoices"])
    assert "balance" not in billed
    assert "balance" not in billed.get("customer", {})
    rendered = text + json.dumps(view)
    assert contact["email"] not in rendered
    assert contact["phone"] not in rendered
    for subject in subjects:
        assert subject not in rendered
    assert "owes" in plain_text
    assert "owes" not in text
    assert "owing" not in text
