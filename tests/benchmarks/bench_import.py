"""How long ``import sdk`` takes, alone and with every installed connector, in a fresh interpreter.

Each measurement is a new ``python -X importtime`` process (nothing cached in
``sys.modules``; bytecode caches warm, as on any second start). Reported: the
median over several runs of the summed cumulative import time of the top-level
imports, and the heaviest packages behind it.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
from collections import defaultdict
from importlib import metadata
from typing import Any

from tests.benchmarks.harness import ROOT, Placement

RUNS = 7


def connector_modules() -> list[str]:
    """The modules of every connector installed through the registry's entry points."""
    found = []
    for entry in metadata.entry_points(group="nexora_connect.connectors"):
        found.append(entry.value.split(":")[0])
    return sorted(set(found))


def _importtime(statement: str) -> tuple[float, dict[str, float]]:
    """Total cumulative µs of the top-level imports of ``statement``, and per top-level package."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", statement],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    rows: list[tuple[int, str, float]] = []
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or line.count("|") != 2:
            continue
        _, cumulative, raw_name = line.removeprefix("import time:").split("|")
        if not cumulative.strip().isdigit():
            continue
        depth = (len(raw_name) - len(raw_name.lstrip(" ")) - 1) // 2
        rows.append((depth, raw_name.strip().split(".")[0], float(cumulative)))
    total = sum(micros for depth, _, micros in rows if depth == 0)
    # importtime prints a module after everything it imported: walking backwards, the nearest line
    # one level up is the importer. A package's cost is what it cost wherever another package
    # first imported it.
    packages: dict[str, float] = defaultdict(float)
    importer_at: dict[int, str] = {}
    for depth, package, micros in reversed(rows):
        if importer_at.get(depth - 1) != package:
            packages[package] += micros
        importer_at[depth] = package
    return total, packages


def _measure(statement: str, runs: int) -> dict[str, Any]:
    totals: list[float] = []
    heaviest: dict[str, list[float]] = defaultdict(list)
    for _ in range(runs):
        total, packages = _importtime(statement)
        totals.append(total)
        for name, micros in packages.items():
            heaviest[name].append(micros)
    top = sorted(((statistics.median(v), k) for k, v in heaviest.items()), reverse=True)[:10]
    return {
        "statement": statement,
        "median_ms": statistics.median(totals) / 1000,
        "min_ms": min(totals) / 1000,
        "runs": runs,
        "heaviest_ms": {name: micros / 1000 for micros, name in top},
    }


async def bench(placement: Placement, *, quick: bool = False) -> dict[str, Any]:
    runs = 3 if quick else RUNS
    modules = connector_modules()
    return {
        "sdk": _measure("import sdk", runs),
        "sdk_and_connectors": _measure("import sdk, " + ", ".join(modules), runs),
        "connectors": modules,
    }
