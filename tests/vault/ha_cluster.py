"""A three-node OpenBao cluster with integrated (Raft) storage on loopback, and a load balancer for it.

Production runs Vault as an HA cluster behind a load balancer (or a DNS name)
that sends each new connection to a node that is up; standbys forward
requests to the active node. :class:`RaftCluster` starts three production-mode
``bao server`` processes that join one another (``retry_join``), initialises
one with a single key share and unseals all three. :class:`TcpBalancer` is the
load balancer: a TCP proxy on its own thread and event loop that sends each new
connection to the next node accepting connections.
"""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import json
import os
import signal
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

from vault import find_bao_binary
from vault.devserver import _free_port_pair

__all__ = ["RaftCluster", "TcpBalancer"]

_NODE = """\
storage "raft" {{
  path    = "{data}"
  node_id = "{node_id}"
  performance_multiplier = 1
{joins}}}
listener "tcp" {{
  address         = "127.0.0.1:{port}"
  cluster_address = "127.0.0.1:{cluster_port}"
  tls_disable     = true
}}
api_addr      = "http://127.0.0.1:{port}"
cluster_addr  = "http://127.0.0.1:{cluster_port}"
disable_mlock = true
ui            = false
"""
_JOIN = '  retry_join {{\n    leader_api_addr = "http://127.0.0.1:{port}"\n  }}\n'


