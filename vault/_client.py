"""An asyncio face on one hvac client: KV v2 reads and writes that never block the event loop.

hvac is synchronous (requests), so every call runs on a small thread pool owned
by the client. Login state lives here too: the token is obtained lazily, and a
403 is told apart into "this token is no good" (log in again once, retry once)
and "this token may not read that path" (a policy denial, reported as such).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import os
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any, TypeVar

import hvac
import hvac.exceptions
import requests
import requests.adapters

from sdk._errors import UsageError, VaultAuthError, VaultConflictError, VaultError, VaultUnavailableError
from vault._errors import FOREIGN_ERRORS, translate_vault_error
from vault._settings import AppRoleAuth, TokenAuth, VaultSettings

__all__ = ["SecretVersionInfo", "VaultClient", "vault_executor"]

_T = TypeVar("_T")

DEFAULT_THREADS = 8
_MAX_CONNECTIONS = 32


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


_TOKEN_ERRORS = (hvac.exceptions.Forbidden, hvac.exceptions.Unauthorized)


@dataclasses.dataclass(frozen=True, slots=True)
class SecretVersionInfo:
    """What Vault knows about one version of a secret, without its value."""

    version: int
    created_time: datetime
    deletion_time: datetime | None
    destroyed: bool

    @property
    def readable(self) -> bool:
        """Whether the value of this version can still be read (it is neither deleted nor destroyed)."""
        return self.deletion_time is None and not self.destroyed


@dataclasses.dataclass(frozen=True, slots=True)
class _Where:
    """Names for error messages: which secret an hvac call was about."""

    path: str
    tenant: str | None = None
    integration: str | None = None


class VaultClient:
    """One logged-in connection to one Vault (or OpenBao) server.

    ``token``, if given, is used instead of looking one up as the settings say;
    with AppRole settings it is only the first token, and a new one is obtained
    by logging in when it stops working. Calls are safe from many tasks at once.
    hvac calls run on ``executor`` (see :func:`vault_executor`); without one the
    client makes and owns its own.
    """

    def __init__(
        self,
        settings: VaultSettings,
        *,
        token: str | None = None,
        executor: ThreadPoolExecutor | None = None,
    ) -> None:
        self._settings = settings
        self._explicit_token = token
        self._owns_executor = executor is None
        self._executor = executor if executor is not None else vault_executor()
        session = requests.Session()
        # Proxies, netrc and CA bundles from the environment are process-wide
        # settings that would silently apply to every tenant's Vault; the
        # tenant's settings are the only source of truth. It also saves the
        # per-request environment lookups requests does otherwise.
        session.trust_env = False
        session.verify = settings.verify
        # Room for one kept-alive connection per thread of any sensible pool;
        # urllib3 opens connections on demand, so the size costs nothing idle.
        pool = requests.adapters.HTTPAdapter(pool_connections=1, pool_maxsize=_MAX_CONNECTIONS)
        session.mount("http://", pool)
        session.mount("https://", pool)
        # token="" (not None): hvac would otherwise pick up VAULT_TOKEN or
        # ~/.vault-token, a credential this tenant was never configured with.
        self._hvac: Any = hvac.Client(
            url=settings.address,
            token="",
            verify=settings.verify,
            timeout=settings.timeout,
            namespace=settings.namespace,
            session=session,
        )
        self._login_lock = threading.Lock()
        self._generation = 0  # bumped by every successful login
        self._current_token: str | None = None
        self._owns_token = False  # True when the token came from our own login
        self._closed = False

    def __repr__(self) -> str:
        return (
            f"VaultClient(address={self._settings.address!r}, namespace={self._settings.namespace!r}, "
            f"auth={self._settings.auth.method!r})"
        )

    @property
    def settings(self) -> VaultSettings:
        """The settings this client was made from."""
        return self._settings

    # --- public async API ------------------------------------------------------------

    async def read_secret(
        self,
        path: str,
        *,
        version: int | None = None,
        tenant: str | None = None,
        integration: str | None = None,
    ) -> tuple[dict[str, object], int]:
        """Return the data and version number of the KV v2 secret at ``path``.

        Reads the newest version unless ``version`` is given; a deleted or
        destroyed version is reported as not found rather than returned empty.
        ``tenant`` and ``integration`` only name the secret in error messages.
        """
        where = _Where(path, tenant, integration)
        response = await self._submit(
            where,
            lambda: self._hvac.secrets.kv.v2.read_secret_version(
                path=path,
                version=version,
                mount_point=self._settings.mount,
                raise_on_deleted_version=True,
            ),
        )
        body = _mapping(response, "data")
        data = body.get("data")
        metadata = _mapping(body, "metadata")
        number = metadata.get("version")
        if not isinstance(data, dict) or not isinstance(number, int):
            raise self._shape_error(where)
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
        """
        where = _Where(path, tenant, integration)
        payload = dict(data)
        conflict: VaultConflictError | None = None
        try:
            response = await self._submit(
                where,
                lambda: self._hvac.secrets.kv.v2.create_or_update_secret(
                    path=path, secret=payload, cas=cas, mount_point=self._settings.mount
                ),
            )
        except VaultError as exc:
            # Vault answers a lost check-and-set with a 400 whose text says the versions differ.
            if (
                cas is None
                or type(exc) is not VaultError
                or "did not match the current version" not in str(exc)
            ):
                raise
            conflict = VaultConflictError(
                f"check-and-set write to {path!r} lost: the current version is no longer {cas}; "
                "another writer got there first, re-read and retry"
            )
        if conflict is not None:
            raise conflict
        number = _mapping(response, "data").get("version")
        if not isinstance(number, int):
            raise self._shape_error(where)
        return number

    async def read_versions(
        self, path: str, *, tenant: str | None = None, integration: str | None = None
    ) -> list[SecretVersionInfo]:
        """Return every version Vault keeps of the secret at ``path``, oldest first, without values."""
        where = _Where(path, tenant, integration)
        response = await self._submit(
            where,
            lambda: self._hvac.secrets.kv.v2.read_secret_metadata(
                path=path, mount_point=self._settings.mount
            ),
        )
        versions = _mapping(_mapping(response, "data"), "versions")
        try:
            infos = [_version_info(int(number), _mapping(info)) for number, info in versions.items()]
        except (TypeError, ValueError):
            infos = None
        if infos is None:
            raise self._shape_error(where)
        return sorted(infos, key=lambda info: info.version)

    async def close(self) -> None:
        """Revoke a token this client logged in for, then release its threads and connections.

        A token handed to the client (token auth) belongs to someone else and is
        left alone. An executor passed in belongs to the caller and stays open.
        """
        if self._closed:
            return
        self._closed = True
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._executor, self._revoke_own_token)
        if self._owns_executor:
            await asyncio.to_thread(self._executor.shutdown, wait=True)
        self._hvac.token = None
        self._current_token = None
        self._hvac.adapter.close()

    # --- machinery -------------------------------------------------------------------

    async def _submit(self, where: _Where, call: Callable[[], _T]) -> _T:
        if self._closed:
            raise UsageError(f"{self!r} is closed; create a new client (or CredentialStore)")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, functools.partial(self._run, where, call))

    def _run(self, where: _Where, call: Callable[[], _T]) -> _T:
        """Run ``call`` on a worker thread and translate what it raises.

        The SDK error is raised after the ``except`` block on purpose, so it
        carries neither ``__cause__`` nor ``__context__``: see vault._errors.
        """
        try:
            return self._call_with_login(call)
        except FOREIGN_ERRORS as exc:
            error = translate_vault_error(
                exc,
                path=where.path,
                tenant=where.tenant,
                integration=where.integration,
                address=self._settings.address,
                mount=self._settings.mount,
            )
        raise error

    def _call_with_login(self, call: Callable[[], _T]) -> _T:
        generation = self._ensure_logged_in()
        try:
            return call()
        except _TOKEN_ERRORS:
            # OpenBao answers 403 both for a bad token and for a policy denial;
            # only the token's own lookup tells them apart.
            if self._token_still_valid(generation):
                raise
        self._login_again(generation)
        return call()

    def _ensure_logged_in(self) -> int:
        if self._current_token is None:
            with self._login_lock:
                if self._current_token is None:
                    self._login_locked()
        return self._generation

    def _token_still_valid(self, generation: int) -> bool:
        if generation != self._generation:
            return False  # another thread logged in meanwhile; just retry with its token
        try:
            self._hvac.auth.token.lookup_self()
        except _TOKEN_ERRORS:
            return False
        return True

    def _login_again(self, generation: int) -> None:
        with self._login_lock:
            if generation != self._generation:
                return
            stale = self._current_token
            self._login_locked()
            if self._current_token == stale:
                raise VaultAuthError(
                    f"the Vault token for {self._settings.address} expired or was revoked; "
                    f"{self._token_remedy()}"
                )

    def _login_locked(self) -> None:
        auth = self._settings.auth
        if self._explicit_token is not None and self._generation == 0:
            token, owned = self._explicit_token, False
        elif isinstance(auth, TokenAuth):
            token, owned = (self._explicit_token or _read_token(auth)), False
        else:
            token, owned = self._approle_login(auth), True
        self._hvac.token = token
        self._current_token = token
        self._owns_token = owned
        self._generation += 1

    def _approle_login(self, auth: AppRoleAuth) -> str:
        secret_id = _read_secret_id(auth)
        where = f"auth/{auth.mount_point}/login"
        try:
            response = self._hvac.auth.approle.login(
                role_id=auth.role_id, secret_id=secret_id, mount_point=auth.mount_point, use_token=False
            )
        except FOREIGN_ERRORS as exc:
            error = translate_vault_error(
                exc, path=where, tenant=None, integration=None, address=self._settings.address
            )
            # Unreachable, sealed, slow or rate-limited: Vault's state, reported
            # as such. Anything else means these login credentials were refused.
            if not isinstance(error, VaultUnavailableError):
                error = VaultAuthError(
                    f"AppRole login at {where!r} on Vault at {self._settings.address} failed; "
                    f"check role_id and {_secret_id_source(auth)}, and that the AppRole auth method is "
                    f"enabled at {auth.mount_point!r}"
                )
        else:
            token = _mapping(_mapping(response, "auth")).get("client_token")
            if isinstance(token, str) and token:
                return token
            error = VaultAuthError(
                f"AppRole login at {where!r} on Vault at {self._settings.address} gave no token"
            )
        raise error

    def _token_remedy(self) -> str:
        auth = self._settings.auth
        if self._explicit_token is not None and isinstance(auth, TokenAuth):
            return "the token was given in code, so give the client a new one"
        if isinstance(auth, TokenAuth):
            source = f"the file {auth.token_file!r}" if auth.token_file else f"${auth.token_env}"
            return f"put a valid token in {source}"
        return f"check role_id and {_secret_id_source(auth)}"

    def _revoke_own_token(self) -> None:
        if self._owns_token and self._current_token is not None:
            # Best effort: the token expires on its own TTL anyway, and a close
            # that fails because Vault is down would only hide the real problem.
            with contextlib.suppress(*FOREIGN_ERRORS):
                self._hvac.auth.token.revoke_self()

    def _shape_error(self, where: _Where) -> VaultError:
        return VaultError(
            f"Vault at {self._settings.address} answered for path {where.path!r} with an unexpected shape; "
            f"check that {self._settings.mount!r} is a KV version 2 mount"
        )


