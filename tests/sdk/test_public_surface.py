"""The public surface says who it is for, loads lazily, and keeps old import paths working."""

from __future__ import annotations

import subprocess
import sys
import warnings

import pytest

import sdk
import sdk.admin
import sdk.authoring
import sdk.parsing


def test_every_exported_name_resolves_and_is_listed_once() -> None:
    for module in (sdk, sdk.authoring, sdk.admin, sdk.parsing):
        assert len(module.__all__) == len(set(module.__all__)), module.__name__
        for name in module.__all__:
            assert getattr(module, name) is not None, f"{module.__name__}.{name}"


def test_the_three_audiences_do_not_overlap() -> None:
    assert not set(sdk.__all__) & set(sdk.authoring.__all__)
    assert not set(sdk.__all__) & set(sdk.admin.__all__)


@pytest.mark.parametrize(("name", "home"), [("CRMConnector", sdk.authoring), ("TenantKeys", sdk.admin)])
def test_a_moved_name_still_resolves_from_sdk_with_a_warning_naming_its_home(name: str, home: object) -> None:
    with pytest.warns(DeprecationWarning, match=f"{home.__name__}.{name}"):  # type: ignore[attr-defined]
        moved = getattr(sdk, name)
    assert moved is getattr(home, name)


def test_a_public_name_resolves_without_a_warning() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert sdk.NexoraConnect.__name__ == "NexoraConnect"


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute"):
        sdk.NoSuchThing  # noqa: B018


def test_import_sdk_loads_no_http_stack_vault_client_or_connector() -> None:
    code = (
        "import sys, sdk; "
        "heavy = [m for m in ('httpx', 'hvac', 'aiohttp', 'pydantic', 'connectors', 'vault') "
        "if m in sys.modules]; "
        "print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_import_vault_loads_only_the_sdk_foundation() -> None:
    code = (
        "import sys, vault; from tests.architecture.layers import layer_of; "
        "print(sorted({layer_of(m) for m in sys.modules if m.startswith('sdk.')}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() in ("[]", "['foundation']")  # nothing above the foundation, if anything at all
