"""The contract helper accepts what the vendors' documents allow and rejects what they do not."""

from __future__ import annotations

import copy
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx
import yaml
from werkzeug.datastructures import ImmutableMultiDict

from sdk.testing._contract_glue import _deep_object_loads, build_openapi
from tests.contracts.openapi_contract import (
    SPEC_NAMES,
    ContractRecorder,
    VendorSpec,
    _SpecLoader,
    assert_calls_valid,
    assert_request_valid,
    assert_response_valid,
    find_operation,
    request_errors,
    response_errors,
)

HUBSPOT = "https://api.hubapi.com"
ZENDESK = "https://acme.zendesk.com"
STRIPE = "https://api.stripe.com"

BEARER = {"Authorization": "Bearer pat-na1-00000000-0000-4000-8000-000000000000"}
ZENDESK_BASIC = {"Authorization": "Basic YWdlbnRAZXhhbXBsZS5jb20vdG9rZW46YWJj"}  # agent@example.com/token:abc
STRIPE_BEARER = {"Authorization": "Bearer sk_test_123"}
STRIPE_BASIC = {"Authorization": "Basic c2tfdGVzdF8xMjM6"}  # sk_test_123:

# The README's note: HubSpot's PublicObjectSearchRequest requires `sorts` and `after` as well.
CONTACT_SEARCH = {
    "filterGroups": [{"filters": [{"propertyName": "phone", "operator": "EQ", "value": "+15551234567"}]}],
    "properties": ["email", "firstname", "phone"],
    "limit": 5,
    "sorts": [],
    "after": "0",
}
NOTE_CREATE = {
    "properties": {"hs_timestamp": "2024-05-01T12:00:00Z", "hs_note_body": "Caller asked about invoice."},
    "associations": [
        {"to": {"id": "512"}, "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 202}]}
    ],
}


def spec(name: str) -> VendorSpec:
    return VendorSpec.load(name)


def post_json(url: str, body: Any, headers: dict[str, str] | None = None) -> httpx.Request:
    return httpx.Request("POST", url, json=body, headers=headers if headers is not None else BEARER)


def hubspot_search_page(contacts: VendorSpec) -> dict[str, Any]:
    """A search response built from the document's own SimplePublicObject example."""
    contact = contacts.document["components"]["schemas"]["SimplePublicObject"]["example"]
    return {"total": 1, "results": [copy.deepcopy(contact)]}


# --- Loading ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", SPEC_NAMES)
def test_every_named_spec_loads_and_is_cached(name: str) -> None:
    started = time.perf_counter()
    loaded = spec(name)
    elapsed = time.perf_counter() - started

    assert loaded.operations, "a document without operations cannot validate anything"
    assert spec(name) is loaded
    assert elapsed < 30, f"{name} took {elapsed:.1f}s to load"


def test_unknown_spec_name_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="unknown vendor spec 'salesforce'"):
        VendorSpec.load("salesforce")


