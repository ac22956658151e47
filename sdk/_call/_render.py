"""Applying a tenant's policy to SDK data before a language model sees it (S6).

Two layers, both always on:

1. **Structured fields.** A field marked ``Sensitive.PII`` / ``PCI`` / ``HEALTH``
   in the shared models gets the tenant's action for that sensitivity: keep it,
   keep its last four characters, or mask it; the policy's ``fields`` rules
   override single fields.
2. **Free text.** Every string that survives step 1 (names, subjects, comment
   and note bodies, plan names, even ids) goes through :func:`sdk._redaction.redact`
   with the tenant's identifier policy, because what customers type into
   tickets and notes carries card numbers, national and health identifiers.

The stricter layer wins: a PII field the tenant keeps still has any card
number inside it masked. Types the renderer does not know are refused with
``TypeError`` rather than rendered with ``str()``: an unknown object's ``str``
can hold anything, a secret included.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from enum import Enum
from functools import cache

from pydantic import BaseModel, JsonValue

from sdk._call._policy import SHARED_MODELS, FieldAction, LLMPolicy
from sdk._models import Money, Sensitive, SharedModel, sensitivity_of
from sdk._redaction import RedactionAction, redact

__all__ = ["INTERNAL_WITHHELD", "LLMRenderer", "format_money", "inline", "mask_field"]


@cache
def _field_sensitivities(model: type[BaseModel]) -> dict[str, Sensitive | None]:
    """Each field's sensitivity, looked up once per model class."""
    return {name: sensitivity_of(model, name) for name in model.model_fields}


def _shared_name(model: type[BaseModel]) -> str | None:
    """The name a policy's ``fields`` keys use for ``model`` (its shared model's), or None."""
    for cls in model.__mro__:
        if SHARED_MODELS.get(cls.__name__) is cls:
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
_Shown = JsonValue | _Withheld

_ZERO_DECIMAL = frozenset(
    {"BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "UYI", "VND", "VUV"}
    | {"XAF", "XOF", "XPF"}
)
_THREE_DECIMAL = frozenset({"BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"})


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

    def view(self, value: object, sensitivity: Sensitive | None = None) -> JsonValue:
        """``value`` as JSON-able data; an internal record the policy drops is None."""
        shown = self._view(value, sensitivity)
        return None if isinstance(shown, _Withheld) else shown

    def record(
        self, value: BaseModel, fields: Collection[str] | None = None, *, omit: Collection[str] = ()
    ) -> dict[str, JsonValue] | None:
        """One record as a dict of its shown fields (only ``fields``, when given); None if withheld.

        Rendering only the fields a caller reads out saves redacting the rest;
        each field renders exactly as it would in the whole record.
        """
        shown = self._model(value, None, fields, omit)
        return None if isinstance(shown, _Withheld) else shown

    def field_view(self, value: object, model: type[SharedModel], field_name: str) -> JsonValue:
        """``value`` rendered as ``model.field_name`` would be; None when the policy drops that field.

        For an operation that returns one field of a record on its own
        (``get_balance`` is ``BillingCustomer.balance``), so that a tenant's
        rule for the field holds whichever way the value arrives.
        """
        rule = next(rule for rule in self._rules_of(model) if rule.name == field_name)
        if _empty(value) or rule.action == "drop":
            return None
        shown = self._field(value, rule, None)
        return None if isinstance(shown, _Withheld) else shown

    def shows_as_is(self, model: type[SharedModel], field_name: str) -> bool:
        """True when the policy shows ``model.field_name`` unchanged: no mark, no rule other than keep."""
        rule = next(rule for rule in self._rules_of(model) if rule.name == field_name)
        return rule.sensitivity is None and rule.action in (None, "keep")

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

    def _view(self, value: object, sensitivity: Sensitive | None) -> _Shown:
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
        if isinstance(value, BaseModel):
            return self._model(value, sensitivity, None, ())
        if isinstance(value, Mapping):
            rendered: dict[str, JsonValue] = {}
            for key, item in value.items():
                if not isinstance(key, str):
                    raise TypeError(
                        f"cannot render a mapping key of type {type(key).__name__} for a language model"
                    )
                shown = self._view(item, sensitivity)
                if not isinstance(shown, _Withheld):
                    rendered[self.text(key)] = shown
            return rendered
        if isinstance(value, (list, tuple, set, frozenset)):
            items = (self._view(item, sensitivity) for item in value)
            return [item for item in items if not isinstance(item, _Withheld)]
        raise TypeError(
            f"cannot render a {type(value).__name__} for a language model; pass shared models, "
            "lists, mappings or plain values"
        )

    def _model(
        self,
        value: BaseModel,
        sensitivity: Sensitive | None,
        fields: Collection[str] | None,
        omit: Collection[str],
    ) -> dict[str, JsonValue] | _Withheld:
        internal = isinstance(value, SharedModel) and value.is_internal()
        if internal and self.policy.internal_notes == "drop":
            return _WITHHELD
        # Under "mask" an internal record keeps its metadata; its marked fields are its text.
        withhold_text = internal and self.policy.internal_notes == "mask"
        out: dict[str, JsonValue] = {}
        for rule in self._rules_of(type(value)):
            if (fields is not None and rule.name not in fields) or rule.name in omit:
                continue
            item = getattr(value, rule.name)
            if _empty(item) or rule.action == "drop":
                continue
            if withhold_text and rule.sensitivity is not None:
                out[rule.name] = INTERNAL_WITHHELD
                continue
            shown = self._field(item, rule, sensitivity)
            # A list whose every item was withheld is left out like an empty one: no trace of them.
            if not isinstance(shown, _Withheld) and shown != []:
                out[rule.name] = shown
        return out

    def _field(self, item: object, rule: _FieldRule, inherited: Sensitive | None) -> _Shown:
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


def _scalar_text(value: JsonValue) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def inline(value: JsonValue) -> str:
    """One line of ``key value; key value`` for a view, nested values in parentheses."""
    if isinstance(value, dict):
        if set(value) == {"amount", "currency"}:
            return f"{value['currency']} {value['amount']}"
        return "; ".join(f"{key} {inline(item)}" for key, item in value.items())
    if isinstance(value, list):
        return (
            "["
            + ", ".join(f"({inline(item)})" if isinstance(item, dict) else inline(item) for item in value)
            + "]"
        )
    return _scalar_text(value)
