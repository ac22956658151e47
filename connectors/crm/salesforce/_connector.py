"""The Salesforce CRM connector (REST API v60.0; OAuth 2.0 JWT bearer or refresh-token flow).

Rate limits: Salesforce reports ``Sforce-Limit-Info: api-usage=<used>/<limit>`` on every REST
answer, the org's allowance for a rolling 24 hours, not a per-second window; pacing a call cannot
help with it, so ``rate_limit_state`` says nothing (the SDK's default, which finds no standard
headers in Salesforce's answers). An exhausted allowance (``REQUEST_LIMIT_EXCEEDED``) surfaces as
a ``VendorRateLimitError`` without a wait.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Mapping
from datetime import UTC, datetime
from typing import Annotated, ClassVar, TypeVar

import httpx
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from connectors.crm.salesforce import _parse, _query
from connectors.crm.salesforce._query import DATA_PATH
from sdk import (
    Account,
    ConfigurationError,
    Contact,
    InvalidArgumentsError,
    Note,
    VendorAuthError,
    VendorRateLimitError,
)
from sdk.authoring import CRMConnector, endpoints, paginate
from vault import Credential, OAuth2JWTCredential, OAuth2RefreshCredential, TokenEndpoint

__all__ = ["DEFAULT_INSTANCE_HOSTS", "SalesforceConnector", "SalesforceSettings", "token_endpoint"]

TOKEN_PATH = "/services/oauth2/token"  # noqa: S105 - a URL path, not a password

DEFAULT_INSTANCE_HOSTS: tuple[str, ...] = ("*.salesforce.com", "*.force.com")
"""Hosts a token's ``instance_url`` may name unless the integration lists its own.

Every org's API host is below one of these (``MyDomain.my.salesforce.com``,
sandboxes ``MyDomain--name.sandbox.my.salesforce.com``, older instances
``na1.salesforce.com``, Lightning hosts below ``force.com``). Listing the org's
own host in ``settings.instance_hosts`` pins it."""

_HOST_PATTERN = re.compile(
    r"(?:\*\.)?[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+"
)

T = TypeVar("T")

# The requests this connector sends, relative to the instance root. Each operation declares the
# ones it uses (S1); the SDK fills every ``{placeholder}`` with one encoded segment.
QUERY_PATH = f"{DATA_PATH}/query"
QUERY_MORE_PATH = f"{DATA_PATH}/query/{{locator}}"
"""The next batch of a SOQL result: the ``nextRecordsUrl`` Salesforce returns, rebuilt from its locator."""
SEARCH_PATH = f"{DATA_PATH}/search"
CONTACT_PATH = f"{DATA_PATH}/sobjects/Contact/{{contact_id}}"
ACCOUNT_PATH = f"{DATA_PATH}/sobjects/Account/{{account_id}}"
TASK_PATH = f"{DATA_PATH}/sobjects/Task"


def _login_origin(value: str) -> str:
    try:
        url: httpx.URL | None = httpx.URL(value)
    except httpx.InvalidURL:
        url = None
    if url is None or url.scheme != "https" or value.rstrip("/") != f"https://{url.host}" or not url.host:
        raise ValueError(
            "must be an https origin such as https://login.salesforce.com (no path, port or user)"
        )
    return value.rstrip("/")


def _host_patterns(value: tuple[str, ...]) -> tuple[str, ...]:
    for pattern in value:
        if not _HOST_PATTERN.fullmatch(pattern):
            raise ValueError(f"{pattern!r} is not a lower-case host name or '*.' and a domain")
    return value


class SalesforceSettings(BaseModel):
    """Per-integration settings; the defaults suit a production org."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    login_url: Annotated[str, AfterValidator(_login_origin)] = "https://login.salesforce.com"
    """Where tokens are requested: ``https://test.salesforce.com`` for a sandbox, or the org's
    My Domain login URL. API requests go to the ``instance_url`` of each token instead."""
    instance_hosts: Annotated[tuple[str, ...], AfterValidator(_host_patterns)] = ()
    """Hosts (``acme.my.salesforce.com``, or ``*.`` and a domain) a token's ``instance_url`` may
    name; empty means :data:`DEFAULT_INSTANCE_HOSTS`. A non-empty list replaces the defaults."""
    task_status: Annotated[str, Field(min_length=1, max_length=255), AfterValidator(str.strip)] = "Completed"
    """The Task Status value for a finished call, for orgs that renamed the default."""