def test_missing_vendor_specs_skip_with_the_location_and_the_variable(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("NEXORA_VENDOR_SPECS", str(tmp_path))

    with pytest.raises(
        pytest.skip.Exception, match=r"vendor specs not found at .*; set NEXORA_VENDOR_SPECS"
    ) as skipped:
        VendorSpec.load("hubspot-contacts")
    assert str(tmp_path) in str(skipped.value)

    monkeypatch.setenv("NEXORA_VENDOR_SPECS", str(tmp_path / "absent"))
    with pytest.raises(
        pytest.skip.Exception, match=r"vendor specs not found at .*absent; set NEXORA_VENDOR_SPECS"
    ):
        VendorSpec.load("zendesk")

    # Redistributable copies are bundled with the tests and never skip.
    assert VendorSpec.load("stripe").path.is_relative_to(Path(__file__).parents[1] / "fixtures" / "specs")


def test_yaml_loader_reads_bare_equals_sign_as_text() -> None:
    document = "change: =\nother: [=, '=']\n"

    with pytest.raises(yaml.constructor.ConstructorError, match=r"tag:yaml\.org,2002:value"):
        yaml.load(document, Loader=yaml.SafeLoader)
    assert yaml.load(document, Loader=_SpecLoader) == {"change": "=", "other": ["=", "="]}  # noqa: S506


# --- HubSpot ---------------------------------------------------------------------------------------


def test_hubspot_contact_search_with_sorts_and_after_is_valid() -> None:
    contacts = spec("hubspot-contacts")
    request = post_json(f"{HUBSPOT}/crm/v3/objects/contacts/search", CONTACT_SEARCH)

    assert_request_valid(contacts, request)
    assert (
        find_operation(contacts, "POST", str(request.url)) == "post-/crm/v3/objects/contacts/search_doSearch"
    )


def test_hubspot_contact_search_without_sorts_and_with_a_string_limit_fails() -> None:
    body = {key: value for key, value in CONTACT_SEARCH.items() if key not in ("sorts", "after")}
    body["limit"] = "5"
    request = post_json(f"{HUBSPOT}/crm/v3/objects/contacts/search", body)

    with pytest.raises(AssertionError) as failure:
        assert_request_valid(spec("hubspot-contacts"), request)

    message = str(failure.value)
    assert "post-/crm/v3/objects/contacts/search_doSearch" in message
    assert "request body: 'sorts' is a required property" in message
    assert "request body: 'after' is a required property" in message
    assert "request body $.limit: '5' is not of type 'integer'" in message


@pytest.mark.parametrize(
    ("headers", "params"),
    [
        pytest.param({}, {}, id="no-credentials"),
        pytest.param({"private-app": "pat-na1-x"}, {}, id="private-app-header-only"),
        pytest.param({}, {"hapikey": "legacy"}, id="hapikey-only"),
        pytest.param({"Authorization": "Bearer "}, {}, id="empty-bearer"),
    ],
)
def test_hubspot_reads_demand_a_bearer_token(headers: dict[str, str], params: dict[str, str]) -> None:
    request = httpx.Request("GET", f"{HUBSPOT}/crm/v3/objects/contacts/512", headers=headers, params=params)

    with pytest.raises(
        AssertionError, match=r"security: no credential satisfies any requirement \[\['oauth2'\]\]"
    ):
        assert_request_valid(spec("hubspot-contacts"), request)


def test_hubspot_get_contact_by_email_with_repeated_properties_is_valid() -> None:
    request = httpx.Request(
        "GET",
        f"{HUBSPOT}/crm/v3/objects/contacts/jane%40example.com",
        params=[("idProperty", "email"), ("properties", "email"), ("properties", "phone")],
        headers=BEARER,
    )

    assert_request_valid(spec("hubspot-contacts"), request)


def test_hubspot_search_response_validates_and_a_wrong_type_on_a_required_field_fails() -> None:
    contacts = spec("hubspot-contacts")
    request = post_json(f"{HUBSPOT}/crm/v3/objects/contacts/search", CONTACT_SEARCH)
    page = hubspot_search_page(contacts)

    assert_response_valid(contacts, request, httpx.Response(200, json=page))

    page["results"][0]["id"] = 512
    with pytest.raises(
        AssertionError, match=r"response body \$\.results\[0\]\.id: 512 is not of type 'string'"
    ):
        assert_response_valid(contacts, request, httpx.Response(200, json=page))


def test_hubspot_error_responses_follow_the_error_schema() -> None:
    contacts = spec("hubspot-contacts")
    request = post_json(f"{HUBSPOT}/crm/v3/objects/contacts/search", CONTACT_SEARCH)
    error = contacts.response_examples("post-/crm/v3/objects/contacts/search_doSearch", "default")["schema"]

    assert_response_valid(contacts, request, httpx.Response(401, json=error))

    with pytest.raises(AssertionError, match=r"\$\.correlationId: 'c0ffee' is not a 'uuid'"):
        assert_response_valid(
            contacts, request, httpx.Response(401, json={**error, "correlationId": "c0ffee"})
        )
    with pytest.raises(AssertionError, match="Missing response data"):
        assert_response_valid(contacts, request, httpx.Response(429, headers={"Retry-After": "1"}))


def test_hubspot_note_with_associations_is_valid_and_without_them_fails() -> None:
    notes = spec("hubspot-notes")

    assert_request_valid(notes, post_json(f"{HUBSPOT}/crm/v3/objects/notes", NOTE_CREATE))

    without = {"properties": NOTE_CREATE["properties"]}
    with pytest.raises(AssertionError, match="request body: 'associations' is a required property"):
        assert_request_valid(notes, post_json(f"{HUBSPOT}/crm/v3/objects/notes", without))
    wrong_id = copy.deepcopy(NOTE_CREATE)
    wrong_id["associations"][0]["to"]["id"] = 512
    with pytest.raises(AssertionError, match=r"\$\.associations\[0\]\.to\.id: 512 is not of type 'string'"):
        assert_request_valid(notes, post_json(f"{HUBSPOT}/crm/v3/objects/notes", wrong_id))


def test_hubspot_note_created_response_uses_the_documented_example() -> None:
    notes = spec("hubspot-notes")
    request = post_json(f"{HUBSPOT}/crm/v3/objects/notes", NOTE_CREATE)
    created = notes.response_examples("post-/crm/v3/objects/notes_create", 201)["schema"]

    assert_response_valid(notes, request, httpx.Response(201, json=created))
    with pytest.raises(AssertionError, match=r"\$\.archived: 'no' is not of type 'boolean'"):
        assert_response_valid(notes, request, httpx.Response(201, json={**created, "archived": "no"}))


# --- Zendesk ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "params", "operation_id"),
    [
        ("/api/v2/users/search", {"query": "phone:+15551234567"}, "SearchUsers"),
        (
            "/api/v2/search",
            {"query": "type:ticket requester:jane@example.com status<solved"},
            "ListSearchResults",
        ),
        ("/api/v2/tickets/123", {}, "ShowTicket"),
        ("/api/v2/users/5/identities", {"type[]": ["email", "phone_number"]}, "ListUserIdentities"),
    ],
)
def test_zendesk_reads_are_valid(path: str, params: dict[str, Any], operation_id: str) -> None:
    zendesk = spec("zendesk")
    request = httpx.Request("GET", f"{ZENDESK}{path}", params=params, headers=ZENDESK_BASIC)

    assert_request_valid(zendesk, request)
    assert find_operation(zendesk, "GET", str(request.url)) == operation_id


