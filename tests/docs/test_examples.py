"""The documentation's runnable examples run, page by page, in their harness.

Blocks marked ``<!-- docs: run -->`` are executed in page order in one workspace per page:
Python blocks in one shared namespace (top-level ``await`` allowed), shell blocks with
``bash -euo pipefail``. A ``<!-- docs: output -->`` block right after a run block is what that
block prints (``...`` matches anything; see ``tests/docs/README.md``).

Each page runs twice: once as above, under the test's own event loop, and once pasted line by
line into an emulated ``python -m asyncio`` (a fresh loop, statements compiled one at a time in
``single`` mode), where a blank line inside an indented block, or a statement right after one,
fails just as it would for a reader pasting the example.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import io
import os
import re
from pathlib import Path
from typing import Any

import pytest

from sdk import NexoraConnect
from tests.docs import _harness
from tests.docs._blocks import Block, Page, pages

RUNNABLE = {"python", "sh", "console", "bash"}


def _runnable_pages() -> list[Page]:
    return [found for found in pages() if any(block.marker == "run" for block in found.blocks)]


def _harness_of(found: Page) -> str:
    wanted = {block.options.get("harness", "plain") for block in found.blocks if block.marker == "run"}
    unknown = wanted - set(_harness.HARNESSES)
    assert not unknown, (
        f"docs/{found.path}: unknown harness {sorted(unknown)}; use one of {_harness.HARNESSES}"
    )
    return max(wanted, key=_harness.HARNESSES.index)


def output_matches(expected: str, actual: str) -> bool:
    """Compare printed text with a documented output; ``...`` matches anything (a whole line: any lines)."""
    pattern: list[str] = []
    for line in expected.rstrip("\n").split("\n"):
        if line.strip() == "...":
            pattern.append(r"(?:.*\n)*?")
        else:
            pattern.append(".*?".join(re.escape(part) for part in line.rstrip().split("...")) + r"[ \t]*\n")
    actual_lines = "".join(line.rstrip() + "\n" for line in actual.rstrip("\n").split("\n"))
    return re.fullmatch("".join(pattern), actual_lines) is not None


def _cases() -> list[Any]:
    """One case per page; pages whose harness starts OpenBao carry the ``vault`` marker."""
    return [
        pytest.param(found, id=found.path, marks=[pytest.mark.vault] if _harness_of(found) != "plain" else [])
        for found in _runnable_pages()
    ]


@pytest.mark.parametrize("found", _cases())
async def test_page_examples_run(
    found: Page, tmp_path: Path, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    workspace = _harness.Workspace(cwd=tmp_path)
    monkeypatch.chdir(tmp_path)
    harness = _harness_of(found)
    with contextlib.ExitStack() as stack:
        if harness == "openbao":
            stack.enter_context(_harness.openbao(request.getfixturevalue("openbao"), workspace))
        elif harness == "sandboxes":
            stack.enter_context(_harness.sandboxes(request.getfixturevalue("openbao"), workspace, found))
        for name, value in workspace.env.items():
            monkeypatch.setenv(name, value)
        try:
            await _run_blocks(found, workspace)
        finally:
            # A block that failed half-way leaves its runtimes open: close them (closing is idempotent).
            for value in list(workspace.namespace.values()):
                if isinstance(value, NexoraConnect):
                    await value.aclose()
            await _harness.drain_loop()
    assert os.getcwd() == str(tmp_path)


async def _run_blocks(found: Page, workspace: _harness.Workspace) -> None:
    printed: str | None = None
    previous: Block | None = None
    for block in found.blocks:
        if block.marker == "output":
            assert previous is not None, (
                f"{block.where}: a `docs: output` block must follow a `docs: run` block"
            )
            assert printed is not None
            assert output_matches(block.code, printed), (
                f"{block.where}: {previous.where} printed\n{printed}\nwhich does not match\n{block.code}"
            )
            continue
        if block.marker != "run":
            continue
        assert block.lang in RUNNABLE, f"{block.where}: cannot run a {block.lang or 'plain'} block"
        if block.lang == "python":
            out = io.StringIO()
            with contextlib.redirect_stdout(out):
                await _harness.run_python(block, workspace)
            printed = out.getvalue()
        else:
            printed = _harness.run_shell(block, workspace).stdout
        previous = block


@pytest.mark.parametrize("found", _cases())
def test_page_examples_paste_into_the_asyncio_repl(
    found: Page, tmp_path: Path, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    workspace = _harness.Workspace(cwd=tmp_path)
    monkeypatch.chdir(tmp_path)
    harness = _harness_of(found)
    with contextlib.ExitStack() as stack:
        if harness == "openbao":
            stack.enter_context(_harness.openbao(request.getfixturevalue("openbao"), workspace))
        elif harness == "sandboxes":
            stack.enter_context(_harness.sandboxes(request.getfixturevalue("openbao"), workspace, found))
        for name, value in workspace.env.items():
            monkeypatch.setenv(name, value)

        def session(console: _harness.PastedRepl) -> None:
            try:
                with contextlib.redirect_stdout(io.StringIO()):  # the REPL echoes expression values
                    for block in found.blocks:
                        if block.marker != "run":
                            continue
                        if block.lang == "python":
                            console.paste(block)
                        else:
                            _harness.run_shell(block, workspace)
            finally:
                for value in list(console.locals.values()):
                    if isinstance(value, NexoraConnect):
                        asyncio.run_coroutine_threadsafe(value.aclose(), console.loop).result(timeout=30)

        _harness.in_asyncio_repl(session)
    assert os.getcwd() == str(tmp_path)


def _paste(block: Block, console: _harness.PastedRepl) -> None:
    console.paste(block)


def test_the_pasted_repl_fails_where_the_real_one_does(tmp_path: Path) -> None:
    """The emulation is strict where ``python -m asyncio`` is, and runs what it runs."""

    def block(code: str) -> Block:
        return Block(page="x.md", line=10, lang="python", code=code, marker="run")

    ran: dict[str, Any] = {}

    def good(console: _harness.PastedRepl) -> None:
        console.paste(
            block(
                "import asyncio\nasync def f():\n    await asyncio.sleep(0)\n    return 7\n\nx = await f()\n"
            )
        )
        ran.update(x=console.locals["x"], loop=console.locals.get("loop"))

    _harness.in_asyncio_repl(good)
    assert ran["x"] == 7
    blank_inside = "async def f():\n    a = 1\n\n    return a\n"
    right_after = "for i in range(2):\n    pass\nprint(i)\n"
    raised = "await asyncio.sleep(0)\nraise LookupError('boom')\n"
    for code, line, kind in (
        (blank_inside, 13, "IndentationError"),
        (right_after, 12, "SyntaxError"),
        (raised, 11, "LookupError"),
    ):
        with pytest.raises(AssertionError, match=rf"docs/x.md:{line}: .* {kind}"):
            _harness.in_asyncio_repl(functools.partial(_paste, block(code)))


@pytest.mark.parametrize(
    ("expected", "actual", "matches"),
    [
        ("a\nb\n", "a\nb\n", True),
        ("a\nb\n", "a\nc\n", False),
        ("a\n...\nd\n", "a\nb\nc\nd\n", True),
        ("a\n...\nd\n", "a\nd\n", True),
        ("a\n...\nd\n", "a\nb\nc\n", False),
        ("updated ... ok\n", "updated 2026-05-01 ok\n", True),
        ("updated ... ok\n", "updated 2026-05-01 failed\n", False),
        ("a\n", "a\nb\n", False),
        ("a (b) [c]*\n", "a (b) [c]*   \n", True),
    ],
)
def test_documented_output_is_compared_line_by_line_with_ellipses(
    expected: str, actual: str, matches: bool
) -> None:
    assert output_matches(expected, actual) is matches
