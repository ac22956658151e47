"""Intercom's search query object, built as a JSON structure (never as text).

``POST /contacts/search`` and ``POST /conversations/search`` take a small query
language as JSON: a filter is ``{"field": ..., "operator": ..., "value": ...}``
and filters combine as ``{"operator": "AND" | "OR", "value": [filters]}``
(Intercom allows 2 levels of nesting and 15 filters per group). Because the
structure is JSON, a caller's value stays one JSON string whatever it holds;
what no encoding can make harmless (control and invisible characters, blank or
overlong values, confusables that normalise into quotes) is refused here with
``InvalidArgumentsError`` by :func:`sdk.querylang.check_value`, the same rule
every other query language in the SDK applies.

Fields and operators are the connector's own constants (``Literal``), never a
caller's: only ``value`` can carry caller input.
"""

from __future__ import annotations

from typing import Literal, TypeAlias, TypedDict

from sdk.querylang import check_value

__all__ = ["Filter", "Group", "all_of", "any_of", "equals", "newer_than"]

Field: TypeAlias = Literal["email", "phone", "contact_ids", "updated_at"]
MAX_FILTERS = 15  # Intercom's limit per AND/OR group
_LANGUAGE = "Intercom search"


class Filter(TypedDict):
    """One condition: ``{"field": "email", "operator": "=", "value": "a@b.example"}``."""

    field: Field
    operator: Literal["=", ">"]
    value: str | int


class Group(TypedDict):
    """Conditions joined by AND or OR."""

    operator: Literal["AND", "OR"]
    value: list[Filter]


def equals(field: Field, value: str, *, argument: str) -> Filter:
    """``field = value``, with ``value`` checked to be one literal (named ``argument`` in errors)."""
    return {
        "field": field,
        "operator": "=",
        "value": check_value(value, language=_LANGUAGE, argument=argument),
    }


def newer_than(field: Literal["updated_at"], unix_seconds: int) -> Filter:
    """``field > unix_seconds``: Intercom compares dates by calendar day in the workspace's zone."""
    return {"field": field, "operator": ">", "value": int(unix_seconds)}


def _group(operator: Literal["AND", "OR"], filters: list[Filter]) -> Group:
    if not filters or len(filters) > MAX_FILTERS:
        raise ValueError(f"an Intercom {operator} group holds 1 to {MAX_FILTERS} filters")
    return {"operator": operator, "value": filters}


def any_of(*filters: Filter) -> Group:
    """Match any of ``filters`` (an OR group; duplicates are dropped, order kept)."""
    unique: list[Filter] = []
    for item in filters:
        if item not in unique:
            unique.append(item)
    return _group("OR", unique)


def all_of(*filters: Filter) -> Group:
    """Match all of ``filters`` (an AND group)."""
    return _group("AND", list(filters))