def _audience(login_url: str) -> str:
    """The JWT ``aud`` Salesforce expects: its production or its sandbox login server.

    A My Domain login URL still takes one of these two (a credential may name
    another ``audience``, e.g. an Experience Cloud site's URL).
    """
    host = httpx.URL(login_url).host
    if host == "test.salesforce.com" or host.endswith(".sandbox.my.salesforce.com"):
        return "https://test.salesforce.com"
    return "https://login.salesforce.com"


def token_endpoint(login_url: str, instance_hosts: tuple[str, ...] = ()) -> TokenEndpoint:
    """Salesforce's OAuth token endpoint on ``login_url``, in Salesforce's dialect.

    The answer's ``instance_url`` is the API host of the org; it must be on
    ``instance_hosts`` (default :data:`DEFAULT_INSTANCE_HOSTS`). Assertions live
    120 seconds: Salesforce refuses an ``exp`` more than three minutes ahead,
    and the margin absorbs clock skew either way. A refused refresh token
    (``invalid_grant``, e.g. "expired access/refresh token") needs the tenant
    to authorise again.
    """
    try:
        origin = _login_origin(login_url)
    except ValueError as exc:
        raise ConfigurationError(f"the Salesforce login URL {exc}") from None
    return TokenEndpoint(
        url=origin + TOKEN_PATH,
        instance_url_field="instance_url",
        instance_hosts=instance_hosts or DEFAULT_INSTANCE_HOSTS,
        assertion_audience=_audience(origin),
        assertion_lifetime=120,
    )


def _id(value: str, sobject: str, argument: str) -> str:
    """Check that ``value`` is an id of ``sobject`` (15 or 18 characters, the object's key prefix).

    Validation only: an id reaches a path through ``path_params``, where the SDK encodes it.
    """
    try:
        return _query.record_id(value, sobject)
    except ValueError as exc:
        raise InvalidArgumentsError(f"{argument} {exc}") from None


