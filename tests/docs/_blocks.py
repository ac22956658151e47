"""Reading the documentation's Markdown: pages, fenced code blocks and their markers.

A marker is an HTML comment on the line right above a fence (invisible on the site and on
GitHub); see ``tests/docs/README.md`` for what each one means::

    <!-- docs: run harness=sandboxes -->
    ```python
    ...
    ```
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DOCS = REPO / "docs"

_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})(?P<info>[^`\n]*)$")
_MARKER = re.compile(r"^\s*<!--\s*docs:\s*(?P<kind>[a-z-]+)(?P<options>(?:\s+[a-z_]+=[^\s>]+)*)\s*-->\s*$")
_OPTION = re.compile(r"([a-z_]+)=([^\s>]+)")

MARKER_KINDS = frozenset({"run", "fragment", "config", "config-part", "policy", "error-tree", "output"})
"""Every marker the collector understands; any other ``docs:`` comment is a typo and fails a test."""


@dataclass(frozen=True)
class Block:
    """One fenced code block of a page."""

    page: str
    """Path relative to ``docs/``, with ``/``."""
    line: int
    """1-based line of the block's first code line in the page."""
    lang: str
    code: str
    marker: str | None = None
    options: dict[str, str] = field(default_factory=dict)

    @property
    def where(self) -> str:
        return f"docs/{self.page}:{self.line}"


@dataclass(frozen=True)
class Page:
    path: str
    text: str
    blocks: tuple[Block, ...]
    bad_markers: tuple[tuple[int, str], ...]
    """(line, text) of ``docs:`` comments that are malformed or not above a fence."""

    def prose(self) -> str:
        """The page without its code blocks (for link and heading checks)."""
        lines = self.text.splitlines()
        covered: set[int] = set()
        for block in self.blocks:
            covered.update(range(block.line - 2, block.line + block.code.count("\n")))
        return "\n".join(line for number, line in enumerate(lines) if number not in covered)


def parse_page(path: Path) -> Page:
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines()
    blocks: list[Block] = []
    bad: list[tuple[int, str]] = []
    used_markers: set[int] = set()
    index = 0
    while index < len(lines):
        opened = _FENCE.match(lines[index])
        if opened is None:
            index += 1
            continue
        indent, fence = opened.group("indent"), opened.group("fence")
        info = opened.group("info").strip()
        body: list[str] = []
        end = index + 1
        while end < len(lines):
            closing = lines[end].strip()
            if closing.startswith(fence[0] * len(fence)) and not closing.strip(fence[0]):
                break
            body.append(lines[end][len(indent) :] if lines[end].startswith(indent) else lines[end].lstrip())
            end += 1
        marker: str | None = None
        options: dict[str, str] = {}
        if index > 0:
            found = _MARKER.match(lines[index - 1])
            if found is not None:
                marker = found.group("kind")
                options = dict(_OPTION.findall(found.group("options")))
                used_markers.add(index - 1)
        blocks.append(
            Block(
                page=path.relative_to(DOCS).as_posix(),
                line=index + 2,
                lang=info.split()[0].lower() if info else "",
                code="\n".join(body) + ("\n" if body else ""),
                marker=marker,
                options=options,
            )
        )
        index = end + 1
    for number, line in enumerate(lines):
        if "docs:" in line and "<!--" in line and number not in used_markers:
            bad.append((number + 1, line.strip()))
        elif number in used_markers:
            kind = _MARKER.match(line)
            if kind is not None and kind.group("kind") not in MARKER_KINDS:
                bad.append((number + 1, line.strip()))
    return Page(path.relative_to(DOCS).as_posix(), text, tuple(blocks), tuple(bad))


@cache
def pages() -> tuple[Page, ...]:
    """Every Markdown page under ``docs/``, sorted by path."""
    return tuple(parse_page(path) for path in sorted(DOCS.rglob("*.md")))


def page(name: str) -> Page:
    for found in pages():
        if found.path == name:
            return found
    raise LookupError(f"docs/{name} does not exist")


def blocks(*, marker: str | None = None, lang: str | None = None) -> list[Block]:
    return [
        block
        for found in pages()
        for block in found.blocks
        if (marker is None or block.marker == marker) and (lang is None or block.lang == lang)
    ]
