"""The ``nexora-connect`` command line's entry point (``[project.scripts]`` names ``sdk.cli:main``).

The commands live in :mod:`sdk._cli`, one module per command group; see
``nexora-connect --help`` or docs/cli.md for the manual and the exit codes.
"""

from __future__ import annotations

import sys

from sdk._cli import (
    EXIT_CHECK_FAILED,
    EXIT_CONFIG,
    EXIT_FAILURE,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    main,
)

__all__ = [
    "EXIT_CHECK_FAILED",
    "EXIT_CONFIG",
    "EXIT_FAILURE",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_USAGE",
    "main",
]

if __name__ == "__main__":
    sys.exit(main())
