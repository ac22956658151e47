"""``nexora-connect new-connector``: render a connector package from the template.

Its help and options are declared in :mod:`sdk._cli._tree.scaffold`.
"""

from __future__ import annotations

import argparse
import shlex
from pathlib import Path

from sdk._cli._base import EXIT_USAGE, CliError
from sdk._cli._output import Output
from sdk._errors import ConfigurationError, UsageError

__all__ = ["run"]


def run(args: argparse.Namespace) -> int:
    # Imported here: it looks for the template and copier, which no other command needs.
    from sdk._scaffold import render_connector

    output = Output(json_mode=args.json)
    destination = Path(args.dest) if args.dest else Path.cwd() / args.name
    try:
        with output.progress(f"rendering connector {args.name} ({args.category})"):
            spec = None
            if args.spec is not None:
                found = Path(args.spec).expanduser().resolve()
                if not found.is_file():
                    raise UsageError(f"--spec: {found} is not a file; give the vendor's OpenAPI document")
                spec = str(found)
            path = render_connector(
                args.name, args.category, destination, vendor_display_name=args.display_name, spec_path=spec
            )
    except ConfigurationError as exc:
        # A bad name or display name is a bad argument to this command, not a broken configuration.
        raise CliError(str(exc), EXIT_USAGE) from None
    except UsageError as exc:
        raise CliError(str(exc)) from None
    steps = [f"cd {shlex.quote(str(path))}", "python -m pip install -e '.[test]'", "python -m pytest"]
    if output.json_mode:
        output.json({"name": args.name, "category": args.category, "path": str(path), "next_steps": steps})
        return 0
    output.line(f"Rendered connector {args.name!r} ({args.category}) into {path}")
    output.line("")
    output.line("Next steps:")
    for step in steps:
        output.line(f"  {step}")
    output.line("")
    output.line("Then fill in every TODO(author), and see docs/writing-a-connector.md.")
    return 0
