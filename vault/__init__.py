"""Credential access for Nexora Connect: each tenant's keys, read from its own Vault or OpenBao.

Everything public is importable from here; the modules behind it are private.
"""

# vault's modules raise sdk's errors (sdk._errors, sdk._ids) and sdk's modules use vault's
# submodules. Initialising sdk first means no vault module is ever left half-loaded while
# sdk's package __init__ runs, whichever package the application imports first; sdk's
# modules import vault's submodules directly, never names from this package.
import sdk  # noqa: F401
from vault._client import SecretVersionInfo, VaultClient
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
from vault._lease import LocalRefreshLocks, LockStats, RefreshLocks, VaultRefreshLocks
from vault._oauth import AccessToken, OAuthTokenSource, TokenEndpoint, TokenStats
from vault._paths import credential_path, refresh_lock_path, tenant_policy_hcl
from vault._settings import REGIONS, AppRoleAuth, JwtAuth, TokenAuth, VaultSettings
from vault._store import CredentialStore
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
