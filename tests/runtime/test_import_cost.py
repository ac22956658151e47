"""What a voice agent's start loads: ``from sdk import NexoraConnect``, a runtime, a call. Modules, not time.

A token-auth, read-only deployment reads its keys from Vault through aiohttp,
so it never needs hvac and requests (logins by AppRole or JWT, writes, version
metadata), OAuth (authlib, joserfc), an OpenTelemetry SDK (the application's
choice), or the operator CLI's Rich. Each check runs in a fresh interpreter,
since this test process has long since imported everything, and asserts on
``sys.modules``: wall-clock time on a shared machine is noise. A canary run
shows that the probe does see a heavy import when something makes one.

httpx imports its own command-line client when ``click`` is importable, and
that client imports click, Rich and Pygments. nexora-connect does not depend on
click (a plain install has none, and httpx then skips its CLI); this
development environment has it for other tools. The probes therefore block
``httpx._main``, so that what they see loaded is what the SDK itself imports.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

from sdk.testing import make_canary

_ROOT = Path(__file__).resolve().parents[2]

NEVER = ("hvac", "requests", "urllib3", "authlib", "joserfc", "rich", "click", "pygments")
"""Top-level packages a token-auth, read-only voice agent never needs."""
NEVER_MODULES = ("opentelemetry.sdk", "vault._oauth", "vault._token_request", "vault._jwt_assertion")
"""Modules (and their submodules) it never needs either: an OpenTelemetry SDK, and OAuth."""

_CONFIG = """
[vault]
address = "http://127.0.0.1:9"
region = "nz"
auth = {{ method = "token", token_env = "{env}" }}

[audit]
sink = "memory"

[tenants.acme]
region = "nz"
phone_region = "NZ"

[tenants.acme.integrations.crm]
connector = "hubspot"

[tenants.acme.integrations.helpdesk]
connector = "zendesk"
settings = {{ subdomain = "acme" }}
"""

_REPORT = """
import json as _json, sys as _sys
def _loaded(stage):
    tops = sorted({name.partition(".")[0] for name in _sys.modules})
    _stages[stage] = {"tops": tops, "modules": sorted(_sys.modules)}