def test_zendesk_internal_note_on_a_ticket_is_valid() -> None:
    body = {"ticket": {"comment": {"body": "Caller confirmed the address.", "public": False}}}
    request = httpx.Request("PUT", f"{ZENDESK}/api/v2/tickets/123", json=body, headers=ZENDESK_BASIC)

    assert_request_valid(spec("zendesk"), request)


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "expected"),
    [
        pytest.param(
            "PUT",
            "/api/v2/tickets/123",
            {"json": {"ticket": "oops"}},
            r"request body \$\.ticket: 'oops' is not of type 'object'",
            id="ticket-not-an-object",
        ),
        pytest.param(
            "PUT",
            "/api/v2/tickets/abc",
            {"json": {"ticket": {}}},
            r"path parameter 'ticket_id': 'abc' is not of type 'integer'",
            id="non-numeric-ticket-id",
        ),
        pytest.param(
            "GET", "/api/v2/search", {}, "Missing required query parameter: query", id="search-without-query"
        ),
        pytest.param(
            "GET",
            "/api/v2/users/5/identities",
            {"params": {"type[]": "fax"}},
            r"query parameter 'type\[\]': 'fax' is not one of",
            id="unknown-identity-type",
        ),
        pytest.param(
            "GET",
            "/api/v2/tickets",
            {"params": {"requester": "5"}},
            "query parameter 'requester' is not declared by the operation",
            id="undeclared-filter",
        ),
        pytest.param(
            "GET",
            "/api/v2/tickets.json",
            {},
            "no operation in zendesk",
            id="json-suffix-is-not-in-the-document",
        ),
    ],
)
def test_zendesk_invalid_requests_fail(method: str, path: str, kwargs: dict[str, Any], expected: str) -> None:
    request = httpx.Request(method, f"{ZENDESK}{path}", headers=ZENDESK_BASIC, **kwargs)

    with pytest.raises(AssertionError, match=expected):
        assert_request_valid(spec("zendesk"), request)


def test_zendesk_wants_basic_auth_not_bearer() -> None:
    request = httpx.Request("GET", f"{ZENDESK}/api/v2/tickets/123", headers=BEARER)

    with pytest.raises(AssertionError, match=r"no credential satisfies any requirement \[\['basicAuth'\]\]"):
        assert_request_valid(spec("zendesk"), request)


def test_zendesk_matches_on_path_whatever_the_host() -> None:
    zendesk = spec("zendesk")
    for base in (ZENDESK, "https://other.zendesk.com", "http://127.0.0.1:4030"):
        assert find_operation(zendesk, "GET", f"{base}/api/v2/tickets/123?include=users") == "ShowTicket"
    assert find_operation(zendesk, "get", "/api/v2/tickets/123") == "ShowTicket"


@pytest.mark.parametrize(
    ("operation_id", "method", "path", "mutate", "expected"),
    [
        (
            "SearchUsers",
            "GET",
            "/api/v2/users/search?query=jane",
            lambda body: body["users"][0].update(name=42),
            r"\$\.users\[0\]: matches no anyOf branch \[\$\.users\[0\]\.name: 42 is not of type 'string'",
        ),
        (
            "ListSearchResults",
            "GET",
            "/api/v2/search?query=type:ticket",
            lambda body: body.update(count="many"),
            r"\$\.count: 'many' is not of type 'integer'",
        ),
        (
            "UpdateTicket",
            "PUT",
            "/api/v2/tickets/123",
            lambda body: body["ticket"].update(requester_id="me"),
            r"\$\.ticket\.requester_id: 'me' is not of type 'integer'",
        ),
    ],
)
def test_zendesk_documented_examples_validate_and_mutations_fail(
    operation_id: str, method: str, path: str, mutate: Any, expected: str
) -> None:
    zendesk = spec("zendesk")
    request = httpx.Request(method, f"{ZENDESK}{path}", headers=ZENDESK_BASIC)
    example = zendesk.response_examples(operation_id)["default"]

    assert_response_valid(zendesk, request, httpx.Response(200, json=example))

    broken = copy.deepcopy(example)
    mutate(broken)
    with pytest.raises(AssertionError, match=expected):
        assert_response_valid(zendesk, request, httpx.Response(200, json=broken))


