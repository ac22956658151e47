"""The documentation site holds together and says what the code does.

Structure: every page is in the nav and every nav entry exists; links and anchors resolve; the
build configuration fetches nothing. Accuracy: blocks and tables that restate the code (the
tenant policy, the error tree, the standard operations, the identifier types, the sensitivity
marks, the audit record, the API reference) are compared with the code; configuration examples
validate; every test and module the security model cites exists.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import re
import tomllib
import unicodedata
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

import sdk
import sdk.admin
import sdk.authoring
import sdk.parsing
import sdk.testing
import vault
from sdk import AuditRecord, NexoraConfig, SharedModel, sensitivity_of
from sdk._redaction import IdentifierType, RedactionPolicy
from sdk.authoring import BillingConnector, CRMConnector, TicketingConnector, default_registry
from tests.docs import _generated
from tests.docs._blocks import DOCS, MARKER_KINDS, REPO, Block, Page, page, pages, parse_page

GENERATED_PAGES = ("cli.md", "benchmarks/")
"""Pages other commands write: held to the site's structure, not to its example conventions."""


def _hooks() -> ModuleType:
    spec = importlib.util.spec_from_file_location("docs_site_hooks", DOCS / "_hooks" / "site.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _mkdocs() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((REPO / "mkdocs.yml").read_text(encoding="utf-8"))
    return loaded


def _nav_pages(nav: list[Any]) -> list[str]:
    found: list[str] = []
    for item in nav:
        value = next(iter(item.values())) if isinstance(item, dict) else item
        if isinstance(value, list):
            found.extend(_nav_pages(value))
        elif isinstance(value, str) and not re.match(r"[a-z]+://", value):
            found.append(value)
    return found


def _own(found: Page) -> bool:
    return not found.path.startswith(GENERATED_PAGES)


# --- structure ---------------------------------------------------------------------------------


def test_every_page_is_in_the_nav_and_every_nav_entry_exists() -> None:
    nav = _nav_pages(_hooks().expand_nav(_mkdocs()["nav"], DOCS))
    on_disk = [found.path for found in pages()]
    assert len(nav) == len(set(nav)), "a page is in the nav twice"
    assert sorted(nav) == sorted(on_disk), (
        f"missing from the nav: {sorted(set(on_disk) - set(nav))}; "
        f"in the nav but not in docs/: {sorted(set(nav) - set(on_disk))}"
    )


def test_generated_sections_list_what_exists_index_first(tmp_path: Path) -> None:
    hooks = _hooks()
    (tmp_path / "benchmarks").mkdir()
    for name in ("zeta.md", "index.md", "alpha.md"):
        (tmp_path / "benchmarks" / name).write_text("# x\n")
    nav = [{"Home": "index.md"}, {"Benchmarks": []}, {"Group": [{"Benchmarks": "other.md"}]}]
    assert hooks.expand_nav(nav, tmp_path) == [
        {"Home": "index.md"},
        {"Benchmarks": ["benchmarks/index.md", "benchmarks/alpha.md", "benchmarks/zeta.md"]},
        {"Group": [{"Benchmarks": "other.md"}]},
    ]
    assert hooks.expand_nav([{"Benchmarks": []}], tmp_path / "empty") == []


def test_docstring_roles_render_as_code() -> None:
    html = (
        "<p>raises :class:<code>~sdk.ConversationClosedError</code> via :func:<code>sdk.redact</code>::</p>"
    )
    assert _hooks().on_page_content(html) == (
        "<p>raises <code>ConversationClosedError</code> via <code>sdk.redact</code>:</p>"
    )


def test_the_build_fetches_nothing() -> None:
    config = _mkdocs()
    plugins = [next(iter(p)) if isinstance(p, dict) else p for p in config["plugins"]]
    assert set(plugins) <= {"search", "mkdocstrings"}, f"a plugin that may fetch at build time: {plugins}"
    assert config["theme"]["font"] is False, "theme.font must be false: Google Fonts need the network"
    assert not config.get("extra_javascript")
    assert not config.get("extra_css")
    assert config["strict"] is True
    assert config["validation"]["links"]["anchors"] == "warn"
    assert config["validation"]["nav"]["omitted_files"] == "warn"


def _slug(text: str) -> str:
    """Python-Markdown's toc slug: what mkdocs puts in a heading's id."""
    text = re.sub(r"`([^`]*)`", r"\1", text)
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    text = re.sub(r"[^\w\s-]", "", text).strip().lower()
    return re.sub(r"[-\s]+", "-", text)


def _anchors(found: Page) -> set[str]:
    headings = re.findall(r"^#{1,6}\s+(.+?)\s*#*\s*$", found.prose(), flags=re.MULTILINE)
    return {_slug(heading) for heading in headings}


_LINK = re.compile(r"(?<!\!)\[(?:[^\]]|\n)*?\]\(([^)\s]+)\)")


def test_internal_links_and_anchors_resolve() -> None:
    problems: list[str] = []
    for found in pages():
        prose = re.sub(r"`[^`\n]*`", "", found.prose())
        for target in _LINK.findall(prose):
            if re.match(r"[a-z]+:", target):
                continue
            path, _, anchor = target.partition("#")
            resolved = (DOCS / found.path).parent / path if path else DOCS / found.path
            name = resolved.resolve().relative_to(DOCS.resolve()).as_posix() if resolved.exists() else None
            if name is None or not name.endswith(".md"):
                problems.append(f"docs/{found.path}: {target} is not a page")
            elif anchor and anchor not in _anchors(page(name)):
                problems.append(f"docs/{found.path}: {target} has no such heading")
    assert not problems, "\n".join(problems)


def test_markers_are_well_formed_and_every_python_example_is_run_or_a_fragment() -> None:
    problems = [f"docs/{found.path}:{line}: {text}" for found in pages() for line, text in found.bad_markers]
    for found in filter(_own, pages()):
        for block in found.blocks:
            if block.lang == "python" and block.marker not in ("run", "fragment"):
                problems.append(f"{block.where}: mark it `<!-- docs: run -->` or `<!-- docs: fragment -->`")
            if block.marker == "output" and block.lang != "text":
                problems.append(f"{block.where}: an output block is ```text")
    assert not problems, "\n".join(problems)


def test_the_marker_parser_finds_blocks_markers_and_strays(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = (
        "# t\n<!-- docs: run harness=sandboxes -->\n```python\nx = 1\n```\n\n"
        "- item\n\n    <!-- docs: fragment -->\n    ```python\n    y = 2\n    ```\n"
        "<!-- docs: run -->\n\ntext\n<!-- docs: nonsense -->\n```sh\nls\n```\n"
    )
    (tmp_path / "p.md").write_text(text)
    monkeypatch.setattr("tests.docs._blocks.DOCS", tmp_path)
    parsed = parse_page(tmp_path / "p.md")
    assert [(b.line, b.lang, b.code, b.marker, b.options) for b in parsed.blocks] == [
        (4, "python", "x = 1\n", "run", {"harness": "sandboxes"}),
        (11, "python", "y = 2\n", "fragment", {}),
        (18, "sh", "ls\n", "nonsense", {}),
    ]
    assert [line for line, _ in parsed.bad_markers] == [13, 16]
    assert "nonsense" not in MARKER_KINDS


# --- configuration examples --------------------------------------------------------------------


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _check_integrations(config: NexoraConfig, block: Block, *, must_be_installed: bool) -> list[str]:
    registry = default_registry()
    problems: list[str] = []
    for tenant_id, tenant in config.tenants.items():
        for integration_id, integration in tenant.integrations.items():
            where = f"{block.where}: tenants.{tenant_id}.integrations.{integration_id}"
            if integration.connector not in registry:
                if must_be_installed:
                    problems.append(f"{where}: connector {integration.connector!r} is not installed")
                continue
            connector = registry.load(integration.connector)
            try:
                connector.Settings.model_validate(integration.settings)
            except ValueError as exc:
                problems.append(f"{where}.settings: {exc}")
            writes = {str(s.scope) for s in connector.implemented_operations().values() if s.is_write}
            for scope in integration.write_scopes:
                if scope not in writes:
                    problems.append(f"{where}: {connector.name} has no operation needing {scope}")
    return problems


def test_toml_examples_parse_and_configurations_validate() -> None:
    problems: list[str] = []
    base = {"vault": {"address": "https://vault.example:8200"}}
    for found in filter(_own, pages()):
        for block in found.blocks:
            if block.lang != "toml":
                continue
            try:
                data = tomllib.loads(block.code)
            except tomllib.TOMLDecodeError as exc:
                problems.append(f"{block.where}: not TOML: {exc}")
                continue
            if block.marker not in ("config", "config-part"):
                continue
            whole = data if block.marker == "config" else _merge(base, data)
            try:
                config = NexoraConfig.parse(whole, source=block.where)
            except sdk.ConfigurationError as exc:
                problems.append(str(exc))
                continue
            problems += _check_integrations(config, block, must_be_installed=block.marker == "config")
    assert not problems, "\n".join(problems)


# --- blocks generated from the code ------------------------------------------------------------


def test_policy_blocks_are_what_tenant_policy_hcl_writes() -> None:
    found = [block for doc in pages() for block in doc.blocks if block.marker == "policy"]
    assert {block.options.get("write", "false") for block in found} == {"false", "true"}
    for block in found:
        expected = _generated.policy(
            block.options["tenant"],
            write=block.options.get("write", "false") == "true",
            mount=block.options.get("mount", "secret"),
            path_prefix=block.options.get("path_prefix", "nexora"),
        )
        assert block.code.rstrip("\n") == expected.rstrip("\n"), (
            f"{block.where} differs from vault.tenant_policy_hcl(); paste:\n{expected}"
        )


def test_the_error_tree_and_sections_match_the_hierarchy() -> None:
    errors = page("errors.md")
    trees = [block for block in errors.blocks if block.marker == "error-tree"]
    assert len(trees) == 1
    assert trees[0].code == _generated.error_tree(), f"paste:\n{_generated.error_tree()}"
    documented = set(re.findall(r"^### `(\w+)`$", errors.text, flags=re.MULTILINE))
    exported = {cls.__name__ for cls in _generated.exported_errors()}
    assert documented == exported, (
        f"no section: {sorted(exported - documented)}; not an exported error: {sorted(documented - exported)}"
    )


def _table(found: Page, header: str) -> list[list[str]]:
    """The rows of the Markdown table whose header line starts with ``header``."""
    lines = found.text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(header))
    rows: list[list[str]] = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip().strip("|").split("|")])
    return rows


