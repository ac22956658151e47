"""A Vault client makes its hvac client on first use, and nothing about its behaviour changes for it.

hvac and requests cost ~70 ms to import, and a read-only client reads through
aiohttp; so :class:`~vault._hvac.LazyHvac` makes the hvac client on the first
login, write, renewal or metadata read. These tests try to break what that
could break: threads racing to make it, a token taken up before it exists, a
close that would make it just to drop it, the URL the on-loop read builds
without hvac's helper, and the error of a failed read in a process where
nothing has imported hvac yet.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import textwrap
import threading
import time
from typing import Any

import hvac.utils
import pytest
from pydantic import SecretStr

from sdk.testing import make_canary
from tests.vault.support import make_secret, new_id, tenant_token, write_secret
from vault import OpenBaoDevServer, VaultClient, VaultSettings
from vault._hvac import LazyHvac
from vault._kv_request import format_url

HOSTILE_PARTS = [
    "tenants/acme/integrations/crm",
    "a b/c?d=e#f",
    "../../sys/raw/core",
    "100%/%2e%2e/%00",
    "ümlaut/日本/😀",
    "semi;colon,comma+plus&amp=",
    "back\\slash\t\n\r",
    "//double//slash//",
    "",
    "~tilde_-.",
]


@pytest.mark.parametrize("path", HOSTILE_PARTS)
@pytest.mark.parametrize("mount", ["secret", "kv v2", "a/b", "ümlaut?"])
def test_the_read_url_is_quoted_exactly_as_hvac_quotes_it(mount: str, path: str) -> None:
    template = "/v1/{mount_point}/data/{path}"
    assert format_url(template, mount_point=mount, path=path) == hvac.utils.format_url(
        template, mount_point=mount, path=path
    )


class _Made:
    """A stand-in hvac client that records the token it is given."""

    def __init__(self) -> None:
        self.token: str | None = ""


def test_racing_threads_share_one_client_holding_the_token_taken_up_before_it_was_made() -> None:
    made: list[_Made] = []

    def make() -> _Made:
        time.sleep(0.02)  # a slow import: every thread arrives while the first is still making it
        client = _Made()
        made.append(client)
        return client

    lazy = LazyHvac(make)
    token = make_canary("vault-token")
    lazy.set_token(SecretStr(token))
    assert lazy.made is None  # taking up a token does not make the client
    start = threading.Barrier(16)
    got: list[Any] = []

    def use() -> None:
        start.wait()
        got.append(lazy.get())

    threads = [threading.Thread(target=use) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(made) == 1
    assert all(client is made[0] for client in got)
    assert lazy.made is made[0]
    assert made[0].token == token
    newer = make_canary("vault-token")
    lazy.set_token(SecretStr(newer))
    assert made[0].token == newer
    lazy.set_token(None)
    assert made[0].token is None


async def test_a_client_that_only_read_or_did_nothing_closes_without_making_hvac() -> None:
    client = VaultClient(VaultSettings(address="http://127.0.0.1:9"), token="t", renew_tokens=False)
    await client.close()
    assert client._lazy_hvac.made is None
    assert client._login.current_token is None


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def test_a_failed_read_in_a_process_without_hvac_is_translated_as_before() -> None:
    # The on-loop read builds hvac's and requests' exceptions only when a read fails; in a fresh
    # interpreter that is the first time either is imported. The error must be the same SDK error,
    # with nothing chained, and must not quote the token.
    token = make_canary("vault-token")
    code = textwrap.dedent(
        f"""
        import asyncio, json, sys
        from pydantic import SecretStr
        from sdk import VaultUnavailableError
        from vault import VaultClient, VaultSettings

        async def main():
            client = VaultClient(
                VaultSettings(address="http://127.0.0.1:{_closed_port()}", timeout=2),
                token={token!r}, renew_tokens=False,
            )
            # As after a login, without its token lookup (which is an hvac call).
            client._login._current_token = SecretStr({token!r})
            client._login._generation = 1
            before = sorted({{"hvac", "requests"}} & set(sys.modules))
            try:
                await client.read_secret("tenants/acme/integrations/crm", tenant="acme", integration="crm")
            except VaultUnavailableError as exc:
                error = exc
            finally:
                await client.close()
            print(json.dumps({{
                "before": before,
                "after": sorted({{"hvac", "requests"}} & set(sys.modules)),
                "type": type(error).__name__,
                "message": str(error),
                "chained": error.__cause__ is not None or error.__context__ is not None,
                "made": client._lazy_hvac.made is not None,
            }}))

        asyncio.run(main())
        """
    )
    done = subprocess.run(
        [sys.executable, "-W", "error", "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert found["before"] == []
    assert found["after"] == ["hvac", "requests"]  # imported for the failure: the probe is not vacuous
    assert found["type"] == "VaultUnavailableError"
    assert "could not connect to Vault at http://127.0.0.1:" in found["message"]
    assert "integration 'crm'" in found["message"]
    assert token not in found["message"]
    assert found["chained"] is False
    assert found["made"] is False  # translating the failure needed hvac's exceptions, not a client


@pytest.mark.vault
def test_a_token_auth_client_reads_and_learns_its_lease_without_ever_importing_hvac(
    openbao: OpenBaoDevServer, vault_root: Any
) -> None:
    # The whole life of a read-only client with a token: take it up, look up its lease, read twice,
    # close. The lookup and the reads go through aiohttp, so hvac and requests never load.
    settings = VaultSettings(address=openbao.address)
    tenant = new_id()
    key = make_secret()
    write_secret(vault_root, settings, tenant, "crm", {"type": "api_key", "api_key": key})
    token = tenant_token(vault_root, settings, tenant)  # a 10 minute TTL: the lookup must find it
    code = textwrap.dedent(
        f"""
        import asyncio, json, sys
        from vault import VaultClient, VaultSettings, credential_path

        async def main():
            settings = VaultSettings(address={openbao.address!r})
            client = VaultClient(settings, token={token!r})
            path = credential_path(settings, {tenant!r}, "crm")
            try:
                first, _ = await client.read_secret(path, tenant={tenant!r}, integration="crm")
                again, _ = await client.read_secret(path, tenant={tenant!r}, integration="crm")
                expires_in = client.token_expires_in
            finally:
                await client.close()
            print(json.dumps({{
                "same": first == again, "key": first.get("api_key"), "expires_in": expires_in,
                "logins": client.logins, "loaded": sorted({{"hvac", "requests"}} & set(sys.modules)),
            }}))

        asyncio.run(main())
        """
    )
    done = subprocess.run(
        [sys.executable, "-W", "error", "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert found["loaded"] == []
    assert found["key"] == key
    assert found["same"] is True
    assert found["logins"] == 1
    assert found["expires_in"] is not None
    assert 0 < found["expires_in"] <= 600  # the lease came from the lookup, as hvac's would have
