"""What a Vault client's failures say: hvac's and requests' exceptions, and odd answers, as SDK errors.

One place for the errors :class:`~vault.VaultClient` raises, so that its read
paths (on the event loop and through hvac) and its writes word one failure the
same way. None of them chains the foreign exception, which may quote a URL, a
path or a body: each SDK error is raised after the ``except`` block that caught
the foreign one (see :mod:`vault._errors`).

:mod:`vault._errors` imports hvac and requests (~70 ms), so it is imported
here only when a failure is translated: an ``except`` clause's expression is
evaluated only when something was raised, so ``except foreign_errors():``
costs a call that succeeded nothing.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from typing import TypeVar

from sdk._errors import (
    CredentialError,
    VaultConflictError,
    VaultError,
    VaultPermissionError,
    VaultUnavailableError,
)
from vault._answers import is_redirect, redirect_error, vault_name
from vault._settings import VaultSettings

__all__ = [
    "ClientErrors",
    "Where",
    "cas_lost",
    "foreign_errors",
    "is_cas_loss",
    "not_renewable_errors",
    "token_errors",
    "translate_foreign",
    "upkeep_retryable",
]


def foreign_errors() -> tuple[type[BaseException], ...]:
    """hvac's and requests' exception types (:data:`vault._errors.FOREIGN_ERRORS`), loaded on first use."""
    from vault._errors import FOREIGN_ERRORS

    return FOREIGN_ERRORS


@functools.cache
def token_errors() -> tuple[type[BaseException], ...]:
    """What hvac raises for a 401 or a 403: a bad token, or (OpenBao's 403) a policy denial."""
    import hvac.exceptions

    return (hvac.exceptions.Forbidden, hvac.exceptions.Unauthorized)


@functools.cache
def not_renewable_errors() -> tuple[type[BaseException], ...]:
    """What renew-self answers for a token that is revoked, expired or not renewable."""
    import hvac.exceptions

    return (*token_errors(), hvac.exceptions.InvalidRequest)


@functools.cache
def upkeep_retryable() -> tuple[type[BaseException], ...]:
    """What makes token upkeep try again shortly: Vault down, sealed, slow, or failing."""
    return (VaultUnavailableError, *foreign_errors())


def translate_foreign(
    exc: BaseException,
    *,
    path: str,
    tenant: str | None,
    integration: str | None,
    address: str | None = None,
    mount: str | None = None,
) -> VaultError | CredentialError:
    """:func:`vault._errors.translate_vault_error`, loaded when there is something to translate."""
    from vault._errors import translate_vault_error

    return translate_vault_error(
        exc, path=path, tenant=tenant, integration=integration, address=address, mount=mount
    )


_T = TypeVar("_T")


@dataclasses.dataclass(frozen=True, slots=True)
class Where:
    """Names for error messages: which secret a Vault call was about."""

    path: str
    tenant: str | None = None
    integration: str | None = None

    @property
    def what(self) -> str:
        names = [f"tenant {self.tenant!r}"] if self.tenant else []
        names += [f"integration {self.integration!r}"] if self.integration else []
        return ", ".join(names) if names else f"path {self.path!r}"


class ClientErrors:
    """The SDK errors of one client's Vault: its address (and namespace) and mount name them."""

    def __init__(self, settings: VaultSettings) -> None:
        self._settings = settings
        self.vault_name = vault_name(settings)
        """The Vault as messages name it (:func:`vault._answers.vault_name`)."""

    def translated(self, where: Where, call: Callable[[], _T]) -> _T:
        """Run ``call`` (on a worker thread) and translate the hvac and requests errors it raises.

        The SDK error is raised after the ``except`` block on purpose, so it
        carries neither ``__cause__`` nor ``__context__``: see vault._errors.
        """
        try:
            result = call()
        except foreign_errors() as exc:
            error = self.translate(where, exc)
        except OSError:
            # requests raises a bare OSError, naming the path, for a CA bundle or client
            # certificate file that does not exist: a TLS setting to fix, reported as such.
            import requests.exceptions

            error = self.translate(
                where, requests.exceptions.SSLError("a TLS file named by the settings could not be loaded")
            )
        else:
            if not is_redirect(result):
                return result
            import requests  # loaded already: only an hvac call hands back a response

            assert isinstance(result, requests.Response)
            error = redirect_error(self.vault_name, where.what, result.status_code)
        raise error

    def translate(self, where: Where, exc: BaseException) -> VaultError | CredentialError:
        """The SDK error for what an hvac call (or the on-loop read, as hvac would have) raised."""
        error = translate_foreign(
            exc,
            path=where.path,
            tenant=where.tenant,
            integration=where.integration,
            address=self.vault_name,
            mount=self._settings.mount,
        )
        if self._settings.namespace and type(error) is VaultPermissionError:
            error = VaultPermissionError(
                f"{error}; a token works only in the namespace it was issued in and those below it, "
                "so a token of another namespace (another tenant's) is refused here"
            )
        return error

    def shape_error(self, where: Where) -> VaultError:
        """An answer without the fields a KV v2 answer has: most likely not a KV v2 mount."""
        return VaultError(
            f"Vault at {self.vault_name} answered for path {where.path!r} with an unexpected shape; "
            f"check that {self._settings.mount!r} is a KV version 2 mount"
        )

    def write_denied(self, where: Where) -> VaultPermissionError:
        """A refused write: the generic denial names the read capability, and a write needs more."""
        return VaultPermissionError(
            f"Vault at {self.vault_name} denied writing the credential of {where.what} "
            f"({self._settings.mount}/data/{where.path}): the token may not create or update it. Writing "
            "keys needs the tenant's admin token, with the policy vault.tenant_policy_hcl(tenant, "
            "settings, write=True); the voice agent's read-only token cannot write"
        )

    def versions_denied(self, where: Where) -> VaultPermissionError:
        """A refused metadata read: listing versions needs read on the metadata path."""
        return VaultPermissionError(
            f"Vault at {self.vault_name} denied listing the versions of the credential of "
            f"{where.what}: the token needs read on {self._settings.mount}/metadata/{where.path} "
            "(vault.tenant_policy_hcl grants it)"
        )


def is_cas_loss(exc: VaultError) -> bool:
    """Whether ``exc`` is Vault's answer to a lost check-and-set: a 400 saying the versions differ."""
    return type(exc) is VaultError and "did not match the current version" in str(exc)


def cas_lost(path: str, cas: int) -> VaultConflictError:
    """The error for a check-and-set write that another writer beat."""
    return VaultConflictError(
        f"check-and-set write to {path!r} lost: the current version is no longer {cas}; "
        "another writer got there first, re-read and retry"
    )