def _code(cell: str) -> list[str]:
    return re.findall(r"`([^`]+)`", cell)


def test_the_standard_operations_table_matches_the_category_bases() -> None:
    rows = _table(page("scopes.md"), "| category | operation | scope |")
    documented = {(row[0], _code(row[1])[0], _code(row[2])[0]) for row in rows}
    actual = {
        (str(base.category), name, str(spec.scope))
        for base in (CRMConnector, TicketingConnector, BillingConnector)
        for name, spec in base.operations.items()
    }
    assert documented == actual
    never_cached = {_code(row[1])[0] for row in rows if "Never cached" in row[3]}
    assert never_cached == {
        name
        for base in (CRMConnector, TicketingConnector, BillingConnector)
        for name, spec in base.operations.items()
        if not spec.cacheable and not spec.is_write
    }


def test_the_identifier_table_matches_the_redaction_types() -> None:
    rows = _table(page("redaction.md"), "| type | what the model reads | default action |")
    documented = [(_code(row[0])[0], row[1], _code(row[2])[0]) for row in rows]
    policy = RedactionPolicy()
    assert documented == [(kind.value, kind.label, policy.action_for(kind).value) for kind in IdentifierType]


def test_the_sensitivity_table_matches_the_models() -> None:
    rows = _table(page("redaction.md"), "| model | field | sensitivity |")
    documented = {(_code(row[0])[0], field, _code(row[2])[0]) for row in rows for field in _code(row[1])}
    models = [getattr(sdk, name) for name in sdk.__all__]
    actual = {
        (model.__name__, field, str(mark))
        for model in models
        if isinstance(model, type) and issubclass(model, SharedModel) and model is not SharedModel
        for field in model.model_fields
        if (mark := sensitivity_of(model, field)) is not None
    }
    assert documented == actual


