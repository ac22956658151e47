"""docs/cli.md is generated from the command tree; it must match what the commands say today."""

from __future__ import annotations

from pathlib import Path

from sdk._cli import EXIT_CODES, build_parser
from sdk._cli._base import walk
from sdk._cli._docs import main as docs_main
from sdk._cli._docs import render

PAGE = Path(__file__).resolve().parents[2] / "docs" / "cli.md"


def test_docs_cli_md_is_up_to_date() -> None:
    assert PAGE.read_text(encoding="utf-8") == render(), (
        "docs/cli.md is stale: regenerate it with python -m sdk._cli._docs > docs/cli.md"
    )
    assert docs_main(["--check", str(PAGE)]) == 0


def test_every_command_option_and_exit_code_is_on_the_page() -> None:
    text = PAGE.read_text(encoding="utf-8")
    for parser in walk(build_parser()):
        assert parser.doc is not None
        assert f"`{parser.doc.name}`" in text
        for action in parser._actions:
            for flag in action.option_strings:
                if flag not in ("-h", "--help"):  # every command has it; the page says so once
                    assert f"`{flag}" in text, flag
    for code in EXIT_CODES:
        assert f"| {code} |" in text


def test_the_check_fails_on_a_stale_page(tmp_path: Path) -> None:
    stale = tmp_path / "cli.md"
    stale.write_text(render().replace("## Exit codes", "## Exit Codes"), encoding="utf-8")
    assert docs_main(["--check", str(stale)]) == 1
