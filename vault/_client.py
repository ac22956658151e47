"""An asyncio face on one hvac client: KV v2 reads and writes that never block the event loop.

The hot path, the KV v2 read every vendor request starts with, is sent on the
event loop itself through aiohttp (:mod:`vault._kv_reader`): no thread hop, and
no worker thread holding the GIL while the loop waits for it. Everything else
(logins, token lookups and renewals, writes with check-and-set, metadata)
is hvac, which is synchronous (requests), so it runs on a small thread pool
owned by the client; with ``async_reads=False`` reads go that way too. Both
read paths raise the same errors for the same answers: the on-loop read turns
what it got into the exception hvac would have raised and translates that.

The token both paths send, and its logins, re-logins and renewals, are kept
by the client's :class:`~vault._login.VaultLogin`; the on-loop read itself is
:mod:`vault._kv_read`, and what every failure says is :mod:`vault._client_errors`.

The hvac client is made on its first use, on the executor (:class:`~vault._hvac.LazyHvac`):
hvac and requests cost ~70 ms to import, which building a client, a store or
a runtime does not pay.
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, TypeVar

from sdk._errors import UsageError, VaultError, VaultPermissionError
from vault._answers import mapping_at
from vault._client_errors import ClientErrors, Where, cas_lost, is_cas_loss
from vault._consistency import INDEX_HEADER, ReplicationState
from vault._hvac import LazyHvac, hvac_client, vault_executor
from vault._kv_read import KvLoopRead
from vault._kv_reader import KvReader
from vault._kv_request import format_url
from vault._login import VaultLogin
from vault._secret_versions import SecretVersionInfo, versions_from
from vault._settings import VaultSettings

if TYPE_CHECKING:
    import requests

__all__ = ["SecretVersionInfo", "VaultClient"]

_T = TypeVar("_T")


class VaultClient:
    """One logged-in connection to one Vault (or OpenBao) server.

    ``token``, if given, is used instead of looking one up as the settings say;
    with AppRole settings it is only the first token, and a new one is obtained
    by logging in when it stops working. Calls are safe from many tasks at once.
    hvac calls run on ``executor`` (see :func:`vault_executor`); without one the
    client makes and owns its own.

    KV reads go through ``reader``, the aiohttp pool of this Vault address
    (shared with other clients of the address; without one the client makes
    and owns its own), on the event loop of the first read. A read from
    another event loop, or every read with ``async_reads=False``, goes through
    hvac on ``executor`` instead, with the same results and errors.

    A token with a TTL is renewed in the background while the client is in use
    (``renew_tokens=False`` turns that off, e.g. for one-shot commands); the
    renewer is one asyncio task on the loop of the client's calls, doing its
    Vault requests on ``executor``, and :meth:`close` stops it. ``clock`` is
    for tests.
    """

    def __init__(
        self,
        settings: VaultSettings,
        *,
        token: str | None = None,
        executor: ThreadPoolExecutor | None = None,
        renew_tokens: bool = True,
        clock: Callable[[], float] = time.monotonic,
        async_reads: bool = True,
        reader: KvReader | None = None,
    ) -> None:
        if reader is not None and reader.address != settings.address:
            raise UsageError(
                f"the KV reader for {reader.address} cannot serve a client of {settings.address}"
            )
        self._settings = settings
        self._errors = ClientErrors(settings)
        self._owns_executor = executor is None
        self._executor = executor if executor is not None else vault_executor()
        self._owns_reader = async_reads and reader is None
        self._reader = (reader or KvReader(settings.address)) if async_reads else None
        # Every hvac answer (writes, logins, metadata) and every on-loop read moves the newest
        # replication index this client has seen forward; consistent reads send it back.
        self._replication = ReplicationState()
        self._lazy_hvac = LazyHvac(self._make_hvac)
        self._login = VaultLogin(
            settings,
            self._lazy_hvac,
            token=token,
            executor=self._executor,
            renew_tokens=renew_tokens,
            clock=clock,
        )
        self._loop_read = KvLoopRead(settings, self._login, self._executor, self._errors, self._replication)
        self._closed = False

    def __repr__(self) -> str:
        return (
            f"VaultClient(address={self._settings.address!r}, namespace={self._settings.namespace!r}, "
            f"auth={self._settings.auth.method!r})"
        )

    @property
    def _hvac(self) -> Any:
        """The hvac client, made (hvac imported) on its first use; holds the current token."""
        return self._lazy_hvac.get()

    @property
    def settings(self) -> VaultSettings:
        """The settings this client was made from."""
        return self._settings

    @property
    def token_expires_in(self) -> float | None:
        """Seconds until the current token expires; None without a token or for one that never expires."""
        return self._login.token_expires_in

    @property
    def logins(self) -> int:
        """How many tokens this client has taken up: logins, and tokens read from their source."""
        return self._login.logins

    @property
    def renewals(self) -> int:
        """How many times this client has renewed its token."""
        return self._login.renewals

    @property
    def replication_index(self) -> int | None:
        """The newest replication index Vault reported to this client (None before any; for tests)."""
        return self._replication.index

    # --- public async API ------------------------------------------------------------

    async def read_secret(
        self,
        path: str,
        *,
        version: int | None = None,
        tenant: str | None = None,
        integration: str | None = None,
        consistent: bool = False,
    ) -> tuple[dict[str, object], int]:
        """Return the data and version number of the KV v2 secret at ``path``.

        Reads the newest version unless ``version`` is given; a deleted or
        destroyed version is reported as not found rather than returned empty.
        ``tenant`` and ``integration`` only name the secret in error messages.

        With ``consistent`` the read sees every write this client has seen
        acknowledged (its own, and, through the index a check-and-set write
        returned, everything before it): a standby node that has not caught up
        forwards it to the active node (see :mod:`vault._consistency`). Without
        it a standby may answer from a copy that trails by a heartbeat.
        """
        where = Where(path, tenant, integration)
        reader = self._reader
        extra = self._replication.headers() if consistent else {}
        response: object
        if reader is not None and reader.usable():
            self._check_open()
            response = await self._loop_read.read(reader, where, path, version, extra)
        elif extra:
            response = await self._submit(where, functools.partial(self._hvac_read, path, version, extra))
        else:
            response = await self._submit(
                where,
                lambda: self._hvac.secrets.kv.v2.read_secret_version(
                    path=path,
                    version=version,
                    mount_point=self._settings.mount,
                    raise_on_deleted_version=True,
                ),
            )
        body = mapping_at(response, "data")
        data = body.get("data")
        metadata = mapping_at(body, "metadata")
        number = metadata.get("version")
        if not isinstance(data, dict) or not isinstance(number, int):
            raise self._errors.shape_error(where)
        return dict(data), number

    async def write_secret(
        self,
        path: str,
        data: Mapping[str, object],
        *,
        cas: int | None,
        tenant: str | None = None,
        integration: str | None = None,
    ) -> int:
        """Write ``data`` as a new version of the secret at ``path`` and return its number.

        With ``cas`` the write only succeeds if the current version is ``cas``
        (``0``: only if there is none yet), so that two rotations cannot both win.

        The write carries the newest replication index this client has seen
        (:mod:`vault._consistency`): a standby node checks ``cas`` against its
        own copy before it forwards a write, and a copy that trails the active
        node would make a write that should win lose. With the index, a standby
        that has not caught up forwards the write unchecked.
        """
        where = Where(path, tenant, integration)
        payload = dict(data)
        extra = self._replication.headers()
        failure: VaultError | None = None
        try:
            response = await self._submit(
                where,
                functools.partial(self._hvac_write, path, payload, cas, extra)
                if extra
                else lambda: self._hvac.secrets.kv.v2.create_or_update_secret(
                    path=path, secret=payload, cas=cas, mount_point=self._settings.mount
                ),
            )
        except VaultPermissionError:
            failure = self._errors.write_denied(where)
        except VaultError as exc:
            if cas is None or not is_cas_loss(exc):
                raise
            failure = cas_lost(path, cas)
        if failure is not None:
            raise failure
        number = mapping_at(response, "data").get("version")
        if not isinstance(number, int):
            raise self._errors.shape_error(where)
        return number

    async def read_versions(
        self, path: str, *, tenant: str | None = None, integration: str | None = None
    ) -> list[SecretVersionInfo]:
        """Return every version Vault keeps of the secret at ``path``, oldest first, without values."""
        where = Where(path, tenant, integration)
        denied: VaultPermissionError | None = None
        try:
            response = await self._submit(
                where,
                lambda: self._hvac.secrets.kv.v2.read_secret_metadata(
                    path=path, mount_point=self._settings.mount
                ),
            )
        except VaultPermissionError:
            denied = self._errors.versions_denied(where)
        if denied is not None:
            raise denied
        infos = versions_from(response)
        if infos is None:
            raise self._errors.shape_error(where)
        return infos

    async def close(self) -> None:
        """Revoke a token this client logged in for, then release its threads and connections.

        A token handed to the client (token auth) belongs to someone else and is
        left alone. An executor passed in belongs to the caller and stays open.
        """
        if self._closed:
            return
        self._closed = True
        await self._login.stop()
        if self._owns_executor:
            await asyncio.to_thread(self._executor.shutdown, wait=True)
        if self._owns_reader and self._reader is not None:
            await self._reader.aclose()
        made = self._lazy_hvac.made
        if made is not None:
            made.adapter.close()

    # --- machinery -------------------------------------------------------------------

    def _make_hvac(self) -> Any:
        """This client's hvac client (see :func:`hvac_client`), reporting replication indexes."""
        client = hvac_client(self._settings)
        client.adapter.session.hooks["response"].append(self._note_index)
        return client

    def _note_index(self, response: requests.Response, *args: object, **kwargs: object) -> None:
        """A ``requests`` response hook: keep the replication index of every hvac answer."""
        self._replication.note(response.headers.get(INDEX_HEADER))

    def _hvac_read(self, path: str, version: int | None, headers: Mapping[str, str]) -> object:
        """hvac's ``read_secret_version`` with extra headers (it takes none), for consistent reads.

        The same request and the same errors: a 404, deleted version included,
        raises ``InvalidPath`` as ``raise_on_deleted_version=True`` does.
        """
        api_path = format_url("/v1/{mount_point}/data/{path}", mount_point=self._settings.mount, path=path)
        params = {"version": version} if version is not None else {}
        return self._hvac.adapter.get(url=api_path, params=params, headers=dict(headers))

    def _hvac_write(
        self, path: str, payload: dict[str, object], cas: int | None, headers: Mapping[str, str]
    ) -> object:
        """hvac's ``create_or_update_secret`` with extra headers (it takes none): the same request."""
        options: dict[str, object] = {} if cas is None else {"cas": cas}
        api_path = format_url("/v1/{mount_point}/data/{path}", mount_point=self._settings.mount, path=path)
        return self._hvac.adapter.post(
            url=api_path, json={"options": options, "data": payload}, headers=dict(headers)
        )

    async def _submit(self, where: Where, call: Callable[[], _T]) -> _T:
        self._check_open()
        loop = asyncio.get_running_loop()
        result = await loop.run_in_executor(self._executor, functools.partial(self._run, where, call))
        self._login.keep_renewing()
        return result

    def _check_open(self) -> None:
        if self._closed:
            raise UsageError(f"{self!r} is closed; create a new client (or CredentialStore)")

    def _run(self, where: Where, call: Callable[[], _T]) -> _T:
        """Run ``call`` with login and re-login on a worker thread, and translate what it raises."""
        return self._errors.translated(where, lambda: self._login.call_with_login(call))
