"""Validation of the ids that end up in Vault paths, cache keys and audit records.

Tenant and integration ids become Vault path segments, so anything that could
change the meaning of a path (``/``, ``..``, ``%2f``, whitespace, control
characters, Unicode look-alikes) is refused outright rather than escaped: a
refused id is an honest error, an escaped one is a bug waiting to happen (S2).
"""

from __future__ import annotations

import re

from sdk._errors import InvalidIdentifierError

__all__ = ["validate_conversation_id", "validate_id"]

# Lower-case ASCII letter or digit first, then letters, digits, '-' and '_'.
# No dots at all, so '.' and '..' can never appear as a segment.
_ID_PATTERN = re.compile(r"[a-z0-9][a-z0-9_-]{0,62}")

# Conversation ids come from telephony platforms (call SIDs, UUIDs); they are
# never used in paths, only in memory and audit records, so mixed case and
# dots are allowed but the alphabet is still closed.
_CONVERSATION_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")


def _describe(value: object) -> str:
    """Say what is wrong with an id without echoing it back in full."""
    if not isinstance(value, str):
        return f"a {type(value).__name__}"
    if not value:
        return "an empty string"
    return f"a string of {len(value)} characters"


def validate_id(value: object, *, kind: str) -> str:
    """Return ``value`` if it is a valid tenant or integration id, else raise.

    ``kind`` names the id in the error ("tenant id", "integration id").
    """
    if isinstance(value, str) and _ID_PATTERN.fullmatch(value):
        return value
    raise InvalidIdentifierError(
        f"invalid {kind}: got {_describe(value)}; use 1-63 characters of lower-case "
        "a-z, 0-9, '-' or '_', starting with a letter or digit"
    )


def validate_conversation_id(value: object) -> str:
    """Return ``value`` if it is a valid conversation id, else raise."""
    if isinstance(value, str) and _CONVERSATION_PATTERN.fullmatch(value):
        return value
    raise InvalidIdentifierError(
        f"invalid conversation id: got {_describe(value)}; use 1-128 characters of "
        "A-Z, a-z, 0-9, '.', '_', ':' or '-', starting with a letter or digit"
    )
