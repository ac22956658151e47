"""``nexora-connect keys``: store, rotate, list, roll back and verify a tenant's integration keys.

The work is done by :class:`sdk._keys.TenantKeys`; this module parses
arguments, reads the secret, and prints the report of what was done.

The secret is read from standard input when it is piped, or at a hidden
prompt when it is a terminal (:func:`sdk._keys.read_secret_from`); there is
no option that takes a secret, because command lines are visible to every
user of the machine (``ps``) and kept in shell history. Everything that can
be checked without the secret (the tenant, the integration, the connector,
the credential type and its non-secret fields) is checked before the prompt.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from pydantic import SecretStr

from sdk._cli import _run
from sdk._cli._base import (
    EXIT_CHECK_FAILED,
    EXIT_FAILURE,
    EXIT_OK,
    EXIT_USAGE,
    CliError,
    CommandDoc,
    add_command,
    error_name,
    non_negative_int,
    positive_float,
    positive_int,
    print_error,
)
from sdk._cli._output import Cell, Output
from sdk._cli._run import Interrupts, open_runtime, run_async
from sdk._config import NexoraConfig, load_config
from sdk._connector import Connector
from sdk._errors import UnknownIntegrationError, UnknownTenantError
from sdk._ids import validate_id
from sdk._keys import (
    KeyOutcome,
    KeyReport,
    KeyVersions,
    TenantKeys,
    build_credential,
    credential_from_json,
    read_secret_from,
)
from sdk._registry import ConnectorRegistry, default_registry
from sdk._runtime import NexoraConnect
from vault._credentials import Credential

__all__ = ["register"]

TYPES = ("api_key", "basic", "oauth2_client", "oauth2_refresh")
_SECRET_FIELD = {"api_key": "API key", "basic": "password", "oauth2_client": "client secret"}
_OUTCOME_CODES = {
    KeyOutcome.OK: EXIT_OK,
    KeyOutcome.ROLLED_BACK: EXIT_CHECK_FAILED,
    KeyOutcome.VERIFY_FAILED: EXIT_CHECK_FAILED,
    KeyOutcome.CONFLICT: EXIT_FAILURE,
    KeyOutcome.ROLLBACK_FAILED: EXIT_FAILURE,
}

_VAULT_NOTE = (
    "Works against the tenant's own Vault as the configuration names it; the Vault token needs the "
    "tenant's write policy (vault.tenant_policy_hcl(tenant, settings, write=True)) for put, rotate and "
    "rollback. When Vault denies, is sealed or is down, the one-line error says which, and nothing is "
    "written."
)
_INPUT_NOTE = (
    "The secret is read from standard input when it is piped in (all of it, less one trailing line "
    "break), or typed at a hidden prompt on a terminal. It is never taken from an argument: there is "
    "no such option. --type oauth2_refresh (two secrets) and --credential-json read the whole credential "
    'as a JSON object instead, e.g. {"type": "oauth2_refresh", "client_id": ..., '
    '"client_secret": ..., "refresh_token": ...}.'
)
_VAULT_FAILED = "Vault failed, denied, was sealed or down (nothing was written)"
_INTERRUPTED_WRITING = (
    "interrupted by a second Ctrl-C or SIGTERM during the Vault writes (check 'keys versions'), or by one "
    "before they started"
)
_KEYS_EXIT: dict[int, str | None] = {
    0: None,
    1: _VAULT_FAILED + ", or another writer won",
    2: "usage error, or a secret that is empty, has surrounding whitespace or control characters",
    3: "the key failed verification at the vendor",
    4: None,
    130: None,
}
_READ_EXIT: dict[int, str | None] = {0: None, 1: _VAULT_FAILED, 2: None, 4: None, 130: None}

KEYS = CommandDoc(
    path=("keys",),
    summary="store, rotate, list, roll back and verify a tenant's integration keys",
    description=(
        "Manage the credentials of a tenant's integrations in the tenant's Vault (KV version 2). Each "
        "write is a new version, made with check-and-set so that two writers can never both win. "
        "Secrets are read from stdin or a hidden prompt, never from the command line.\n\n" + _VAULT_NOTE
    ),
    exit_codes=_KEYS_EXIT,
)

PUT = CommandDoc(
    path=("keys", "put"),
    summary="store a key as the new current version (no verification)",
    description=(
        "Store a credential for TENANT's INTEGRATION as the new current version, without verifying it "
        "(the first key of a new integration, or a vendor that cannot verify). The write is conditional "
        "on the version current when it starts (or on --expect-version; 0: only if none exists), so a "
        "concurrent writer makes it fail instead of being overwritten. Prefer 'keys rotate' to replace "
        "a key in use.\n\n" + _INPUT_NOTE + "\n\n" + _VAULT_NOTE
    ),
    examples=(
        (
            "nexora-connect keys put --config nexora.toml --tenant acme --integration crm",
            "type the API key at a hidden prompt",
        ),
        (
            "vendor-cli print-token | "
            "nexora-connect keys put --config nexora.toml --tenant acme --integration crm",
            "pipe it in",
        ),
        (
            "nexora-connect keys put --config nexora.toml --tenant acme --integration desk --type basic "
            "--username agent@acme.example < password.txt",
            "a user name and password",
        ),
    ),
    exit_codes={**{c: t for c, t in _KEYS_EXIT.items() if c != EXIT_CHECK_FAILED}, 130: _INTERRUPTED_WRITING},
)

ROTATE = CommandDoc(
    path=("keys", "rotate"),
    summary="write a new key, verify it at the vendor, roll back automatically if it fails",
    description=(
        "Replace the current key without a failed call: write the new key as version N+1 with "
        "check-and-set on N, verify it with the connector's verify() (one cheap read at the vendor), "
        "and if that fails, make the previous key current again as version N+2. Each step is "
        "reported as it was done: written vN, verified or failed, rolled back to vM. Calls in flight "
        "meanwhile re-read Vault on a 401 and succeed.\n\n"
        "Ctrl-C and SIGTERM wait until the Vault writes are done, so that the key is never left "
        "unverified; a second one aborts at once.\n\n" + _INPUT_NOTE + "\n\n" + _VAULT_NOTE
    ),
    examples=(
        (
            "nexora-connect keys rotate --config nexora.toml --tenant acme --integration crm < new-key.txt",
            "rotate to the key in new-key.txt",
        ),
        (
            "nexora-connect keys rotate --config nexora.toml --tenant acme --integration crm --json",
            "type it at the prompt; print the report as JSON",
        ),
    ),
    exit_codes={
        **_KEYS_EXIT,
        3: "the new key failed verification; the previous key is current again (or, if it could not be "
        "restored, the report says so)",
        1: "Vault failed, denied, was sealed or down, another writer won, or the rollback failed (the "
        "report says what is current)",
        130: _INTERRUPTED_WRITING,
    },
)

VERSIONS = CommandDoc(
    path=("keys", "versions"),
    summary="list the versions Vault keeps of a key (metadata only, never values)",
    description=(
        "List every version Vault keeps of TENANT's INTEGRATION credential: number, creation time, state "
        "(readable, deleted, destroyed) and which one is current. Values are never read.\n\n" + _VAULT_NOTE
    ),
    examples=(
        ("nexora-connect keys versions --config nexora.toml --tenant acme --integration crm", "a table"),
    ),
    exit_codes=_READ_EXIT,
)

ROLLBACK = CommandDoc(
    path=("keys", "rollback"),
    summary="make an earlier version current again, then verify it",
    description=(
        "Make the value of version N current again, by writing it as a new version with check-and-set "
        "on the current one, then verify it at the vendor. Rolling back to the version that is already "
        "current writes nothing and only verifies it. See 'keys versions' for the numbers.\n\n"
        "Ctrl-C and SIGTERM wait until the Vault write is done; a second one aborts at once.\n\n"
        + _VAULT_NOTE
    ),
    examples=(
        (
            "nexora-connect keys rollback --config nexora.toml --tenant acme --integration crm --to 3",
            "version 3's key becomes current again",
        ),
    ),
    exit_codes={
        **_KEYS_EXIT,
        2: None,
        3: "the restored key failed verification at the vendor (it stays current)",
        130: _INTERRUPTED_WRITING,
    },
)

VERIFY = CommandDoc(
    path=("keys", "verify"),
    summary="check the current key at the vendor",
    description=(
        "Check TENANT's INTEGRATION's current key against the vendor with the connector's verify(): one "
        "cheap, read-only, audited request.\n\n" + _VAULT_NOTE
    ),
    examples=(
        ("nexora-connect keys verify --config nexora.toml --tenant acme --integration crm", "ok, or why not"),
    ),
    exit_codes={**_READ_EXIT, 3: "the vendor rejected the key, or could not be asked"},
)


def register(commands: Any) -> None:
    group = add_command(commands, KEYS)
    sub = group.add_subparsers(dest="keys_command", metavar="COMMAND", required=True)
    for doc, handler in ((PUT, _put), (ROTATE, _rotate)):
        parser = add_command(sub, doc, handler)
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
    versions = add_command(sub, VERSIONS, _versions)
    _target_options(versions)
    versions.add_argument("--json", action="store_true", help="print JSON instead of a table")
    rollback = add_command(sub, ROLLBACK, _rollback)
    _target_options(rollback)
    rollback.add_argument(
        "--to", required=True, type=positive_int, metavar="N", help="the version to make current"
    )
    rollback.add_argument(
        "--expect-version", type=positive_int, metavar="N", help="write only if version N is current"
    )
    _timeout_option(rollback)
    rollback.add_argument("--json", action="store_true", help="print the report as JSON")
    verify = add_command(sub, VERIFY, _verify)
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


# --- commands ------------------------------------------------------------------------------------


def _put(args: argparse.Namespace) -> int:
    return _write(args, rotate=False)


def _rotate(args: argparse.Namespace) -> int:
    return _write(args, rotate=True)


def _write(args: argparse.Namespace, *, rotate: bool) -> int:
    output = Output(json_mode=args.json)
    # Everything that can fail without the secret fails before the prompt; and the secret is read
    # before the event loop starts, so that Ctrl-C at the prompt interrupts at once.
    config = load_config(args.config)
    options = _run.runtime_options()  # looked up at call time: tests replace it
    registry = options.get("registry") or default_registry()
    connector = _connector_for(config, registry, args.tenant, args.integration)
    credential = _read_credential(args, connector)

    async def body(interrupts: Interrupts) -> int:
        async with NexoraConnect(config, **options) as runtime:
            interrupts.watch(runtime)
            keys = TenantKeys(runtime, verify_budget=getattr(args, "timeout", 10.0))
            verb = "rotating" if rotate else "storing"
            with output.progress(f"{verb} the key of {args.tenant}/{args.integration}"):
                write = keys.rotate if rotate else keys.put
                report = await write(
                    args.tenant, args.integration, credential, expect_version=args.expect_version
                )
        return _print_report(output, report)

    return run_async(body, defer=True)


def _versions(args: argparse.Namespace) -> int:
    output = Output(json_mode=args.json)

    async def body(interrupts: Interrupts) -> int:
        async with open_runtime(args.config, interrupts) as runtime:
            with output.progress(f"reading the versions of {args.tenant}/{args.integration}"):
                found = await TenantKeys(runtime).versions(args.tenant, args.integration)
        _print_versions(output, found)
        return EXIT_OK

    return run_async(body)


def _rollback(args: argparse.Namespace) -> int:
    output = Output(json_mode=args.json)

    async def body(interrupts: Interrupts) -> int:
        async with open_runtime(args.config, interrupts) as runtime:
            keys = TenantKeys(runtime, verify_budget=args.timeout)
            with output.progress(f"rolling {args.tenant}/{args.integration} back to v{args.to}"):
                report = await keys.rollback(
                    args.tenant, args.integration, to=args.to, expect_version=args.expect_version
                )
        return _print_report(output, report)

    return run_async(body, defer=True)


def _verify(args: argparse.Namespace) -> int:
    output = Output(json_mode=args.json)

    async def body(interrupts: Interrupts) -> int:
        async with open_runtime(args.config, interrupts) as runtime:
            keys = TenantKeys(runtime, verify_budget=args.timeout)
            with output.progress(f"verifying the key of {args.tenant}/{args.integration} at the vendor"):
                report = await keys.verify(args.tenant, args.integration)
        return _print_report(output, report)

    return run_async(body)


# --- the credential ------------------------------------------------------------------------------


def _connector_for(
    config: NexoraConfig, registry: ConnectorRegistry, tenant: str, integration: str
) -> type[Connector]:
    """The integration's connector, or the error that says which name is wrong (before any prompt)."""
    validate_id(tenant, kind="tenant id")
    validate_id(integration, kind="integration id")
    tenant_config = config.tenants.get(tenant)
    if tenant_config is None:
        raise UnknownTenantError(f"tenant {tenant!r} is not in the configuration")
    found = tenant_config.integrations.get(integration)
    if found is None:
        known = ", ".join(sorted(tenant_config.integrations)) or "none"
        raise UnknownIntegrationError(
            f"tenant {tenant!r} has no integration {integration!r} (configured: {known})"
        )
    return registry.load(found.connector)


