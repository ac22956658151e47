"""Refresh tokens the vendor refused: when a refusal means "authorise again", and never resending one.

A refresh token the vendor rejects (``invalid_grant`` and the like, as the
connector's :class:`~vault.TokenEndpoint` names them) will not work again; the
tenant must authorise the app anew. Sending it on every call would only earn
more refusals and may look like an attack to the vendor, so the token source
remembers which refresh token of each tenant integration was refused and
raises :class:`~sdk.ReauthorizationRequiredError` without a request until
Vault holds a different one.

What is remembered is a keyed fingerprint (HMAC-SHA256 under a random key of
this process), never the token nor a plain hash of it (S3). The same
fingerprint marks the spent token a pending write-back replaces
(:mod:`vault._write_back`).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from pydantic import SecretStr

from sdk._errors import ReauthorizationRequiredError
from vault._credentials import CredentialLease, OAuth2RefreshCredential
from vault._token_endpoint import TokenEndpoint, TokenStats
from vault._token_request import TokenAnswer

__all__ = ["RefusedRefreshTokens", "reauthorization_error"]

_Key = tuple[str, str]


class RefusedRefreshTokens:
    """The refresh token each tenant integration's vendor last refused, as a keyed fingerprint.

    ``stats.rejected`` counts the refusals that meant reauthorisation.
    """

    def __init__(self, stats: TokenStats) -> None:
        self._stats = stats
        self._pepper = secrets.token_bytes(32)
        self._refused: dict[_Key, bytes] = {}

    def fingerprint(self, secret: SecretStr) -> bytes:
        """A keyed fingerprint of ``secret``: equal for equal secrets in this process, no hash of it."""
        return hmac.new(self._pepper, secret.get_secret_value().encode(), hashlib.sha256).digest()

    def refused(self, key: _Key, token: SecretStr) -> bool:
        """Whether ``token`` is the refresh token the vendor refused for ``key`` (tenant, integration)."""
        return self._refused.get(key) == self.fingerprint(token)

    def judge(
        self, lease: CredentialLease, endpoint: TokenEndpoint, grant_type: str, answer: TokenAnswer
    ) -> ReauthorizationRequiredError | None:
        """The error to raise if ``answer`` refused ``lease``'s refresh token for good, else None.

        A refusal for good is remembered, so the token is not sent again.
        """
        if not (
            grant_type == "refresh_token"
            and answer.status in (400, 401)
            and answer.code in endpoint.reauthorize_codes
        ):
            return None
        credential = lease.credential
        if isinstance(credential, OAuth2RefreshCredential):
            self._refused[(lease.tenant, lease.integration)] = self.fingerprint(credential.refresh_token)
        self._stats.rejected += 1
        return reauthorization_error(lease, f"the vendor answered {answer.status} {answer.code}")


def reauthorization_error(lease: CredentialLease, why: str) -> ReauthorizationRequiredError:
    """The error for a refresh token of ``lease`` the vendor no longer accepts, ``why`` saying how we know."""
    return ReauthorizationRequiredError(
        f"the vendor no longer accepts the OAuth refresh token of tenant {lease.tenant!r}, integration "
        f"{lease.integration!r} ({why}); the tenant must authorise the app again and store the new "
        f"refresh token in Vault at {lease.path!r}"
    )
