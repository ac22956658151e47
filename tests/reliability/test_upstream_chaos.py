"""Upstream chaos: 5xx, 429, timeouts and resets on a seeded schedule, through every shipped operation.

Every operation of HubSpot, Zendesk, Stripe, JSM and Chargebee (``_support.TARGETS``) runs (through
``NexoraConnect``, a conversation and dispatch) against its kit mock wrapped in a
:class:`ChaosVendor`. What must hold, whatever the
schedule:

* every call ends in a result or a typed :class:`~sdk.NexoraError`, before its deadline;
* a read whose every request can succeed within the retry budget (three attempts) succeeds;
* the vendor never performs a write twice: a write without an idempotency key is resent only
  after a connection that was never established, and one with a key always resends that key;
* a write reported as successful was performed.

``NEXORA_CHAOS_SEEDS`` sets how many schedules run per operation (default 25); runs of one
connector go concurrently, so the retry back-off sleeps overlap instead of adding up.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable
from dataclasses import dataclass

import pytest
import respx

from sdk import (
    DeadlineExceededError,
    NexoraError,
    VendorConnectionError,
    VendorError,
    VendorRateLimitError,
    VendorServerError,
    VendorTimeoutError,
)
from sdk.testing import OperationCase, make_canary
from tests.reliability._chaos import (
    FAULTS,
    NOT_SENT,
    PROCESSED,
    SAFE_METHODS,
    ChaosVendor,
    Fault,
    RequestKey,
    plan_from_seed,
)
from tests.reliability._support import CASES, INTEGRATION, TARGETS, TENANT, Target, case_id, runtime

SEEDS = int(os.environ.get("NEXORA_CHAOS_SEEDS", "25"))
CUSTOMER = make_canary("customer")
DEADLINE = 5.0
MAX_ATTEMPTS = 3
"""The default retry policy's attempts (``RetryPolicy().max_attempts``), first attempt included."""

ERROR_FOR: dict[Fault, type[VendorError]] = {
    Fault.S500: VendorServerError,
    Fault.S502: VendorServerError,
    Fault.S503: VendorServerError,
    Fault.S500_AFTER: VendorServerError,
    Fault.RATE_LIMITED: VendorRateLimitError,
    Fault.CONNECT: VendorConnectionError,
    Fault.TIMEOUT: VendorTimeoutError,
    Fault.TIMEOUT_AFTER: VendorTimeoutError,
    Fault.RESET: VendorConnectionError,
    Fault.RESET_AFTER: VendorConnectionError,
}


@dataclass
class Run:
    """One operation under one schedule: what the vendor saw and how the call ended."""

    target: Target
    case: OperationCase
    seed: int
    vendor: ChaosVendor
    failure: BaseException | None
    took: float

    @property
    def label(self) -> str:
        return f"{self.target.name}/{self.case.label} seed={self.seed}"

    @property
    def write(self) -> bool:
        return self.target.is_write(self.case)

    def write_keys(self) -> list[RequestKey]:
        return [key for key in self.vendor.request_keys() if key[0] not in SAFE_METHODS and self.write]

    def read_keys(self) -> list[RequestKey]:
        return [key for key in self.vendor.request_keys() if key not in self.write_keys()]


async def run_case(
    target: Target, case: OperationCase, plan: Callable[[RequestKey], list[Fault]], seed: int = 0
) -> Run:
    router = respx.MockRouter(assert_all_called=False, assert_all_mocked=True)
    case.mock(router, CUSTOMER)
    vendor = ChaosVendor(
        plan, write_operation=target.is_write(case), idempotency_header=target.connector.idempotency_header
    )
    vendor.take_over(router)
    failure: BaseException | None = None
    async with (
        runtime(target, router) as nc,
        nc.conversation(tenant=TENANT, conversation_id=f"chaos-{seed}") as conv,
    ):
        started = time.monotonic()
        try:
            await conv._call(INTEGRATION, case.operation, dict(case.arguments), deadline=started + DEADLINE)
        except Exception as exc:  # noqa: BLE001 - the checks below say which exceptions are allowed
            failure = exc
        took = time.monotonic() - started
    return Run(target, case, seed, vendor, failure, took)


def unkeyed_write_expectation(plan: list[Fault]) -> tuple[Fault, int]:
    """What a write without idempotency key must end in under ``plan``: the deciding fault, attempts.

    Only a connection that was never established is retried; any other failure is final.
    """
    for attempt in range(MAX_ATTEMPTS):
        fault = plan[attempt] if attempt < len(plan) else Fault.OK
        if fault not in NOT_SENT:
            return fault, attempt + 1
    return Fault.CONNECT, MAX_ATTEMPTS


