"""Chargebee list filters: ``field[operator]=value`` query parameters.

Chargebee's list endpoints (API v2) filter by query parameters named
``email[is]``, ``id[in]``, ``first_name[starts_with]``... A filter is a
parameter *name* built from the connector's field and operator, never from the
caller, and a parameter *value* that the HTTP client percent-encodes, so a
value holding ``&``, ``=`` or ``[`` cannot add a parameter or change the
operator. List operands (``in``, ``not_in``) are sent as Chargebee writes them,
``["a","b"]``; an element may not hold ``"``, ``,``, ``[``, ``]`` or ``\\``,
so it cannot end early or add an element however the list is read.
:func:`merge` refuses two filters under the same name instead of letting one
silently replace the other.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal, NewType, get_args

from sdk._errors import UsageError
from sdk._querylang._text import check_field, check_value, refuse

__all__ = ["MAX_LIST", "FilterParams", "merge", "params", "params_in", "presence"]

LANGUAGE = "Chargebee filter"
MAX_LIST = 50

FilterParams = NewType("FilterParams", dict[str, str])
"""Query parameters of one or more filters, ready for ``params=``."""

ScalarOperator = Literal["is", "is_not", "starts_with", "after", "before", "on", "lt", "lte", "gt", "gte"]
_SCALAR = frozenset(get_args(ScalarOperator))
_LIST_UNSAFE = frozenset('",[]\\')


def _name(field: str, operator: str) -> str:
    return f"{check_field(field, LANGUAGE)}[{operator}]"


def params(field: str, operator: ScalarOperator, value: str, *, argument: str | None = None) -> FilterParams:
    """Return ``{"field[operator]": value}``: one filter on one value."""
    if operator not in _SCALAR:
        raise UsageError("not a Chargebee filter operator that takes one value")
    text = check_value(value, language=LANGUAGE, argument=argument)
    return FilterParams({_name(field, operator): text})


def params_in(
    field: str,
    values: Iterable[str],
    *,
    operator: Literal["in", "not_in"] = "in",
    argument: str | None = None,
) -> FilterParams:
    """Return ``{"field[in]": '["a","b"]'}``: one filter on a list of one to :data:`MAX_LIST` values."""
    if operator not in ("in", "not_in"):
        raise UsageError("a Chargebee list filter operator is in or not_in")
    elements: list[str] = []
    for value in values:
        text = check_value(value, language=LANGUAGE, argument=argument, syntax=_LIST_UNSAFE)
        if any(char in _LIST_UNSAFE for char in text):
            raise refuse(argument, 'contains a character a Chargebee list value cannot hold (" , [ ] or \\)')
        elements.append(text)
    if not 1 <= len(elements) <= MAX_LIST:
        raise UsageError(f"a Chargebee list filter holds between 1 and {MAX_LIST} values")
    return FilterParams({_name(field, operator): "[" + ",".join(f'"{e}"' for e in elements) + "]"})


def presence(field: str, present: bool) -> FilterParams:
    """Return ``{"field[is_present]": "true"|"false"}``."""
    return FilterParams({_name(field, "is_present"): "true" if present else "false"})


def merge(*filters: FilterParams) -> FilterParams:
    """Return all ``filters`` as one set of parameters; two filters under one name are a UsageError."""
    merged: dict[str, str] = {}
    for one in filters:
        for name, value in one.items():
            if name in merged:
                raise UsageError("two Chargebee filters under the same parameter name")
            merged[name] = value
    return FilterParams(merged)
