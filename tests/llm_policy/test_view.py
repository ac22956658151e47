"""llm_view / llm_text on shared models: internal records and per-field rules, tried as an attacker would.

Canaries sit only where staff write for staff; each test looks for them in both renderings, and
checks that what must still be seen is seen (so that nothing passes by rendering nothing).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sdk._call import INTERNAL_WITHHELD, LLMPolicy, llm_field_view, llm_text, llm_view
from sdk._models import (
    BillingCustomer,
    Contact,
    Invoice,
    Money,
    Note,
    SharedModel,
    Ticket,
    TicketComment,
)
from sdk.testing import make_canary

CARD = "4111 1111 1111 1111"
KEEP = LLMPolicy(internal_notes="keep")
MASK = LLMPolicy(internal_notes="mask")


def rendered(value: Any, policy: LLMPolicy | None = None) -> str:
    """Everything a model could be handed for ``value``: the JSON view and the text."""
    return json.dumps(llm_view(value, policy)) + "\n" + llm_text(value, policy)


def comment(n: int, body: str, *, public: bool) -> TicketComment:
    return TicketComment(
        id=f"comment-id-{n}",
        body=body,
        public=public,
        author_id=f"agent-{n}",
        created_at=datetime(2024, 6, n, tzinfo=UTC),
    )


def ticket(*comments: TicketComment) -> Ticket:
    return Ticket(id="35437", source="desk", subject="Router drops", comments=comments)


# --- internal records ----------------------------------------------------------------------------


def test_internal_comments_leave_no_trace_by_default() -> None:
    secret = make_canary("internal")
    reply = make_canary("reply")
    mixed = ticket(comment(1, reply, public=True), comment(2, f"{secret} refund declined", public=False))
    text = rendered(mixed)
    assert reply in text
    assert secret not in text
    assert "comment-id-2" not in text
    assert "agent-2" not in text
    # No count, no placeholder: the view is the one a ticket without the comment has.
    assert llm_view(mixed) == llm_view(ticket(comment(1, reply, public=True)))
    assert llm_text(mixed) == llm_text(ticket(comment(1, reply, public=True)))


def test_a_ticket_with_only_internal_comments_reads_like_one_without_comments() -> None:
    only_internal = ticket(
        comment(1, make_canary("a"), public=False), comment(2, make_canary("b"), public=False)
    )
    assert llm_view(only_internal) == llm_view(ticket())
    assert "comments" not in llm_view(only_internal)
    assert "internal" not in rendered(only_internal)


def test_notes_leave_no_trace_by_default_wherever_they_sit() -> None:
    secret = make_canary("note")
    note = Note(id="n-1", source="crm", contact_id="51", body=f"VIP; {secret}")
    contact = Contact(id="51", source="crm", name="Aroha")
    assert llm_view(note) is None
    assert llm_text(note) == "(none)"
    assert llm_view([note, note]) == []
    assert llm_view({"contact": contact, "note": note}) == {"contact": llm_view(contact)}
    assert llm_view((contact, note)) == [llm_view(contact)]
    for value in (note, [note], {"x": [note]}, (contact, note)):
        assert secret not in rendered(value)
        assert "n-1" not in rendered(value)


def test_opted_in_internal_text_still_goes_through_the_text_redactor() -> None:
    secret = make_canary("internal")
    value = ticket(comment(1, f"{secret}: card {CARD} on file", public=False))
    text = rendered(value, KEEP)
    assert secret in text
    assert CARD not in text
    assert CARD.replace(" ", "") not in text
    assert "1111" in text  # last four, the default card action
    assert "public no" in llm_text(value, KEEP)  # marked, never passed off as a reply
    note = Note(id="n-1", source="crm", body=f"{secret} {CARD}")
    assert llm_view(note, KEEP)["body"].startswith(secret)
    assert CARD not in rendered(note, KEEP)


def test_masked_internal_records_keep_their_metadata_and_lose_their_text() -> None:
    secret = make_canary("internal")
    value = ticket(comment(1, "public words", public=True), comment(2, secret, public=False))
    view = llm_view(value, MASK)
    assert view["comments"][1] == {
        "id": "comment-id-2",
        "body": INTERNAL_WITHHELD,
        "public": False,
        "author_id": "agent-2",
        "created_at": "2024-06-02T00:00:00+00:00",
    }
    assert view["comments"][0]["body"] == "public words"
    assert secret not in rendered(value, MASK)
    note = Note(id="n-1", source="crm", body=secret)
    assert llm_view(note, MASK) == {"id": "n-1", "source": "crm", "body": INTERNAL_WITHHELD}


def test_a_field_rule_cannot_reopen_an_internal_record() -> None:
    """``keep`` on the body is about public comments; only internal_notes decides about internal ones."""
    secret = make_canary("internal")
    value = ticket(comment(1, secret, public=False))
    for internal_notes in ("drop", "mask"):
        policy = LLMPolicy(
            internal_notes=internal_notes, fields={"TicketComment.body": "keep", "Note.body": "keep"}
        )
        assert secret not in rendered(value, policy)
        assert secret not in rendered(Note(id="n", source="crm", body=secret), policy)


class _Forged(TicketComment):
    """A connector's subclass of a shared model is still internal when the shared model says so."""


