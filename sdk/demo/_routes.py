"""What a sandbox's route handlers take and give: the request, its JSON answer, and the route between.

A vendor sandbox (:mod:`sdk.demo._hubspot`, :mod:`sdk.demo._zendesk`,
:mod:`sdk.demo._stripe`) is a list of :class:`Route` objects, each a method, a
path pattern and a handler from :class:`SandboxRequest` to
:class:`JsonResponse`; :class:`~sdk.demo._sandbox.SandboxServer` does the
HTTP, the keys and the request log around them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Handler", "JsonResponse", "Route", "SandboxRequest"]


@dataclass(frozen=True, slots=True)
class SandboxRequest:
    """What a route handler gets: the path parameters, the query and the decoded body."""

    method: str
    path: str
    params: Mapping[str, str]
    query: Mapping[str, list[str]]
    body: Any
    headers: Mapping[str, str] = field(default_factory=dict)
    """Request headers with lower-case names, ``Authorization`` left out."""

    def arg(self, name: str, default: str | None = None) -> str | None:
        """Return the first value of query parameter ``name``."""
        values = self.query.get(name)
        return values[0] if values else default

    def args(self, name: str) -> list[str]:
        """Return every value of query parameter ``name`` (``name`` and ``name[]`` alike)."""
        return list(self.query.get(name, [])) + list(self.query.get(f"{name}[]", []))


@dataclass(frozen=True, slots=True)
class JsonResponse:
    status: int
    body: Any
    headers: Mapping[str, str] = field(default_factory=dict)


Handler = Callable[[SandboxRequest], JsonResponse]


@dataclass(frozen=True, slots=True)
class Route:
    """One method and path pattern (a regular expression with named groups) the sandbox serves."""

    method: str
    pattern: re.Pattern[str]
    handler: Handler
    write: bool = False

    @classmethod
    def of(cls, method: str, pattern: str, handler: Handler, *, write: bool = False) -> Route:
        return cls(method, re.compile(pattern), handler, write)
