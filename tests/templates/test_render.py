"""The connector templates, rendered, installed and tested as a newcomer would (issue 6, "CI renders
every template into a temporary folder, installs it, and runs its tests").

For each category: ``render_connector`` writes the package into a temporary folder; pip builds it
with its own backend (hatchling) and installs it with ``--target`` into a throwaway folder, so
the package's dist-info and entry point are real but the test environment is left untouched;
the rendered tests then run in a subprocess with that folder on ``PYTHONPATH``. Among them,
``test_the_connector_is_installed_under_its_entry_point`` can only pass when the SDK discovers the
installed entry point. The rendered sources must also pass ruff as rendered, so a template edit
that breaks formatting (for instance an editor adding a newline to a snippet) fails here.

The three categories are rendered, installed and run concurrently (about 10 s in all on two
cores); ``render_connector``'s refusals are checked in process.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from importlib.metadata import distributions
from pathlib import Path

import pytest

from sdk import ConfigurationError, UsageError
from sdk._scaffold import CATEGORIES, render_connector, template_root

pytest.importorskip("copier", reason="the template tests need copier (in the dev extra)")

NAMES = {"crm": "acme_crm", "ticketing": "acme_desk", "billing": "acme_pay"}
PACKAGE = "nexora_connector_{}"
_BIN = Path(sys.executable).parent


@dataclass(frozen=True)
class Rendered:
    name: str
    category: str
    root: Path
    site: Path
    install: subprocess.CompletedProcess[str]
    tests: subprocess.CompletedProcess[str] | None
    seconds: float


def _clean_env(site: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "PYTHONPATH"))}
    env["PYTHONPATH"] = str(site)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def _render_install_and_test(category: str, workdir: Path) -> Rendered:
    started = time.perf_counter()
    name = NAMES[category]
    root = render_connector(name, category, workdir / name)
    site = workdir / "site"
    install = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--no-deps",  # nexora-connect itself is already installed here
            "--no-build-isolation",  # build with this environment's hatchling, offline
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
    tests = None
    if install.returncode == 0:
        tests = subprocess.run(
            [sys.executable, "-m", "pytest", "tests", "-v", "-p", "no:cacheprovider", "--no-header"],
            cwd=root,
            env=_clean_env(site),
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
    return Rendered(name, category, root, site, install, tests, time.perf_counter() - started)


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Rendered]]:
    workdirs = {category: tmp_path_factory.mktemp(f"template-{category}") for category in CATEGORIES}
    with ThreadPoolExecutor(max_workers=len(CATEGORIES)) as pool:
        futures = {c: pool.submit(_render_install_and_test, c, workdirs[c]) for c in CATEGORIES}
        yield {category: future.result() for category, future in futures.items()}


def test_there_is_one_template_per_category() -> None:
    assert set(CATEGORIES) == {"crm", "ticketing", "billing"}
    for category in CATEGORIES:
        assert (template_root() / "categories" / category / "_connector.py.jinja").is_file()


@pytest.mark.parametrize("category", CATEGORIES)
def test_rendered_package_installs_with_its_entry_point(category: str, rendered: dict[str, Rendered]) -> None:
    result = rendered[category]
    assert result.install.returncode == 0, result.install.stderr[-3000:]
    installed = [d for d in distributions(path=[str(result.site)]) if d.metadata["Name"]]
    assert [d.metadata["Name"] for d in installed] == [f"nexora-connector-{result.name.replace('_', '-')}"]
    points = [ep for ep in installed[0].entry_points if ep.group == "nexora_connect.connectors"]
    assert [(ep.name, ep.value) for ep in points] == [
        (result.name, f"{PACKAGE.format(result.name)}:{_class_name(result.name)}")
    ]
    assert (result.site / PACKAGE.format(result.name) / "py.typed").is_file()


@pytest.mark.parametrize("category", CATEGORIES)
def test_rendered_tests_pass_as_rendered(category: str, rendered: dict[str, Rendered]) -> None:
    result = rendered[category]
    assert result.tests is not None, "the package did not install"
    output = result.tests.stdout + result.tests.stderr
    assert result.tests.returncode == 0, output[-6000:]
    # The battery ran, and the entry-point test passed against the installed package.
    assert (
        "TestConformance::test_every_operation_succeeds_and_only_sends_what_its_scope_allows PASSED" in output
    )
    assert "test_the_connector_is_installed_under_its_entry_point PASSED" in output
    assert " failed" not in output
    assert " skipped" not in output


@pytest.mark.parametrize("category", CATEGORIES)
def test_rendered_sources_pass_ruff_as_rendered(category: str, rendered: dict[str, Rendered]) -> None:
    root = rendered[category].root
    ruff = _BIN / "ruff"
    if not ruff.is_file():
        pytest.skip("ruff is not installed next to this Python")
    for command in (
        [str(ruff), "check", "--no-cache", "."],
        [str(ruff), "format", "--check", "--no-cache", "."],
    ):
        done = subprocess.run(command, cwd=root, capture_output=True, text=True, timeout=60, check=False)
        assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("category", CATEGORIES)
def test_rendered_package_has_todos_and_no_template_syntax(
    category: str, rendered: dict[str, Rendered]
) -> None:
    root = rendered[category].root
    sources = {path: path.read_text(encoding="utf-8") for path in root.rglob("*") if path.is_file()}
    assert not [p for p in sources if p.suffix == ".jinja"]
    leftovers = [p for p, text in sources.items() if "{{" in text or "{%" in text]
    assert not leftovers, f"unrendered template syntax in {leftovers}"
    connector = root / "src" / PACKAGE.format(rendered[category].name) / "_connector.py"
    assert "TODO(author)" in sources[connector]


def test_all_three_render_install_and_test_within_a_minute(rendered: dict[str, Rendered]) -> None:
    """Not a timing assertion on the product: it keeps this module's cost in the suite visible."""
    slowest = max(r.seconds for r in rendered.values())
    print(f"\ntemplate render+install+test per category: {[round(r.seconds, 1) for r in rendered.values()]}")
    assert slowest < 120, "the rendered suites take too long for the default run; investigate"


