"""Record-id values that must never become a request: the S1 path promise, per connector.

A tool argument of ``..`` once walked out of a customer's path (issue 10). Each
connector test feeds every value here into every id argument of every operation
and asserts an :class:`sdk.InvalidArgumentsError` with *no* request reaching the
mock transport. The values are the ones a caller can steer a language model into
sending; the kit's ``sdk.testing._hostile`` covers the wider classes.
"""

from __future__ import annotations

import pytest
import respx

__all__ = ["PATH_ID_ATTACKS", "catch_all_router", "echoes", "sent"]

PATH_ID_ATTACKS = [
    pytest.param("..", id="dotdot"),
    pytest.param("%2e%2e", id="encoded-dotdot"),
    pytest.param("%252e%252e", id="double-encoded-dotdot"),
    pytest.param(".", id="dot"),
    pytest.param("", id="empty"),
    pytest.param("a/b", id="slash"),
    pytest.param("%2F", id="encoded-slash"),
    pytest.param("a\\b", id="backslash"),
    pytest.param("a\x00b", id="nul"),
    pytest.param("\x00", id="nul-alone"),
    pytest.param("a\r\nX-Injected: 1", id="crlf"),
    pytest.param("\uff0e\uff0e", id="fullwidth-dotdot"),
    pytest.param("\u2025", id="two-dot-leader"),
]


def catch_all_router() -> respx.MockRouter:
    """A router whose one route answers any request to any host, so every request is recorded."""
    router = respx.MockRouter(assert_all_called=False, assert_all_mocked=True)
    router.route().respond(404, json={})
    return router


def echoes(value: str, message: str) -> bool:
    """True if an error message quotes a refused value (ones under three characters, such as
    ``..``, are words the SDK's own explanation uses and cannot be told apart)."""
    return len(value.strip()) >= 3 and value in message


def sent(router: respx.MockRouter) -> list[tuple[str, str, str]]:
    """(method, host, encoded path) of every request that reached the transport."""
    return [
        (c.request.method, c.request.url.host, c.request.url.raw_path.decode("ascii").partition("?")[0])
        for c in router.calls
    ]