class SalesforceConnector(CRMConnector):
    """Salesforce contacts, accounts and call notes (completed call Tasks).

    Credential, either of:

    * ``oauth2_jwt`` (server-to-server, recommended): the connected app's
      consumer key as ``client_id``, the integration user's ``username`` and the
      PEM ``private_key`` whose certificate the app holds. Each access token is
      obtained with a new assertion signed for that request; there is no
      refresh token to keep.
    * ``oauth2_refresh``: ``client_id``, ``client_secret`` and a
      ``refresh_token`` from a one-time authorisation; one Salesforce rotates
      (if the app is set to) is written back to Vault.

    Tokens are requested from ``settings.login_url``; every API request goes to
    the token's checked ``instance_url``. The integration user needs API access
    and read access to Contact and Account, and, for notes, create on Task.
    """

    name: ClassVar[str] = "salesforce"
    display_name: ClassVar[str] = "Salesforce"
    base_url: ClassVar[str] = "{login_url}"
    """Requests are built against the login origin and sent to the token's instance URL."""
    Settings: ClassVar[type[BaseModel]] = SalesforceSettings
    credential_types: ClassVar[tuple[type[Credential], ...]] = (OAuth2JWTCredential, OAuth2RefreshCredential)
    request_id_headers: ClassVar[tuple[str, ...]] = ()
    """Salesforce documents no request id header for the REST API (its custom response header,
    ``Sforce-Limit-Info``, reports API usage), so errors carry the errorCode only."""
    default_headers: ClassVar[Mapping[str, str]] = {"Accept": "application/json"}

    max_contacts: ClassVar[int] = 10
    """Most contacts find_contacts returns: a caller's details should match a handful at most."""
    max_query_pages: ClassVar[int] = 5
    search_limit: ClassVar[int] = 20
    """Contacts a phone search asks for; more than returned, since hits are filtered on E.164."""

    @property
    def _settings(self) -> SalesforceSettings:
        assert isinstance(self.settings, SalesforceSettings)
        return self.settings

    def token_endpoint(self, base_url: str) -> TokenEndpoint:
        return token_endpoint(base_url, self._settings.instance_hosts)

    @endpoints(f"GET {QUERY_PATH}", f"GET {QUERY_MORE_PATH}", f"GET {SEARCH_PATH}")
    async def find_contacts(self, phone: str | None = None, email: str | None = None) -> list[Contact]:
        """Find contacts by email (exact, SOQL) or phone number (however it was typed, SOSL)."""
        if phone is None and email is None:
            raise InvalidArgumentsError("find_contacts needs a phone number, an email address or both")
        caller = self.phone_e164(phone) if phone is not None else None
        found: list[Contact] = []
        if email is not None:
            found += await self._contacts_by_email(email)
        if caller is not None:
            seen = {contact.id for contact in found}
            found += [c for c in await self._contacts_by_phone(caller) if c.id not in seen]
        return found[: self.max_contacts]

    async def _contacts_by_email(self, email: str) -> list[Contact]:
        try:
            soql = _query.contacts_by_email(email, self.max_contacts)
        except ValueError as exc:
            raise InvalidArgumentsError(f"email {exc}") from None

        async def fetch_page(locator: str | None) -> tuple[list[Contact], str | None]:
            if locator is None:
                data = await self._json("GET", QUERY_PATH, params={"q": soql})
            else:
                data = await self._json("GET", QUERY_MORE_PATH, path_params={"locator": locator})
            page = _parse.contacts(
                _parse.rows(data, "records", "contact query result"),
                lambda record: _parse.email_matches(record, email),
                source=self.integration,
                region=self.phone_region,
            )
            return page, _parse.next_records_locator(data)

        # A search for the caller: a locator loop returns the contacts found so far, flagged truncated.
        return await paginate(
            fetch_page, max_items=self.max_contacts, max_pages=self.max_query_pages, partial=True
        )

    async def _contacts_by_phone(self, caller: str) -> list[Contact]:
        sosl = _query.contacts_by_phone(caller, self.search_limit)
        data = await self._json("GET", SEARCH_PATH, params={"q": sosl})
        return _parse.contacts(
            _parse.rows(data, "searchRecords", "contact search result"),
            lambda record: caller in _parse.contact_phones(record, self.phone_region),
            source=self.integration,
            region=self.phone_region,
        )

    @endpoints(f"GET {CONTACT_PATH}")
    async def get_contact(self, contact_id: str) -> Contact:
        _id(contact_id, "Contact", "contact_id")
        data = await self._json(
            "GET",
            CONTACT_PATH,
            path_params={"contact_id": contact_id},
            params={"fields": ",".join(_query.CONTACT_FIELDS)},
        )
        record = _parse.query_records({"records": [data]}, "contact")[0]
        return _parse.contact_from(record, source=self.integration, region=self.phone_region)

    @endpoints(f"GET {ACCOUNT_PATH}")
    async def get_account(self, account_id: str) -> Account:
        _id(account_id, "Account", "account_id")
        data = await self._json(
            "GET",
            ACCOUNT_PATH,
            path_params={"account_id": account_id},
            params={"fields": ",".join(_query.ACCOUNT_FIELDS)},
        )
        record = _parse.query_records({"records": [data]}, "account")[0]
        return _parse.account_from(record, source=self.integration, region=self.phone_region)

    @endpoints(f"POST {TASK_PATH}")
    async def create_note(self, contact_id: str, body: str) -> Note:
        contact_id = _id(contact_id, "Contact", "contact_id")
        now = self.now()
        payload = _parse.task_input(contact_id, body, status=self._settings.task_status, now=now)
        data = await self._json("POST", TASK_PATH, json=payload)
        task_id = _parse.created_id(data, "Task")
        return _parse.task_from(task_id, source=self.integration, contact_id=contact_id, body=body, now=now)

    @endpoints(f"GET {QUERY_PATH}")
    async def verify(self) -> None:
        """One SOQL read of a Contact id: proves the token, API access and Contact read access."""
        await self._json("GET", QUERY_PATH, params={"q": "SELECT Id FROM Contact LIMIT 1"})

    # --- vendor specifics ------------------------------------------------------

    def now(self) -> datetime:
        """The time a call note is written (its ActivityDate); tests override it."""
        return datetime.now(UTC)

    async def _json(self, method: str, path: str, **kwargs: object) -> object:
        return await _rate_limited(self.http.json(method, path, **kwargs))

    def error_code(self, response: httpx.Response) -> str | None:
        return _parse.error_code(response)


async def _rate_limited(call: Awaitable[T]) -> T:
    """Salesforce signals its exhausted daily API allowance as 403 ``REQUEST_LIMIT_EXCEEDED``.

    That is no credential problem: it surfaces as a rate limit (with no useful
    wait, since the allowance is a rolling 24 hours), not as an auth error.
    """
    failure: VendorRateLimitError | None = None
    try:
        return await call
    except VendorAuthError as exc:
        if exc.vendor_code != "REQUEST_LIMIT_EXCEEDED":
            raise
        failure = VendorRateLimitError(
            "the Salesforce org has used up its API request allowance for the last 24 hours",
            method=exc.method,
            path=exc.path,
            status=exc.status,
            request_id=exc.request_id,
            vendor_code=exc.vendor_code,
            retry_after=None,
        )
    raise failure
