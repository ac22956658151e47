"""What a language model may see of SDK data: the tenant's redaction policy applied (S6).

Two layers, both always on:

1. **Structured fields.** A field marked ``Sensitive.PII`` / ``PCI`` / ``HEALTH``
   in the shared models gets the tenant's action for that sensitivity: keep it,
   keep its last four characters, or mask it.
2. **Free text.** Every string that survives step 1 (names, subjects, comment
   and note bodies, plan names, even ids) goes through :func:`sdk._redaction.redact`
   with the tenant's identifier policy, because what customers type into
   tickets and notes carries card numbers, national and health identifiers.

The stricter layer wins: a PII field the tenant keeps still has any card
number inside it masked.

:func:`llm_view` turns a shared model, a list of them, a mapping or a
:class:`~sdk.CustomerContext` into JSON-able data; :func:`llm_text` into
compact text; :func:`context_view` and :func:`context_text` are the
customer context's two renderings. Types they do not know are refused with ``TypeError`` rather
than rendered with ``str()``: an unknown object's ``str`` can hold anything,
a secret included.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from enum import Enum
from functools import cache
from typing import Any, Final, Literal, Protocol

from pydantic import BaseModel, Field, field_validator

from sdk import _models
from sdk._models import (
    BillingCustomer,
    Money,
    Sensitive,
    SharedModel,
    Ticket,
    TicketComment,
    TicketStatus,
    sensitivity_of,
)
from sdk._redaction import RedactionAction, RedactionPolicy, redact

__all__ = [
    "FieldAction",
    "InternalAction",
    "LLMPolicy",
    "LLMRenderable",
    "LLMRenderer",
    "context_text",
    "context_view",
    "format_money",
    "llm_field_view",
    "llm_text",
    "llm_view",
    "mask_field",
]


InternalAction = Literal["drop", "mask", "keep"]
"""What the model sees of internal records (agents' notes, internal ticket comments)."""
FieldAction = Literal["keep", "last4", "mask", "drop"]
"""What the model sees of one field of a shared model."""


def _configurable_models() -> dict[str, type[SharedModel]]:
    """The shared models whose fields a policy may name: every record type, not the ``Money`` value."""
    found: dict[str, type[SharedModel]] = {}
    for name in _models.__all__:
        item = getattr(_models, name)
        if isinstance(item, type) and issubclass(item, SharedModel) and item not in (SharedModel, Money):
            found[name] = item
    return found


_MODELS: Final = _configurable_models()
_FIXED_FIELDS: Final = frozenset({"TicketComment.public"})
"""Fields a policy may not change: without ``public`` a model would read an internal note as a reply."""


class LLMPolicy(RedactionPolicy):
    """A tenant's policy for everything handed to a language model (S6).

    It is a :class:`~sdk.RedactionPolicy` (``identifiers`` and ``phone_regions``
    govern identifiers found inside free text) plus what the model sees of
    structured data. Configured as ``[tenants.<id>.redaction]``::

        pii = "keep"      # names, emails, phone numbers, free text people wrote
        pci = "last4"     # payment card data
        health = "mask"   # health identifiers and information
        internal_notes = "drop"   # agents' notes and internal ticket comments
        identifiers = { card = "last4", nz_ird = "mask" }   # inside free text
        fields = { "Contact.email" = "mask", "Invoice.amount_due" = "drop" }

    The defaults keep PII because a voice agent must be able to greet the
    caller by name and read back the email on file; card data keeps only its
    last four characters, the part a caller quotes to confirm a card; health
    data is masked because an agent has no use for it on a phone line.

    Internal records (a :class:`~sdk.Note`, a :class:`~sdk.TicketComment`
    whose ``public`` is false) are dropped by default: staff write them for
    staff ("caller was abusive", "refund declined, do not offer again"), and a
    model that has read one can be talked into reading it out. Dropped means
    absent: no placeholder and no count, so the model does not learn they
    exist. ``mask`` keeps each record's metadata (visibility, date, author
    id) with its text replaced; ``keep`` hands it over like any other record,
    still through the free-text redactor.

    ``fields`` overrides the action for single fields of the shared models,
    named ``Model.field``; a field it does not name keeps its default (the
    sensitivity action for a marked field, ``keep`` for the rest). ``last4``
    on a field keeps the tail of a value of eight or more letters and digits
    and masks shorter ones. An unknown model or field is a configuration
    error naming the key. A kept field still goes through free-text
    redaction; whether an internal record is shown at all is
    ``internal_notes``'s decision, never a field's.

    Subclassing (rather than wrapping) the engine's policy means any setting
    the engine gains is configurable here without a change.
    """

    pii: RedactionAction = RedactionAction.KEEP
    pci: RedactionAction = RedactionAction.LAST4
    health: RedactionAction = RedactionAction.MASK
    internal_notes: InternalAction = Field(
        default="drop",
        description="Agents' notes and internal ticket comments: drop (default), mask their text, or keep.",
    )
    fields: dict[str, FieldAction] = Field(
        default_factory=dict,
        description='Per field of a shared model, e.g. {"Contact.email": "mask"}: keep, last4, mask or drop.',
    )

    @field_validator("fields", mode="after")
    @classmethod
    def _known_fields(cls, value: dict[str, FieldAction]) -> dict[str, FieldAction]:
        for key in value:
            model_name, dot, field_name = key.partition(".")
            model = _MODELS.get(model_name)
            if not dot or model is None:
                raise ValueError(
                    f"fields key {key!r} names no shared model: write Model.field, with Model one of "
                    + ", ".join(sorted(_MODELS))
                )
            if field_name not in model.model_fields:
                raise ValueError(
                    f"fields key {key!r}: {model_name} has no field {field_name!r} (its fields: "
                    + ", ".join(model.model_fields)
                    + ")"
                )
            if key in _FIXED_FIELDS:
                raise ValueError(
                    f"fields key {key!r} cannot be set: the model needs it to tell an internal note "
                    "from a public reply; use internal_notes to decide what it sees of them"
                )
        return value

    def field_action(self, sensitivity: Sensitive) -> RedactionAction:
        """The action for a structured field of ``sensitivity``."""
        if sensitivity is Sensitive.PII:
            return self.pii
        if sensitivity is Sensitive.PCI:
            return self.pci
        return self.health


_DEFAULT_POLICY = LLMPolicy()


class LLMRenderable(Protocol):
    """An object that knows how to render itself for a language model (a CustomerContext does)."""

    def __llm_view__(self, policy: LLMPolicy) -> Any: ...

    def __llm_text__(self, policy: LLMPolicy) -> str: ...


# --- structured fields ---------------------------------------------------------------------------


@cache
def _field_sensitivities(model: type[BaseModel]) -> dict[str, Sensitive | None]:
    """Each field's sensitivity, looked up once per model class."""
    return {name: sensitivity_of(model, name) for name in model.model_fields}


def _shared_name(model: type[BaseModel]) -> str | None:
    """The name a policy's ``fields`` keys use for ``model`` (its shared model's), or None."""
    for cls in model.__mro__:
        if _MODELS.get(cls.__name__) is cls:
            return cls.__name__
    return None


_FIELD_LABEL = {Sensitive.PII: "personal data", Sensitive.PCI: "card", Sensitive.HEALTH: "health data"}
_MIN_LAST4_SOURCE = 8
INTERNAL_WITHHELD = "[internal text withheld]"
"""What an internal record's text reads as under ``internal_notes = "mask"``."""


def _masked(value: str, label: str, *, last4: bool, card_tail: bool = False) -> str:
    if last4:
        tail = [char for char in value if char.isalnum()]
        if len(tail) >= _MIN_LAST4_SOURCE or card_tail:
            return f"[{label} ending {''.join(tail[-4:])}]"
    return f"[redacted {label}]"


def mask_field(value: str, sensitivity: Sensitive, policy: LLMPolicy) -> str:
    """Apply the tenant's action for a structured field of ``sensitivity``.

    A kept value still goes through free-text redaction: a name field can hold
    a card number as easily as a comment can. ``last4`` follows the engine's
    rule (the tail is kept only from values of eight or more letters and
    digits, so it never reveals half of a short value), with one exception:
    PCI data that is itself at most four digits is the tail of a card number
    already (``card_last4``), which PCI DSS allows to be shown.
    """
    action = policy.field_action(sensitivity)
    if action is RedactionAction.KEEP:
        return redact(value, policy)
    card_tail = sensitivity is Sensitive.PCI and value.isdigit() and len(value) <= 4
    return _masked(
        value, _FIELD_LABEL[sensitivity], last4=action is RedactionAction.LAST4, card_tail=card_tail
    )


@dataclass(frozen=True, slots=True)
class _FieldRule:
    """How one field of one model class renders under one policy."""

    name: str
    sensitivity: Sensitive | None
    action: FieldAction | None
    """The tenant's override from ``fields``; None: the default (by sensitivity, else keep)."""


class _Withheld:
    """An internal record the policy drops: it leaves no key, no list item and no placeholder."""


_WITHHELD = _Withheld()


# --- JSON-able view ------------------------------------------------------------------------------

_ZERO_DECIMAL = frozenset(
    [
        "BIF",
        "CLP",
        "DJF",
        "GNF",
        "ISK",
        "JPY",
        "KMF",
        "KRW",
        "PYG",
        "RWF",
        "UGX",
        "UYI",
        "VND",
        "VUV",
        "XAF",
        "XOF",
        "XPF",
    ]
)
_THREE_DECIMAL = frozenset(["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"])


def _major(money: Money) -> str:
    """The amount in major units as a decimal string (``1250`` NZD cents is ``12.50``)."""
    code = money.currency.upper()
    places = 0 if code in _ZERO_DECIMAL else 3 if code in _THREE_DECIMAL else 2
    if places == 0:
        return str(money.amount_minor)
    return f"{Decimal(money.amount_minor).scaleb(-places):.{places}f}"


def format_money(money: Money) -> str:
    """``NZD 12.50``: minor units confuse language models, which read ``1250`` as dollars."""
    return f"{money.currency.upper()} {_major(money)}"


def _empty(value: object) -> bool:
    return value is None or (isinstance(value, (tuple, list, dict, set, frozenset)) and not value)


class LLMRenderer:
    """One rendering under one policy; remembers each string it redacted and each model's field rules.

    Records repeat themselves (a source id on every record, the same requester
    on every ticket), and redaction is the bulk of the cost of a rendering.
    """

    __slots__ = ("_memo", "_rules", "policy")

    def __init__(self, policy: LLMPolicy) -> None:
        self.policy = policy
        self._memo: dict[str, str] = {}
        self._rules: dict[type[BaseModel], tuple[_FieldRule, ...]] = {}

    def text(self, value: str) -> str:
        found = self._memo.get(value)
        if found is None:
            found = self._memo[value] = redact(value, self.policy)
        return found

    def field(self, value: str, sensitivity: Sensitive) -> str:
        if self.policy.field_action(sensitivity) is RedactionAction.KEEP:
            return self.text(value)
        return mask_field(value, sensitivity, self.policy)

    def view(self, value: Any, sensitivity: Sensitive | None = None) -> Any:
        """``value`` as JSON-able data; an internal record the policy drops is None."""
        shown = self._view(value, sensitivity)
        return None if shown is _WITHHELD else shown

    def field_view(self, value: Any, model: type[SharedModel], field_name: str) -> Any:
        """``value`` rendered as ``model.field_name`` would be; None when the policy drops that field.

        For an operation that returns one field of a record on its own
        (``get_balance`` is ``BillingCustomer.balance``), so that a tenant's
        rule for the field holds whichever way the value arrives.
        """
        rule = next(rule for rule in self._rules_of(model) if rule.name == field_name)
        if _empty(value) or rule.action == "drop":
            return None
        shown = self._field(value, rule, None)
        return None if shown is _WITHHELD else shown

    def _rules_of(self, model: type[BaseModel]) -> tuple[_FieldRule, ...]:
        found = self._rules.get(model)
        if found is None:
            shared = _shared_name(model)
            marks = _field_sensitivities(model)
            overrides = self.policy.fields if shared is not None else {}
            found = self._rules[model] = tuple(
                _FieldRule(name, marks[name], overrides.get(f"{shared}.{name}"))
                for name in model.model_fields
            )
        return found

    def _view(self, value: Any, sensitivity: Sensitive | None) -> Any:
        if value is None or isinstance(value, bool):
            return value
        if isinstance(value, Enum):
            # Closed vocabularies the SDK defines (statuses, priorities): no customer text in them.
            return value.value if isinstance(value.value, (str, int)) else value.name
        if isinstance(value, str):
            return self.text(value) if sensitivity is None else self.field(value, sensitivity)
        if isinstance(value, (int, float, Decimal)):
            if sensitivity is not None and self.policy.field_action(sensitivity) is not RedactionAction.KEEP:
                return mask_field(str(value), sensitivity, self.policy)
            return str(value) if isinstance(value, Decimal) else value
        if isinstance(value, datetime):
            return value.isoformat(timespec="seconds")
        if isinstance(value, (date, time)):
            return value.isoformat()
        if isinstance(value, Money):
            return {"amount": _major(value), "currency": value.currency.upper()}
        renders = getattr(type(value), "__llm_view__", None)
        if renders is not None:
            return renders(value, self.policy)
        if isinstance(value, BaseModel):
            return self._model(value, sensitivity)
        if isinstance(value, Mapping):
            rendered: dict[str, Any] = {}
            for key, item in value.items():
                if not isinstance(key, str):
                    raise TypeError(
                        f"cannot render a mapping key of type {type(key).__name__} for a language model"
                    )
                shown = self._view(item, sensitivity)
                if shown is not _WITHHELD:
                    rendered[self.text(key)] = shown
            return rendered
        if isinstance(value, (list, tuple, set, frozenset)):
            items = (self._view(item, sensitivity) for item in value)
            return [item for item in items if item is not _WITHHELD]
        raise TypeError(
            f"cannot render a {type(value).__name__} for a language model; pass shared models, "
            "lists, mappings or plain values"
        )

    def _model(self, value: BaseModel, sensitivity: Sensitive | None) -> Any:
        internal = isinstance(value, SharedModel) and value.is_internal()
        if internal and self.policy.internal_notes == "drop":
            return _WITHHELD
        # Under "mask" an internal record keeps its metadata; its marked fields are its text.
        withhold_text = internal and self.policy.internal_notes == "mask"
        out: dict[str, Any] = {}
        for rule in self._rules_of(type(value)):
            item = getattr(value, rule.name)
            if _empty(item) or rule.action == "drop":
                continue
            if withhold_text and rule.sensitivity is not None:
                out[rule.name] = INTERNAL_WITHHELD
                continue
            shown = self._field(item, rule, sensitivity)
            # A list whose every item was withheld is left out like an empty one: no trace of them.
            if shown is not _WITHHELD and shown != []:
                out[rule.name] = shown
        return out

    def _field(self, item: Any, rule: _FieldRule, inherited: Sensitive | None) -> Any:
        if rule.action is None:
            return self._view(item, rule.sensitivity or inherited)
        if rule.action == "keep":
            return self._view(item, None)
        sensitivity = rule.sensitivity or inherited
        label = _FIELD_LABEL[sensitivity] if sensitivity is not None else rule.name.replace("_", " ")
        if isinstance(item, (str, int, float, Decimal)) and not isinstance(item, bool):
            text = str(item.value) if isinstance(item, Enum) else str(item)
            card_tail = sensitivity is Sensitive.PCI and text.isdigit() and len(text) <= 4
            return _masked(text, label, last4=rule.action == "last4", card_tail=card_tail)
        return f"[redacted {label}]"


def llm_view(value: Any, policy: LLMPolicy | None = None) -> Any:
    """Return ``value`` as JSON-able data (dict, list, str, int, float, bool, None), redacted.

    Pass the tenant's policy (``TenantConfig.redaction``); without one the
    defaults apply. Shared models become dicts without their empty fields and
    without the fields the policy drops; internal records (agents' notes,
    internal comments) are left out unless the policy opts in, and one passed
    on its own renders as None; money becomes
    ``{"amount": "12.50", "currency": "NZD"}``; datetimes ISO 8601 strings;
    enums their values. Raises ``TypeError`` for a type it does not know.
    """
    return LLMRenderer(policy or _DEFAULT_POLICY).view(value)


def llm_field_view(
    value: Any, model: type[SharedModel], field_name: str, policy: LLMPolicy | None = None
) -> Any:
    """Render ``value`` as the field ``model.field_name`` (see :meth:`LLMRenderer.field_view`)."""
    return LLMRenderer(policy or _DEFAULT_POLICY).field_view(value, model, field_name)


# --- compact text ------------------------------------------------------------------------------


def _scalar_text(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _inline(value: Any) -> str:
    """One line of ``key value; key value`` for a view, nested values in parentheses."""
    if isinstance(value, dict):
        if set(value) == {"amount", "currency"}:
            return f"{value['currency']} {value['amount']}"
        return "; ".join(f"{key} {_inline(item)}" for key, item in value.items())
    if isinstance(value, list):
        return (
            "["
            + ", ".join(f"({_inline(item)})" if isinstance(item, dict) else _inline(item) for item in value)
            + "]"
        )
    return _scalar_text(value)


def llm_text(value: Any, policy: LLMPolicy | None = None) -> str:
    """Return ``value`` as compact text for a prompt: one line per record, redacted like :func:`llm_view`."""
    policy = policy or _DEFAULT_POLICY
    renders = getattr(type(value), "__llm_text__", None)
    if renders is not None:
        text: str = renders(value, policy)
        return text
    view = LLMRenderer(policy).view(value)
    if isinstance(value, (list, tuple, set, frozenset)):
        if not view:
            return "(none)"
        return "\n".join(f"- {_inline(item)}" for item in view)
    if view is None:
        return "(none)"  # nothing, or an internal record the policy withholds: the same words
    if isinstance(value, BaseModel):
        return f"{type(value).__name__}: {_inline(view)}"
    return _inline(view)


# --- the customer context ------------------------------------------------------------------------
#
# The context (sdk._customer_context) hands over (SourceResult, SourceRecords) pairs; they are read by
# attribute here so that this module does not import the one that imports it.

COMMENTS_SHOWN = 3
"""Newest comments of a detailed ticket handed to the model; older ones stay in the records."""
COMMENT_CHARS = 280
"""Longest comment excerpt in the text rendering (cut after redaction, never before)."""

_CATEGORY_LABEL = {"crm": "CRM", "ticketing": "Tickets", "billing": "Billing"}
_LOOKED_FOR = {"crm": "contact", "ticketing": "ticket", "billing": "billing customer"}
_OPEN_TICKET = frozenset(s.value for s in TicketStatus if s.is_open)


def _trim_ticket(ticket: Ticket, policy: LLMPolicy) -> Ticket:
    """The newest comments the model is shown: dropped internal ones do not take a public one's place."""
    comments: tuple[TicketComment, ...] = ticket.comments
    if policy.internal_notes == "drop":
        comments = tuple(comment for comment in comments if not comment.is_internal())
    if len(comments) > COMMENTS_SHOWN:
        comments = comments[-COMMENTS_SHOWN:]
    return ticket if comments == ticket.comments else ticket.model_copy(update={"comments": comments})


def _without_source(value: Any) -> Any:
    """Drop each record's ``source``: the records are grouped by source already, and tokens cost latency."""
    if isinstance(value, dict):
        return {k: _without_source(v) for k, v in value.items() if k != "source"}
    if isinstance(value, list):
        return [_without_source(v) for v in value]
    return value


def _source_view(result: Any, records: Any, renderer: LLMRenderer) -> dict[str, Any]:
    view: dict[str, Any] = {
        "category": result.category.value,
        "connector": result.connector,
        "status": result.status.value,
    }
    if result.error is not None:
        view["error"] = result.error
    candidates = records.contact_candidates or records.customer_candidates
    if result.status.value == "ambiguous" and candidates:
        view["candidates"] = renderer.view(candidates)
    shown = records.model_copy(
        update={
            "tickets": tuple(_trim_ticket(t, renderer.policy) for t in records.tickets),
            "contact_candidates": (),
            "customer_candidates": (),
        }
    )
    view.update(renderer.view(shown))
    if records.balance is not None:
        # The source's balance is the customer's: the tenant's rule for BillingCustomer.balance holds.
        balance = renderer.field_view(records.balance, BillingCustomer, "balance")
        if balance is None:
            view.pop("balance", None)
        else:
            view["balance"] = balance
    if "balance" in view and isinstance(view.get("customer"), dict):
        view["customer"].pop("balance", None)  # said once, at the top of the source
    trimmed: dict[str, Any] = _without_source(view)
    return trimmed


def context_view(pairs: Sequence[tuple[Any, Any]], policy: LLMPolicy) -> dict[str, Any]:
    """The JSON form of a customer context: per source its status and its redacted records."""
    renderer = LLMRenderer(policy)
    return {
        "sources": {result.integration: _source_view(result, records, renderer) for result, records in pairs}
    }


def _status_phrase(result: Any) -> str:
    status, category, error = result.status.value, result.category.value, result.error
    if status == "ok":
        return "ok"
    if status == "not_found":
        return f"not found (no {_LOOKED_FOR.get(category, 'record')} matches the caller)"
    if status == "ambiguous":
        if category == "ticketing":
            return (
                f"ambiguous: {result.candidates} candidates "
                "(tickets of several requesters; ask who is calling)"
            )
        return f"ambiguous: {result.candidates} candidates (do not assume which one; ask the caller)"
    if status == "unsupported":
        return "unsupported (the connector offers no lookup)"
    words = status.replace("_", " ")
    return f"{words} ({error})" if error else words


def _fields(view: dict[str, Any], *names: str) -> str:
    parts = []
    for name in names:
        if name in view:
            parts.append(f"{name.replace('_', ' ')} {_inline(view[name])}")
    return "; ".join(parts)


def _one_line(text: str, limit: int) -> str:
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _balance_text(value: Any) -> str:
    if not isinstance(value, dict):
        return f"balance {_inline(value)}"  # masked by the tenant's policy
    currency, amount = value["currency"], value["amount"]
    if amount.startswith("-"):
        return f"in credit {currency} {amount[1:]}"
    if not amount.strip("0."):
        return f"balance {currency} {amount} (nothing owed)"
    return f"owes {currency} {amount}"


def _ticket_lines(tickets: list[dict[str, Any]]) -> Iterator[str]:
    open_count = sum(1 for t in tickets if t.get("status") in _OPEN_TICKET)
    yield f"  {len(tickets)} recent ticket(s), {open_count} open:"
    for ticket in tickets:
        head = f"  - #{ticket.get('id', '?')} {ticket.get('status', 'unknown')}"
        if ticket.get("priority") not in (None, "unknown"):
            head += f", {ticket['priority']} priority"
        if "subject" in ticket:
            head += f": {_one_line(ticket['subject'], 120)}"
        updated = str(ticket.get("updated_at") or ticket.get("created_at") or "")[:10]
        if updated:
            head += f" (updated {updated})"
        yield head
        for comment in ticket.get("comments", []):
            kind = "public reply" if comment.get("public") is True else "internal note"
            when = str(comment.get("created_at", ""))[:10]
            yield f"      {kind} {when}: {_one_line(comment.get('body', ''), COMMENT_CHARS)}"


def _billing_lines(view: dict[str, Any]) -> Iterator[str]:
    if "customer" in view:
        customer = view["customer"]
        line = "  customer: " + _fields(customer, "name", "email", "phone", "card_last4")
        if customer.get("delinquent") is True:
            line += "; delinquent"
        yield line
    if "balance" in view:
        yield "  " + _balance_text(view["balance"])
    for invoice in view.get("invoices", []):
        name = invoice.get("number") or invoice.get("id", "?")
        line = f"  - invoice {name}: {invoice.get('status', 'unknown')}"
        if "amount_due" in invoice:
            line += f", {_inline(invoice['amount_due'])} owing"
            if "total" in invoice:
                line += f" of {_inline(invoice['total'])}"
        elif "total" in invoice:
            line += f", total {_inline(invoice['total'])}"
        if "due_date" in invoice:
            line += f", due {invoice['due_date']}"
        yield line
    for subscription in view.get("subscriptions", []):
        line = f"  - subscription {subscription.get('plan_name') or subscription.get('id', '?')}: "
        line += subscription.get("status", "unknown")
        if "amount" in subscription:
            line += f", {_inline(subscription['amount'])}"
        if "current_period_end" in subscription:
            line += f", period ends {str(subscription['current_period_end'])[:10]}"
        if subscription.get("cancel_at_period_end") is True:
            line += ", cancels at period end"
        yield line


def _source_lines(result: Any, view: dict[str, Any]) -> Iterator[str]:
    name = result.integration
    if result.connector != name:
        name += f" ({result.connector})"
    label = _CATEGORY_LABEL.get(result.category.value, result.category.value)
    yield f"{label} {name}: {_status_phrase(result)}"
    for candidate in view.get("candidates", []):
        yield "  candidate: " + _fields(candidate, "name", "email", "phone", "id")
    if "contact" in view:
        yield "  contact: " + _fields(view["contact"], "name", "email", "phone")
    if "account" in view:
        yield "  account: " + _fields(view["account"], "name", "domain", "industry", "phone")
    if view.get("tickets"):
        yield from _ticket_lines(view["tickets"])
    yield from _billing_lines(view)


def context_text(pairs: Sequence[tuple[Any, Any]], policy: LLMPolicy) -> str:
    """The text form of a customer context: a status line per source, a few lines of records under it.

    Every status is said in words ("not found", "ambiguous: 2 candidates",
    "timed out"), so a model never mistakes a source that did not answer for
    a caller who has nothing there.
    """
    renderer = LLMRenderer(policy)
    lines = [f"Caller context from {len(pairs)} source(s):"]
    if not pairs:
        lines.append("- no integrations are configured for this tenant")
    for result, records in pairs:
        lines.extend(_source_lines(result, _source_view(result, records, renderer)))
    return "\n".join(lines)