def test_a_subclass_of_an_internal_model_is_still_internal() -> None:
    secret = make_canary("internal")
    forged = _Forged(id="c9", body=secret, public=False)
    assert secret not in rendered(ticket(forged))
    assert llm_view(forged) is None


@given(
    st.lists(st.tuples(st.booleans(), st.text(alphabet="abc xyz.,!", max_size=30)), min_size=1, max_size=12)
)
def test_no_arrangement_of_comments_lets_an_internal_one_through(layout: list[tuple[bool, str]]) -> None:
    secrets = {n: f"zz-secret-{n}-qq" for n, (public, _) in enumerate(layout) if not public}
    comments = tuple(
        comment(1 + n % 28, f"{filler} {secrets.get(n, f'zz-reply-{n}-qq')} {filler}", public=public)
        for n, (public, filler) in enumerate(layout)
    )
    text = rendered(ticket(*comments))
    for secret in secrets.values():
        assert secret not in text
    for n, (public, _) in enumerate(layout):
        if public:
            assert f"zz-reply-{n}-qq" in text
    assert text.count('"public": true') == sum(1 for public, _ in layout if public)
    assert '"public": false' not in text


def test_every_shared_model_declares_whether_it_is_internal() -> None:
    """New record kinds inherit 'not internal'; the two internal kinds say so themselves."""
    assert Note(id="n", source="s", body="b").is_internal()
    assert TicketComment(id="c", body="b", public=False).is_internal()
    assert not TicketComment(id="c", body="b", public=True).is_internal()
    assert not Contact(id="c", source="s").is_internal()
    assert all(hasattr(cls, "is_internal") for cls in SharedModel.__subclasses__())


# --- field rules ---------------------------------------------------------------------------------

CONTACT = Contact(id="51", source="crm", name="Aroha Ngata", email="aroha@example.test", phone="+64215550100")


def test_field_keep_mask_last4_and_drop() -> None:
    policy = LLMPolicy(
        pii="mask",
        fields={
            "Contact.name": "keep",
            "Contact.email": "drop",
            "Contact.phone": "last4",
            "Contact.source": "mask",
        },
    )
    assert llm_view(CONTACT, policy) == {
        "id": "51",
        "source": "[redacted source]",
        "name": "Aroha Ngata",
        "phone": "[personal data ending 0100]",
    }
    text = llm_text(CONTACT, policy)
    assert "aroha@example.test" not in text
    assert "email" not in text