def test_the_audit_field_table_matches_the_record() -> None:
    rows = _table(page("audit.md"), "| field | holds |")
    assert [_code(row[0])[0] for row in rows] == list(AuditRecord.model_fields)


# --- the API reference -------------------------------------------------------------------------

_DIRECTIVE = re.compile(r"^::: ([\w.]+)\s*$", flags=re.MULTILINE)


def _resolve(identifier: str) -> object:
    parts = identifier.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            target: object = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for attribute in parts[cut:]:
            target = getattr(target, attribute)
        return target
    raise ImportError(identifier)


def test_the_api_reference_documents_every_export_and_only_real_objects() -> None:
    directives = {
        identifier
        for found in pages()
        if found.path.startswith("reference/")
        for identifier in _DIRECTIVE.findall(found.text)
    }
    for identifier in directives:
        _resolve(identifier)  # a typo fails here, not only in mkdocs
    errors = {cls.__name__ for cls in _generated.exported_errors()}  # documented in errors.md
    missing = [
        f"{module.__name__}.{name}"
        for module in (sdk, sdk.authoring, sdk.admin, vault, sdk.testing)
        for name in module.__all__
        if f"{module.__name__}.{name}" not in directives and not (module is sdk and name in errors)
    ]
    assert not missing, f"add `::: NAME` to a docs/reference/ page for: {missing}"


