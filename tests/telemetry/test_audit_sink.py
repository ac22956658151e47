"""The JSON-lines audit sink: daily files, retention, regional placement (S8), concurrency, no data (S7)."""

from __future__ import annotations

import asyncio
import errno
import logging
import os
import shutil
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

import sdk._audit
from sdk import (
    AuditDecision,
    AuditRecord,
    ConfigurationError,
    JsonLinesAuditSink,
    NexoraConfig,
    NexoraConnect,
    ResidencyError,
    VendorNotFoundError,
    VendorPayloadError,
)
from sdk.testing import MemoryCredentialSource, issued_canaries, make_canary
from tests.connectors import hubspot_cases as hs
from tests.mock_nexora import runtime_on
from tests.telemetry.clock import FakeClock

NOON = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
CONTACT = "/crm/v3/objects/contacts/51"


def record(tenant: str = "acme", region: str | None = "nz", **overrides: Any) -> AuditRecord:
    fields: dict[str, Any] = {
        "tenant": tenant,
        "integration": "crm",
        "connector": "hubspot",
        "operation": "get_contact",
        "scope": "contacts:read",
        "decision": AuditDecision.ALLOWED,
        "outcome": "ok",
        "http_status": 200,
        "latency_ms": 1.5,
        "credential_version": 3,
        "conversation_id": "call-1",
        "region": region,
    }
    return AuditRecord(**{**fields, **overrides})


def read(path: Path) -> list[AuditRecord]:
    return [AuditRecord.model_validate_json(line) for line in path.read_text(encoding="utf-8").splitlines()]


def tree(root: Path) -> list[str]:
    return sorted(str(path.relative_to(root)) for path in root.rglob("*") if path.is_file())


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOON)


@pytest.fixture
def sinks() -> Iterator[list[JsonLinesAuditSink]]:
    """Sinks a test opens, closed at its end whatever happens."""
    opened: list[JsonLinesAuditSink] = []
    yield opened
    for sink in opened:
        sink.close()


# --- one file per UTC day ---------------------------------------------------------------------------


def test_a_record_is_one_line_in_the_file_of_its_utc_day(
    tmp_path: Path, clock: FakeClock, sinks: list[JsonLinesAuditSink]
) -> None:
    sink = JsonLinesAuditSink(tmp_path, clock=clock)
    sinks.append(sink)
    first = record()
    sink.emit(first)
    assert tree(tmp_path) == ["audit-2026-11-26.jsonl"]
    assert read(tmp_path / "audit-2026-11-26.jsonl") == [first]


def test_it_rotates_at_utc_midnight_not_local_midnight(
    tmp_path: Path, sinks: list[JsonLinesAuditSink]
) -> None:
    auckland = timezone(timedelta(hours=13))
    # 00:30 on the 27th in Auckland is still the 26th in UTC.
    clock = FakeClock(datetime(2026, 11, 27, 0, 30, tzinfo=auckland))
    sink = JsonLinesAuditSink(tmp_path, clock=clock)
    sinks.append(sink)
    before = [record(operation=f"op-{i}") for i in range(2)]
    for item in before:
        sink.emit(item)
    clock.advance(timedelta(hours=12, minutes=29, seconds=59))  # 23:59:59 UTC on the 26th
    sink.emit(last := record(operation="last-of-day"))
    clock.advance(timedelta(seconds=1))  # 00:00:00 UTC on the 27th
    sink.emit(first := record(operation="first-of-day"))
    sink.emit(second := record(operation="second-of-day"))

    assert tree(tmp_path) == ["audit-2026-11-26.jsonl", "audit-2026-11-27.jsonl"]
    assert read(tmp_path / "audit-2026-11-26.jsonl") == [*before, last]
    assert read(tmp_path / "audit-2026-11-27.jsonl") == [first, second]
    assert sink.files() == [tmp_path / "audit-2026-11-26.jsonl", tmp_path / "audit-2026-11-27.jsonl"]


def test_a_single_jsonl_path_still_works_and_names_the_daily_files(
    tmp_path: Path, clock: FakeClock, sinks: list[JsonLinesAuditSink]
) -> None:
    sink = JsonLinesAuditSink(tmp_path / "logs" / "trail.jsonl", clock=clock)
    sinks.append(sink)
    sink.emit(item := record())
    assert tree(tmp_path) == ["logs/trail-2026-11-26.jsonl"]
    assert read(tmp_path / "logs" / "trail-2026-11-26.jsonl") == [item]
    assert sink.locations == {"nz": tmp_path / "logs"}