def test_fields_the_policy_does_not_name_keep_their_sensitivity_defaults() -> None:
    policy = LLMPolicy(fields={"Contact.email": "mask"})
    view = llm_view(CONTACT, policy)
    assert view["email"] == "[redacted personal data]"
    assert view["name"] == "Aroha Ngata"  # pii = keep by default
    assert view["phone"] == "+64215550100"


def test_kept_fields_still_go_through_the_text_redactor() -> None:
    policy = LLMPolicy(pii="mask", fields={"Ticket.subject": "keep"})
    value = Ticket(id="1", source="desk", subject=f"card {CARD}")
    subject = llm_view(value, policy)["subject"]
    assert subject.startswith("card ")
    assert CARD not in subject
    assert CARD.replace(" ", "") not in subject


def test_last4_never_reveals_half_of_a_short_value() -> None:
    policy = LLMPolicy(fields={"Invoice.number": "last4"})
    short = Invoice(id="in_1", source="billing", number="KPL-42")
    long = Invoice(id="in_2", source="billing", number="KPL-0042-2024")
    assert llm_view(short, policy)["number"] == "[redacted number]"
    assert llm_view(long, policy)["number"] == "[number ending 2024]"


@pytest.mark.parametrize("action", ["mask", "last4", "drop"])
def test_structured_values_are_masked_or_dropped_whole(action: str) -> None:
    """Money, booleans and nested records have no 'last four': they are masked or dropped entirely."""
    policy = LLMPolicy(
        fields={
            "Invoice.amount_due": action,
            "BillingCustomer.delinquent": action,
            "BillingCustomer.balance": action,
            "Ticket.comments": action,
        }
    )
    invoice = Invoice(id="in_1", source="b", amount_due=Money(amount_minor=98765, currency="NZD"))
    customer = BillingCustomer(
        id="cus_1", source="b", delinquent=True, balance=Money(amount_minor=98765, currency="NZD")
    )
    busy = ticket(comment(1, "public words", public=True))
    views = [llm_view(invoice, policy), llm_view(customer, policy), llm_view(busy, policy)]
    text = json.dumps(views) + llm_text(invoice, policy) + llm_text(customer, policy) + llm_text(busy, policy)
    assert "987" not in text
    assert "public words" not in text
    if action == "drop":
        assert "amount_due" not in views[0]
        assert "delinquent" not in views[1]
        assert "comments" not in views[2]
    else:
        assert views[0]["amount_due"] == "[redacted amount due]"
        assert views[1]["delinquent"] == "[redacted delinquent]"
        assert views[2]["comments"] == "[redacted comments]"


def test_rules_apply_to_nested_records_and_to_a_field_returned_alone() -> None:
    policy = LLMPolicy(fields={"Contact.email": "mask", "BillingCustomer.balance": "drop"})
    assert llm_view({"candidates": [CONTACT, CONTACT]}, policy)["candidates"][1]["email"] == (
        "[redacted personal data]"
    )
    balance = Money(amount_minor=1250, currency="NZD")
    assert llm_field_view(balance, BillingCustomer, "balance", policy) is None
    assert llm_field_view(balance, BillingCustomer, "balance") == {"amount": "12.50", "currency": "NZD"}
    masked = LLMPolicy(fields={"BillingCustomer.balance": "mask"})
    assert llm_field_view(balance, BillingCustomer, "balance", masked) == "[redacted balance]"


def test_card_last4_follows_the_pci_default_unless_a_field_rule_says_otherwise() -> None:
    customer = BillingCustomer(id="cus_1", source="b", card_last4="4242")
    assert llm_view(customer)["card_last4"] == "[card ending 4242]"
    assert llm_view(customer, LLMPolicy(fields={"BillingCustomer.card_last4": "drop"})).keys() == {
        "id",
        "source",
    }
    assert llm_view(customer, LLMPolicy(fields={"BillingCustomer.card_last4": "mask"}))["card_last4"] == (
        "[redacted card]"
    )
