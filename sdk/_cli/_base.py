"""What every command shares: exit codes, help pages, the argument parser, and how errors are told.

Exit codes are defined once, here; each command's ``--help`` lists the ones it
can return (with a command-specific meaning where it has one), and
``docs/cli.md`` is generated from the same definitions.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import re
import shutil
import sys
import textwrap
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NoReturn, TextIO

__all__ = [
    "EXIT_CHECK_FAILED",
    "EXIT_CONFIG",
    "EXIT_FAILURE",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_USAGE",
    "EXIT_CODES",
    "CliError",
    "CommandDoc",
    "Handler",
    "LazyHandler",
    "Parser",
    "add_command",
    "clean",
    "error_name",
    "lazy",
    "one_line",
    "print_error",
]

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_CHECK_FAILED = 3
EXIT_CONFIG = 4
EXIT_INTERRUPTED = 130

EXIT_CODES: Mapping[int, str] = {
    EXIT_OK: "success",
    EXIT_FAILURE: "failure: the operation could not be done (Vault or a vendor failed, denied or was "
    "unreachable); the reason is one line on stderr",
    EXIT_USAGE: "usage error: unknown command or option, or a missing or invalid argument or input",
    EXIT_CHECK_FAILED: "a check failed: doctor found a problem, or a key failed verification at the vendor",
    EXIT_CONFIG: "configuration error: the configuration file is missing or invalid, or names no such "
    "tenant, integration or connector",
    EXIT_INTERRUPTED: "interrupted by Ctrl-C or SIGTERM; conversations were wiped and everything the "
    "command started was stopped",
}
"""Every exit code of ``nexora-connect``, with what it means wherever no command says otherwise."""

Handler = Callable[[argparse.Namespace], int]
"""A command: takes the parsed arguments, prints its output, returns its exit code."""


@dataclasses.dataclass(frozen=True, slots=True)
class LazyHandler:
    """A command's handler by name: ``module.name``, imported when the command runs (see :func:`lazy`)."""

    module: str
    name: str

    def __call__(self, args: argparse.Namespace) -> int:
        handler: Handler = getattr(importlib.import_module(self.module), self.name)
        return handler(args)


def lazy(module: str, name: str = "run") -> LazyHandler:
    """The handler ``module.name``, imported only when its command runs.

    The command tree is built on every start, for ``--help`` too; a command's
    implementation pulls in the runtime, Vault's client, HTTP and Rich, which
    take a second or more to import. Naming it by module keeps ``--help``
    fast and lets each command pay only for what it uses. An ImportError (an
    optional dependency missing) is then raised inside ``main``, which says
    what to install instead of showing a traceback.
    """
    return LazyHandler(module, name)


class CliError(Exception):
    """A command failed in a way it has already described in one line; ``code`` is the exit code."""

    def __init__(self, message: str, code: int = EXIT_FAILURE) -> None:
        super().__init__(message)
        self.code = code


# --- help pages ----------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class CommandDoc:
    """The parts of a command's help page that argparse does not write: for ``--help`` and docs/cli.md."""

    path: tuple[str, ...]
    """The words after ``nexora-connect``, e.g. ``("keys", "rotate")``."""
    summary: str
    description: str
    examples: tuple[tuple[str, str], ...] = ()
    """(command line, what it does)."""
    exit_codes: Mapping[int, str | None] = dataclasses.field(default_factory=dict)
    """The exit codes this command returns; ``None`` takes the meaning from :data:`EXIT_CODES`."""
    notes: str = ""

    @property
    def name(self) -> str:
        return " ".join(("nexora-connect", *self.path))

    def meaning(self, code: int) -> str:
        return self.exit_codes.get(code) or EXIT_CODES[code]

    def epilog(self) -> str:
        parts: list[str] = []
        if self.notes:
            parts.append(self.notes.rstrip() + "\n")
        if self.examples:
            lines = ["examples:"]
            for command, what in self.examples:
                lines.append(f"  {command}")
                lines.append(f"      {what}")
            parts.append("\n".join(lines) + "\n")
        lines = ["exit codes:"]
        for code in sorted(self.exit_codes):
            lines.append(f"  {code:<4} {self.meaning(code)}")
        parts.append("\n".join(lines) + "\n")
        return "\n".join(parts)


def _help_width() -> int:
    return max(60, min(shutil.get_terminal_size().columns, 100) - 2)


class _Formatter(argparse.HelpFormatter):
    """Help laid out like a man page: paragraphs filled, tables and examples kept as written.

    In descriptions and epilogs, a line without indentation is a paragraph
    and is filled to the width; an indented line whose first word is followed
    by two spaces (``  0    success``) is a table row and wraps under its
    second column; an example command (two spaces of indentation, under
    ``examples:``) is never wrapped, so that it can be copied whole.
    """

    def __init__(self, prog: str) -> None:
        super().__init__(prog, max_help_position=32, width=_help_width())

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        return "\n".join(fill(text, width, indent))


class Parser(argparse.ArgumentParser):
    """An argument parser that never repeats a value it could not understand.

    argparse's usual messages quote the offending arguments back. An operator
    who pastes a key where an option belongs (``keys put ... sk_live_...``)
    must not find it printed on screen, in a CI log or in a terminal
    recorder: unknown positional arguments are never shown, unknown options by
    name only, and invalid values only when they cannot be a secret.
    """

    doc: CommandDoc | None = None

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: error: {_redact_usage_error(message)}\n")


