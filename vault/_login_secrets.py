"""Where a Vault login's secret comes from, and what to tell an operator when it is refused.

A token (token auth), an AppRole secret id or a workload's JWT is read from
its file or environment variable at every login and never kept, so a rotated
one is picked up. Errors name the file or variable and the remedy, never what
it holds.
"""

from __future__ import annotations

import os

from pydantic import SecretStr

from sdk._errors import VaultAuthError
from vault._settings import AppRoleAuth, JwtAuth, TokenAuth

__all__ = ["login_remedy", "method_name", "read_file", "read_secret_id", "read_token", "same_token"]


def read_file(path: str, what: str) -> str:
    """The stripped contents of the secret file ``path``; ``what`` names it in errors."""
    try:
        with open(path, encoding="utf-8") as handle:
            value = handle.read().strip()
    except OSError as exc:
        # The OSError names the file and the reason, never its contents.
        raise VaultAuthError(f"cannot read the {what} file {path!r}: {exc.strerror}") from None
    if not value:
        raise VaultAuthError(f"the {what} file {path!r} is empty")
    return value


def read_token(auth: TokenAuth) -> str:
    if auth.token_file:
        return read_file(auth.token_file, "Vault token")
    token = os.environ.get(auth.token_env, "").strip()
    if not token:
        raise VaultAuthError(
            f"no Vault token: set the environment variable {auth.token_env} "
            "(or configure token_file) for this tenant's Vault"
        )
    return token


def read_secret_id(auth: AppRoleAuth) -> str | None:
    if auth.secret_id_file:
        return read_file(auth.secret_id_file, "AppRole secret id")
    if auth.secret_id_env:
        secret_id = os.environ.get(auth.secret_id_env, "").strip()
        if not secret_id:
            raise VaultAuthError(f"no AppRole secret id: set the environment variable {auth.secret_id_env}")
        return secret_id
    return None


def same_token(first: SecretStr | None, second: SecretStr | None) -> bool:
    """Whether two tokens are the same token (None only equals None)."""
    if first is None or second is None:
        return first is second
    return first.get_secret_value() == second.get_secret_value()


def method_name(auth: AppRoleAuth | JwtAuth) -> str:
    return "JWT" if isinstance(auth, JwtAuth) else "AppRole"


def login_remedy(auth: AppRoleAuth | JwtAuth) -> str:
    if isinstance(auth, JwtAuth):
        return (
            f"check role {auth.role!r}, that {auth.token_file!r} holds a current JWT whose issuer, "
            "audience and signing key the role accepts"
        )
    return f"check role_id and {_secret_id_source(auth)}"


def _secret_id_source(auth: AppRoleAuth) -> str:
    if auth.secret_id_file:
        return f"the secret id in {auth.secret_id_file!r}"
    if auth.secret_id_env:
        return f"the secret id in ${auth.secret_id_env}"
    return "whether the role needs a secret id"
