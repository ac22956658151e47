"""The one exception hierarchy of Nexora Connect.

Every error the SDK raises derives from :class:`NexoraError`, split by what the
caller should do next::

    NexoraError
    ├── ConfigurationError            fix the config or the call site
    │   ├── UnknownTenantError
    │   ├── UnknownIntegrationError
    │   ├── UnknownOperationError
    │   ├── UnknownConnectorError
    │   └── InvalidIdentifierError    (also ValueError)
    ├── UsageError                    a programming mistake (also RuntimeError)
    │   ├── ConversationClosedError
    │   └── InvalidArgumentsError     (also ValueError)
    ├── AccessDeniedError             the tenant's policy says no; do not retry
    │   ├── ScopeDeniedError
    │   └── ResidencyError
    ├── CredentialError               the key could not be had or used
    │   ├── CredentialNotFoundError
    │   ├── MalformedCredentialError
    │   ├── ReauthorizationRequiredError
    │   └── VaultError
    │       ├── VaultUnavailableError
    │       │   ├── VaultSealedError
    │       │   └── VaultTimeoutError
    │       ├── VaultPermissionError
    │       ├── VaultAuthError
    │       └── VaultConflictError
    ├── VendorError                   the vendor API failed the request
    │   ├── VendorAuthError
    │   ├── VendorNotFoundError
    │   ├── VendorConflictError
    │   ├── VendorRateLimitError
    │   ├── VendorServerError
    │   ├── VendorTimeoutError
    │   ├── VendorConnectionError
    │   └── VendorPayloadError
    └── DeadlineExceededError         the caller's latency budget ran out

Messages name tenants, integrations, operations, Vault paths, HTTP methods,
URL paths, statuses and vendor request ids. They never carry a secret, a
header, a query string, a request or response body, or an argument value:
those may hold credentials or customer data (promise S3).
"""

from __future__ import annotations

__all__ = [
    "AccessDeniedError",
    "ConfigurationError",
    "ConversationClosedError",
    "CredentialError",
    "CredentialNotFoundError",
    "DeadlineExceededError",
    "InvalidArgumentsError",
    "InvalidIdentifierError",
    "MalformedCredentialError",
    "NexoraError",
    "ReauthorizationRequiredError",
    "ResidencyError",
    "ScopeDeniedError",
    "UnknownConnectorError",
    "UnknownIntegrationError",
    "UnknownOperationError",
    "UnknownTenantError",
    "UsageError",
    "VaultAuthError",
    "VaultConflictError",
    "VaultError",
    "VaultPermissionError",
    "VaultSealedError",
    "VaultTimeoutError",
    "VaultUnavailableError",
    "VendorAuthError",
    "VendorConflictError",
    "VendorConnectionError",
    "VendorError",
    "VendorNotFoundError",
    "VendorPayloadError",
    "VendorRateLimitError",
    "VendorServerError",
    "VendorTimeoutError",
    "error_kind",
]


class NexoraError(Exception):
    """Base class of every error raised by Nexora Connect."""


def error_kind(exc: BaseException) -> str:
    """The name of the nearest public class of ``exc``, for audit records and reports.

    Private refinements (``_NotSentError``) stay out of telemetry: operators see
    the documented class they can look up and catch.
    """
    for cls in type(exc).__mro__:
        if not cls.__name__.startswith("_"):
            return cls.__name__
    return "Exception"  # pragma: no cover - object is always public


# --- configuration -----------------------------------------------------------


class ConfigurationError(NexoraError):
    """The configuration or the call names something that does not exist or is malformed."""


class UnknownTenantError(ConfigurationError):
    """The tenant id is not in the configuration."""


class UnknownIntegrationError(ConfigurationError):
    """The tenant has no integration with that id."""


class UnknownOperationError(ConfigurationError):
    """The connector declares no operation with that name."""


class UnknownConnectorError(ConfigurationError):
    """No connector is registered under that name."""


class InvalidIdentifierError(ConfigurationError, ValueError):
    """A tenant, integration or conversation id is empty, too long or has characters outside its alphabet."""


# --- usage -------------------------------------------------------------------


class UsageError(NexoraError, RuntimeError):
    """The SDK was used in a way it does not allow; the calling code needs fixing."""


