"""How long ``import sdk`` and ``nexora-connect --help`` take, in a fresh interpreter each time.

``sdk`` resolves its public names on first use, so ``from sdk import
NexoraConnect`` (what an agent's code runs) is measured next to the bare
``import sdk``. Each import measurement is a new ``python -X importtime`` process (nothing
cached in ``sys.modules``; bytecode caches warm, as on any second start).
Reported: the median over several runs of the summed cumulative import time of
the top-level imports, and the heaviest packages behind it.

The command line is timed as its user meets it: the wall time of a new process
running the installed console script (``[project.scripts]`` maps
``nexora-connect`` to ``sdk.cli:main``) with ``--help``, from start to exit.
``python -c pass`` runs interleaved with it, in the same run, as the floor: the
interpreter's own start-up, which no SDK change can remove.
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from importlib import metadata
from pathlib import Path
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


def cli_command() -> tuple[list[str], str]:
    """The installed ``nexora-connect`` next to this interpreter, else its entry point run by it."""
    script = shutil.which("nexora-connect", path=str(Path(sys.executable).parent))
    if script is not None:
        return [script, "--help"], "nexora-connect --help"
    entry = "import sys; from sdk.cli import main; sys.exit(main(['--help']))"
    return [sys.executable, "-c", entry], "python -c 'sdk.cli.main([\"--help\"])' (no console script found)"


def _wall_ms(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return (time.perf_counter() - started) * 1000


def _measure_cli(runs: int) -> dict[str, Any]:
    """Wall time of ``nexora-connect --help`` and of ``python -c pass``, interleaved, per fresh process."""
    command, shown = cli_command()
    floor_command = [sys.executable, "-c", "pass"]
    _wall_ms(command)  # one unmeasured start: the script's bytecode cached, as on any second start
    cli: list[float] = []
    floor: list[float] = []
    for _ in range(runs):
        cli.append(_wall_ms(command))
        floor.append(_wall_ms(floor_command))
    return {
        "command": shown,
        "runs": runs,
        "median_ms": statistics.median(cli),
        "min_ms": min(cli),
        "floor_command": "python -c pass",
        "floor_median_ms": statistics.median(floor),
        "floor_min_ms": min(floor),
    }


async def bench(placement: Placement, *, quick: bool = False) -> dict[str, Any]:
    runs = 3 if quick else RUNS
    modules = connector_modules()
    return {
        "sdk": _measure("import sdk", runs),
        # sdk/__init__.py resolves its exports lazily: the first name an agent imports pays the rest.
        "sdk_client": _measure("from sdk import NexoraConnect", runs),
        "sdk_and_connectors": _measure("import sdk, " + ", ".join(modules), runs),
        "connectors": modules,
        "cli_help": _measure_cli(runs),
    }