_UNRECOGNIZED = "unrecognized arguments: "
_QUOTED_VALUE = re.compile(r"(invalid (?:choice|[\w.]+ value)): '((?:[^'\\]|\\.)*)'")
_HARMLESS = re.compile(r"[A-Za-z][A-Za-z.-]{0,23}|-?\d{1,12}(?:\.\d+)?")


def _redact_usage_error(message: str) -> str:
    if message.startswith(_UNRECOGNIZED):
        words = message[len(_UNRECOGNIZED) :].split()
        options = [word.split("=", 1)[0] for word in words if word.startswith("-") and len(word) > 1]
        hidden = len(words) - len(options)
        shown = ", ".join(options)
        if hidden:
            plural = "s" if hidden > 1 else ""
            shown += (" and " if shown else "") + f"{hidden} other argument{plural} (not shown: it may be a "
            shown += "secret; secrets are read from stdin or a hidden prompt, never from arguments)"
        return _UNRECOGNIZED + shown

    def redact(match: re.Match[str]) -> str:
        value = match.group(2)
        return match.group(0) if _HARMLESS.fullmatch(value) else f"{match.group(1)} (value not shown)"

    return _QUOTED_VALUE.sub(redact, message)


def add_command(
    commands: Any,
    doc: CommandDoc,
    handler: Handler | None = None,
) -> Parser:
    """Add the parser for ``doc.path[-1]`` under ``commands`` (an argparse subparsers action)."""
    parser: Parser = commands.add_parser(
        doc.path[-1],
        help=doc.summary,
        description=doc.description,
        epilog=doc.epilog(),
        formatter_class=_Formatter,
    )
    parser.doc = doc
    if handler is not None:
        parser.set_defaults(handler=handler)
    return parser


_ROW = re.compile(r"(\s+\S+\s{2,})\S")


def fill(text: str, width: int, indent: str = "") -> list[str]:
    """Lay out ``text`` as :class:`_Formatter` does (see there)."""
    lines: list[str] = []
    section = ""
    for line in text.splitlines():
        stripped = line.strip()
        lead = line[: len(line) - len(line.lstrip())]
        if not stripped:
            lines.append("")
        elif not lead:
            section = stripped if stripped.endswith(":") else section
            lines += textwrap.wrap(stripped, width, initial_indent=indent, subsequent_indent=indent) or [""]
        elif section.startswith("examples") and len(lead) == 2:
            lines.append(indent + line)
        else:
            row = _ROW.match(line)
            prefix = row.group(1) if row else lead
            lines += textwrap.wrap(
                line[len(prefix) :],
                width,
                initial_indent=indent + prefix,
                subsequent_indent=indent + " " * len(prefix),
            )
    return lines


def formatter() -> type[argparse.HelpFormatter]:
    return _Formatter


# --- telling errors ------------------------------------------------------------------------------

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def clean(text: str, *, newlines: bool = True) -> str:
    """Return ``text`` safe for a terminal: control characters (escape sequences) become ``?``.

    Vendor data (a ticket subject) and vendor metadata in error messages (a
    request id) reach the screen; an escape sequence in them could rewrite
    the terminal, its title or the clipboard. ``newlines=False`` turns line
    breaks and tabs into spaces as well.
    """
    text = _CONTROL.sub("?", text)
    return text if newlines else re.sub(r"[\n\t]", " ", text)


def error_name(exc: BaseException) -> str:
    """The name of the nearest public class of ``exc`` (``VendorConnectionError``, not a private subclass)."""
    for cls in type(exc).__mro__:
        if not cls.__name__.startswith("_"):
            return cls.__name__
    return type(exc).__name__  # pragma: no cover - object is public


def one_line(message: str) -> str:
    """Join a multi-line message (such as a configuration error's list) into one line."""
    text = ""
    for part in (line.strip() for line in message.splitlines()):
        if part:
            text += (" " if text.endswith((":", ";", ",")) else "; ") if text else ""
            text += part
    return clean(text, newlines=False)


def print_error(message: str, *, stream: TextIO | None = None) -> None:
    """Print ``message`` as one line on stderr, prefixed so that it is findable in logs."""
    target = stream if stream is not None else sys.stderr
    target.write(f"nexora-connect: error: {one_line(message)}\n")
    target.flush()


def print_note(message: str, *, stream: TextIO | None = None) -> None:
    """Print an informational line on stderr (never stdout, which may carry JSON or MCP)."""
    target = stream if stream is not None else sys.stderr
    target.write(f"nexora-connect: {one_line(message)}\n")
    target.flush()


def positive_float(text: str) -> float:
    """argparse type: a finite number of seconds greater than zero."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError("must be a number of seconds such as 0.4") from None
    if not (value > 0 and value < float("inf")):
        raise argparse.ArgumentTypeError("must be a number of seconds greater than 0")
    return value


def non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError("must be a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError("must be 0 or more")
    return value


def positive_int(text: str) -> int:
    value = non_negative_int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value


def walk(parser: argparse.ArgumentParser) -> Sequence[Parser]:
    """Every command parser below ``parser`` (depth first, in the order they were added)."""
    found: list[Parser] = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in dict.fromkeys(action.choices.values()):
                if isinstance(sub, Parser) and sub.doc is not None:
                    found.append(sub)
                found.extend(walk(sub))
    return found
