"""What a policy decides for each model class, and what each value is: worked out once per process.

A rendering visits a few dozen records, each of a handful of classes, under
one of a handful of tenant policies. Which fields a class has, which are
marked sensitive, which a policy drops, masks or keeps, and how a value of a
given type renders are the same every time, so they are decided once here and
the renderer (:mod:`sdk._call._render`) only applies them. Nothing here holds
a value: class names, field names and actions only, so sharing it across
renderings and conversations shares no customer data.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from enum import Enum
from functools import cache
from typing import Final

from pydantic import BaseModel

from sdk._call._policy import SHARED_MODELS, FieldAction, LLMPolicy
from sdk._models import Money, Sensitive, SharedModel, sensitivity_of
from sdk._redaction import RedactionAction

__all__ = [
    "DATE",
    "DATETIME",
    "ENUM",
    "KINDS",
    "MAPPING",
    "MODEL",
    "MONEY",
    "NUMBER",
    "PASS",
    "SEQUENCE",
    "STR",
    "UNKNOWN",
    "FieldRule",
    "PolicyRules",
    "Steps",
    "kind_of",
    "policy_rules",
]

# What a value is, decided once per type, in the order the renderer has always checked:
# None and bools, enums (before str: a StrEnum is a str), str, numbers, datetimes (before dates),
# dates and times, Money (before other models), models, mappings, sequences.
PASS, ENUM, STR, NUMBER, DATETIME, DATE, MONEY, MODEL, MAPPING, SEQUENCE, UNKNOWN = range(1, 12)
KINDS: Final[dict[type, int]] = {}
"""Kind per type seen; read directly on the hot path (a miss goes through :func:`kind_of`).
Kinds start at 1, so ``KINDS.get(cls) or kind_of(cls)`` reads it."""


def kind_of(cls: type) -> int:
    """The kind of a value of type ``cls`` (remembered, except ``UNKNOWN``: refused every time)."""
    checks: tuple[tuple[int, type | tuple[type, ...]], ...] = (
        (PASS, (type(None), bool)),
        (ENUM, Enum),
        (STR, str),
        (NUMBER, (int, float, Decimal)),
        (DATETIME, datetime),
        (DATE, (date, time)),
        (MONEY, Money),
        (MODEL, BaseModel),
        (MAPPING, Mapping),
        (SEQUENCE, (list, tuple, set, frozenset)),
    )
    for kind, types in checks:
        if issubclass(cls, types):
            KINDS[cls] = kind
            return kind
    return UNKNOWN


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


@dataclass(frozen=True, slots=True)
class FieldRule:
    """How one field of one model class renders under one policy."""

    name: str
    sensitivity: Sensitive | None
    action: FieldAction | None
    """The tenant's override from ``fields``; None: the default (by sensitivity, else keep)."""


Step = tuple[str, bool, bool, bool, Sensitive | None, FieldRule]
"""One field as one rendering reads it (a tuple: unpacked in the hot loop):
``(name, marked, plain, keep_text, shown_as, rule)``. A ``plain`` field renders as the
renderer's ``_view(item, shown_as)`` (no override masks it); with ``keep_text`` a string
value of it only goes through the free-text redactor. The others take their override
(``_field``). A dropped field, or one not asked for, has no step."""
Steps = tuple[bool, tuple[Step, ...]]
"""Whether a record of the class can be internal (it overrides ``is_internal``), and its steps."""


_STEPS_KEPT = 1024
"""Field selections remembered per policy; the renderers ask for a few dozen."""


def _may_be_internal(model: type[BaseModel]) -> bool:
    return issubclass(model, SharedModel) and model.is_internal is not SharedModel.is_internal


