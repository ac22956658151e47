"""SIGTERM during live conversations wipes every cache before the process exits (S5).

``_sigterm_child`` is a small agent process with six open conversations for two tenants: four
hold cached records, two wait on a vendor that answers only after the wipe. The test sends it
SIGTERM and reads what its handler reports (counts only): every conversation closed, every
cache emptied and its key zeroed, in-flight answers refused, and the exit code the CLI
documents for an interrupted run (130).
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from sdk.cli import EXIT_INTERRUPTED
from sdk.testing import make_canary

REPO = Path(__file__).resolve().parents[2]


class _Lines:
    """Line reader on the child's raw stdout, so that nothing is stranded in a buffered reader."""

    def __init__(self, process: subprocess.Popen[bytes]) -> None:
        assert process.stdout is not None
        self._fd = process.stdout.fileno()
        self.buffer = b""

    def event(self, name: str, timeout: float = 30.0) -> dict[str, Any]:
        """Read until the JSON event ``name`` arrives (or fail with what was seen)."""
        deadline = time.monotonic() + timeout
        seen = b""
        while time.monotonic() < deadline:
            while b"\n" in self.buffer:
                line, self.buffer = self.buffer.split(b"\n", 1)
                seen += line + b"\n"
                event = json.loads(line)
                if event.get("event") == name:
                    return dict(event)
            ready, _, _ = select.select([self._fd], [], [], deadline - time.monotonic())
            chunk = os.read(self._fd, 65536) if ready else b""
            if not chunk:
                break
            self.buffer += chunk
        raise AssertionError(f"no {name!r} event; the child printed: {seen!r}")


def test_sigterm_wipes_every_conversation_before_exit(tmp_path: Path) -> None:
    canary = make_canary("customer")
    home, tmp = tmp_path / "home", tmp_path / "tmp"
    home.mkdir()
    tmp.mkdir()
    env = {**os.environ, "HOME": str(home), "TMPDIR": str(tmp), "PYTHONDONTWRITEBYTECODE": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.reliability._sigterm_child", canary],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    lines = _Lines(process)
    try:
        ready = lines.event("ready")
        assert ready == {"event": "ready", "open": 6, "cached": 8, "in_flight": 2}
        process.send_signal(signal.SIGTERM)
        wiped = lines.event("wiped")
        tail, stderr = process.communicate(timeout=30)
        rest, errors = (lines.buffer + tail).decode(), stderr.decode()
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()

    assert process.returncode == EXIT_INTERRUPTED, errors
    [exited] = [json.loads(line) for line in rest.splitlines()]
    assert exited["event"] == "exit"
    assert wiped == {
        "event": "wiped",
        "open_before": 6,
        "cached_before": 8,
        "wiped": 6,
        "open_after": 0,
        "cached_after": 0,
        "closed": 6,
        "keys_zeroed": 6,
        "ciphers_dropped": 6,
    }
    # The two answers that arrived after the wipe were refused, not handed out or cached.
    assert exited["in_flight_outcomes"] == ["ConversationClosedError", "ConversationClosedError"]
    assert exited["use_after_wipe"] == "ConversationClosedError"
    output = json.dumps([ready, wiped]) + rest + errors
    assert canary not in output
    assert list(home.iterdir()) == []
    assert list(tmp.iterdir()) == []
