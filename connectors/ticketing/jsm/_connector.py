"""Jira Service Management (Cloud) connector: the caller's requests and their comments.

Built from the Nexora Connect ``ticketing`` template. API root ``https://{site}.atlassian.net``;
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

* Credentials: Atlassian Cloud takes an account's email and an API token over HTTP Basic, so Vault
  holds a ``basic`` credential (the base class sends it). The Service Management document declares
  only OAuth 2.0; the contract tests account for that (see ``test_jsm_contract.py``).
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
  another project is refused before any request is sent, and a request whose ``serviceDeskId`` is
  not the configured desk is reported as not found, so an agent credential that sees several desks
  cannot reach another desk's requests through this integration.
* create_ticket raises the request on behalf of the existing customer with the caller's email.
  Creating a customer needs the Jira Administrator global permission, which this connector does
  not ask for: a caller who is not yet a customer is an InvalidArgumentsError.
* add_comment returns the request key with the comment the API created; the request is not read
  again, because a failed re-read would report a comment that was added as a failure. JSM has no
  idempotency keys, so neither write is ever retried.
* Comments: the first 100, oldest first (offset pages of 50).
* Errors: the Service Management API answers ``{"errorMessage": ..., "i18nErrorMessage":
  {"i18nKey": ...}}``; only the key is surfaced. The request id is Atlassian's ``X-AREQUESTID``.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping
from typing import Annotated, Any, ClassVar

import httpx
from pydantic import BaseModel, ConfigDict, Field

from connectors.ticketing.jsm import _parse as parse
from sdk import (
    ConfigurationError,
    InvalidArgumentsError,
    Ticket,
    TicketComment,
    TicketingConnector,
    VendorNotFoundError,
    paginate,
)
from vault import BasicCredential, Credential

__all__ = ["JSMConnector", "JSMSettings"]

SERVICEDESK = "/rest/servicedeskapi/servicedesk"
REQUESTS = "/rest/servicedeskapi/request"
SEARCH = "/rest/api/3/search/jql"

SEARCH_FIELDS = "summary,status,priority,created,updated,reporter"
SEARCH_PAGE_SIZE = 50
COMMENT_PAGE_SIZE = 50
MAX_COMMENTS = 100
MAX_REQUESTERS = 3  # customer accounts sharing the caller's email (should be one) that are searched
_ERROR_CODE = re.compile(r"[A-Za-z][A-Za-z0-9_.-]{0,127}")
# Atlassian account ids: 24 hex digits, "557058:<uuid>" or "qm:<uuid>:<hex>". Checked before one is
# written into JQL, so that a vendor payload can never add terms to the query.
_ACCOUNT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9:_-]{0,127}")


class JSMSettings(BaseModel):
    """Which Jira Cloud site, service desk and project an integration serves."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    site: Annotated[
        str,
        Field(
            pattern=r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$",
            description="The Jira Cloud site: 'acme' for https://acme.atlassian.net (lower case).",
        ),
    ]
    service_desk_id: Annotated[
        str,
        Field(
            pattern=r"^[1-9][0-9]{0,17}$",
            description="The service desk's id, as in the portal URL /servicedesk/customer/portal/<id>.",
        ),
    ]
    project_key: Annotated[
        str,
        Field(
            pattern=r"^[A-Z][A-Z0-9_]{1,9}$",
            description="The key of the service desk's Jira project, e.g. 'HELP' for requests HELP-123.",
        ),
    ]
    request_type_id: Annotated[
        str | None,
        Field(
            default=None,
            pattern=r"^[1-9][0-9]{0,17}$",
            description="The request type create_ticket raises (needed only with the tickets:write scope).",
        ),
    ] = None


