"""The one place a pydantic ``ValidationError`` becomes words for a person.

Configuration, tool arguments, connector settings, credentials read from
Vault: every layer validates with pydantic, and every error must name the
offending key and what it needs while never repeating the value given (it can
be a secret or a caller's phone number). The messages are built here, and the
``ValidationError`` itself is never chained (its ``str`` quotes the input).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydantic import ValidationError

__all__ = ["validation_problems"]


def _where(loc: Iterable[Any], prefix: str) -> str:
    path = ".".join(str(part) for part in loc)
    if prefix and path:
        return f"{prefix}.{path}"
    return prefix or path or "(top level)"


def validation_problems(exc: ValidationError, *, prefix: str = "") -> list[str]:
    """One ``"key.path: what is wrong"`` line per error, values never included.

    ``prefix`` is the key the validated data sits under (``tenants.acme.integrations.crm.settings``).
    """
    return [
        f"{_where(error['loc'], prefix)}: {error['msg']}"
        for error in exc.errors(include_input=False, include_url=False, include_context=False)
    ]