def _request(port: int, method: str, path: str, body: object = None, token: str | None = None) -> Any:
    """One plain HTTP request to a node (http.client: no proxy from the environment in between)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        headers = {"X-Vault-Token": token} if token else {}
        payload = json.dumps(body).encode() if body is not None else None
        connection.request(method, path, body=payload, headers=headers)
        response = connection.getresponse()
        raw = response.read()
        return response.status, (json.loads(raw) if raw else None)
    finally:
        connection.close()


class RaftCluster:
    """Three OpenBao nodes sharing Raft storage; :meth:`kill` one to fail it over."""

    def __init__(self, workdir: Path, size: int = 3) -> None:
        self._workdir = workdir
        ports: list[int] = []
        while len(ports) < size:
            port = _free_port_pair()
            if all(abs(port - taken) > 1 for taken in ports):
                ports.append(port)
        self.ports = ports
        self._processes: dict[int, subprocess.Popen[bytes]] = {}
        self.root_token = ""
        self._unseal_key = ""

    def start(self, timeout: float = 30.0) -> RaftCluster:
        joins = "".join(_JOIN.format(port=port) for port in self.ports)
        env = {key: value for key, value in os.environ.items() if not key.startswith(("BAO_", "VAULT_"))}
        for index, port in enumerate(self.ports):
            data = self._workdir / f"node{index}"
            data.mkdir(parents=True)
            config = self._workdir / f"node{index}.hcl"
            config.write_text(
                _NODE.format(data=data, node_id=f"node{index}", joins=joins, port=port, cluster_port=port + 1)
            )
            log = (self._workdir / f"node{index}.log").open("wb")
            self._processes[port] = subprocess.Popen(
                [find_bao_binary(), "server", f"-config={config}", "-log-level=warn"],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
            )
            log.close()
        deadline = time.monotonic() + timeout
        first = self.ports[0]
        self._wait(lambda: self.health(first) is not None, deadline, "the first node to listen")
        _, answer = _request(first, "PUT", "/v1/sys/init", {"secret_shares": 1, "secret_threshold": 1})
        self.root_token = answer["root_token"]
        self._unseal_key = answer["keys"][0]
        self.unseal(first)
        self._wait(lambda: self.active_port() == first, deadline, "the first node to become active")
        # Autopilot makes a joined node a voter once it has been healthy for the stabilization
        # time (10 s by default): 1 s halves the cluster's start-up (~23 s -> ~12 s on 2 cores).
        self._wait(lambda: self._stabilize_quickly(first), deadline, "autopilot to take its settings")
        for port in self.ports[1:]:
            # A node joins (retry_join) while sealed, then is unsealed with the cluster's key.
            self._wait(lambda port=port: self._unseal_joined(port), deadline, f"node {port} to join")
        self._wait(lambda: self._voters() == len(self.ports), deadline, "three voters")
        return self

    def _unseal_joined(self, port: int) -> bool:
        health = self.health(port)
        if health is None or not health.get("initialized"):
            return False
        if health.get("sealed"):
            self.unseal(port)
            return False
        return bool(health.get("standby"))

    def _stabilize_quickly(self, port: int) -> bool:
        status, _ = _request(
            port,
            "POST",
            "/v1/sys/storage/raft/autopilot/configuration",
            {"server_stabilization_time": "1s"},
            token=self.root_token,
        )
        return bool(status in (200, 204))

    def _voters(self) -> int:
        status, answer = _request(
            self.ports[0], "GET", "/v1/sys/storage/raft/configuration", token=self.root_token
        )
        if status != 200:
            return 0
        servers = answer["data"]["config"]["servers"]
        return sum(1 for server in servers if server.get("voter"))

    def unseal(self, port: int) -> None:
        _request(port, "PUT", "/v1/sys/unseal", {"key": self._unseal_key})

    def health(self, port: int) -> dict[str, Any] | None:
        try:
            _, answer = _request(port, "GET", "/v1/sys/health?standbyok=true&sealedcode=200&uninitcode=200")
        except OSError:
            return None
        return answer if isinstance(answer, dict) else None

    def alive(self, port: int) -> bool:
        process = self._processes.get(port)
        return process is not None and process.poll() is None

    def active_port(self) -> int | None:
        for port in self.ports:
            if not self.alive(port):
                continue
            health = self.health(port)
            if health and not health.get("sealed") and not health.get("standby"):
                return port
        return None

    def seal(self, port: int) -> None:
        """Seal one node (a standby sealed this way stays sealed, and answers 503, until unsealed)."""
        status, _ = _request(port, "PUT", "/v1/sys/seal", token=self.root_token)
        if status not in (200, 204):
            raise RuntimeError(f"sealing node {port} failed with HTTP {status}")
        self._wait(lambda: (self.health(port) or {}).get("sealed") is True, time.monotonic() + 10, "sealed")

    def unseal_standby(self, port: int, timeout: float = 15.0) -> None:
        """Unseal a sealed node and wait until it serves as a standby again."""
        self.unseal(port)
        self._wait(
            lambda: (self.health(port) or {}).get("sealed") is False,
            time.monotonic() + timeout,
            f"node {port} unsealed",
        )

    def pause(self, port: int) -> None:
        """Freeze a node (SIGSTOP): it still accepts TCP connections (the kernel does) and answers nothing,
        as a node behind a network partition or stuck in a long GC pause looks to a client."""
        self._processes[port].send_signal(signal.SIGSTOP)

    def resume(self, port: int) -> None:
        self._processes[port].send_signal(signal.SIGCONT)

    def kill(self, port: int) -> None:
        """Crash a node (SIGKILL): nothing is handed over politely."""
        process = self._processes[port]
        process.send_signal(signal.SIGKILL)
        process.wait(10)

    def close(self) -> None:
        for process in self._processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGCONT)  # a paused node would not act on SIGTERM
                process.terminate()
        for process in self._processes.values():
            try:
                process.wait(5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    @staticmethod
    def _wait(condition: Any, deadline: float, what: str) -> None:
        while not condition():
            if time.monotonic() > deadline:
                raise TimeoutError(f"the OpenBao cluster did not get {what} in time")
            time.sleep(0.1)


class TcpBalancer:
    """A TCP load balancer on 127.0.0.1: each new connection goes to the next node that accepts it."""

    def __init__(self, backends: list[int]) -> None:
        self._backends = backends
        self._next = 0
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._server: asyncio.Server | None = None
        self._thread = threading.Thread(target=self._run, name="tcp-balancer", daemon=True)
        self.port = 0
        self.connections = 0
        self._writers: set[asyncio.StreamWriter] = set()

    def __enter__(self) -> TcpBalancer:
        self._thread.start()
        if not self._ready.wait(10):
            raise TimeoutError("the balancer did not start")
        return self

    def __exit__(self, *exc: object) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    @property
    def address(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._server = self._loop.run_until_complete(asyncio.start_server(self._serve, "127.0.0.1", 0))
        self.port = self._server.sockets[0].getsockname()[1]
        self._ready.set()
        try:
            self._loop.run_forever()
        finally:
            self._server.close()
            # Close every proxied connection and finish its pipes on this loop: a stream left for
            # the garbage collector after the loop closed warns, in whatever test runs then.
            for writer in list(self._writers):
                writer.close()
            pending = asyncio.all_tasks(self._loop)
            for task in pending:
                task.cancel()
            with contextlib.suppress(Exception):
                self._loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            with contextlib.suppress(Exception):
                self._loop.run_until_complete(self._server.wait_closed())
            self._loop.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
        for _ in range(len(self._backends)):
            port = self._backends[self._next % len(self._backends)]
            self._next += 1
            try:
                upstream = await asyncio.open_connection("127.0.0.1", port)
                break
            except OSError:
                continue  # a dead node refuses: try the next, as a health-checked balancer would
        if upstream is None:
            writer.close()
            return
        self.connections += 1
        up_reader, up_writer = upstream
        self._writers.update((writer, up_writer))

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            with contextlib.suppress(OSError, asyncio.CancelledError):
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            with contextlib.suppress(OSError):
                sink.close()

        try:
            await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
        finally:
            self._writers.difference_update((writer, up_writer))
