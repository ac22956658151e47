"""MCP over Streamable HTTP, driven by the official ``mcp`` client against a real uvicorn server."""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import json
import os
import socket
import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import respx

from sdk import ConfigurationError, Conversation, UsageError
from sdk.cli import main
from sdk.testing import make_canary
from tests.connectors import zendesk_cases
from tests.tools.conftest import GRANTED_WRITES, READS, luhn_card

pytest.importorskip("mcp.server.lowlevel")
httpx2 = pytest.importorskip("httpx2")

from mcp import ClientSession  # noqa: E402 - after the importorskip above
from mcp.client.streamable_http import streamable_http_client  # noqa: E402

from sdk.mcp_server import BearerToken, check_exposure, is_loopback, load_token, serve_http  # noqa: E402

INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "t", "version": "0"},
    },
}
MCP_HEADERS = {"accept": "application/json, text/event-stream", "content-type": "application/json"}


@pytest.fixture(autouse=True)
def _quiet_test_client(monkeypatch: pytest.MonkeyPatch) -> None:
    """The test's own MCP client logs every message it receives at DEBUG.

    It stands for the voice platform's client, not for the SDK, so its records are not the SDK's
    to keep clean; the server side is (sdk/mcp_server/_http.py drops its stack's payload logs).
    """
    import logging

    monkeypatch.setattr(logging.getLogger("mcp.client.streamable_http"), "level", logging.INFO)


def _bound() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@asynccontextmanager
async def running(conv: Conversation, **options: Any) -> AsyncIterator[tuple[str, asyncio.Task[None]]]:
    """Serve ``conv`` on a free loopback port; yield its URL and the server task."""
    sock = _bound()
    port = sock.getsockname()[1]
    scheme = "https" if options.get("certfile") else "http"
    task = asyncio.create_task(serve_http(conv, sock=sock, **options))
    try:
        for _ in range(200):  # wait until uvicorn accepts connections
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", port)
                writer.close()
                break
            except OSError:
                await asyncio.sleep(0.02)
        yield f"{scheme}://127.0.0.1:{port}/mcp", task
    finally:
        if not task.done():
            task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        sock.close()


@asynccontextmanager
async def session(url: str, client: Any = None) -> AsyncIterator[ClientSession]:
    async with (
        streamable_http_client(url, http_client=client) as (read, write),
        ClientSession(read, write) as mcp_session,
    ):
        await mcp_session.initialize()
        yield mcp_session


async def test_tools_annotations_and_structured_results_over_http(
    scoped: Conversation, router: respx.MockRouter
) -> None:
    card = luhn_card("4")
    comments = zendesk_cases.fixture("comments_page2")
    comments["comments"][0]["plain_body"] = f"card {card} please"
    router.get(zendesk_cases.COMMENTS).respond(200, json=comments)
    zendesk_cases.show_ticket_route(router, make_canary("subject"))

    async with running(scoped) as (url, task):
        async with session(url) as mcp:
            tools = {tool.name: tool for tool in (await mcp.list_tools()).tools}
            result = await mcp.call_tool("desk__get_ticket", {"ticket_id": zendesk_cases.TICKET_ID})
            assert scoped.cached_records == 1
        # The client's DELETE ended the session: the conversation is wiped and the server stops.
        await asyncio.wait_for(task, timeout=10)

    assert set(tools) == READS | GRANTED_WRITES
    note = tools["crm__create_note"].annotations
    read = tools["crm__get_contact"].annotations
    assert note is not None
    assert read is not None
    assert (note.read_only_hint, note.destructive_hint, note.idempotent_hint, note.open_world_hint) == (
        False,
        False,
        False,
        True,
    )
    assert (read.read_only_hint, read.destructive_hint, read.idempotent_hint, read.open_world_hint) == (
        True,
        False,
        True,
        False,
    )
    assert read.title == tools["crm__get_contact"].title == "Get contact (HubSpot)"
    for tool in tools.values():
        assert tool.output_schema is not None
        assert tool.output_schema["required"] == ["result"]
    assert result.is_error is False
    text = result.content[0].text  # type: ignore[union-attr]
    assert result.structured_content == {"result": json.loads(text)}
    assert card not in text
    assert card[-4:] in result.structured_content["result"]["comments"][0]["body"]
    assert scoped.closed
    assert scoped.cached_records == 0


async def test_a_second_session_is_refused_while_the_first_holds_the_conversation(
    read_only: Conversation,
) -> None:
    async with running(read_only) as (url, _), session(url) as mcp:
        async with httpx2.AsyncClient() as raw:
            second = await raw.post(url, json=INITIALIZE, headers=MCP_HEADERS)
            forged = await raw.post(url, json=INITIALIZE, headers={**MCP_HEADERS, "mcp-session-id": "0" * 32})
            rebound = await raw.post(url, json=INITIALIZE, headers={**MCP_HEADERS, "host": "evil.example"})
        assert second.status_code == 409
        assert forged.status_code == 404
        assert rebound.status_code >= 400  # DNS rebinding: a loopback server answers loopback names only
        assert "one conversation" in second.json()["error"]["message"]
        assert (await mcp.list_tools()).tools  # the first session is unaffected
        assert not read_only.closed


def _certificate(tmp_path: Path) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    key_path.chmod(0o600)
    return cert_path, key_path


