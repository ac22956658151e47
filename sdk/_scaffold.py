"""Render a new connector package from ``connector_templates/`` (``nexora-connect new-connector``).

The template is a copier template; copier is imported only here, when a connector is scaffolded,
so the SDK's runtime never depends on it. Arguments are checked before copier runs so that a bad
name fails with a sentence saying what to change rather than a template error, and nothing is
written unless every check passes. This module prints nothing: it returns the rendered folder and
the CLI reports it.
"""

from __future__ import annotations

import contextlib
import importlib
import keyword
import re
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from sdk._connector import Category
from sdk._errors import ConfigurationError, UsageError

__all__ = ["CATEGORIES", "render_connector", "template_root"]

CATEGORIES: tuple[str, ...] = tuple(category.value for category in Category)

_NAME = re.compile(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)*")
_MAX_NAME = 40
_DISPLAY_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9 .&()+'/-]{0,59}")
_ENTRY_POINT_GROUP = "nexora_connect.connectors"

_PACKAGE_DIR = Path(__file__).resolve().parent
# A wheel carries the template inside the sdk package (see the report: hatch force-include);
# a source checkout or an editable install finds it at the top of the repository.
_CANDIDATES = (_PACKAGE_DIR / "_connector_templates", _PACKAGE_DIR.parent / "connector_templates")


def template_root() -> Path:
    """Return the folder holding the copier template (the one with ``copier.yml``)."""
    for candidate in _CANDIDATES:
        if (candidate / "copier.yml").is_file():
            return candidate
    searched = ", ".join(str(c) for c in _CANDIDATES)
    raise UsageError(f"the connector template is missing from this installation (looked in {searched})")


def _check_name(name: str) -> None:
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise ConfigurationError(
            f"connector name {name!r} is not usable: use lower-case letters, digits and single "
            "underscores, starting with a letter (it becomes a Python package name and the name "
            "tenants put in their configuration), e.g. 'acme_crm'"
        )
    if len(name) > _MAX_NAME:
        raise ConfigurationError(f"connector name {name!r} is longer than {_MAX_NAME} characters")
    if keyword.iskeyword(name) or keyword.issoftkeyword(name):
        raise ConfigurationError(f"connector name {name!r} is a Python keyword; choose another")
    installed = {ep.name: ep.value for ep in entry_points(group=_ENTRY_POINT_GROUP)}
    if name in installed:
        # The registry keeps the first entry point of a name: a second one would be silently ignored.
        raise ConfigurationError(
            f"a connector named {name!r} is already installed ({installed[name]}); choose another name"
        )


def _check_category(category: str) -> None:
    if category not in CATEGORIES:
        raise ConfigurationError(f"category {category!r} is not one of: {', '.join(CATEGORIES)}")


def _check_display_name(display_name: str) -> None:
    # It is written into Python strings, TOML and Markdown: quotes, backslashes and braces could
    # break out of them, so only a plain alphabet is accepted.
    if not isinstance(display_name, str) or not _DISPLAY_NAME.fullmatch(display_name):
        raise ConfigurationError(
            f"vendor display name {display_name!r} is not usable: use at most 60 letters, digits, "
            "spaces and . & ( ) + ' / -, starting with a letter or digit"
        )


def _check_destination(destination: Path) -> None:
    if destination.exists() and not destination.is_dir():
        raise UsageError(f"{destination} exists and is not a folder; choose another destination")
    if destination.is_dir() and any(destination.iterdir()):
        raise UsageError(
            f"{destination} is not empty; the scaffold never overwrites files, choose a new or empty folder"
        )


def _requirement() -> str:
    """Pin the rendered package to the running SDK's minor series (0.x minors may break connectors)."""
    from sdk import __version__

    major, minor = (int(part) for part in __version__.split(".")[:2])
    upper = f"{major}.{minor + 1}" if major == 0 else f"{major + 1}"
    return f"nexora-connect>={major}.{minor},<{upper}"


def render_connector(
    name: str,
    category: str,
    destination: Path,
    *,
    vendor_display_name: str | None = None,
    spec_path: str | None = None,
) -> Path:
    """Render a connector package for ``category`` into ``destination`` and return its path.

    The package installs with ``pip install -e DEST[test]`` and its tests pass as rendered; every
    ``TODO(author)`` in it marks vendor-specific work. ``destination`` must be missing or empty.
    ``spec_path`` (the vendor's OpenAPI document, relative to the rendered project or
    absolute) adds a contract test that checks every request and fixture against it.
    Raises ConfigurationError for a bad name, category or display name, and UsageError for a
    non-empty destination or a missing copier installation.
    """
    _check_name(name)
    _check_category(category)
    display = vendor_display_name if vendor_display_name is not None else name.replace("_", " ").title()
    _check_display_name(display)
    destination = Path(destination).expanduser().resolve()
    _check_destination(destination)
    root = template_root()
    # Imported by name, here only: copier is an optional dependency (the `scaffold` extra), and
    # neither the runtime nor a type check of the SDK should need it installed.
    copier = None
    with contextlib.suppress(ImportError):
        copier = importlib.import_module("copier")
    if copier is None:
        raise UsageError(
            "scaffolding a connector needs copier: pip install 'nexora-connect[scaffold]' (or copier>=9)"
        )
    data: dict[str, Any] = {
        "connector_name": name,
        "category": category,
        "vendor_display_name": display,
        "nexora_requirement": _requirement(),
        "spec_path": spec_path or "",
    }
    # unsafe=False: the template runs no tasks or extensions, and must never need to.
    copier.run_copy(
        str(root), destination, data=data, defaults=True, unsafe=False, quiet=True, overwrite=False
    )
    return destination
