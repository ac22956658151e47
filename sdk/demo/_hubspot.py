"""A HubSpot-shaped sandbox: the CRM v3 objects API, as the HubSpot connector uses it.

Served: ``POST /crm/v3/objects/contacts/search`` (a read over POST),
``GET /crm/v3/objects/contacts`` (the connector's ``verify``),
``GET /crm/v3/objects/contacts/{id}`` with ``properties`` and
``associations=companies``, ``GET /crm/v3/objects/companies/{id}`` and
``POST /crm/v3/objects/notes`` (the one write). Objects are
``SimplePublicObject`` shapes; errors are HubSpot's ``Error`` body. Keys are
private-app tokens sent as ``Authorization: Bearer``.
"""

from __future__ import annotations

import itertools
import threading
import uuid
from collections.abc import Mapping, Sequence
from email.message import Message
from typing import Any, ClassVar

import phonenumbers

from sdk.demo._dataset import CALLER, Clock
from sdk.demo._sandbox import JsonResponse, Route, SandboxRequest, SandboxServer

__all__ = ["HubSpotSandbox"]

CONTACT_ID = "1501"
COMPANY_ID = "8801"

_CONTACT_DEFAULTS = ("createdate", "email", "firstname", "hs_object_id", "lastmodifieddate", "lastname")
_COMPANY_DEFAULTS = ("createdate", "domain", "hs_lastmodifieddate", "hs_object_id", "name")
_MAX_SEARCH_LIMIT = 200
_MAX_FILTER_GROUPS = 5


def _phone_properties(raw: str | None, country: str, *, kind: str) -> dict[str, str]:
    """What HubSpot derives from a typed number: the E.164 and the searchable (national) forms."""
    if raw is None:
        return {}
    try:
        parsed = phonenumbers.parse(raw, country)
    except phonenumbers.NumberParseException:
        return {}
    return {
        f"hs_calculated_{kind}_number": phonenumbers.format_number(
            parsed, phonenumbers.PhoneNumberFormat.E164
        ),
        f"hs_searchable_calculated_{kind}_number": phonenumbers.national_significant_number(parsed),
    }


