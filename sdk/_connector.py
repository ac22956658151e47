"""The base every connector subclasses.

A connector is a vendor's base URL, the credential types it accepts, a few
override points (below) and its operations. Class creation collects the
operations into ``cls.operations``; the template methods around them
(dispatch, scope enforcement, retries, audit, caching) are the SDK's, not the
connector's.

Override points, each only when the vendor needs it:

* ``authenticate(request, credential)``: when the vendor does not take
  ``Authorization: Bearer <api key>`` or HTTP Basic.
* ``request_id(response)``: when the vendor's request id header is not one of
  ``request_id_headers``.
* ``error_code(response)``: to surface the vendor's machine-readable error
  code (never its message, which can quote customer data).
* ``retry_after(response)``: when the vendor signals back-off in a header
  other than ``Retry-After``.
* ``rate_limit_state(response)``: when the vendor's rate-limit headers are not
  the IETF ``RateLimit`` fields or ``X-RateLimit-Remaining``/``-Reset``. The
  SDK paces the tenant's integration by it: once the vendor says the window is
  used up, the next request waits for the reset, or fails at once with
  ``VendorRateLimitError`` (unsent) when the reset comes after the deadline.
* ``token_endpoint(base_url)``: the vendor's OAuth token endpoint, when the
  connector accepts OAuth credentials.
* ``resolve_base_url(settings)`` (classmethod): when the host is not ``base_url`` filled with
  DNS-label settings (a data-hosting region picking the API host, an OAuth gateway).
* ``verify()``: a cheap read that proves a credential works.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType
from typing import Any, ClassVar, TypeAlias, TypeVar

import httpx
import phonenumbers
from pydantic import BaseModel, ConfigDict

from sdk._auth import CredentialSource, VaultCredentialAuth
from sdk._errors import InvalidArgumentsError
from sdk._http import (
    RateLimitState,
    VendorHttp,
    parse_count,
    parse_reset,
    parse_seconds,
    standard_rate_limit_state,
)
from sdk._operations import OperationDeclaration, OperationSpec, build_spec, declaration_of
from sdk._retry import RetryPolicy, parse_retry_after
from sdk._scopes import Scope
from vault._credentials import ApiKeyCredential, BasicCredential, Credential
from vault._token_endpoint import TokenEndpoint

__all__ = ["Category", "Connector", "NoSettings", "normalise_phone"]

_Settings = TypeVar("_Settings", bound=BaseModel)


class Category(StrEnum):
    CRM = "crm"
    TICKETING = "ticketing"
    BILLING = "billing"


class NoSettings(BaseModel):
    """Settings of a connector that needs none."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def normalise_phone(number: str, default_region: str) -> str | None:
    """Return ``number`` in E.164 form, or None if it is not a possible phone number.

    Uses libphonenumber (the ``phonenumbers`` package): national formats are read
    in the tenant's default region (``NZ`` unless configured).
    """
    try:
        parsed = phonenumbers.parse(number, default_region.upper())
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


_VERIFY_DECLARATION = OperationDeclaration(Scope.parse("credentials:read"), (), False)


