"""Every foreign exception an hvac call can raise maps to a specific SDK error that leaks nothing."""

from __future__ import annotations

import inspect
from typing import Any

import hvac.exceptions
import pytest
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
from tests.vault.support import make_secret
from vault import translate_vault_error
from vault._errors import _HVAC_ERRORS

WHERE = {"path": "nexora/tenants/acme/integrations/crm", "tenant": "acme", "integration": "crm"}

HVAC_CLASSES: list[Any] = [
    cls
    for _, cls in inspect.getmembers(hvac.exceptions, inspect.isclass)
    if issubclass(cls, hvac.exceptions.VaultError)
]
REQUESTS_CLASSES = [
    cls
    for _, cls in inspect.getmembers(requests.exceptions, inspect.isclass)
    if issubclass(cls, requests.exceptions.RequestException)
]


def translate(exc: BaseException) -> VaultError | CredentialError:
    return translate_vault_error(exc, address="http://127.0.0.1:8200", mount="secret", **WHERE)


@pytest.mark.parametrize("cls", HVAC_CLASSES, ids=lambda cls: cls.__name__)
def test_every_hvac_exception_has_its_own_mapping(cls: Any) -> None:
    assert cls in _HVAC_ERRORS, f"hvac.exceptions.{cls.__name__} is not mapped in vault._errors"
    error = translate(cls("boom", errors=["something went wrong"]))
    assert isinstance(error, CredentialError)
    assert not str(error).startswith("unrecognised")


@pytest.mark.parametrize("cls", REQUESTS_CLASSES, ids=lambda cls: cls.__name__)
def test_every_requests_exception_is_understood(cls: type[Exception]) -> None:
    try:
        exc = cls("boom")
    except TypeError:  # JSONDecodeError wants (msg, doc, pos)
        exc = cls("boom", "", 0)
    error = translate(exc)
    assert isinstance(error, VaultError)
    assert not str(error).startswith("unrecognised")


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (hvac.exceptions.Forbidden(errors=["permission denied"]), VaultPermissionError),
        (hvac.exceptions.Unauthorized(), VaultAuthError),
        (hvac.exceptions.InvalidPath(), CredentialNotFoundError),
        (hvac.exceptions.VaultDown(errors=["Vault is sealed"]), VaultSealedError),
        (hvac.exceptions.VaultNotInitialized(), VaultSealedError),
        (hvac.exceptions.RateLimitExceeded(), VaultUnavailableError),
        (hvac.exceptions.InternalServerError(), VaultUnavailableError),
        (hvac.exceptions.BadGateway(), VaultUnavailableError),
        (hvac.exceptions.PreconditionFailed(), VaultUnavailableError),
        (hvac.exceptions.InvalidRequest(errors=["check-and-set parameter did not match"]), VaultError),
        (requests.exceptions.ConnectionError(), VaultUnavailableError),
        (requests.exceptions.ReadTimeout(), VaultTimeoutError),
        (requests.exceptions.ConnectTimeout(), VaultTimeoutError),
    ],
)
def test_most_specific_class(exc: Exception, expected: type[Exception]) -> None:
    error = translate(exc)
    assert type(error) is expected


def test_messages_say_what_to_fix() -> None:
    assert "check that Vault at http://127.0.0.1:8200 is running" in str(
        translate(requests.exceptions.ConnectionError())
    )
    assert "unseal it" in str(translate(hvac.exceptions.VaultDown()))
    denied = str(translate(hvac.exceptions.Forbidden(errors=["permission denied"])))
    assert "read on 'secret/data/nexora/tenants/acme/integrations/crm'" in denied
    assert "(Vault said: permission denied)" in denied
    missing = str(translate(hvac.exceptions.InvalidPath()))
    assert "tenant 'acme'" in missing
    assert "integration 'crm'" in missing
    assert "nexora/tenants/acme/integrations/crm" in missing


def test_response_bodies_and_urls_are_not_copied() -> None:
    canary = make_secret()
    exc = hvac.exceptions.InternalServerError(
        f"raw {canary}",
        method="get",
        url=f"http://x/v1/x?token={canary}",
        text=f"<html>{canary}</html>",
        json=None,
    )
    error = translate(exc)
    assert canary not in str(error)
    assert error.__cause__ is None
    assert error.__context__ is None


def test_unknown_exception_falls_back_to_vault_error() -> None:
    error = translate(ValueError("weird"))
    assert type(error) is VaultError
    assert "weird" not in str(error)


def test_vault_messages_are_condensed_and_bounded() -> None:
    error = translate(
        hvac.exceptions.InvalidRequest(errors=["1 error occurred:\n\t* " + "x" * 1000 + "\n\n"])
    )
    assert "error occurred" not in str(error)
    assert len(str(error)) < 600
