"""``nexora-connect demo``: one simulated call, end to end, on this machine only.

Its help and options are declared in :mod:`sdk._cli._tree.demo`.
"""

from __future__ import annotations

import argparse
import sys

import sdk.demo
from sdk._cli._base import EXIT_FAILURE, CliError

__all__ = ["run"]


def run(args: argparse.Namespace) -> int:
    # run_demo is looked up on the package at call time (tests replace it); it handles SIGTERM itself.
    try:
        return sdk.demo.run_demo(json_output=args.json, out=sys.stdout)
    except sdk.demo.DemoError as exc:
        raise CliError(f"the demo failed: {exc}", EXIT_FAILURE) from None
