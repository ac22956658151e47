"""One KV v2 read on the event loop: aiohttp sends it, the executor runs only what may block.

The read every vendor request starts with, so it never hops to a thread when
it does not have to (:mod:`vault._kv_reader` says why). It keeps the login
logic of :meth:`VaultLogin.call_with_login <vault._login.VaultLogin.call_with_login>`,
and turns what it got into the error hvac's answer would have been translated
to, so both of :class:`~vault.VaultClient`'s read paths fail alike.

The self-lookup of a token taken up for a read (how long it lives) goes
through aiohttp too, so a client that only reads with a token never makes an
hvac call, and never imports hvac and requests (~70 ms, once per process):
hvac is for logins by AppRole or JWT, renewals, writes and metadata.
"""

from __future__ import annotations

import asyncio
import functools
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from vault._answers import redirect_error
from vault._client_errors import ClientErrors, Where
from vault._consistency import ReplicationState
from vault._kv_reader import KvAnswer, KvReader, TlsKey, hvac_error, load_ssl_context, transport_failure
from vault._kv_request import KvReadRequest
from vault._login import VaultLogin
from vault._settings import VaultSettings

if TYPE_CHECKING:
    import ssl

    import yarl

__all__ = ["KvLoopRead"]


class KvLoopRead:
    """The on-loop KV read of one client: its settings, login, executor, errors and replication index."""

    def __init__(
        self,
        settings: VaultSettings,
        login: VaultLogin,
        executor: ThreadPoolExecutor,
        errors: ClientErrors,
        replication: ReplicationState,
    ) -> None:
        self._settings = settings
        self._login = login
        self._executor = executor
        self._errors = errors
        self._replication = replication
        self._request = KvReadRequest(settings, lambda: login.current_token)

    async def read(
        self,
        reader: KvReader,
        where: Where,
        path: str,
        version: int | None,
        extra: dict[str, str],
    ) -> object:
        """Read one KV v2 secret through aiohttp and return the answer's JSON.

        Only what may block runs on the executor, and only when it is needed: a
        login (no token yet, or one known to be expired: it is never sent), and
        after a 401 or 403 the token's self-lookup and the one re-login.
        """
        loop = asyncio.get_running_loop()
        translated = self._errors.translated
        tls_key = (self._settings.tls_verify, self._settings.tls_client_cert)
        if self._login.due():
            lookup = functools.partial(self._lookup_self, loop, reader, tls_key)
            login = functools.partial(self._login.ensure_logged_in, lookup)
            generation = await loop.run_in_executor(
                self._executor, functools.partial(translated, where, login)
            )
        else:
            generation = self._login.generation
        request = self._request
        url = request.url(path, version)
        tls = reader.ssl_context(tls_key)
        if tls is None:
            loaded = await loop.run_in_executor(
                self._executor, functools.partial(translated, where, lambda: load_ssl_context(*tls_key))
            )
            tls = reader.remember_ssl_context(tls_key, loaded)
        timeout = request.timeout()
        answer = await reader.get(url, request.headers() | extra, client_timeout=timeout, ssl=tls)
        if answer.token_refused:
            # OpenBao answers 403 both for a bad token and for a policy denial;
            # only the token's own lookup tells them apart (on the executor: hvac).
            relogin = functools.partial(self._login.relogin_if_bad, generation)
            retry = await loop.run_in_executor(self._executor, functools.partial(translated, where, relogin))
            if retry:
                answer = await reader.get(url, request.headers() | extra, client_timeout=timeout, ssl=tls)
        self._replication.note(answer.index)
        return self._payload(where, answer, url)

    def _lookup_self(self, loop: asyncio.AbstractEventLoop, reader: KvReader, tls_key: TlsKey) -> object:
        """The token's self-lookup for a login on the executor: what hvac's ``lookup_self`` returns or raises.

        Sent through ``reader`` on ``loop``, which is free meanwhile (the read
        awaits this login). The wait is bounded, so that a loop closed under
        it cannot leave a worker thread (and the login lock) stuck for ever.
        """
        tls = reader.ssl_context(tls_key)
        if tls is None:
            tls = reader.remember_ssl_context(tls_key, load_ssl_context(*tls_key))
        future = asyncio.run_coroutine_threadsafe(self._send_lookup(reader, tls), loop)
        try:
            answer = future.result(timeout=max(60.0, 4 * self._settings.timeout))
        except TimeoutError:
            future.cancel()
            answer = KvAnswer(failure=transport_failure(TimeoutError()))
        self._replication.note(answer.index)
        failure: BaseException | None = answer.failure or hvac_error(
            answer, url=self._request.lookup_url().path
        )
        if failure is not None:
            raise failure  # an hvac or requests exception, as hvac's call raises: the caller translates it
        return None if answer.redirected else answer.json()  # hvac hands a redirect back unread

    async def _send_lookup(self, reader: KvReader, tls: ssl.SSLContext | bool) -> KvAnswer:
        request = self._request
        return await reader.get(
            request.lookup_url(), request.headers(), client_timeout=request.timeout(), ssl=tls
        )

    def _payload(self, where: Where, answer: KvAnswer, url: yarl.URL) -> object:
        """Return the JSON of a good answer, or raise what hvac's answer would have been translated to."""
        failure: BaseException | None = answer.failure or hvac_error(answer, url=url.path_qs)
        if failure is not None:
            raise self._errors.translate(where, failure)
        if answer.redirected:
            raise redirect_error(self._errors.vault_name, where.what, answer.status)
        self._login.keep_renewing()
        return answer.json()
