"""Jira Service Management (Cloud) connector: the caller's requests and their comments.

Built from the Nexora Connect ``ticketing`` template. API root ``https://{site}.atlassian.net``, or
``https://api.atlassian.com/ex/jira/{cloud_id}`` when the integration names its cloud id (OAuth 2.0);
the Service Management REST API (``/rest/servicedeskapi``, operationIds from Atlassian's document
as kept by WSO2/Ballerina) plus one Jira platform search (``/rest/api/3``, Atlassian's document).

Endpoints:

* ``GET /rest/servicedeskapi/servicedesk/{serviceDeskId}/customer?query=`` (getCustomers): the
  caller's email to the accountIds of the desk's customers with exactly that email.
* ``GET /rest/api/3/search/jql`` (searchAndReconsileIssuesUsingJql): list_tickets, with
  ``project = <key> AND reporter in (<accountIds>)``.
* ``GET /rest/servicedeskapi/request/{issueIdOrKey}`` (getCustomerRequestByIdOrKey) and
  ``GET .../request/{issueIdOrKey}/comment`` (getRequestComments): get_ticket.
* ``POST /rest/servicedeskapi/request`` (createCustomerRequest): create_ticket.
* ``POST /rest/servicedeskapi/request/{issueIdOrKey}/comment`` (createRequestComment): add_comment.
* ``GET /rest/servicedeskapi/servicedesk/{serviceDeskId}`` (getServiceDeskById): verify().

Why it is built this way:

* Credentials: both schemes JSM users have. HTTP Basic with an account's email and an API token
  (a ``basic`` credential; the base class sends it), or OAuth 2.0 (``oauth2_refresh`` for a 3LO app
  the tenant authorised, ``oauth2_client`` for a service account), whose access token is sent as
  ``Authorization: Bearer``. Atlassian accepts OAuth tokens only at its API gateway,
  ``https://api.atlassian.com/ex/jira/{cloudId}``, never at ``{site}.atlassian.net``: the
  ``cloud_id`` setting selects that root (scoped API tokens over Basic use it too), and without it
  no token endpoint is declared, so an OAuth credential fails before a refresh token is spent.
  Atlassian rotates refresh tokens; the SDK writes the new one back to Vault. The Service
  Management document declares only OAuth 2.0 although the live API also takes Basic; the contract
  tests account for that (see ``test_jsm_contract.py`` and ``tests/vendor_mocks``).
* The caller's requests come from a JQL search, not from ``GET /rest/servicedeskapi/request``:
  that list returns requests of *the account making the call* (the agent: "owned",
  "participated", organisations), and has no reporter filter. JQL can name the reporter, and is
  limited to the integration's project. Search is eventually consistent: a request created a
  moment ago may be missing from list_tickets (get_ticket reads it directly).
* Customers are found by email only: JSM customer records carry no phone number, so a phone alone
  is an InvalidArgumentsError asking for the caller's email (a phone given beside an email is still
  checked). The customer search is a substring match on name and email; only exact
  (case-insensitive) email matches are kept.
* Open first: one search newest first; when it has more pages than ``limit`` allows, a second
  search restricted to ``statusCategory != Done`` brings back older open requests.
* Tenant scope: ticket ids are request keys of the configured project (``KEY-123``). A key of
  another project is refused before any request is sent. What comes back is checked too: a request
  whose ``serviceDeskId`` is not the configured desk, or whose key is not of the configured project
  (a moved issue keeps answering under its old key), is reported as not found; a search hit of
  another project is left out of list_tickets; a created request that is not in the project is a
  VendorPayloadError. So an agent credential that sees several desks cannot reach another desk's
  requests through this integration.
* create_ticket raises the request on behalf of the existing customer with the caller's email.
  Creating a customer needs the Jira Administrator global permission, which this connector does
  not ask for: a caller who is not yet a customer is an InvalidArgumentsError.
* add_comment returns the request key with the comment the API created; the request is not read
  again, because a failed re-read would report a comment that was added as a failure. JSM has no
  idempotency keys, so neither write is ever retried.
* Comments: the first 100, oldest first (offset pages of 50).
* Paths (S1): every request an operation sends is declared on it with ``@endpoints``; the request
  key and the service desk id are filled into the templates by the SDK (one encoded segment each,
  never ``.``/``..``/a separator). No vendor-supplied URL is ever requested: JQL search pages with
  the ``nextPageToken`` value and comments with a ``start`` offset computed here, never with the
  ``_links.next`` URL the Service Management API also returns.
* Errors: the Service Management API answers ``{"errorMessage": ..., "i18nErrorMessage":
  {"i18nKey": ...}}``; only the key is surfaced. The request id is Atlassian's ``X-AREQUESTID``.
* Rate limits: Atlassian sends ``X-RateLimit-Limit`` and ``X-RateLimit-Remaining``, and with a 429
  ``Retry-After`` (seconds) and ``X-RateLimit-Reset`` (an ISO 8601 time). The SDK's default
  ``rate_limit_state`` reads them (an ISO reset included), so once Atlassian says no requests are
  left this tenant's next request waits for the reset, or fails at once, unsent, when the reset
  comes after the caller's deadline. ``X-RateLimit-NearLimit`` and ``RateLimit-Reason`` are not
  read: only a count that reaches zero holds requests back.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping
from typing import Any, ClassVar

import httpx
from pydantic import BaseModel

from connectors.ticketing.jsm import _parse as parse
from connectors.ticketing.jsm import _query
from connectors.ticketing.jsm._settings import JSMSettings
from sdk import (
    ConfigurationError,
    InvalidArgumentsError,
    Ticket,
    TicketComment,
    VendorNotFoundError,
    VendorPayloadError,
)
from sdk.authoring import TicketingConnector, endpoints, paginate
from sdk.parsing import code_token, cursor, listed, obj, parse_each, response_json, unreadable
from vault import BasicCredential, Credential, OAuth2ClientCredential, OAuth2RefreshCredential, TokenEndpoint

__all__ = ["JSMConnector", "JSMSettings"]

SERVICE_DESK = "/rest/servicedeskapi/servicedesk/{service_desk_id}"
CUSTOMERS = "/rest/servicedeskapi/servicedesk/{service_desk_id}/customer"
REQUESTS = "/rest/servicedeskapi/request"
REQUEST = "/rest/servicedeskapi/request/{issue_key}"
COMMENTS = "/rest/servicedeskapi/request/{issue_key}/comment"
SEARCH = "/rest/api/3/search/jql"

SITE_ROOT = "https://{site}.atlassian.net"
GATEWAY_ROOT = "https://api.atlassian.com/ex/jira/{cloud_id}"
TOKEN_URL = "https://auth.atlassian.com/oauth/token"  # noqa: S105 - a URL, not a password

SEARCH_FIELDS = "summary,status,priority,created,updated,reporter"
SEARCH_PAGE_SIZE = 50
COMMENT_PAGE_SIZE = 50
MAX_COMMENTS = 100
MAX_REQUESTERS = 3  # customer accounts sharing the caller's email (should be one) that are searched
_ERROR_CODE = re.compile(r"[A-Za-z][A-Za-z0-9_.-]{0,127}")
# Atlassian account ids: 24 hex digits, "557058:<uuid>" or "qm:<uuid>:<hex>". Checked before one is
# written into JQL, so that a vendor payload can never add terms to the query.
_ACCOUNT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9:_-]{0,127}")


class JSMConnector(TicketingConnector):
    """Requests and comments in Jira Service Management Cloud, for the caller's email."""

    name: ClassVar[str] = "jsm"
    display_name: ClassVar[str] = "Jira Service Management"
    base_url: ClassVar[str] = SITE_ROOT
    lookup_by: ClassVar[frozenset[str]] = frozenset({"email"})
    """What the caller can be found by: Service Management customers have no phone number, so a
    phone-only customer context reports this source ``unsupported`` (nothing asked), not failed."""
    credential_types: ClassVar[tuple[type[Credential], ...]] = (
        BasicCredential,
        OAuth2RefreshCredential,
        OAuth2ClientCredential,
    )
    Settings: ClassVar[type[BaseModel]] = JSMSettings
    request_id_headers: ClassVar[tuple[str, ...]] = ("x-arequestid", "atl-traceid")
    idempotency_header: ClassVar[str | None] = None  # JSM deduplicates nothing: writes are sent once
    default_headers: ClassVar[Mapping[str, str]] = {"Accept": "application/json"}

    # --- override points -----------------------------------------------------------------

    @classmethod
    def resolve_base_url(cls, settings: BaseModel) -> str:
        """The API gateway root when the integration names a cloud id, else the site's own URL."""
        cloud_id = getattr(settings, "cloud_id", None)
        if cloud_id is not None:
            return GATEWAY_ROOT.format(cloud_id=cloud_id)
        return SITE_ROOT.format(site=getattr(settings, "site", None))

    def token_endpoint(self, base_url: str) -> TokenEndpoint | None:
        """Atlassian's token endpoint (client id and secret in the form), only with a cloud id.

        OAuth tokens are refused at the site URL, so without a cloud id none is declared: an OAuth
        credential then fails at once, before its refresh token is spent on a token that could
        not be used.
        """
        if self._settings.cloud_id is None:
            return None
        return TokenEndpoint(url=TOKEN_URL, auth_method="client_secret_post")

    def error_code(self, response: httpx.Response) -> str | None:
        """Return ``i18nErrorMessage.i18nKey``; ``errorMessage`` can quote customer data."""
        payload = response_json(response)
        message = payload.get("i18nErrorMessage") if isinstance(payload, dict) else None
        return code_token(message.get("i18nKey"), _ERROR_CODE) if isinstance(message, dict) else None

    @endpoints(f"GET {SERVICE_DESK}")
    async def verify(self) -> None:
        """Read the configured service desk: proves the credential and the desk/project settings."""
        desk = obj(await self.http.json("GET", SERVICE_DESK, path_params=self._desk_ids))
        if desk.get("projectKey") != self._settings.project_key:
            raise ConfigurationError(
                f"service desk {self._settings.service_desk_id} does not belong to project "
                f"{self._settings.project_key!r}; correct the integration's project_key or service_desk_id"
            )

    # --- operations ------------------------------------------------------------------------

    @endpoints(f"GET {CUSTOMERS}", f"GET {SEARCH}")
    async def list_tickets(
        self, phone: str | None = None, email: str | None = None, limit: int = 10
    ) -> list[Ticket]:
        """List the caller's requests, open ones first, newest first within each group."""
        account_ids = await self._customer_ids(self._caller_email(phone, email, "list_tickets"))
        if not account_ids:
            return []
        search = _query.reporter_search(self._settings.project_key, account_ids)
        newest, truncated = await self._search(search.newest, limit)
        found = {ticket.id: ticket for ticket in newest}
        if truncated:
            still_open, _ = await self._search(search.still_open, limit)
            for ticket in still_open:
                found.setdefault(ticket.id, ticket)
        return sorted(found.values(), key=parse.ticket_sort_key)[:limit]

    @endpoints(f"GET {REQUEST}", f"GET {COMMENTS}")
    async def get_ticket(self, ticket_id: str) -> Ticket:
        """Get one request with its first 100 comments (oldest first)."""
        ids = self._request_ids(ticket_id)
        request_data: Any
        comments: tuple[TicketComment, ...] | BaseException
        # Two independent reads: run them together, a voice caller is waiting.
        request_data, comments = await asyncio.gather(
            self.http.json("GET", REQUEST, path_params=ids), self._comments(ids), return_exceptions=True
        )
        if isinstance(request_data, BaseException):
            raise request_data
        if isinstance(comments, BaseException):
            raise comments
        item = obj(request_data)
        if not self._ours(item):
            raise VendorNotFoundError(
                "the request belongs to another service desk or project than this integration's",
                method="GET",
                path=REQUEST,
            )
        return parse.request(item, self.integration, comments)

    @endpoints(f"GET {CUSTOMERS}", f"POST {REQUESTS}")
    async def create_ticket(
        self, subject: str, body: str, email: str | None = None, phone: str | None = None
    ) -> Ticket:
        """Raise a request on behalf of the customer with the caller's email."""
        request_type = self._settings.request_type_id
        if request_type is None:
            raise ConfigurationError(
                "create_ticket needs the integration's request_type_id setting (the request type to raise)"
            )
        account_ids = await self._customer_ids(self._caller_email(phone, email, "create_ticket"))
        if not account_ids:
            raise InvalidArgumentsError(
                "create_ticket: no customer of this service desk has the caller's email; add them as a "
                "customer in Jira Service Management first"
            )
        payload = {
            "serviceDeskId": self._settings.service_desk_id,
            "requestTypeId": request_type,
            "requestFieldValues": {"summary": subject, "description": body},
            "raiseOnBehalfOf": account_ids[0],
        }
        item = obj(await self.http.json("POST", REQUESTS, json=payload))
        if not self._ours(item):
            # Created, but not where this integration looks: say so rather than return a key that
            # get_ticket would refuse.
            raise VendorPayloadError(
                "the created request is not in this integration's service desk and project",
                method="POST",
                path=REQUESTS,
            )
        return parse.request(item, self.integration)

    @endpoints(f"POST {COMMENTS}")
    async def add_comment(self, ticket_id: str, body: str, public: bool = False) -> Ticket:
        """Add a public reply or an internal note; the result holds the request key and the new comment."""
        ids = self._request_ids(ticket_id)
        payload = {"body": body, "public": public}
        data = await self.http.json("POST", COMMENTS, path_params=ids, json=payload)
        return Ticket(id=ticket_id, source=self.integration, comments=(parse.comment(obj(data)),))

    # --- helpers ---------------------------------------------------------------------------

    @property
    def _settings(self) -> JSMSettings:
        return self.settings_as(JSMSettings)

    def _caller_email(self, phone: str | None, email: str | None, operation: str) -> str:
        if phone is not None and self.phone_e164(phone) is None:
            # Not searched, but an unreadable number is refused all the same: the same arguments
            # must succeed or fail the same way whichever identity is used.
            raise InvalidArgumentsError(
                "phone: not a phone number that can be read in the tenant's default region "
                f"({self.phone_region})"
            )
        if email is None:
            raise InvalidArgumentsError(
                f"{operation}: Jira Service Management customers have no phone number to search by; "
                "pass the caller's email"
            )
        return email

    @property
    def _desk_ids(self) -> dict[str, str]:
        """The ``path_params`` naming the configured service desk (the SDK fills the segment)."""
        return {"service_desk_id": self._settings.service_desk_id}

    def _request_ids(self, ticket_id: str) -> dict[str, str]:
        """The ``path_params`` naming one request of the configured project.

        A key of another project is refused here, with a message saying what a key looks like,
        before the SDK fills (and re-checks) the path segment.
        """
        key = self._settings.project_key
        if not self._in_project(ticket_id):
            raise InvalidArgumentsError(
                f"ticket_id: must be a request key of project {key}, such as {key}-123"
            )
        return {"issue_key": ticket_id}

    def _in_project(self, key: object) -> bool:
        """True if ``key`` is a request key of the configured project (``HELP-123``)."""
        project = self._settings.project_key
        return isinstance(key, str) and re.fullmatch(rf"{project}-[1-9][0-9]{{0,9}}", key) is not None

    def _ours(self, item: Mapping[str, Any]) -> bool:
        """True if a customer request is in the configured service desk and project."""
        desk = item.get("serviceDeskId")
        return (
            isinstance(desk, str | int)
            and not isinstance(desk, bool)
            and str(desk) == self._settings.service_desk_id
            and self._in_project(item.get("issueKey"))
        )

    async def _customer_ids(self, email: str) -> list[str]:
        """Account ids of the desk's customers whose email is exactly ``email`` (any case)."""
        query = {"query": _query.customer_search_text(email), "limit": 50}
        data = obj(await self.http.json("GET", CUSTOMERS, path_params=self._desk_ids, params=query))
        wanted = email.casefold()

        ids: list[str] = []
        for user in parse.values(data):
            stored = user.get("emailAddress")
            account_id = user.get("accountId")
            if not (isinstance(stored, str) and stored.casefold() == wanted):
                continue
            if not (isinstance(account_id, str) and _ACCOUNT_ID.fullmatch(account_id)):
                # Not skipped: this id goes into the JQL, and one that could rewrite it is a
                # hostile or broken answer, not a record to leave out (the search is not sent).
                raise unreadable("accountId")
            ids.append(account_id)
        return ids[:MAX_REQUESTERS]

    async def _search(self, jql: str, limit: int) -> tuple[list[Ticket], bool]:
        """Run one JQL search for up to ``limit`` issues; also say whether more were left."""
        left_over = False

        async def fetch(token: str | None) -> tuple[list[Ticket], str | None]:
            nonlocal left_over
            params: dict[str, Any] = {
                "jql": jql,
                "fields": SEARCH_FIELDS,
                "maxResults": min(limit, SEARCH_PAGE_SIZE),
            }
            if token is not None:
                params["nextPageToken"] = token
            data = obj(await self.http.json("GET", SEARCH, params=params))
            issues = listed(data, "issues")
            following = None if data.get("isLast") is True else cursor(data.get("nextPageToken"))
            left_over = following is not None
            found = parse_each(issues, lambda item: parse.issue(item, self.integration), what="issue")
            # The JQL names the project; a hit of another one (a moved issue) is still not ours.
            return [ticket for ticket in found if self._in_project(ticket.id)], following

        # The caller's requests: a token loop returns what arrived, flagged truncated.
        found = await paginate(fetch, max_items=limit, partial=True)
        return found, left_over

    async def _comments(self, ids: Mapping[str, str]) -> tuple[TicketComment, ...]:
        async def fetch(start: str | None) -> tuple[list[TicketComment], str | None]:
            offset = int(start) if start is not None else 0
            params = {"start": offset, "limit": COMMENT_PAGE_SIZE}
            data = obj(await self.http.json("GET", COMMENTS, path_params=ids, params=params))
            served = listed(data, "values")
            items = parse_each(served, parse.comment, what="comment")
            if data.get("isLastPage") is not False or not served:
                return items, None
            # The offset counts what was served, skipped records too, or the next page would overlap.
            return items, str(offset + len(served))

        # Offsets: a comment served twice (one added while paging) is returned once.
        return tuple(await paginate(fetch, max_items=MAX_COMMENTS, key=lambda found: found.id, partial=True))