def _type_name(model: type[Credential]) -> str:
    return str(model.model_fields["type"].default)


def _read_credential(args: argparse.Namespace, connector: type[Connector]) -> Credential:
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


# --- printing ------------------------------------------------------------------------------------


def _print_report(output: Output, report: KeyReport) -> int:
    code = _OUTCOME_CODES.get(report.outcome, EXIT_FAILURE)
    if output.json_mode:
        output.json(report.to_dict())
    elif output.rich:
        output.line(f"{report.operation} {report.tenant}/{report.integration}", style="bold")
        for step in report.steps:
            mark, style = ("✓", "green") if step.ok else ("✗", "red")
            output.line(f"  {mark} {step.describe()}", style=style)
        output.line(f"result: {report.summary}", style="bold green" if report.ok else "bold red")
    else:
        for line in report.lines():
            output.line(line)
    if not report.ok:
        failure = report.failure
        print_error(f"{error_name(failure)}: {failure}" if failure is not None else report.summary)
    return code


def _print_versions(output: Output, found: KeyVersions) -> None:
    if output.json_mode:
        output.json(found.to_dict())
        return
    rows: list[list[Cell]] = []
    for version in found.versions:
        state = version.state
        if version.deletion_time is not None and not version.destroyed:
            state = f"deleted {version.deletion_time.isoformat(timespec='seconds')}"
        rows.append(
            [
                f"v{version.version}",
                version.created_time.isoformat(timespec="seconds"),
                (state, "green" if version.state == "readable" else "yellow"),
                ("current", "bold") if version.current else "",
            ]
        )
    output.table(
        ["VERSION", "CREATED", "STATE", "CURRENT"], rows, title=f"{found.tenant}/{found.integration}"
    )