class Connector:
    """Base of all connectors; subclass a category base (CRMConnector, ...) instead."""

    name: ClassVar[str]
    """Registry name, e.g. ``hubspot``."""
    display_name: ClassVar[str] = ""
    category: ClassVar[Category]
    base_url: ClassVar[str]
    """Vendor API root; ``{setting}`` placeholders are filled from the integration's settings."""
    credential_types: ClassVar[tuple[type[Credential], ...]] = (ApiKeyCredential,)
    Settings: ClassVar[type[BaseModel]] = NoSettings
    request_id_headers: ClassVar[tuple[str, ...]] = ("x-request-id",)
    idempotency_header: ClassVar[str | None] = None
    """Header the vendor deduplicates writes by. A write sent with ``idempotency_key=`` carries it
    and may be retried (with the same key); any other write is sent once."""
    auto_idempotency: ClassVar[bool] = False
    """Give every non-GET request a fresh key (Stripe honours one on every POST). Leave False when
    the vendor honours the header only on some endpoints, and pass ``idempotency_key=`` there."""
    retry_policy: ClassVar[RetryPolicy] = RetryPolicy()
    max_response_bytes: ClassVar[int] = 4 * 1024 * 1024
    default_headers: ClassVar[Mapping[str, str]] = {}
    lookup_by: ClassVar[frozenset[str]] = frozenset({"phone", "email"})
    """What ``customer_context`` can find the caller by; asked by anything else, it is ``unsupported``."""
    operations: ClassVar[Mapping[str, OperationSpec]] = MappingProxyType({})
    RateLimitState: TypeAlias = RateLimitState
    """What ``rate_limit_state`` returns, named here so a connector's override can build and
    annotate it (``-> CRMConnector.RateLimitState | None``) without reaching into the SDK's
    private modules."""
    verify_spec: ClassVar[OperationSpec]
    """The read-only operation ``verify()`` runs under; ``@endpoints`` on ``verify`` declares its requests."""

    # Category bases set this so their stub operations count as "not implemented".
    _sdk_base: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._sdk_base = bool(cls.__dict__.get("_sdk_base", False))
        declared: dict[str, Any] = {}
        contract: dict[str, Any] = {}
        for klass in reversed(cls.__mro__):
            for attr_name, value in vars(klass).items():
                found = declaration_of(value)
                if found is None:
                    continue
                inherited = declared.get(attr_name)
                if inherited is not None and inherited.scope != found.scope:
                    raise TypeError(
                        f"{cls.__qualname__}.{attr_name} declares scope {found.scope}, but the standard "
                        f"operation it overrides needs {inherited.scope}"
                    )
                declared[attr_name] = found
                # The first declaration fixes the arguments and result: an override implements the
                # standard contract, it cannot loosen its validation (or its tool schema).
                contract.setdefault(attr_name, value)
        specs: dict[str, OperationSpec] = {}
        for op_name, declaration in declared.items():
            owner = next(k for k in cls.__mro__ if op_name in vars(k))
            implemented = not getattr(owner, "_sdk_base", False) and owner is not Connector
            specs[op_name] = build_spec(
                op_name,
                contract[op_name],
                declaration,
                implemented=implemented,
                implementation=vars(owner)[op_name],
            )
        # Read-only from here on: the HTTP guard trusts these declarations, so connector code must
        # not be able to widen an operation's endpoints at run time.
        cls.operations = MappingProxyType(specs)
        cls.verify_spec = build_spec(
            "verify",
            Connector.verify,
            _VERIFY_DECLARATION,
            implemented=True,
            implementation=cls.verify,
        )

    def __init__(
        self,
        *,
        client: httpx.AsyncClient,
        credentials: CredentialSource,
        settings: BaseModel,
        tenant: str,
        integration: str,
        base_url: str,
        phone_region: str = "NZ",
    ) -> None:
        self.settings = settings
        self.tenant = tenant
        self.integration = integration
        self.phone_region = phone_region
        auth = VaultCredentialAuth(
            source=credentials,
            tenant=tenant,
            integration=integration,
            accepted_types=self.credential_types,
            apply=self.authenticate,
            token_endpoint=self.token_endpoint(base_url),
        )
        self.http = VendorHttp(
            client=client,
            base_url=base_url,
            auth=auth,
            hooks=self,
            retry_policy=self.retry_policy,
            idempotency_header=self.idempotency_header,
            auto_idempotency=self.auto_idempotency,
            max_response_bytes=self.max_response_bytes,
            default_headers=self.default_headers,
        )

    @classmethod
    def implemented_operations(cls) -> dict[str, OperationSpec]:
        return {name: spec for name, spec in cls.operations.items() if spec.implemented}

    @classmethod
    def resolve_base_url(cls, settings: BaseModel) -> str:
        return cls.base_url.format(**settings.model_dump())

    # --- override points -----------------------------------------------------

    def authenticate(self, request: httpx.Request, credential: Credential) -> None:
        """Put the credential on the request. Override for vendor-specific schemes."""
        if isinstance(credential, ApiKeyCredential):
            request.headers["Authorization"] = "Bearer " + credential.api_key.get_secret_value()
        elif isinstance(credential, BasicCredential):
            request.headers["Authorization"] = self.basic_authorization(
                credential.username, credential.password.get_secret_value()
            )
        else:
            raise NotImplementedError(
                f"{type(self).__name__} must override authenticate() for {credential.type}"
            )

    @staticmethod
    def basic_authorization(username: str, password: str) -> str:
        """The ``Authorization`` value for HTTP Basic (RFC 7617), for ``authenticate`` overrides.

        For vendors that want something other than the stored user name and password in Basic
        (Chargebee: the API key and an empty password; Zendesk: ``{email}/token``), so that no
        connector hand-builds the header.
        """
        raw = f"{username}:{password}".encode()
        return "Basic " + base64.b64encode(raw).decode("ascii")

    def token_endpoint(self, base_url: str) -> TokenEndpoint | None:
        """Return the vendor's OAuth token endpoint. Override when the connector accepts OAuth credentials.

        A ``token_url`` stored with the credential in Vault overrides it.
        """
        return None

    def request_id(self, response: httpx.Response) -> str | None:
        """Return the vendor's id for this request, for support tickets and logs."""
        for header in self.request_id_headers:
            value: str | None = response.headers.get(header)
            if value:
                return value
        return None

    def error_code(self, response: httpx.Response) -> str | None:
        """Return the vendor's machine-readable error code from an error response, if any."""
        return None

    def retry_after(self, response: httpx.Response) -> float | None:
        """Return how long the vendor asked us to wait after a 429."""
        return parse_retry_after(response.headers.get("retry-after"))

    def rate_limit_state(self, response: httpx.Response) -> RateLimitState | None:
        """What the response says about the vendor's rate limit; None when it says nothing.

        Read from every response, 429s included. The default reads the IETF ``RateLimit`` field
        (draft 07 and 08+ syntax), else ``RateLimit-Remaining``/``RateLimit-Reset``, else
        ``X-RateLimit-Remaining``/``X-RateLimit-Reset`` (reset as seconds, a Unix time or an
        ISO 8601 time). Override it for another dialect, with the ``rate_limit_*`` helpers
        below; return None for a limit that pacing within a call cannot help (a daily quota).
        """
        return standard_rate_limit_state(response.headers)

    rate_limit_count = staticmethod(parse_count)
    """For ``rate_limit_state`` overrides: a header's request count (plain digits), else None."""
    rate_limit_seconds = staticmethod(parse_seconds)
    """For ``rate_limit_state`` overrides: a non-negative number of seconds, else None."""
    rate_limit_reset = staticmethod(parse_reset)
    """For ``rate_limit_state`` overrides: seconds until a reset given as seconds, Unix or ISO time."""

    async def verify(self) -> None:
        """Prove the current credential works with one cheap read; raise a VendorError if not.

        Declare the request it sends with ``@endpoints("GET /me")``: like an
        operation, ``verify`` may send nothing it does not declare.
        """
        raise NotImplementedError(f"{type(self).__name__} does not implement verify()")

    # --- helpers for connector code ------------------------------------------

    def phone_e164(self, number: str | None) -> str | None:
        """Normalise a phone number in the tenant's default region (None if unparseable)."""
        return None if number is None else normalise_phone(number, self.phone_region)

    def caller_e164(self, phone: str) -> str:
        """The caller's number in E.164, or an InvalidArgumentsError the model can act on.

        For an operation that searches by the caller's number: one that cannot be read is refused
        rather than searched as written (a near miss is somebody else's record). The message says
        how to pass the number, never the number given.
        """
        e164 = self.phone_e164(phone)
        if e164 is None:
            raise InvalidArgumentsError(
                f"phone: not a phone number that can be read in the tenant's default region "
                f"({self.phone_region}); pass it in international form, such as +64 21 555 0100"
            )
        return e164

    def settings_as(self, model: type[_Settings]) -> _Settings:
        """The integration's settings as the connector's own ``Settings`` class, typed.

        The runtime validates settings with ``Settings`` when the configuration loads; settings
        given another way (a plain model in a test) are validated here, so connector code can
        rely on its own fields.
        """
        if isinstance(self.settings, model):
            return self.settings
        return model.model_validate(self.settings.model_dump())

    def __repr__(self) -> str:
        return f"<{type(self).__name__} tenant={self.tenant!r} integration={self.integration!r}>"
