"""Building the credential to store from what an operator gives: one secret and options, or JSON.

There is one credential parser, :func:`vault.parse_credential`, the one every
Vault read goes through; a credential typed in here is validated by exactly
the rules that will later read it back. Its errors name the fields and what
each needs, never their values; here they are reported as the operator's
mistake (:class:`~sdk.InvalidArgumentsError`), not as a malformed secret in
Vault.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Mapping

from pydantic import SecretStr

from sdk._errors import InvalidArgumentsError, MalformedCredentialError
from vault._credentials import Credential, parse_credential

__all__ = ["build_credential", "credential_from_json"]

_SECRET_FIELDS = {"api_key": "api_key", "basic": "password", "oauth2_client": "client_secret"}

# parse_credential names where the secret was read; here it is the operator's input. Its message
# reads "...at Vault path 'the input': PROBLEMS; fix the secret in Vault (...)": only the
# problems concern the operator (see _problems).
_SOURCE = "the input"
_VAULT_ADVICE = "; fix the secret in Vault"


def build_credential(kind: str, secret: SecretStr, **fields: str) -> Credential:
    """Return a credential of type ``kind`` whose one secret field holds ``secret``.

    The other, non-secret fields (``username``, ``client_id``, ``token_url``,
    ``scopes``) come from ``fields``, i.e. from command-line options. Types with
    more than one secret (``oauth2_refresh``) are read whole with
    :func:`credential_from_json`.
    """
    field = _SECRET_FIELDS.get(kind)
    if field is None:
        kinds = ", ".join(sorted(_SECRET_FIELDS))
        raise InvalidArgumentsError(
            f"credential type {kind!r} cannot be built from one secret (types with one secret: {kinds}); "
            "pipe the whole credential as a JSON object instead"
        )
    if field in fields or "type" in fields:
        raise InvalidArgumentsError(
            f"{field} is the secret of a {kind} credential and is read from the input"
        )
    return _parsed({**fields, "type": kind, field: secret.get_secret_value()})


def credential_from_json(secret: SecretStr) -> Credential:
    """Return the credential in ``secret``, a JSON object with a ``type`` field and the type's fields."""
    data: object = None
    # A decoding error is reported below without the decoder's message, which can quote the input.
    with contextlib.suppress(json.JSONDecodeError):
        data = json.loads(secret.get_secret_value())
    if not isinstance(data, dict):
        raise InvalidArgumentsError("the input is not a JSON object of credential fields")
    return _parsed(data)


def _parsed(data: Mapping[str, object]) -> Credential:
    problems: str | None = None
    try:
        return parse_credential(data, tenant="-", integration="-", path=_SOURCE)
    except MalformedCredentialError as exc:
        problems = _problems(str(exc))
    raise InvalidArgumentsError("invalid credential: " + problems)


def _problems(message: str) -> str:
    """The field problems in vault's message, without its Vault context (the whole message otherwise).

    Either way the text is vault's, which never holds a value.
    """
    _, found, problems = message.partition(f"{_SOURCE!r}: ")
    if not found:
        return message
    return problems.split(_VAULT_ADVICE, 1)[0]
