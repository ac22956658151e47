"""The command tree of ``nexora-connect``, declared without importing what any command does.

Every start of the CLI builds the whole tree, for ``--help`` and for a usage
error as much as for a command that runs. So each module here holds only a
command's words and options (its :class:`~sdk._cli._base.CommandDoc` and
``register``) and names its implementation with :func:`~sdk._cli._base.lazy`;
the implementation, with the runtime, Vault, HTTP and Rich behind it, is
imported when that command runs. Modules here import the standard library
and :mod:`sdk._cli._base` only (tests/cli/test_lazy_imports.py checks what
``--help`` loads).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sdk._cli import _mcp  # declaration and command in one; it imports the MCP server only when it runs
from sdk._cli._tree import audit, connectors, context, demo, doctor, keys, scaffold

__all__ = ["REGISTER"]

REGISTER: tuple[Callable[[Any], None], ...] = (
    connectors.register,
    doctor.register,
    context.register,
    audit.register,
    keys.register,
    scaffold.register,
    _mcp.register,
    demo.register,
)
"""Each command group's ``register(subparsers)``, in the order ``--help`` lists them."""