async def test_the_configured_jsonl_sink_of_the_runtime_writes_daily_files(
    tmp_path: Path, credentials: MemoryCredentialSource, router: respx.MockRouter
) -> None:
    config = NexoraConfig.parse(
        {
            "vault": {"address": "http://127.0.0.1:9"},
            "audit": {"sink": "jsonl", "path": str(tmp_path / "audit.jsonl")},
            "tenants": {"acme": {"integrations": {hs.READ: {"connector": "hubspot"}}}},
        }
    )
    router.get(CONTACT).respond(200, json=hs.fixture("contact"))
    async with (
        runtime_on(router, config, hs.registry(), credentials) as nc,
        nc.conversation(tenant="acme", conversation_id="call-1") as conv,
    ):
        await conv.call(hs.READ, "get_contact", contact_id="51")
        assert isinstance(nc.audit_sink, JsonLinesAuditSink)
        (written,) = nc.audit_sink.files()
    assert written.parent == tmp_path
    assert [(r.tenant, r.operation, r.outcome, r.region) for r in read(written)] == [
        ("acme", "get_contact", "ok", "nz")
    ]


@pytest.mark.parametrize(
    ("arguments", "complaint"),
    [
        ({}, "exactly one of"),
        ({"path": "x", "locations": {"nz": "y"}}, "exactly one of"),
        ({"locations": {"au": "y"}}, "default region 'nz'"),
        ({"path": "x", "retention_days": 0}, "retention_days"),
        ({"path": "x", "retention_days": 2.5}, "retention_days"),
        ({"path": "x/a b.jsonl"}, "'a b.jsonl'"),
    ],
)
def test_a_bad_setup_is_a_configuration_error_that_says_what_to_fix(
    tmp_path: Path, arguments: dict[str, Any], complaint: str
) -> None:
    if "path" in arguments:
        arguments["path"] = tmp_path / arguments["path"]
    with pytest.raises(ConfigurationError, match=complaint):
        JsonLinesAuditSink(**arguments)


# --- retention -----------------------------------------------------------------------------------


def _touch(directory: Path, *names: str) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for name in names:
        (directory / name).write_text('{"kept": "by someone"}\n', encoding="utf-8")


def test_at_start_it_deletes_its_own_files_past_the_retention_and_nothing_else(
    tmp_path: Path, clock: FakeClock, sinks: list[JsonLinesAuditSink]
) -> None:
    others = [
        "audit-2026-08-27.jsonl.gz",  # an operator's archive
        "audit-2026-08-27.log",
        "trail-2026-01-01.jsonl",  # another prefix
        "audit-nz-2026-01-01.jsonl",
        "audit-2026-02-30.jsonl",  # not a date: not a name this sink writes
        "audit-26-01-01.jsonl",
        "notes.txt",
    ]
    _touch(tmp_path, "audit-2025-01-01.jsonl", "audit-2026-08-27.jsonl", "audit-2026-08-28.jsonl", *others)
    (tmp_path / "audit-2025-06-01.jsonl").mkdir()  # a directory with the pattern's name
    outside = tmp_path.parent / f"{tmp_path.name}-target.jsonl"
    outside.write_text("not the sink's\n", encoding="utf-8")
    (tmp_path / "audit-2025-06-02.jsonl").symlink_to(outside)  # a link with the pattern's name

    sinks.append(JsonLinesAuditSink(tmp_path, clock=clock))  # today: 2026-11-26, 90 days

    # 2026-08-27 ended 90 days and 12 hours ago: gone. 2026-08-28 is under 90 days old: kept.
    assert tree(tmp_path) == sorted(["audit-2025-06-02.jsonl", "audit-2026-08-28.jsonl", *others])
    assert (tmp_path / "audit-2025-06-01.jsonl").is_dir()
    assert outside.read_text(encoding="utf-8") == "not the sink's\n"


def test_the_retention_is_configurable(
    tmp_path: Path, clock: FakeClock, sinks: list[JsonLinesAuditSink]
) -> None:
    _touch(tmp_path, *(f"audit-2026-11-{day:02d}.jsonl" for day in range(17, 27)))
    sink = JsonLinesAuditSink(tmp_path, clock=clock, retention_days=7)
    sinks.append(sink)
    assert tree(tmp_path) == [f"audit-2026-11-{day:02d}.jsonl" for day in range(19, 27)]
    assert sink.prune() == []