class JSMConnector(TicketingConnector):
    """Requests and comments in Jira Service Management Cloud, for the caller's email."""

    name: ClassVar[str] = "jsm"
    display_name: ClassVar[str] = "Jira Service Management"
    base_url: ClassVar[str] = "https://{site}.atlassian.net"
    credential_types: ClassVar[tuple[type[Credential], ...]] = (BasicCredential,)
    Settings: ClassVar[type[BaseModel]] = JSMSettings
    request_id_headers: ClassVar[tuple[str, ...]] = ("x-arequestid", "atl-traceid")
    idempotency_header: ClassVar[str | None] = None  # JSM deduplicates nothing: writes are sent once
    default_headers: ClassVar[Mapping[str, str]] = {"Accept": "application/json"}

    # --- override points -----------------------------------------------------------------

    def error_code(self, response: httpx.Response) -> str | None:
        """Return ``i18nErrorMessage.i18nKey``; ``errorMessage`` can quote customer data."""
        try:
            payload = response.json()
        except ValueError:
            return None
        message = payload.get("i18nErrorMessage") if isinstance(payload, dict) else None
        key = message.get("i18nKey") if isinstance(message, dict) else None
        return key if isinstance(key, str) and _ERROR_CODE.fullmatch(key) else None

    async def verify(self) -> None:
        """Read the configured service desk: proves the credential and the desk/project settings."""
        path = f"{SERVICEDESK}/{self._settings.service_desk_id}"
        desk = parse.obj(await self.http.json("GET", path))
        if desk.get("projectKey") != self._settings.project_key:
            raise ConfigurationError(
                f"service desk {self._settings.service_desk_id} does not belong to project "
                f"{self._settings.project_key!r}; correct the integration's project_key or service_desk_id"
            )

    # --- operations ------------------------------------------------------------------------

    async def list_tickets(
        self, phone: str | None = None, email: str | None = None, limit: int = 10
    ) -> list[Ticket]:
        """List the caller's requests, open ones first, newest first within each group."""
        account_ids = await self._customer_ids(self._caller_email(phone, email, "list_tickets"))
        if not account_ids:
            return []
        reporters = ", ".join(f'"{account_id}"' for account_id in account_ids)
        scope = f'project = "{self._settings.project_key}" AND reporter in ({reporters})'
        newest, truncated = await self._search(f"{scope} ORDER BY created DESC", limit)
        found = {ticket.id: ticket for ticket in newest}
        if truncated:
            open_jql = f"{scope} AND statusCategory != Done ORDER BY created DESC"
            still_open, _ = await self._search(open_jql, limit)
            for ticket in still_open:
                found.setdefault(ticket.id, ticket)
        return sorted(found.values(), key=parse.ticket_sort_key)[:limit]

    async def get_ticket(self, ticket_id: str) -> Ticket:
        """Get one request with its first 100 comments (oldest first)."""
        path = f"{REQUESTS}/{self._request_key(ticket_id)}"
        request_data: Any
        comments: tuple[TicketComment, ...] | BaseException
        # Two independent reads: run them together, a voice caller is waiting.
        request_data, comments = await asyncio.gather(
            self.http.json("GET", path), self._comments(path), return_exceptions=True
        )
        if isinstance(request_data, BaseException):
            raise request_data
        if isinstance(comments, BaseException):
            raise comments
        item = parse.obj(request_data)
        if str(item.get("serviceDeskId")) != self._settings.service_desk_id:
            raise VendorNotFoundError(
                "the request belongs to another service desk than this integration's", method="GET", path=path
            )
        return parse.request(item, self.integration, comments)

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
        data = await self.http.json("POST", REQUESTS, json=payload)
        return parse.request(parse.obj(data), self.integration)

    async def add_comment(self, ticket_id: str, body: str, public: bool = False) -> Ticket:
        """Add a public reply or an internal note; the result holds the request key and the new comment."""
        key = self._request_key(ticket_id)
        payload = {"body": body, "public": public}
        data = await self.http.json("POST", f"{REQUESTS}/{key}/comment", json=payload)
        return Ticket(id=key, source=self.integration, comments=(parse.comment(parse.obj(data)),))

    # --- helpers ---------------------------------------------------------------------------

    @property
    def _settings(self) -> JSMSettings:
        if isinstance(self.settings, JSMSettings):
            return self.settings
        return JSMSettings.model_validate(self.settings.model_dump())

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

    def _request_key(self, ticket_id: str) -> str:
        key = self._settings.project_key
        if not re.fullmatch(rf"{key}-[1-9][0-9]{{0,9}}", ticket_id):
            raise InvalidArgumentsError(
                f"ticket_id: must be a request key of project {key}, such as {key}-123"
            )
        return ticket_id

    async def _customer_ids(self, email: str) -> list[str]:
        """Account ids of the desk's customers whose email is exactly ``email`` (any case)."""
        path = f"{SERVICEDESK}/{self._settings.service_desk_id}/customer"
        data = parse.obj(await self.http.json("GET", path, params={"query": email, "limit": 50}))
        wanted = email.casefold()
        ids: list[str] = []
        for user in parse.values(data):
            stored = user.get("emailAddress")
            account_id = user.get("accountId")
            if not (isinstance(stored, str) and stored.casefold() == wanted):
                continue
            if not (isinstance(account_id, str) and _ACCOUNT_ID.fullmatch(account_id)):
                raise ValueError("malformed accountId")
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
            data = parse.obj(await self.http.json("GET", SEARCH, params=params))
            issues = data["issues"]
            if not isinstance(issues, list):
                raise TypeError("issues must be a list")
            token_after = data.get("nextPageToken")
            following = token_after if isinstance(token_after, str) and token_after else None
            if data.get("isLast") is True:
                following = None
            left_over = following is not None
            return [parse.issue(parse.obj(item), self.integration) for item in issues], following

        found = await paginate(fetch, max_items=limit)
        return found, left_over

    async def _comments(self, request_path: str) -> tuple[TicketComment, ...]:
        async def fetch(start: str | None) -> tuple[list[TicketComment], str | None]:
            offset = int(start) if start is not None else 0
            params = {"start": offset, "limit": COMMENT_PAGE_SIZE}
            data = parse.obj(await self.http.json("GET", request_path + "/comment", params=params))
            items = [parse.comment(item) for item in parse.values(data)]
            if data.get("isLastPage") is not False or not items:
                return items, None
            return items, str(offset + len(items))

        return tuple(await paginate(fetch, max_items=MAX_COMMENTS))
