"""The vendor query-language escaping layer, for connector authors (``from sdk.querylang import soql``).

A value a caller steered — an email, a phone number, a name — goes into a
vendor's query language only through these functions: each returns a typed
fragment that only its language's combinators accept, and refuses with
:class:`~sdk.InvalidArgumentsError` what it cannot make exactly one literal.
One module per language: :mod:`stripe_search`, :mod:`zendesk_search`,
:mod:`chargebee_filter`, :mod:`soql` (SOQL and SOSL) and :mod:`jql`.
"""

from sdk._querylang import (
    MAX_VALUE_LENGTH,
    chargebee_filter,
    check_value,
    jql,
    soql,
    stripe_search,
    zendesk_search,
)

__all__ = [
    "MAX_VALUE_LENGTH",
    "chargebee_filter",
    "check_value",
    "jql",
    "soql",
    "stripe_search",
    "zendesk_search",
]
