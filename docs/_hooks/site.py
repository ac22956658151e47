"""mkdocs hooks of the Nexora Connect documentation site (``hooks:`` in ``mkdocs.yml``).

Two jobs, both local and offline:

* **Generated pages join the nav by themselves.** ``docs/benchmarks/`` is written by the
  benchmark command, which may add pages; the ``Benchmarks`` section of the nav is filled
  from the files that exist (``index.md`` first), so a new results page never breaks
  ``mkdocs build --strict`` and a missing one never leaves a dead nav entry.
* **Docstring roles read as code.** The SDK's docstrings use Sphinx roles
  (``:class:`~sdk.Conversation```); Markdown renders them as a role name followed by code.
  The role is dropped and a ``~`` shortens the target to its last name, as Sphinx would.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

GENERATED_SECTIONS = {"Benchmarks": "benchmarks"}
"""Nav section title -> folder under docs/ whose pages fill it."""

_ROLE = re.compile(r":(?:class|func|meth|mod|attr|exc|data|obj|const):<code>(~?)([^<]+)</code>")
_LITERAL_MARKER = re.compile(r"::(</p>)")


def section_pages(docs_dir: Path, folder: str) -> list[str]:
    """The pages of a generated section, as nav paths: ``index.md`` first, then by name."""
    root = docs_dir / folder
    if not root.is_dir():
        return []
    pages = sorted(path.relative_to(docs_dir).as_posix() for path in root.rglob("*.md"))
    index = f"{folder}/index.md"
    return ([index] if index in pages else []) + [page for page in pages if page != index]


def expand_nav(nav: list[Any], docs_dir: Path) -> list[Any]:
    """Return ``nav`` with each generated section filled from disk (and dropped when empty)."""
    expanded: list[Any] = []
    for item in nav:
        if isinstance(item, dict) and len(item) == 1:
            ((title, value),) = item.items()
            folder = GENERATED_SECTIONS.get(title)
            if folder is not None and isinstance(value, list):
                pages = section_pages(docs_dir, folder)
                if pages:
                    expanded.append({title: pages})
                continue
            if isinstance(value, list):
                expanded.append({title: expand_nav(value, docs_dir)})
                continue
        expanded.append(item)
    return expanded


def on_config(config: Any) -> Any:
    config["nav"] = expand_nav(config["nav"] or [], Path(config["docs_dir"]))
    return config


def _role(match: re.Match[str]) -> str:
    target = match.group(2)
    return f"<code>{target.rsplit('.', 1)[-1] if match.group(1) else target}</code>"


def on_page_content(html: str, **kwargs: Any) -> str:
    return _LITERAL_MARKER.sub(r":\1", _ROLE.sub(_role, html))
