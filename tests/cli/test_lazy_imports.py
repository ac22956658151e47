"""``nexora-connect --help`` loads no command's implementation: checked on module sets, never on time.

Every start of the CLI builds its whole command tree, so ``--help``, a usage
error or ``--version`` cost whatever the tree imports. What makes that slow is
importing the runtime, Vault's client, HTTP, pydantic, Rich or a connector;
wall-clock time on a shared machine is noise. So the CLI runs here in a fresh
interpreter and the test asserts which modules it loaded. A canary run of a
real command proves that the harness does see what a command imports lazily.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

import vault
from sdk._cli import build_parser, main
from sdk._cli._base import LazyHandler, walk
from sdk._cli._tree import audit, scaffold
from sdk.authoring import Category

_ROOT = Path(__file__).resolve().parents[2]

HEAVY_PACKAGES = frozenset(
    {
        "hvac",
        "httpx",
        "httpcore",
        "aiohttp",
        "authlib",
        "joserfc",
        "cryptography",
        "pydantic",
        "pydantic_core",
        "opentelemetry",
        "rich",
        "pygments",
        "requests",
        "urllib3",
        "connectors",
        "vault",
        "mcp",
        "copier",
        "jinja2",
        "asyncio",
    }
)
"""Top-level packages that no ``--help`` needs; each costs from tens to hundreds of milliseconds."""

SDK_IMPLEMENTATION = frozenset(
    {
        "sdk._config",
        "sdk._runtime",
        "sdk._call",
        "sdk._registry",
        "sdk._connector",
        "sdk._http",
        "sdk._audit",
        "sdk._auth",
        "sdk._telemetry",
        "sdk._keys",
        "sdk._scaffold",
        "sdk.demo",
        "sdk.mcp_server",
        "sdk.authoring",
        "sdk.admin",
        "sdk._cli._output",
        "sdk._cli._checks",
        "sdk._cli._audit_files",
    }
)
"""The SDK's own runtime and the CLI's implementation modules (each lazy handler's module is added)."""

_PROBE = """
import contextlib, io, json, sys
before = set(sys.modules)
import sdk.cli
runs = []
for argv in json.loads(sys.argv[1]):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = sdk.cli.main(argv)
    runs.append({"argv": argv, "code": code, "stdout": out.getvalue(), "stderr": err.getvalue(),
                 "modules": sorted(set(sys.modules) - before)})
print(json.dumps(runs))
"""


def _probe(argvs: Sequence[Sequence[str]]) -> list[dict[str, object]]:
    """Run ``sdk.cli.main`` on each argv in turn in one fresh interpreter; what it printed and imported.

    Modules accumulate across the runs, so the first run that imports
    something heavy is the one reported.
    """
    done = subprocess.run(
        [sys.executable, "-W", "error", "-c", _PROBE, json.dumps(argvs)],
        cwd=_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    runs: list[dict[str, object]] = json.loads(done.stdout)
    return runs


def _handlers() -> list[tuple[tuple[str, ...], object]]:
    found = []
    for parser in walk(build_parser()):
        handler = parser.get_default("handler")
        if handler is not None:
            assert parser.doc is not None
            found.append((parser.doc.path, handler))
    return found


def _forbidden(modules: object) -> list[str]:
    assert isinstance(modules, list)
    lazy = {handler.module for _, handler in _handlers() if isinstance(handler, LazyHandler)}
    banned = SDK_IMPLEMENTATION | lazy
    return sorted(
        name
        for name in modules
        if name.split(".")[0] in HEAVY_PACKAGES
        or any(name == ban or name.startswith(ban + ".") for ban in banned)
    )


def test_every_help_page_and_usage_error_loads_nothing_heavy() -> None:
    paths = [parser.doc.path for parser in walk(build_parser()) if parser.doc is not None]
    assert len(paths) >= 15, "the command tree lost commands"
    helps = [["--help"], ["--version"], *([*path, "--help"] for path in paths)]
    errors = [
        [],
        ["no-such-command"],
        ["keys", "rotate"],
        ["audit", "tail", "--dir", "x", "--region", "mars"],
        ["doctor", "--config", "nexora.toml", "--tenant", "acme", "--timeout", "-1"],
        ["keys", "put", "--config", "c", "--tenant", "t", "--integration", "i", "sk_live_CANARY"],
    ]
    runs = _probe([*helps, *errors])
    assert len(runs) == len(helps) + len(errors)
    for run in runs:
        argv = run["argv"]
        assert isinstance(argv, list)
        expected = 2 if argv in errors else 0
        assert run["code"] == expected, (argv, run["stderr"])
        assert _forbidden(run["modules"]) == [], f"nexora-connect {' '.join(argv)} imported these"
        assert "Traceback" not in str(run["stderr"])
    shown = {" ".join(map(str, run["argv"])): str(run["stdout"]) + str(run["stderr"]) for run in runs}
    assert "usage: nexora-connect" in shown["--help"]
    assert "sk_live_CANARY" not in shown["keys put --config c --tenant t --integration i sk_live_CANARY"]


def test_the_probe_sees_what_a_command_imports_when_it_runs() -> None:
    # The canary: a command that runs must show its implementation in the module set, or the test
    # above would pass whatever the CLI imported.
    (run,) = _probe([["connectors", "list", "--json"]])
    assert run["code"] in (0, 1), run["stderr"]
    forbidden = _forbidden(run["modules"])
    assert "sdk._cli._connectors" in forbidden
    assert "sdk._registry" in forbidden
    assert "pydantic" in forbidden
    assert json.loads(str(run["stdout"]))["connectors"], "no connector was listed"


@pytest.mark.parametrize("statement", ["import sdk", "import sdk.cli", "import sdk._cli"])
def test_importing_the_sdk_or_the_cli_loads_nothing_heavy(statement: str) -> None:
    script = f"import json, sys\n{statement}\nprint(json.dumps(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-W", "error", "-c", script],
        cwd=_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    loaded = json.loads(done.stdout)
    assert "sdk" in loaded
    assert _forbidden(loaded) == []


def test_every_command_names_an_implementation_that_exists() -> None:
    handlers = _handlers()
    leaves = {
        parser.doc.path
        for parser in walk(build_parser())
        if parser.doc is not None
        and not any(isinstance(action, argparse._SubParsersAction) for action in parser._actions)
    }
    assert {path for path, _ in handlers} == leaves, "a command has no handler, or a group has one"
    lazy = 0
    for path, handler in handlers:
        if not isinstance(handler, LazyHandler):
            # Declared with its command (mcp, which imports its server when it runs): the module is
            # part of the tree, whose imports the tests above check.
            assert getattr(handler, "__module__", "").startswith("sdk._cli."), path
            continue
        lazy += 1
        assert handler.module.startswith("sdk._cli."), path
        assert not handler.module.startswith("sdk._cli._tree"), path
        __import__(handler.module)
        assert callable(getattr(sys.modules[handler.module], handler.name)), path
    assert lazy >= len(handlers) - 1, "commands import their implementations with the tree"


def test_declared_choices_agree_with_what_the_commands_accept() -> None:
    # Written out in the tree so that --help imports neither vault nor pydantic; they must not drift.
    assert tuple(sorted(vault.REGIONS)) == audit.REGIONS
    assert tuple(category.value for category in Category) == scaffold.CATEGORIES


def test_an_implementation_that_cannot_be_imported_ends_in_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # A None entry makes the import fail as a missing optional dependency would.
    monkeypatch.setitem(sys.modules, "sdk._cli._connectors", None)
    code = main(["connectors", "list"])
    captured = capsys.readouterr()
    assert code == 1
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert lines == ["nexora-connect: error: a required package is missing (sdk._cli._connectors)"]