class ConversationClosedError(UsageError):
    """The conversation was hung up, expired or shut down; its data is gone."""


class InvalidArgumentsError(UsageError, ValueError):
    """The arguments given to an operation do not match its signature.

    The message lists the offending argument names and what was expected, never
    the values given (they are usually customer data).
    """


# --- access ------------------------------------------------------------------


class AccessDeniedError(NexoraError):
    """The tenant's policy forbids this; retrying will not help."""


class ScopeDeniedError(AccessDeniedError):
    """The operation or request needs a scope that the tenant did not grant."""

    def __init__(self, message: str, *, scope: str | None = None) -> None:
        super().__init__(message)
        self.scope = scope


class ResidencyError(AccessDeniedError):
    """Using this Vault or sink would move data out of the tenant's region."""


# --- credentials -------------------------------------------------------------


class CredentialError(NexoraError):
    """The credential for an integration could not be read or used."""


class CredentialNotFoundError(CredentialError):
    """Nothing is stored at the Vault path for this tenant and integration."""


class MalformedCredentialError(CredentialError):
    """The secret in Vault is missing a field or has one of the wrong form."""


class ReauthorizationRequiredError(CredentialError):
    """The vendor rejected the stored refresh token; the tenant must authorise again."""


class VaultError(CredentialError):
    """Vault (or OpenBao) did not serve the request."""


class VaultUnavailableError(VaultError):
    """Vault could not be reached; it may come back by itself."""


class VaultSealedError(VaultUnavailableError):
    """Vault is sealed and serves nothing until an operator unseals it."""


class VaultTimeoutError(VaultUnavailableError):
    """Vault did not answer within the timeout."""


class VaultPermissionError(VaultError):
    """Vault denied the read: the policy of this token does not cover the path."""


class VaultAuthError(VaultError):
    """Logging in to Vault failed, or the token is invalid and cannot be renewed."""


class VaultConflictError(VaultError):
    """A check-and-set write lost: another writer created a newer version first; re-read and retry."""


# --- vendor ------------------------------------------------------------------


class VendorError(NexoraError):
    """The vendor API did not serve the request.

    Carries the HTTP method, the URL path (never the query string), the status
    and the vendor's request id, so that an operator can find the request in the
    vendor's logs without the SDK repeating anything sensitive.
    """

    def __init__(
        self,
        message: str,
        *,
        method: str | None = None,
        path: str | None = None,
        status: int | None = None,
        request_id: str | None = None,
        vendor_code: str | None = None,
    ) -> None:
        self.method = method
        self.path = path
        self.status = status
        self.request_id = request_id
        self.vendor_code = vendor_code
        super().__init__(self._compose(message))

    def _compose(self, message: str) -> str:
        parts = [message]
        if self.method and self.path:
            parts.append(f"({self.method} {self.path}")
            parts[-1] += f" -> {self.status})" if self.status is not None else ")"
        if self.vendor_code:
            parts.append(f"vendor code {self.vendor_code}")
        if self.request_id:
            parts.append(f"request id {self.request_id}")
        return " ".join(parts)


class VendorAuthError(VendorError):
    """The vendor rejected the credential even after a fresh read from Vault (401/403)."""


class VendorNotFoundError(VendorError):
    """The vendor has no such record (404)."""


class VendorConflictError(VendorError):
    """The vendor refused the write because of a conflicting state (409)."""


class VendorRateLimitError(VendorError):
    """The vendor kept answering 429 until the retries or the deadline ran out."""

    def __init__(self, message: str, *, retry_after: float | None = None, **context: object) -> None:
        self.retry_after = retry_after
        super().__init__(message, **context)  # type: ignore[arg-type]


class VendorServerError(VendorError):
    """The vendor answered with a 5xx status until the retries ran out."""


class VendorTimeoutError(VendorError):
    """The vendor did not answer within the timeout."""


class VendorConnectionError(VendorError):
    """The vendor could not be reached (DNS, refused or reset connection, TLS)."""


class VendorPayloadError(VendorError):
    """The vendor's answer was malformed, truncated, oversized or of an unexpected shape."""


# --- deadline ----------------------------------------------------------------


class DeadlineExceededError(NexoraError, TimeoutError):
    """The caller's latency budget ran out before the operation finished."""
