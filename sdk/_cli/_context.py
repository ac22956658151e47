"""``nexora-connect context``: fetch a caller's context as the voice agent would, and show it redacted.

It opens a real conversation, runs ``customer_context`` across the tenant's
integrations within the budget, prints what a language model would be handed
(``for_llm``, redacted with the tenant's policy) and each source's status, and
hangs up. Raw records are never printed: the operator sees exactly what the
model would see, and nothing more. Its help and options are declared in
:mod:`sdk._cli._tree.context`.
"""

from __future__ import annotations

import argparse
import secrets

from sdk._call import CustomerContext, SourceStatus
from sdk._cli._base import EXIT_FAILURE, EXIT_OK, EXIT_USAGE, CliError
from sdk._cli._output import Cell, Output
from sdk._cli._run import Interrupts, open_runtime, run_async

__all__ = ["run"]

_INCOMPLETE = frozenset({SourceStatus.TIMED_OUT, SourceStatus.DENIED, SourceStatus.FAILED})


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
