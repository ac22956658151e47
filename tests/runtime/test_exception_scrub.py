"""An exception raised at a deadline, a hangup or a cancellation carries no customer record (S3, S5).

The vendor is HubSpot's contact search behind respx: its first page answers with a contact whose
name is a canary and a cursor to a second page; the second request hangs. Whatever ends the call,
the exception the caller gets is walked frame by frame (every local, its repr, and a few levels of
its attributes) and along its ``__cause__``/``__context__`` chain: the canary must not be there. The
controls run the same calls with the scrubber switched off and find the canary, so the walker is
known to look where the records were.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterator
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

import httpx
import pytest
import respx

from connectors.crm.hubspot import HubSpotConnector
from sdk import (
    ConversationClosedError,
    DeadlineExceededError,
    NexoraConnect,
    NexoraError,
)
from sdk import _scrub as scrub_module
from sdk._call import Conversation
from sdk._scrub import scrub_exception
from sdk.testing import make_canary, mock_runtime
from tests.connectors import hubspot_cases as hubspot

EMAIL = "aroha@example.test"
PHONE = "021 555 0100"
TOOL = "hubspot__find_contacts"

# --- the walker ------------------------------------------------------------------------------


def _attributes(value: object) -> Iterator[tuple[str, object]]:
    if isinstance(value, dict):
        for k, v in list(value.items()):
            yield "[key]", k
            yield f"[{k!r}]", v
    elif isinstance(value, (list, tuple, set, frozenset)):
        for n, item in enumerate(list(value)):
            yield f"[{n}]", item
    else:
        with contextlib.suppress(TypeError):
            yield from ((f".{k}", v) for k, v in vars(value).items())
        for cls in type(value).__mro__:
            for slot in getattr(cls, "__slots__", ()):
                if isinstance(slot, str) and hasattr(value, slot):
                    yield f".{slot}", getattr(value, slot)


@dataclass
class Walker:
    """Where ``canary`` can still be read from an exception, as a list of paths."""

    canary: str
    depth: int = 4
    found: list[str] = field(default_factory=list)
    frames: int = 0
    _seen: set[int] = field(default_factory=set)

    def exception(self, exc: BaseException, where: str = "exc") -> list[str]:
        if id(exc) in self._seen:
            return self.found
        self._seen.add(id(exc))
        self.value(str(exc), f"{where} str", 0)
        self.value(exc.args, f"{where}.args", self.depth)
        self.value(getattr(exc, "__notes__", None), f"{where}.__notes__", 1)
        with contextlib.suppress(TypeError):
            self.value(vars(exc), f"{where}.__dict__", self.depth)
        tb: TracebackType | None = exc.__traceback__
        while tb is not None:
            frame = tb.tb_frame
            self.frames += 1
            for name, local in frame.f_locals.items():
                self.value(local, f"{where} frame {frame.f_code.co_qualname} local {name}", self.depth)
            tb = tb.tb_next
        for label, chained in (("__cause__", exc.__cause__), ("__context__", exc.__context__)):
            if chained is not None:
                self.exception(chained, f"{where}.{label}")
        if isinstance(exc, BaseExceptionGroup):
            for n, member in enumerate(exc.exceptions):
                self.exception(member, f"{where}.exceptions[{n}]")
        return self.found

    def value(self, value: object, where: str, depth: int) -> None:
        if isinstance(value, BaseException):
            self.exception(value, where)
            return
        if value is None or isinstance(value, (int, float, bool)) or id(value) in self._seen:
            return
        self._seen.add(id(value))
        try:
            text = repr(value)
        except Exception:  # noqa: BLE001 - a broken repr hides nothing from the attribute walk below
            text = ""
        if isinstance(value, (bytes, bytearray)):
            text += bytes(value).decode("utf-8", "replace")
        if self.canary in text:
            self.found.append(where)
            return
        if depth > 0 and not isinstance(value, (str, bytes, bytearray, type)):
            for label, item in _attributes(value):
                self.value(item, where + label, depth - 1)


def leaks(exc: BaseException, *canaries: str) -> list[str]:
    return [path for canary in canaries for path in Walker(canary).exception(exc)]


def test_the_walker_finds_a_canary_in_a_frame_and_a_chain() -> None:
    canary = make_canary("walker")

    def holds(record: dict[str, Any]) -> None:
        raise NexoraError("failed")

    try:
        try:
            raise KeyError(canary)
        except KeyError:
            holds({"contact": {"name": [canary]}})
    except NexoraError as exc:
        found = leaks(exc, canary)
    assert any("holds local record" in path for path in found)
    assert any("__context__" in path for path in found)


# --- the vendor ------------------------------------------------------------------------------


def contact(contact_id: str, name: str) -> dict[str, Any]:
    return hubspot.contact_hit(contact_id, firstname=name, lastname="Test", email=EMAIL, mobilephone=PHONE)


@dataclass
class HangingSearch:
    """Page 1: a contact named ``first``; page 2 waits for ``release`` and brings one named ``second``."""

    first: str
    second: str
    requests: int = 0
    cancelled: int = 0
    second_in_flight: asyncio.Event = field(default_factory=asyncio.Event)
    release: asyncio.Event = field(default_factory=asyncio.Event)

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        if self.requests == 1:
            return httpx.Response(200, json=hubspot.search_response(contact("51", self.first), after="51"))
        self.second_in_flight.set()
        try:
            await self.release.wait()
        except asyncio.CancelledError:
            self.cancelled += 1
            raise
        return httpx.Response(200, json=hubspot.search_response(contact("52", self.second)))


@dataclass
class Scene:
    nc: NexoraConnect
    conv: Conversation
    vendor: HangingSearch

    @property
    def canaries(self) -> tuple[str, str]:
        return self.vendor.first, self.vendor.second


@pytest.fixture
async def scene() -> AsyncIterator[Scene]:
    vendor = HangingSearch(first=make_canary("record-one"), second=make_canary("record-two"))
    router = respx.MockRouter(assert_all_called=False, assert_all_mocked=True)
    router.post(hubspot.BASE + hubspot.SEARCH).mock(side_effect=vendor)
    async with mock_runtime(HubSpotConnector, router, hubspot.credential(make_canary("key"))) as nc:
        conv = nc.conversation(tenant="acme", conversation_id="call-1")
        yield Scene(nc, conv, vendor)
        await conv.hangup()


@pytest.fixture(params=[True, False], ids=["scrubbed", "control-unscrubbed"])
def scrubbing(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> bool:
    """Every scenario runs twice: as shipped, and with the scrubber replaced by a no-op."""
    if not request.param:
        monkeypatch.setattr(scrub_module, "scrub_exception", lambda exc: exc)
    return bool(request.param)


async def failure_of(work: Awaitable[Any]) -> BaseException:
    """The exception ``work`` ends with; this frame holds nothing but ``work``."""
    try:
        await work
    except BaseException as exc:  # noqa: BLE001 - CancelledError is one of the outcomes under test
        return exc
    raise AssertionError("the call was expected to fail")


Start = Callable[[Scene], Coroutine[Any, Any, Any]]

STARTS: dict[str, Start] = {
    "call": lambda s: s.conv.call("hubspot", "find_contacts", email=EMAIL),
    "invoke": lambda s: s.conv.invoke(TOOL, {"email": EMAIL}),
    "customer_context": lambda s: s.conv.customer_context(phone=PHONE, budget=30.0),
}


def check(exc: BaseException, scene: Scene, *, scrubbing: bool, unscrubbed_leaks: bool = True) -> None:
    found = leaks(exc, *scene.canaries)
    if scrubbing or not unscrubbed_leaks:
        assert found == [], f"a customer record is readable from the exception: {found[:5]}"
        chain = [exc.__cause__, exc.__context__]
        assert all(e is None or isinstance(e, NexoraError) for e in chain), "only SDK errors stay chained"
    else:
        # The mock vendor holds the canaries too (respx keeps it in its route); the control must
        # find them where the SDK and connector frames held the records.
        in_sdk_frames = [p for p in found if "Router." not in p]
        assert in_sdk_frames, f"control: without the scrubber the walker must find the record: {found}"


# --- the scenarios ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "unscrubbed_leaks"),
    [
        ("call", True),
        ("invoke", True),
        # The fan-out keeps a failed step's class name only and drops its result, so the
        # exception raised at the end holds no record even unscrubbed: the control finds none.
        ("customer_context", False),
    ],
)
async def test_hangup_mid_call_leaves_no_record_in_the_exception(
    scene: Scene, scrubbing: bool, start: str, unscrubbed_leaks: bool
) -> None:
    task = asyncio.create_task(STARTS[start](scene))
    await asyncio.wait_for(scene.vendor.second_in_flight.wait(), 5)
    await scene.conv.hangup()
    scene.vendor.release.set()  # page 2 lands after the wipe: its record must be dropped too
    exc = await asyncio.wait_for(failure_of(task), 5)

    assert type(exc) is ConversationClosedError
    assert "(hung up)" in str(exc), "type and message survive the scrub"
    assert scene.conv.cached_records == 0
    check(exc, scene, scrubbing=scrubbing, unscrubbed_leaks=unscrubbed_leaks)


@pytest.mark.parametrize("start", ["call", "invoke", "customer_context"])
async def test_cancelling_the_caller_leaves_no_record_in_the_exception(
    scene: Scene, scrubbing: bool, start: str
) -> None:
    # The exception is caught inside the cancelled task, as the agent's own code there would see it
    # (awaiting the task from outside raises a fresh CancelledError).
    task = asyncio.create_task(failure_of(STARTS[start](scene)))
    await asyncio.wait_for(scene.vendor.second_in_flight.wait(), 5)
    task.cancel("agent gave up")
    exc = await asyncio.wait_for(task, 5)

    assert type(exc) is asyncio.CancelledError
    assert exc.args == ("agent gave up",), "type and message survive the scrub"
    assert scene.vendor.cancelled == 1, "the hanging request was cancelled, not left running"
    check(exc, scene, scrubbing=scrubbing)


async def test_the_call_deadline_leaves_no_record_in_the_exception(scene: Scene, scrubbing: bool) -> None:
    exc = await asyncio.wait_for(failure_of(scene.conv.invoke(TOOL, {"email": EMAIL}, budget=0.3)), 5)

    assert type(exc) is DeadlineExceededError
    assert "did not finish within the caller's deadline" in str(exc)
    assert scene.vendor.cancelled == 1
    found = leaks(exc, *scene.canaries)
    # The deadline error is raised afresh, outside the except block that saw the timeout, so even
    # unscrubbed it holds no record; the scrubber is what keeps that true if dispatch changes.
    assert found == []


async def test_a_write_of_the_scrubbed_frames_still_lets_the_caller_read_the_error(scene: Scene) -> None:
    """The traceback itself survives: formatting it works and names the SDK frames."""
    import traceback

    task = asyncio.create_task(scene.conv.call("hubspot", "find_contacts", email=EMAIL))
    await asyncio.wait_for(scene.vendor.second_in_flight.wait(), 5)
    await scene.conv.hangup()
    scene.vendor.release.set()
    exc = await asyncio.wait_for(failure_of(task), 5)
    text = "".join(traceback.format_exception(exc))
    assert "ConversationClosedError" in text
    assert "dispatch" in text
    for canary in scene.canaries:
        assert canary not in text
    # Even the locals-capturing formatter finds nothing: the frames' locals are gone.
    summary = traceback.TracebackException.from_exception(exc, capture_locals=True)
    rendered = "".join(summary.format())
    for canary in scene.canaries:
        assert canary not in rendered


# --- the scrubber on its own -----------------------------------------------------------------


def raised_by(work: Callable[[], object]) -> BaseException:
    """The exception ``work()`` raises, caught in a frame that holds no canary of its own."""
    try:
        work()
    except BaseException as exc:  # noqa: BLE001
        return exc
    raise AssertionError("expected an exception")


def test_scrub_drops_foreign_chained_errors_and_scrubs_sdk_ones() -> None:
    canary = make_canary("chain")

    def vendor_parse(payload: dict[str, Any]) -> None:
        raise KeyError(payload["name"])

    def sdk_layer(payload: dict[str, Any]) -> None:
        try:
            vendor_parse(payload)
        except KeyError as exc:
            raise NexoraError("could not read the answer") from exc

    def boundary(payload: dict[str, Any]) -> None:
        try:
            sdk_layer(payload)
        except NexoraError:
            raise ConversationClosedError("closed (hung up)") from None

    caught = raised_by(lambda: boundary({"name": canary}))
    assert type(caught) is ConversationClosedError
    assert leaks(caught, canary), "before: the frames and the KeyError hold the canary"
    scrub_exception(caught)
    assert leaks(caught, canary) == []
    assert str(caught) == "closed (hung up)"
    assert type(caught) is ConversationClosedError
    inner = caught.__context__
    assert isinstance(inner, NexoraError), "an SDK error in the chain is kept"
    assert inner.__cause__ is None, "the KeyError (which quotes the record) is dropped"
    assert caught.__suppress_context__, "`from None` is still honoured"


def test_scrub_walks_exception_groups_and_survives_cycles() -> None:
    canary = make_canary("group")

    def fails(record: str) -> None:
        raise NexoraError("member failed")

    members = [raised_by(lambda: fails(canary)) for _ in range(2)]
    assert all(isinstance(m, NexoraError) for m in members)
    group = ExceptionGroup("sources failed", [m for m in members if isinstance(m, NexoraError)])
    a, b = NexoraError("a"), NexoraError("b")
    a.__context__, b.__context__ = b, a  # a cycle must not loop
    group.__context__ = a
    assert leaks(group, canary)
    scrub_exception(group)
    assert leaks(group, canary) == []
    assert list(group.exceptions) == members


async def test_scrub_never_finalises_another_task_still_handling_the_same_exception() -> None:
    """One exception raised in two tasks (a shared future): clearing a live frame would kill its task.

    ``traceback.clear_frames`` finalises a suspended coroutine whose frame it clears; this task
    would then never finish. The scrubber leaves frames of live coroutines alone.
    """
    shared: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    seen: list[BaseException] = []
    handling = asyncio.Event()

    async def still_handling() -> str:
        try:
            await shared
        except ValueError as exc:
            seen.append(exc)
            handling.set()
            await asyncio.sleep(0.05)  # suspended inside the handler; its frame is in exc's traceback
            return "alive"
        return "not reached"

    task = asyncio.create_task(still_handling())
    await asyncio.sleep(0)
    shared.set_exception(ValueError("shared"))
    await asyncio.wait_for(handling.wait(), 2)
    scrub_exception(seen[0])
    assert await asyncio.wait_for(task, 2) == "alive"
