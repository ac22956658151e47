"""``nexora-connect new-connector``: renders the template, says what to do next, refuses what it cannot use.

The rendered package's own tests are run by tests/templates; here only the command around it.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from sdk.cli import main

pytest.importorskip("copier", reason="new-connector needs copier (in the dev extra)")


def test_renders_into_the_destination_and_prints_the_next_steps(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dest = tmp_path / "acme-desk"
    code = main(
        [
            "new-connector",
            "acme_desk",
            "--category",
            "ticketing",
            "--dest",
            str(dest),
            "--display-name",
            "Acme Desk",
        ]
    )
    captured = capsys.readouterr()
    assert (code, captured.err) == (0, "")
    assert (dest / "pyproject.toml").is_file()
    assert "acme_desk" in (dest / "pyproject.toml").read_text()
    lines = captured.out.splitlines()
    assert lines[0] == f"Rendered connector 'acme_desk' (ticketing) into {dest}"
    assert f"  cd {dest}" in lines
    assert "  python -m pip install -e '.[test]'" in lines
    assert "  python -m pytest" in lines


def test_the_destination_defaults_to_the_name_and_json_parses(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["new-connector", "acme_pay", "--category", "billing", "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["path"] == str(tmp_path / "acme_pay")
    assert document["category"] == "billing"
    assert document["next_steps"][1:] == ["python -m pip install -e '.[test]'", "python -m pytest"]
    assert (tmp_path / "acme_pay" / "pyproject.toml").is_file()


@pytest.mark.parametrize(
    ("argv", "code", "message"),
    [
        (["Acme-CRM", "--category", "crm"], 2, "is not usable"),
        (["hubspot", "--category", "crm"], 2, "already installed"),
        (["acme", "--category", "crm", "--display-name", "Acme {{ evil }}"], 2, "display name"),
    ],
    ids=["bad-name", "taken-name", "bad-display-name"],
)
def test_unusable_names_are_usage_errors(
    argv: list[str], code: int, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["new-connector", *argv, "--dest", str(tmp_path / "out")]) == code
    err = capsys.readouterr().err
    assert message in err
    assert err.count("\n") == 1
    assert not (tmp_path / "out").exists()


def test_a_non_empty_destination_is_never_overwritten(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "keep.txt").write_text("mine")
    assert main(["new-connector", "acme_crm", "--category", "crm", "--dest", str(tmp_path)]) == 1
    assert "is not empty" in capsys.readouterr().err
    assert [p.name for p in tmp_path.iterdir()] == ["keep.txt"]


def test_without_copier_the_error_says_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "copier", None)
    assert main(["new-connector", "acme_crm", "--category", "crm", "--dest", str(tmp_path / "x")]) == 1
    assert "nexora-connect[scaffold]" in capsys.readouterr().err


def test_spec_adds_a_contract_test_that_points_at_the_document(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = Path(__file__).resolve().parents[1] / "templates" / "fixtures" / "placeholder-crm-openapi.yaml"
    out = tmp_path / "out"
    assert (
        main(["new-connector", "acme_crm", "--category", "crm", "--dest", str(out), "--spec", str(spec)]) == 0
    )
    (contract,) = out.rglob("test_acme_crm_contract.py")
    assert str(spec) in contract.read_text()


def test_a_spec_that_is_not_a_file_is_refused_before_rendering(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    code = main(
        ["new-connector", "acme_crm", "--category", "crm", "--dest", str(out), "--spec", "no/such.yaml"]
    )
    assert code == 1
    assert "--spec" in capsys.readouterr().err
    assert not out.exists()
