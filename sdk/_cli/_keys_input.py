"""What ``keys put`` and ``keys rotate`` store: the integration's connector, then the credential.

Everything that can be checked without the secret (the tenant, the
integration, its connector as the runtime binds it, the credential type and
its non-secret fields) is checked before the prompt. The secret is read from
standard input when it is piped, or at a hidden prompt on a terminal
(:func:`sdk._keys.read_secret_from`); there is no option that takes a secret,
because command lines are visible to every user of the machine (``ps``) and
kept in shell history.
"""

from __future__ import annotations

import argparse
import sys

from pydantic import SecretStr

from sdk._cli._base import EXIT_USAGE, CliError
from sdk._connector import Connector
from sdk._ids import validate_id
from sdk._keys import build_credential, credential_from_json, read_secret_from
from sdk._keys._steps import integration_binding
from sdk._runtime import NexoraConnect
from vault._credentials import Credential

__all__ = ["integration_connector", "read_credential"]

_SECRET_FIELD = {"api_key": "API key", "basic": "password", "oauth2_client": "client secret"}


def integration_connector(runtime: NexoraConnect, tenant: str, integration: str) -> type[Connector]:
    """The integration's connector as the runtime binds it, or the error that says which name is wrong."""
    validate_id(tenant, kind="tenant id")
    validate_id(integration, kind="integration id")
    return type(integration_binding(runtime, tenant, integration).connector)


def _type_name(model: type[Credential]) -> str:
    return str(model.model_fields["type"].default)


def read_credential(args: argparse.Namespace, connector: type[Connector]) -> Credential:
    accepted = [_type_name(model) for model in connector.credential_types]
    kind: str = args.type or accepted[0]
    if kind not in accepted:
        raise CliError(
            f"connector {connector.name!r} accepts credentials of type {', '.join(accepted)}, not {kind!r}",
            EXIT_USAGE,
        )
    fields = {
        name: value
        for name, value in (
            ("username", args.username),
            ("client_id", args.client_id),
            ("token_url", args.token_url),
            ("scopes", args.scopes),
        )
        if value is not None
    }
    whole = args.credential_json or kind not in _SECRET_FIELD
    if whole:
        if fields:
            options = ", ".join("--" + name.replace("_", "-") for name in fields)
            raise CliError(f"{options}: give every field inside the JSON credential instead", EXIT_USAGE)
        secret = _read_secret(f"the {kind} credential as one JSON object", multiline=True)
        credential = credential_from_json(secret)
        if credential.type != kind:
            raise CliError(f"the JSON credential is of type {credential.type!r}, not {kind!r}", EXIT_USAGE)
        return credential
    required = {"basic": ("username", "--username"), "oauth2_client": ("client_id", "--client-id")}.get(kind)
    if required is not None and required[0] not in fields:
        raise CliError(f"a {kind} credential needs {required[1]}", EXIT_USAGE)
    secret = _read_secret(f"{_SECRET_FIELD[kind]} for {args.tenant}/{args.integration}", multiline=False)
    return build_credential(kind, secret, **fields)


def _read_secret(what: str, *, multiline: bool) -> SecretStr:
    end = " (input hidden; end with Ctrl-D)" if multiline else " (input hidden)"
    return read_secret_from(sys.stdin, prompt=f"{what}{end}: ", prompt_to=sys.stderr, multiline=multiline)
