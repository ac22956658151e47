"""Map Xero Accounting API payloads onto the shared billing models.

Xero writes amounts as decimal numbers in the currency's major unit (``115.0`` NZD), dates as
Microsoft JSON dates (``"/Date(1546128000000+0000)/"``: milliseconds since the Unix epoch, the
offset only a hint), and statuses in upper case. Unknown statuses become ``unknown``; a record
without its id raises (the SDK reports a VendorPayloadError).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sdk import BillingCustomer, Invoice, InvoiceStatus, Money, Subscription, SubscriptionStatus
from sdk.parsing import obj, object_list, record_id, text

__all__ = [
    "balance",
    "connection_tenants",
    "contacts",
    "customer",
    "invoice",
    "invoice_rank",
    "matches_phone",
    "ms_date",
    "next_page",
    "subscription",
    "to_money",
]

PhoneNormaliser = Callable[[str | None], str | None]

_MS_DATE = re.compile(r"/Date\((-?\d{1,15})([+-]\d{4})?\)/")
_CURRENCY = re.compile(r"[A-Z]{3}")
# ISO 4217 minor units where they are not 2 (Xero organisations bill in these too).
_EXPONENT = {
    "JPY": 0,
    "KRW": 0,
    "VND": 0,
    "ISK": 0,
    "CLP": 0,
    "XPF": 0,
    "BHD": 3,
    "KWD": 3,
    "OMR": 3,
    "JOD": 3,
}
_INVOICE_STATUS = {
    "DRAFT": InvoiceStatus.DRAFT,
    "SUBMITTED": InvoiceStatus.DRAFT,  # awaiting approval: not yet sent to the customer
    "AUTHORISED": InvoiceStatus.OPEN,
    "PAID": InvoiceStatus.PAID,
    "VOIDED": InvoiceStatus.VOID,
    "DELETED": InvoiceStatus.VOID,
}
# A repeating invoice's status says whether the invoices it raises are drafts or approved; either
# way the schedule runs. Deleted ones stop.
_REPEATING_STATUS = {
    "AUTHORISED": SubscriptionStatus.ACTIVE,
    "DRAFT": SubscriptionStatus.ACTIVE,
    "DELETED": SubscriptionStatus.CANCELED,
}
_RANK = {InvoiceStatus.OVERDUE: 0, InvoiceStatus.OPEN: 1}


def ms_date(value: object) -> datetime | None:
    """A ``/Date(ms+zzzz)/`` time in UTC; None when absent. Any other shape raises ValueError."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise TypeError("expected a Xero date")
    found = _MS_DATE.fullmatch(value)
    if found is None:
        raise ValueError("expected a Xero /Date(...)/ value")
    return datetime.fromtimestamp(int(found.group(1)) / 1000, tz=UTC)


def _day(value: object) -> date | None:
    moment = ms_date(value)
    return moment.date() if moment is not None else None


def to_money(amount: object, currency: object) -> Money | None:
    """A Xero decimal amount in ``currency`` as minor units; None when either is absent."""
    if amount is None or currency is None:
        return None
    if isinstance(amount, bool) or not isinstance(amount, int | float | str):
        raise TypeError("expected a decimal amount")
    code = text(currency)
    if code is None or not _CURRENCY.fullmatch(code):
        raise ValueError("expected an ISO 4217 currency code")
    try:
        minor = Decimal(str(amount)).scaleb(_EXPONENT.get(code, 2))
    except InvalidOperation:
        raise ValueError("expected a decimal amount") from None
    if not minor.is_finite() or minor != minor.to_integral_value():
        raise ValueError("an amount finer than the currency's minor unit")
    return Money(amount_minor=int(minor), currency=code)


def next_page(body: Mapping[str, Any], page: int, returned: int, page_size: int) -> int | None:
    """The page after ``page``, or None on the last: Xero's ``pagination`` block, else a short page."""
    pagination = body.get("pagination")
    if isinstance(pagination, Mapping):
        count = pagination.get("pageCount")
        if isinstance(count, int) and not isinstance(count, bool):
            return page + 1 if count > page and returned > 0 else None
    return page + 1 if returned >= page_size else None


def connection_tenants(data: object) -> list[str]:
    """The organisation ids among ``GET /Connections``' answer (practices and others left out)."""
    if not isinstance(data, list):
        raise TypeError("expected a list of connections")
    found = []
    for item in data:
        connection = obj(item)
        if connection.get("tenantType") == "ORGANISATION":
            found.append(str(uuid.UUID(record_id(connection.get("tenantId")))))
    return found


