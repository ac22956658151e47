"""A Zendesk-shaped sandbox: the Support API v2, as the Zendesk connector uses it.

Served: ``GET /api/v2/users/search`` (``phone:*<digits>`` and ``email:`` terms),
``GET /api/v2/search`` (``type:ticket requester:<id|email>`` with ``status<solved``
style conditions, sorted), ``GET /api/v2/tickets/{id}``,
``GET /api/v2/tickets/{id}/comments`` (cursor pages, ``sort``), ``PUT
/api/v2/tickets/{id}`` (adds a comment), ``POST /api/v2/tickets`` and
``GET /api/v2/users/me``. Keys are API tokens sent over HTTP Basic as
``{agent email}/token:{token}``. The records it starts with, and their shapes,
are in :mod:`sdk.demo._zendesk_data`; this module serves them.
"""

from __future__ import annotations

import base64
import binascii
import itertools
import threading
from collections.abc import Mapping
from email.message import Message
from typing import Any, ClassVar

from sdk.demo._dataset import Clock
from sdk.demo._routes import JsonResponse, Route, SandboxRequest
from sdk.demo._sandbox import SandboxServer
from sdk.demo._zendesk_data import (
    AGENT_ID,
    make_comment,
    make_ticket,
    seed_comments,
    seed_tickets,
    seed_users,
)

__all__ = ["ZendeskSandbox"]

_STATUS_ORDER = ("new", "open", "pending", "hold", "solved", "closed")
_MAX_PAGE = 100


def _digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


