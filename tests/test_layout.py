"""The package's shape: no import cycle between gymie modules, and imports that point one way.

Every ``import`` statement counts, those inside functions and under ``TYPE_CHECKING`` included:
an import hidden in a function is still a dependency, only a later one. Importing a submodule
also runs its package's ``__init__``; that implicit edge is not counted (a package re-exporting
its own modules is not a cycle).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ROOT

PACKAGE = ROOT / "gymie"

CORE = {
    "gymie",
    "gymie.exceptions",
    "gymie.excerpts",
    "gymie.encoded",
    "gymie.limits",
    "gymie.params",
    "gymie.settings",
    "gymie.logs",
    "gymie.protocol",
    "gymie.codec",
    "gymie.json_text",
    "gymie.jsonable",
    "gymie.msgpack_ext",
    "gymie.spaces",
    "gymie.values",
    "gymie.dependencies",
    "gymie.compat",
    "gymie.envs",
    "gymie.vector",
    "gymie.registry",
    "gymie.methods",
    "gymie.methods.context",
    "gymie.methods.discovery",
    "gymie.methods.env",
    "gymie.methods.legacy",
    "gymie.methods.placement",
    "gymie.methods.rpc",
    "gymie.methods.vector",
    "gymie.replies",
    "gymie.core",
}
"""The I/O-free core: above ``api``, knows no transport, backend or client."""


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def resolve(name: str) -> str | None:
    """The gymie module ``name`` is, or the closest package it lies in; None outside gymie."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def imports_of(module: str) -> Iterator[str]:
    """Every module ``module`` imports (gymie's own resolved to modules; others by top-level name)."""
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name
        elif isinstance(node, ast.ImportFrom) and node.module:
            assert node.level == 0, f"{module}: relative import"
            for alias in node.names:
                submodule = f"{node.module}.{alias.name}"
                yield submodule if submodule in MODULES else node.module


def gymie_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for module in MODULES:
        targets = {resolve(name) for name in imports_of(module) if name.split(".")[0] == "gymie"}
        graph[module] = {t for t in targets if t is not None and t != module}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in graph:
        if node not in index:
            visit(node)
    return found


def test_the_walker_sees_imports_inside_functions() -> None:
    # A cycle test that could not see a function-level import would pass on any code.
    assert "gymie.server.serving" in gymie_graph()["gymie.server.supervisor"]
    assert "gymie.backends.process" in gymie_graph()["gymie.backends"]


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_import_cycle_between_gymie_modules() -> None:
    assert cycles(gymie_graph()) == []


@pytest.mark.parametrize("module", sorted(CORE))
def test_the_core_imports_no_transport_backend_or_client(module: str) -> None:
    forbidden = (
        "gymie.api",
        "gymie.backends",
        "gymie.server",
        "gymie.client",
        "gymie.cli",
        "gymie.flags",
        "eventlet",
    )
    bad = [name for name in imports_of(module) if name.startswith(forbidden)]
    assert bad == []


@pytest.mark.parametrize("module", sorted(m for m in MODULES if m.startswith("gymie.client")))
def test_the_client_imports_only_the_wire_format(module: str) -> None:
    allowed = {"gymie.protocol", "gymie.codec", "gymie.spaces", "gymie.exceptions", "gymie.core"}
    own = {resolve(name) for name in imports_of(module) if name.startswith("gymie")}
    # gymie.core appears only under TYPE_CHECKING, for InMemoryConnection's type hints.
    assert {m for m in own if m is not None and not m.startswith("gymie.client")} <= allowed
    assert not any(name.startswith("eventlet") for name in imports_of(module))


@pytest.mark.parametrize("module", sorted(m for m in MODULES if m.startswith("gymie.backends")))
def test_backends_know_nothing_of_the_transport_or_the_client(module: str) -> None:
    forbidden = ("gymie.server", "gymie.client", "gymie.api", "eventlet")
    bad = [name for name in imports_of(module) if name.startswith(forbidden)]
    assert bad == []
