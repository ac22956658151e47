"""The same promises as ``test_upstream_chaos``, over a real socket that resets, truncates and hangs.

Here httpx meets the failures itself (``ReadError``, ``RemoteProtocolError``, ``ReadTimeout``), so
this checks that the failures the respx model raises are the ones real sockets produce, and that
real timeouts respect the caller's deadline. The runtime uses its default transport; the
integrations point at the loopback vendor with ``base_url``. Each test runs over the SDK's default
transport and over httpx's own.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from sdk import (
    DeadlineExceededError,
    MemoryAuditSink,
    NexoraConfig,
    NexoraConnect,
    NexoraError,
    VendorConnectionError,
    VendorError,
    VendorRateLimitError,
    VendorServerError,
    VendorTimeoutError,
)
from sdk.testing import MemoryCredentialSource
from tests.connectors import hubspot_cases, stripe_cases
from tests.reliability._loopback import PROCESSED, LoopbackVendor, Misbehaviour
from tests.reliability._support import SECRET, registry

OVERRUN_SLACK = 0.5

ROUTES: dict[tuple[str, str], tuple[int, Any]] = {
    ("GET", "/crm/v3/objects/contacts/51"): (200, hubspot_cases.fixture("contact")),
    ("POST", "/crm/v3/objects/notes"): (201, hubspot_cases.fixture("note_created")),
    ("GET", f"/v1/customers/{stripe_cases.CUSTOMER_ID}"): (200, stripe_cases.fixture("customer")),
    ("POST", f"/v1/invoices/{stripe_cases.INVOICE_ID}/send"): (200, stripe_cases.fixture("invoice_sent")),
}


@dataclass(frozen=True)
class Op:
    integration: str
    operation: str
    arguments: dict[str, Any]
    method: str
    path: str
    kind: str
    """'read', 'unkeyed write' or 'keyed write'."""


OPS = [
    Op("crm", "get_contact", {"contact_id": "51"}, "GET", "/crm/v3/objects/contacts/51", "read"),
    Op(
        "crm",
        "create_note",
        {"contact_id": "51", "body": "Call back"},
        "POST",
        "/crm/v3/objects/notes",
        "unkeyed write",
    ),
    Op(
        "billing",
        "get_balance",
        {"customer_id": stripe_cases.CUSTOMER_ID},
        "GET",
        f"/v1/customers/{stripe_cases.CUSTOMER_ID}",
        "read",
    ),
    Op(
        "billing",
        "resend_invoice",
        {"invoice_id": stripe_cases.INVOICE_ID},
        "POST",
        f"/v1/invoices/{stripe_cases.INVOICE_ID}/send",
        "keyed write",
    ),
]

UNKEYED_ERROR: dict[Misbehaviour, type[VendorError]] = {
    Misbehaviour.RESET_BEFORE_READING: VendorConnectionError,
    Misbehaviour.S503: VendorServerError,
    Misbehaviour.RATE_LIMITED: VendorRateLimitError,
    Misbehaviour.S500_AFTER: VendorServerError,
    Misbehaviour.CLOSE_AFTER: VendorConnectionError,
    Misbehaviour.RESET_AFTER: VendorConnectionError,
    Misbehaviour.TRUNCATED_AFTER: VendorConnectionError,
}


@pytest.fixture
async def vendor() -> AsyncIterator[LoopbackVendor]:
    def answer(method: str, path: str) -> tuple[int, Any]:
        return ROUTES.get((method, path), (404, {"error": "not found"}))

    with LoopbackVendor(answer) as server:
        yield server


@pytest.fixture(params=["default", "httpx"])
def transport(request: pytest.FixtureRequest) -> httpx.AsyncBaseTransport | None:
    """The SDK's default transport (None), and httpx's own, which a deployment may inject."""
    if request.param == "httpx":
        return httpx.AsyncHTTPTransport(retries=0)
    return None


@pytest.fixture
async def nc(
    vendor: LoopbackVendor, transport: httpx.AsyncBaseTransport | None
) -> AsyncIterator[NexoraConnect]:
    integrations = {
        "crm": {"connector": "hubspot", "grant": "scoped-write", "write_scopes": ["notes:write"]},
        "billing": {"connector": "stripe", "grant": "scoped-write", "write_scopes": ["invoices:write"]},
    }
    for integration in integrations.values():
        integration["base_url"] = vendor.base_url
    config = NexoraConfig.parse(
        {"vault": {"address": "http://127.0.0.1:9"}, "tenants": {"acme": {"integrations": integrations}}}
    )
    credentials = MemoryCredentialSource()
    credentials.put("acme", "crm", hubspot_cases.credential(SECRET))
    credentials.put("acme", "billing", stripe_cases.credential(SECRET))
    async with NexoraConnect(
        config,
        transport=transport,
        audit_sink=MemoryAuditSink(),
        registry=registry(),
        credential_store=credentials,
    ) as runtime:
        yield runtime


async def call(nc: NexoraConnect, op: Op, budget: float) -> tuple[NexoraError | None, float]:
    started = time.monotonic()
    failure: NexoraError | None = None
    async with nc.conversation(tenant="acme", conversation_id=f"loop-{started}") as conv:
        try:
            await conv._call(op.integration, op.operation, dict(op.arguments), deadline=started + budget)
        except NexoraError as exc:
            failure = exc
    return failure, time.monotonic() - started


MISBEHAVIOURS = [m for m in Misbehaviour if m is not Misbehaviour.HANG_AFTER]


@pytest.mark.parametrize("misbehaviour", MISBEHAVIOURS, ids=str)
@pytest.mark.parametrize("op", OPS, ids=lambda op: f"{op.integration}-{op.operation}")
async def test_one_misbehaving_answer(
    nc: NexoraConnect, vendor: LoopbackVendor, op: Op, misbehaviour: Misbehaviour
) -> None:
    vendor.queue(op.method, op.path, misbehaviour)
    failure, took = await call(nc, op, budget=5.0)
    sent = [r for r in vendor.received if (r[0], r[1]) == (op.method, op.path)]
    performed = sum(vendor.performed.values())
    assert took <= 5.0 + OVERRUN_SLACK
    if op.kind == "read":
        assert failure is None, f"a read that a retry can serve failed: {failure!r}"
        read_on_first = misbehaviour is not Misbehaviour.RESET_BEFORE_READING
        assert len(sent) == (1 if misbehaviour is Misbehaviour.SLOW else 1 + read_on_first)
    elif op.kind == "unkeyed write":
        assert len(sent) <= 1, "a write without idempotency key was sent twice"
        assert performed == (1 if misbehaviour in PROCESSED else 0)
        if misbehaviour is Misbehaviour.SLOW:
            assert failure is None
        else:
            assert type(failure) is UNKEYED_ERROR[misbehaviour], repr(failure)
    else:
        assert performed == 1, f"the vendor performed the keyed write {performed} times"
        assert len({key for _, _, key in sent}) == 1
        if misbehaviour is Misbehaviour.S500_AFTER:
            assert isinstance(failure, VendorServerError)  # the saved 500 is replayed
        else:
            assert failure is None, repr(failure)


@pytest.mark.parametrize("op", [op for op in OPS if op.kind != "read"], ids=lambda op: op.operation)
async def test_a_write_the_vendor_never_answers_is_not_sent_again(
    nc: NexoraConnect, vendor: LoopbackVendor, op: Op
) -> None:
    """A real read timeout after the vendor performed the write: a typed error by the deadline, one write."""
    vendor.queue(op.method, op.path, Misbehaviour.HANG_AFTER)
    failure, took = await call(nc, op, budget=0.5)
    assert isinstance(failure, DeadlineExceededError | VendorTimeoutError), repr(failure)
    assert took <= 0.5 + OVERRUN_SLACK
    assert sum(vendor.performed.values()) == 1


async def test_a_hung_read_ends_by_the_deadline(nc: NexoraConnect, vendor: LoopbackVendor) -> None:
    op = OPS[0]
    vendor.queue(
        op.method, op.path, Misbehaviour.HANG_AFTER, Misbehaviour.HANG_AFTER, Misbehaviour.HANG_AFTER
    )
    failure, took = await call(nc, op, budget=0.5)
    assert isinstance(failure, DeadlineExceededError | VendorTimeoutError), repr(failure)
    assert took <= 0.5 + OVERRUN_SLACK


async def test_a_read_whose_first_attempt_hangs_is_served_by_the_retry(
    nc: NexoraConnect, vendor: LoopbackVendor
) -> None:
    """The first attempt gets only its share of the budget (RetryPolicy.attempt_budget), so the
    retry still has time to be answered: two requests reach the vendor, within the budget."""
    op = OPS[0]
    vendor.queue(op.method, op.path, Misbehaviour.HANG_AFTER)
    failure, took = await call(nc, op, budget=1.5)
    assert failure is None, repr(failure)
    assert len([r for r in vendor.received if (r[0], r[1]) == (op.method, op.path)]) == 2
    assert took <= 1.5 + OVERRUN_SLACK
