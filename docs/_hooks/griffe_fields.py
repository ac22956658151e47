"""A griffe extension run after ``griffe_pydantic``: every field shows its real default and limits.

``griffe_pydantic`` turns each field of a pydantic model into an attribute with its type, its
default and its ``Field(description=...)`` as the docstring. Two things it leaves out matter to
someone writing a configuration file:

* **A ``default_factory`` default reads as "required".** ``tenants: dict[...] =
  Field(default_factory=dict)`` would render as ``tenants: dict[...]``; it renders as
  ``tenants: dict[...] = {}`` (``LLMPolicy()`` for a model factory).
* **A field typed ``Annotated[..., Field(discriminator=...)] = Field(default_factory=...,
  description=...)`` loses its assigned ``Field``:** ``griffe_pydantic`` reads only the one inside
  ``Annotated``. The assigned call is kept when the attribute is visited, and its default and
  description are used when ``griffe_pydantic`` found none.
* **Limits are invisible.** ``ge``, ``le``, ``pattern``, ``min_length`` and the like are appended
  to the field's description as one line, so the reference says which values load.

Loaded by mkdocstrings from ``mkdocs.yml`` (``extensions:``); ``tests/docs/test_reference.py``
loads it the same way to check that every configuration key and shared-model field is documented.
"""

from __future__ import annotations

import ast
from typing import Any

import griffe

_LITERAL_FACTORIES = {"dict": "{}", "list": "[]", "tuple": "()", "set": "set()", "frozenset": "frozenset()"}
_LIMITS = ("gt", "ge", "lt", "le", "min_length", "max_length", "pattern", "multiple_of")


def factory_default(factory: Any) -> str:
    """What ``default_factory=FACTORY`` produces, written as code: ``{}`` for ``dict``, else ``FACTORY()``."""
    name = str(factory)
    return _LITERAL_FACTORIES.get(name, f"{name}()")


def limits_line(constraints: dict[str, Any]) -> str | None:
    """``Limits: ge=0.0, le=60.0`` from a field's keyword arguments, or None when it has none."""
    found = [f"`{key}={constraints[key]}`" for key in _LIMITS if key in constraints]
    return "Limits: " + ", ".join(found) + "." if found else None


class PydanticFieldDefaults(griffe.Extension):
    """Fill in factory defaults and limits on the fields ``griffe_pydantic`` labelled."""

    def on_attribute_instance(self, *, attr: griffe.Attribute, **kwargs: Any) -> None:
        if isinstance(attr.value, griffe.ExprCall):
            attr.extra["nexora"]["assigned"] = attr.value

    def on_package(self, *, pkg: griffe.Module, **kwargs: Any) -> None:
        self._walk(pkg, set())

    def _walk(self, obj: griffe.Object, seen: set[str]) -> None:
        if obj.path in seen:
            return
        seen.add(obj.path)
        for member in obj.members.values():
            if member.is_alias:
                continue
            if member.is_class or member.is_module:
                self._walk(member, seen)  # type: ignore[arg-type]
            elif member.is_attribute and "pydantic-field" in member.labels:
                self._field(member)  # type: ignore[arg-type]

    @staticmethod
    def _field(attr: griffe.Attribute) -> None:
        constraints: dict[str, Any] = dict(attr.extra["griffe_pydantic"].get("constraints", {}))
        assigned = attr.extra["nexora"].get("assigned")
        if attr.value is None and isinstance(assigned, griffe.ExprCall):
            keywords = {
                arg.name: arg.value for arg in assigned.arguments if isinstance(arg, griffe.ExprKeyword)
            }
            if "default" in keywords:
                attr.value = keywords["default"]
            constraints = {**keywords, **constraints}
            description = keywords.get("description")
            if attr.docstring is None and isinstance(description, str):
                attr.docstring = griffe.Docstring(ast.literal_eval(description), parent=attr)
        if attr.value is None and "default_factory" in constraints:
            attr.value = factory_default(constraints["default_factory"])
        line = limits_line(constraints)
        if line is not None and attr.docstring is not None and line not in attr.docstring.value:
            attr.docstring.value = f"{attr.docstring.value.rstrip()}\n\n{line}"