def test_zendesk_undeclared_status_fails_unless_allowed() -> None:
    zendesk = spec("zendesk")
    request = httpx.Request("GET", f"{ZENDESK}/api/v2/tickets/123", headers=ZENDESK_BASIC)
    throttled = httpx.Response(429, headers={"Retry-After": "0"}, json={"error": "TooManyRequests"})

    with pytest.raises(
        AssertionError, match=r"status 429 is not declared for this operation \(declared: 200\)"
    ):
        assert_response_valid(zendesk, request, throttled)
    assert_response_valid(zendesk, request, throttled, allow_undeclared_status=True)


# --- Stripe ----------------------------------------------------------------------------------------

STRIPE_SUBSET_PATHS = {
    "/v1/customers",
    "/v1/customers/search",
    "/v1/customers/{customer}",
    "/v1/customers/{customer}/balance_transactions",
    "/v1/invoices",
    "/v1/invoices/{invoice}",
    "/v1/invoices/upcoming",
    "/v1/subscriptions",
    "/v1/subscriptions/{subscription_exposed_id}",
}


def test_stripe_subset_has_exactly_the_nine_voice_agent_paths() -> None:
    assert set(spec("stripe").document["paths"]) == STRIPE_SUBSET_PATHS


@pytest.mark.parametrize("headers", [STRIPE_BEARER, STRIPE_BASIC], ids=["bearer", "basic"])
@pytest.mark.parametrize(
    ("path", "params", "operation_id"),
    [
        ("/v1/customers/search", {"query": "phone:'+15551234567'"}, "GetCustomersSearch"),
        ("/v1/invoices", {"customer": "cus_123", "status": "open"}, "GetInvoices"),
        (
            "/v1/invoices",
            {
                "customer": "cus_123",
                "expand[]": ["data.subscription"],
                "created[gte]": "1690000000",
                "limit": "3",
            },
            "GetInvoices",
        ),
        ("/v1/customers", {"email": "jane@example.com", "created": "1690000000"}, "GetCustomers"),
        ("/v1/invoices/upcoming", {"customer": "cus_123"}, "GetInvoicesUpcoming"),
    ],
)
def test_stripe_reads_are_valid(
    headers: dict[str, str], path: str, params: dict[str, Any], operation_id: str
) -> None:
    stripe = spec("stripe")
    request = httpx.Request("GET", f"{STRIPE}{path}", params=params, headers=headers)

    assert_request_valid(stripe, request)
    assert find_operation(stripe, "GET", str(request.url)) == operation_id


@pytest.mark.parametrize(
    ("path", "params", "expected"),
    [
        (
            "/v1/invoices",
            {"customer": "cus_123", "status": "bogus"},
            r"query parameter 'status': 'bogus' is not one of \['draft', 'open', 'paid', 'uncollectible',",
        ),
        ("/v1/customers/search", {}, "Missing required query parameter: query"),
        ("/v1/invoices", {"limit": "ten"}, r"query parameter 'limit': 'ten' is not of type 'integer'"),
        ("/v1/invoices", {"created[gte]": "yesterday"}, r"\$\.gte: 'yesterday' is not of type 'integer'"),
        (
            "/v1/customers",
            {"email[is]": "jane@example.com"},
            r"query parameter 'email\[is\]' is not declared",
        ),
    ],
)
def test_stripe_invalid_reads_fail(path: str, params: dict[str, Any], expected: str) -> None:
    request = httpx.Request("GET", f"{STRIPE}{path}", params=params, headers=STRIPE_BEARER)

    with pytest.raises(AssertionError, match=expected):
        assert_request_valid(spec("stripe"), request)


def test_stripe_form_encoded_update_with_brackets_is_valid() -> None:
    form = {
        "metadata[voice_agent]": "nexora",
        "metadata[call_id]": "call_1",
        "expand[]": "invoice_settings.default_payment_method",
        "invoice_settings[custom_fields][0][name]": "PO",
        "invoice_settings[custom_fields][0][value]": "1234",
        "balance": "-500",
    }
    request = httpx.Request("POST", f"{STRIPE}/v1/customers/cus_123", data=form, headers=STRIPE_BEARER)

    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert_request_valid(spec("stripe"), request)
    assert find_operation(spec("stripe"), "POST", str(request.url)) == "PostCustomersCustomer"


def test_stripe_form_encoded_update_with_bad_fields_fails() -> None:
    form = {"balance": "lots", "nickname": "Jane"}
    request = httpx.Request("POST", f"{STRIPE}/v1/customers/cus_123", data=form, headers=STRIPE_BEARER)

    with pytest.raises(AssertionError) as failure:
        assert_request_valid(spec("stripe"), request)

    assert "request body $.balance: 'lots' is not of type 'integer'" in str(failure.value)
    assert "request body field 'nickname' is not in the form schema" in str(failure.value)


