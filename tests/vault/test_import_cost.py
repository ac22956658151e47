"""What ``import vault`` costs: which modules it loads, never how long that takes.

An API-key integration must not pay for OAuth (httpx, authlib) or for JWT
signing (joserfc, cryptography), and nobody pays for hvac before a Vault client
makes its first hvac call (reads go through aiohttp). Each check runs in a fresh
interpreter, since this test process has long since imported everything; the
canary check shows each one can fail.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

import vault

HEAVY = ("authlib", "joserfc", "cryptography", "httpx", "aiohttp", "hvac", "requests", "pydantic")
OAUTH_AND_JOSE = ("authlib", "joserfc", "cryptography", "httpx", "aiohttp")
JOSE = ("joserfc", "cryptography")


def loaded_after(code: str, watch: tuple[str, ...] = HEAVY) -> dict[str, list[str]]:
    """Run ``code`` in a fresh interpreter; return the watched packages and vault/sdk modules it loaded."""
    probe = textwrap.dedent(code) + textwrap.dedent(
        f"""
        import json as _json, sys as _sys
        _tops = {{name.partition(".")[0] for name in _sys.modules}}
        print(_json.dumps({{
            "watched": sorted(_tops & set({list(watch)!r})),
            "ours": sorted(n for n in _sys.modules if n.partition(".")[0] in ("vault", "sdk")),
        }}))
        """
    )
    done = subprocess.run(
        [sys.executable, "-W", "error", "-c", probe], capture_output=True, text=True, check=True, timeout=120
    )
    found: dict[str, list[str]] = json.loads(done.stdout.strip().splitlines()[-1])
    return found


def test_import_vault_loads_only_the_package() -> None:
    found = loaded_after("import vault")
    assert found == {"watched": [], "ours": ["vault"]}


def test_import_vault_then_sdk_and_back_stay_light() -> None:
    for code in ("import vault, sdk", "import sdk, vault"):
        found = loaded_after(code)
        assert found["watched"] == [], code
        assert found["ours"] == ["sdk", "vault"], code


def test_an_api_key_integration_never_loads_oauth_or_jose() -> None:
    # Everything an API-key integration does short of a network round trip: settings, a store, a
    # registered tenant (which builds the tenant's Vault client), and parsing the secret it reads.
    found = loaded_after(
        """
        from vault import CredentialStore, VaultSettings, parse_credential
        store = CredentialStore()
        store.register_tenant(
            "acme", settings=VaultSettings(address="http://127.0.0.1:1"), region="nz", token="t"
        )
        parse_credential({"type": "api_key", "api_key": "k"}, tenant="acme", integration="crm", path="p")
        store.discard()
        """
    )
    assert set(found["watched"]).isdisjoint(OAUTH_AND_JOSE), found["watched"]
    # hvac and requests load with the client's first hvac call (a login, a write), not with the client.
    assert set(found["watched"]).isdisjoint({"hvac", "requests"}), found["watched"]
    assert "vault._client" in found["ours"]  # the client really is built: the probe is not vacuous
    assert not any(name.startswith(("vault._oauth", "vault._token", "vault._jwt")) for name in found["ours"])


def test_oauth_loads_jwt_signing_only_on_the_jwt_grant_path() -> None:
    found = loaded_after(
        """
        from vault import OAuthTokenSource, OAuth2JWTCredential, TokenEndpoint
        from vault._token_request import refusal_error
        """
    )
    assert "authlib" in found["watched"]  # OAuth itself is loaded: the probe is not vacuous
    assert set(found["watched"]).isdisjoint(JOSE), found["watched"]
    assert "vault._jwt_assertion" not in found["ours"]


def test_the_probe_sees_a_heavy_import() -> None:
    found = loaded_after("import vault\nfrom vault._jwt_assertion import sign_assertion")
    assert {"joserfc", "cryptography"} <= set(found["watched"])
    assert "vault._jwt_assertion" in found["ours"]


def test_the_light_jwt_grant_name_is_authlibs() -> None:
    from authlib.oauth2.rfc7523 import JWTBearerGrant

    from vault._token_endpoint import JWT_BEARER

    assert JWT_BEARER == JWTBearerGrant.GRANT_TYPE


def test_every_public_name_loads_on_first_use_and_is_listed() -> None:
    assert set(vault.__all__) <= set(dir(vault))
    code = textwrap.dedent(
        """
        import vault
        for name in vault.__all__:
            assert name not in vars(vault), name  # nothing was loaded up front
            value = getattr(vault, name)
            assert vars(vault)[name] is value, name  # kept: later look-ups are plain reads
        """
    )
    subprocess.run([sys.executable, "-W", "error", "-c", code], check=True, timeout=120)


@pytest.mark.parametrize("name", ["sdk", "VaultClients", "OAuthTokenSource ", "translate_vault_errors"])
def test_unknown_names_are_attribute_errors(name: str) -> None:
    with pytest.raises(AttributeError, match="no attribute"):
        getattr(vault, name)
