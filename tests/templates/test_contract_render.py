"""The template's generated contract test: rendered with a spec path, installed, run, and made to fail.

``spec_path`` is a copier question (empty by default: no contract test). Here the CRM template is
rendered with ``spec_path = "specs/openapi.yaml"``, the placeholder API's document
(``fixtures/placeholder-crm-openapi.yaml``) is copied there, the package is installed as
``test_render.py`` installs it, and the rendered tests run: the generated contract test must pass
against the document the connector follows, and fail, naming the field, once the document
disagrees with what the connector sends.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from sdk._scaffold import _requirement, template_root

copier = pytest.importorskip("copier", reason="the template tests need copier (in the dev extra)")

FIXTURE = Path(__file__).parent / "fixtures" / "placeholder-crm-openapi.yaml"
NAME = "acme_spec"
SPEC = "specs/openapi.yaml"


def _render(destination: Path, **extra: str) -> Path:
    data = {"connector_name": NAME, "category": "crm", "nexora_requirement": _requirement(), **extra}
    copier.run_copy(
        str(template_root()), destination, data=data, defaults=True, unsafe=False, quiet=True, overwrite=False
    )
    return destination


def _pytest(root: Path, site: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "PYTHONPATH"))}
    env["PYTHONPATH"] = str(site)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return subprocess.run(
        [sys.executable, "-m", "pytest", *args, "-v", "-p", "no:cacheprovider", "--no-header"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    work = tmp_path_factory.mktemp("template-contract")
    root = _render(work / NAME, spec_path=SPEC)
    (root / "specs").mkdir()
    shutil.copy(FIXTURE, root / SPEC)
    site = work / "site"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "--disable-pip-version-check",
            "--quiet",
            "--target",
            str(site),
            str(root),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return root, site


def test_without_a_spec_path_no_contract_test_is_generated(tmp_path: Path) -> None:
    root = _render(tmp_path / "plain")
    assert sorted(p.name for p in (root / "tests").glob("test_*.py")) == [f"test_{NAME}.py"]


def test_the_generated_contract_test_passes_against_the_document(installed: tuple[Path, Path]) -> None:
    root, site = installed
    contract_test = root / "tests" / f"test_{NAME}_contract.py"
    assert SPEC in contract_test.read_text(encoding="utf-8")
    run = _pytest(root, site, "tests")
    output = run.stdout + run.stderr
    assert run.returncode == 0, output[-6000:]
    checked = [line for line in output.splitlines() if "test_each_case_follows_the_vendor_document[" in line]
    assert len(checked) == 5, output[-3000:]  # one per case of the CRM template's cases file
    assert all(line.rstrip().endswith("PASSED") or " PASSED" in line for line in checked)
    for tool in ("ruff",):
        binary = Path(sys.executable).parent / tool
        if binary.is_file():
            for command in (["check", "--no-cache", "."], ["format", "--check", "--no-cache", "."]):
                lint = subprocess.run(
                    [str(binary), *command], cwd=root, capture_output=True, text=True, timeout=60, check=False
                )
                assert lint.returncode == 0, lint.stdout + lint.stderr


def test_the_generated_contract_test_fails_when_the_connector_breaks_the_document(
    installed: tuple[Path, Path], tmp_path: Path
) -> None:
    """The vendor renamed the note's field: the connector's ``{"body": ...}`` no longer fits."""
    root, site = installed
    original = (root / SPEC).read_text(encoding="utf-8")
    broken = original.replace("required: [body]", "required: [text]").replace(
        "body: {type: string, minLength: 1}", "text: {type: string, minLength: 1}"
    )
    assert broken != original
    (root / SPEC).write_text(broken, encoding="utf-8")
    try:
        run = _pytest(root, site, f"tests/test_{NAME}_contract.py")
    finally:
        (root / SPEC).write_text(original, encoding="utf-8")
    output = run.stdout + run.stderr
    assert run.returncode != 0, output[-3000:]
    assert "test_each_case_follows_the_vendor_document[create_note] FAILED" in output
    assert "request body" in output
    assert "1 failed" in output, output[-3000:]


@pytest.mark.parametrize("spec_path", ['x".yaml', "specs/{{ 7 * 7 }}.yaml", "a\nb", "x\\y.yaml"])
def test_a_spec_path_that_could_break_out_of_a_string_is_refused(spec_path: str, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="use at most 300"):
        _render(tmp_path / "out", spec_path=spec_path)