def _phone_numbers(item: Mapping[str, Any], phone_e164: PhoneNormaliser) -> list[str]:
    """Each stored phone (country, area and number fields joined) that reads as a number, in E.164."""
    numbers = []
    phones = item.get("Phones")
    for entry in phones if isinstance(phones, list) else []:
        if not isinstance(entry, Mapping):
            continue
        parts = [text(entry.get(key)) or "" for key in ("PhoneAreaCode", "PhoneNumber")]
        local = " ".join(part for part in parts if part)
        if not local:
            continue
        country = text(entry.get("PhoneCountryCode"))
        raw = f"+{country.lstrip('+')} {local}" if country and country.lstrip("+").isdigit() else local
        e164 = phone_e164(raw)
        if e164 is not None and e164 not in numbers:
            numbers.append(e164)
    return numbers


def matches_phone(item: Mapping[str, Any], caller: str, phone_e164: PhoneNormaliser) -> bool:
    """Whether one of the contact's stored phones is the caller's number (exactly, in E.164)."""
    return caller in _phone_numbers(item, phone_e164)


def contacts(data: object) -> list[Mapping[str, Any]]:
    return object_list(obj(data), "Contacts")


def customer(item: Mapping[str, Any], source: str, phone_e164: PhoneNormaliser) -> BillingCustomer:
    """A Xero contact. Its balance is left to get_balance: Xero reports it in the base currency."""
    receivable = _receivable(item)
    overdue = receivable.get("Overdue")
    delinquent = overdue > 0 if isinstance(overdue, int | float) and not isinstance(overdue, bool) else None
    numbers = _phone_numbers(item, phone_e164)
    return BillingCustomer(
        id=record_id(item.get("ContactID")),
        source=source,
        name=text(item.get("Name")),
        email=text(item.get("EmailAddress")),
        phone=numbers[0] if numbers else None,
        delinquent=delinquent,
    )


def _receivable(item: Mapping[str, Any]) -> Mapping[str, Any]:
    balances = item.get("Balances")
    receivable = balances.get("AccountsReceivable") if isinstance(balances, Mapping) else None
    return receivable if isinstance(receivable, Mapping) else {}


def balance(item: Mapping[str, Any], base_currency: str) -> Money:
    """What the contact owes the organisation (accounts receivable outstanding), in its base currency.

    A contact Xero reports no receivables for owes nothing.
    """
    found = to_money(_receivable(item).get("Outstanding", 0), base_currency)
    if found is None:
        raise ValueError("the contact's outstanding balance is null")
    return found


def invoice(item: Mapping[str, Any], source: str, today: date) -> Invoice:
    """A sales invoice; an approved one with money due past its due date is overdue."""
    currency = item.get("CurrencyCode")
    status = item.get("Status")
    mapped = _INVOICE_STATUS.get(status, InvoiceStatus.UNKNOWN) if isinstance(status, str) else None
    due = _day(item.get("DueDate"))
    amount_due = to_money(item.get("AmountDue"), currency)
    if mapped is InvoiceStatus.OPEN and due is not None and due < today and _owed(amount_due):
        mapped = InvoiceStatus.OVERDUE
    return Invoice(
        id=record_id(item.get("InvoiceID")),
        source=source,
        number=text(item.get("InvoiceNumber")),
        status=mapped or InvoiceStatus.UNKNOWN,
        amount_due=amount_due,
        total=to_money(item.get("Total"), currency),
        due_date=due,
        created_at=ms_date(item.get("Date")),
    )


def _owed(amount: Money | None) -> bool:
    return amount is not None and amount.amount_minor > 0


def invoice_rank(item: Invoice) -> tuple[int, float]:
    """Sort key: overdue, then open, then the rest; newest first within each group."""
    created = item.created_at.timestamp() if item.created_at is not None else float("-inf")
    return (_RANK.get(item.status, 2), -created)


def subscription(item: Mapping[str, Any], source: str, today: date) -> Subscription:
    """A repeating invoice: Xero's recurring billing of a contact (see the connector's docstring)."""
    schedule = item.get("Schedule")
    schedule = schedule if isinstance(schedule, Mapping) else {}
    status = item.get("Status")
    mapped = _REPEATING_STATUS.get(status, SubscriptionStatus.UNKNOWN) if isinstance(status, str) else None
    end = _day(schedule.get("EndDate"))
    if mapped is SubscriptionStatus.ACTIVE and end is not None and end < today:
        mapped = SubscriptionStatus.CANCELED  # the schedule has run out
    next_run = ms_date(schedule.get("NextScheduledDate"))
    lines = item.get("LineItems")
    first = lines[0] if isinstance(lines, list) and lines and isinstance(lines[0], Mapping) else {}
    return Subscription(
        id=record_id(item.get("RepeatingInvoiceID")),
        source=source,
        status=mapped or SubscriptionStatus.UNKNOWN,
        plan_name=text(first.get("Description")) or text(item.get("Reference")),
        amount=to_money(item.get("Total"), item.get("CurrencyCode")),
        current_period_end=next_run,
        cancel_at_period_end=None if end is None or next_run is None else end <= next_run.date(),
    )