class HubSpotSandbox(SandboxServer):
    """HubSpot CRM holding the demo caller, their company and a look-alike contact."""

    vendor: ClassVar[str] = "hubspot"
    request_id_header: ClassVar[str] = "X-HubSpot-Correlation-Id"

    def __init__(self, clock: Clock | None = None) -> None:
        self._clock = clock or Clock()
        self._data_lock = threading.Lock()
        self._note_ids = itertools.count(4401)
        self.contacts: dict[str, dict[str, Any]] = {}
        self.companies: dict[str, dict[str, Any]] = {}
        self.notes: dict[str, dict[str, Any]] = {}
        self._seed()
        super().__init__()

    # --- data ------------------------------------------------------------------------

    def _object(
        self, object_id: str, properties: dict[str, Any], created: float, updated: float
    ) -> dict[str, Any]:
        return {
            "id": object_id,
            "properties": {"hs_object_id": object_id, **properties},
            "createdAt": self._clock.iso(created, millis=True),
            "updatedAt": self._clock.iso(updated, millis=True),
            "archived": False,
        }

    def _contact(
        self, contact_id: str, *, country: str, phone: str | None, mobile: str | None, **properties: Any
    ) -> dict[str, Any]:
        created, updated = -700.0, -12.0
        props = {
            **properties,
            "phone": phone,
            "mobilephone": mobile,
            "createdate": self._clock.iso(created, millis=True),
            "lastmodifieddate": self._clock.iso(updated, millis=True),
            **_phone_properties(phone, country, kind="phone"),
            **_phone_properties(mobile, country, kind="mobile"),
        }
        return self._object(contact_id, {k: v for k, v in props.items() if v is not None}, created, updated)

    def _seed(self) -> None:
        caller = self._contact(
            CONTACT_ID,
            country="NZ",
            phone=None,
            mobile=CALLER.phone_national,
            firstname=CALLER.first_name,
            lastname=CALLER.last_name,
            email=CALLER.email,
            associatedcompanyid=COMPANY_ID,
            jobtitle="Office manager",
        )
        caller["_companies"] = [COMPANY_ID]
        # Same national digits in Australia: HubSpot's searchable number matches it too, and the
        # connector must drop it.
        lookalike = self._contact(
            "1502",
            country="AU",
            phone="(02) 1555 0100",
            mobile=None,
            firstname="Pat",
            lastname="Other",
            email="pat.other@wattle.example",
        )
        lookalike["_companies"] = []
        self.contacts = {CONTACT_ID: caller, "1502": lookalike}
        company = self._object(
            COMPANY_ID,
            {
                "name": CALLER.company,
                "domain": CALLER.company_domain,
                "phone": CALLER.company_phone,
                "industry": "CONSTRUCTION",
                "city": "Whangarei",
                "country": "New Zealand",
                "createdate": self._clock.iso(-900, millis=True),
                "hs_lastmodifieddate": self._clock.iso(-30, millis=True),
            },
            -900,
            -30,
        )
        self.companies = {COMPANY_ID: company}

    # --- HubSpot's shapes ------------------------------------------------------------

    def presented_key(self, headers: Message) -> str | None:
        auth = headers.get("Authorization") or ""
        scheme, _, token = auth.partition(" ")
        return token.strip() if scheme.lower() == "bearer" and token.strip() else None

    def _error(self, status: int, category: str, message: str) -> JsonResponse:
        return JsonResponse(
            status,
            {"status": "error", "message": message, "correlationId": str(uuid.uuid4()), "category": category},
        )

    def unauthorised(self) -> JsonResponse:
        return self._error(
            401,
            "INVALID_AUTHENTICATION",
            "Authentication credentials not found. This API supports OAuth 2.0 authentication.",
        )

    def not_found(self, path: str) -> JsonResponse:
        return self._error(404, "OBJECT_NOT_FOUND", "resource not found")

    def server_error(self) -> JsonResponse:
        return self._error(500, "INTERNAL_ERROR", "internal error")

    def routes(self) -> list[Route]:
        return [
            Route.of("POST", r"/crm/v3/objects/contacts/search", self._search_contacts),
            Route.of("GET", r"/crm/v3/objects/contacts", self._list_contacts),
            Route.of("GET", r"/crm/v3/objects/contacts/(?P<id>[^/]+)", self._get_contact),
            Route.of("GET", r"/crm/v3/objects/companies/(?P<id>[^/]+)", self._get_company),
            Route.of("POST", r"/crm/v3/objects/notes", self._create_note, write=True),
        ]

    @staticmethod
    def _render(
        obj: Mapping[str, Any],
        requested: Sequence[str],
        defaults: tuple[str, ...],
        associations: Sequence[str] = (),
    ) -> dict[str, Any]:
        """An object as HubSpot returns it: default properties plus the requested ones (null if unset)."""
        props: Mapping[str, Any] = obj["properties"]
        wanted = list(dict.fromkeys([*defaults, *requested]))
        out = {k: v for k, v in obj.items() if not k.startswith("_")}
        out["properties"] = {name: props.get(name) for name in wanted if name in props or name in requested}
        if "companies" in associations and obj.get("_companies"):
            first, *rest = obj["_companies"]
            results = [{"id": first, "type": "contact_to_company"}]
            results += [{"id": first, "type": "contact_to_company_unlabeled"}]
            results += [{"id": other, "type": "contact_to_company_unlabeled"} for other in rest]
            out["associations"] = {"companies": {"results": results}}
        return out

    @staticmethod
    def _requested(request: SandboxRequest, name: str) -> list[str]:
        return [part for value in request.args(name) for part in value.split(",") if part]

    # --- routes ----------------------------------------------------------------------

    def _search_contacts(self, request: SandboxRequest) -> JsonResponse:
        body = request.body if isinstance(request.body, dict) else {}
        groups = body.get("filterGroups") or []
        limit = body.get("limit", 10)
        if not isinstance(groups, list) or len(groups) > _MAX_FILTER_GROUPS:
            return self._error(400, "VALIDATION_ERROR", "too many filterGroups (at most 5)")
        if not isinstance(limit, int) or not 0 < limit <= _MAX_SEARCH_LIMIT:
            return self._error(400, "VALIDATION_ERROR", "limit must be between 1 and 200")
        try:
            offset = int(body.get("after") or 0)
        except (TypeError, ValueError):
            return self._error(400, "VALIDATION_ERROR", "after must be a number")
        requested = [p for p in body.get("properties") or [] if isinstance(p, str)]
        with self._data_lock:
            hits = [c for c in self.contacts.values() if _matches_any(c["properties"], groups)]
        page = hits[offset : offset + limit]
        result: dict[str, Any] = {
            "total": len(hits),
            "results": [self._render(c, requested, _CONTACT_DEFAULTS) for c in page],
        }
        if offset + limit < len(hits):
            after = str(offset + limit)
            result["paging"] = {"next": {"after": after, "link": f"?after={after}"}}
        return JsonResponse(200, result)

    def _list_contacts(self, request: SandboxRequest) -> JsonResponse:
        limit = int(request.arg("limit") or 10)
        with self._data_lock:
            items = list(self.contacts.values())[:limit]
        requested = self._requested(request, "properties")
        return JsonResponse(200, {"results": [self._render(c, requested, _CONTACT_DEFAULTS) for c in items]})

    def _get_contact(self, request: SandboxRequest) -> JsonResponse:
        with self._data_lock:
            contact = self.contacts.get(request.params["id"])
        if contact is None:
            return self.not_found(request.path)
        requested = self._requested(request, "properties")
        associations = self._requested(request, "associations")
        return JsonResponse(200, self._render(contact, requested, _CONTACT_DEFAULTS, associations))

    def _get_company(self, request: SandboxRequest) -> JsonResponse:
        with self._data_lock:
            company = self.companies.get(request.params["id"])
        if company is None:
            return self.not_found(request.path)
        return JsonResponse(
            200, self._render(company, self._requested(request, "properties"), _COMPANY_DEFAULTS)
        )

    def _create_note(self, request: SandboxRequest) -> JsonResponse:
        body = request.body if isinstance(request.body, dict) else {}
        properties = body.get("properties")
        if not isinstance(properties, dict) or not properties.get("hs_timestamp"):
            return self._error(400, "VALIDATION_ERROR", "hs_timestamp is required")
        if not isinstance(body.get("associations", []), list):
            return self._error(400, "VALIDATION_ERROR", "associations must be a list")
        with self._data_lock:
            note_id = str(next(self._note_ids))
            stamp = self._clock.iso(0, millis=True)
            note = self._object(
                note_id,
                {
                    "hs_note_body": properties.get("hs_note_body"),
                    "hs_timestamp": properties["hs_timestamp"],
                    "hs_createdate": stamp,
                    "hs_lastmodifieddate": stamp,
                },
                0,
                0,
            )
            self.notes[note_id] = note
        return JsonResponse(201, note)


def _matches_filter(props: Mapping[str, Any], flt: Any) -> bool:
    if not isinstance(flt, dict):
        return False
    name, operator, value = flt.get("propertyName"), flt.get("operator", "EQ"), flt.get("value")
    stored = props.get(name) if isinstance(name, str) else None
    if operator == "HAS_PROPERTY":
        return stored is not None
    if operator == "NOT_HAS_PROPERTY":
        return stored is None
    if stored is None or value is None:
        return False
    # HubSpot compares string values case-insensitively.
    equal = str(stored).casefold() == str(value).casefold()
    if operator == "EQ":
        return equal
    if operator == "NEQ":
        return not equal
    if operator == "CONTAINS_TOKEN":
        return str(value).casefold() in str(stored).casefold().split()
    return False


def _matches_any(props: Mapping[str, Any], groups: list[Any]) -> bool:
    """Filter groups are OR'ed; the filters within a group are AND'ed."""
    for group in groups:
        filters = group.get("filters") if isinstance(group, dict) else None
        if isinstance(filters, list) and filters and all(_matches_filter(props, f) for f in filters):
            return True
    return False
