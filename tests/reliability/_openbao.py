"""An OpenBao server that can be killed, restarted, sealed and frozen without losing its data.

``bao server -dev`` keeps everything in memory and picks a new port each start, so a restarted dev
server is a different Vault: no secrets, no tokens, another address. An SDK that "recovers" from
that has not recovered from anything a production Vault does. This server runs in production
mode instead: integrated (raft) storage in a temporary directory and a fixed loopback port, so a
restart keeps secrets, tokens, AppRoles and the address, and, like a real Vault, comes back
**sealed** until an operator unseals it. The test initialises it once (one key share) and keeps
the root token and unseal key in memory only.

OpenBao 2.7 has no ``file`` storage backend any more; single-node raft needs nothing else.
"""

from __future__ import annotations

import atexit
import collections
import contextlib
import http.client
import json
import os
import signal
import subprocess
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Self

from vault import find_bao_binary
from vault.devserver import _free_port_pair  # the same adjacent API/cluster port pair

__all__ = ["RestartableOpenBao"]

_CONFIG = """\
storage "raft" {{
  path    = "{data}"
  node_id = "reliability"
  # The default (5) makes a new node wait 5-10 s for its first leader election; 1 is production's
  # fastest setting and the right one for a lone node on loopback.
  performance_multiplier = 1
}}
listener "tcp" {{
  address         = "127.0.0.1:{port}"
  cluster_address = "127.0.0.1:{cluster_port}"
  tls_disable     = true
}}
api_addr     = "http://127.0.0.1:{port}"
cluster_addr = "http://127.0.0.1:{cluster_port}"
ui           = false
"""


