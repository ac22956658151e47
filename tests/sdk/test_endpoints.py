"""S1 by construction: declared endpoints, SDK-filled paths, and the guard that re-checks both.

Each test drives the public API (or the guard with a request built the way
httpx builds it) with values a caller could steer a model into sending.
"""

from __future__ import annotations

import json
import unicodedata
from typing import Any, ClassVar
from urllib.parse import unquote

import httpx
import pytest
import respx
from hypothesis import given, settings
from hypothesis import strategies as st

from sdk import (
    ConfigurationError,
    Contact,
    InvalidArgumentsError,
    MemoryAuditSink,
    NexoraConnect,
    Note,
    ScopeDeniedError,
)
from sdk._context import CallContext, _running, current_call
from sdk._endpoints import encode_segment, segment_is_safe
from sdk._http import enforce_request_scope
from sdk._scopes import Grant
from sdk.authoring import CRMConnector, Endpoint, OperationSpec, endpoints, graphql_query_only, operation
from tests.sdk.fakes import TOY_BASE, ToyCRM, contact_json


def _ctx(spec: OperationSpec, grant: Grant, base_path: str = "") -> CallContext:
    return CallContext(
        tenant="acme", integration="crm", connector="toy", operation=spec, grant=grant, base_path=base_path
    )


TRAVERSALS = [
    "..",
    ".",
    "",
    "%2e%2e",
    "%2E%2e",
    ".%2E",
    "%252e%252e",
    "\uff0e\uff0e",
    "\u2024\u2024",
    "..%2f",
    "a/b",
    "%2F",
    "..\\",
    "a\\b",
    "a\x00",
    "a\r\nX: 1",
    " .. ",
    "\u200b",
]


@pytest.mark.parametrize("value", TRAVERSALS, ids=repr)
async def test_a_traversal_value_is_refused_before_any_request(
    nc: NexoraConnect, router: respx.MockRouter, audit: MemoryAuditSink, value: str
) -> None:
    router.route().respond(200, json=contact_json())
    async with nc.conversation(tenant="acme", conversation_id="call-1") as conv:
        with pytest.raises(InvalidArgumentsError) as caught:
            await conv.call("crm", "get_contact", contact_id=value)
    assert router.calls.call_count == 0
    if len(value.strip()) > 2:
        assert value not in str(caught.value)


async def test_a_plain_id_becomes_exactly_one_encoded_segment(
    nc: NexoraConnect, router: respx.MockRouter
) -> None:
    route = router.get(path__regex=r"^/contacts/[^/]+$").respond(json=contact_json())
    async with nc.conversation(tenant="acme", conversation_id="call-1") as conv:
        await conv.call("crm", "get_contact", contact_id="c-1é+:@~")
    assert route.calls.last.request.url.raw_path == b"/contacts/c-1%C3%A9%2B%3A%40~"


class _HandFormattingCRM(ToyCRM):
    """A connector that still formats ids into paths by hand (the pre-guard bug)."""

    name: ClassVar[str] = "handmade"

    @endpoints("GET /customers/{customer_id}/invoices")
    async def get_contact(self, contact_id: str) -> Contact:
        data = await self.http.json("GET", f"/customers/{contact_id}/invoices")
        return Contact(id="x", source=self.integration, name=str(data))


@pytest.mark.parametrize("value", ["..", "%2e%2e", "%2E%2E", ".%2e", "x/../..", "a%2Fb"])
async def test_the_guard_refuses_a_hand_formatted_traversal_that_dispatch_let_through(value: str) -> None:
    """The transport check holds even when a connector bypasses the SDK's path filling."""
    spec = _HandFormattingCRM.operations["get_contact"]
    request = httpx.Request("GET", f"{TOY_BASE}/customers/{value}/invoices")
    ctx = _ctx(spec, Grant.read_only())
    with _running(ctx), pytest.raises(ScopeDeniedError) as caught:
        enforce_request_scope(request)
    assert value not in str(caught.value)


async def test_the_guard_admits_the_declared_path_with_a_plain_value() -> None:
    spec = _HandFormattingCRM.operations["get_contact"]
    ctx = _ctx(spec, Grant.read_only())
    with _running(ctx):
        assert enforce_request_scope(httpx.Request("GET", f"{TOY_BASE}/customers/cus_1/invoices")) is ctx
        # The same path one segment up — the site-wide invoice list — is another endpoint entirely.
        with pytest.raises(ScopeDeniedError):
            enforce_request_scope(httpx.Request("GET", f"{TOY_BASE}/invoices"))