async def test_tls_and_a_bearer_token_guard_every_request(read_only: Conversation, tmp_path: Path) -> None:
    cert, key = _certificate(tmp_path)
    secret = make_canary("mcp-token") + "x" * 32
    trust = ssl.create_default_context(cafile=str(cert))
    async with running(read_only, token=BearerToken(secret), certfile=cert, keyfile=key) as (url, task):
        assert url.startswith("https://")
        async with httpx2.AsyncClient(verify=trust) as raw:
            refused = [
                await raw.post(url, json=INITIALIZE, headers={**MCP_HEADERS, **extra})
                for extra in (
                    {},
                    {"authorization": f"Bearer {secret[:-1]}"},
                    {"authorization": f"Bearer {secret}x"},
                    {"authorization": f"Basic {secret}"},
                    {"authorization": "Bearer"},
                )
            ]
        for answer in refused:
            assert answer.status_code == 401
            assert answer.headers["www-authenticate"].startswith("Bearer")
            assert secret not in answer.text
        assert not read_only.closed  # refused requests bind nothing and wipe nothing
        client = httpx2.AsyncClient(verify=trust, headers={"authorization": f"Bearer {secret}"})
        async with client, session(url, client) as mcp:
            assert {tool.name for tool in (await mcp.list_tools()).tools} == READS
        await asyncio.wait_for(task, timeout=10)
    assert read_only.closed


EXPOSED = ["0.0.0.0", "::", "192.0.2.10", "nexora.example", "127.0.0.1.nip.io"]  # noqa: S104 - refused below


@pytest.mark.parametrize("host", EXPOSED)
async def test_any_address_but_loopback_needs_tls_and_a_token(read_only: Conversation, host: str) -> None:
    token = BearerToken("t" * 40)
    assert not is_loopback(host)
    for certfile, keyfile, given in ((None, None, token), ("c.pem", "k.pem", None), (None, None, None)):
        with pytest.raises(UsageError, match="not a loopback address"):
            check_exposure(host, token=given, certfile=certfile, keyfile=keyfile)
    check_exposure(host, token=token, certfile="c.pem", keyfile="k.pem")
    with pytest.raises(UsageError):
        await serve_http(read_only, host=host, port=1)
    assert read_only.closed  # refused before serving, and still hung up


@pytest.mark.parametrize("host", ["127.0.0.1", "127.8.9.10", "::1", "[::1]", "localhost"])
def test_loopback_needs_neither(host: str) -> None:
    assert is_loopback(host)
    check_exposure(host, token=None, certfile=None, keyfile=None)


def test_tokens_come_from_the_environment_or_a_private_file_and_never_show(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = make_canary("token") + "y" * 32
    monkeypatch.setenv("NEXORA_TEST_MCP_TOKEN", secret + "\n")
    from_env = load_token(env="NEXORA_TEST_MCP_TOKEN")
    assert from_env is not None
    assert from_env.matches(secret)
    assert not from_env.matches(secret.upper())
    assert secret not in repr(from_env) + str(from_env)
    private = tmp_path / "token"
    private.write_text(secret)
    private.chmod(0o600)
    from_file = load_token(file=private)
    assert from_file is not None
    assert from_file.matches(secret)
    assert load_token() is None
    private.chmod(0o644)
    with pytest.raises(ConfigurationError, match="chmod 600") as shared:
        load_token(file=private)
    monkeypatch.setenv("NEXORA_TEST_MCP_SHORT", "short-token")
    with pytest.raises(ConfigurationError, match="at least 32") as short:
        load_token(env="NEXORA_TEST_MCP_SHORT")
    monkeypatch.delenv("NEXORA_TEST_MCP_TOKEN")
    with pytest.raises(ConfigurationError, match="empty"):
        load_token(env="NEXORA_TEST_MCP_TOKEN")
    with pytest.raises(UsageError):
        load_token(env="X", file=private)
    for caught in (shared, short):
        assert secret not in str(caught.value)
        assert "short-token" not in str(caught.value)


def test_the_cli_refuses_an_exposed_bind_and_has_no_token_option(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = ["mcp", "--config", str(tmp_path / "none.toml"), "--tenant", "acme", "--conversation-id", "c"]
    assert main([*base, "--transport", "http", "--host", "0.0.0.0"]) == 2  # noqa: S104
    assert "not a loopback address" in capsys.readouterr().err
    assert main([*base, "--host", "127.0.0.1", "--tls-cert", "c.pem"]) == 2  # HTTP options without http
    assert "--transport http" in capsys.readouterr().err
    assert main([*base, "--transport", "http", "--token", "x" * 40]) == 2  # never on the command line
    capsys.readouterr()
    os.environ.pop("NEXORA_TEST_MCP_UNSET", None)
    assert main([*base, "--transport", "http", "--token-env", "NEXORA_TEST_MCP_UNSET"]) == 4
    assert "empty" in capsys.readouterr().err


def test_the_http_stack_under_the_server_keeps_no_payload_at_debug() -> None:
    """sse_starlette logs every chunk it sends (a tool result) at DEBUG: those records are dropped."""
    import logging

    from sdk.mcp_server._http import _quiet_payload_loggers

    _quiet_payload_loggers()
    logger = logging.getLogger("sse_starlette.sse")
    debug = logger.makeRecord(logger.name, logging.DEBUG, __file__, 1, "chunk: %s", ("payload",), None)
    warning = logger.makeRecord(logger.name, logging.WARNING, __file__, 1, "stream closed", (), None)
    assert not logger.filter(debug)
    assert logger.filter(warning)
