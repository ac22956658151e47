"""The KV read on the event loop keeps every guarantee of the hvac read it replaces.

Most tests run the same scenario through both read paths (``async_reads`` True:
aiohttp on the loop; False: hvac on worker threads) against a scriptable fake
Vault, and require the same SDK error with the same message. The rest check
what only the new path has to get right itself: the headers it sends, no
redirect, no proxy from the environment, TLS as configured, DNS off the loop,
one pool per address, a clean close, and no token in anything an error carries.
"""

from __future__ import annotations

import asyncio
import gc
import inspect
import socket
import ssl
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import aiohttp.client_exceptions
import pytest
import requests.exceptions
from aiohttp import web
from pydantic import SecretStr

import vault
from sdk._errors import (
    CredentialNotFoundError,
    UsageError,
    VaultAuthError,
    VaultError,
    VaultPermissionError,
    VaultSealedError,
    VaultTimeoutError,
    VaultUnavailableError,
)
from sdk.testing import make_canary
from tests.vault.fake_vault import FakeVault, Seen, make_tls_files, secret_body, vault_json
from tests.vault.support import FakeClock
from vault import AppRoleAuth, CredentialStore, VaultClient, VaultSettings, translate_vault_error
from vault._kv_reader import KvReader, transport_failure, transport_failure_class

PATH = "nexora/tenants/acme/integrations/crm"
VAULT_PACKAGE = str(Path(vault.__file__).parent / "_")
BOTH = pytest.mark.parametrize("async_reads", [True, False], ids=["on-loop", "hvac-threads"])


@pytest.fixture
async def fake() -> AsyncIterator[FakeVault]:
    server = await FakeVault().start()
    try:
        yield server
    finally:
        await server.stop()


def _client(settings: VaultSettings, *, async_reads: bool, **kwargs: Any) -> VaultClient:
    return VaultClient(settings, async_reads=async_reads, renew_tokens=False, **kwargs)


def _pretend_logged_in(client: VaultClient, token: str) -> None:
    """Skip the login's token lookup, so that the read is the first request (and the one that fails)."""
    client._hvac.token = token
    client._login._current_token = SecretStr(token)
    client._login._generation = client._login.logins = 1


async def _outcome(client: VaultClient, path: str = PATH, **kwargs: Any) -> BaseException | object:
    try:
        return await client.read_secret(path, tenant="acme", integration="crm", **kwargs)
    except VaultError as exc:  # CredentialNotFoundError is not a VaultError
        return exc
    except CredentialNotFoundError as exc:
        return exc


async def _both(
    settings: VaultSettings, *, logged_in_with: str | None = None, **kwargs: Any
) -> tuple[object, object]:
    """The outcome of one read through each path, each with a fresh client."""
    outcomes = []
    for async_reads in (True, False):
        client = _client(settings, async_reads=async_reads, **kwargs)
        if logged_in_with is not None:
            _pretend_logged_in(client, logged_in_with)
        try:
            outcomes.append(await _outcome(client))
        finally:
            await client.close()
    return outcomes[0], outcomes[1]


def _same_error(on_loop: object, threads: object, expected: type[BaseException]) -> BaseException:
    assert isinstance(on_loop, BaseException), f"the on-loop read did not fail: {on_loop!r}"
    assert isinstance(threads, BaseException), f"the hvac read did not fail: {threads!r}"
    assert type(on_loop) is expected, f"{type(on_loop).__name__}: {on_loop}"
    assert type(threads) is expected, f"{type(threads).__name__}: {threads}"
    assert str(on_loop) == str(threads)
    assert on_loop.__cause__ is None
    assert on_loop.__context__ is None
    return on_loop


# --- every answer Vault can give: the same error from both paths ------------------------------------


def _deleted_latest(seen: Seen) -> web.StreamResponse:
    body = secret_body({})
    body["data"] = {"data": None, "metadata": {"version": 3, "deletion_time": "2024-05-02T00:00:00Z"}}
    return vault_json(body, status=404)


def _redirect(seen: Seen) -> web.StreamResponse:
    host = seen.headers.get("Host", "")
    return web.Response(status=307, headers={"Location": f"http://{host}/elsewhere/v1/secret/data/x"})


