"""Zendesk Support connector: the Ticketing API v2 at ``https://{subdomain}.zendesk.com/api/v2``.

Endpoints (operationIds from Zendesk's OpenAPI document, "Support API" 2.0.0):

* ``GET /api/v2/users/search`` (SearchUsers): caller's phone number to requester ids.
* ``GET /api/v2/search`` (ListSearchResults): the caller's tickets.
* ``GET /api/v2/tickets/{ticket_id}`` (ShowTicket) and
  ``GET /api/v2/tickets/{ticket_id}/comments`` (ListTicketComments): get_ticket.
* ``POST /api/v2/tickets`` (CreateTicket) and ``PUT /api/v2/tickets/{ticket_id}`` (UpdateTicket).
* ``GET /api/v2/users/me`` (ShowCurrentUser): verify().

Why it is built this way:

* Credentials: an API token over HTTP Basic, user name ``{agent email}/token``. Vault holds a
  ``basic`` credential; its ``username`` may be the bare agent email, and ``/token`` is appended
  when missing. The password is always an API token: Zendesk no longer accepts account passwords
  on the API, and OAuth is not supported by this connector yet.
* The caller's tickets come from the search API: the document has no "tickets requested by user"
  path and ``ListTickets`` filters only by ``external_id``. Search is eventually consistent, so a
  ticket created minutes ago may be missing from list_tickets (get_ticket reads it directly).
  An email is searched as ``requester:<email>`` (emails identify one Zendesk user). A phone number
  is looked up with ``SearchUsers`` first, as ``phone:*<national number>`` (Zendesk matches the
  digits of stored numbers and ``*`` covers a country code or trunk prefix); only users whose
  stored number is the caller's number in E.164 are kept, at most three. When both are given the
  email is used (a phone number can be shared; it is still checked). create_ticket names the
  requester by email (Zendesk reuses or creates that user) or, with a phone only, by the id of
  the one user holding that number; none or several is an InvalidArgumentsError asking for email.
* Open first: one search sorted newest first serves callers with up to 100 tickets (one page);
  when there is a second page, a second search restricted to ``status<solved`` makes sure no open
  ticket is left behind. Values put into a search query are checked so that a caller-supplied
  email cannot add search terms or wildcards (``*``) and so match other people's tickets.
* Comments: cursor pagination (``page[size]``/``page[after]``, ``meta.has_more``/``after_cursor``)
  with ``sort=-created_at``, so the newest 100 comments are read, then returned oldest first.
  These parameters are documented in the operation's description but not declared as
  parameters in the OpenAPI document. ``plain_body`` is preferred to ``body``.
* Retries: the SDK retries only reads and writes that carry an idempotency key. Zendesk honours
  ``Idempotency-Key`` only on ticket creation, so the header is declared without
  ``auto_idempotency``: create_ticket passes a key (and may be retried with it; Zendesk
  deduplicates), while add_comment's ``PUT /tickets/{id}``, which adds a comment each time it is
  sent, carries none and is never retried.
* Paths (S1): every request an operation sends is declared on it with ``@endpoints``, and the
  ticket id is filled into ``/api/v2/tickets/{ticket_id}`` by the SDK (one encoded segment, never
  ``.``/``..``/a separator), after the check that it is a ticket number. No vendor-supplied URL is
  ever requested: the search's ``next_page`` URL is only read as "there is another page" (the
  second search is built here), and comments page with the ``after_cursor`` token as a query
  value, never with ``links.next``.
* Errors: Zendesk answers ``{"error": "RecordNotFound", "description": "..."}`` or
  ``{"errors": [{"code": "...", "title": "..."}]}``. Only ``error``/``code`` is surfaced, and only
  when it has the shape of an identifier; ``description`` and ``title`` can quote customer data.
* Rate limits: every response carries the account's per-minute allowance as
  ``X-Rate-Limit-Remaining``; list and search responses add ``ratelimit-remaining`` and
  ``ratelimit-reset`` (seconds). ``rate_limit_state`` reads the latter when present (the SDK's
  default), else ``X-Rate-Limit-Remaining`` with the minute as its window, so the SDK holds this
  tenant's next request until the reset instead of earning a 429. The endpoint-specific
  ``zendesk-ratelimit-*`` headers (List Tickets, for example) are not read: this connector does
  not call those endpoints, and one endpoint's limit must not pace the others. A 429's
  ``Retry-After`` is honoured as before.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Mapping
from typing import Annotated, Any, ClassVar

import httpx
from pydantic import BaseModel, ConfigDict, Field

from connectors.ticketing.zendesk import _parse as parse
from connectors.ticketing.zendesk import _query
from sdk import InvalidArgumentsError, Ticket, TicketComment, VendorAuthError, VendorPayloadError
from sdk.authoring import TicketingConnector, endpoints, paginate
from sdk.parsing import Subdomain, code_token, obj, parse_each, record_id, response_json
from vault import BasicCredential, Credential

__all__ = ["ZendeskConnector", "ZendeskSettings"]

USERS_SEARCH = "/api/v2/users/search"
SEARCH = "/api/v2/search"
TICKETS = "/api/v2/tickets"
TICKET = "/api/v2/tickets/{ticket_id}"
COMMENTS = "/api/v2/tickets/{ticket_id}/comments"
ME = "/api/v2/users/me"

COMMENT_PAGE_SIZE = 100  # Zendesk's maximum page size
MAX_COMMENTS = 100
MAX_REQUESTERS = 3  # users sharing one phone number whose tickets are searched

_ERROR_CODE = re.compile(r"[A-Za-z][A-Za-z_]{1,63}")
_TICKET_NUMBER = re.compile(r"[0-9]{1,20}")
# Characters that are literal in a Zendesk search term. Excluded: whitespace (a new term),
# quotes and parentheses (phrases, grouping), ':' '<' '>' (operators) and '*' '?' (wildcards).


RATE_LIMIT_WINDOW = 60.0
"""Zendesk's account-wide allowance is per minute; ``X-Rate-Limit-Remaining`` gives no reset time."""


