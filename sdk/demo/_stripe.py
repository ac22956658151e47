"""A Stripe-shaped sandbox: the REST API (version 2023-08-16), as the Stripe connector uses it.

Served: ``GET /v1/customers/search`` (``field:'value'`` clauses joined with
``OR`` or ``AND``), ``GET /v1/customers`` (``email``, paging), ``GET
/v1/customers/{id}``, ``GET /v1/invoices`` (``customer``, ``status``, paging,
newest first), ``GET /v1/subscriptions`` (``customer``, ``status``) and ``POST
/v1/invoices/{id}/send`` (the one write; ``Idempotency-Key`` replays the first
answer). Keys are secret keys sent as ``Authorization: Bearer`` or as the HTTP
Basic user name. The records it starts with are in :mod:`sdk.demo._stripe_data`;
this module serves them.
"""

from __future__ import annotations

import base64
import binascii
import re
import threading
import uuid
from collections.abc import Callable, Mapping
from email.message import Message
from typing import Any, ClassVar

from sdk.demo._dataset import Clock
from sdk.demo._routes import JsonResponse, Route, SandboxRequest
from sdk.demo._sandbox import SandboxServer
from sdk.demo._stripe_data import seed_customers, seed_invoices, seed_subscriptions

__all__ = ["StripeSandbox"]

_CLAUSE = re.compile(r"\s*([a-z_]+(?:\[[^\]]*\])?)\s*:\s*'((?:[^'\\]|\\.)*)'\s*")
_INVOICE_STATUSES = ("draft", "open", "paid", "uncollectible", "void")
_SUBSCRIPTION_STATUSES = (
    "active",
    "all",
    "canceled",
    "ended",
    "incomplete",
    "incomplete_expired",
    "past_due",
    "paused",
    "trialing",
    "unpaid",
)