def _class_name(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_")) + "Connector"


# --- refusals ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "",
        "Acme",
        "1acme",
        "acme-crm",
        "acme crm",
        "acme__crm",
        "_acme",
        "acme_",
        "acmé",
        "../acme",
        "acme/crm",
        "acme\ncrm",
        "class",
        "match",
        "a" * 41,
    ],
)
def test_render_refuses_a_name_that_is_not_a_lower_case_identifier(name: str, tmp_path: Path) -> None:
    destination = tmp_path / "out"
    with pytest.raises(ConfigurationError, match="connector name"):
        render_connector(name, "crm", destination)
    assert not destination.exists()


def test_render_refuses_the_name_of_an_installed_connector(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="already installed"):
        render_connector("zendesk", "ticketing", tmp_path / "out")


@pytest.mark.parametrize("category", ["CRM", "helpdesk", "", "crm "])
def test_render_refuses_an_unknown_category(category: str, tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="category"):
        render_connector("acme", category, tmp_path / "out")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    "display_name", ['Acme "CRM"', "Acme {{ 7 * 7 }}", "Acme\\CRM", "Acme\nCRM", "", " Acme", "A" * 61]
)
def test_render_refuses_a_display_name_that_could_break_out_of_a_string(
    display_name: str, tmp_path: Path
) -> None:
    with pytest.raises(ConfigurationError, match="display name"):
        render_connector("acme", "crm", tmp_path / "out", vendor_display_name=display_name)
    assert not (tmp_path / "out").exists()


def test_render_refuses_a_non_empty_destination_and_leaves_it_alone(tmp_path: Path) -> None:
    (tmp_path / "keep.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(UsageError, match="not empty"):
        render_connector("acme", "crm", tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == ["keep.txt"]
    assert (tmp_path / "keep.txt").read_text(encoding="utf-8") == "mine"


def test_render_refuses_a_destination_that_is_a_file(tmp_path: Path) -> None:
    target = tmp_path / "file"
    target.write_text("x", encoding="utf-8")
    with pytest.raises(UsageError, match="not a folder"):
        render_connector("acme", "crm", target)


def test_render_into_an_empty_folder_prints_nothing_and_returns_the_path(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    destination = tmp_path / "empty"
    destination.mkdir()
    result = render_connector("acme_notes", "crm", destination, vendor_display_name="Acme Notes & Co.")
    assert result == destination.resolve()
    assert capsys.readouterr() == ("", "")
    pyproject = (destination / "pyproject.toml").read_text(encoding="utf-8")
    assert 'acme_notes = "nexora_connector_acme_notes:AcmeNotesConnector"' in pyproject
    assert '"Acme Notes & Co."' in (
        destination / "src" / "nexora_connector_acme_notes" / "_connector.py"
    ).read_text(encoding="utf-8")


def test_render_without_copier_says_how_to_install_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "copier", None)  # makes `import copier` raise ImportError
    with pytest.raises(UsageError, match=r"nexora-connect\[scaffold\]"):
        render_connector("acme", "crm", tmp_path / "out")
    assert not (tmp_path / "out").exists()