class ZendeskSettings(BaseModel):
    """Where the tenant's Zendesk account lives."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    subdomain: Annotated[
        Subdomain,
        Field(description="The account's subdomain: 'acme' for https://acme.zendesk.com (lower case)."),
    ]


def api_token_username(username: str) -> str:
    """Return the Basic user name for API-token access: ``{email}/token``."""
    return username if username.endswith("/token") else username + "/token"


class ZendeskConnector(TicketingConnector):
    """Tickets and comments in Zendesk Support, for the caller's email or phone number."""

    name: ClassVar[str] = "zendesk"
    display_name: ClassVar[str] = "Zendesk Support"
    base_url: ClassVar[str] = "https://{subdomain}.zendesk.com"
    credential_types: ClassVar[tuple[type[Credential], ...]] = (BasicCredential,)
    Settings: ClassVar[type[BaseModel]] = ZendeskSettings
    request_id_headers: ClassVar[tuple[str, ...]] = ("x-zendesk-request-id", "x-request-id")
    idempotency_header: ClassVar[str | None] = "Idempotency-Key"
    # Zendesk: "You must set an Accept: application/json header on all requests."
    default_headers: ClassVar[Mapping[str, str]] = {"Accept": "application/json"}

    # --- override points -------------------------------------------------------

    def authenticate(self, request: httpx.Request, credential: Credential) -> None:
        if not isinstance(credential, BasicCredential):
            super().authenticate(request, credential)
            return
        request.headers["Authorization"] = self.basic_authorization(
            api_token_username(credential.username), credential.password.get_secret_value()
        )

    def rate_limit_state(self, response: httpx.Response) -> TicketingConnector.RateLimitState | None:
        """``ratelimit-remaining``/``-reset`` when sent, else ``X-Rate-Limit-Remaining`` per minute."""
        state = super().rate_limit_state(response)
        if state is not None:
            return state
        remaining = self.rate_limit_count(response.headers.get("x-rate-limit-remaining"))
        return None if remaining is None else self.RateLimitState(remaining, RATE_LIMIT_WINDOW)

    def error_code(self, response: httpx.Response) -> str | None:
        payload = response_json(response)
        if not isinstance(payload, dict):
            return None
        candidate = payload.get("error")
        if candidate is None:
            errors = payload.get("errors")
            if isinstance(errors, list) and errors and isinstance(errors[0], dict):
                candidate = errors[0].get("code")
        return code_token(candidate, _ERROR_CODE)

    @endpoints(f"GET {ME}")
    async def verify(self) -> None:
        response = await self.http.request("GET", ME)
        data = self.http.parse_json(response)
        user = data.get("user") if isinstance(data, dict) else None
        context: dict[str, Any] = {
            "method": "GET",
            "path": ME,
            "status": response.status_code,
            "request_id": self.request_id(response),
        }
        if not isinstance(user, dict):
            raise VendorPayloadError("Zendesk's answer to the current-user request has no user", **context)
        # /users/me is "allowed for anonymous users": a credential Zendesk did not accept can
        # come back as 200 with the anonymous user (id null) instead of a 401.
        if user.get("id") is None:
            raise VendorAuthError(
                "Zendesk treated the request as anonymous: the agent email or API token stored for this "
                "integration was not accepted",
                **context,
            )
        if user.get("role") == "end-user":
            raise VendorAuthError(
                "the stored credential signs in as an end user; the ticket APIs need an agent's email "
                "and an API token",
                **context,
            )

    # --- operations ------------------------------------------------------------

    @endpoints(f"GET {USERS_SEARCH}", f"GET {SEARCH}")
    async def list_tickets(
        self, phone: str | None = None, email: str | None = None, limit: int = 10
    ) -> list[Ticket]:
        """List the caller's tickets, open ones first, newest first within each group."""
        if email is not None:
            self._check_phone(phone)
            searches = [_query.requester_search(email, argument="email")]
        elif phone is not None:
            ids = await self._user_ids_by_phone(self.caller_e164(phone))
            searches = [_query.requester_search(user_id, argument="requester id") for user_id in ids]
        else:
            raise _no_identity("list_tickets")
        found: dict[str, Ticket] = {}
        for search in searches:
            for item in await self._requested_tickets(search):
                found.setdefault(item.id, item)
        return sorted(found.values(), key=parse.ticket_sort_key)[:limit]

    @endpoints(f"GET {TICKET}", f"GET {COMMENTS}")
    async def get_ticket(self, ticket_id: str) -> Ticket:
        """Get one ticket with its newest comments (oldest first)."""
        ids = _ticket_ids(ticket_id)
        # Two independent reads: run them together, a voice caller is waiting.
        ticket_data: Any
        comments: tuple[TicketComment, ...] | BaseException
        ticket_data, comments = await asyncio.gather(
            self.http.json("GET", TICKET, path_params=ids), self._comments(ids), return_exceptions=True
        )
        if isinstance(ticket_data, BaseException):
            raise ticket_data
        if isinstance(comments, BaseException):
            raise comments
        return parse.ticket(ticket_data["ticket"], self.integration, comments)

    @endpoints(f"GET {USERS_SEARCH}", f"POST {TICKETS}")
    async def create_ticket(
        self, subject: str, body: str, email: str | None = None, phone: str | None = None
    ) -> Ticket:
        """Open a new ticket for the caller, found by email (preferred) or phone number."""
        ticket: dict[str, Any] = {"subject": subject, "comment": {"body": body}}
        if email is not None:
            self._check_phone(phone)
            # Zendesk uses the existing user with this email unchanged, or creates one; a new
            # user needs a name, and the caller's name is not part of the standard arguments.
            ticket["requester"] = {"email": email, "name": email.split("@", 1)[0]}
        elif phone is not None:
            ids = await self._user_ids_by_phone(self.caller_e164(phone))
            if not ids:
                raise InvalidArgumentsError(
                    "create_ticket: no Zendesk user has the caller's phone number; pass the caller's "
                    "email so that Zendesk can create the requester"
                )
            if len(ids) > 1:
                raise InvalidArgumentsError(
                    "create_ticket: several Zendesk users share the caller's phone number; pass the "
                    "caller's email to choose the requester"
                )
            ticket["requester_id"] = int(ids[0])
        else:
            raise _no_identity("create_ticket")
        data = await self.http.json(
            "POST", TICKETS, json={"ticket": ticket}, idempotency_key=str(uuid.uuid4())
        )
        return parse.ticket(data["ticket"], self.integration)

    @endpoints(f"PUT {TICKET}")
    async def add_comment(self, ticket_id: str, body: str, public: bool = False) -> Ticket:
        """Add a public reply or an internal note; the returned ticket holds the new comment."""
        payload = {"ticket": {"comment": {"body": body, "public": public}}}
        data = await self.http.json("PUT", TICKET, path_params=_ticket_ids(ticket_id), json=payload)
        added = parse.audit_comments(data.get("audit"), public=public)
        return parse.ticket(data["ticket"], self.integration, added)

    # --- helpers ---------------------------------------------------------------

    def _check_phone(self, phone: str | None) -> None:
        # A phone given beside an email is not searched, but an unreadable one is still refused:
        # the same arguments must succeed or fail the same way whichever identity is used.
        if phone is not None:
            self.caller_e164(phone)

    async def _user_ids_by_phone(self, e164: str) -> list[str]:
        """Ids of the users whose stored phone number is ``e164`` (at most MAX_REQUESTERS)."""
        data = await self.http.json("GET", USERS_SEARCH, params={"query": _query.users_by_phone(e164)})

        def read(user: Mapping[str, Any]) -> str | None:
            stored = user.get("phone")
            # The wildcard also matches other countries' numbers that end in the same digits.
            if isinstance(stored, str) and self.phone_e164(stored) == e164:
                return record_id(user.get("id"))
            return None

        ids = parse_each(obj(data).get("users") or [], read, what="user")
        return [found for found in ids if found is not None][:MAX_REQUESTERS]

    async def _requested_tickets(self, search: _query.RequesterSearch) -> list[Ticket]:
        params = {"query": search.newest, "sort_by": "created_at", "sort_order": "desc"}
        data = await self.http.json("GET", SEARCH, params=params)
        tickets = self._search_results(data)
        if data.get("next_page"):
            more = await self.http.json("GET", SEARCH, params={**params, "query": search.still_open})
            tickets += self._search_results(more)
        return tickets

    def _search_results(self, data: Mapping[str, Any]) -> list[Ticket]:
        def read(item: Mapping[str, Any]) -> Ticket | None:
            if item.get("result_type", "ticket") != "ticket":
                return None
            return parse.ticket(item, self.integration)

        found = parse_each(obj(data).get("results") or [], read, what="ticket")
        return [ticket for ticket in found if ticket is not None]

    async def _comments(self, ids: Mapping[str, str]) -> tuple[TicketComment, ...]:
        async def fetch(cursor: str | None) -> tuple[list[TicketComment], str | None]:
            params: dict[str, Any] = {"page[size]": COMMENT_PAGE_SIZE, "sort": "-created_at"}
            if cursor is not None:
                params["page[after]"] = cursor
            data = await self.http.json("GET", COMMENTS, path_params=ids, params=params)
            items = parse_each(obj(data).get("comments") or [], parse.comment, what="comment")
            meta = data.get("meta") or {}
            after = meta.get("after_cursor") if meta.get("has_more") else None
            return items, after if isinstance(after, str) and after else None

        newest_first = await paginate(fetch, max_items=MAX_COMMENTS, partial=True)
        return tuple(reversed(newest_first))


def _no_identity(operation: str) -> InvalidArgumentsError:
    return InvalidArgumentsError(f"{operation}: pass the caller's phone or email (or both)")


def _ticket_ids(ticket_id: str) -> dict[str, str]:
    """The ``path_params`` naming one ticket; the SDK fills (and re-checks) the segment itself.

    Zendesk ticket ids are integers; anything else cannot name a ticket (the API would 404), so it
    is refused here with a message that says what a ticket id looks like.
    """
    if not _TICKET_NUMBER.fullmatch(ticket_id):
        raise InvalidArgumentsError("ticket_id: must be a Zendesk ticket number (digits only)")
    return {"ticket_id": ticket_id}
