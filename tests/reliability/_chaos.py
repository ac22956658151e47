"""A vendor that fails on a schedule, and keeps count of what it actually did.

:class:`ChaosVendor` takes over every route of a respx router. Each distinct request (method,
path and query) gets a plan: a list of faults for its first attempts, then the route's normal
answer. The vendor side is modelled the way a real API behaves:

* some faults happen before the vendor processed anything (a refused connection, a 503 from a
  load balancer, a 429, a reset or timeout before the request was read);
* others happen *after* it processed the request (a 500 from a crash after the commit, a reset
  or a timeout while the answer was on its way back). For a write, that is a performed write
  whose client saw only a failure, the case where resending doubles the write;
* a write carrying an idempotency key is performed once per key; a later request with the same
  key gets the saved result of the first, *including a saved 500* (Stripe documents exactly
  this; Zendesk's ticket creation behaves alike).

``performed`` counts the writes the vendor carried out; the promise is that it never exceeds one
per logical write.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

import httpx
import respx

from tests.reliability._support import original_answer

__all__ = ["Attempt", "ChaosVendor", "Fault", "plan_from_seed"]

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class Fault(StrEnum):
    OK = "ok"
    S500 = "500"
    S502 = "502"
    S503 = "503"
    RATE_LIMITED = "429"
    CONNECT = "connect-refused"
    TIMEOUT = "read-timeout"
    RESET = "reset"
    S500_AFTER = "500-after-processing"
    TIMEOUT_AFTER = "read-timeout-after-processing"
    RESET_AFTER = "reset-after-processing"


PROCESSED = frozenset({Fault.S500_AFTER, Fault.TIMEOUT_AFTER, Fault.RESET_AFTER})
"""Faults that happen after the vendor carried the request out."""
NOT_SENT = frozenset({Fault.CONNECT})
"""Faults that mean the request never left the client."""
FAULTS = tuple(f for f in Fault if f is not Fault.OK)

RequestKey = tuple[str, str, tuple[tuple[str, str], ...]]


def request_key(request: httpx.Request) -> RequestKey:
    return (request.method, request.url.path, tuple(sorted(request.url.params.multi_items())))


def plan_from_seed(seed: int, *, max_faults: int, min_faults: int = 0) -> Callable[[RequestKey], list[Fault]]:
    """Plans that depend only on ``seed`` and the request, not on the order requests arrive in."""

    def plan(key: RequestKey) -> list[Fault]:
        rng = random.Random(f"{seed}:{key!r}")
        return [rng.choice(FAULTS) for _ in range(rng.randint(min_faults, max_faults))]

    return plan


@dataclass(frozen=True)
class Attempt:
    """One request as the vendor saw it (or, for ``connect-refused``, did not see it)."""

    key: RequestKey
    fault: Fault
    write: bool
    idempotency_key: str | None
    performed: bool
    replayed: bool


@dataclass
class ChaosVendor:
    """Fault injection over a respx router; install with :meth:`take_over` after the case's mock."""

    plan: Callable[[RequestKey], list[Fault]]
    write_operation: bool
    idempotency_header: str | None
    attempts: list[Attempt] = field(default_factory=list)
    performed: Counter[tuple[str, str]] = field(default_factory=Counter)
    _plans: dict[RequestKey, list[Fault]] = field(default_factory=dict)
    _seen: Counter[RequestKey] = field(default_factory=Counter)
    _saved: dict[str, httpx.Response] = field(default_factory=dict)

    def take_over(self, router: respx.MockRouter) -> None:
        for route in router.routes:
            answer = original_answer(route)
            route.side_effect = self._wrap(answer)

    def planned(self, key: RequestKey) -> list[Fault]:
        if key not in self._plans:
            self._plans[key] = self.plan(key)
        return self._plans[key]

    def _wrap(self, original: Callable[[httpx.Request], httpx.Response]) -> Callable[..., httpx.Response]:
        def answer(request: httpx.Request) -> httpx.Response:
            return self._answer(request, original)

        return answer

    def _answer(
        self, request: httpx.Request, original: Callable[[httpx.Request], httpx.Response]
    ) -> httpx.Response:
        key = request_key(request)
        attempt = self._seen[key]
        self._seen[key] += 1
        plan = self.planned(key)
        fault = plan[attempt] if attempt < len(plan) else Fault.OK
        write = self.write_operation and request.method not in SAFE_METHODS
        idempotency = request.headers.get(self.idempotency_header) if self.idempotency_header else None

        def log(performed: bool, replayed: bool = False) -> None:
            self.attempts.append(Attempt(key, fault, write, idempotency, performed, replayed))

        # Faults before the vendor did anything.
        if fault is Fault.CONNECT:
            log(False)
            raise httpx.ConnectError("[Errno 111] Connection refused", request=request)
        if fault is Fault.TIMEOUT:
            log(False)
            raise httpx.ReadTimeout("timed out", request=request)
        if fault is Fault.RESET:
            log(False)
            raise httpx.RemoteProtocolError(
                "Server disconnected without sending a response.", request=request
            )
        if fault in (Fault.S500, Fault.S502, Fault.S503):
            log(False)
            return httpx.Response(int(fault.value), json={"error": "unavailable"})
        if fault is Fault.RATE_LIMITED:
            log(False)
            return httpx.Response(429, headers={"Retry-After": "0"}, json={"error": "rate_limited"})

        # The vendor processes the request (or replays what it saved for this idempotency key).
        if write and idempotency is not None and idempotency in self._saved:
            saved = self._saved[idempotency]
            response = httpx.Response(saved.status_code, headers=saved.headers, content=saved.content)
            log(False, replayed=True)
        else:
            if fault is Fault.S500_AFTER:
                response = httpx.Response(500, json={"error": "internal error after commit"})
            else:
                response = original(request)
            performed = write and (response.status_code < 400 or fault is Fault.S500_AFTER)
            if performed:
                self.performed[(request.method, request.url.path)] += 1
            if write and idempotency is not None:
                self._saved[idempotency] = response
            log(performed)
            response = httpx.Response(
                response.status_code, headers=response.headers, content=response.content
            )

        # Faults on the way back: the work is done, the client will not hear of it.
        if fault is Fault.TIMEOUT_AFTER:
            raise httpx.ReadTimeout("timed out", request=request)
        if fault is Fault.RESET_AFTER:
            raise httpx.RemoteProtocolError(
                "Server disconnected without sending a response.", request=request
            )
        return response

    # --- questions the assertions ask ----------------------------------------------------

    def attempts_of(self, key: RequestKey) -> list[Attempt]:
        return [a for a in self.attempts if a.key == key]

    def request_keys(self) -> list[RequestKey]:
        return list(dict.fromkeys(a.key for a in self.attempts))