ANSWERS: dict[str, tuple[Callable[[Seen], web.StreamResponse], type[BaseException], str]] = {
    "404 nothing stored": (
        lambda seen: vault_json({"errors": []}, status=404),
        CredentialNotFoundError,
        "no credential stored",
    ),
    "404 latest version deleted": (_deleted_latest, CredentialNotFoundError, "no credential stored"),
    "503 sealed": (
        lambda seen: vault_json({"errors": ["Vault is sealed"]}, status=503),
        VaultSealedError,
        "Vault said: Vault is sealed",
    ),
    "503 from a proxy, not JSON": (
        lambda seen: web.Response(status=503, text="<html>down</html>"),
        VaultSealedError,
        "unseal it",
    ),
    "429 rate limited": (
        lambda seen: vault_json({"errors": ["rate limit quota exceeded"]}, status=429),
        VaultUnavailableError,
        "rate-limiting",
    ),
    "500 internal": (
        lambda seen: vault_json({"errors": ["internal error"]}, status=500),
        VaultUnavailableError,
        "internal error",
    ),
    "502 bad gateway": (lambda seen: web.Response(status=502), VaultUnavailableError, "proxy"),
    "400 invalid": (
        lambda seen: vault_json({"errors": ["bad request"]}, status=400),
        VaultError,
        "Vault said: bad request",
    ),
    "412 unexpected status": (
        lambda seen: vault_json({"errors": ["precondition"]}, status=412),
        VaultError,
        "unexpected status",
    ),
    "200 that is not JSON": (lambda seen: web.Response(text="hello"), VaultError, "unexpected shape"),
    "200 of another shape": (
        lambda seen: vault_json({"data": {"data": "x"}}),
        VaultError,
        "unexpected shape",
    ),
    "204 no content": (lambda seen: web.Response(status=204), VaultError, "unexpected shape"),
    "307 redirect to another node": (_redirect, VaultUnavailableError, "Redirects are not followed"),
}


@pytest.mark.parametrize("name", list(ANSWERS))
async def test_every_answer_gives_the_same_error_on_both_paths(fake: FakeVault, name: str) -> None:
    answer, expected, words = ANSWERS[name]
    fake.read = answer
    token = fake.new_token()
    on_loop, threads = await _both(VaultSettings(address=fake.address), token=token)
    error = _same_error(on_loop, threads, expected)
    assert words in str(error)
    assert token not in str(error)
    assert fake.hits("/elsewhere") == []  # a redirect is never followed, by either path
    assert [seen.headers.get("User-Agent", "").split("/")[0] for seen in fake.reads()] == [
        "Python",  # aiohttp's: the on-loop read really went through aiohttp
        "python-requests",
    ]


async def test_hvac_calls_do_not_follow_redirects_either(fake: FakeVault) -> None:
    fake.redirect_writes = True
    client = _client(VaultSettings(address=fake.address), async_reads=True, token=fake.new_token())
    try:
        with pytest.raises(VaultError, match="Redirects are not followed") as caught:
            await client.write_secret(PATH, {"type": "api_key", "api_key": "k"}, cas=1)
    finally:
        await client.close()
    # Unavailable: standbys redirect for a while after a failover (test_ha_standbys.py).
    assert type(caught.value) is VaultUnavailableError
    assert fake.hits("/elsewhere") == []


async def test_a_good_answer_reads_the_same_on_both_paths(fake: FakeVault) -> None:
    settings = VaultSettings(address=fake.address)
    on_loop, threads = await _both(settings, token=fake.new_token())
    assert on_loop == threads == ({"type": "api_key", "api_key": fake.secret}, 1)


@BOTH
async def test_a_pinned_version_is_asked_for(fake: FakeVault, async_reads: bool) -> None:
    client = _client(VaultSettings(address=fake.address), async_reads=async_reads, token=fake.new_token())
    try:
        await client.read_secret(PATH, version=7)
        await client.read_secret(PATH)
    finally:
        await client.close()
    assert [(seen.path, seen.query) for seen in fake.reads()] == [
        (f"/v1/secret/data/{PATH}", "version=7"),
        (f"/v1/secret/data/{PATH}", ""),
    ]


# --- 403: a policy denial, or a bad token replaced once ---------------------------------------------


