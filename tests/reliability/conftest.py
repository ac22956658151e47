"""Shared machinery of the reliability suite: the ``slow`` marker, fuzz sizes, measured numbers.

Measured numbers (recovery times, time to a typed error) are recorded with the ``measure``
fixture and printed in the terminal summary, so that a CI log shows them without a benchmark
run. Tests assert only generous bounds on them.
"""

from __future__ import annotations

import os
from collections.abc import Callable

import pytest

SLOW_ENV = "NEXORA_RELIABILITY_SLOW"
"""Set to 1 to run the tests marked ``slow`` (or select them with ``-m slow``)."""

_MEASUREMENTS: list[tuple[str, str]] = []


def _slow_selected(config: pytest.Config) -> bool:
    if os.environ.get(SLOW_ENV, "") not in ("", "0"):
        return True
    expression = str(config.getoption("markexpr", "") or "")
    return "slow" in expression and "not slow" not in expression


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if _slow_selected(config):
        return
    skip = pytest.mark.skip(reason=f"slow reliability test: run with {SLOW_ENV}=1 or -m slow")
    for item in items:
        if item.get_closest_marker("slow") is not None:
            item.add_marker(skip)


@pytest.fixture
def measure() -> Callable[[str, str], None]:
    """Record one measured number for the terminal summary: ``measure("what", "12.3 ms")``."""

    def record(what: str, value: str) -> None:
        _MEASUREMENTS.append((what, value))

    return record


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not _MEASUREMENTS:
        return
    terminalreporter.section("reliability measurements")
    width = max(len(what) for what, _ in _MEASUREMENTS)
    for what, value in _MEASUREMENTS:
        terminalreporter.write_line(f"{what.ljust(width)}  {value}")