_stages = {}
"""


def _probe(code: str, *args: str) -> dict[str, dict[str, list[str]]]:
    """Run ``code`` in a fresh interpreter (httpx's CLI blocked, see above); the modules at each stage."""
    script = (
        "import sys\nsys.modules['httpx._main'] = None\n"
        + _REPORT
        + textwrap.dedent(code)
        + "\nprint(_json.dumps(_stages))\n"
    )
    done = subprocess.run(
        [sys.executable, "-W", "error", "-c", script, *args],
        cwd=_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    stages: dict[str, dict[str, list[str]]] = json.loads(done.stdout.strip().splitlines()[-1])
    return stages


def _unwanted(stage: dict[str, list[str]]) -> list[str]:
    tops = [name for name in stage["tops"] if name in NEVER]
    modules = [
        name
        for name in stage["modules"]
        if any(name == banned or name.startswith(banned + ".") for banned in NEVER_MODULES)
    ]
    return tops + modules


def test_importing_the_runtime_loads_no_vault_login_oauth_telemetry_sdk_or_cli() -> None:
    stages = _probe("from sdk import NexoraConnect\n_loaded('import')")
    assert _unwanted(stages["import"]) == []
    modules = stages["import"]["modules"]
    assert "sdk._runtime" in modules  # the runtime really is imported: the probe is not vacuous
    assert "vault._client" in modules
    assert not any(name.startswith("opentelemetry.metrics") for name in modules)  # metrics load on use


def test_a_token_auth_runtime_from_config_opens_and_hangs_up_without_them(tmp_path: Path) -> None:
    env = "NEXORA_PROBE_VAULT_TOKEN"
    config = tmp_path / "nexora.toml"
    config.write_text(_CONFIG.format(env=env), encoding="utf-8")
    token = make_canary("vault-token")
    stages = _probe(
        f"""
        import asyncio, os
        os.environ[{env!r}] = {token!r}
        from sdk import NexoraConnect
        _loaded("import")

        async def main():
            async with NexoraConnect.from_config(sys.argv[1]) as nc:
                # Each tenant's Vault client is built now (token auth), and both connectors load.
                assert nc.open_conversations == 0
                _loaded("built")
                async with nc.conversation(tenant="acme", conversation_id="call-1") as conv:
                    assert nc.open_conversations == 1
                    await conv.hangup()
                assert nc.open_conversations == 0
            _loaded("closed")

        asyncio.run(main())
        """,
        str(config),
    )
    for stage in ("import", "built", "closed"):
        assert _unwanted(stages[stage]) == [], stage
    built = stages["built"]["modules"]
    # Not vacuous: the Vault clients, their aiohttp read path and the configured connectors are loaded.
    assert {"vault._client", "vault._login", "vault._kv_read", "vault._store"} <= set(built)
    assert {"connectors.crm.hubspot", "connectors.ticketing.zendesk"} <= set(built)


def test_a_read_through_a_mocked_vendor_with_keys_from_memory_loads_none_of_them() -> None:
    key = make_canary("hubspot-key")
    stages = _probe(
        f"""
        import asyncio, json
        import httpx
        from pydantic import SecretStr
        from sdk import NexoraConfig, NexoraConnect, MemoryAuditSink
        from sdk.testing import MemoryCredentialSource
        from vault import ApiKeyCredential
        _loaded("import")

        contact = json.loads(open("tests/connectors/fixtures/hubspot/contact.json").read())
        seen = []

        def vendor(request):
            seen.append(request.headers.get("Authorization"))
            return httpx.Response(200, json=contact)

        config = NexoraConfig.parse({{
            "vault": {{"address": "http://127.0.0.1:9"}},
            "tenants": {{"acme": {{"integrations": {{"crm": {{"connector": "hubspot"}}}}}}}},
        }})
        keys = MemoryCredentialSource()
        keys.put("acme", "crm", ApiKeyCredential(type="api_key", api_key=SecretStr({key!r})))

        async def main():
            nc = NexoraConnect(
                config, transport=httpx.MockTransport(vendor), credential_store=keys,
                audit_sink=MemoryAuditSink(),
            )
            async with nc, nc.conversation(tenant="acme", conversation_id="call-1") as conv:
                found = await conv.call("crm", "get_contact", contact_id="51")
                assert found.id == "51", found
            assert seen == ["Bearer " + {key!r}], "the mocked vendor was not called with the key"
            _loaded("called")

        asyncio.run(main())
        """
    )
    # sdk.testing imports pytest, which imports Pygments: only what the SDK added after it counts.
    before = set(stages["import"]["modules"])
    added = {"tops": sorted({name.partition(".")[0] for name in set(stages["called"]["modules"]) - before})}
    added["modules"] = sorted(set(stages["called"]["modules"]) - before)
    assert _unwanted(added) == []
    assert not {"hvac", "requests", "authlib", "rich", "click"} & set(stages["called"]["tops"])
    assert "sdk._dispatch" in stages["called"]["modules"]  # an operation really was dispatched


def test_the_probe_sees_a_heavy_import() -> None:
    # The canary: a Vault client's first hvac call (a login, a write, a renewal) loads hvac and
    # requests, and an OAuth source loads authlib; the checks above would see either.
    stages = _probe(
        """
        from vault import VaultClient, VaultSettings
        client = VaultClient(VaultSettings(address="http://127.0.0.1:9"), token="t", renew_tokens=False)
        _loaded("built")
        client._hvac  # what the first login, write or renewal does, on the client's executor
        _loaded("hvac")
        import vault._oauth
        _loaded("oauth")
        client._executor.shutdown()
        """
    )
    assert _unwanted(stages["built"]) == []
    assert {"hvac", "requests"} <= set(_unwanted(stages["hvac"]))
    assert "vault._oauth" in _unwanted(stages["oauth"])
