"""A mock OAuth 2.0 token endpoint for connector tests, so an OAuth connector's kit needs no hand-made route.

Token requests do not go through the integration's HTTP client (and so not
through the kit's respx router): :mod:`vault._token_request` sends them with a
client of its own. :func:`mock_token_endpoint` therefore patches httpx for the
duration of a ``with`` block (``respx.mock``, refusing any other unmocked
request) and answers the vendor's token URL like a strict authorisation server:

* every grant (client credentials, refresh token, JWT bearer) gets a fresh
  canary access token;
* with ``rotate_refresh_tokens`` (the default, as Xero and many others do), a
  refresh grant spends the refresh token presented and issues a new one; a spent
  one presented again is refused with ``invalid_grant`` and counted in
  :attr:`MockTokenEndpoint.reuses`, which a test should expect to stay 0 (a
  rotated token that was not written back shows up here).

``extra`` fields are added to every answer (Salesforce's ``instance_url``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

import httpx
import respx

from sdk.testing._credentials import make_canary

__all__ = ["MockTokenEndpoint", "mock_token_endpoint"]

_REFRESH = "refresh_token"
_GRANTS = frozenset(
    {"client_credentials", _REFRESH, "urn:ietf:params:oauth:grant-type:jwt-bearer", "authorization_code"}
)


@dataclass
class MockTokenEndpoint:
    """What the mock endpoint was asked and what it issued; see :func:`mock_token_endpoint`."""

    url: str
    rotate_refresh_tokens: bool = True
    expires_in: int | None = 1800
    extra: Mapping[str, Any] = field(default_factory=dict)
    grants: list[str] = field(default_factory=list)
    """The ``grant_type`` of every token request, in order."""
    issued_access: list[str] = field(default_factory=list)
    issued_refresh: list[str] = field(default_factory=list)
    spent: set[str] = field(default_factory=set)
    reuses: int = 0
    """Spent refresh tokens presented again (a rotated token was lost). Should stay 0."""
    route: respx.Route | None = None

    def answer(self, request: httpx.Request) -> httpx.Response:
        """Answer one token request (the route's side effect)."""
        form = {
            key: values[0] for key, values in parse_qs(request.content.decode("ascii", "replace")).items()
        }
        grant = form.get("grant_type", "")
        self.grants.append(grant)
        if grant not in _GRANTS:
            return httpx.Response(400, json={"error": "unsupported_grant_type"})
        body: dict[str, Any] = {"access_token": make_canary("access"), "token_type": "Bearer", **self.extra}
        if self.expires_in is not None:
            body["expires_in"] = self.expires_in
        if grant == _REFRESH:
            presented = form.get(_REFRESH, "")
            if not presented or presented in self.spent:
                self.reuses += int(bool(presented))
                return httpx.Response(400, json={"error": "invalid_grant"})
            if self.rotate_refresh_tokens:
                self.spent.add(presented)
                body[_REFRESH] = make_canary("refresh")
                self.issued_refresh.append(body[_REFRESH])
        self.issued_access.append(body["access_token"])
        return httpx.Response(200, json=body)

    @property
    def calls(self) -> int:
        return len(self.grants)


@contextlib.contextmanager
def mock_token_endpoint(
    url: str,
    *,
    rotate_refresh_tokens: bool = True,
    expires_in: int | None = 1800,
    extra: Mapping[str, Any] | None = None,
    router: respx.MockRouter | None = None,
) -> Iterator[MockTokenEndpoint]:
    """Answer OAuth token requests to ``url`` for the duration of the block.

    Without ``router``, httpx is patched (``respx.mock``) for the block and any other request that
    is not to the kit's own router fails, so nothing reaches the network. Pass a router you already
    started to add the route to it instead. Usable as a pytest fixture::

        @pytest.fixture(autouse=True)
        def token_endpoint() -> Iterator[MockTokenEndpoint]:
            with mock_token_endpoint("https://identity.example.test/connect/token") as endpoint:
                yield endpoint

    ``connector_test_class(..., token_url=...)`` does this for every scenario of the battery.
    """
    endpoint = MockTokenEndpoint(
        url=url, rotate_refresh_tokens=rotate_refresh_tokens, expires_in=expires_in, extra=dict(extra or {})
    )
    with contextlib.ExitStack() as stack:
        if router is None:
            router = stack.enter_context(respx.mock(assert_all_called=False, assert_all_mocked=True))
        endpoint.route = router.post(url).mock(side_effect=endpoint.answer)
        yield endpoint
