"""Where command output goes, and in which form: Rich for a person at a terminal, else plain text or JSON.

Tables use Rich when standard output is a terminal, and aligned plain text
when it is a pipe or a file (``grep``, ``awk`` and old logs need no escape
codes). Spinners go to standard error, and only when it is a terminal, so
they never mix into output a script reads. Rich is imported on first use: a
command whose output is piped never loads it.

Everything printed from data (vendor text, error messages carrying vendor
request ids, audit fields) goes through :func:`~sdk._cli._base.clean` first,
and Rich prints with markup off, so text from a vendor can neither move the
cursor nor style itself.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any, TextIO

from sdk._cli._base import clean

if TYPE_CHECKING:
    from rich.console import Console
    from rich.status import Status

__all__ = ["Cell", "Output", "cell_text", "is_terminal", "plain_table"]


def is_terminal(stream: TextIO) -> bool:
    """Whether ``stream`` is an interactive terminal that can show colour and spinners."""
    if os.environ.get("TERM") == "dumb":
        return False
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # closed, or a stream without a file descriptor
        return False


Cell = str | tuple[str, str]
"""A table cell: its text, or (text, Rich style) to colour it at a terminal."""


class Output:
    """One command's view of stdout and stderr."""

    def __init__(self, *, json_mode: bool = False, out: TextIO | None = None, err: TextIO | None = None):
        self.out = out if out is not None else sys.stdout
        self.err = err if err is not None else sys.stderr
        self.json_mode = json_mode
        self.rich = not json_mode and is_terminal(self.out)
        self._console: Console | None = None

    # --- plain writes ----------------------------------------------------------------------------

    def line(self, text: str = "", *, style: str | None = None) -> None:
        """Print one line (or several) of text from data, cleaned of escape sequences."""
        if self.rich:
            self.console().print(clean(text), style=style, soft_wrap=True)
        else:
            self.out.write(clean(text) + "\n")

    def json(self, document: Any, *, lines: bool = False) -> None:
        """Print ``document`` as JSON: indented, or on one line with ``lines`` (JSON Lines)."""
        text = json.dumps(document, separators=(",", ":")) if lines else json.dumps(document, indent=2)
        self.out.write(text + "\n")

    def flush(self) -> None:
        self.out.flush()

    # --- tables ----------------------------------------------------------------------------------

    def table(
        self,
        headers: Sequence[str],
        rows: Sequence[Sequence[Cell]],
        *,
        title: str | None = None,
        no_wrap: bool = False,
    ) -> None:
        """Print rows under headers: a Rich table at a terminal, aligned columns otherwise.

        ``no_wrap`` keeps each Rich cell on one line, shortening it with an
        ellipsis rather than folding it into a column of fragments.
        """
        if self.rich:
            self._rich_table(headers, rows, title, no_wrap)
            return
        if title:
            self.out.write(clean(title) + "\n")
        self.out.write(plain_table(headers, [[cell_text(cell) for cell in row] for row in rows]))

    def _rich_table(
        self, headers: Sequence[str], rows: Sequence[Sequence[Cell]], title: str | None, no_wrap: bool
    ) -> None:
        from rich import box
        from rich.table import Table
        from rich.text import Text

        table = Table(
            title=clean(title) if title else None,
            box=box.SIMPLE_HEAD,
            title_justify="left",
            pad_edge=False,
            show_edge=False,
            collapse_padding=True,
        )
        for header in headers:
            table.add_column(header, overflow="ellipsis" if no_wrap else "fold", no_wrap=no_wrap)
        for row in rows:
            table.add_row(
                *(
                    Text(clean(cell[0]), style=cell[1]) if isinstance(cell, tuple) else Text(clean(cell))
                    for cell in row
                )
            )
        self.console().print(table)

    # --- progress --------------------------------------------------------------------------------

    @contextlib.contextmanager
    def progress(self, message: str) -> Iterator[Status | None]:
        """Show a spinner with ``message`` on stderr while the block runs, if stderr is a terminal.

        Nothing may be printed to the terminal inside the block; print after it.
        """
        if not is_terminal(self.err):
            yield None
            return
        from rich.console import Console

        console = Console(file=self.err, markup=False, highlight=False, emoji=False)
        with console.status(clean(message), spinner="dots") as status:
            yield status

    # --- Rich ------------------------------------------------------------------------------------

    def console(self) -> Console:
        if self._console is None:
            from rich.console import Console

            self._console = Console(file=self.out, markup=False, highlight=False, emoji=False)
        return self._console


def cell_text(cell: Cell) -> str:
    return cell[0] if isinstance(cell, tuple) else cell


def plain_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Columns separated by two spaces, the last one unpadded; cells on one line each."""
    table = [[clean(cell, newlines=False) for cell in headers]]
    table += [[clean(cell, newlines=False) for cell in row] for row in rows]
    widths = [max(len(row[column]) for row in table) for column in range(len(headers) - 1)]
    lines = []
    for row in table:
        padded = [cell.ljust(width) for cell, width in zip(row[:-1], widths, strict=True)]
        lines.append("  ".join([*padded, row[-1]]).rstrip())
    return "\n".join(lines) + "\n"
