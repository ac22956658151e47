"""The layers point one way and no modules import each other (issue 11; docs/architecture.md).

The checks read the source with ``ast``; they import nothing, so a circle that
happens to work at run time (thanks to import order or ``TYPE_CHECKING``)
still fails here. Each check is also run against a planted bad import, so
it is known to be able to fail.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.architecture.imports import Edge, cycles, edges, modules
from tests.architecture.layers import LAYERS, layer_of, rank

MAX_LINES = 400
# Modules allowed over MAX_LINES, with why; keep this list short and shrinking.
LONG_MODULES: dict[str, str] = {}


def upward(found: list[Edge]) -> list[str]:
    bad = []
    for edge in found:
        source, target = layer_of(edge.source), layer_of(edge.target)
        assert source is not None
        assert target is not None
        if rank(target) > rank(source):
            bad.append(f"{edge.source} ({source}) imports {edge.target} ({target}) at line {edge.line}")
    return bad


def graph_of(found: list[Edge]) -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for edge in found:
        graph.setdefault(edge.source, set()).add(edge.target)
    return graph


def test_every_module_has_a_layer() -> None:
    unplaced = sorted(name for name in modules() if layer_of(name) is None)
    assert unplaced == [], f"name these modules' layer in tests/architecture/layers.py: {unplaced}"


def test_no_import_points_up_a_layer() -> None:
    assert upward(list(edges())) == []


def test_no_modules_import_each_other() -> None:
    assert cycles(graph_of(list(edges()))) == []


def test_vault_depends_on_the_foundation_only() -> None:
    reached = {
        edge.target
        for edge in edges()
        if edge.source.split(".")[0] == "vault" and edge.target.split(".")[0] == "sdk"
    }
    assert {name: layer_of(name) for name in reached} == dict.fromkeys(reached, "foundation")


def test_no_module_is_over_the_size_limit() -> None:
    over = {
        name: len(path.read_text(encoding="utf-8").splitlines())
        for name, path in modules().items()
        if name not in LONG_MODULES
    }
    assert {name: lines for name, lines in over.items() if lines > MAX_LINES} == {}


def test_the_checks_catch_a_planted_upward_import_and_a_circle(tmp_path: Path) -> None:
    for package in ("sdk", "vault", "connectors"):
        (tmp_path / package).mkdir()
        (tmp_path / package / "__init__.py").write_text("")
    (tmp_path / "sdk" / "_errors.py").write_text("from sdk._dispatch import dispatch\n")
    (tmp_path / "sdk" / "_dispatch.py").write_text("from sdk._errors import NexoraError\n")
    found = list(edges(tmp_path))
    assert upward(found) == ["sdk._errors (foundation) imports sdk._dispatch (dispatch) at line 1"]
    assert cycles(graph_of(found)) == [["sdk._dispatch", "sdk._errors"]]


@pytest.mark.parametrize("layer", LAYERS)
def test_every_layer_holds_a_module(layer: str) -> None:
    assert any(layer_of(name) == layer for name in modules()), f"layer {layer} is empty"
