"""Every escaper refuses what no escaping makes safe, with an InvalidArgumentsError that never echoes.

The canary is the value's only distinctive text, so finding it (or its start) in the message
would mean the value was echoed into an error that reaches logs, audit records and the model.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from connectors.billing.stripe import _query as stripe_query
from connectors.crm.salesforce import _query as salesforce_query
from connectors.ticketing.jsm import _query as jsm_query
from connectors.ticketing.zendesk import _query as zendesk_query
from sdk import InvalidArgumentsError
from sdk._querylang import (
    MAX_VALUE_LENGTH,
    chargebee_params,
    chargebee_params_in,
    check_value,
    jql_string,
    jql_string_list,
    soql_like_literal,
    soql_literal,
    sosl_find_term,
    stripe_clause,
    zendesk_ends_with,
    zendesk_term,
)

CANARY = "Qv7kCanaryZ"

ESCAPERS: dict[str, Callable[[str], object]] = {
    "stripe": lambda v: stripe_clause("email", v),
    "stripe-connector": lambda v: stripe_query.clause("email", v),
    "zendesk": lambda v: zendesk_term("requester", v),
    "zendesk-suffix": lambda v: zendesk_ends_with("phone", v),
    "zendesk-connector": zendesk_query.requester_search,
    "chargebee": lambda v: chargebee_params("email", "is", v),
    "chargebee-list": lambda v: chargebee_params_in("id", [v]),
    "soql": soql_literal,
    "soql-like": soql_like_literal,
    "soql-connector": lambda v: salesforce_query.contacts_by_email(v, 10),
    "sosl": sosl_find_term,
    "jql": jql_string,
    "jql-list": lambda v: jql_string_list(["ok", v]),
    "jsm-customer": jsm_query.customer_search_text,
    "check": lambda v: check_value(v, language="x", argument=None),
}

HOSTILE = {
    "nul": CANARY + "\x00@example.com",
    "escape": CANARY + "\x1b[2J",
    "delete": CANARY + "\x7f",
    "next-line": CANARY + "\x85",
    "bidi-override": CANARY + "\u202e@example.com",
    "zero-width": CANARY + "\u200b",
    "byte-order-mark": "\ufeff" + CANARY,
    "line-separator": CANARY + "\u2028",
    "lone-surrogate": CANARY + "\ud800",
    "no-break-space": CANARY + "\u00a0x",
    "overlong": CANARY + "a" * MAX_VALUE_LENGTH,
    "blank": " " * 3,
    "empty": "",
}


@pytest.mark.parametrize("language", ESCAPERS)
@pytest.mark.parametrize("attack", HOSTILE)
def test_unsafe_values_are_refused_without_echo(language: str, attack: str) -> None:
    with pytest.raises(InvalidArgumentsError) as info:
        ESCAPERS[language](HOSTILE[attack])
    message = str(info.value)
    assert CANARY[:5] not in message
    assert message.strip()


@pytest.mark.parametrize("language", ESCAPERS)
@pytest.mark.parametrize("value", [None, 5, b"a@b.c", ["a@b.c"]])
def test_values_that_are_not_text_are_refused(language: str, value: object) -> None:
    with pytest.raises(InvalidArgumentsError, match="text"):
        ESCAPERS[language](value)  # type: ignore[arg-type]


@pytest.mark.parametrize("language", [name for name in ESCAPERS if not name.startswith("zendesk-suffix")])
def test_a_value_at_the_limit_is_accepted(language: str) -> None:
    ESCAPERS[language]("a" * MAX_VALUE_LENGTH)


def test_the_message_names_the_argument_and_reads_after_a_prefix() -> None:
    with pytest.raises(InvalidArgumentsError) as named:
        zendesk_term("requester", "a\x00", argument="email")
    assert str(named.value).startswith("email contains a control or invisible character")
    with pytest.raises(InvalidArgumentsError) as bare:
        soql_literal("a\x00")
    assert str(bare.value).startswith("contains a control or invisible character")
