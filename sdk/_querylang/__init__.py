"""One escaping layer per vendor query language (promise S2: a caller's words stay one value).

Every value a caller steered goes into a vendor query through one of these
functions, never through string formatting: each returns a typed fragment
(``NewType`` over ``str``) that only its language's combinators accept, and
refuses with :class:`~sdk.InvalidArgumentsError` what it cannot make one
literal (control characters, overlong or blank values, characters that become
syntax once Unicode-normalised). Each module names its vendor's documentation.
"""

from sdk._querylang import chargebee_filter, jql, soql, stripe_search, zendesk_search
from sdk._querylang._text import MAX_VALUE_LENGTH, check_value
from sdk._querylang.chargebee_filter import merge as chargebee_merge
from sdk._querylang.chargebee_filter import params as chargebee_params
from sdk._querylang.chargebee_filter import params_in as chargebee_params_in
from sdk._querylang.chargebee_filter import presence as chargebee_presence
from sdk._querylang.jql import all_of as jql_all_of
from sdk._querylang.jql import clause as jql_clause
from sdk._querylang.jql import string as jql_string
from sdk._querylang.jql import string_list as jql_string_list
from sdk._querylang.soql import find_any as sosl_find_any
from sdk._querylang.soql import find_term as sosl_find_term
from sdk._querylang.soql import like_literal as soql_like_literal
from sdk._querylang.soql import literal as soql_literal
from sdk._querylang.stripe_search import all_of as stripe_all_of
from sdk._querylang.stripe_search import any_of as stripe_any_of
from sdk._querylang.stripe_search import clause as stripe_clause
from sdk._querylang.zendesk_search import all_of as zendesk_all_of
from sdk._querylang.zendesk_search import ends_with as zendesk_ends_with
from sdk._querylang.zendesk_search import term as zendesk_term

__all__ = [
    "MAX_VALUE_LENGTH",
    "chargebee_filter",
    "chargebee_merge",
    "chargebee_params",
    "chargebee_params_in",
    "chargebee_presence",
    "check_value",
    "jql",
    "jql_all_of",
    "jql_clause",
    "jql_string",
    "jql_string_list",
    "soql",
    "soql_like_literal",
    "soql_literal",
    "sosl_find_any",
    "sosl_find_term",
    "stripe_all_of",
    "stripe_any_of",
    "stripe_clause",
    "stripe_search",
    "zendesk_all_of",
    "zendesk_ends_with",
    "zendesk_search",
    "zendesk_term",
]