def test_stripe_send_invoice_is_not_in_the_subset_but_is_in_the_full_spec() -> None:
    request = httpx.Request(
        "POST", f"{STRIPE}/v1/invoices/in_123/send", data={"expand[]": "customer"}, headers=STRIPE_BEARER
    )

    with pytest.raises(AssertionError, match="no operation in stripe"):
        find_operation(spec("stripe"), "POST", str(request.url))

    full = spec("stripe-full")
    assert find_operation(full, "POST", str(request.url)) == "PostInvoicesInvoiceSend"
    assert_request_valid(full, request)
    assert_response_valid(
        full, request, httpx.Response(200, json=full.minimal_response_body("PostInvoicesInvoiceSend"))
    )


def test_stripe_responses_without_examples_use_a_minimal_body() -> None:
    stripe = spec("stripe")
    request = httpx.Request("GET", f"{STRIPE}/v1/customers/search?query=email:'a@b.c'", headers=STRIPE_BEARER)
    assert stripe.response_examples("GetCustomersSearch") == {}  # Stripe's document has none
    page = stripe.minimal_response_body("GetCustomersSearch")
    page["data"] = [stripe.minimal_response_body("GetCustomersCustomer") | {"id": "cus_123", "balance": -500}]

    assert_response_valid(stripe, request, httpx.Response(200, json=page))

    page["data"][0]["created"] = "yesterday"
    with pytest.raises(AssertionError, match=r"\$\.data\[0\]\.created: 'yesterday' is not of type 'integer'"):
        assert_response_valid(stripe, request, httpx.Response(200, json=page))


# --- Chargebee (OpenAPI 3.1, server base path /api/v1) ---------------------------------------------


def test_chargebee_matches_with_and_without_the_server_base_path() -> None:
    chargebee = spec("chargebee")
    basic = {"Authorization": "Basic dGVzdF9rZXk6"}

    for url in ("https://acme.chargebee.com/api/v1/customers", "http://127.0.0.1:4070/customers"):
        request = httpx.Request("GET", url, params={"limit": "10"}, headers=basic)
        assert find_operation(chargebee, "GET", url) == "list_customers"
        assert_request_valid(chargebee, request)

    with pytest.raises(AssertionError, match="no operation in chargebee"):
        find_operation(chargebee, "GET", "https://acme.chargebee.com/api/v2/customers")
    email_filter = httpx.Request(
        "GET", "https://acme.chargebee.com/api/v1/customers?email[is]=a@b.c", headers=basic
    )
    with pytest.raises(AssertionError, match=r"query parameter 'email\[is\]' is not declared"):
        assert_request_valid(chargebee, email_filter)


# --- The README tables: every listed operation is found, and its documented examples validate -----

