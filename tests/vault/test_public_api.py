"""The public surface of `vault` is exactly its __all__, importable in any order with `sdk`."""

from __future__ import annotations

import subprocess
import sys

import pytest

import vault


def test_all_names_exist_and_nothing_else_is_public() -> None:
    assert len(vault.__all__) == len(set(vault.__all__))
    for name in vault.__all__:
        assert getattr(vault, name) is not None
    public = {name for name in vars(vault) if not name.startswith("_")}
    assert public - {"sdk"} - set(vault.__all__) <= {"devserver"}


@pytest.mark.parametrize("first", ["vault", "sdk", "vault._store", "sdk._errors"])
def test_import_order_does_not_matter(first: str) -> None:
    code = f"import {first}; import vault, sdk; assert vault.CredentialStore"
    subprocess.run([sys.executable, "-W", "error", "-c", code], check=True, timeout=60)
