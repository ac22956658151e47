"""The API reference answers what a configuration file or a connector may hold (issue 16).

The reference is built by mkdocstrings with the griffe extensions ``mkdocs.yml`` names
(``griffe_pydantic``, then ``docs/_hooks/griffe_fields.py``). These tests load the packages
with exactly those extensions and check, per pydantic model a user writes or reads, that every
field has what the rendered page shows: its type, its default (or none, when it is required)
and a description. A field added without ``Field(description=...)`` fails here, naming itself.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import BaseModel

import sdk
import vault
from sdk import _models
from tests.docs._blocks import REPO

griffe = pytest.importorskip("griffe", reason="the reference tests need griffe (the docs extra)")
pytest.importorskip("griffe_pydantic", reason="the reference tests need griffe-pydantic (the docs extra)")

CONFIGURATION: tuple[type[BaseModel], ...] = (
    sdk.NexoraConfig,
    sdk.TenantConfig,
    sdk.IntegrationConfig,
    sdk.AuditConfig,
    vault.VaultSettings,
    vault.TokenAuth,
    vault.AppRoleAuth,
    vault.JwtAuth,
    sdk.RedactionPolicy,
    sdk.LLMPolicy,
)
"""Every model a configuration file is validated against."""

SHARED_MODELS: tuple[type[BaseModel], ...] = tuple(
    item
    for name in _models.__all__
    if isinstance(item := getattr(_models, name), type) and issubclass(item, _models.SharedModel)
    if item is not _models.SharedModel
)


def _handler_options() -> dict[str, Any]:
    config = yaml.safe_load((REPO / "mkdocs.yml").read_text(encoding="utf-8"))
    for plugin in config["plugins"]:
        if isinstance(plugin, dict) and "mkdocstrings" in plugin:
            options: dict[str, Any] = plugin["mkdocstrings"]["handlers"]["python"]["options"]
            return options
    raise AssertionError("mkdocs.yml has no mkdocstrings plugin")


def _extensions() -> Any:
    loaded: list[Any] = []
    for item in _handler_options().get("extensions", []):
        if isinstance(item, dict):
            ((name, options),) = item.items()
            spec: Any = {str(REPO / name) if name.endswith(".py") else name: options or {}}
        else:
            spec = str(REPO / item) if item.endswith(".py") else item
        loaded.append(spec)
    return griffe.load_extensions(*loaded)


_PACKAGES: dict[str, Any] = {}


def _griffe_class(model: type[BaseModel]) -> Any:
    """The class as the reference sees it: loaded statically, with the site's extensions."""
    top, _, rest = model.__module__.partition(".")
    if top not in _PACKAGES:
        _PACKAGES[top] = griffe.load(
            top, search_paths=[str(REPO)], extensions=_extensions(), allow_inspection=False
        )
    return _PACKAGES[top][f"{rest}.{model.__name__}" if rest else model.__name__]


def test_the_site_renders_pydantic_models_with_their_fields() -> None:
    names = [
        next(iter(item)) if isinstance(item, dict) else item for item in _handler_options()["extensions"]
    ]
    assert names[:1] == ["griffe_pydantic"], f"mkdocs.yml must load griffe_pydantic first: {names}"
    assert "docs/_hooks/griffe_fields.py" in names, names
    assert (REPO / "docs/_hooks/griffe_fields.py").is_file()


def _problems(model: type[BaseModel]) -> list[str]:
    cls = _griffe_class(model)
    documented = {name: attr for name, attr in cls.all_members.items() if "pydantic-field" in attr.labels}
    problems = [f"{name}: not seen as a field" for name in model.model_fields if name not in documented]
    for name, info in model.model_fields.items():
        attr = documented.get(name)
        if attr is None:
            continue
        if attr.annotation is None:
            problems.append(f"{name}: no type")
        if not info.is_required() and attr.value is None:
            problems.append(f"{name}: has a default the reference does not show")
        if info.is_required() and attr.value is not None:
            problems.append(f"{name}: required, but the reference shows a default {attr.value}")
        if attr.docstring is None or not attr.docstring.value.strip():
            problems.append(f"{name}: no description (add Field(description=...))")
    return problems


@pytest.mark.parametrize("model", CONFIGURATION, ids=lambda model: model.__name__)
def test_every_configuration_key_has_type_default_and_meaning(model: type[BaseModel]) -> None:
    problems = _problems(model)
    assert not problems, f"{model.__module__}.{model.__name__}:\n  " + "\n  ".join(problems)


@pytest.mark.parametrize("model", SHARED_MODELS, ids=lambda model: model.__name__)
def test_every_shared_model_field_has_type_default_and_meaning(model: type[BaseModel]) -> None:
    problems = _problems(model)
    assert not problems, f"{model.__module__}.{model.__name__}:\n  " + "\n  ".join(problems)


def test_every_model_checked_here_is_on_a_reference_page() -> None:
    reference = "\n".join(path.read_text(encoding="utf-8") for path in (REPO / "docs/reference").glob("*.md"))
    missing = [
        model.__name__
        for model in (*CONFIGURATION, *SHARED_MODELS)
        if f"::: sdk.{model.__name__}\n" not in reference and f"::: vault.{model.__name__}\n" not in reference
    ]
    assert not missing, f"add these to a docs/reference/ page: {missing}"


def test_factory_defaults_and_limits_read_as_code() -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("griffe_fields", REPO / "docs/_hooks/griffe_fields.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.factory_default("dict") == "{}"
    assert module.factory_default("tuple") == "()"
    assert module.factory_default("LLMPolicy") == "LLMPolicy()"
    assert (
        module.limits_line({"ge": "0.0", "le": "60", "default_factory": "dict"})
        == "Limits: `ge=0.0`, `le=60`."
    )
    assert module.limits_line({"default_factory": "dict", "discriminator": "'method'"}) is None
    # And on a real field: a factory default appears, and so do the limits.
    audit = _griffe_class(sdk.AuditConfig)
    assert audit.all_members["locations"].value == "{}"
    assert "`ge=1`" in audit.all_members["retention_days"].docstring.value
    assert Path(str(module.__file__)).name == "griffe_fields.py"


def test_getting_started_shows_every_per_integration_key_in_a_validated_example() -> None:
    from tests.docs._blocks import page

    found = page("getting-started.md")
    examples = "\n".join(b.code for b in found.blocks if b.marker in {"config", "config-part"})
    missing = [key for key in sdk.IntegrationConfig.model_fields if f"\n{key} = " not in f"\n{examples}"]
    assert not missing, f"docs/getting-started.md has no validated example setting {missing}"