README_OPERATIONS = [
    (
        "hubspot-contacts",
        "POST",
        "/crm/v3/objects/contacts/search",
        "post-/crm/v3/objects/contacts/search_doSearch",
    ),
    (
        "hubspot-contacts",
        "GET",
        "/crm/v3/objects/contacts/512",
        "get-/crm/v3/objects/contacts/{contactId}_getById",
    ),
    ("hubspot-contacts", "GET", "/crm/v3/objects/contacts", "get-/crm/v3/objects/contacts_getPage"),
    ("hubspot-contacts", "POST", "/crm/v3/objects/contacts", "post-/crm/v3/objects/contacts_create"),
    (
        "hubspot-contacts",
        "PATCH",
        "/crm/v3/objects/contacts/512",
        "patch-/crm/v3/objects/contacts/{contactId}_update",
    ),
    (
        "hubspot-companies",
        "GET",
        "/crm/v3/objects/companies/9",
        "get-/crm/v3/objects/companies/{companyId}_getById",
    ),
    (
        "hubspot-companies",
        "POST",
        "/crm/v3/objects/companies/search",
        "post-/crm/v3/objects/companies/search_doSearch",
    ),
    ("hubspot-notes", "POST", "/crm/v3/objects/notes", "post-/crm/v3/objects/notes_create"),
    ("hubspot-calls", "POST", "/crm/v3/objects/calls", "post-/crm/v3/objects/calls_create"),
    (
        "hubspot-tickets",
        "POST",
        "/crm/v3/objects/tickets/search",
        "post-/crm/v3/objects/tickets/search_doSearch",
    ),
    ("hubspot-tickets", "GET", "/crm/v3/objects/tickets/7", "get-/crm/v3/objects/tickets/{ticketId}_getById"),
    ("hubspot-tickets", "POST", "/crm/v3/objects/tickets", "post-/crm/v3/objects/tickets_create"),
    (
        "hubspot-tickets",
        "PATCH",
        "/crm/v3/objects/tickets/7",
        "patch-/crm/v3/objects/tickets/{ticketId}_update",
    ),
    ("stripe", "GET", "/v1/customers", "GetCustomers"),
    ("stripe", "GET", "/v1/customers/search", "GetCustomersSearch"),
    ("stripe", "GET", "/v1/customers/cus_1", "GetCustomersCustomer"),
    ("stripe", "POST", "/v1/customers/cus_1", "PostCustomersCustomer"),
    ("stripe", "GET", "/v1/customers/cus_1/balance_transactions", "GetCustomersCustomerBalanceTransactions"),
    ("stripe", "GET", "/v1/invoices", "GetInvoices"),
    ("stripe", "GET", "/v1/invoices/in_1", "GetInvoicesInvoice"),
    ("stripe", "GET", "/v1/invoices/upcoming", "GetInvoicesUpcoming"),
    ("stripe", "GET", "/v1/subscriptions", "GetSubscriptions"),
    ("stripe", "GET", "/v1/subscriptions/sub_1", "GetSubscriptionsSubscriptionExposedId"),
    ("zendesk", "GET", "/api/v2/users/search", "SearchUsers"),
    ("zendesk", "GET", "/api/v2/users/5", "ShowUser"),
    ("zendesk", "GET", "/api/v2/organizations/6", "ShowOrganization"),
    ("zendesk", "GET", "/api/v2/users/5/identities", "ListUserIdentities"),
    ("zendesk", "GET", "/api/v2/search", "ListSearchResults"),
    ("zendesk", "GET", "/api/v2/tickets", "ListTickets"),
    ("zendesk", "GET", "/api/v2/tickets/123", "ShowTicket"),
    ("zendesk", "GET", "/api/v2/tickets/123/comments", "ListTicketComments"),
    ("zendesk", "PUT", "/api/v2/tickets/123", "UpdateTicket"),
    ("zendesk", "POST", "/api/v2/tickets", "CreateTicket"),
    ("jira-service-management", "GET", "/rest/servicedeskapi/servicedesk/1/customer", "getCustomers"),
    ("jira-service-management", "POST", "/rest/servicedeskapi/customer", "createCustomer"),
    ("jira-service-management", "GET", "/rest/servicedeskapi/request", "getCustomerRequests"),
    ("jira-service-management", "GET", "/rest/servicedeskapi/request/SD-1", "getCustomerRequestByIdOrKey"),
    ("jira-service-management", "POST", "/rest/servicedeskapi/request/SD-1/comment", "createRequestComment"),
    ("jira-service-management", "POST", "/rest/servicedeskapi/request", "createCustomerRequest"),
    ("jira-service-management", "GET", "/rest/servicedeskapi/servicedesk/1/requesttype", "getRequestTypes"),
    ("intercom", "POST", "/contacts/search", "SearchContacts"),
    ("intercom", "GET", "/contacts/abc", "ShowContact"),
    ("intercom", "GET", "/companies/abc", "RetrieveACompanyById"),
    ("intercom", "POST", "/tickets/search", "searchTickets"),
    ("intercom", "GET", "/tickets/123", "getTicket"),
    ("intercom", "POST", "/tickets/123/reply", "replyTicket"),
    ("intercom", "POST", "/tickets", "createTicket"),
    ("intercom", "POST", "/contacts/abc/notes", "createNote"),
    ("intercom", "POST", "/conversations/search", "searchConversations"),
    ("intercom", "POST", "/conversations/123/reply", "replyConversation"),
    ("chargebee", "GET", "/api/v1/customers", "list_customers"),
    ("chargebee", "GET", "/api/v1/customers/cust_1", "retrieve_a_customer"),
    ("chargebee", "GET", "/api/v1/invoices", "list_invoices"),
    ("chargebee", "GET", "/api/v1/customers/cust_1/invoices", "list_invoices_for_a_customer"),
    ("chargebee", "GET", "/api/v1/invoices/inv_1", "retrieve_an_invoice"),
    ("chargebee", "GET", "/api/v1/customers/cust_1/subscriptions", "list_subscriptions_for_a_customer"),
    ("chargebee", "GET", "/api/v1/subscriptions/sub_1", "retrieve_a_subscription"),
    ("chargebee", "POST", "/api/v1/comments", "create_a_comment"),
    ("chargebee", "GET", "/api/v1/customers/cust_1/transactions", "list_transactions_for_a_customer"),
]

# Intercom's own examples contradict its schemas (checked 2.14 @ 8889625a): null for the
# non-nullable `ai_agent` / `assigned_to` objects, and numbers for ids typed as strings.
VENDOR_EXAMPLE_DEFECTS = {
    (
        "intercom",
        "searchConversations",
        "response",
    ): "example has ai_agent: null, schema is a non-nullable object",
    ("intercom", "replyConversation", "response"): "examples have assigned_to: null, schema is non-nullable",
    ("intercom", "createTicket", "request"): "example ticket_type_id is a number, schema says string",
    ("intercom", "createNote", "request"): "example admin_id is a number, schema says string",
    (
        "intercom",
        "replyTicket",
        "request",
    ): "admin reply examples have a numeric admin_id, schema says string",
    (
        "intercom",
        "replyConversation",
        "request",
    ): "admin reply examples have a numeric admin_id; contact quick reply matches no oneOf branch",
}