def test_at_each_change_of_day_it_deletes_what_expired_in_the_background(
    tmp_path: Path, clock: FakeClock
) -> None:
    _touch(tmp_path / "nz", "audit-2026-11-24.jsonl", "audit-2026-11-25.jsonl")
    _touch(tmp_path / "au", "audit-2026-11-24.jsonl", "audit-2026-11-25.jsonl", "README")
    sink = JsonLinesAuditSink(
        locations={"nz": tmp_path / "nz", "au": tmp_path / "au"}, clock=clock, retention_days=3
    )
    sink.emit(record())
    assert len(tree(tmp_path)) == 6
    clock.advance(timedelta(days=2))  # today: the 28th; keep the 25th onwards
    sink.emit(record())  # only nz is written to; au's files expire all the same
    sink.close()  # waits for the retention pass
    assert tree(tmp_path) == [
        "au/README",
        "au/audit-2026-11-25.jsonl",
        "nz/audit-2026-11-25.jsonl",
        "nz/audit-2026-11-26.jsonl",
        "nz/audit-2026-11-28.jsonl",
    ]


# --- residency (S8) -------------------------------------------------------------------------------


@pytest.fixture
def regional(tmp_path: Path, clock: FakeClock, sinks: list[JsonLinesAuditSink]) -> JsonLinesAuditSink:
    """NZ and US locations; tenant 'roamer' may use another region, tenant 'acme' may not."""
    sink = JsonLinesAuditSink(
        locations={"nz": tmp_path / "nz", "us": tmp_path / "us"}, cross_region={"roamer"}, clock=clock
    )
    sinks.append(sink)
    return sink


def test_each_record_goes_under_its_regions_location(tmp_path: Path, regional: JsonLinesAuditSink) -> None:
    kiwi, yankee, unmarked = record(region="nz"), record(tenant="yank", region="us"), record(region=None)
    for item in (kiwi, yankee, unmarked):
        regional.emit(item)
    assert read(tmp_path / "nz" / "audit-2026-11-26.jsonl") == [kiwi, unmarked]
    assert read(tmp_path / "us" / "audit-2026-11-26.jsonl") == [yankee]


def test_a_record_of_a_region_without_a_location_is_dropped_loudly_never_moved(
    tmp_path: Path, clock: FakeClock, sinks: list[JsonLinesAuditSink], caplog: pytest.LogCaptureFixture
) -> None:
    drops: list[tuple[AuditRecord, Exception]] = []
    sink = JsonLinesAuditSink(
        locations={"nz": tmp_path / "nz"}, clock=clock, on_drop=lambda r, e: drops.append((r, e))
    )
    sinks.append(sink)
    australian = record(region="au")
    with caplog.at_level(logging.WARNING, logger="nexora.audit"):
        for _ in range(3):
            sink.emit(australian)  # must not raise: the call it audits has already happened
    assert tree(tmp_path) == []
    assert sink.dropped == 3
    assert [(r, type(e)) for r, e in drops] == [(australian, ResidencyError)] * 3
    # Logged at the 1st and 2nd drop (then 4th, 8th, ...), with the region and nothing of the record.
    messages = [r.getMessage() for r in caplog.records if r.name == "nexora.audit"]
    assert len(messages) == 2
    assert all("'au'" in m and "ResidencyError" in m and "call-1" not in m for m in messages)


def test_a_tenant_allowed_cross_region_goes_to_the_default_location(
    tmp_path: Path, regional: JsonLinesAuditSink
) -> None:
    roaming, stuck = record(tenant="roamer", region="au"), record(tenant="acme", region="au")
    regional.emit(roaming)
    regional.emit(stuck)
    assert tree(tmp_path) == ["nz/audit-2026-11-26.jsonl"]
    assert read(tmp_path / "nz" / "audit-2026-11-26.jsonl") == [roaming]
    assert regional.dropped == 1


def test_cross_region_can_be_a_predicate_and_the_default_region_can_move(
    tmp_path: Path, clock: FakeClock, sinks: list[JsonLinesAuditSink]
) -> None:
    sink = JsonLinesAuditSink(
        locations={"au": tmp_path / "au"},
        default_region="au",
        cross_region=lambda tenant: tenant.startswith("global-"),
        clock=clock,
    )
    sinks.append(sink)
    sink.emit(record(tenant="global-1", region="nz"))
    sink.emit(record(tenant="local-1", region="nz"))
    sink.emit(record(tenant="local-1", region=None))
    assert [r.tenant for r in read(tmp_path / "au" / "audit-2026-11-26.jsonl")] == ["global-1", "local-1"]
    assert sink.dropped == 1


def test_check_residency_refuses_at_startup_a_tenant_whose_records_would_have_no_place(
    regional: JsonLinesAuditSink,
) -> None:
    regional.check_residency("acme", "nz")
    regional.check_residency("roamer", "au")
    with pytest.raises(ResidencyError) as refused:
        regional.check_residency("acme", "au")
    for part in ("'acme'", "'au'", "audit.locations.au", "cross_region"):
        assert part in str(refused.value)


