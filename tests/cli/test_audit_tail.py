"""``nexora-connect audit tail``: the last records across days and regions, filters, JSON Lines, --follow.

The files are written as the JSON Lines sink writes them (one per UTC day, per
region's location), by hand, so that each test controls exactly what is there.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from sdk import AuditDecision, AuditRecord
from sdk._cli import _audit_tail
from sdk.cli import main
from sdk.testing import make_canary
from tests.cli.conftest import toml

CLI = str(Path(sys.executable).parent / "nexora-connect")
DAY = datetime(2026, 3, 1, 23, 59, tzinfo=UTC)


def record(
    n: int, *, tenant: str = "acme", region: str | None = "nz", day: datetime = DAY, **fields: Any
) -> str:
    values: dict[str, Any] = {
        "at": day + timedelta(seconds=n),
        "tenant": tenant,
        "integration": "crm",
        "connector": "hubspot",
        "operation": f"op{n}",
        "scope": "contacts:read",
        "decision": AuditDecision.ALLOWED,
        "outcome": "ok",
        "http_status": 200,
        "latency_ms": 12.5,
        "credential_version": 3,
        "conversation_id": "call-1",
        "region": region,
        **fields,
    }
    return AuditRecord(**values).model_dump_json() + "\n"


def write(directory: Path, day: datetime, *lines: str, prefix: str = "audit") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{prefix}-{day.date().isoformat()}.jsonl"
    with path.open("a", encoding="utf-8") as handle:
        handle.writelines(lines)
    return path


def operations(out: str) -> list[str]:
    return [json.loads(line)["operation"] for line in out.splitlines()]


def test_the_last_records_across_days_oldest_first(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    yesterday, today = DAY - timedelta(days=1), DAY
    write(tmp_path, yesterday, *(record(n, day=yesterday) for n in range(5)))
    write(tmp_path, today, *(record(n, day=today) for n in range(5, 8)))
    (tmp_path / "notes.txt").write_text("not an audit file\n")
    assert main(["audit", "tail", "--dir", str(tmp_path), "-n", "4", "--json"]) == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    assert operations(captured.out) == ["op4", "op5", "op6", "op7"]
    assert set(json.loads(captured.out.splitlines()[0])) == set(AuditRecord.model_fields)

    assert main(["audit", "tail", "--dir", str(tmp_path), "-n", "2"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == [
        "TIME",
        "TENANT",
        "INTEGRATION",
        "OPERATION",
        "SCOPE",
        "DECISION",
        "OUTCOME",
        "HTTP",
        "MS",
        "VER",
        "CONVERSATION",
        "REGION",
    ]
    assert lines[2].split() == [
        (today + timedelta(seconds=7)).isoformat(timespec="milliseconds"),
        "acme",
        "crm",
        "op7",
        "contacts:read",
        "allowed",
        "ok",
        "200",
        "12.5",
        "v3",
        "call-1",
        "nz",
    ]


def test_a_large_file_is_read_from_its_end(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lines = [record(n) for n in range(3000)]  # ~1 MB: several blocks
    write(tmp_path, DAY, *lines)
    assert main(["audit", "tail", "--dir", str(tmp_path), "-n", "3", "--json"]) == 0
    assert operations(capsys.readouterr().out) == ["op2997", "op2998", "op2999"]


def test_filters_by_tenant_and_region(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(
        tmp_path,
        DAY,
        record(1, tenant="acme"),
        record(2, tenant="globex"),
        record(3, tenant="acme", region="au"),
        record(4, tenant="acme", region=None),
    )
    assert main(["audit", "tail", "--dir", str(tmp_path), "--tenant", "acme", "--json"]) == 0
    assert operations(capsys.readouterr().out) == ["op1", "op3", "op4"]
    assert main(["audit", "tail", "--dir", str(tmp_path), "--region", "au", "--json"]) == 0
    assert operations(capsys.readouterr().out) == ["op3"]
    assert main(["audit", "tail", "--dir", str(tmp_path), "--tenant", "initech"]) == 0
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "no audit records match" in captured.err


def test_with_a_configuration_every_region_location_is_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    nz, au = tmp_path / "nz", tmp_path / "au" / "trail.jsonl"
    write(nz, DAY, record(1), record(3))
    write(au.parent, DAY, record(2, region="au"), prefix="trail")
    config = tmp_path / "nexora.toml"
    config.write_text(
        toml(
            {
                "vault": {"address": "http://127.0.0.1:8200"},
                "audit": {"sink": "jsonl", "locations": {"nz": str(nz), "au": str(au)}},
            }
        )
    )
    assert main(["audit", "tail", "--config", str(config), "--json"]) == 0
    assert operations(capsys.readouterr().out) == ["op1", "op2", "op3"]
    assert main(["audit", "tail", "--config", str(config), "--region", "au", "--json"]) == 0
    assert operations(capsys.readouterr().out) == ["op2"]
    # Reading created nothing and deleted nothing.
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == [
        "audit-2026-03-01.jsonl",
        "nexora.toml",
        "trail-2026-03-01.jsonl",
    ]


def test_a_configuration_without_a_trail_on_disk_is_a_configuration_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "nexora.toml"
    config.write_text(toml({"vault": {"address": "http://127.0.0.1:8200"}, "audit": {"sink": "memory"}}))
    assert main(["audit", "tail", "--config", str(config)]) == 4
    assert "audit.sink = 'memory'" in capsys.readouterr().err
    assert main(["audit", "tail", "--dir", str(tmp_path / "missing")]) == 1
    assert "does not exist" in capsys.readouterr().err


def test_lines_that_are_not_records_are_skipped_and_not_shown(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    canary = make_canary("tampered")
    write(
        tmp_path,
        DAY,
        record(1),
        f'{{"note": "{canary}"}}\n',
        "not json " + canary + "\n",
        record(2).replace('"region"', f'"extra":"{canary}","region"'),  # an unknown field is dropped
        '{"at": "yesterday", "tenant": "a", "operation": "b"}\n',
        record(3)[:40] + "\n",  # a torn line
    )
    assert main(["audit", "tail", "--dir", str(tmp_path), "--json"]) == 0
    captured = capsys.readouterr()
    assert operations(captured.out) == ["op1", "op2"]
    assert captured.err == "nexora-connect: skipped 4 line(s) that are not audit records\n"
    assert canary not in captured.out + captured.err


def test_at_a_terminal_a_rich_table(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from sdk._cli import _output

    monkeypatch.setattr(_output, "is_terminal", lambda stream: True)
    write(tmp_path, DAY, record(1, decision=AuditDecision.DENIED, outcome="ScopeDeniedError"))
    assert main(["audit", "tail", "--dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "─" in out
    assert "03-01 23:59:01" in out
    assert "denied" in out


def test_follow_prints_new_records_as_they_arrive(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Driven in process: each wait between polls writes what a running agent would have written."""
    tomorrow = DAY + timedelta(days=1)
    today_file = write(tmp_path, DAY, record(1))
    steps: Iterator[Any] = iter(
        [
            lambda: write(tmp_path, DAY, record(2)),
            lambda: write(tmp_path, DAY, record(3)[:30]),  # half a line: not printed yet
            lambda: write(tmp_path, DAY, record(3)[30:]),  # the rest of it
            lambda: write(tmp_path, tomorrow, record(4, day=tomorrow)),  # the change of day
            lambda: today_file.unlink(),  # retention deleted yesterday's file
            lambda: write(tmp_path, tomorrow, record(5, day=tomorrow, tenant="globex")),  # filtered out
            lambda: write(tmp_path, tomorrow, record(6, day=tomorrow)),
        ]
    )
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        step = next(steps, None)
        if step is None:
            raise KeyboardInterrupt
        step()

    monkeypatch.setattr(_audit_tail, "_sleep", sleep)
    code = main(
        ["audit", "tail", "--dir", str(tmp_path), "--tenant", "acme", "-f", "--interval", "0.25", "--json"]
    )
    captured = capsys.readouterr()
    assert code == 130
    assert operations(captured.out) == ["op1", "op2", "op3", "op4", "op6"]
    assert set(waits) == {0.25}

    monkeypatch.setattr(_audit_tail, "_sleep", lambda seconds: (_ for _ in ()).throw(KeyboardInterrupt()))
    assert main(["audit", "tail", "--dir", str(tmp_path), "-n", "1", "--follow"]) == 130
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:3] == ["TIME", "TENANT", "INTEGRATION"]
    assert lines[1].split()[3] == "op6"


def test_follow_ends_cleanly_on_sigterm(tmp_path: Path) -> None:
    """In a real process: SIGTERM ends --follow with 130, no traceback, everything printed flushed."""
    write(tmp_path, DAY, record(1))
    process = subprocess.Popen(
        [CLI, "audit", "tail", "--dir", str(tmp_path), "--follow", "--interval", "0.05", "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        assert json.loads(first)["operation"] == "op1"
        write(tmp_path, DAY, record(2))
        second = process.stdout.readline()
        assert json.loads(second)["operation"] == "op2"
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 130
    assert "Traceback" not in err
    assert out == ""