def problems(run: Run) -> list[str]:
    """Every broken promise in one run (empty: all kept)."""
    found: list[str] = []
    failure, vendor = run.failure, run.vendor
    if failure is not None and not isinstance(failure, NexoraError):
        found.append(f"untyped {type(failure).__name__}: {failure}")
    if isinstance(failure, DeadlineExceededError) or run.took > DEADLINE:
        found.append(f"ran out of its {DEADLINE} s deadline ({run.took:.2f} s)")
    for (method, path), count in vendor.performed.items():
        if count > 1:
            found.append(f"the vendor performed {method} {path} {count} times")
    for key in run.write_keys():
        attempts = vendor.attempts_of(key)
        keys = {a.idempotency_key for a in attempts}
        if keys != {None}:
            if len(keys) != 1 or None in keys:
                found.append(f"a retried write changed or dropped its idempotency key: {keys}")
        elif any(a.fault not in NOT_SENT for a in attempts[:-1]):
            found.append(f"a write without idempotency key was resent after {[a.fault for a in attempts]}")
    if run.write and failure is None and sum(vendor.performed.values()) != 1:
        found.append(f"reported success, but the vendor performed {sum(vendor.performed.values())} writes")
    return found


def liveness(run: Run) -> list[str]:
    """What must succeed when no request's plan holds more faults than the retry budget absorbs."""
    found: list[str] = []
    vendor = run.vendor
    for key in run.read_keys():
        plan = vendor.planned(key)
        if len(vendor.attempts_of(key)) != len(plan) + 1:
            found.append(f"read {key[0]} {key[1]}: {len(vendor.attempts_of(key))} attempts for plan {plan}")
    if not run.write:
        if run.failure is not None:
            found.append(f"a read that could succeed failed: {run.failure!r}")
        return found
    for key in run.write_keys():
        plan = vendor.planned(key)
        keyed = vendor.attempts_of(key)[0].idempotency_key is not None
        if keyed:
            must_succeed = Fault.S500_AFTER not in plan  # a saved 500 is replayed to every retry
            if must_succeed and run.failure is not None:
                found.append(f"a keyed write that could succeed failed under {plan}: {run.failure!r}")
        else:
            deciding, attempts = unkeyed_write_expectation(plan)
            if len(vendor.attempts_of(key)) != attempts:
                found.append(f"unkeyed write: {len(vendor.attempts_of(key))} attempts, expected {attempts}")
            if deciding is Fault.OK and run.failure is not None:
                found.append(f"an unkeyed write that could succeed failed under {plan}: {run.failure!r}")
            if deciding is not Fault.OK and not isinstance(run.failure, ERROR_FOR[deciding]):
                found.append(f"{deciding} should end in {ERROR_FOR[deciding].__name__}, not {run.failure!r}")
            expected_performed = 1 if deciding is Fault.OK or deciding in PROCESSED else 0
            if sum(vendor.performed.values()) != expected_performed:
                found.append(f"unkeyed write under {plan}: performed {sum(vendor.performed.values())} times")
    return found


def _report(runs: list[Run], check: Callable[[Run], list[str]]) -> str:
    lines = []
    for run in runs:
        for problem in check(run):
            plans = {
                f"{k[0]} {k[1]}": [f.value for f in run.vendor.planned(k)] for k in run.vendor.request_keys()
            }
            lines.append(f"{run.label}: {problem}; plans {plans}")
    return "\n".join(lines[:30])


async def recoverable_chaos(target: Target, seeds: range) -> None:
    """At most two faults per request: every read succeeds, every write happens at most once."""
    runs = await asyncio.gather(
        *(
            run_case(target, case, plan_from_seed(seed, max_faults=MAX_ATTEMPTS - 1), seed)
            for case in target.cases
            for seed in seeds
        )
    )
    broken = _report(runs, lambda run: problems(run) + liveness(run))
    assert not broken, broken
    faults_seen = {a.fault for run in runs for a in run.vendor.attempts}
    assert faults_seen >= set(FAULTS) or len(seeds) < 10, faults_seen


async def exhausting_chaos(target: Target, seeds: range) -> None:
    """Three or more faults on every request: typed errors before the deadline, still no double write."""
    runs = await asyncio.gather(
        *(
            run_case(target, case, plan_from_seed(seed, min_faults=MAX_ATTEMPTS, max_faults=4), seed)
            for case in target.cases
            for seed in seeds
        )
    )

    def exhausted(run: Run) -> list[str]:
        found = problems(run)
        replayed = bool(run.vendor.attempts) and run.vendor.attempts[-1].replayed
        # A keyed write can still succeed: its retry gets the result the vendor saved for the key.
        if run.failure is None and not replayed:
            found.append("succeeded although every request failed its whole retry budget")
        for key in run.read_keys():
            if len(run.vendor.attempts_of(key)) > MAX_ATTEMPTS:
                found.append(f"{len(run.vendor.attempts_of(key))} attempts at {key[0]} {key[1]}")
        return found

    broken = _report(runs, exhausted)
    assert not broken, broken