class RestartableOpenBao:
    """One production-mode OpenBao node on loopback whose storage survives restarts.

    :meth:`start` the first time initialises, unseals and mounts KV v2 at ``secret/``; later
    starts leave it sealed, as a restarted Vault is. Every process it starts is stopped by
    :meth:`close` (also registered with ``atexit``).
    """

    def __init__(self, workdir: Path, *, startup_timeout: float = 20.0) -> None:
        self._workdir = workdir
        self._startup_timeout = startup_timeout
        self._port = _free_port_pair()
        self._process: subprocess.Popen[str] | None = None
        self._reader: threading.Thread | None = None
        self._output: collections.deque[str] = collections.deque(maxlen=40)
        self._root_token: str | None = None
        self._unseal_key: str | None = None
        self._frozen = False
        self.starts = 0

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"RestartableOpenBao(address={self.address!r}, {state})"

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # --- what a test needs ---------------------------------------------------------------

    @property
    def address(self) -> str:
        return f"http://127.0.0.1:{self._port}"

    @property
    def root_token(self) -> str:
        assert self._root_token is not None, "the server was never initialised"
        return self._root_token

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    # --- lifecycle ---------------------------------------------------------------------

    def start(self) -> Self:
        """Start the node; initialise it on the very first start, else leave it sealed."""
        if self.running:
            raise RuntimeError("already running")
        data = self._workdir / "raft"
        data.mkdir(parents=True, exist_ok=True)
        config = self._workdir / "openbao.hcl"
        config.write_text(_CONFIG.format(data=data, port=self._port, cluster_port=self._port + 1))
        env = {key: value for key, value in os.environ.items() if not key.startswith(("BAO_", "VAULT_"))}
        self._output.clear()
        self._process = subprocess.Popen(
            [find_bao_binary(), "server", f"-config={config}", "-log-level=warn"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=env,
            text=True,
            encoding="utf-8",
            errors="replace",
        )
        atexit.register(self.close)
        assert self._process.stdout is not None
        self._reader = threading.Thread(target=self._drain, args=(self._process.stdout,), daemon=True)
        self._reader.start()
        self.starts += 1
        self._wait(lambda: self._health() is not None, "start listening")
        if self._root_token is None:
            self._initialise()
        return self

    def kill(self) -> None:
        """Crash the node (SIGKILL): in-flight requests are cut, nothing is flushed politely."""
        self._stop(signal.SIGKILL)

    def stop(self) -> None:
        """Shut the node down as an operator would (SIGTERM), waiting until it has exited."""
        self._stop(signal.SIGTERM)

    def close(self) -> None:
        atexit.unregister(self.close)
        self.thaw()
        self._stop(signal.SIGKILL)

    def freeze(self) -> None:
        """Stop the process (SIGSTOP): connections are accepted by the kernel but never answered.

        Returns once the kernel reports the process stopped: the signal is asynchronous, and on a
        busy machine the server could otherwise still answer a request or two.
        """
        assert self._process is not None
        self._process.send_signal(signal.SIGSTOP)
        self._frozen = True
        stat = Path(f"/proc/{self._process.pid}/stat")
        deadline = time.monotonic() + 5
        while stat.exists() and time.monotonic() < deadline:
            # Field 3 is the state; the command name before it is in parentheses and may hold spaces.
            if stat.read_text().rpartition(")")[2].split()[0] in ("T", "t"):
                return
            time.sleep(0.005)

    def thaw(self) -> None:
        """Undo :meth:`freeze`; does nothing when the process is not frozen."""
        if self._frozen and self._process is not None:
            self._process.send_signal(signal.SIGCONT)
        self._frozen = False

    def seal(self) -> None:
        status, _ = self._request("PUT", "/v1/sys/seal", token=self.root_token)
        assert status == 204, f"seal answered {status}"

    def unseal(self) -> None:
        assert self._unseal_key is not None
        status, body = self._request("PUT", "/v1/sys/unseal", {"key": self._unseal_key})
        assert status == 200, f"unseal answered {status}"
        assert body.get("sealed") is False, "one key share should unseal at once"

    def wait_active(self) -> float:
        """Wait until ``/sys/health`` says active and unsealed; return ``time.monotonic()`` then."""
        self._wait(lambda: self._health() == 200, "become active")
        return time.monotonic()

    def health(self) -> int | None:
        """The status of ``GET /v1/sys/health`` (200 active, 503 sealed), None when unreachable."""
        return self._health()

    def hvac_root(self) -> Any:
        """An hvac client holding the root token, for arranging state (close its adapter after)."""
        import hvac

        client = hvac.Client(url=self.address, token=self.root_token, timeout=5)
        client.session.trust_env = False
        return client

    # --- machinery ---------------------------------------------------------------------

    def _initialise(self) -> None:
        status, body = self._request(
            "PUT", "/v1/sys/init", {"secret_shares": 1, "secret_threshold": 1}, timeout=60
        )
        assert status == 200, f"init answered {status}"
        self._root_token = str(body["root_token"])
        self._unseal_key = str(body["keys"][0])
        self.unseal()
        self.wait_active()
        status, _ = self._request(
            "POST",
            "/v1/sys/mounts/secret",
            {"type": "kv", "options": {"version": "2"}},
            token=self.root_token,
        )
        assert status == 204, f"mounting KV v2 answered {status}"
        # A new KV v2 mount answers writes with an error until its upgrade has run.
        self._wait(
            lambda: self._request("GET", "/v1/secret/config", token=self.root_token)[0] == 200,
            "finish mounting KV v2",
        )

    def _stop(self, sig: signal.Signals) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            process.send_signal(sig)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self._reader is not None:
            self._reader.join(timeout=5)
            self._reader = None
        if process.stdout is not None:
            process.stdout.close()

    def _drain(self, stream: IO[str]) -> None:
        with contextlib.suppress(ValueError, OSError):
            for line in stream:
                self._output.append(line.rstrip("\n"))

    def _wait(self, condition: Any, what: str) -> None:
        deadline = time.monotonic() + self._startup_timeout
        while time.monotonic() < deadline:
            if self._process is None or self._process.poll() is not None:
                break
            if condition():
                return
            time.sleep(0.02)
        output = "\n".join(self._output) or "(no output)"
        raise RuntimeError(f"OpenBao did not {what}; its last output was:\n{output}")

    def _health(self) -> int | None:
        try:
            status, _ = self._request("GET", "/v1/sys/health", timeout=1.0)
        except OSError:
            return None
        return status

    def _request(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        *,
        token: str | None = None,
        timeout: float = 5.0,
    ) -> tuple[int, dict[str, Any]]:
        # http.client: no proxy from the environment can get between the test and loopback.
        connection = http.client.HTTPConnection("127.0.0.1", self._port, timeout=timeout)
        headers = {"X-Vault-Token": token} if token else {}
        try:
            connection.request(
                method, path, body=json.dumps(body) if body is not None else None, headers=headers
            )
            response = connection.getresponse()
            raw = response.read()
        finally:
            connection.close()
        try:
            parsed = json.loads(raw) if raw else {}
        except ValueError:
            parsed = {}
        return response.status, parsed if isinstance(parsed, dict) else {}