class PolicyRules:
    """One policy's decisions per model class and field selection."""

    __slots__ = ("_named", "_rules", "_steps", "internal", "keeps")

    def __init__(self, policy: LLMPolicy) -> None:
        self.internal = policy.internal_notes
        self.keeps = {s: policy.field_action(s) is RedactionAction.KEEP for s in Sensitive}
        """Per sensitivity: True when its values are only redacted as free text, not masked."""
        self._rules: dict[type[BaseModel], tuple[FieldRule, ...]] = {}
        self._steps: dict[tuple[object, ...], Steps] = {}
        self._named: dict[tuple[type[BaseModel], str], FieldRule] = {}

    def rules_of(self, model: type[BaseModel], fields: Mapping[str, FieldAction]) -> tuple[FieldRule, ...]:
        """``model``'s field rules; ``fields`` is the policy's (what this object was keyed by)."""
        found = self._rules.get(model)
        if found is None:
            shared = _shared_name(model)
            marks = _field_sensitivities(model)
            overrides = fields if shared is not None else {}
            found = self._rules[model] = tuple(
                FieldRule(name, marks[name], overrides.get(f"{shared}.{name}")) for name in model.model_fields
            )
        return found

    def rule(self, model: type[BaseModel], fields: Mapping[str, FieldAction], name: str) -> FieldRule:
        """The rule of ``model.name`` (a field the model has)."""
        found = self._named.get((model, name))
        if found is None:
            found = self._named[(model, name)] = next(
                rule for rule in self.rules_of(model, fields) if rule.name == name
            )
        return found

    def steps_of(
        self,
        model: type[BaseModel],
        policy_fields: Mapping[str, FieldAction],
        fields: Collection[str] | None,
        omit: Collection[str],
        inherited: Sensitive | None,
    ) -> Steps:
        """The steps for a record of ``model`` showing ``fields`` (all if None) but ``omit``."""
        try:
            key: tuple[object, ...] = (model, fields, omit, inherited)
            found = self._steps.get(key)
        except TypeError:  # an unhashable selection (a list) is worked out each time
            return self._work_out(model, policy_fields, fields, omit, inherited)
        if found is None:
            if len(self._steps) >= _STEPS_KEPT:  # selections come from code, so this is a backstop
                self._steps.clear()
            found = self._steps[key] = self._work_out(model, policy_fields, fields, omit, inherited)
        return found

    def _work_out(
        self,
        model: type[BaseModel],
        policy_fields: Mapping[str, FieldAction],
        fields: Collection[str] | None,
        omit: Collection[str],
        inherited: Sensitive | None,
    ) -> Steps:
        steps: list[Step] = []
        for rule in self.rules_of(model, policy_fields):
            if (fields is not None and rule.name not in fields) or rule.name in omit or rule.action == "drop":
                continue
            marked = rule.sensitivity is not None
            if rule.action is None or rule.action == "keep":
                shown_as = None if rule.action == "keep" else rule.sensitivity or inherited
                keep_text = shown_as is None or self.keeps[shown_as]
                steps.append((rule.name, marked, True, keep_text, shown_as, rule))
            else:
                steps.append((rule.name, marked, False, False, None, rule))
        return _may_be_internal(model), tuple(steps)


_POLICY_RULES: dict[tuple[object, ...], PolicyRules] = {}
_POLICY_RULES_KEPT = 256
"""Distinct policies remembered; a process serves a few tenants' policies, so this is rarely reached."""


def policy_rules(policy: LLMPolicy) -> PolicyRules:
    """The decisions of ``policy``, shared by every rendering under an equal policy."""
    # Keyed by what the decisions read, not by the policy object: a policy edited in place
    # (its ``fields`` dict is mutable) gets decisions of its own, never stale ones.
    key = (policy.pii, policy.pci, policy.health, policy.internal_notes, tuple(policy.fields.items()))
    found = _POLICY_RULES.get(key)
    if found is None:
        if len(_POLICY_RULES) >= _POLICY_RULES_KEPT:
            _POLICY_RULES.clear()
        found = _POLICY_RULES[key] = PolicyRules(policy)
    return found
