"""The synchronous side of a Vault client: hvac, configured for one tenant's Vault, and its threads.

hvac sends with requests, which blocks, so its calls run on a thread pool of
their own; and both hvac and requests take settings from the environment
unless told not to, which here would silently apply one process-wide setting
to every tenant's Vault.

hvac and requests are imported by :func:`hvac_client` only, never with this
module: together they cost ~70 ms to import, and a read-only deployment reads
its secrets through aiohttp (:mod:`vault._kv_read`), so it needs them only for
what hvac alone does (logins, token lookups and renewals, writes, metadata).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from pydantic import SecretStr

from vault._settings import VaultSettings

__all__ = ["DEFAULT_THREADS", "LazyHvac", "hvac_client", "vault_executor"]

_MAX_CONNECTIONS = 32
DEFAULT_THREADS = 8


def vault_executor(max_workers: int = DEFAULT_THREADS) -> ThreadPoolExecutor:
    """Return a thread pool for hvac calls with all of its threads already started.

    ``ThreadPoolExecutor`` starts threads lazily inside ``submit``, i.e. on the
    event loop, and ``Thread.start`` waits for the new thread to get the GIL:
    under a burst of reads that stalled the loop for ~60 ms on 2 cores.
    Starting them here, at configuration time, costs ~1.5 ms once. Eight
    threads: on 2 cores more only lengthen GIL hand-offs (worst loop stall
    ~25 ms at 16 threads, ~15 ms at 8) without reading any faster.
    """
    executor = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="nexora-vault")
    barrier = threading.Barrier(max_workers + 1)
    for _ in range(max_workers):
        executor.submit(barrier.wait, 10)
    barrier.wait(10)
    return executor


def hvac_client(settings: VaultSettings) -> Any:
    """An hvac client for ``settings`` with no token yet, nothing from the environment, no redirects."""
    import hvac
    import requests
    import requests.adapters

    session = requests.Session()
    # Proxies, netrc and CA bundles from the environment are process-wide
    # settings that would silently apply to every tenant's Vault; the
    # tenant's settings are the only source of truth. It also saves the
    # per-request environment lookups requests does otherwise.
    session.trust_env = False
    session.verify = settings.tls_verify
    session.cert = settings.tls_client_cert
    # Room for one kept-alive connection per thread of any sensible pool;
    # urllib3 opens connections on demand, so the size costs nothing idle.
    pool = requests.adapters.HTTPAdapter(pool_connections=1, pool_maxsize=_MAX_CONNECTIONS)
    session.mount("http://", pool)
    session.mount("https://", pool)
    # token="" (not None): hvac would otherwise pick up VAULT_TOKEN or
    # ~/.vault-token, a credential this tenant was never configured with.
    # No redirects: requests would re-send X-Vault-Token to whatever host a
    # redirect names (it strips only Authorization); see vault._kv_reader.
    return hvac.Client(
        url=settings.address,
        token="",
        verify=settings.tls_verify,
        cert=settings.tls_client_cert,
        timeout=settings.timeout,
        namespace=settings.namespace,
        session=session,
        allow_redirects=False,
    )


class LazyHvac:
    """One Vault client's hvac client, made by ``make`` on first use, and the token it sends.

    Made under a lock, so that threads racing to make it share one client, and
    a token set before it exists is the one it holds once made.
    """

    def __init__(self, make: Callable[[], Any]) -> None:
        self._make = make
        self._lock = threading.Lock()
        self._client: Any = None
        self._token: SecretStr | None = None

    @property
    def made(self) -> Any | None:
        """The client if it was made, else None (asking never makes it)."""
        return self._client

    def get(self) -> Any:
        """The client, made now (hvac imported) if it was not yet."""
        client = self._client
        if client is None:
            with self._lock:
                client = self._client
                if client is None:
                    client = self._make()
                    if self._token is not None:
                        client.token = self._token.get_secret_value()
                    self._client = client
        return client

    def set_token(self, token: SecretStr | None) -> None:
        """Send ``token`` from now on (None: forget it), through a client made now or later."""
        with self._lock:
            self._token = token
            if self._client is not None:
                self._client.token = None if token is None else token.get_secret_value()
