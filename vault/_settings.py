"""Per-tenant Vault settings: where the tenant's Vault is and how to log in to it.

Settings name *where* a Vault token or AppRole secret id can be found (an
environment variable or a file), never the token itself, so that a config file
can be shared, diffed and logged without leaking anything (S3).
"""

from __future__ import annotations

import ipaddress
import re
import urllib.parse
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

__all__ = [
    "KUBERNETES_TOKEN_FILE",
    "REGIONS",
    "AppRoleAuth",
    "JwtAuth",
    "TokenAuth",
    "VaultSettings",
    "is_loopback_host",
]

KUBERNETES_TOKEN_FILE = "/var/run/secrets/kubernetes.io/serviceaccount/token"  # noqa: S105 - a path
"""Where Kubernetes mounts a pod's (projected, rotating) service-account token."""

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

    method: Literal["token"] = Field(default="token", description="Selects this login method.")
    token_env: str = Field(
        default="NEXORA_VAULT_TOKEN",  # the name of a variable, not a token
        description="Name of the environment variable holding the token (never the token itself).",
    )
    token_file: str | None = Field(
        default=None,
        description="File holding the token (Vault Agent, a Kubernetes secret); read instead of token_env.",
    )

    @field_validator("token_env")
    @classmethod
    def _check_env(cls, value: str) -> str:
        return _check_env_name(value) or value


class AppRoleAuth(_Frozen):
    """Log in with an AppRole role id and secret id, and again when the token stops working.

    The secret id is read at each login from ``secret_id_file`` if configured,
    otherwise from ``secret_id_env``; with neither, the role must not require one.
    """

    method: Literal["approle"] = Field(default="approle", description="Selects this login method.")
    role_id: str = Field(min_length=1, description="The AppRole's role id (not a secret).")
    secret_id_env: str | None = Field(
        default=None, description="Name of the environment variable holding the secret id."
    )
    secret_id_file: str | None = Field(
        default=None, description="File holding the secret id; read instead of secret_id_env."
    )
    mount_point: str = Field(default="approle", description="Where the approle auth method is mounted.")

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


class JwtAuth(_Frozen):
    """Log in with a signed JWT the platform gives the workload (Kubernetes, cloud workload identity).

    The JWT is read from ``token_file`` at each login, never kept: a projected
    Kubernetes service-account token is rotated in place by the kubelet, so the
    file always holds the current one. Vault's ``jwt`` auth method at
    ``mount_point`` checks its signature and claims against ``role``; the token
    it issues is renewed, and replaced by a new login, as an AppRole token is.
    """

    method: Literal["jwt"] = Field(default="jwt", description="Selects this login method.")
    role: str = Field(
        min_length=1,
        max_length=128,
        pattern=r"^[A-Za-z0-9_.@-]+$",
        description="The Vault jwt role whose bound claims the workload's JWT must match.",
    )
    token_file: str = Field(
        default=KUBERNETES_TOKEN_FILE,
        min_length=1,
        description="File holding the JWT, re-read at each login (default: the pod's service-account token).",
    )
    mount_point: str = Field(default="jwt", description="Where the jwt auth method is mounted.")

    @field_validator("mount_point")
    @classmethod
    def _check_mount(cls, value: str) -> str:
        if not _SEGMENTS.fullmatch(value):
            raise ValueError("must be a Vault mount path such as 'jwt' or 'kubernetes-jwt'")
        return value


def is_loopback_host(host: str) -> bool:
    """Whether ``host`` names this machine only: ``localhost``, 127.0.0.0/8 or ::1."""
    name = host.strip("[]").rstrip(".").lower()
    if name == "localhost":
        return True
    try:
        ip = ipaddress.ip_address(name)
    except ValueError:
        return False  # a name such as 127.0.0.1.example.com resolves wherever DNS says
    mapped = ip.ipv4_mapped if isinstance(ip, ipaddress.IPv6Address) else None
    return (mapped or ip).is_loopback


