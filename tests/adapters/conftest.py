"""The tools' runtime (three connectors, a read-only and a scoped-write tenant) for the framework adapters.

The fixtures are the tool tests' own (tests/tools/conftest.py), so the adapters are tested against the
same vendor shapes and grants as ``conv.invoke`` itself.
"""

from __future__ import annotations

import re
import warnings

import pytest
import respx

from sdk.testing import make_canary
from tests.connectors import zendesk_cases
from tests.tools.conftest import credentials, luhn_card, nc, read_only, scoped, secret

__all__ = ["credentials", "nc", "read_only", "scoped", "secret"]
"""The tool tests' fixtures; ``audit`` and ``router`` come to both from tests/shared_fixtures.py."""

# Pipecat 1.14 imports the stdlib's deprecated ``audioop`` and uses a deprecated importlib.resources
# call while building its default turn analyser; neither is ours, and pytest makes warnings errors.
PIPECAT_WARNINGS = (
    "ignore:'audioop' is deprecated:DeprecationWarning",
    "ignore:path is deprecated:DeprecationWarning",
)

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", "'audioop' is deprecated", DeprecationWarning)
    import pipecat.processors.aggregators.llm_context  # noqa: F401 - imported once, warning silenced


def digits(text: str) -> str:
    return re.sub(r"\D", "", text)


@pytest.fixture
def card(router: respx.MockRouter) -> str:
    """A Luhn-valid card number planted in the newest comment of the Zendesk ticket."""
    number = luhn_card("4")
    spaced = " ".join(number[i : i + 4] for i in range(0, 16, 4))
    comments = zendesk_cases.fixture("comments_page2")
    comments["comments"][0]["plain_body"] = f"Please charge my card {spaced} for the upgrade."
    router.get(zendesk_cases.COMMENTS).respond(200, json=comments)
    zendesk_cases.show_ticket_route(router, make_canary("subject"))
    return number