def readme_cases(kind: str) -> list[Any]:
    cases = []
    for name, method, path, operation_id in README_OPERATIONS:
        reason = VENDOR_EXAMPLE_DEFECTS.get((name, operation_id, kind))
        marks = [pytest.mark.xfail(reason=reason, strict=True, raises=AssertionError)] if reason else []
        cases.append(pytest.param(name, method, path, operation_id, marks=marks, id=f"{name}:{operation_id}"))
    return cases


@pytest.mark.parametrize(("name", "method", "path", "operation_id"), readme_cases("lookup"))
def test_readme_operation_is_found(name: str, method: str, path: str, operation_id: str) -> None:
    assert find_operation(spec(name), method, f"https://vendor.example{path}") == operation_id


@pytest.mark.parametrize(("name", "method", "path", "operation_id"), readme_cases("response"))
def test_readme_operation_success_examples_validate(
    name: str, method: str, path: str, operation_id: str
) -> None:
    vendor = spec(name)
    request = httpx.Request(method, f"https://vendor.example{path}")
    responses = vendor.document["paths"][vendor.operations[operation_id][1]][method.lower()]["responses"]
    status = next(code for code in responses if code.startswith("2"))
    bodies = vendor.response_examples(operation_id, status) or {
        "minimal": vendor.minimal_response_body(operation_id, status)
    }

    for example_name, body in bodies.items():
        errors = response_errors(vendor, request, httpx.Response(int(status), json=body))
        assert not errors, f"{example_name}: {errors}"


@pytest.mark.parametrize(
    ("name", "method", "path", "operation_id"),
    [case for case in readme_cases("request") if case.values[1] in ("POST", "PUT", "PATCH")],
)
def test_readme_operation_request_examples_validate(
    name: str, method: str, path: str, operation_id: str
) -> None:
    vendor = spec(name)
    bodies = vendor.request_examples(operation_id) or {"minimal": vendor.minimal_request_body(operation_id)}

    for example_name, body in bodies.items():
        form = name in ("chargebee", "stripe")  # application/x-www-form-urlencoded APIs
        request = httpx.Request(
            method,
            f"https://vendor.example{path}",
            headers={"Authorization": "Basic dTpw" if name in ("zendesk", "chargebee") else "Bearer t"},
            **({"data": body} if form else {"json": body}),
        )
        errors = request_errors(vendor, request)
        assert not errors, f"{example_name}: {errors}"


# --- respx: whole routers at once -----------------------------------------------------------------


def test_assert_calls_valid_checks_a_router_across_several_documents() -> None:
    contacts, notes = spec("hubspot-contacts"), spec("hubspot-notes")
    created = notes.response_examples("post-/crm/v3/objects/notes_create", 201)["schema"]

    with respx.mock(assert_all_called=True) as router:
        router.post(f"{HUBSPOT}/crm/v3/objects/contacts/search").respond(
            200, json=hubspot_search_page(contacts)
        )
        router.post(f"{HUBSPOT}/crm/v3/objects/notes").respond(201, json=created)
        with httpx.Client(base_url=HUBSPOT, headers=BEARER) as client:
            client.post("/crm/v3/objects/contacts/search", json=CONTACT_SEARCH)
            client.post("/crm/v3/objects/notes", json=NOTE_CREATE)

        # Inside the block: respx clears router.calls when the mock context exits.
        assert assert_calls_valid([contacts, notes], router) == [
            "post-/crm/v3/objects/contacts/search_doSearch",
            "post-/crm/v3/objects/notes_create",
        ]

    with pytest.raises(AssertionError, match="no calls to check"):
        assert_calls_valid(contacts, router)


def test_assert_calls_valid_reports_every_broken_call() -> None:
    contacts = spec("hubspot-contacts")
    with respx.mock(assert_all_called=True) as router:
        router.post(f"{HUBSPOT}/crm/v3/objects/contacts/search").respond(200, json={"results": []})
        router.get(f"{HUBSPOT}/crm/v3/objects/deals/1").respond(200, json={})
        with httpx.Client(base_url=HUBSPOT) as client:
            client.post("/crm/v3/objects/contacts/search", json={"limit": 5})
            client.get("/crm/v3/objects/deals/1")

        with pytest.raises(AssertionError) as failure:
            assert_calls_valid(contacts, router.calls)

    message = str(failure.value)
    assert "call 1: POST /crm/v3/objects/contacts/search (hubspot-contacts post-" in message
    assert "request: security: no credential satisfies" in message
    assert "response 200: response body: 'total' is a required property" in message
    assert "call 2: GET /crm/v3/objects/deals/1: no operation in hubspot-contacts" in message


