"""The token one Vault client sends: taken up lazily, replaced when refused or expired, kept alive.

Login state lives here, once, for both of the client's read paths: the token
is obtained lazily, a read sends the token hvac currently holds, and a 403 is
told apart into "this token is no good" (log in again once, retry once) and
"this token may not read that path" (a policy denial, reported as such).

Tokens that expire are kept alive in the background (see :mod:`vault._renewal`):
renewed at two thirds of their lease, replaced by a new login once they cannot
be renewed any more, and never sent once known to be expired: a read that
finds the token expired logs in first, or, for a token provisioned out of
band, fails with :class:`~sdk._errors.VaultAuthError` without sending it.

Everything here that talks to Vault blocks (hvac is synchronous), so it runs
on the client's executor, never on the event loop.
The hvac client is made on first use (:class:`~vault._hvac.LazyHvac`), on that
executor: a process that builds its Vault clients at start-up does not import hvac.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from pydantic import SecretStr

from sdk._errors import VaultAuthError, VaultUnavailableError
from vault._answers import is_redirect, mapping_at, redirect_error, vault_name
from vault._client_errors import (
    foreign_errors,
    not_renewable_errors,
    token_errors,
    translate_foreign,
    upkeep_retryable,
)
from vault._hvac import LazyHvac
from vault._login_secrets import login_remedy, method_name, read_file, read_secret_id, read_token, same_token
from vault._renewal import TokenLease, TokenRenewer
from vault._settings import AppRoleAuth, JwtAuth, TokenAuth, VaultSettings

__all__ = ["VaultLogin"]

_T = TypeVar("_T")

logger = logging.getLogger("vault.client")


class VaultLogin:
    """The login state of one :class:`~vault.VaultClient`, shared by its (lazy) hvac client ``hvac``.

    ``token``, if given, is used instead of looking one up as the settings say;
    with AppRole or JWT settings it is only the first token. Upkeep (renewal
    and replacement) runs as one asyncio task, doing its Vault requests on
    ``executor``, unless ``renew_tokens`` is False. ``clock`` is for tests.
    """

    def __init__(
        self,
        settings: VaultSettings,
        hvac: LazyHvac,
        *,
        token: str | None,
        executor: ThreadPoolExecutor,
        renew_tokens: bool,
        clock: Callable[[], float],
    ) -> None:
        self._settings = settings
        self._hvac = hvac
        self._vault_name = vault_name(settings)
        # Tokens are held as SecretStr (masked in repr, str and logs, S3) and unwrapped only
        # where they are sent; hvac keeps its own plain copy, in its adapter.
        self._explicit_token = SecretStr(token) if token is not None else None
        self._executor = executor
        self._clock = clock
        self._login_lock = threading.Lock()
        self._generation = 0  # bumped by every successful login
        self._current_token: SecretStr | None = None
        self._owns_token = False  # True when the token came from our own login
        self._lease: TokenLease | None = None  # None: no token yet, or one that never expires
        self._renewer = (
            TokenRenewer(
                first_delay=self._first_upkeep_delay,
                upkeep=self._upkeep,
                executor=executor,
                name=f"vault-token-renewer {settings.address}",
            )
            if renew_tokens
            else None
        )
        self._closed = False
        self.logins: int = 0
        """How many tokens have been taken up: logins, and tokens read from their source."""
        self.renewals: int = 0
        """How many times the token has been renewed."""

    @property
    def generation(self) -> int:
        """Bumped by every login: a 403 under an older generation was answered to an older token."""
        return self._generation

    @property
    def current_token(self) -> SecretStr | None:
        return self._current_token

    @property
    def lease(self) -> TokenLease | None:
        return self._lease

    @property
    def token_expires_in(self) -> float | None:
        """Seconds until the current token expires; None without a token or for one that never expires."""
        lease = self._lease
        return None if lease is None else lease.expires_at - self._clock()

    def due(self) -> bool:
        """Whether a login must come before the next request: no token yet, or one known to be expired."""
        lease = self._lease
        return self._current_token is None or (lease is not None and lease.expired(self._clock()))

    def keep_renewing(self) -> None:
        """Start the upkeep task if a token with a lease is held and nothing keeps it alive yet."""
        lease, renewer = self._lease, self._renewer
        if renewer is not None and lease is not None and not lease.abandoned and not renewer.running:
            renewer.ensure_running()

    async def stop(self) -> None:
        """Stop the upkeep, revoke a token of our own login, and forget the token."""
        self._closed = True
        if self._renewer is not None:
            await self._renewer.stop()
        await asyncio.get_running_loop().run_in_executor(self._executor, self._revoke_own_token)
        self._hvac.set_token(None)
        self._current_token = None

    def call_with_login(self, call: Callable[[], _T]) -> _T:
        """Run the hvac ``call`` with a token; after a 401 or 403 for a bad token, log in and rerun it."""
        generation = self.ensure_logged_in()
        try:
            return call()
        except token_errors():
            # OpenBao answers 403 both for a bad token and for a policy denial;
            # only the token's own lookup tells them apart.
            if self._token_still_valid(generation):
                raise
        self._login_again(generation)
        return call()

    def relogin_if_bad(self, generation: int) -> bool:
        """After a 401 or 403: True if the token was bad and a new one is in place; False if denied."""
        if self._token_still_valid(generation):
            return False
        self._login_again(generation)
        return True

    def ensure_logged_in(self, lookup: Callable[[], object] | None = None) -> int:
        """Take up a token if none is held or it is known to be expired; return the login generation.

        ``lookup`` sends the new token's self-lookup in place of hvac's ``lookup_self``, with its
        answer and errors (the on-loop read sends it through aiohttp: see :mod:`vault._kv_read`).
        """
        lease = self._lease
        if self._current_token is None or (lease is not None and lease.expired(self._clock())):
            with self._login_lock:
                lease = self._lease
                if self._current_token is None:
                    self._login_locked(lookup)
                elif lease is not None and lease.expired(self._clock()):
                    self._replace_expired_locked(lookup)
        return self._generation

    def _replace_expired_locked(self, lookup: Callable[[], object] | None = None) -> None:
        """Take up a new token before a request, because the current one is known to be expired."""
        if self._uses_configured_token() and same_token(self._configured_token(), self._current_token):
            raise VaultAuthError(
                f"the Vault token for {self._settings.address} has expired: it reached its maximum TTL "
                f"or was not renewable, so it could not be renewed any more; {self._token_remedy()}"
            )
        logger.info(
            "the Vault token for %s expired; taking up a new one before the request", self._settings.address
        )
        self._login_locked(lookup)

    def _token_still_valid(self, generation: int) -> bool:
        if generation != self._generation:
            return False  # another thread logged in meanwhile; just retry with its token
        try:
            self._hvac.get().auth.token.lookup_self()
        except token_errors():
            return False
        # A login that finished meanwhile means the lookup may have sent the new
        # token, whose validity says nothing about the refused one: retry with it.
        return generation == self._generation

    def _login_again(self, generation: int) -> None:
        with self._login_lock:
            if generation != self._generation:
                return
            stale = self._current_token
            self._login_locked()
            if same_token(self._current_token, stale):
                raise VaultAuthError(
                    f"the Vault token for {self._settings.address} expired or was revoked; "
                    f"{self._token_remedy()}"
                )

    def _login_locked(self, lookup: Callable[[], object] | None = None) -> None:
        auth = self._settings.auth
        started = self._clock()
        login: Mapping[str, object] | None = None
        token: SecretStr
        if self._explicit_token is not None and self._generation == 0:
            token, owned = self._explicit_token, False
        elif isinstance(auth, TokenAuth):
            token, owned = self._configured_token(), False
        else:
            (token, login), owned = self._method_login(auth), True
        # The old token, if ours, is left to expire rather than revoked: requests
        # in flight on other threads may still carry it, and it has at most a
        # third of its last lease left.
        self._hvac.set_token(token)  # a client made later takes it up too
        self._current_token = token
        self._owns_token = owned
        self._generation += 1
        self.logins += 1
        # Unknown until the lookup answers: if it fails, the old token's lease must not linger.
        self._lease = None
        if login is not None:
            self._lease = TokenLease.from_auth(login, obtained_at=started)
        else:
            self._lease = self._look_up_lease(started, lookup)

    def _look_up_lease(self, started: float, lookup: Callable[[], object] | None) -> TokenLease | None:
        """Ask Vault how long the current token lives (the default policy allows every token this)."""
        try:
            response = (lookup or self._hvac.get().auth.token.lookup_self)()
        except token_errors():
            return None  # a bad token: the request it was wanted for will say so
        return TokenLease.from_lookup(mapping_at(response, "data"), obtained_at=started)

    def _uses_configured_token(self) -> bool:
        """Whether new tokens come from the settings' token source (or the caller) rather than a login."""
        return isinstance(self._settings.auth, TokenAuth)

    def _configured_token(self) -> SecretStr:
        auth = self._settings.auth
        assert isinstance(auth, TokenAuth)
        return self._explicit_token or SecretStr(read_token(auth))

    def _method_login(self, auth: AppRoleAuth | JwtAuth) -> tuple[SecretStr, Mapping[str, object]]:
        """Log in and return the token with the ``auth`` block of the answer (its lease).

        The login secret (AppRole secret id, or the workload's JWT) is read from
        its source at every login and not kept: a rotated one is picked up.
        """
        where = f"auth/{auth.mount_point}/login"
        try:
            if isinstance(auth, JwtAuth):
                jwt = SecretStr(read_file(auth.token_file, "workload identity JWT"))
                response = self._hvac.get().auth.jwt.jwt_login(
                    role=auth.role, jwt=jwt.get_secret_value(), path=auth.mount_point, use_token=False
                )
            else:
                secret_id = read_secret_id(auth)
                response = self._hvac.get().auth.approle.login(
                    role_id=auth.role_id, secret_id=secret_id, mount_point=auth.mount_point, use_token=False
                )
        except foreign_errors() as exc:
            error = translate_foreign(
                exc, path=where, tenant=None, integration=None, address=self._vault_name
            )
            # Unreachable, sealed, slow or rate-limited: Vault's state, reported
            # as such. Anything else means these login credentials were refused.
            if not isinstance(error, VaultUnavailableError):
                error = VaultAuthError(
                    f"{method_name(auth)} login at {where!r} on Vault at {self._vault_name} failed; "
                    f"{login_remedy(auth)}, and that the {method_name(auth)} auth method is enabled at "
                    f"{auth.mount_point!r}"
                )
        else:
            if is_redirect(response):
                raise redirect_error(self._vault_name, f"path {where!r}", response.status_code)
            login = mapping_at(response, "auth")
            token = login.get("client_token")
            if isinstance(token, str) and token:
                return SecretStr(token), login
            error = VaultAuthError(
                f"{method_name(auth)} login at {where!r} on Vault at {self._vault_name} gave no token"
            )
        raise error

    def _token_remedy(self) -> str:
        auth = self._settings.auth
        if self._explicit_token is not None and isinstance(auth, TokenAuth):
            return "the token was given in code, so give the client a new one"
        if isinstance(auth, TokenAuth):
            source = f"the file {auth.token_file!r}" if auth.token_file else f"${auth.token_env}"
            return f"put a valid token in {source}"
        return login_remedy(auth)

    # --- keeping the token alive (runs on the executor, see vault._renewal) -----------

    def _first_upkeep_delay(self) -> float | None:
        lease = self._lease
        if self._closed or lease is None or lease.abandoned:
            return None
        return max(0.0, lease.upkeep_at - self._clock())

    def _upkeep(self) -> float | None:
        """Renew the token, or replace it if it cannot be renewed; return seconds until the next upkeep."""
        with self._login_lock:
            lease = self._lease
            if self._closed or lease is None or lease.abandoned:
                return None
            started = self._clock()
            if started < lease.upkeep_at:
                return lease.upkeep_at - started  # replaced by a read meanwhile
            try:
                if not lease.final and self._renew_locked(lease, started):
                    return self._first_upkeep_delay()
                self._replace_final_locked()
            except upkeep_retryable() as exc:
                now = self._clock()
                if lease.expired(now):
                    return None  # the next read logs in again, once Vault is back
                logger.warning(
                    "could not renew or replace the Vault token for %s (%s); trying again shortly",
                    self._settings.address,
                    type(exc).__name__,
                )
                return lease.retry_delay(now)
            except VaultAuthError as exc:
                # The login credentials were refused: reads will report it, with the remedy,
                # once the token expires. Upkeep gives up on this token rather than retrying
                # a refused login on every read.
                self._lease = dataclasses.replace(lease, abandoned=True)
                logger.error("could not replace the Vault token for %s: %s", self._settings.address, exc)
                return None
            return self._first_upkeep_delay()

    def _renew_locked(self, lease: TokenLease, started: float) -> bool:
        try:
            response = self._hvac.get().auth.token.renew_self(increment=max(1, int(lease.full_ttl)))
        except not_renewable_errors():
            # Revoked, expired or not renewable after all: replace it instead.
            self._lease = dataclasses.replace(lease, final=True)
            return False
        self._lease = lease.renewed(mapping_at(response, "auth"), obtained_at=started)
        self.renewals += 1
        logger.debug(
            "renewed the Vault token for %s for %.0f s%s",
            self._settings.address,
            self._lease.ttl,
            " (its maximum TTL is near: it will be replaced)" if self._lease.final else "",
        )
        return True

    def _replace_final_locked(self) -> None:
        """Take up a new token because the current one cannot be renewed any further."""
        if not self._uses_configured_token():
            self._login_locked()
            logger.debug(
                "logged in to Vault at %s again: the old token could not be renewed", self._settings.address
            )
            return
        token = self._configured_token()
        if not same_token(token, self._current_token):
            self._login_locked()  # an operator (or Vault Agent) provided a new token meanwhile
            return
        lease = self._lease
        assert lease is not None
        self._lease = dataclasses.replace(lease, abandoned=True)
        logger.warning(
            "the Vault token for %s cannot be renewed any more and expires in %.0f s; %s",
            self._settings.address,
            max(0.0, lease.expires_at - self._clock()),
            self._token_remedy(),
        )

    def _revoke_own_token(self) -> None:
        # Under the login lock: an upkeep still running on another thread
        # finishes its login first (and that token is the one revoked), or
        # sees the client closed and does nothing.
        with self._login_lock:
            if self._owns_token and self._current_token is not None:
                # Best effort: the token expires on its own TTL anyway, and a close
                # that fails because Vault is down would only hide the real problem.
                with contextlib.suppress(*foreign_errors()):
                    self._hvac.get().auth.token.revoke_self()
            self._lease = None