class ZendeskSandbox(SandboxServer):
    """Zendesk Support holding the demo caller's three tickets (two of them open)."""

    vendor: ClassVar[str] = "zendesk"
    request_id_header: ClassVar[str] = "X-Zendesk-Request-Id"

    def __init__(
        self, clock: Clock | None = None, *, agent_email: str = "voice-agent@demo-isp.example"
    ) -> None:
        self._clock = clock or Clock()
        self.agent_email = agent_email
        self._data_lock = threading.Lock()
        self._ticket_ids = itertools.count(4200)
        self._event_ids = itertools.count(77000)
        self.users: dict[int, dict[str, Any]] = seed_users(self._clock, agent_email)
        self.tickets: dict[int, dict[str, Any]] = seed_tickets(self._clock)
        self.comments: dict[int, list[dict[str, Any]]] = seed_comments(self._clock, self._event_ids)
        super().__init__()

    # --- Zendesk's shapes ------------------------------------------------------------

    def presented_key(self, headers: Message) -> str | None:
        auth = headers.get("Authorization") or ""
        scheme, _, encoded = auth.partition(" ")
        if scheme.lower() != "basic":
            return None
        try:
            decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
        username, _, token = decoded.partition(":")
        # API-token access only: the user name must be an agent's email followed by "/token".
        if not username.endswith("/token") or not token:
            return None
        return token

    def unauthorised(self) -> JsonResponse:
        return JsonResponse(401, {"error": "Couldn't authenticate you"})

    def not_found(self, path: str) -> JsonResponse:
        return JsonResponse(404, {"error": "RecordNotFound", "description": "Not found"})

    def server_error(self) -> JsonResponse:
        return JsonResponse(500, {"error": "InternalError", "description": "Something went wrong"})

    def _invalid(self, detail: str) -> JsonResponse:
        return JsonResponse(
            422,
            {
                "error": "RecordInvalid",
                "description": "Record validation errors",
                "details": {"base": [detail]},
            },
        )

    def routes(self) -> list[Route]:
        return [
            Route.of("GET", r"/api/v2/users/me", self._me),
            Route.of("GET", r"/api/v2/users/search", self._search_users),
            Route.of("GET", r"/api/v2/search", self._search),
            Route.of("GET", r"/api/v2/tickets/(?P<id>[0-9]+)", self._show_ticket),
            Route.of("PUT", r"/api/v2/tickets/(?P<id>[0-9]+)", self._update_ticket, write=True),
            Route.of("GET", r"/api/v2/tickets/(?P<id>[0-9]+)/comments", self._list_comments),
            Route.of("POST", r"/api/v2/tickets", self._create_ticket, write=True),
        ]

    def _url(self, kind: str, record_id: int) -> str:
        return f"{self.base_url}/api/v2/{kind}/{record_id}.json"

    def _render_ticket(self, ticket: Mapping[str, Any]) -> dict[str, Any]:
        return {"url": self._url("tickets", ticket["id"]), **ticket}

    def _render_user(self, user: Mapping[str, Any]) -> dict[str, Any]:
        return {"url": self._url("users", user["id"]), **user}

    # --- routes ----------------------------------------------------------------------

    def _me(self, request: SandboxRequest) -> JsonResponse:
        return JsonResponse(200, {"user": self._render_user(self.users[AGENT_ID])})

    def _search_users(self, request: SandboxRequest) -> JsonResponse:
        query = (request.arg("query") or "").strip()
        if not query:
            return JsonResponse(400, {"error": "InvalidEndpoint", "description": "query is required"})
        with self._data_lock:
            found = [u for u in self.users.values() if _user_matches(u, query)]
        return JsonResponse(
            200,
            {
                "users": [self._render_user(u) for u in found],
                "next_page": None,
                "previous_page": None,
                "count": len(found),
            },
        )

    def _search(self, request: SandboxRequest) -> JsonResponse:
        query = (request.arg("query") or "").strip()
        if not query:
            return JsonResponse(400, {"error": "InvalidEndpoint", "description": "query is required"})
        with self._data_lock:
            requester_emails = {str(u["id"]): str(u["email"]).casefold() for u in self.users.values()}
            hits = [t for t in self.tickets.values() if _ticket_matches(t, query, requester_emails)]
        sort_by = request.arg("sort_by") or "created_at"
        key = sort_by if sort_by in ("created_at", "updated_at", "priority", "status") else "created_at"
        hits.sort(key=lambda t: str(t.get(key)), reverse=(request.arg("sort_order") or "desc") == "desc")
        results = [{**self._render_ticket(t), "result_type": "ticket"} for t in hits[:_MAX_PAGE]]
        return JsonResponse(
            200,
            {
                "results": results,
                "facets": None,
                "next_page": None,
                "previous_page": None,
                "count": len(hits),
            },
        )

    def _show_ticket(self, request: SandboxRequest) -> JsonResponse:
        with self._data_lock:
            ticket = self.tickets.get(int(request.params["id"]))
        if ticket is None:
            return self.not_found(request.path)
        return JsonResponse(200, {"ticket": self._render_ticket(ticket)})

    def _list_comments(self, request: SandboxRequest) -> JsonResponse:
        ticket_id = int(request.params["id"])
        with self._data_lock:
            if ticket_id not in self.tickets:
                return self.not_found(request.path)
            comments = list(self.comments.get(ticket_id, []))
        if (request.arg("sort") or "created_at") == "-created_at":
            comments.reverse()
        size_text = request.arg("page[size]")
        if size_text is None:
            return JsonResponse(
                200, {"comments": comments, "next_page": None, "previous_page": None, "count": len(comments)}
            )
        size = int(size_text) if size_text.isdigit() else 0
        if not 0 < size <= _MAX_PAGE:
            return JsonResponse(400, {"error": "InvalidPaginationParameter", "description": "page[size]"})
        after = request.arg("page[after]")
        start = int(after) if after is not None and after.isdigit() else 0
        page = comments[start : start + size]
        more = start + size < len(comments)
        return JsonResponse(
            200,
            {
                "comments": page,
                "meta": {
                    "has_more": more,
                    "after_cursor": str(start + size) if more else None,
                    "before_cursor": str(start) if start else None,
                },
                "links": {"prev": None, "next": None},
            },
        )

    def _update_ticket(self, request: SandboxRequest) -> JsonResponse:
        ticket_id = int(request.params["id"])
        body = request.body if isinstance(request.body, dict) else {}
        change = body.get("ticket")
        if not isinstance(change, dict):
            return self._invalid("ticket is required")
        with self._data_lock:
            ticket = self.tickets.get(ticket_id)
            if ticket is None:
                return self.not_found(request.path)
            events: list[dict[str, Any]] = []
            comment = change.get("comment")
            if isinstance(comment, dict):
                text = comment.get("body")
                if not isinstance(text, str) or not text.strip():
                    return self._invalid("comment body is required")
                added = make_comment(
                    self._clock,
                    next(self._event_ids),
                    AGENT_ID,
                    text,
                    public=comment.get("public", True) is not False,
                    days=0,
                )
                self.comments.setdefault(ticket_id, []).append(added)
                events.append({k: v for k, v in added.items() if k not in ("via", "metadata", "created_at")})
            if isinstance(change.get("status"), str) and change["status"] in _STATUS_ORDER:
                ticket["status"] = change["status"]
            ticket["updated_at"] = self._clock.iso(0)
            audit_id = next(self._event_ids)
            rendered = self._render_ticket(ticket)
        audit = {
            "id": audit_id,
            "ticket_id": ticket_id,
            "created_at": self._clock.iso(0),
            "author_id": AGENT_ID,
            "metadata": {"system": {}, "custom": {}},
            "via": {"channel": "api", "source": {"from": {}, "to": {}, "rel": None}},
            "events": events,
        }
        return JsonResponse(200, {"ticket": rendered, "audit": audit})

    def _create_ticket(self, request: SandboxRequest) -> JsonResponse:
        body = request.body if isinstance(request.body, dict) else {}
        spec = body.get("ticket")
        if not isinstance(spec, dict) or not isinstance(spec.get("comment"), dict):
            return self._invalid("ticket.comment is required")
        text = spec["comment"].get("body")
        if not isinstance(text, str) or not text.strip():
            return self._invalid("comment body is required")
        with self._data_lock:
            requester_id = spec.get("requester_id")
            requester = spec.get("requester")
            if requester_id is None and isinstance(requester, dict):
                email = str(requester.get("email", "")).casefold()
                known = [u["id"] for u in self.users.values() if str(u["email"]).casefold() == email]
                requester_id = known[0] if known else None
            if requester_id not in self.users:
                return self._invalid("requester is invalid")
            ticket_id = next(self._ticket_ids)
            ticket = make_ticket(
                self._clock, ticket_id, str(spec.get("subject") or text[:60]), "new", "normal", 0, "question"
            )
            ticket["description"] = text
            ticket["requester_id"] = requester_id
            ticket["submitter_id"] = AGENT_ID
            self.tickets[ticket_id] = ticket
            self.comments[ticket_id] = [
                make_comment(self._clock, next(self._event_ids), requester_id, text, public=True, days=0)
            ]
            rendered = self._render_ticket(ticket)
        return JsonResponse(201, {"ticket": rendered})


