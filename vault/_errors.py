"""Translation of hvac and requests exceptions into the SDK's own error hierarchy.

Every foreign exception that can come out of an hvac call is mapped to the most
specific :mod:`sdk._errors` class, with a message that says what to fix. A test
enumerates ``hvac.exceptions`` and fails if a class is missing from the table.

Chaining: the SDK error is raised *without* the hvac exception as its cause or
context (see ``VaultClient``). hvac exceptions keep the raw response body
(``.text``, ``.json``) and their tracebacks reach frames whose locals hold the
request headers, ``X-Vault-Token`` included; error reporters that walk the
exception chain and capture frame locals (Sentry does both by default) would
ship the token off the machine (S3). What is worth keeping is copied instead:
Vault's own error strings (``errors`` in its JSON answer), which describe the
problem and do not echo request bodies. Raw response text is never copied,
since a proxy or load balancer in front of Vault may answer with anything.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable

import hvac.exceptions
import requests.exceptions

from sdk._errors import (
    CredentialError,
    CredentialNotFoundError,
    VaultAuthError,
    VaultError,
    VaultPermissionError,
    VaultSealedError,
    VaultTimeoutError,
    VaultUnavailableError,
)

__all__ = ["FOREIGN_ERRORS", "translate_vault_error"]

FOREIGN_ERRORS: tuple[type[BaseException], ...] = (
    hvac.exceptions.VaultError,
    requests.exceptions.RequestException,
)
"""The exception types an hvac call can raise that :func:`translate_vault_error` understands."""

_MAX_DETAIL = 200


@dataclasses.dataclass(frozen=True, slots=True)
class _Context:
    path: str
    tenant: str | None
    integration: str | None
    address: str
    mount: str | None
    detail: str

    @property
    def what(self) -> str:
        """Name the credential and its path, for the start of a message."""
        names = []
        if self.tenant is not None:
            names.append(f"tenant {self.tenant!r}")
        if self.integration is not None:
            names.append(f"integration {self.integration!r}")
        target = f"Vault path {self.api_path!r}"
        return f"{', '.join(names)} ({target})" if names else target

    @property
    def api_path(self) -> str:
        return f"{self.mount}/data/{self.path}" if self.mount else self.path

    @property
    def said(self) -> str:
        return f" (Vault said: {self.detail})" if self.detail else ""


_Factory = Callable[[_Context], CredentialError]

# Keyed on the exact class: the completeness test checks membership, and the
# lookup walks the MRO so that subclasses hvac may add later still land on
# their parent's mapping rather than on the generic fallback.
_HVAC_ERRORS: dict[type[BaseException], _Factory] = {
    hvac.exceptions.InvalidRequest: lambda c: VaultError(
        f"Vault refused the request for {c.what} as invalid{c.said}; "
        "if it was a check-and-set write, another writer got there first: re-read and retry"
    ),
    hvac.exceptions.Unauthorized: lambda c: VaultAuthError(
        f"Vault at {c.address} did not accept the token used for {c.what}{c.said}; "
        "check the Vault auth settings of this tenant and that its token or AppRole is valid"
    ),
    hvac.exceptions.Forbidden: lambda c: VaultPermissionError(
        f"Vault at {c.address} denied access to {c.what}{c.said}; grant this tenant's token "
        f"a policy with read on {c.api_path!r} (see vault.tenant_policy_hcl)"
    ),
    hvac.exceptions.InvalidPath: lambda c: CredentialNotFoundError(
        f"no credential stored for {c.what} in Vault at {c.address}; write one there "
        "(or, if its latest version was deleted, undelete it or write a new version)"
    ),
    hvac.exceptions.UnsupportedOperation: lambda c: VaultError(
        f"the Vault server at {c.address} does not support the operation on {c.what}{c.said}; "
        "check that the mount is a KV version 2 engine"
    ),
    hvac.exceptions.PreconditionFailed: lambda c: VaultUnavailableError(
        f"Vault at {c.address} could not yet serve {c.what} consistently{c.said}; "
        "retry shortly (a standby node may be catching up)"
    ),
    hvac.exceptions.RateLimitExceeded: lambda c: VaultUnavailableError(
        f"Vault at {c.address} is rate-limiting requests for {c.what}{c.said}; back off and retry, "
        "or raise the rate-limit quota for this client"
    ),
    hvac.exceptions.InternalServerError: lambda c: VaultUnavailableError(
        f"Vault at {c.address} failed with an internal error while serving {c.what}{c.said}; "
        "check the Vault server log and its storage backend"
    ),
    hvac.exceptions.VaultNotInitialized: lambda c: VaultSealedError(
        f"Vault at {c.address} is not initialised, so it cannot serve {c.what}; "
        "initialise and unseal it (bao operator init, bao operator unseal)"
    ),
    hvac.exceptions.BadGateway: lambda c: VaultUnavailableError(
        f"a proxy in front of Vault at {c.address} could not reach Vault for {c.what}; "
        "check that Vault is running behind it"
    ),
    hvac.exceptions.VaultDown: lambda c: VaultSealedError(
        f"Vault at {c.address} is sealed (or a standby without a leader) and cannot serve "
        f"{c.what}{c.said}; unseal it (bao operator unseal) or check the cluster's leader"
    ),
    hvac.exceptions.UnexpectedError: lambda c: VaultError(
        f"Vault at {c.address} answered the request for {c.what} with an unexpected status{c.said}; "
        "check the address points at Vault's API and not at something else"
    ),
    hvac.exceptions.ParamValidationError: lambda c: VaultError(
        f"the request for {c.what} was refused before it was sent (invalid parameters){c.said}; "
        "this is a bug in the caller, please report it"
    ),
    hvac.exceptions.VaultError: lambda c: VaultError(
        f"Vault at {c.address} did not serve {c.what}{c.said}; check the Vault server log"
    ),
}

# Order matters: ConnectTimeout is both a ConnectionError and a Timeout, and
# SSLError and ProxyError are ConnectionErrors with a more useful fix.
_REQUESTS_ERRORS: tuple[tuple[type[BaseException], _Factory], ...] = (
    (
        requests.exceptions.Timeout,
        lambda c: VaultTimeoutError(
            f"Vault at {c.address} did not answer within the timeout while serving {c.what}; "
            "check that it is healthy and reachable, or raise the tenant's Vault timeout"
        ),
    ),
    (
        requests.exceptions.SSLError,
        lambda c: VaultError(
            f"TLS with Vault at {c.address} failed for {c.what}; check that the tenant's 'ca_cert' "
            "(or 'verify') names the CA bundle that signed Vault's certificate, and, if Vault requires "
            "client certificates, that 'client_cert' and 'client_key' name one its CA accepts"
        ),
    ),
    (
        requests.exceptions.ProxyError,
        lambda c: VaultUnavailableError(
            f"the HTTP proxy in front of Vault at {c.address} failed for {c.what}; check the proxy"
        ),
    ),
    (
        requests.exceptions.ConnectionError,
        lambda c: VaultUnavailableError(
            f"could not connect to Vault at {c.address} for {c.what}; "
            f"check that Vault at {c.address} is running and reachable"
        ),
    ),
    (
        requests.exceptions.ChunkedEncodingError,
        lambda c: VaultUnavailableError(
            f"the connection to Vault at {c.address} broke while serving {c.what}; retry"
        ),
    ),
    (
        requests.exceptions.RequestException,
        lambda c: VaultError(
            f"the request to Vault at {c.address} for {c.what} could not be made; "
            "check the tenant's Vault address"
        ),
    ),
)


def _fallback(c: _Context) -> CredentialError:
    return VaultError(f"unrecognised error from the Vault client while serving {c.what}{c.said}")


def _detail(exc: BaseException) -> str:
    errors = getattr(exc, "errors", None)
    if isinstance(errors, str):
        errors = [errors]
    if not isinstance(errors, list):
        return ""
    text = " ".join(str(error) for error in errors)
    # Vault wraps messages as "1 error occurred:\n\t* permission denied\n\n".
    text = re.sub(r"\d+ errors? occurred:", " ", text).replace("*", " ")
    text = " ".join(text.split())
    return text if len(text) <= _MAX_DETAIL else text[: _MAX_DETAIL - 3] + "..."


# A KV v2 mount answers 400 with this while a node that just became active checks the mount's
# format: after a failover, and for a few seconds after the mount was enabled. Vault says it "will
# resume service", so it is an unavailable Vault (retried within failover_wait), not a bad request.
_KV_UPGRADING = "Waiting for the primary to upgrade from non-versioned to versioned data"


def _kv_upgrading(c: _Context) -> VaultError:
    return VaultUnavailableError(
        f"Vault at {c.address} is briefly unavailable for {c.what}: the KV mount is being checked by a "
        "node that just became active (after a failover, or just after the mount was enabled); retry shortly"
    )


def _factory_for(exc: BaseException) -> _Factory:
    if isinstance(exc, hvac.exceptions.InvalidRequest) and _KV_UPGRADING in _detail(exc):
        return _kv_upgrading
    if isinstance(exc, hvac.exceptions.VaultError):
        for cls in type(exc).__mro__:
            if cls in _HVAC_ERRORS:
                return _HVAC_ERRORS[cls]
    for cls, factory in _REQUESTS_ERRORS:
        if isinstance(exc, cls):
            return factory
    return _fallback


def translate_vault_error(
    exc: BaseException,
    *,
    path: str,
    tenant: str | None,
    integration: str | None,
    address: str | None = None,
    mount: str | None = None,
) -> VaultError | CredentialError:
    """Return the SDK error to raise in place of ``exc``, an hvac or requests exception.

    ``path`` is the secret path relative to ``mount``; ``address`` is the Vault
    address to name in the message. The result never holds ``exc`` itself.
    """
    context = _Context(
        path=path,
        tenant=tenant,
        integration=integration,
        address=address or "the configured address",
        mount=mount,
        detail=_detail(exc) if isinstance(exc, hvac.exceptions.VaultError) else "",
    )
    return _factory_for(exc)(context)
