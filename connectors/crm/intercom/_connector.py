"""Intercom (REST API 2.14) as a CRM: contacts, their companies, notes, and recent conversations.

Why CRM and not ticketing: the three things a voice agent needs from Intercom are
*who is calling* (a contact, found by email or phone), *what they have been
talking to us about* (their recent conversations) and *leave a record of this
call* (a note on the contact). Two of the three are contact-centred, and the
write is a note on a contact, which is exactly ``CRMConnector.create_note``
(``notes:write``). The ticketing base would have forced the conversation list
into ``list_tickets(phone, email)`` and the note into ``add_comment(ticket_id)``,
i.e. a reply on a conversation, which is customer-visible in Intercom; a note on
the contact is internal by construction (``Note.is_internal``). Conversations are
therefore one operation beyond the CRM base set, ``list_conversations``
(``conversations:read``), returning the shared ``Ticket`` model so that tools,
redaction and the grant treat it like any other read.

Endpoints (relative to the region's host; ``Intercom-Version: 2.14`` on every request):

* ``POST /contacts/search`` (a read over POST; cursor pages in the body): find_contacts.
  The query is a JSON structure (``_query``), never text: ``email = <email>`` OR
  ``phone = <E.164>`` OR ``phone = <as given>``. Intercom compares phone numbers as
  stored strings, so a number stored in another format is not found; every result
  is re-checked (email case-insensitively, phone in E.164) before it is returned,
  because a near miss is someone else's record.
* ``GET /contacts/{contact_id}``: get_contact.
* ``GET /companies/{company_id}``: get_account (a contact's account is its first company).
* ``POST /conversations/search`` (a read over POST): list_conversations, filtered by
  ``contact_ids = <id>`` AND updated in the last ``RECENT_DAYS`` days; the search has no
  sort, so up to ``MAX_SCANNED`` matches are read and the newest ``limit`` returned.
* ``POST /contacts/{contact_id}/notes``: create_note (``notes:write``). Intercom documents
  no idempotency key, so the note is sent exactly once and never retried.
* ``GET /me``: verify().

Credentials: an access token (``ApiKeyCredential``), sent as ``Authorization: Bearer``.
Settings: the workspace's data-hosting ``region`` (``us``, ``eu`` or ``au``), which picks
the API host; a token only works against its own region.
Errors: ``{"type": "error.list", "request_id": ..., "errors": [{"code": ..., "message": ...}]}``;
the code is kept, the message (which can quote customer data) never is.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from typing import Any, ClassVar, Literal

import httpx
from pydantic import BaseModel, ConfigDict, Field

from connectors.crm.intercom import _parse as parse
from connectors.crm.intercom import _query as query
from sdk import Account, Contact, InvalidArgumentsError, Note, Ticket
from sdk.authoring import CRMConnector, Limit, RecordId, endpoints, operation, paginate
from sdk.parsing import code_token, obj, parse_each, response_json
from vault import ApiKeyCredential, Credential

__all__ = ["IntercomConnector", "IntercomSettings"]

API_VERSION = "2.14"
HOSTS: Mapping[str, str] = {
    "us": "https://api.intercom.io",
    "eu": "https://api.eu.intercom.io",
    "au": "https://api.au.intercom.io",
}

CONTACT_SEARCH = "/contacts/search"
CONTACT = "/contacts/{contact_id}"
CONTACT_NOTES = "/contacts/{contact_id}/notes"
COMPANY = "/companies/{company_id}"
CONVERSATION_SEARCH = "/conversations/search"
ME = "/me"

PAGE_SIZE = 50  # Intercom's search default; conversations allow 150
MAX_CONTACTS = 25  # contacts sharing one phone number or email that are returned
RECENT_DAYS = 90  # "recent" conversations: updated within this many days
MAX_SCANNED = 100  # conversations read to find the newest (the search cannot sort)
_ERROR_CODE = re.compile(r"[a-z][a-z0-9_.-]{0,63}")
_REQUEST_ID = re.compile(r"[A-Za-z0-9-]{8,64}")


class IntercomSettings(BaseModel):
    """Which Intercom region the tenant's workspace is hosted in; validated when the configuration loads."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    region: Literal["us", "eu", "au"] = Field(
        default="us",
        description="The workspace's data-hosting region: us (api.intercom.io), eu or au.",
    )


