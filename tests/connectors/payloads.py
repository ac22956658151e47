"""The one loader of the vendor payloads under ``tests/connectors/fixtures/<vendor>/``.

Every ``*_cases.py`` module used to carry its own cached JSON reader; they now each hold a
:class:`VendorPayloads` for their folder, so a fixture is read one way everywhere and every test
gets a fresh copy it may change without touching the next test's.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

ROOT = Path(__file__).parent / "fixtures"


@cache
def _text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


@dataclass(frozen=True)
class VendorPayloads:
    """The JSON payloads of one vendor: ``payloads("customer")`` reads ``<vendor>/customer.json``."""

    vendor: str

    @property
    def directory(self) -> Path:
        return ROOT / self.vendor

    def __call__(self, name: str) -> Any:
        """A fresh copy of ``<vendor>/<name>.json`` (the file is read once; each call parses anew)."""
        return json.loads(_text(self.directory / f"{name}.json"))