def _user_matches(user: Mapping[str, Any], query: str) -> bool:
    """``phone:*<digits>`` (ends with), ``phone:<digits>``, ``email:<email>`` or a bare name/email."""
    for term in query.split():
        field, sep, value = term.partition(":")
        if not sep:
            field, value = "", term
        value = value.strip("\"'")
        if field == "phone":
            stored = _digits(str(user.get("phone") or ""))
            wanted = _digits(value)
            ok = bool(stored) and (stored.endswith(wanted) if value.startswith("*") else stored == wanted)
        elif field == "email":
            ok = str(user.get("email") or "").casefold() == value.casefold()
        else:
            text = f"{user.get('name')} {user.get('email')}".casefold()
            ok = value.casefold() in text
        if not ok:
            return False
    return True


def _ticket_matches(ticket: Mapping[str, Any], query: str, emails: Mapping[str, str]) -> bool:
    """The few search conditions the connector sends: type, requester and status (``:`` ``<`` ``>``)."""
    status_rank = _STATUS_ORDER.index(ticket["status"]) if ticket["status"] in _STATUS_ORDER else 0
    for term in query.split():
        for operator in (":", "<", ">"):
            field, sep, value = term.partition(operator)
            if sep and field.isidentifier():
                break
        else:
            return False  # free-text terms are not supported by the sandbox: match nothing
        if field == "type":
            ok = value == "ticket"
        elif field == "requester":
            requester = str(ticket["requester_id"])
            ok = value == requester or emails.get(requester) == value.casefold()
        elif field == "status" and value in _STATUS_ORDER:
            wanted = _STATUS_ORDER.index(value)
            ok = {":": status_rank == wanted, "<": status_rank < wanted, ">": status_rank > wanted}[operator]
        else:
            return False
        if not ok:
            return False
    return True