class IntercomConnector(CRMConnector):
    """Contacts, companies, notes and recent conversations in Intercom, found by phone or email."""

    name: ClassVar[str] = "intercom"
    display_name: ClassVar[str] = "Intercom"
    base_url: ClassVar[str] = HOSTS["us"]
    credential_types: ClassVar[tuple[type[Credential], ...]] = (ApiKeyCredential,)
    Settings: ClassVar[type[BaseModel]] = IntercomSettings
    request_id_headers: ClassVar[tuple[str, ...]] = ("x-request-id",)
    idempotency_header: ClassVar[str | None] = None  # Intercom documents none: writes are sent once
    default_headers: ClassVar[Mapping[str, str]] = {
        "Intercom-Version": API_VERSION,
        "Accept": "application/json",
    }

    @classmethod
    def resolve_base_url(cls, settings: BaseModel) -> str:
        """The region's API host (a fixed table: a setting can never name a host)."""
        region = settings.model_dump().get("region", "us")
        return HOSTS[region] if isinstance(region, str) and region in HOSTS else HOSTS["us"]

    # --- override points -----------------------------------------------------------------

    def error_code(self, response: httpx.Response) -> str | None:
        """The first ``errors[].code`` (``not_found``, ``unauthorized``), never its message."""
        payload = response_json(response)
        errors = payload.get("errors") if isinstance(payload, dict) else None
        first = errors[0] if isinstance(errors, list) and errors else None
        return code_token(first.get("code"), _ERROR_CODE) if isinstance(first, dict) else None

    def request_id(self, response: httpx.Response) -> str | None:
        """The ``X-Request-Id`` header, else the error body's ``request_id`` when it looks like one."""
        found = super().request_id(response)
        if found is not None or response.is_success:
            return found
        payload = response_json(response)
        value = payload.get("request_id") if isinstance(payload, dict) else None
        return value if isinstance(value, str) and _REQUEST_ID.fullmatch(value) else None

    @endpoints(f"GET {ME}")
    async def verify(self) -> None:
        """``GET /me``: the admin the token belongs to, the cheapest authenticated read."""
        await self.http.request("GET", ME)

    # --- standard CRM operations -----------------------------------------------------------

    @endpoints(f"POST {CONTACT_SEARCH}")
    async def find_contacts(self, phone: str | None = None, email: str | None = None) -> list[Contact]:
        """Find contacts whose email (case-insensitively) or phone (in E.164) is the caller's."""
        filters: list[query.Filter] = []
        wanted_phone = self.caller_e164(phone) if phone is not None else None
        if email is not None:
            filters.append(query.equals("email", email, argument="email"))
        if phone is not None and wanted_phone is not None:
            filters.append(query.equals("phone", wanted_phone, argument="phone"))
            filters.append(query.equals("phone", phone.strip(), argument="phone"))
        if not filters:
            raise InvalidArgumentsError("find_contacts: pass the caller's phone or email (or both)")
        items = await self._search(CONTACT_SEARCH, "data", query.any_of(*filters), MAX_CONTACTS)
        found = parse_each(
            items, lambda item: parse.contact(item, self.integration, self.phone_e164), what="contact"
        )
        wanted_email = email.casefold() if email is not None else None
        return [
            c
            for c in found
            if (wanted_email is not None and c.email is not None and c.email.casefold() == wanted_email)
            or (wanted_phone is not None and c.phone == wanted_phone)
        ]

    @endpoints(f"GET {CONTACT}")
    async def get_contact(self, contact_id: str) -> Contact:
        """Get one contact by its Intercom id."""
        data = await self.http.json("GET", CONTACT, path_params={"contact_id": contact_id})
        return parse.contact(obj(data), self.integration, self.phone_e164)

    @endpoints(f"GET {COMPANY}")
    async def get_account(self, account_id: str) -> Account:
        """Get a company by its Intercom id (``Contact.account_id``)."""
        data = await self.http.json("GET", COMPANY, path_params={"company_id": account_id})
        return parse.account(obj(data), self.integration)

    @endpoints(f"POST {CONTACT_NOTES}")
    async def create_note(self, contact_id: str, body: str) -> Note:
        """Add a note (such as a call summary) to a contact; sent once, never retried."""
        data = await self.http.json(
            "POST", CONTACT_NOTES, path_params={"contact_id": contact_id}, json={"body": body}
        )
        return parse.note(obj(data), self.integration)

    # --- beyond the CRM base set -----------------------------------------------------------

    @operation("conversations:read", endpoints=[f"POST {CONVERSATION_SEARCH}"])
    async def list_conversations(self, contact_id: RecordId, limit: Limit = 5) -> list[Ticket]:
        """List the contact's most recently updated Intercom conversations (last 90 days), newest first."""
        since = int(time.time()) - RECENT_DAYS * 86_400
        search = query.all_of(
            query.equals("contact_ids", contact_id, argument="contact_id"),
            query.newer_than("updated_at", since),
        )
        items = await self._search(CONVERSATION_SEARCH, "conversations", search, MAX_SCANNED)
        found = parse_each(
            items, lambda item: parse.conversation(item, self.integration), what="conversation"
        )
        found.sort(key=lambda t: t.updated_at.timestamp() if t.updated_at else 0.0, reverse=True)
        return found[:limit]

    # --- helpers ---------------------------------------------------------------------------

    async def _search(self, path: str, key: str, where: query.Group, limit: int) -> list[Mapping[str, Any]]:
        """Up to ``limit`` results of a search endpoint; the cursor travels in the body."""

        async def fetch(cursor: str | None) -> tuple[list[Mapping[str, Any]], str | None]:
            pagination: dict[str, Any] = {"per_page": min(limit, PAGE_SIZE)}
            if cursor is not None:
                pagination["starting_after"] = cursor
            body = {"query": where, "pagination": pagination}
            return parse.page(await self.http.json("POST", path, json=body), key)

        # Searches and lists read out to a caller: a cursor loop returns what arrived, flagged truncated.
        return await paginate(fetch, max_items=limit, partial=True)