async def test_policy_denial_is_told_apart_by_the_token_lookup(fake: FakeVault) -> None:
    fake.denied = True
    token = fake.new_token()
    on_loop, threads = await _both(VaultSettings(address=fake.address), token=token)
    error = _same_error(on_loop, threads, VaultPermissionError)
    assert "(Vault said: permission denied)" in str(error)
    assert len(fake.hits("/v1/auth/token/lookup-self")) == 4  # per path: at login, then after the 403


async def test_a_revoked_token_given_in_code_is_an_auth_error(fake: FakeVault) -> None:
    token = make_canary("fake-vault-token")  # never valid
    on_loop, threads = await _both(VaultSettings(address=fake.address), token=token)
    error = _same_error(on_loop, threads, VaultAuthError)
    assert "expired or was revoked" in str(error)
    assert token not in str(error)


@BOTH
async def test_approle_logs_in_again_once_and_the_retry_sends_the_token_hvac_holds(
    fake: FakeVault, async_reads: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_FAKE_SECRET_ID", make_canary("secret-id"))
    settings = VaultSettings(
        address=fake.address, auth=AppRoleAuth(role_id="role", secret_id_env="TEST_FAKE_SECRET_ID")
    )
    client = _client(settings, async_reads=async_reads)
    try:
        await client.read_secret(PATH)
        first = fake.issued_tokens[0]
        fake.valid_tokens.discard(first)  # an operator revokes it
        data, _ = await client.read_secret(PATH)
        assert data["api_key"] == fake.secret
        assert client.logins == 2
        second = fake.issued_tokens[1]
        assert [seen.token for seen in fake.reads()] == [first, first, second]
        assert client._hvac.token == second  # one source of truth for both paths

        fake.denied = True  # the token is good but may not read: a denial, not a re-login
        with pytest.raises(VaultPermissionError):
            await client.read_secret(PATH)
        assert client.logins == 2
        assert len(fake.reads()) == 4

        fake.valid_tokens.discard(second)  # revoked, and the next token is denied too: one re-login only
        with pytest.raises(VaultPermissionError):
            await client.read_secret(PATH)
        assert client.logins == 3
        assert [seen.token for seen in fake.reads()][4:] == [second, fake.issued_tokens[2]]
    finally:
        await client.close()


@BOTH
async def test_a_login_racing_the_token_lookup_is_not_taken_for_a_policy_denial(
    fake: FakeVault, async_reads: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After a 403 the lookup may go out with a token another thread just logged in for.

    That token being valid says nothing about the refused one: the read must be
    retried with it, not reported as a policy denial. The other thread's login
    is made to land exactly between the generation check and the lookup.
    """
    monkeypatch.setenv("TEST_FAKE_SECRET_ID", make_canary("secret-id"))
    settings = VaultSettings(
        address=fake.address, auth=AppRoleAuth(role_id="role", secret_id_env="TEST_FAKE_SECRET_ID")
    )
    client = _client(settings, async_reads=async_reads)
    try:
        await client.read_secret(PATH)
        fake.valid_tokens.clear()  # the first token is revoked
        real_lookup = client._hvac.auth.token.lookup_self
        raced = False

        def lookup_after_a_login_elsewhere() -> Any:
            nonlocal raced
            if not raced:
                raced = True
                client._login._login_again(client._login.generation)  # another thread's re-login, just now
            return real_lookup()

        client._hvac.auth.token.lookup_self = lookup_after_a_login_elsewhere
        data, _ = await client.read_secret(PATH)
    finally:
        await client.close()
    assert raced
    assert data["api_key"] == fake.secret
    assert client.logins == 2
    assert [seen.token for seen in fake.reads()][1:] == fake.issued_tokens


async def test_twenty_racing_reads_with_a_revoked_token_log_in_once(
    fake: FakeVault, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_FAKE_SECRET_ID", make_canary("secret-id"))
    settings = VaultSettings(
        address=fake.address, auth=AppRoleAuth(role_id="role", secret_id_env="TEST_FAKE_SECRET_ID")
    )
    client = _client(settings, async_reads=True)
    try:
        await client.read_secret(PATH)
        fake.valid_tokens.clear()
        results = await asyncio.gather(*(client.read_secret(PATH) for _ in range(20)))
        assert all(data["api_key"] == fake.secret for data, _ in results)
        assert client.logins == 2
    finally:
        await client.close()


# --- a token known to be expired is never sent -----------------------------------------------------


@BOTH
async def test_an_expired_token_given_in_code_is_refused_without_sending_it(
    fake: FakeVault, async_reads: bool
) -> None:
    fake.token_ttl = 60  # lookup-self: not renewable, 60 s left
    clock = FakeClock()
    token = fake.new_token()
    client = _client(VaultSettings(address=fake.address), async_reads=async_reads, token=token, clock=clock)
    try:
        await client.read_secret(PATH)
        clock.advance(59)
        with pytest.raises(VaultAuthError, match="has expired"):
            await client.read_secret(PATH)
    finally:
        await client.close()
    assert len(fake.reads()) == 1


@BOTH
async def test_an_expired_approle_token_is_replaced_before_the_read(
    fake: FakeVault, async_reads: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_FAKE_SECRET_ID", make_canary("secret-id"))
    fake.login_ttl = 30
    clock = FakeClock()
    settings = VaultSettings(
        address=fake.address, auth=AppRoleAuth(role_id="role", secret_id_env="TEST_FAKE_SECRET_ID")
    )
    client = _client(settings, async_reads=async_reads, clock=clock)
    try:
        await client.read_secret(PATH)
        clock.advance(29)
        await client.read_secret(PATH)
    finally:
        await client.close()
    first, second = fake.issued_tokens
    assert first in fake.valid_tokens  # never refused: it was simply not sent once expired
    assert [seen.token for seen in fake.reads()] == [first, second]


# --- what goes on the wire --------------------------------------------------------------------------


@BOTH
@pytest.mark.parametrize("namespace", ["tenants/acme", None])
async def test_headers_token_namespace_and_request_marker(
    fake: FakeVault, async_reads: bool, namespace: str | None
) -> None:
    token = fake.new_token()
    client = _client(
        VaultSettings(address=fake.address, namespace=namespace), async_reads=async_reads, token=token
    )
    try:
        await client.read_secret(PATH)
    finally:
        await client.close()
    [read] = fake.reads()
    assert read.headers["X-Vault-Token"] == token
    assert read.headers["X-Vault-Request"] == "true"
    assert read.headers.get("X-Vault-Namespace") == namespace
    assert "Cookie" not in read.headers


async def test_tenants_sharing_an_address_share_one_pool_but_never_headers(fake: FakeVault) -> None:
    token_a, token_b = fake.new_token(), fake.new_token()
    async with CredentialStore(renew_tokens=False) as store:
        store.register_tenant(
            "a",
            settings=VaultSettings(address=fake.address, namespace="tenants/a"),
            region="nz",
            token=token_a,
        )
        store.register_tenant("b", settings=VaultSettings(address=fake.address), region="nz", token=token_b)
        client_a, client_b = store.vault_client("a"), store.vault_client("b")
        assert client_a is not client_b
        assert client_a._reader is client_b._reader is not None
        for _ in range(3):
            await store.get("a", "crm")
            await store.get("b", "crm")
    reads = fake.reads()
    assert len({seen.port for seen in reads}) == 1  # one kept-alive connection served both tenants
    for seen in reads:
        tenant = seen.path.split("/")[6]
        expected = (token_a, "tenants/a") if tenant == "a" else (token_b, None)
        assert (seen.token, seen.headers.get("X-Vault-Namespace")) == expected


def test_each_address_gets_its_own_pool() -> None:
    store = CredentialStore()
    try:
        store.register_tenant(
            "a", settings=VaultSettings(address="http://127.0.0.1:1"), region="nz", token="x"
        )
        store.register_tenant(
            "b", settings=VaultSettings(address="http://127.0.0.1:2"), region="nz", token="x"
        )
        assert store.vault_client("a")._reader is not store.vault_client("b")._reader
    finally:
        store.discard()
    assert CredentialStore(async_reads=False)._readers == {}


@pytest.fixture
def counting_proxy() -> Iterator[tuple[str, socket.socket]]:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        listener.setblocking(False)
        yield f"http://127.0.0.1:{listener.getsockname()[1]}", listener


@BOTH
async def test_proxies_from_the_environment_are_ignored(
    fake: FakeVault,
    async_reads: bool,
    counting_proxy: tuple[str, socket.socket],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    proxy, listener = counting_proxy
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.setenv(name, proxy)
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    client = _client(VaultSettings(address=fake.address), async_reads=async_reads, token=fake.new_token())
    try:
        await client.read_secret(PATH)
    finally:
        await client.close()
    assert len(fake.reads()) == 1
    with pytest.raises(BlockingIOError):
        listener.accept()  # nobody connected to the proxy


# --- transport failures: the same errors as requests' --------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def _hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await reader.readuntil(b"\r\n\r\n")
    writer.close()


async def _not_http(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await reader.readuntil(b"\r\n\r\n")
    writer.write(b"SSH-2.0-OpenSSH\r\n\r\n")
    await writer.drain()
    writer.close()


async def _short_body(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await reader.readuntil(b"\r\n\r\n")
    writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{")
    await writer.drain()
    writer.close()


async def _silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await reader.read()  # until the client gives up and closes the connection
    writer.close()


@pytest.mark.parametrize(
    ("handler", "expected", "words"),
    [
        (None, VaultUnavailableError, "check that Vault at"),
        (_hang_up, VaultUnavailableError, "check that Vault at"),
        (_not_http, VaultUnavailableError, "check that Vault at"),
        (_short_body, VaultUnavailableError, "broke while serving"),
        (_silent, VaultTimeoutError, "did not answer within the timeout"),
    ],
    ids=["refused", "hung-up", "not-http", "short-body", "silent"],
)
async def test_transport_failures_give_the_same_error_on_both_paths(
    handler: Any, expected: type[BaseException], words: str
) -> None:
    server = None if handler is None else await asyncio.start_server(handler, "127.0.0.1", 0)
    port = _free_port() if server is None else server.sockets[0].getsockname()[1]
    token = make_canary("fake-vault-token")
    try:
        settings = VaultSettings(address=f"http://127.0.0.1:{port}", timeout=0.3)
        on_loop, threads = await _both(settings, logged_in_with=token, token=token)
    finally:
        if server is not None:
            server.close()
            await server.wait_closed()
    error = _same_error(on_loop, threads, expected)
    assert words in str(error)
    assert token not in str(error)


def _aiohttp_errors() -> list[type[BaseException]]:
    return [
        cls
        for _, cls in inspect.getmembers(aiohttp.client_exceptions, inspect.isclass)
        if issubclass(cls, aiohttp.ClientError)
    ]


@pytest.mark.parametrize("cls", _aiohttp_errors(), ids=lambda cls: cls.__name__)
def test_every_aiohttp_error_is_understood(cls: type[BaseException]) -> None:
    failure = transport_failure_class(cls)
    error = translate_vault_error(failure("x"), path=PATH, tenant="acme", integration="crm")
    assert isinstance(error, VaultError)
    assert not str(error).startswith("unrecognised")
    # Only aiohttp's base class and what a GET without redirects or uploads never raises is generic.
    if cls.__name__ not in {"ClientError", "RedirectClientError", "UploadAbortedError", "WSMessageTypeError"}:
        assert failure is not requests.exceptions.RequestException


@pytest.mark.parametrize(
    ("cls", "expected"),
    [
        (aiohttp.ClientConnectorError, VaultUnavailableError),
        (aiohttp.ClientConnectorDNSError, VaultUnavailableError),
        (aiohttp.ConnectionTimeoutError, VaultTimeoutError),
        (aiohttp.SocketTimeoutError, VaultTimeoutError),
        (TimeoutError, VaultTimeoutError),
        (aiohttp.ServerDisconnectedError, VaultUnavailableError),
        (aiohttp.ClientPayloadError, VaultUnavailableError),
        (aiohttp.ClientConnectorCertificateError, VaultError),
        (ssl.SSLCertVerificationError, VaultError),
        (ConnectionResetError, VaultUnavailableError),
    ],
)
def test_the_most_specific_error(cls: type[BaseException], expected: type[BaseException]) -> None:
    error = translate_vault_error(transport_failure_class(cls)("x"), path=PATH, tenant=None, integration=None)
    assert type(error) is expected


def test_a_failure_keeps_nothing_of_the_aiohttp_error() -> None:
    token = make_canary("fake-vault-token")
    original = ValueError(f"Newline or carriage return detected in headers: {token}")
    failure = transport_failure(original)
    assert token not in str(failure)
    assert token not in repr(failure.args)
    assert failure.__cause__ is None
    assert failure.__context__ is None


# --- TLS as the tenant configured it ---------------------------------------------------------------


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    return make_tls_files(tmp_path_factory.mktemp("tls"))


@pytest.fixture
async def tls_fake(tls_files: tuple[Path, Path, Path]) -> AsyncIterator[FakeVault]:
    _, cert, key = tls_files
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    server = await FakeVault().start(tls=context)
    try:
        yield server
    finally:
        await server.stop()


@pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")  # hvac's, for verify=False
async def test_tls_is_verified_against_the_configured_ca(
    tls_fake: FakeVault, tls_files: tuple[Path, Path, Path]
) -> None:
    ca = str(tls_files[0])
    token = tls_fake.new_token()
    trusted, trusted_hvac = await _both(VaultSettings(address=tls_fake.address, verify=ca), token=token)
    assert trusted == trusted_hvac == ({"type": "api_key", "api_key": tls_fake.secret}, 1)
    unchecked, unchecked_hvac = await _both(
        VaultSettings(address=tls_fake.address, verify=False), token=token
    )
    assert unchecked == unchecked_hvac == trusted
    # verify=True: the public CAs (certifi) do not know this CA, so the handshake fails.
    reads_before = len(tls_fake.reads())
    on_loop, threads = await _both(
        VaultSettings(address=tls_fake.address, verify=True), logged_in_with=token, token=token
    )
    error = _same_error(on_loop, threads, VaultError)
    assert "TLS with Vault" in str(error)
    assert "'verify'" in str(error)
    assert len(tls_fake.reads()) == reads_before  # the token never went over an unverified connection


async def test_a_missing_ca_file_is_a_tls_error(tls_fake: FakeVault, tmp_path: Path) -> None:
    settings = VaultSettings(address=tls_fake.address, verify=str(tmp_path / "missing.pem"))
    client = _client(settings, async_reads=True, token="unused")
    _pretend_logged_in(client, "unused")
    try:
        with pytest.raises(VaultError, match="TLS with Vault") as caught:
            await client.read_secret(PATH)
    finally:
        await client.close()
    assert caught.value.__context__ is None


async def test_tenants_with_the_same_ca_share_connections(
    tls_fake: FakeVault, tls_files: tuple[Path, Path, Path]
) -> None:
    settings = VaultSettings(address=tls_fake.address, verify=str(tls_files[0]))
    async with CredentialStore(renew_tokens=False) as store:
        store.register_tenant("a", settings=settings, region="nz", token=tls_fake.new_token())
        store.register_tenant("b", settings=settings, region="nz", token=tls_fake.new_token())
        for _ in range(2):
            await store.get("a", "crm")
            await store.get("b", "crm")
    assert len({seen.port for seen in tls_fake.reads()}) == 1


# --- the event loop, the pool's loop and closing ------------------------------------------------------


async def test_name_resolution_does_not_block_the_loop(
    fake: FakeVault, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = socket.getaddrinfo
    resolving = threading.Event()

    def slow_getaddrinfo(
        host: Any, port: Any, family: int = 0, type: int = 0, proto: int = 0, flags: int = 0
    ) -> Any:
        if host == "localhost":
            resolving.set()
            threading.Event().wait(0.3)  # a slow DNS server
            family = socket.AF_INET  # where the fake listens
        return real(host, port, family, type, proto, flags)

    monkeypatch.setattr(socket, "getaddrinfo", slow_getaddrinfo)
    port = fake.address.rsplit(":", 1)[1]
    token = fake.new_token()
    client = _client(VaultSettings(address=f"http://localhost:{port}"), async_reads=True, token=token)
    _pretend_logged_in(client, token)  # the read's own name lookup is the only one
    ticks_while_resolving = 0

    async def tick() -> None:
        nonlocal ticks_while_resolving
        while True:
            await asyncio.sleep(0.01)
            if resolving.is_set():
                ticks_while_resolving += 1

    ticker = asyncio.create_task(tick())
    try:
        data, _ = await client.read_secret(PATH)
    finally:
        ticker.cancel()
        await client.close()
    assert data["api_key"] == fake.secret
    assert resolving.is_set()
    assert ticks_while_resolving >= 3  # a resolver on the loop would have let it tick at most once


async def test_a_read_from_another_event_loop_falls_back_to_hvac(fake: FakeVault) -> None:
    client = _client(VaultSettings(address=fake.address), async_reads=True, token=fake.new_token())
    try:
        await client.read_secret(PATH)  # opens the pool on this loop
        result: list[object] = []
        thread = threading.Thread(target=lambda: result.append(asyncio.run(client.read_secret(PATH))))
        thread.start()
        await asyncio.to_thread(thread.join)
        assert result == [({"type": "api_key", "api_key": fake.secret}, 1)]
    finally:
        await client.close()
    agents = [seen.headers.get("User-Agent", "").split("/")[0] for seen in fake.reads()]
    assert agents == ["Python", "python-requests"]


async def test_close_waits_for_reads_in_flight_and_leaves_nothing_open(fake: FakeVault) -> None:
    store = CredentialStore(renew_tokens=False)
    store.register_tenant(
        "a", settings=VaultSettings(address=fake.address), region="nz", token=fake.new_token()
    )
    await store.get("a", "crm")
    reader = store.vault_client("a")._reader
    assert reader is not None
    session = reader._session
    assert session is not None

    original, waiting, release = fake.read, asyncio.Event(), asyncio.Event()

    async def held(seen: Seen) -> web.StreamResponse:
        waiting.set()
        await release.wait()
        answer = original(seen)
        assert isinstance(answer, web.StreamResponse)
        return answer

    fake.read = held
    in_flight = asyncio.create_task(store.get("a", "crm"))
    try:
        await waiting.wait()
        closing = asyncio.create_task(store.aclose())
        await asyncio.sleep(0.05)
        assert not closing.done()  # waiting for the read, not cutting it off
    finally:
        release.set()
    lease = await in_flight
    await closing
    assert lease.credential.api_key.get_secret_value() == fake.secret  # type: ignore[union-attr]
    assert reader.closed
    assert session.closed
    with pytest.raises(UsageError):
        await store.get("a", "crm")
    del session, reader
    gc.collect()  # an unclosed session or connector would warn here, and warnings are errors


async def test_a_closed_client_refuses_reads(fake: FakeVault) -> None:
    client = _client(VaultSettings(address=fake.address), async_reads=True, token=fake.new_token())
    await client.read_secret(PATH)
    await client.close()
    with pytest.raises(UsageError, match="is closed"):
        await client.read_secret(PATH)
    assert client._reader is not None
    assert client._reader.closed  # its own pool, closed with it


def test_a_reader_serves_only_its_own_address() -> None:
    with pytest.raises(UsageError):
        VaultClient(
            VaultSettings(address="http://127.0.0.1:1"),
            reader=KvReader("http://127.0.0.1:2"),
            renew_tokens=False,
        )


# --- S3: nothing an error carries holds the token ------------------------------------------------------


def _frame_locals(error: BaseException) -> list[str]:
    """What an error reporter capturing locals would send: every SDK frame the error passed through."""
    texts = []
    traceback = error.__traceback__
    while traceback is not None:
        frame = traceback.tb_frame
        if frame.f_code.co_filename.startswith(VAULT_PACKAGE):
            texts += [f"{name}={value!r}" for name, value in frame.f_locals.items()]
        traceback = traceback.tb_next
    return texts


@pytest.mark.parametrize("name", ["403 denied", "500 internal", "refused"])
async def test_no_frame_of_an_error_holds_the_token(
    fake: FakeVault, name: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG")
    token = fake.new_token()
    address = fake.address
    if name == "403 denied":
        fake.denied = True
    elif name == "500 internal":
        fake.read = lambda seen: web.Response(status=500, text=f"echo {seen.token}")
    else:
        address = f"http://127.0.0.1:{_free_port()}"
    client = _client(VaultSettings(address=address), async_reads=True, token=token)
    _pretend_logged_in(client, token)
    try:
        with pytest.raises(VaultError) as caught:
            await client.read_secret(PATH)
        texts = [*_frame_locals(caught.value), str(caught.value), repr(caught.value), repr(client)]
        texts.append(repr(client._reader))
    finally:
        await client.close()
    assert len(texts) > 5
    for text in texts:
        assert token not in text
    assert token not in caplog.text


async def test_the_token_is_not_in_reprs(fake: FakeVault) -> None:
    token = fake.new_token()
    async with CredentialStore(renew_tokens=False) as store:
        store.register_tenant("a", settings=VaultSettings(address=fake.address), region="nz", token=token)
        lease = await store.get("a", "crm")
        client = store.vault_client("a")
        for text in (repr(store), repr(client), repr(client._reader), repr(lease)):
            assert token not in text
