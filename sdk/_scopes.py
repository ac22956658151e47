"""Scopes, and the grants tenants give their integrations (promise S1).

A scope is ``<resource>:<access>`` where access is ``read`` or ``write``
(``contacts:read``, ``notes:write``). A tenant grants each integration either
``read-only`` (every read scope, no write scope) or ``scoped-write`` (every
read scope plus an explicit list of write scopes). There is no wildcard write:
a tenant must name each write it allows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal

from sdk._errors import ConfigurationError

__all__ = ["Access", "Grant", "GrantMode", "Scope"]

_SCOPE_PATTERN = re.compile(r"([a-z][a-z0-9_]{0,39}):(read|write)")


class Access(StrEnum):
    """Whether a scope reads or changes the vendor's data."""

    READ = "read"
    WRITE = "write"


@dataclass(frozen=True, slots=True)
class Scope:
    """One declared capability, such as ``contacts:read``."""

    resource: str
    access: Access

    @classmethod
    def parse(cls, text: str) -> Scope:
        """Parse ``resource:read`` or ``resource:write``; raise ConfigurationError otherwise."""
        match = _SCOPE_PATTERN.fullmatch(text) if isinstance(text, str) else None
        if match is None:
            raise ConfigurationError(
                f"invalid scope {text!r}: use '<resource>:read' or '<resource>:write' with a "
                "lower-case resource name such as 'contacts:read'"
            )
        return cls(match.group(1), Access(match.group(2)))

    @property
    def is_write(self) -> bool:
        return self.access is Access.WRITE

    def __str__(self) -> str:
        return f"{self.resource}:{self.access.value}"


GrantMode = Literal["read-only", "scoped-write"]


@dataclass(frozen=True, slots=True)
class Grant:
    """What one tenant allows one integration to do.

    Built from configuration; ``read-only`` with write scopes listed is a
    contradiction and is refused rather than silently ignored.
    """

    mode: GrantMode = "read-only"
    write_scopes: frozenset[Scope] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        if self.mode not in ("read-only", "scoped-write"):
            raise ConfigurationError(f"invalid grant {self.mode!r}: use 'read-only' or 'scoped-write'")
        for scope in self.write_scopes:
            if not scope.is_write:
                raise ConfigurationError(
                    f"write_scopes lists {scope}, which is a read scope; read scopes are always "
                    "granted, list only '<resource>:write' scopes"
                )
        if self.mode == "read-only" and self.write_scopes:
            raise ConfigurationError(
                "a 'read-only' grant cannot list write_scopes; use grant = 'scoped-write' "
                "to allow the listed writes"
            )

    @classmethod
    def read_only(cls) -> Grant:
        return cls("read-only")

    @classmethod
    def scoped_write(cls, *scopes: str) -> Grant:
        return cls("scoped-write", frozenset(Scope.parse(s) for s in scopes))

    def allows(self, scope: Scope) -> bool:
        """Return True if an operation declaring ``scope`` may run under this grant."""
        if not scope.is_write:
            return True
        return self.mode == "scoped-write" and scope in self.write_scopes