def _mapping(value: object, key: str | None = None) -> Mapping[str, object]:
    """Return ``value[key]`` (or ``value``) if it is a mapping, else an empty one."""
    if key is not None:
        value = value.get(key) if isinstance(value, Mapping) else None
    return value if isinstance(value, Mapping) else {}


def _parse_time(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    return datetime.fromisoformat(value)


def _version_info(number: int, info: Mapping[str, object]) -> SecretVersionInfo:
    created = _parse_time(info.get("created_time"))
    if created is None:
        raise ValueError("version without created_time")
    return SecretVersionInfo(
        version=number,
        created_time=created,
        deletion_time=_parse_time(info.get("deletion_time")),
        destroyed=bool(info.get("destroyed", False)),
    )


def _read_file(path: str, what: str) -> str:
    try:
        with open(path, encoding="utf-8") as handle:
            value = handle.read().strip()
    except OSError as exc:
        # The OSError names the file and the reason, never its contents.
        raise VaultAuthError(f"cannot read the {what} file {path!r}: {exc.strerror}") from None
    if not value:
        raise VaultAuthError(f"the {what} file {path!r} is empty")
    return value


def _read_token(auth: TokenAuth) -> str:
    if auth.token_file:
        return _read_file(auth.token_file, "Vault token")
    token = os.environ.get(auth.token_env, "").strip()
    if not token:
        raise VaultAuthError(
            f"no Vault token: set the environment variable {auth.token_env} "
            "(or configure token_file) for this tenant's Vault"
        )
    return token


def _read_secret_id(auth: AppRoleAuth) -> str | None:
    if auth.secret_id_file:
        return _read_file(auth.secret_id_file, "AppRole secret id")
    if auth.secret_id_env:
        secret_id = os.environ.get(auth.secret_id_env, "").strip()
        if not secret_id:
            raise VaultAuthError(f"no AppRole secret id: set the environment variable {auth.secret_id_env}")
        return secret_id
    return None


def _secret_id_source(auth: AppRoleAuth) -> str:
    if auth.secret_id_file:
        return f"the secret id in {auth.secret_id_file!r}"
    if auth.secret_id_env:
        return f"the secret id in ${auth.secret_id_env}"
    return "whether the role needs a secret id"