@pytest.mark.parametrize("target", TARGETS, ids=lambda t: t.name)
async def test_recoverable_chaos(target: Target) -> None:
    await recoverable_chaos(target, range(SEEDS))


@pytest.mark.parametrize("target", TARGETS, ids=lambda t: t.name)
async def test_exhausting_chaos_ends_in_typed_errors(target: Target) -> None:
    await exhausting_chaos(target, range(SEEDS))


@pytest.mark.slow
@pytest.mark.parametrize("target", TARGETS, ids=lambda t: t.name)
async def test_long_chaos(target: Target) -> None:
    """Ten times the schedules, on seeds the default run does not use."""
    for start in range(SEEDS, SEEDS * 11, SEEDS * 2):
        await recoverable_chaos(target, range(start, start + SEEDS * 2))
        await exhausting_chaos(target, range(start, start + SEEDS * 2))


UNKEYED = {
    ("hubspot", "create_note"),
    ("zendesk", "add_comment"),
    ("jsm", "create_ticket"),
    ("jsm", "add_comment"),
}
"""The shipped writes sent without an idempotency key (checked below against what they send)."""
WRITES = [pair for pair in CASES if pair[0].is_write(pair[1])]
UNKEYED_WRITES = [pair for pair in WRITES if (pair[0].name, pair[1].operation) in UNKEYED]
KEYED_WRITES = [pair for pair in WRITES if (pair[0].name, pair[1].operation) not in UNKEYED]


@pytest.mark.parametrize("pair", WRITES, ids=case_id)
async def test_each_write_is_classified_by_what_it_sends(pair: tuple[Target, OperationCase]) -> None:
    target, case = pair
    run = await run_case(target, case, lambda key: [])
    assert run.failure is None
    [key] = run.write_keys()
    keyed = run.vendor.attempts_of(key)[0].idempotency_key is not None
    assert keyed == ((target.name, case.operation) not in UNKEYED)


def only_writes(*faults: Fault) -> Callable[[RequestKey], list[Fault]]:
    return lambda key: list(faults) if key[0] not in SAFE_METHODS else []


@pytest.mark.parametrize("fault", FAULTS, ids=str)
@pytest.mark.parametrize("pair", UNKEYED_WRITES, ids=case_id)
async def test_unkeyed_write_is_sent_again_only_if_it_never_left(
    pair: tuple[Target, OperationCase], fault: Fault
) -> None:
    """Writes without an idempotency key (HubSpot notes, Zendesk comments, JSM): one try, bar refusals."""
    target, case = pair
    run = await run_case(target, case, only_writes(fault))
    assert problems(run) == []
    [key] = run.write_keys()
    attempts = run.vendor.attempts_of(key)
    assert attempts[0].idempotency_key is None
    if fault in NOT_SENT:
        assert [a.fault for a in attempts] == [fault, Fault.OK]
        assert run.failure is None
        assert sum(run.vendor.performed.values()) == 1
    else:
        assert len(attempts) == 1, f"resent after {fault}"
        assert isinstance(run.failure, ERROR_FOR[fault])
        assert sum(run.vendor.performed.values()) == (1 if fault in PROCESSED else 0)


@pytest.mark.parametrize("fault", FAULTS, ids=str)
@pytest.mark.parametrize("pair", KEYED_WRITES, ids=case_id)
async def test_keyed_write_is_resent_with_its_key_and_performed_once(
    pair: tuple[Target, OperationCase], fault: Fault
) -> None:
    """Stripe ``resend_invoice`` and Zendesk ``create_ticket`` carry an idempotency key: retried, once."""
    target, case = pair
    run = await run_case(target, case, only_writes(fault))
    assert problems(run) == []
    [key] = run.write_keys()
    attempts = run.vendor.attempts_of(key)
    assert len({a.idempotency_key for a in attempts}) == 1
    assert attempts[0].idempotency_key is not None
    if fault is Fault.S500_AFTER:
        # The vendor saved its 500 for this key and replays it; performed once all the same.
        assert isinstance(run.failure, VendorServerError)
        assert all(a.replayed for a in attempts[1:])
        assert sum(run.vendor.performed.values()) == 1
    else:
        assert run.failure is None, run.failure
        assert len(attempts) == 2
        assert sum(run.vendor.performed.values()) == 1
        assert attempts[1].replayed == (fault in PROCESSED)
