"""The JQL this connector sends, built on :mod:`sdk.querylang.jql`.

``list_tickets`` searches the integration's project for requests reported by
the caller's customer accounts. The project key comes from the settings and
the account ids from Jira (checked against ``_ACCOUNT_ID``); both still go in
as escaped JQL string literals, so neither can add a clause, and the order is
fixed text.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from sdk.querylang import check_value, jql

__all__ = ["ReporterSearch", "customer_search_text", "reporter_search"]

_ORDER = " ORDER BY created DESC"


class ReporterSearch(NamedTuple):
    """The two JQL searches for a set of reporters' requests."""

    newest: str
    """``project = "KEY" AND reporter in (...) ORDER BY created DESC``."""
    still_open: str
    """The same restricted to ``statusCategory != Done``, sent when the first was truncated."""


def reporter_search(project_key: str, account_ids: Sequence[str]) -> ReporterSearch:
    """The JQL for the requests of ``account_ids`` (one to fifty) in project ``project_key``."""
    scope = (
        jql.clause("project", "=", jql.string(project_key, argument="project_key")),
        jql.clause("reporter", "in", jql.string_list(account_ids, argument="accountId")),
    )
    open_only = jql.clause("statusCategory", "!=", jql.string("Done"))
    return ReporterSearch(jql.all_of(scope) + _ORDER, jql.all_of((*scope, open_only)) + _ORDER)


def customer_search_text(email: str) -> str:
    """Return ``email`` if it may be sent as the service desk customer search's ``query`` parameter.

    That parameter is plain text (a substring match on name and email), not a
    query language, and the HTTP client percent-encodes it; it still gets the
    layer's checks, so no control character, blank or overlong value is sent.
    """
    return check_value(email, language="Jira Service Management customer search", argument="email")
