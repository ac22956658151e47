"""The HubSpot CRM connector (CRM v3 objects API; private-app token or OAuth refresh token).

Rate limits: HubSpot sends ``X-HubSpot-RateLimit-Remaining`` with
``X-HubSpot-RateLimit-Interval-Milliseconds`` (the burst window, ten seconds) and
``X-HubSpot-RateLimit-Secondly-Remaining`` (per second) on most CRM responses, not on search.
``rate_limit_state`` reads the tighter of the two, so the SDK holds this tenant's next request
until the window resets instead of earning a 429 (the burst window has no reset time, so its
whole interval is assumed). ``X-HubSpot-RateLimit-Daily-Remaining`` is not paced: the daily
allowance resets at midnight in the account's time zone, and a 429 for it fails without a wait.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, ClassVar

import httpx

from connectors.crm.hubspot import _parse
from sdk import Account, Contact, InvalidArgumentsError, Note
from sdk.authoring import CRMConnector, endpoints, paginate
from sdk.parsing import parse_each
from vault import ApiKeyCredential, Credential, OAuth2RefreshCredential, TokenEndpoint

__all__ = ["HubSpotConnector"]

TOKEN_PATH = "/oauth/v1/token"  # noqa: S105 - a URL path, not a password
"""HubSpot's token endpoint (v1; HubSpot deprecates it on 16 February 2027 in favour of
``/oauth/v3/token``, which takes the same form fields; a tenant can store ``token_url`` to move early)."""

# The requests this connector sends, relative to the API host. Each operation declares the ones it
# uses (S1); the SDK fills every ``{placeholder}`` with one encoded segment and sends nothing else.
SEARCH_PATH = "/crm/v3/objects/contacts/search"
CONTACTS_PATH = "/crm/v3/objects/contacts"
CONTACT_PATH = "/crm/v3/objects/contacts/{contact_id}"
COMPANY_PATH = "/crm/v3/objects/companies/{account_id}"
NOTES_PATH = "/crm/v3/objects/notes"


def _numeric_id(value: str, argument: str) -> str:
    """Check that ``value`` is a HubSpot record id (decimal digits); anything else would only earn a 400.

    Validation only: the value reaches a path through ``path_params``, where the SDK encodes it
    (and refuses ``..`` and separators on its own), or a note's association in the JSON body.
    """
    if not value.isascii() or not value.isdigit():
        raise InvalidArgumentsError(f"{argument} must be a HubSpot record id (digits only)")
    return value


def token_endpoint(base_url: str) -> TokenEndpoint:
    """HubSpot's OAuth token endpoint on the API host ``base_url``, in HubSpot's dialect.

    HubSpot takes ``client_id`` and ``client_secret`` in the form body, and says
    ``{"status": "BAD_REFRESH_TOKEN", ...}`` (not RFC 6749's ``invalid_grant``)
    when a refresh token is missing, revoked or unknown.
    """
    return TokenEndpoint(
        url=base_url.rstrip("/") + TOKEN_PATH,
        auth_method="client_secret_post",
        error_fields=("error", "status"),
        reauthorize_codes=frozenset({"invalid_grant", "BAD_REFRESH_TOKEN"}),
    )


class HubSpotConnector(CRMConnector):
    """HubSpot contacts, companies and notes.

    Credential, either of:

    * a private-app access token stored as an ``api_key`` secret, sent as
      ``Authorization: Bearer``;
    * a public app's OAuth refresh token, stored as an ``oauth2_refresh`` secret
      (``client_id``, ``client_secret``, ``refresh_token``). Access tokens (30
      minutes) are obtained from ``POST /oauth/v1/token`` on the API host and held
      in memory only; a new refresh token HubSpot returns is written back to Vault.

    The app needs the scopes ``crm.objects.contacts.read``,
    ``crm.objects.companies.read`` and, for notes, ``crm.objects.contacts.write``.
    """

    name: ClassVar[str] = "hubspot"
    display_name: ClassVar[str] = "HubSpot"
    base_url: ClassVar[str] = "https://api.hubapi.com"
    request_id_headers: ClassVar[tuple[str, ...]] = ("x-hubspot-correlation-id",)
    default_headers: ClassVar[Mapping[str, str]] = {"Accept": "application/json"}
    credential_types: ClassVar[tuple[type[Credential], ...]] = (ApiKeyCredential, OAuth2RefreshCredential)

    search_page_size: ClassVar[int] = 10
    """Contacts asked for per search page."""
    max_contacts: ClassVar[int] = 10
    """Most contacts find_contacts returns: a caller's details should match a handful at most."""
    max_search_pages: ClassVar[int] = 3

    def token_endpoint(self, base_url: str) -> TokenEndpoint:
        return token_endpoint(base_url)

    @endpoints(f"POST {SEARCH_PATH}")
    async def find_contacts(self, phone: str | None = None, email: str | None = None) -> list[Contact]:
        """Find contacts by email (exact) or phone number (however it was typed in HubSpot)."""
        if phone is None and email is None:
            raise InvalidArgumentsError("find_contacts needs a phone number, an email address or both")
        caller = _parse.caller_phone(phone, self.phone_region) if phone is not None else None
        if caller is None and email is None:
            return []  # not a phone number in any format: nothing can match it
        seen: set[str] = set()

        async def fetch_page(after: str | None) -> tuple[list[Contact], str | None]:
            body = _parse.search_body(email=email, phone=caller, after=after, limit=self.search_page_size)
            data = await self.http.json("POST", SEARCH_PATH, json=body)

            def read(item: Mapping[str, Any]) -> Contact | None:
                hit = _parse.record(item, "contact search result")
                if str(hit["id"]) in seen or not _parse.contact_matches(
                    hit, email=email, phone=caller, region=self.phone_region
                ):
                    return None
                contact = _parse.contact_from(hit, source=self.integration, region=self.phone_region)
                seen.add(contact.id)
                return contact

            hits = _parse.results(data, "contact search result")
            page = [contact for contact in parse_each(hits, read, what="contact") if contact is not None]
            return page, _parse.search_cursor(data)

        # A search for the caller: a cursor loop returns the contacts found so far, flagged truncated.
        return await paginate(
            fetch_page, max_items=self.max_contacts, max_pages=self.max_search_pages, partial=True
        )

    @endpoints(f"GET {CONTACT_PATH}")
    async def get_contact(self, contact_id: str) -> Contact:
        _numeric_id(contact_id, "contact_id")
        params = [("properties", name) for name in _parse.CONTACT_PROPERTIES]
        params.append(("associations", "companies"))
        data = await self.http.json(
            "GET", CONTACT_PATH, path_params={"contact_id": contact_id}, params=params
        )
        obj = _parse.record(data, "contact")
        return _parse.contact_from(obj, source=self.integration, region=self.phone_region)

    @endpoints(f"GET {COMPANY_PATH}")
    async def get_account(self, account_id: str) -> Account:
        _numeric_id(account_id, "account_id")
        params = [("properties", name) for name in _parse.ACCOUNT_PROPERTIES]
        data = await self.http.json(
            "GET", COMPANY_PATH, path_params={"account_id": account_id}, params=params
        )
        obj = _parse.record(data, "company")
        return _parse.account_from(obj, source=self.integration, region=self.phone_region)

    @endpoints(f"POST {NOTES_PATH}")
    async def create_note(self, contact_id: str, body: str) -> Note:
        contact_id = _numeric_id(contact_id, "contact_id")
        payload = _parse.note_input(contact_id, body, now=self.now())
        data = await self.http.json("POST", NOTES_PATH, json=payload)
        obj = _parse.record(data, "note")
        return _parse.note_from(obj, source=self.integration, contact_id=contact_id, body=body)

    @endpoints(f"GET {CONTACTS_PATH}")
    async def verify(self) -> None:
        """One page of one contact: proves the token and the contacts read scope."""
        await self.http.request("GET", CONTACTS_PATH, params={"limit": 1})

    # --- vendor specifics ------------------------------------------------------

    def now(self) -> datetime:
        """The note timestamp (``hs_timestamp``); tests override it."""
        return datetime.now(UTC)

    def request_id(self, response: httpx.Response) -> str | None:
        """``X-HubSpot-Correlation-Id``, else the ``correlationId`` of the error body."""
        return super().request_id(response) or _parse.correlation_id(response)

    def error_code(self, response: httpx.Response) -> str | None:
        return _parse.error_code(response)

    def retry_after(self, response: httpx.Response) -> float | None:
        return _parse.rate_limit_wait(response)

    def rate_limit_state(self, response: httpx.Response) -> CRMConnector.RateLimitState | None:
        """The tighter of the burst window (``-Remaining`` in ``-Interval-Milliseconds``) and the second."""
        headers = response.headers
        states: list[CRMConnector.RateLimitState] = []
        burst = self.rate_limit_count(headers.get("x-hubspot-ratelimit-remaining"))
        interval_ms = self.rate_limit_seconds(headers.get("x-hubspot-ratelimit-interval-milliseconds"))
        if burst is not None:
            states.append(self.RateLimitState(burst, None if interval_ms is None else interval_ms / 1000.0))
        secondly = self.rate_limit_count(headers.get("x-hubspot-ratelimit-secondly-remaining"))
        if secondly is not None:
            states.append(self.RateLimitState(secondly, 1.0))
        return min(states, key=lambda state: state.remaining, default=None)
