"""A settable clock for the audit sink's day and retention logic."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta


@dataclass
class FakeClock:
    """Returns ``now`` until moved; safe to read from many threads while one moves it."""

    now: datetime
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __call__(self) -> datetime:
        with self._lock:
            return self.now

    def advance(self, delta: timedelta) -> None:
        with self._lock:
            self.now += delta
