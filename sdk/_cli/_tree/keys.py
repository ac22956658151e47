"""``nexora-connect keys``: the options of each command; the commands are :mod:`sdk._cli._keys`.

Their help texts are in :mod:`sdk._cli._keys_docs`.
"""

from __future__ import annotations

import argparse
from typing import Any

from sdk._cli._base import add_command, lazy, non_negative_int, positive_float, positive_int
from sdk._cli._keys_docs import KEYS, PUT, ROLLBACK, ROTATE, VERIFY, VERSIONS

__all__ = ["TYPES", "register"]

TYPES = ("api_key", "basic", "oauth2_client", "oauth2_refresh")
"""The credential types ``keys put`` and ``keys rotate`` can read (``--type``)."""

_KEYS = "sdk._cli._keys"


def register(commands: Any) -> None:
    group = add_command(commands, KEYS)
    sub = group.add_subparsers(dest="keys_command", metavar="COMMAND", required=True)
    for doc, handler in ((PUT, "put"), (ROTATE, "rotate")):
        parser = add_command(sub, doc, lazy(_KEYS, handler))
        _target_options(parser)
        parser.add_argument(
            "--type",
            choices=TYPES,
            help="the credential type (default: the first type the integration's connector accepts)",
        )
        parser.add_argument(
            "--username", metavar="NAME", help="basic: the user name (the password is the secret)"
        )
        parser.add_argument(
            "--client-id", metavar="ID", help="oauth2_client: the client id (the client secret is the secret)"
        )
        parser.add_argument(
            "--token-url", metavar="URL", help="oauth2_client: the token endpoint, if not the connector's"
        )
        parser.add_argument(
            "--scopes", metavar="'A B'", help="oauth2_client: space-separated OAuth scopes to ask for"
        )
        parser.add_argument(
            "--credential-json",
            action="store_true",
            help="read the whole credential as one JSON object (with its 'type') instead of one secret",
        )
        parser.add_argument(
            "--expect-version",
            type=non_negative_int,
            metavar="N",
            help="write only if version N is current (0: only if none exists); default: the current one",
        )
        if doc is ROTATE:
            _timeout_option(parser)
        parser.add_argument("--json", action="store_true", help="print the report as JSON")
    versions = add_command(sub, VERSIONS, lazy(_KEYS, "versions"))
    _target_options(versions)
    versions.add_argument("--json", action="store_true", help="print JSON instead of a table")
    rollback = add_command(sub, ROLLBACK, lazy(_KEYS, "rollback"))
    _target_options(rollback)
    rollback.add_argument(
        "--to", required=True, type=positive_int, metavar="N", help="the version to make current"
    )
    rollback.add_argument(
        "--expect-version", type=positive_int, metavar="N", help="write only if version N is current"
    )
    _timeout_option(rollback)
    rollback.add_argument("--json", action="store_true", help="print the report as JSON")
    verify = add_command(sub, VERIFY, lazy(_KEYS, "verify"))
    _target_options(verify)
    _timeout_option(verify)
    verify.add_argument("--json", action="store_true", help="print the report as JSON")


def _target_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config", required=True, metavar="FILE", help="the Nexora Connect configuration (TOML)"
    )
    parser.add_argument("--tenant", required=True, metavar="TENANT", help="the tenant whose key it is")
    parser.add_argument(
        "--integration", required=True, metavar="INTEGRATION", help="the tenant's integration id"
    )


def _timeout_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--timeout",
        type=positive_float,
        default=10.0,
        metavar="SECONDS",
        help="how long verification at the vendor may take (default: 10)",
    )
