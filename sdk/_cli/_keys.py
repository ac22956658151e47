"""``nexora-connect keys``: store, rotate, list, roll back and verify a tenant's integration keys.

The work is done by :class:`sdk._keys.TenantKeys`; this module runs each
command. Their options are declared in :mod:`sdk._cli._tree.keys` and their
help texts in :mod:`sdk._cli._keys_docs`; reading the credential is in
:mod:`sdk._cli._keys_input`, printing the report in :mod:`sdk._cli._keys_output`.
"""

from __future__ import annotations

import argparse
import asyncio

from sdk._cli import _run
from sdk._cli._base import EXIT_OK
from sdk._cli._keys_input import integration_connector, read_credential
from sdk._cli._keys_output import print_report, print_versions
from sdk._cli._output import Output
from sdk._cli._run import Interrupts, open_runtime, run_async
from sdk._config import load_config
from sdk._keys import TenantKeys
from sdk._runtime import NexoraConnect

__all__ = ["put", "rollback", "rotate", "verify", "versions"]


# --- commands ------------------------------------------------------------------------------------


def put(args: argparse.Namespace) -> int:
    return _write(args, rotate=False)


def rotate(args: argparse.Namespace) -> int:
    return _write(args, rotate=True)


def _write(args: argparse.Namespace, *, rotate: bool) -> int:
    output = Output(json_mode=args.json)
    # Everything that can fail without the secret fails before the prompt; and the secret is read
    # before the event loop starts, so that Ctrl-C at the prompt interrupts at once.
    config = load_config(args.config)
    runtime = NexoraConnect(config, **_run.runtime_options())  # looked up at call time: tests replace it
    try:
        credential = read_credential(args, integration_connector(runtime, args.tenant, args.integration))
    except BaseException:
        asyncio.run(runtime.aclose())
        raise

    async def body(interrupts: Interrupts) -> int:
        async with runtime:
            interrupts.watch(runtime)
            keys = TenantKeys(runtime, verify_budget=getattr(args, "timeout", 10.0))
            verb = "rotating" if rotate else "storing"
            with output.progress(f"{verb} the key of {args.tenant}/{args.integration}"):
                write = keys.rotate if rotate else keys.put
                report = await write(
                    args.tenant, args.integration, credential, expect_version=args.expect_version
                )
        return print_report(output, report)

    return run_async(body, defer=True)


def versions(args: argparse.Namespace) -> int:
    output = Output(json_mode=args.json)

    async def body(interrupts: Interrupts) -> int:
        async with open_runtime(args.config, interrupts) as runtime:
            with output.progress(f"reading the versions of {args.tenant}/{args.integration}"):
                found = await TenantKeys(runtime).versions(args.tenant, args.integration)
        print_versions(output, found)
        return EXIT_OK

    return run_async(body)


def rollback(args: argparse.Namespace) -> int:
    output = Output(json_mode=args.json)

    async def body(interrupts: Interrupts) -> int:
        async with open_runtime(args.config, interrupts) as runtime:
            keys = TenantKeys(runtime, verify_budget=args.timeout)
            with output.progress(f"rolling {args.tenant}/{args.integration} back to v{args.to}"):
                report = await keys.rollback(
                    args.tenant, args.integration, to=args.to, expect_version=args.expect_version
                )
        return print_report(output, report)

    return run_async(body, defer=True)


def verify(args: argparse.Namespace) -> int:
    output = Output(json_mode=args.json)

    async def body(interrupts: Interrupts) -> int:
        async with open_runtime(args.config, interrupts) as runtime:
            keys = TenantKeys(runtime, verify_budget=args.timeout)
            with output.progress(f"verifying the key of {args.tenant}/{args.integration} at the vendor"):
                report = await keys.verify(args.tenant, args.integration)
        return print_report(output, report)

    return run_async(body)