@pytest.mark.parametrize(
    ("headers", "query"),
    [
        ({"X-HTTP-Method-Override": "DELETE"}, ""),
        ({"x-http-method": "PUT"}, ""),
        ({"X-Method-Override": "PATCH"}, ""),
        ({}, "?_method=DELETE"),
        ({}, "?_HttpMethod=PATCH"),
        ({}, "?%5Fmethod=DELETE"),
    ],
)
async def test_method_overrides_are_refused_on_every_request(headers: dict[str, str], query: str) -> None:
    spec = ToyCRM.operations["get_contact"]
    ctx = CallContext(
        tenant="acme",
        integration="crm",
        connector="toy",
        operation=spec,
        grant=Grant.scoped_write("notes:write"),
    )
    request = httpx.Request("GET", f"{TOY_BASE}/contacts/c-1{query}", headers=headers)
    with _running(ctx), pytest.raises(ScopeDeniedError, match="method override"):
        enforce_request_scope(request)


async def test_a_granted_write_can_send_its_own_post_and_nothing_else() -> None:
    spec = ToyCRM.operations["create_note"]
    ctx = CallContext(
        tenant="acme",
        integration="crm",
        connector="toy",
        operation=spec,
        grant=Grant.scoped_write("notes:write"),
    )
    with _running(ctx):
        enforce_request_scope(httpx.Request("POST", f"{TOY_BASE}/notes", json={}))
        for method, path in [
            ("DELETE", "/notes"),
            ("POST", "/contacts/c-1"),
            ("PUT", "/notes"),
            ("GET", "/me"),
        ]:
            with pytest.raises(ScopeDeniedError):
                enforce_request_scope(httpx.Request(method, f"{TOY_BASE}{path}"))


async def test_requests_outside_the_api_root_are_refused() -> None:
    spec = ToyCRM.operations["get_contact"]
    ctx = CallContext(
        tenant="acme",
        integration="crm",
        connector="toy",
        operation=spec,
        grant=Grant.read_only(),
        base_path="/api",
    )
    with _running(ctx):
        enforce_request_scope(httpx.Request("GET", f"{TOY_BASE}/api/contacts/c-1"))
        with pytest.raises(ScopeDeniedError, match="API root"):
            enforce_request_scope(httpx.Request("GET", f"{TOY_BASE}/contacts/c-1"))


def test_the_running_context_cannot_be_widened_by_connector_code() -> None:
    spec = ToyCRM.operations["get_contact"]
    ctx = _ctx(spec, Grant.read_only())
    for name, value in [
        ("grant", Grant.scoped_write("notes:write")),
        ("operation", ToyCRM.operations["create_note"]),
        ("tenant", "other"),
        ("integration", "other"),
        ("base_path", ""),
        ("deadline", None),
    ]:
        with pytest.raises(AttributeError):
            setattr(ctx, name, value)
    ctx.http_status = 200  # the audit counters do change
    assert not hasattr(current_call, "set")
    with pytest.raises(TypeError):
        ToyCRM.operations["get_contact"] = ToyCRM.operations["create_note"]  # type: ignore[index]


def test_a_read_cannot_declare_a_mutating_endpoint() -> None:
    for method in ("PUT", "PATCH", "DELETE"):
        with pytest.raises(ConfigurationError, match="mutates"):

            @operation("contacts:read", endpoints=[f"{method} /contacts/{{id}}"])
            async def bad(self: Any, id: str) -> None: ...


def test_a_graphql_read_over_post_must_declare_its_body_check() -> None:
    with pytest.raises(ConfigurationError, match="GraphQL"):

        @operation("contacts:read", endpoints=["POST /graphql"])
        async def bad(self: Any) -> None: ...

    @operation("contacts:read", endpoints=[Endpoint("POST", "/graphql", body_check=graphql_query_only)])
    async def good(self: Any) -> None: ...


@pytest.mark.parametrize(
    ("query", "allowed"),
    [
        ("query { contact(id: 1) { name } }", True),
        ("{ contact { name } }", True),
        ("query Q($id: ID!) { contact(id: $id) { name } }", True),
        ('query { search(text: "mutation { x }") { id } }', True),
        ("# mutation { x }\nquery { a }", True),
        ("mutation { deleteContact(id: 1) { id } }", False),
        ("subscription { events { id } }", False),
        ("query { a } mutation M { deleteContact(id: 1) { id } }", False),
        ("{ a } }", False),
        ("  \n\tmutation{x}", False),
    ],
)
def test_graphql_body_check_admits_queries_only(query: str, allowed: bool) -> None:
    assert graphql_query_only(json.dumps({"query": query}).encode()) is allowed