def test_examples_import_public_names_from_the_public_packages() -> None:
    """A name the public packages export must not be imported from a private module in the docs."""
    problems: list[str] = []
    public = {
        module.__name__: set(module.__all__) for module in (sdk, sdk.authoring, sdk.admin, vault, sdk.testing)
    }
    for found in filter(_own, pages()):
        for block in found.blocks:
            if block.lang != "python":
                continue
            tree = compile(
                block.code, block.where, "exec", flags=ast.PyCF_ONLY_AST | ast.PyCF_ALLOW_TOP_LEVEL_AWAIT
            )
            for node in ast.walk(tree):
                if isinstance(node, ast.ImportFrom) and node.module and "._" in f".{node.module}":
                    package = next(
                        (p for p in ("sdk.testing", "sdk", "vault") if node.module.startswith(p)), None
                    )
                    for alias in node.names:
                        if package is not None and alias.name in public[package]:
                            problems.append(f"{block.where}: import {alias.name} from {package}")
    assert not problems, "\n".join(problems)


# --- the security model ------------------------------------------------------------------------

_REF = re.compile(r"`((?:sdk|vault|tests|connectors|connector_templates)/[\w/.-]+?)(?:::(\w+))?`")
_RENDERED_EXAMPLE = "acme_crm"
"""Paths naming it are files of the package the connector tutorial renders, not of this repository."""
_BARE_TEST = re.compile(r"`(test_\w+)`")


def _defined_names(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {
        node.name
        for node in ast.walk(tree)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
    }


def test_every_module_and_test_the_docs_cite_exists() -> None:
    problems: list[str] = []
    cited_tests = 0
    for found in filter(_own, pages()):
        for line in found.prose().splitlines():
            files: list[Path] = []
            for path, name in _REF.findall(line):
                if _RENDERED_EXAMPLE in path:
                    continue
                target = REPO / path
                if not target.exists():
                    problems.append(f"docs/{found.path}: {path} does not exist")
                    continue
                files.append(target)
                if name:
                    cited_tests += found.path == "security-model.md"
                    if target.suffix != ".py" or name not in _defined_names(target):
                        problems.append(f"docs/{found.path}: {path}::{name} is not defined there")
            for name in _BARE_TEST.findall(line):
                if files and not any(f.suffix == ".py" and name in _defined_names(f) for f in files):
                    problems.append(f"docs/{found.path}: {name} is not in {[f.name for f in files]}")
    assert not problems, "\n".join(problems)
    assert cited_tests >= 60


def test_the_security_model_covers_every_promise_with_enforcement_and_tests() -> None:
    text = page("security-model.md").text
    sections = re.split(r"^## ", text, flags=re.MULTILINE)
    for promise in range(1, 9):
        section = next((s for s in sections if s.startswith(f"S{promise} ")), None)
        assert section is not None, f"no section for S{promise}"
        enforced, _, tested = section.partition("**Tested by**")
        assert "**Enforced in**" in enforced, f"S{promise} says nothing of where it is enforced"
        assert _REF.search(enforced.split("**Enforced in**")[1]), f"S{promise} names no module"
        assert re.search(r"`tests/[\w/.-]+\.py::test_\w+`", tested), f"S{promise} cites no test"
