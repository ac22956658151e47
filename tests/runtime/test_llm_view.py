"""llm_view / llm_text: any shared model, list or mapping rendered for a model, redacted (S6)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated, Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, SecretStr

from sdk import (
    Account,
    BillingCustomer,
    Contact,
    Invoice,
    InvoiceStatus,
    Money,
    Sensitive,
    SharedModel,
    Ticket,
    TicketComment,
)
from sdk._call import LLMPolicy, format_money, llm_text, llm_view, mask_field
from sdk.testing import make_canary

CARD = "4111 1111 1111 1111"
IRD = "49-091-850"


def _customer(**overrides: Any) -> BillingCustomer:
    base: dict[str, Any] = {
        "id": "cus_1",
        "source": "stripe",
        "name": "Aroha Ngata",
        "email": "aroha@example.test",
        "phone": "+64215550100",
        "balance": Money(amount_minor=1250, currency="NZD"),
        "card_last4": "4242",
    }
    return BillingCustomer(**(base | overrides))


def test_a_model_becomes_a_dict_without_empty_fields() -> None:
    invoice = Invoice(
        id="in_1",
        source="stripe",
        status=InvoiceStatus.OVERDUE,
        amount_due=Money(amount_minor=4000, currency="nzd"),
        due_date=date(2024, 5, 1),
        created_at=datetime(2024, 4, 1, 8, 30, 15, 123456, tzinfo=UTC),
    )
    assert llm_view(invoice) == {
        "id": "in_1",
        "source": "stripe",
        "status": "overdue",
        "amount_due": {"amount": "40.00", "currency": "NZD"},
        "due_date": "2024-05-01",
        "created_at": "2024-04-01T08:30:15+00:00",
    }
    json.dumps(llm_view([invoice, _customer()]))  # JSON-able throughout


@pytest.mark.parametrize(
    ("amount", "currency", "text"),
    [
        (1250, "NZD", "NZD 12.50"),
        (-500, "NZD", "NZD -5.00"),
        (7, "AUD", "AUD 0.07"),
        (500, "JPY", "JPY 500"),
        (1234, "KWD", "KWD 1.234"),
        (0, "USD", "USD 0.00"),
    ],
)
def test_money_is_rendered_in_major_units(amount: int, currency: str, text: str) -> None:
    money = Money(amount_minor=amount, currency=currency)
    assert format_money(money) == text
    assert llm_text([money]) == f"- {text}"


def test_sensitivity_marks_inside_optional_fields_are_honoured() -> None:
    """``name: PIIStr | None`` keeps its mark inside the union, where FieldInfo.metadata misses it."""
    contact = Contact(
        id="51", source="crm", name="Aroha Ngata", email="aroha@example.test", phone="+64215550100"
    )
    view = llm_view(contact, LLMPolicy(pii="mask"))
    assert view["name"] == view["email"] == view["phone"] == "[redacted personal data]"
    assert view["id"] == "51"


@pytest.mark.parametrize(
    ("pci", "expected"),
    [("keep", "4242"), ("last4", "[card ending 4242]"), ("mask", "[redacted card]")],
)
def test_pci_fields_follow_the_pci_action(pci: str, expected: str) -> None:
    view = llm_view(_customer(), LLMPolicy(pci=pci))
    assert view["card_last4"] == expected
    assert view["name"] == "Aroha Ngata"


def test_last4_never_reveals_half_of_a_short_value() -> None:
    policy = LLMPolicy(pii="last4")
    assert mask_field("Ana", Sensitive.PII, policy) == "[redacted personal data]"
    assert mask_field("Aroha Ngata", Sensitive.PII, policy) == "[personal data ending gata]"
    # Only a PCI value that is itself four digits (a card's tail) may be shown whole.
    assert mask_field("4242", Sensitive.PCI, LLMPolicy()) == "[card ending 4242]"
    assert mask_field("42a2", Sensitive.PCI, LLMPolicy()) == "[redacted card]"


def test_health_fields_are_masked_by_default() -> None:
    class Visit(SharedModel):
        nhi: Annotated[str, Sensitive.HEALTH]
        notes: Annotated[str | None, Sensitive.HEALTH] = None
        clinic: str

    view = llm_view(Visit(nhi="ZZZ0016", notes="Asthma review", clinic="Ponsonby"))
    assert view == {"nhi": "[redacted health data]", "notes": "[redacted health data]", "clinic": "Ponsonby"}


def test_free_text_everywhere_goes_through_redaction() -> None:
    ticket = Ticket(
        id="1",
        source="zendesk",
        subject=f"Refund to {CARD}",
        comments=(TicketComment(id="c1", body=f"My IRD is {IRD}", public=True),),
    )
    account = Account(id="9", source="crm", name=f"Card {CARD} Ltd", industry=f"IRD {IRD}")
    rendered = json.dumps(llm_view({"ticket": ticket, "account": account, "note": f"card {CARD}"}))
    for secret in (CARD, CARD.replace(" ", ""), IRD, IRD.replace("-", "")):
        assert secret not in rendered
    assert rendered.count("[card ending 1111]") == 3
    assert rendered.count("[redacted NZ IRD number]") == 2
    # Mapping keys are text too.
    assert llm_view({f"card {CARD}": 1}) == {"card [card ending 1111]": 1}


def test_a_kept_pii_field_still_has_identifiers_inside_masked() -> None:
    contact = Contact(id="51", source="crm", name=f"Aroha {CARD}")
    assert llm_view(contact)["name"] == "Aroha [card ending 1111]"


@pytest.mark.parametrize(
    "value",
    [SecretStr("x"), b"raw bytes", object(), {1: "a"}, [SecretStr("x")], {"nested": {"k": b"v"}}],
    ids=["secretstr", "bytes", "object", "int-key", "secret-in-list", "bytes-in-dict"],
)
def test_unknown_types_are_refused_not_stringified(value: Any) -> None:
    with pytest.raises(TypeError, match="language model"):
        llm_view(value)


def test_a_secret_in_an_unknown_object_never_leaks_through_str() -> None:
    canary = make_canary("canary-key")

    class Leaky:
        def __str__(self) -> str:
            return canary

    with pytest.raises(TypeError) as caught:
        llm_view({"x": Leaky()})
    assert canary not in str(caught.value)


def test_plain_values_and_other_models() -> None:
    class Result(BaseModel):
        count: int
        ratio: float
        exact: Decimal
        ok: bool
        note: str | None = None

    assert llm_view(Result(count=2, ratio=0.5, exact=Decimal("1.10"), ok=True)) == {
        "count": 2,
        "ratio": 0.5,
        "exact": "1.10",
        "ok": True,
    }
    assert llm_view(None) is None
    assert llm_view(("a", 1)) == ["a", 1]


def test_compact_text() -> None:
    policy = LLMPolicy()
    customer = _customer()
    text = llm_text(customer, policy)
    assert text.startswith("BillingCustomer: id cus_1; source stripe; name Aroha Ngata")
    assert "balance NZD 12.50" in text
    assert "card_last4 [card ending 4242]" in text
    assert llm_text([customer, customer], policy).count("\n- ") == 1
    assert llm_text([], policy) == "(none)"
    assert llm_text(None, policy) == "(none)"
    assert llm_text("a note", policy) == "a note"


@given(st.lists(st.integers(min_value=0, max_value=9), min_size=15, max_size=15), st.text(max_size=40))
def test_no_generated_card_survives_in_any_field(digits: list[int], filler: str) -> None:
    """Any Luhn-valid Visa number, wherever it sits among other text, leaves only its last four."""
    body = "4" + "".join(map(str, digits[:-1]))
    total = 0
    for i, char in enumerate(reversed(body)):
        n = int(char) * (2 if i % 2 == 0 else 1)
        total += n - 9 if n > 9 else n
    number = body + str((10 - total % 10) % 10)
    text = f"{filler} {number} {filler}"
    ticket = Ticket(
        id="1", source="z", subject=text, comments=(TicketComment(id="c", body=text, public=False),)
    )
    rendered = json.dumps(llm_view(ticket)) + llm_text(ticket)
    assert number not in rendered
    assert number[:12] not in rendered
