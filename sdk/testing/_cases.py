"""What a connector's conformance tests declare: an operation, its arguments and the routes that answer it.

See :mod:`sdk.testing._kit` for what each ``mock`` must install and return.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import respx

__all__ = ["OperationCase", "PaginationCase"]


@dataclass(frozen=True)
class OperationCase:
    """One operation with arguments and the vendor routes that answer it."""

    operation: str
    arguments: Mapping[str, Any]
    mock: Callable[[respx.MockRouter, str], respx.Route]
    id: str | None = None

    @property
    def label(self) -> str:
        return self.id or self.operation


@dataclass(frozen=True)
class PaginationCase:
    operation: str
    arguments: Mapping[str, Any]
    mock: Callable[[respx.MockRouter, Sequence[str | None]], respx.Route]
