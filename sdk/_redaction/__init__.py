"""Redaction at the language-model boundary (promise S6).

``redact(text)`` masks card numbers, bank accounts, national, tax and health
identifiers inside free text (ticket bodies and notes carry what customers
typed), following a tenant's :class:`RedactionPolicy`; ``mask(value, kind)``
does the same for a structured field known to hold one identifier;
``redact_many(texts)`` redacts a batch (a rendering's strings) in one pass.
"""

from sdk._redaction._engine import find_identifiers, mask, redact, redact_many
from sdk._redaction._types import Finding, IdentifierType, RedactionAction, RedactionPolicy

__all__ = [
    "Finding",
    "IdentifierType",
    "RedactionAction",
    "RedactionPolicy",
    "find_identifiers",
    "mask",
    "redact",
    "redact_many",
]
