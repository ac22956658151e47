"""Run every benchmark, each in a fresh process, and write ``docs/benchmarks/index.md`` with its plot.

    python -m tests.benchmarks.run            # everything, ~6-8 minutes on 2 cores
    python -m tests.benchmarks.run --quick    # smaller samples, ~2 minutes: a smoke run
    python -m tests.benchmarks.run --only single http --no-pytest
    python -m tests.benchmarks.run --quick --only redaction invoke --no-pytest --out /tmp/benchout

Each benchmark runs in a child interpreter of its own (``--child NAME``), so no
benchmark inherits another's imports, threads, caches or heap, and none runs
under pytest (whose session-wide log capture would tax every logging call).
The child pins itself to the first core and starts OpenBao and the upstream on
the last (``--no-pin`` to let the scheduler place them), except the load
benchmark, which is about two cores shared by everything. The benchmark files
kept by other parts of the suite (``test_fanout.py``, ``test_telemetry_overhead.py``,
``test_redaction_vs_presidio.py``) run through pytest at the end and their
output is appended to the page. ``--out DIR`` writes the page, the plot and
``results.json`` to ``DIR`` instead of ``docs/benchmarks`` (a trial run that
leaves the committed page alone).

Goals that are missed do not fail the run: the page says by how much. The run
fails (exit 1) only if a benchmark could not run.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from tests.benchmarks.harness import ROOT, Placement, machine_info

OUT = ROOT / "docs" / "benchmarks"

BENCHMARKS: dict[str, tuple[str, str, bool]] = {
    # name: (module, function, may pin)
    "single": ("tests.benchmarks.bench_single", "bench", True),
    "http": ("tests.benchmarks.bench_http", "bench", True),
    "fanout": ("tests.benchmarks.bench_context", "bench_fanout", True),
    "load": ("tests.benchmarks.bench_context", "bench_load", False),
    "memory": ("tests.benchmarks.bench_memory", "bench", True),
    "import": ("tests.benchmarks.bench_import", "bench", True),
    "profile": ("tests.benchmarks.bench_profile", "bench", True),
    "redaction": ("tests.benchmarks.bench_redaction", "bench", True),
    "invoke": ("tests.benchmarks.bench_invoke", "bench", True),
}
PYTEST_BENCHMARKS = ("test_fanout.py", "test_telemetry_overhead.py", "test_redaction_vs_presidio.py")
CHILD_TIMEOUT = 420


def _child(name: str, *, quick: bool, pin: bool, result: Path) -> int:
    module, function, may_pin = BENCHMARKS[name]
    placement = Placement.choose(pin and may_pin)
    if placement.client is not None:
        os.sched_setaffinity(0, placement.client)
    bench = getattr(importlib.import_module(module), function)
    started = time.perf_counter()
    data = asyncio.run(bench(placement, quick=quick))
    data["_placement"] = placement.describe()
    data["_seconds"] = time.perf_counter() - started
    result.write_text(json.dumps(data, indent=1, default=str))
    return 0


def _load_average() -> list[float]:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return []


def _run_child(name: str, *, quick: bool, pin: bool, scratch: Path) -> dict[str, Any]:
    result = scratch / f"{name}.json"
    result.unlink(missing_ok=True)
    command = [sys.executable, "-m", "tests.benchmarks.run", "--child", name, "--result", str(result)]
    command += ["--quick"] if quick else []
    command += [] if pin else ["--no-pin"]
    print(f"[bench] {name} ...", flush=True)
    started = time.perf_counter()
    try:
        done = subprocess.run(command, cwd=ROOT, timeout=CHILD_TIMEOUT, check=False)
    except subprocess.TimeoutExpired:
        return {"_error": f"timed out after {CHILD_TIMEOUT} s"}
    if done.returncode != 0 or not result.exists():
        return {"_error": f"exit status {done.returncode}"}
    data: dict[str, Any] = json.loads(result.read_text())
    print(f"[bench] {name} done in {time.perf_counter() - started:.0f} s", flush=True)
    return data


def _run_pytest(file: str) -> dict[str, Any]:
    path = Path(__file__).parent / file
    if not path.exists():
        return {"skipped": "not present"}
    print(f"[bench] pytest {file} ...", flush=True)
    try:
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "pytest",
                "-m",
                "benchmark",
                "-s",
                "-q",
                "-p",
                "no:cacheprovider",
                str(path),
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=CHILD_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return {"status": "timed out", "output": ""}
    status = "passed" if done.returncode == 0 else f"exit status {done.returncode}"
    return {"status": status, "output": done.stdout[-6000:]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.benchmarks.run", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--quick", action="store_true", help="smaller samples: a smoke run, not numbers to quote"
    )
    parser.add_argument(
        "--no-pin", dest="pin", action="store_false", help="do not pin servers and client to cores"
    )
    parser.add_argument("--only", nargs="+", choices=sorted(BENCHMARKS), help="run only these benchmarks")
    parser.add_argument(
        "--no-pytest", dest="pytest", action="store_false", help="skip the pytest benchmark files"
    )
    parser.add_argument("--out", type=Path, default=OUT, help="where to write index.md and latency.png")
    parser.add_argument(
        "--render-only", action="store_true", help="rewrite the page and plot from the last results.json"
    )
    parser.add_argument("--child", choices=sorted(BENCHMARKS), help=argparse.SUPPRESS)
    parser.add_argument("--result", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return _child(args.child, quick=args.quick, pin=args.pin, result=args.result)

    from tests.benchmarks import report

    if args.render_only:
        page = report.write(json.loads((args.out / "results.json").read_text()), args.out)
        print(f"[bench] rewrote {page}", flush=True)
        return 0
    args.out.mkdir(parents=True, exist_ok=True)
    scratch = args.out / ".runs"
    scratch.mkdir(exist_ok=True)
    started = time.perf_counter()
    results: dict[str, Any] = {
        "machine": machine_info(),
        "quick": args.quick,
        "pinned": args.pin,
        "load_average_before": _load_average(),
    }
    failed = []
    for name in args.only or BENCHMARKS:
        results[name] = _run_child(name, quick=args.quick, pin=args.pin, scratch=scratch)
        if "_error" in results[name]:
            failed.append(name)
            print(f"[bench] {name} FAILED: {results[name]['_error']}", flush=True)
    if args.pytest:
        results["pytest"] = {file: _run_pytest(file) for file in PYTEST_BENCHMARKS}
    results["load_average_after"] = _load_average()
    results["seconds"] = time.perf_counter() - started
    (args.out / "results.json").write_text(json.dumps(results, indent=1, default=str))
    for leftover in scratch.iterdir():
        leftover.unlink()
    scratch.rmdir()
    page = report.write(results, args.out)
    print(report.console_summary(results), flush=True)
    print(f"[bench] wrote {page} and {args.out / 'latency.png'} in {results['seconds']:.0f} s", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
