"""What a connector declares about its vendor's OAuth token endpoint, and what a token request yields.

Plain values, kept apart from the machinery that obtains tokens
(:mod:`vault._oauth`) so that connectors and the SDK's auth flow can name them
without it.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from typing import Literal

import httpx
from pydantic import SecretStr

from sdk._errors import ConfigurationError, MalformedCredentialError
from vault._credentials import (
    CredentialLease,
    OAuth2ClientCredential,
    OAuth2JWTCredential,
    OAuth2RefreshCredential,
)

__all__ = [
    "JWT_BEARER",
    "AccessToken",
    "TokenEndpoint",
    "TokenStats",
    "assertion_audience",
    "effective_endpoint",
]

JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
"""The grant type of a JWT bearer token request (RFC 7523 §2.1; authlib's ``JWTBearerGrant.GRANT_TYPE``).

Spelled out here rather than read from authlib, so that naming the grant (token
requests, refusal messages) does not load the JOSE stack only signing needs.
"""

_HOST = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+")
_HOST_PATTERN = re.compile(r"(?:\*\.)?" + _HOST.pattern)


@dataclasses.dataclass(frozen=True, slots=True)
class TokenEndpoint:
    """A vendor's OAuth 2.0 token endpoint and its dialect; connectors declare one.

    ``auth_method`` is how the client authenticates (RFC 6749 §2.3.1: HTTP
    Basic, or ``client_id``/``client_secret`` in the form, as HubSpot wants).
    ``error_fields`` are the JSON fields that may carry the error code (RFC 6749
    says ``error``; some vendors use their own). ``reauthorize_codes`` are the
    codes that mean the refresh token itself is dead. ``keep_fields`` are the
    token-response fields that are not secret and that a connector may need;
    every other field is dropped unread.

    ``instance_url_field`` names a token-response field holding the API origin
    the token is valid at (Salesforce's ``instance_url``): the token is then
    usable only if that field is an ``https`` origin on one of
    ``instance_hosts`` (``host`` exactly, or ``*.suffix`` for any host below
    it), and vendor requests are sent there (:attr:`AccessToken.instance_url`).

    ``assertion_audience`` is the ``aud`` of JWT bearer assertions (RFC 7523;
    the token URL when None) unless the credential names one;
    ``assertion_lifetime`` is how many seconds an assertion stays valid.
    """

    url: str
    auth_method: Literal["client_secret_basic", "client_secret_post"] = "client_secret_basic"
    error_fields: tuple[str, ...] = ("error",)
    reauthorize_codes: frozenset[str] = frozenset({"invalid_grant"})
    keep_fields: frozenset[str] = frozenset({"scope"})
    instance_url_field: str | None = None
    instance_hosts: tuple[str, ...] = ()
    assertion_audience: str | None = None
    assertion_lifetime: int = 120

    def __post_init__(self) -> None:
        if not self.url.startswith(("https://", "http://")) or "@" in self.url.split("/", 3)[2]:
            raise ConfigurationError("a token endpoint must be an http(s) URL without user info")
        if self.instance_url_field is not None and not self.instance_hosts:
            raise ConfigurationError("a token endpoint with an instance_url_field must list instance_hosts")
        for pattern in self.instance_hosts:
            if not _HOST_PATTERN.fullmatch(pattern):
                raise ConfigurationError(
                    f"instance host {pattern!r} must be a lower-case host name, or '*.' and a domain"
                )
        if not 0 < self.assertion_lifetime <= 3600:
            raise ConfigurationError("assertion_lifetime must be between 1 and 3600 seconds")

    def allows_instance(self, url: str) -> bool:
        """Return True if ``url`` is an ``https`` origin on one of ``instance_hosts``.

        Nothing but scheme, host and an optional trailing ``/`` may appear: no
        user info, port, path, query or fragment, and the host must be plain
        lower-case ASCII (no IDNA lookalikes, no trailing dot).
        """
        try:
            parsed = httpx.URL(url)
        except (httpx.InvalidURL, TypeError):
            return False
        host = parsed.host
        # Comparing with the rebuilt origin refuses everything httpx would normalise away or keep
        # (user info, ports, paths, queries, fragments, upper case, percent-escapes).
        if url not in (f"https://{host}", f"https://{host}/") or not _HOST.fullmatch(host):
            return False
        return any(
            host.endswith(pattern[1:]) if pattern.startswith("*.") else host == pattern
            for pattern in self.instance_hosts
        )


@dataclasses.dataclass(frozen=True, slots=True)
class AccessToken:
    """An access token held in memory; ``value`` is masked in every repr."""

    value: SecretStr
    refresh_at: float
    """The token source's clock reading after which this token is no longer handed out."""
    credential_version: int
    """The Vault version of the credential the token was obtained with (for audit records)."""
    extras: Mapping[str, str]
    """The endpoint's ``keep_fields`` that the vendor sent, e.g. ``scope``."""
    instance_url: str | None = None
    """The checked API origin the token is valid at (see ``TokenEndpoint.instance_url_field``)."""


@dataclasses.dataclass(slots=True)
class TokenStats:
    """Counters for tests, benchmarks and operators; no secrets."""

    requests: int = 0
    """Token requests sent to the vendor."""
    refreshes: int = 0
    """Refresh-token grants the vendor answered with a token."""
    client_grants: int = 0
    """Client-credentials grants the vendor answered with a token."""
    assertion_grants: int = 0
    """JWT bearer grants (RFC 7523) the vendor answered with a token."""
    write_backs: int = 0
    """Rotated refresh tokens written to Vault."""
    kept: int = 0
    """Refreshes where the vendor sent no new refresh token, so the stored one was kept."""
    write_back_conflicts: int = 0
    """Write-backs that lost their check-and-set and were merged and retried."""
    rejected: int = 0
    """Refresh tokens the vendor rejected (reauthorisation needed)."""


def assertion_audience(credential: OAuth2JWTCredential, endpoint: TokenEndpoint) -> str:
    """The ``aud`` of an assertion: the credential's own, else the endpoint's, else the token URL."""
    return credential.audience or endpoint.assertion_audience or endpoint.url


def effective_endpoint(
    lease: CredentialLease,
    credential: OAuth2RefreshCredential | OAuth2ClientCredential | OAuth2JWTCredential,
    endpoint: TokenEndpoint | None,
) -> TokenEndpoint:
    """The endpoint a token request for ``credential`` goes to: a ``token_url`` stored with it wins."""
    if credential.token_url is not None:
        if endpoint is None:
            return TokenEndpoint(url=credential.token_url)
        return dataclasses.replace(endpoint, url=credential.token_url)
    if endpoint is None:
        raise MalformedCredentialError(
            f"the OAuth credential of tenant {lease.tenant!r}, integration {lease.integration!r} has no "
            f"token_url and its connector declares no token endpoint; add token_url to the secret at "
            f"{lease.path!r}"
        )
    return endpoint
