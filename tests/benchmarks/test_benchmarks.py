"""The benchmark runner, smoke-tested: ``pytest -m benchmark tests/benchmarks/test_benchmarks.py``.

It runs ``python -m tests.benchmarks.run --quick`` (each benchmark in its own
interpreter, as the real run does: under pytest the session-wide log capture
would tax every logging call the measured code makes) into a temporary folder
and checks that every benchmark produced its numbers, the page and the plot.
No time is asserted: the goals are reported on the page, not enforced here.
The numbers themselves come from ``python3 dev.py bench``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.benchmarks.harness import ROOT
from tests.benchmarks.run import BENCHMARKS

pytestmark = pytest.mark.benchmark


def test_quick_run_writes_every_number_the_page_and_the_plot(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "tests.benchmarks.run", "--quick", "--no-pytest", "--out", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    print(done.stdout)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    results = json.loads((tmp_path / "results.json").read_text())
    for name in BENCHMARKS:
        assert "_error" not in results[name], (name, results[name])
    assert results["load"]["same_requests"], results["load"]["request_counts"]
    assert results["load"]["incomplete_contexts"] == 0
    assert results["memory"]["open_conversations_at_end"] == 0
    page = (tmp_path / "index.md").read_text()
    for heading in ("## Goals", "## 1. Single call", "## 2. HTTP stack", "## 3. Fan-out", "## 4. Load"):
        assert heading in page
    assert (tmp_path / "latency.png").read_bytes().startswith(b"\x89PNG")
