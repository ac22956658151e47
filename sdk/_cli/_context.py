"""``nexora-connect context``: fetch a caller's context as the voice agent would, and show it redacted.

It opens a real conversation, runs ``customer_context`` across the tenant's
integrations within the budget, prints what a language model would be handed
(``for_llm``, redacted with the tenant's policy) and each source's status, and
hangs up. Raw records are never printed: the operator sees exactly what the
model would see, and nothing more.
"""

from __future__ import annotations

import argparse
import secrets
from typing import Any

from sdk._cli._base import (
    EXIT_FAILURE,
    EXIT_OK,
    EXIT_USAGE,
    CliError,
    CommandDoc,
    add_command,
    positive_float,
)
from sdk._cli._output import Cell, Output
from sdk._cli._run import Interrupts, open_runtime, run_async
from sdk._customer_context import CustomerContext, SourceStatus

__all__ = ["register"]

_INCOMPLETE = frozenset({SourceStatus.TIMED_OUT, SourceStatus.DENIED, SourceStatus.FAILED})

CONTEXT = CommandDoc(
    path=("context",),
    summary="fetch a caller's context and print it redacted, as a language model would see it",
    description=(
        "Open a conversation for TENANT, fetch the caller's context from all of the tenant's "
        "integrations at once within --budget seconds, print the redacted rendering a language model "
        "would be handed, and each source's status (ok, not_found, ambiguous, timed_out, denied, "
        "failed, unsupported) with its latency. Then hang up: everything fetched is wiped.\n\n"
        "Raw records are never printed, only the tenant's redacted view. The lookup is a real one: "
        "it reads the tenant's keys from Vault, calls the vendors, and leaves audit records.\n\n"
        "Note that command-line arguments are visible to other users of this machine (ps); the caller's "
        "phone number or email is customer data, so run this where that is acceptable."
    ),
    examples=(
        (
            "nexora-connect context --config nexora.toml --tenant acme --phone '+64 21 555 0100'",
            "the redacted context and a table of sources",
        ),
        (
            "nexora-connect context --config nexora.toml --tenant acme --email a@example.com --json",
            "the same as JSON: {complete, sources, context}",
        ),
    ),
    exit_codes={
        0: "every source answered (found the caller, found nothing, or found several candidates)",
        1: "a source timed out, was denied or failed (the partial context is still printed), or Vault failed",
        2: "usage error, or a phone number or email that is not one",
        4: None,
        130: "interrupted by Ctrl-C or SIGTERM; the conversation was wiped first",
    },
)


def register(commands: Any) -> None:
    parser = add_command(commands, CONTEXT, run)
    parser.add_argument(
        "--config", required=True, metavar="FILE", help="the Nexora Connect configuration (TOML)"
    )
    parser.add_argument("--tenant", required=True, metavar="TENANT", help="the tenant whose systems to ask")
    parser.add_argument(
        "--phone", metavar="NUMBER", help="the caller's phone number (national or international form)"
    )
    parser.add_argument("--email", metavar="ADDRESS", help="the caller's email address")
    parser.add_argument(
        "--budget",
        type=positive_float,
        default=0.4,
        metavar="SECONDS",
        help="the latency budget for the whole fetch (default: 0.4, what a caller tolerates)",
    )
    parser.add_argument(
        "--conversation-id",
        metavar="ID",
        help="the conversation id to use in audit records (default: cli-<random>)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON document instead")


def run(args: argparse.Namespace) -> int:
    if args.phone is None and args.email is None:
        raise CliError("give the caller's --phone or --email (or both)", EXIT_USAGE)
    output = Output(json_mode=args.json)
    conversation_id = args.conversation_id or f"cli-{secrets.token_hex(6)}"

    async def body(interrupts: Interrupts) -> int:
        async with (
            open_runtime(args.config, interrupts) as runtime,
            runtime.conversation(tenant=args.tenant, conversation_id=conversation_id) as conv,
        ):
            with output.progress(f"fetching the context of a caller of {args.tenant}"):
                context = await conv.customer_context(phone=args.phone, email=args.email, budget=args.budget)
            # Printed before hangup: the records are sealed in the conversation and gone after it.
            _print(output, args.tenant, conversation_id, context)
            incomplete = any(source.status in _INCOMPLETE for source in context.sources.values())
        output.flush()
        return EXIT_FAILURE if incomplete else EXIT_OK

    return run_async(body)


def _print(output: Output, tenant: str, conversation_id: str, context: CustomerContext) -> None:
    if output.json_mode:
        output.json(
            {
                "tenant": tenant,
                "conversation_id": conversation_id,
                "complete": context.complete,
                "budget_ms": context.budget_ms,
                "elapsed_ms": context.elapsed_ms,
                "sources": {
                    integration: source.model_dump(mode="json")
                    for integration, source in context.sources.items()
                },
                "context": context.for_llm("json"),
            }
        )
        return
    output.line(f"Context for the language model (redacted), tenant {tenant}:", style="bold")
    output.line(context.for_llm("text"))
    output.line("")
    rows: list[list[Cell]] = []
    for integration, source in context.sources.items():
        style = "green" if source.status in (SourceStatus.OK, SourceStatus.NOT_FOUND) else "red"
        if source.status is SourceStatus.AMBIGUOUS:
            style = "yellow"
        steps = ", ".join(
            f"{step.operation} {step.status}" + (f" ({step.error})" if step.error else "")
            for step in source.steps
        )
        status = str(source.status) + (f" ({source.candidates})" if source.candidates else "")
        rows.append(
            [
                integration,
                source.connector,
                (status, style),
                source.error or "",
                f"{source.latency_ms:.0f}",
                steps,
            ]
        )
    output.table(["SOURCE", "CONNECTOR", "STATUS", "ERROR", "MS", "STEPS"], rows)
    output.line(
        f"{'complete' if context.complete else 'incomplete'}: {context.elapsed_ms:.0f} ms of a "
        f"{context.budget_ms:.0f} ms budget; conversation {conversation_id} is hung up and wiped as this "
        "command ends"
    )
