"""Run Stoplight Prism mock servers: one process per vendor document, all started at once.

Why it is built this way:

* Prism is installed once into ``<repo>/.cache/prism`` with ``npm install --prefix`` (no global
  install, no ``npx`` download per run); a later session reuses it. Two sessions installing at the
  same time are serialised by a lock file. Without ``npm`` the caller skips, saying so.
* Every document gets its own process on a free loopback port: Prism serves one document per
  process, and starting them together makes the session pay for the slowest one, not the sum.
* Each process runs in a new session (process group), so stopping it reaches anything it started;
  ``stop`` waits for every group and reports any process that outlived it.
* Prism's log (it names the failing field of a 422) goes to a file per document, not a pipe, so a
  chatty mock can never block on a full pipe; tests quote its tail when a request is rejected.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

__all__ = [
    "PRISM_VERSION",
    "PrismProcess",
    "PrismUnavailable",
    "ensure_prism",
    "start_all",
    "stop_all",
]

PRISM_VERSION = "5"
REPO_ROOT = Path(__file__).resolve().parents[2]
CACHE_DIR = REPO_ROOT / ".cache" / "prism"
_STARTUP_TIMEOUT = 120.0
_STOP_TIMEOUT = 10.0


class PrismUnavailable(RuntimeError):
    """Prism cannot be installed here (no npm); the tests that need it are skipped with this reason."""


def _installed_binary(cache: Path) -> Path | None:
    manifest = cache / "node_modules" / "@stoplight" / "prism-cli" / "package.json"
    binary = cache / "node_modules" / ".bin" / "prism"
    try:
        version = json.loads(manifest.read_text(encoding="utf-8"))["version"]
    except (OSError, ValueError, KeyError):
        return None
    if not str(version).startswith(PRISM_VERSION + ".") or not binary.exists():
        return None
    return binary


def ensure_prism(cache: Path = CACHE_DIR) -> tuple[Path, float]:
    """Return the Prism executable and the seconds spent installing it (0.0 when it was cached)."""
    found = _installed_binary(cache)
    if found is not None:
        return found, 0.0
    npm = shutil.which("npm")
    if npm is None or shutil.which("node") is None:
        raise PrismUnavailable(
            "vendor-contract mocks need Node.js and npm (to install @stoplight/prism-cli@5): not on PATH"
        )
    cache.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    with (cache / ".install.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        found = _installed_binary(cache)  # another session may have installed it while we waited
        if found is None:
            result = subprocess.run(
                [
                    npm,
                    "install",
                    "--prefix",
                    str(cache),
                    "--no-audit",
                    "--no-fund",
                    "--loglevel=error",
                    f"@stoplight/prism-cli@{PRISM_VERSION}",
                ],
                capture_output=True,
                text=True,
                timeout=600,
                check=False,
            )
            found = _installed_binary(cache)
            if result.returncode != 0 or found is None:
                raise RuntimeError(
                    f"npm install @stoplight/prism-cli@{PRISM_VERSION} failed (exit {result.returncode}): "
                    + result.stderr[-2000:]
                )
    return found, time.monotonic() - started


def free_port() -> int:
    """A loopback port nobody listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _accepts(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


@dataclass
class PrismProcess:
    """One running Prism: which document, where it listens, its log, how long it took to start."""

    name: str
    document: Path
    port: int
    log_path: Path
    process: subprocess.Popen[bytes]
    started_at: float
    ready_after: float | None = None
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log_tail(self, lines: int = 15) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


def _launch(binary: Path, name: str, document: Path, log_dir: Path) -> PrismProcess:
    port = free_port()
    log_path = log_dir / f"{name}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [str(binary), "mock", "--host", "127.0.0.1", "--port", str(port), str(document)],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env={**os.environ, "NO_COLOR": "1", "FORCE_COLOR": "0"},
        )
    return PrismProcess(name, document, port, log_path, process, time.monotonic())


def start_all(binary: Path, documents: Mapping[str, Path], log_dir: Path) -> dict[str, PrismProcess]:
    """Start one Prism per document at once and wait until every one accepts connections.

    A process that exits, or is not listening within two minutes, stops all of them and raises
    with the tail of its log.
    """
    log_dir.mkdir(parents=True, exist_ok=True)
    running = {name: _launch(binary, name, document, log_dir) for name, document in documents.items()}
    deadline = time.monotonic() + _STARTUP_TIMEOUT
    try:
        while any(p.ready_after is None for p in running.values()):
            for proc in running.values():
                if proc.ready_after is not None:
                    continue
                if proc.process.poll() is not None:
                    raise RuntimeError(
                        f"Prism for {proc.name} exited with {proc.process.returncode}:\n{proc.log_tail()}"
                    )
                if _accepts(proc.port):
                    proc.ready_after = time.monotonic() - proc.started_at
            if time.monotonic() > deadline:
                late = [p.name for p in running.values() if p.ready_after is None]
                raise RuntimeError(f"Prism did not start within {_STARTUP_TIMEOUT:.0f} s for {late}")
            time.sleep(0.05)
    except BaseException:
        stop_all(running.values())
        raise
    return running


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # pragma: no cover - a reused id owned by someone else: not ours
        return False
    return True


def stop_all(processes: Iterator[PrismProcess] | object) -> list[str]:
    """Stop every given Prism and whatever it started; return the names of any that survived.

    SIGTERM to each process group, a wait, then SIGKILL for the stubborn. Only the groups these
    processes lead are signalled (each was started in its own session).
    """
    procs = list(processes)  # type: ignore[call-overload]
    for proc in procs:
        if proc.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.process.pid, signal.SIGTERM)
    deadline = time.monotonic() + _STOP_TIMEOUT
    for proc in procs:
        try:
            proc.process.wait(timeout=max(deadline - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.process.pid, signal.SIGKILL)
            proc.process.wait(timeout=5)
    survivors: list[str] = []
    for proc in procs:
        # The leader is reaped; a child it left behind would still be in its group.
        if _group_alive(proc.process.pid):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.process.pid, signal.SIGKILL)
            survivors.append(proc.name)
    return survivors
