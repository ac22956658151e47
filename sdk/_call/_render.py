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

from collections.abc import Collection
from decimal import Decimal
from enum import Enum
from typing import Any, Final, cast

from pydantic import BaseModel, JsonValue

from sdk._call import _render_rules as rules
from sdk._call._policy import LLMPolicy
from sdk._call._render_rules import KINDS, FieldRule, kind_of, policy_rules
from sdk._models import Money, Sensitive, SharedModel
from sdk._redaction import RedactionAction, redact, redact_many

__all__ = ["INTERNAL_WITHHELD", "LLMRenderer", "format_money", "inline", "mask_field"]


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


class _Withheld:
    """An internal record the policy drops: it leaves no key, no list item and no placeholder."""


_WITHHELD = _Withheld()
_Shown = JsonValue | _Withheld


class _Unresolved:
    """Where a batched rendering's string goes until :meth:`LLMRenderer.resolve` redacts it.

    Never the raw string: a view read before it is resolved shows this object
    (which no JSON encoder accepts), never unredacted text.
    """

    __slots__ = ()

    def __repr__(self) -> str:
        return "<not yet redacted>"


_UNRESOLVED: Final = cast(JsonValue, _Unresolved())

_ZERO_DECIMAL = frozenset(
    {"BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "UYI", "VND", "VUV"}
    | {"XAF", "XOF", "XPF"}
)
_THREE_DECIMAL = frozenset({"BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"})
_EXACT_MINOR = 10**27


def _major(money: Money) -> str:
    """The amount in major units as a decimal string (``1250`` NZD cents is ``12.50``)."""
    code = money.currency.upper()
    places = 0 if code in _ZERO_DECIMAL else 3 if code in _THREE_DECIMAL else 2
    minor = money.amount_minor
    if places == 0:
        return str(minor)
    if -_EXACT_MINOR < minor < _EXACT_MINOR:
        # Integer arithmetic, the same digits as the Decimal below within its 28-digit precision.
        whole, cents = divmod(-minor if minor < 0 else minor, 10**places)
        return f"{'-' if minor < 0 else ''}{whole}.{cents:0{places}d}"
    return f"{Decimal(minor).scaleb(-places):.{places}f}"


def format_money(money: Money) -> str:
    """``NZD 12.50``: minor units confuse language models, which read ``1250`` as dollars."""
    return f"{money.currency.upper()} {_major(money)}"


def _enum_value(member: Enum) -> str | int:
    """A member of a closed vocabulary the SDK defines (a status, a priority): no customer text in it.

    Read through ``_value_``/``_name_`` (the attributes the ``value``/``name`` properties return)
    to save a property call per field.
    """
    value = member._value_
    return value if isinstance(value, (str, int)) else member._name_


def _empty(value: object) -> bool:
    return value is None or (isinstance(value, (tuple, list, dict, set, frozenset)) and not value)


class LLMRenderer:
    """One rendering under one policy; remembers each string it redacted.

    Records repeat themselves (a source id on every record, the same requester
    on every ticket), and redaction is the bulk of the cost of a rendering. The
    policy's decisions per model class are worked out once per process
    (:mod:`sdk._call._render_rules`); the redacted strings live only as long
    as this object, one rendering.
    """

    __slots__ = ("_decided", "_deferred", "_memo", "policy")

    def __init__(self, policy: LLMPolicy, *, batched: bool = False) -> None:
        """``batched``: put each record's strings off to one :meth:`resolve` (see there)."""
        self.policy = policy
        self._memo: dict[str, str] = {}
        self._decided = policy_rules(policy)
        self._deferred: list[tuple[dict[str, JsonValue], str, str]] | None = [] if batched else None

    def resolve(self) -> None:
        """Redact the strings a batched renderer put off, all in one ``redact_many`` call, in place.

        A batched renderer leaves a placeholder where a record's field holds
        text to redact (never the text itself), and this fills them all: one
        scan over every string of a rendering costs less than one per string.
        Read no value of a batched rendering before calling this.
        """
        deferred = self._deferred
        if not deferred:
            return
        memo = self._memo
        todo = list(dict.fromkeys(raw for _, _, raw in deferred if raw not in memo))
        if todo:
            memo.update(zip(todo, redact_many(todo, self.policy), strict=True))
        for view, name, raw in deferred:
            if view.get(name) is _UNRESOLVED:  # a key dropped since (a balance said once) stays dropped
                view[name] = memo[raw]
        deferred.clear()

    def text(self, value: str) -> str:
        found = self._memo.get(value)
        if found is None:
            found = self._memo[value] = redact(value, self.policy)
        return found

    def field(self, value: str, sensitivity: Sensitive) -> str:
        if self._decided.keeps[sensitivity]:
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
        rule = self._decided.rule(model, self.policy.fields, field_name)
        if _empty(value) or rule.action == "drop":
            return None
        shown = self._field(value, rule, None)
        return None if isinstance(shown, _Withheld) else shown

    def shows_as_is(self, model: type[SharedModel], field_name: str) -> bool:
        """True when the policy shows ``model.field_name`` unchanged: no mark, no rule other than keep."""
        rule = self._decided.rule(model, self.policy.fields, field_name)
        return rule.sensitivity is None and rule.action in (None, "keep")

    def _view(self, value: object, sensitivity: Sensitive | None) -> _Shown:
        cls = type(value)
        return self._view_as(value, KINDS.get(cls) or kind_of(cls), sensitivity)

    def _view_as(self, value: Any, kind: int, sensitivity: Sensitive | None) -> _Shown:
        """``value``, of ``kind`` (from :func:`~sdk._call._render_rules.kind_of`), as JSON-able data.

        ``value`` is typed ``Any``: its kind says what it is, and the hot path pays for no casts.
        """
        if kind == rules.STR:
            if sensitivity is None or self._decided.keeps[sensitivity]:
                return self.text(value)
            return mask_field(value, sensitivity, self.policy)
        if kind == rules.DATETIME:
            return value.isoformat(timespec="seconds")  # type: ignore[no-any-return]
        if kind == rules.ENUM:
            return _enum_value(value)
        if kind == rules.PASS:
            return value  # type: ignore[no-any-return]
        if kind == rules.MONEY:
            return {"amount": _major(value), "currency": value.currency.upper()}
        if kind == rules.MODEL:
            return self._model(value, sensitivity, None, ())
        if kind == rules.NUMBER:
            if sensitivity is not None and not self._decided.keeps[sensitivity]:
                return mask_field(str(value), sensitivity, self.policy)
            return str(value) if isinstance(value, Decimal) else value
        if kind == rules.DATE:
            return value.isoformat()  # type: ignore[no-any-return]
        if kind == rules.MAPPING:
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
        if kind == rules.SEQUENCE:
            items = (self._view(item, sensitivity) for item in value)
            return [item for item in items if not isinstance(item, _Withheld)]
        raise TypeError(
            f"cannot render a {type(value).__name__} for a language model; pass shared models, "
            "lists, mappings or plain values"
        )

    def _model(
        self,
        value: Any,
        sensitivity: Sensitive | None,
        fields: Collection[str] | None,
        omit: Collection[str],
    ) -> dict[str, JsonValue] | _Withheld:
        decided = self._decided
        may_be_internal, steps = decided.steps_of(type(value), self.policy.fields, fields, omit, sensitivity)
        internal = may_be_internal and value.is_internal()
        if internal and decided.internal == "drop":
            return _WITHHELD
        # Under "mask" an internal record keeps its metadata; its marked fields are its text.
        withhold_text = internal and decided.internal == "mask"
        out: dict[str, JsonValue] = {}
        memo, deferred = self._memo, self._deferred
        values = value.__dict__  # a pydantic model keeps its fields there; read once, not per field
        for name, marked, plain, keep_text, shown_as, rule in steps:
            item = values[name]
            if item is None:
                continue
            if withhold_text and marked:
                if not _empty(item):
                    out[name] = INTERNAL_WITHHELD
                continue
            cls = type(item)
            if not plain:
                if not _empty(item):
                    shown = self._field(item, rule, sensitivity)
                    if not isinstance(shown, _Withheld) and shown != []:
                        out[name] = shown
                continue
            # The common kinds inline (what _view_as does for them): most fields are one of these.
            if cls is str and keep_text:
                found = memo.get(item)
                if found is None:
                    if deferred is not None and item:  # "" stays "" (and falsy) without a scan
                        out[name] = _UNRESOLVED
                        deferred.append((out, name, item))
                        continue
                    found = memo[item] = redact(item, self.policy)
                out[name] = found
                continue
            kind = KINDS.get(cls) or kind_of(cls)
            if kind == rules.DATETIME:
                out[name] = item.isoformat(timespec="seconds")
            elif kind == rules.ENUM:
                out[name] = _enum_value(item)
            elif kind == rules.PASS:
                out[name] = item
            elif kind < rules.MAPPING or not _empty(item):
                shown = self._view_as(item, kind, shown_as)
                # A list whose every item was withheld is left out like an empty one: no trace of them.
                if not isinstance(shown, _Withheld) and shown != []:
                    out[name] = shown
        return out

    def _field(self, item: object, rule: FieldRule, inherited: Sensitive | None) -> _Shown:
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
    if type(value) is str:  # most of what a line reads out
        return value
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