# --- failures never break the call --------------------------------------------------------------


async def test_an_unwritable_location_drops_counts_and_recovers_without_failing_the_call(
    tmp_path: Path, clock: FakeClock, credentials: MemoryCredentialSource, router: respx.MockRouter
) -> None:
    drops: list[Exception] = []
    sink = JsonLinesAuditSink(tmp_path / "nz", clock=clock, on_drop=lambda r, e: drops.append(e))
    shutil.rmtree(tmp_path / "nz")  # the volume went away after startup
    router.get(CONTACT).respond(200, json=hs.fixture("contact"))
    nc = _runtime(router, credentials, sink)
    async with nc, nc.conversation(tenant="acme", conversation_id="call-1") as conv:
        assert (await conv.call(hs.READ, "get_contact", contact_id="51")).id == "51"
        assert sink.dropped == 1
        assert [type(e) for e in drops] == [FileNotFoundError]
        os.mkdir(tmp_path / "nz")
        await conv.call(hs.READ, "get_contact", contact_id="51")
    assert [r.outcome for r in read(tmp_path / "nz" / "audit-2026-11-26.jsonl")] == ["cached"]
    assert sink.dropped == 1


def test_after_a_torn_write_the_next_record_starts_on_a_line_of_its_own(
    tmp_path: Path, clock: FakeClock, sinks: list[JsonLinesAuditSink], monkeypatch: pytest.MonkeyPatch
) -> None:
    sink = JsonLinesAuditSink(tmp_path, clock=clock)
    sinks.append(sink)
    real_write_all = sdk._audit._write_all

    def disk_full_halfway(fd: int, data: bytes) -> None:
        os.write(fd, data[: len(data) // 2])
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(sdk._audit, "_write_all", disk_full_halfway)
    sink.emit(record(operation="torn"))
    monkeypatch.setattr(sdk._audit, "_write_all", real_write_all)
    sink.emit(whole := record(operation="whole"))
    sink.emit(next_one := record(operation="next"))

    torn, *rest = (tmp_path / "audit-2026-11-26.jsonl").read_text(encoding="utf-8").splitlines()
    assert not torn.endswith("}")
    assert [AuditRecord.model_validate_json(line) for line in rest] == [whole, next_one]
    assert sink.dropped == 1


def test_a_failing_on_drop_hook_does_not_escape(
    tmp_path: Path, clock: FakeClock, sinks: list[JsonLinesAuditSink]
) -> None:
    def broken_alert(item: AuditRecord, error: Exception) -> None:
        raise RuntimeError("pager is down")

    sink = JsonLinesAuditSink(tmp_path, clock=clock, on_drop=broken_alert)
    sinks.append(sink)
    sink.emit(record(region="eu"))
    assert sink.dropped == 1


def test_emit_after_close_is_a_counted_drop(tmp_path: Path, clock: FakeClock) -> None:
    sink = JsonLinesAuditSink(tmp_path, clock=clock)
    sink.emit(record())
    sink.close()
    sink.emit(record())
    assert sink.dropped == 1
    assert len(read(tmp_path / "audit-2026-11-26.jsonl")) == 1


# --- concurrency --------------------------------------------------------------------------------


def _emit_from_threads(sinks: list[JsonLinesAuditSink], per_thread: int, clock: FakeClock) -> None:
    """Threads emit records, some longer than a pipe buffer; one thread moves the clock to the next day."""
    start = threading.Barrier(len(sinks) * 4)

    def worker(sink: JsonLinesAuditSink, index: int) -> None:
        start.wait()
        for i in range(per_thread):
            if index == 0 and i == per_thread // 2:
                clock.advance(timedelta(hours=12))
            sink.emit(record(operation=f"op-{index}-{i:04d}", integration=f"crm-{'x' * (i % 7) * 900}"))

    threads = [
        threading.Thread(target=worker, args=(sink, n * 4 + k))
        for n, sink in enumerate(sinks)
        for k in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def _check_lines(directory: Path, writers: int, per_thread: int) -> None:
    seen: dict[str, list[int]] = {}
    files = sorted(directory.glob("audit-*.jsonl"))
    assert [f.name for f in files] == ["audit-2026-11-26.jsonl", "audit-2026-11-27.jsonl"]
    for file in files:
        for line in file.read_bytes().split(b"\n")[:-1]:
            item = AuditRecord.model_validate_json(line)  # a torn or interleaved line fails here
            _, writer, number = item.operation.split("-")
            seen.setdefault(writer, []).append(int(number))
    assert sorted(seen) == sorted(str(w) for w in range(writers))
    assert all(numbers == list(range(per_thread)) for numbers in seen.values())


def test_concurrent_threads_write_whole_lines_across_a_change_of_day(
    tmp_path: Path, sinks: list[JsonLinesAuditSink]
) -> None:
    clock = FakeClock(datetime(2026, 11, 26, 23, 0, tzinfo=UTC))
    sink = JsonLinesAuditSink(tmp_path, clock=clock)
    sinks.append(sink)
    _emit_from_threads([sink], per_thread=200, clock=clock)
    _check_lines(tmp_path, writers=4, per_thread=200)
    assert sink.dropped == 0


def test_two_sinks_on_one_directory_like_two_processes_never_interleave(
    tmp_path: Path, sinks: list[JsonLinesAuditSink]
) -> None:
    clock = FakeClock(datetime(2026, 11, 26, 23, 0, tzinfo=UTC))
    pair = [JsonLinesAuditSink(tmp_path, clock=clock) for _ in range(2)]
    sinks.extend(pair)
    _emit_from_threads(pair, per_thread=100, clock=clock)
    _check_lines(tmp_path, writers=8, per_thread=100)


async def test_concurrent_tasks_and_worker_threads_write_whole_lines(
    tmp_path: Path, clock: FakeClock, sinks: list[JsonLinesAuditSink]
) -> None:
    sink = JsonLinesAuditSink(tmp_path, clock=clock)
    sinks.append(sink)

    async def task(index: int) -> None:
        for i in range(20):
            item = record(operation=f"task-{index}-{i}")
            if i % 2:
                await asyncio.to_thread(sink.emit, item)
            else:
                sink.emit(item)
            await asyncio.sleep(0)

    await asyncio.gather(*(task(n) for n in range(30)))
    operations = [item.operation for item in read(tmp_path / "audit-2026-11-26.jsonl")]
    assert sorted(operations) == sorted(f"task-{n}-{i}" for n in range(30) for i in range(20))


# --- no customer data, no secret (S7) -----------------------------------------------------------


def _runtime(
    router: respx.MockRouter, credentials: MemoryCredentialSource, sink: JsonLinesAuditSink
) -> NexoraConnect:
    return hs.runtime(router, credentials, audit=sink)


async def test_no_customer_value_or_key_reaches_any_audit_line(
    tmp_path: Path,
    clock: FakeClock,
    credentials: MemoryCredentialSource,
    router: respx.MockRouter,
    canary_key: str,
) -> None:
    name, broken, message, searched, note = (
        make_canary(p) for p in ("name", "date", "msg", "search", "note")
    )
    contact = hs.fixture("contact")
    contact["properties"]["firstname"] = name
    malformed = hs.fixture("contact")
    malformed["updatedAt"] = broken
    missing = hs.fixture("error_not_found")
    missing["message"] = message
    router.get(CONTACT).mock(
        side_effect=[
            httpx.Response(200, json=contact),
            httpx.Response(200, json=malformed),
            httpx.Response(404, json=missing),
        ]
    )
    router.post(hs.SEARCH).respond(200, json=hs.search_response())
    sink = JsonLinesAuditSink(tmp_path, clock=clock)
    async with _runtime(router, credentials, sink) as nc:
        for n, error in enumerate((None, VendorPayloadError, VendorNotFoundError)):
            async with nc.conversation(tenant="acme", conversation_id=f"call-{n}") as conv:
                if error is None:
                    await conv.call(hs.READ, "get_contact", contact_id="51")
                    await conv.call(hs.READ, "find_contacts", email=f"{searched}@example.test")
                    with pytest.raises(Exception, match="notes:write"):
                        await conv.call(hs.READ, "create_note", contact_id="51", body=note)
                else:
                    with pytest.raises(error):
                        await conv.call(hs.READ, "get_contact", contact_id="51")

    text = "".join(path.read_text(encoding="utf-8") for path in sink.files())
    assert [r.outcome for r in read(tmp_path / "audit-2026-11-26.jsonl")] == [
        "ok",
        "ok",
        "ScopeDeniedError",
        "VendorPayloadError",
        "VendorNotFoundError",
    ]
    assert {name, broken, message, searched, note, canary_key} <= issued_canaries()
    assert [canary for canary in issued_canaries() if canary in text] == []
    assert "example.test" not in text
    assert os.stat(sink.files()[0]).st_mode & 0o007 == 0  # nothing for others