def test_graphql_body_check_refuses_what_is_not_one_query_object() -> None:
    for body in (b"", b"[]", b'{"query": 1}', b"not json", json.dumps([{"query": "{a}"}]).encode()):
        assert graphql_query_only(body) is False


class _GraphQLCRM(CRMConnector):
    name: ClassVar[str] = "graphql"
    base_url: ClassVar[str] = TOY_BASE

    @operation("contacts:read", endpoints=[Endpoint("POST", "/graphql", body_check=graphql_query_only)])
    async def find_contacts(self, phone: str | None = None, email: str | None = None) -> list[Contact]:
        query = email or "query { contacts { id } }"
        await self.http.json("POST", "/graphql", json={"query": query})
        return []

    @endpoints("POST /notes")
    async def create_note(self, contact_id: str, body: str) -> Note:
        raise AssertionError("not used")


async def test_a_mutation_smuggled_into_a_graphql_read_never_leaves() -> None:
    spec = _GraphQLCRM.operations["find_contacts"]
    ctx = _ctx(spec, Grant.read_only())
    with _running(ctx):
        enforce_request_scope(httpx.Request("POST", f"{TOY_BASE}/graphql", json={"query": "{ a }"}))
        with pytest.raises(ScopeDeniedError, match="body failed"):
            enforce_request_scope(
                httpx.Request("POST", f"{TOY_BASE}/graphql", json={"query": "mutation { drop }"})
            )


def test_an_override_without_endpoints_declares_nothing() -> None:
    class Undeclared(ToyCRM):
        name: ClassVar[str] = "undeclared"

        async def get_contact(self, contact_id: str) -> Contact:
            return await super().get_contact(contact_id)

    assert Undeclared.operations["get_contact"].endpoints == ()
    assert ToyCRM.operations["get_contact"].endpoints != ()


def test_endpoint_templates_are_checked_when_declared() -> None:
    for bad in [
        "GET contacts",
        "GET /a/{id",
        "GET /a/x{id}",
        "GET /a/../b",
        "GET /a?x=1",
        "FETCH /a",
        "GET /{a}/{a}",
    ]:
        with pytest.raises(ConfigurationError):
            Endpoint.parse(bad)


@settings(max_examples=400, deadline=None)
@given(st.text(max_size=40))
def test_a_filled_segment_is_one_segment_that_decodes_to_the_value(value: str) -> None:
    """Property: either refused, or exactly one segment that httpx keeps as is and decodes back."""
    endpoint = Endpoint.parse("GET /api/customers/{customer_id}/invoices")
    try:
        path = endpoint.fill({"customer_id": value}, operation="list_invoices")
    except InvalidArgumentsError:
        assert not segment_is_safe(value) or len(value) > 1024
        return
    url = httpx.URL(f"https://vendor.test{path}")
    raw = url.raw_path.decode("ascii")
    segments = raw.split("/")
    assert len(segments) == 5
    assert segments[:3] == ["", "api", "customers"]
    assert segments[4] == "invoices"
    assert unquote(segments[3]) == value
    assert endpoint.matches("GET", raw)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("./%2eE\\\uff0e\u2024aF5c")), min_size=1, max_size=12))
def test_no_dot_segment_in_any_encoding_matches_a_placeholder(value: str) -> None:
    """Property over the alphabet of traversal tricks: a segment that decodes to '.'/'..' never matches."""
    endpoint = Endpoint.parse("GET /customers/{customer_id}")
    decoded = value
    for _ in range(4):
        decoded = unquote(decoded)
    folded = unicodedata.normalize("NFKC", decoded).strip()
    if folded in (".", "..") or "/" in folded or "\\" in folded:
        assert not endpoint.matches("GET", f"/customers/{value}")
        with pytest.raises(InvalidArgumentsError):
            encode_segment(value, operation="op", name="customer_id")


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet="abcXYZ019._~-%/\\ \u3000\uff0e2eEfF", min_size=1, max_size=12))
def test_the_plain_segment_shortcut_agrees_with_the_full_check(value: str) -> None:
    """The unreserved-ASCII shortcut must decide exactly as decoding and folding every form does."""
    from sdk._endpoints import _decoded_forms, _unsafe

    try:
        expected = not any(_unsafe(form) for form in _decoded_forms(value))
    except UnicodeDecodeError:
        expected = False
    assert segment_is_safe(value) is expected


def test_every_override_parameter_name_holds_the_word_the_guard_looks_for() -> None:
    """The guard splits a query into names only when it holds "method" or a percent-escape."""
    from sdk._endpoints import METHOD_OVERRIDE_PARAMS

    assert all("method" in name for name in METHOD_OVERRIDE_PARAMS)
