"""Credential access for Nexora Connect: each tenant's keys, read from its own Vault or OpenBao.

Everything public is importable from here; the modules behind it are private.

Names load on first use (PEP 562): ``import vault`` imports neither hvac nor
the OAuth and JOSE stacks (httpx, authlib, joserfc, cryptography), and an
API-key integration that takes :class:`CredentialStore` and
:class:`VaultSettings` never loads the OAuth ones at all.
"""

# Helpers are imported under private names: this package's public names are exactly __all__.
import importlib as _importlib
import typing as _typing

if _typing.TYPE_CHECKING:
    from vault._client import VaultClient
    from vault._credentials import (
        ApiKeyCredential,
        BasicCredential,
        Credential,
        CredentialLease,
        OAuth2ClientCredential,
        OAuth2JWTCredential,
        OAuth2RefreshCredential,
        credential_to_secret_data,
        parse_credential,
    )
    from vault._errors import translate_vault_error
    from vault._lease import VaultRefreshLocks
    from vault._locks import LocalRefreshLocks, LockStats, RefreshLocks
    from vault._oauth import OAuthTokenSource
    from vault._paths import credential_path, refresh_lock_path, tenant_policy_hcl
    from vault._secret_versions import SecretVersionInfo
    from vault._settings import REGIONS, AppRoleAuth, JwtAuth, TokenAuth, VaultSettings
    from vault._store import CredentialStore
    from vault._token_endpoint import AccessToken, TokenEndpoint, TokenStats
    from vault.devserver import OpenBaoDevServer, find_bao_binary

__all__ = [
    # reading credentials
    "CredentialStore",
    "CredentialLease",
    # credential shapes
    "Credential",
    "ApiKeyCredential",
    "BasicCredential",
    "OAuth2ClientCredential",
    "OAuth2JWTCredential",
    "OAuth2RefreshCredential",
    "parse_credential",
    "credential_to_secret_data",
    # settings
    "VaultSettings",
    "TokenAuth",
    "AppRoleAuth",
    "JwtAuth",
    "REGIONS",
    # OAuth: access tokens in memory, refresh tokens written back, refreshes serialised
    "OAuthTokenSource",
    "TokenEndpoint",
    "AccessToken",
    "TokenStats",
    "RefreshLocks",
    "VaultRefreshLocks",
    "LocalRefreshLocks",
    "LockStats",
    # layout and isolation
    "credential_path",
    "refresh_lock_path",
    "tenant_policy_hcl",
    # the Vault client underneath
    "VaultClient",
    "SecretVersionInfo",
    "translate_vault_error",
    # local OpenBao for tests and the demo
    "OpenBaoDevServer",
    "find_bao_binary",
]

_HOMES: dict[str, str] = {
    "CredentialStore": "vault._store",
    "CredentialLease": "vault._credentials",
    "Credential": "vault._credentials",
    "ApiKeyCredential": "vault._credentials",
    "BasicCredential": "vault._credentials",
    "OAuth2ClientCredential": "vault._credentials",
    "OAuth2JWTCredential": "vault._credentials",
    "OAuth2RefreshCredential": "vault._credentials",
    "parse_credential": "vault._credentials",
    "credential_to_secret_data": "vault._credentials",
    "VaultSettings": "vault._settings",
    "TokenAuth": "vault._settings",
    "AppRoleAuth": "vault._settings",
    "JwtAuth": "vault._settings",
    "REGIONS": "vault._settings",
    "OAuthTokenSource": "vault._oauth",
    "TokenEndpoint": "vault._token_endpoint",
    "AccessToken": "vault._token_endpoint",
    "TokenStats": "vault._token_endpoint",
    "RefreshLocks": "vault._locks",
    "VaultRefreshLocks": "vault._lease",
    "LocalRefreshLocks": "vault._locks",
    "LockStats": "vault._locks",
    "credential_path": "vault._paths",
    "refresh_lock_path": "vault._paths",
    "tenant_policy_hcl": "vault._paths",
    "VaultClient": "vault._client",
    "SecretVersionInfo": "vault._secret_versions",
    "translate_vault_error": "vault._errors",
    "OpenBaoDevServer": "vault.devserver",
    "find_bao_binary": "vault.devserver",
}
"""Where each public name is defined; imported the first time the name is used."""


def __getattr__(name: str) -> object:
    module = _HOMES.get(name)
    if module is None:
        raise AttributeError(f"module 'vault' has no attribute {name!r}")
    value = getattr(_importlib.import_module(module), name)
    globals()[name] = value  # later look-ups are plain attribute reads
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