class StripeSandbox(SandboxServer):
    """Stripe holding the demo caller as a customer who owes a balance and an overdue invoice."""

    vendor: ClassVar[str] = "stripe"
    request_id_header: ClassVar[str] = "Request-Id"

    def __init__(self, clock: Clock | None = None) -> None:
        self._clock = clock or Clock()
        self._data_lock = threading.Lock()
        self._replays: dict[str, JsonResponse] = {}
        self.customers: dict[str, dict[str, Any]] = seed_customers(self._clock)
        self.invoices: dict[str, dict[str, Any]] = seed_invoices(self._clock)
        self.subscriptions: dict[str, dict[str, Any]] = seed_subscriptions(self._clock)
        self.sent_invoices: list[str] = []
        super().__init__()

    def new_request_id(self) -> str:
        return "req_" + uuid.uuid4().hex[:14]

    # --- Stripe's shapes -------------------------------------------------------------

    def presented_key(self, headers: Message) -> str | None:
        auth = headers.get("Authorization") or ""
        scheme, _, value = auth.partition(" ")
        if scheme.lower() == "bearer":
            return value.strip() or None
        if scheme.lower() == "basic":
            try:
                decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError):
                return None
            return decoded.partition(":")[0] or None
        return None

    @staticmethod
    def _error(
        status: int, message: str, *, code: str | None = None, param: str | None = None
    ) -> JsonResponse:
        error: dict[str, Any] = {"type": "invalid_request_error", "message": message}
        if code is not None:
            error["code"] = code
            error["doc_url"] = f"https://stripe.com/docs/error-codes/{code.replace('_', '-')}"
        if param is not None:
            error["param"] = param
        return JsonResponse(status, {"error": error})

    def unauthorised(self) -> JsonResponse:
        return self._error(401, "Invalid API Key provided.")

    def not_found(self, path: str) -> JsonResponse:
        return self._error(404, f"Unrecognized request URL (GET: {path}).")

    def server_error(self) -> JsonResponse:
        return JsonResponse(500, {"error": {"type": "api_error", "message": "An unknown error occurred"}})

    def routes(self) -> list[Route]:
        return [
            Route.of("GET", r"/v1/customers/search", self._search_customers),
            Route.of("GET", r"/v1/customers", self._list_customers),
            Route.of("GET", r"/v1/customers/(?P<id>[A-Za-z0-9_]+)", self._get_customer),
            Route.of("GET", r"/v1/invoices", self._list_invoices),
            Route.of("POST", r"/v1/invoices/(?P<id>[A-Za-z0-9_]+)/send", self._send_invoice, write=True),
            Route.of("GET", r"/v1/subscriptions", self._list_subscriptions),
        ]

    # --- routes ----------------------------------------------------------------------

    def _limit(self, request: SandboxRequest) -> int | JsonResponse:
        text = request.arg("limit") or "10"
        if not text.isdigit() or not 1 <= int(text) <= 100:
            return self._error(400, "Invalid integer: limit must be between 1 and 100.", param="limit")
        return int(text)

    def _page(self, request: SandboxRequest, url: str, items: list[dict[str, Any]]) -> JsonResponse:
        limit = self._limit(request)
        if isinstance(limit, JsonResponse):
            return limit
        after = request.arg("starting_after")
        if after is not None:
            ids = [item["id"] for item in items]
            if after not in ids:
                return self._error(
                    400, f"No such object: '{after}'", code="resource_missing", param="starting_after"
                )
            items = items[ids.index(after) + 1 :]
        page = items[:limit]
        return JsonResponse(200, {"object": "list", "url": url, "has_more": len(items) > limit, "data": page})

    def _search_customers(self, request: SandboxRequest) -> JsonResponse:
        query = request.arg("query")
        if not query:
            return self._error(400, "Missing required param: query.", code="parameter_missing", param="query")
        limit = self._limit(request)
        if isinstance(limit, JsonResponse):
            return limit
        predicate = _parse_search(query)
        if predicate is None:
            return self._error(
                400, "The search query is not valid.", code="parameter_invalid_string", param="query"
            )
        with self._data_lock:
            hits = [c for c in self.customers.values() if predicate(c)]
        hits.sort(key=lambda c: int(c["created"]), reverse=True)
        page = request.arg("page")
        start = int(page) if page is not None and page.isdigit() else 0
        more = start + limit < len(hits)
        return JsonResponse(
            200,
            {
                "object": "search_result",
                "url": "/v1/customers/search",
                "has_more": more,
                "data": hits[start : start + limit],
                "next_page": str(start + limit) if more else None,
            },
        )

    def _list_customers(self, request: SandboxRequest) -> JsonResponse:
        email = request.arg("email")
        with self._data_lock:
            items = [c for c in self.customers.values() if email is None or c["email"] == email]
        items.sort(key=lambda c: int(c["created"]), reverse=True)
        return self._page(request, "/v1/customers", items)

    def _get_customer(self, request: SandboxRequest) -> JsonResponse:
        with self._data_lock:
            customer = self.customers.get(request.params["id"])
        if customer is None:
            return self._error(
                404, f"No such customer: '{request.params['id']}'", code="resource_missing", param="id"
            )
        return JsonResponse(200, customer)

    def _list_invoices(self, request: SandboxRequest) -> JsonResponse:
        customer, status = request.arg("customer"), request.arg("status")
        if status is not None and status not in _INVOICE_STATUSES:
            return self._error(
                400, "Invalid status: must be one of " + ", ".join(_INVOICE_STATUSES), param="status"
            )
        with self._data_lock:
            items = [
                inv
                for inv in self.invoices.values()
                if (customer is None or inv["customer"] == customer)
                and (status is None or inv["status"] == status)
            ]
        items.sort(key=lambda inv: int(inv["created"]), reverse=True)
        return self._page(request, "/v1/invoices", items)

    def _list_subscriptions(self, request: SandboxRequest) -> JsonResponse:
        customer, status = request.arg("customer"), request.arg("status")
        if status is not None and status not in _SUBSCRIPTION_STATUSES:
            return self._error(400, "Invalid status.", param="status")
        with self._data_lock:
            items = [
                sub
                for sub in self.subscriptions.values()
                if (customer is None or sub["customer"] == customer)
                and (
                    (status is None and sub["status"] != "canceled")
                    or status == "all"
                    or sub["status"] == status
                )
            ]
        items.sort(key=lambda sub: int(sub["created"]), reverse=True)
        return self._page(request, "/v1/subscriptions", items)

    def _send_invoice(self, request: SandboxRequest) -> JsonResponse:
        key = request.headers.get("idempotency-key")
        with self._data_lock:
            if key is not None and key in self._replays:
                replay = self._replays[key]
                return JsonResponse(replay.status, replay.body, {"Idempotent-Replayed": "true"})
            invoice = self.invoices.get(request.params["id"])
            if invoice is None:
                response = self._error(
                    404, f"No such invoice: '{request.params['id']}'", code="resource_missing", param="id"
                )
            elif invoice["status"] != "open":
                response = self._error(
                    400, "You can only send invoices that are open.", code="invoice_not_editable"
                )
            else:
                self.sent_invoices.append(invoice["id"])
                response = JsonResponse(200, dict(invoice))
            if key is not None:
                self._replays[key] = response
        return response


def _parse_search(query: str) -> Callable[[Mapping[str, Any]], bool] | None:
    """Parse ``field:'value'`` clauses joined by ``OR`` or by ``AND`` (Stripe does not mix them)."""
    clauses: list[tuple[str, str]] = []
    joiners: set[str] = set()
    rest = query
    while True:
        found = _CLAUSE.match(rest)
        if found is None:
            return None
        clauses.append((found.group(1), re.sub(r"\\(.)", r"\1", found.group(2))))
        rest = rest[found.end() :]
        if not rest:
            break
        joiner = re.match(r"(OR|AND)\s+", rest)
        if joiner is None:
            return None
        joiners.add(joiner.group(1))
        rest = rest[joiner.end() :]
    if len(joiners) > 1:
        return None
    any_of = joiners != {"AND"}

    def clause_holds(item: Mapping[str, Any], field: str, value: str) -> bool:
        if field.startswith("metadata["):
            stored = item.get("metadata", {}).get(field[9:-1].strip("'\""))
        else:
            stored = item.get(field)
        if stored is None:
            return False
        # Exact match, as Stripe does for email and phone (email case-insensitively).
        return str(stored).casefold() == value.casefold() if field == "email" else str(stored) == value

    def predicate(item: Mapping[str, Any]) -> bool:
        results = (clause_holds(item, field, value) for field, value in clauses)
        return any(results) if any_of else all(results)

    return predicate