class VaultSettings(_Frozen):
    """Where one tenant's credentials live and how to reach them.

    Frozen and hashable: tenants whose settings are equal share one client.

    The address must be ``https://`` unless it is on loopback (a local dev
    server, or a Vault Agent sidecar): a Vault token sent over plain HTTP can be
    read by anyone on the path. ``allow_plain_http`` opts out, visibly (the
    doctor reports it). It is declared before ``address`` so that the address
    check can see it, and name ``address`` as the key to fix.

    TLS: ``ca_cert`` is the CA bundle the server's certificate must chain to
    (``verify`` may name one as well, or be ``false``; not both), and
    ``client_cert`` (with ``client_key`` unless the file holds both) is the
    client certificate for a listener that requires mutual TLS.
    """

    allow_plain_http: bool = Field(
        default=False,
        description="Let address be plain http to a host that is not loopback (an opt-in doctor reports).",
    )
    address: str = Field(
        description="The Vault server's URL, e.g. https://vault.example:8200: https unless on loopback."
    )
    namespace: str | None = Field(
        default=None, description="Vault Enterprise / OpenBao namespace, e.g. tenants/acme; none by default."
    )
    mount: str = Field(default="secret", description="The KV v2 secrets engine's mount path.")
    path_prefix: str = Field(
        default="nexora",
        description="Prefix of every credential path: `<mount>/data/<path_prefix>/<tenant>/<integration>`.",
    )
    region: str = Field(default="nz", description="Where this Vault runs: nz, au, us, uk or eu (S8).")
    timeout: float = Field(default=2.0, gt=0, le=60, description="Seconds per request to Vault.")
    verify: bool | str = Field(
        default=True,
        description="Verify the server's TLS certificate (true), not (false), or against this CA bundle.",
    )
    ca_cert: str | None = Field(
        default=None, min_length=1, description="CA bundle file the server's certificate must chain to."
    )
    client_cert: str | None = Field(
        default=None,
        min_length=1,
        description="Client certificate file, for a listener requiring mutual TLS.",
    )
    client_key: str | None = Field(
        default=None,
        min_length=1,
        description="Client certificate's key file, unless client_cert holds both.",
    )
    auth: Annotated[TokenAuth | AppRoleAuth | JwtAuth, Field(discriminator="method")] = Field(
        default_factory=TokenAuth,
        description="How to log in: method = token (default), approle or jwt, with that method's keys.",
    )

    @property
    def tls_verify(self) -> bool | str:
        """What ``requests``' ``verify`` takes: the CA bundle path, or whether to verify with the default."""
        return self.ca_cert if self.ca_cert is not None else self.verify

    @property
    def tls_client_cert(self) -> tuple[str, str] | str | None:
        """What ``requests``' ``cert`` takes: the client certificate (and key) files, if any."""
        if self.client_cert is None:
            return None
        return (self.client_cert, self.client_key) if self.client_key else self.client_cert

    @model_validator(mode="after")
    def _check_tls(self) -> VaultSettings:
        if self.client_key is not None and self.client_cert is None:
            raise ValueError("client_key needs client_cert (the certificate the key belongs to)")
        if self.ca_cert is not None and self.verify is not True:
            raise ValueError(
                "set either ca_cert or verify, not both: ca_cert names the CA bundle, "
                "verify = false turns verification off"
            )
        return self

    @field_validator("address")
    @classmethod
    def _check_address(cls, value: str, info: ValidationInfo) -> str:
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
        if (
            parts.scheme == "http"
            and not is_loopback_host(parts.hostname)
            and info.data.get("allow_plain_http") is not True
        ):
            raise ValueError(
                "is plain http:// to a Vault that is not on loopback, so the Vault token and every key "
                "would cross the network readable; use https:// (with ca_cert if the CA is private), or, "
                "only on a network path you trust, set allow_plain_http = true next to this address"
            )
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
