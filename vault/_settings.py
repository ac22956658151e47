"""Per-tenant Vault settings: where the tenant's Vault is and how to log in to it.

Settings name *where* a Vault token or AppRole secret id can be found (an
environment variable or a file), never the token itself, so that a config file
can be shared, diffed and logged without leaking anything (S3).
"""

from __future__ import annotations

import re
import urllib.parse
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = ["REGIONS", "AppRoleAuth", "TokenAuth", "VaultSettings"]

REGIONS: frozenset[str] = frozenset({"nz", "au", "us", "uk", "eu"})
"""Region codes a tenant or a Vault may be placed in (New Zealand is the default)."""

# Segments of mounts, prefixes and namespaces: no dots at all, so that neither
# '.' nor '..' can ever reach a Vault URL (S2).
_SEGMENTS = re.compile(r"[A-Za-z0-9_-]+(/[A-Za-z0-9_-]+)*")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _check_env_name(value: str | None) -> str | None:
    if value is not None and not _ENV_NAME.fullmatch(value):
        raise ValueError("must be an environment variable name such as NEXORA_VAULT_TOKEN")
    return value


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class TokenAuth(_Frozen):
    """Use a Vault token provisioned out of band.

    The token is read when the client logs in: from ``token_file`` if one is
    configured (a file written by Vault Agent or a Kubernetes secret, so the
    explicit choice wins), otherwise from the environment variable ``token_env``.
    A token cannot be renewed by logging in again, so an expired or revoked one
    ends in :class:`~sdk._errors.VaultAuthError`.
    """

    method: Literal["token"] = "token"
    token_env: str = "NEXORA_VAULT_TOKEN"  # noqa: S105 - the name of a variable, not a token
    token_file: str | None = None

    @field_validator("token_env")
    @classmethod
    def _check_env(cls, value: str) -> str:
        return _check_env_name(value) or value


class AppRoleAuth(_Frozen):
    """Log in with an AppRole role id and secret id, and again when the token stops working.

    The secret id is read at each login from ``secret_id_file`` if configured,
    otherwise from ``secret_id_env``; with neither, the role must not require one.
    """

    method: Literal["approle"] = "approle"
    role_id: str = Field(min_length=1)
    secret_id_env: str | None = None
    secret_id_file: str | None = None
    mount_point: str = "approle"

    @field_validator("secret_id_env")
    @classmethod
    def _check_env(cls, value: str | None) -> str | None:
        return _check_env_name(value)

    @field_validator("mount_point")
    @classmethod
    def _check_mount(cls, value: str) -> str:
        if not _SEGMENTS.fullmatch(value):
            raise ValueError("must be a Vault mount path such as 'approle'")
        return value


class VaultSettings(_Frozen):
    """Where one tenant's credentials live and how to reach them.

    Frozen and hashable: tenants whose settings are equal share one client.
    """

    address: str
    namespace: str | None = None
    mount: str = "secret"
    path_prefix: str = "nexora"
    region: str = "nz"
    timeout: float = Field(default=2.0, gt=0, le=60)
    verify: bool | str = True
    auth: Annotated[TokenAuth | AppRoleAuth, Field(discriminator="method")] = Field(default_factory=TokenAuth)

    @field_validator("address")
    @classmethod
    def _check_address(cls, value: str) -> str:
        try:
            parts = urllib.parse.urlsplit(value)
            parts.port  # noqa: B018 - raises ValueError on a malformed port
        except ValueError:
            parts = None
        if (
            parts is None
            or parts.scheme not in {"http", "https"}
            or not parts.hostname
            or "@" in parts.netloc
            or parts.path not in {"", "/"}
            or parts.query
            or parts.fragment
        ):
            raise ValueError("must be an http(s) URL of the Vault server such as https://vault.example:8200")
        return f"{parts.scheme}://{parts.netloc}"

    @field_validator("mount")
    @classmethod
    def _check_mount(cls, value: str) -> str:
        if not _SEGMENTS.fullmatch(value):
            raise ValueError("must be a KV v2 mount path such as 'secret', without leading or trailing '/'")
        return value

    @field_validator("path_prefix")
    @classmethod
    def _check_prefix(cls, value: str) -> str:
        if value and not _SEGMENTS.fullmatch(value):
            raise ValueError("must be '' or '/'-separated names of letters, digits, '-' or '_'")
        return value

    @field_validator("namespace")
    @classmethod
    def _check_namespace(cls, value: str | None) -> str | None:
        if value is not None and not _SEGMENTS.fullmatch(value):
            raise ValueError("must be a Vault namespace path such as 'tenants/acme'")
        return value

    @field_validator("region")
    @classmethod
    def _check_region(cls, value: str) -> str:
        if value not in REGIONS:
            raise ValueError(f"must be one of {', '.join(sorted(REGIONS))}")
        return value

    @field_validator("verify")
    @classmethod
    def _check_verify(cls, value: bool | str) -> bool | str:
        if isinstance(value, str) and not value:
            raise ValueError("must be true, false or the path of a CA bundle")
        return value