async def test_contract_recorder_counts_operations_and_skips_missing_responses(
    respx_mock: respx.MockRouter,
) -> None:
    stripe = spec("stripe")
    customer = stripe.minimal_response_body("GetCustomersCustomer") | {"id": "cus_123"}
    respx_mock.get(f"{STRIPE}/v1/customers/cus_123").respond(200, json=customer)
    respx_mock.get(f"{STRIPE}/v1/invoices").mock(side_effect=httpx.ConnectTimeout("timed out"))
    recorder = ContractRecorder(stripe)

    async with httpx.AsyncClient(base_url=STRIPE, headers=STRIPE_BEARER) as client:
        await client.get("/v1/customers/cus_123")
        with pytest.raises(httpx.ConnectTimeout):
            await client.get("/v1/invoices", params={"customer": "cus_123", "status": "open"})

    assert recorder.check(respx_mock) == ["GetCustomersCustomer", "GetInvoices"]
    recorder.assert_exercised("GetCustomersCustomer", "GetInvoices")
    with pytest.raises(AssertionError, match="operations never called: GetSubscriptions"):
        recorder.assert_exercised("GetSubscriptions")


# --- openapi-core adjustments, on a small document ------------------------------------------------

TOY_DOCUMENT: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {"title": "toy", "version": "1"},
    "servers": [{"url": "https://{tenant}.toy.example/api/v1", "variables": {"tenant": {"default": "t"}}}],
    "components": {"securitySchemes": {"oauth": {"type": "oauth2", "flows": {}}}},
    "security": [{"oauth": []}],
    "paths": {
        "/things": {
            "get": {
                "operationId": "listThings",
                "parameters": [
                    {"name": "old", "in": "query", "deprecated": True, "schema": {"type": "string"}},
                    {"name": "filter", "in": "query", "style": "deepObject", "explode": True,
                     "schema": {"type": "object", "properties": {"size": {"type": "integer"}}}},
                ],
                "responses": {"200": {"description": "ok"}},
            }
        }
    },
}  # fmt: skip


def toy() -> VendorSpec:
    return VendorSpec(
        name="toy", path=Path("toy.json"), document=TOY_DOCUMENT, openapi=build_openapi(TOY_DOCUMENT)
    )


def test_deprecated_parameter_is_reported_instead_of_raising_a_warning() -> None:
    request = httpx.Request("GET", "https://t.toy.example/api/v1/things?old=1", headers=BEARER)

    assert request_errors(toy(), request) == ["openapi-core warning: old parameter is deprecated"]


def test_oauth2_is_checked_as_bearer_and_base_path_is_optional() -> None:
    for url in ("https://t.toy.example/api/v1/things", "http://localhost:8080/things"):
        assert request_errors(toy(), httpx.Request("GET", url, headers=BEARER)) == []
    basic = httpx.Request("GET", "http://localhost:8080/things", headers={"Authorization": "Basic dTpw"})
    assert request_errors(toy(), basic)[0].startswith("security:")
    with pytest.raises(AssertionError, match="no operation in toy"):
        find_operation(toy(), "GET", "https://t.toy.example/api/v2/things")


def test_deep_object_query_is_cast_and_validated() -> None:
    good = httpx.Request("GET", "http://localhost/things?filter[size]=3", headers=BEARER)
    bad = httpx.Request("GET", "http://localhost/things?filter[size]=big", headers=BEARER)

    assert request_errors(toy(), good) == []
    assert request_errors(toy(), bad) == ["query parameter 'filter' $.size: 'big' is not of type 'integer'"]


@pytest.mark.parametrize(
    ("pairs", "expected"),
    [
        ([("m[a]", "1"), ("m[b][c]", "2")], {"a": "1", "b": {"c": "2"}}),
        ([("m[]", "x"), ("m[]", "y")], ["x", "y"]),
        ([("m[1]", "y"), ("m[0]", "x")], ["x", "y"]),
        ([("m[0][price]", "p"), ("m[0][quantity]", "2")], [{"price": "p", "quantity": "2"}]),
        ([("m", "")], ""),
        ([("m", "1690000000")], "1690000000"),
        ([("mm[a]", "1"), ("m[a]", "2")], {"a": "2"}),
    ],
)
def test_deep_object_brackets_parse_like_stripe_writes_them(
    pairs: list[tuple[str, str]], expected: Any
) -> None:
    assert _deep_object_loads(True, "m", "", ImmutableMultiDict(pairs)) == expected


@pytest.mark.parametrize(
    "pairs",
    [[("m[a", "1")], [("m[a]", "1"), ("m[a][b]", "2")], [("m[a]", "1"), ("m[a]", "2")], [("m[][a]", "1")]],
)
def test_deep_object_rejects_ambiguous_brackets(pairs: list[tuple[str, str]]) -> None:
    with pytest.raises(ValueError, match=r"\S"):
        _deep_object_loads(True, "m", "", ImmutableMultiDict(pairs))


def test_absent_deep_object_is_missing_not_invalid() -> None:
    with pytest.raises(KeyError):
        _deep_object_loads(True, "m", "object", ImmutableMultiDict([("other", "1")]))
