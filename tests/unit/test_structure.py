"""The package's shape, read from its own imports: no import cycle, no arrow that leaves a
sub-package and comes back into it, no module over 400 lines, a kind's package imported only by
the kind itself and the registry, BusyBox named only in its kind and in firmware/, and every
module importable with nothing but Python."""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

import musltool

PACKAGE = Path(musltool.__file__).parent
MAX_LINES = 400
REGISTRY = "musltool.kinds"
# Kinds and where their code lives: a module, or a package of its own.
KIND_PACKAGES = ("musltool.kinds.busybox", "musltool.kinds.c", "musltool.kinds.command")
SYSTEM_PLACES = ("musltool.kinds.busybox", "musltool.firmware")  # where BusyBox may be named


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in PACKAGE.rglob("*.py")}


def import_graph() -> dict[str, set[str]]:
    found = modules()
    graph: dict[str, set[str]] = {}
    for name, path in found.items():
        deps: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("musltool"):
                for alias in node.names:
                    full = f"{node.module}.{alias.name}"
                    deps.add(full if full in found else node.module)
            elif isinstance(node, ast.Import):
                deps |= {a.name for a in node.names if a.name.startswith("musltool")}
        graph[name] = {d for d in deps if d in found and d != name}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for dep in sorted(graph.get(node, ())):
            if state.get(dep) == 1:
                return [*stack[stack.index(dep):], dep]
            if dep not in state and (cycle := visit(dep)):
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def unit(name: str) -> str:
    """A sub-package counts as one unit (musltool.toolchain.zig -> musltool.toolchain); a
    top-level module is its own."""
    parts = name.split(".")
    return ".".join(parts[:2]) if len(parts) > 2 or (PACKAGE / parts[-1]).is_dir() else name


def unit_graph(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    units: dict[str, set[str]] = {}
    for name, deps in graph.items():
        units.setdefault(unit(name), set()).update(unit(d) for d in deps if unit(d) != unit(name))
    return units


def test_the_import_graph_has_no_cycle():
    graph = import_graph()
    assert "musltool.build" in graph["musltool.tasks.build"]  # the graph really is read
    assert find_cycle(graph) is None


def test_no_arrow_leaves_a_sub_package_and_comes_back():
    units = unit_graph(import_graph())
    assert "musltool.toolchain" in units["musltool.build"]  # sub-packages are units
    assert find_cycle(units) is None


def test_the_cycle_finder_finds_cycles():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None
    # the arrow that ran back up: toolchain.driver -> hosttools -> toolchain.zigexe
    graph = {"musltool.toolchain.driver": {"musltool.hosttools"}, "musltool.hosttools": {"musltool.toolchain.zigexe"},
             "musltool.toolchain.zigexe": set()}  # fmt: skip
    assert find_cycle(graph) is None and find_cycle(unit_graph(graph)) is not None


def test_no_module_is_over_400_lines():
    long = {name: n for name, path in modules().items() if (n := len(path.read_text().splitlines())) > MAX_LINES}
    assert long == {}


def test_a_kinds_code_is_imported_only_by_the_kind_and_the_registry():
    graph = import_graph()
    for kind in KIND_PACKAGES:
        outside = {name for name, deps in graph.items()
                   if not name.startswith(kind) and name != REGISTRY and any(d == kind or d.startswith(kind + ".") for d in deps)}  # fmt: skip
        assert outside == set(), f"{kind} imported by {outside}"


def test_busybox_is_named_only_in_its_kind_and_in_firmware():
    named = {name for name, path in modules().items()
             if re.search("busybox", path.read_text(), re.IGNORECASE)
             and not name.startswith(SYSTEM_PLACES) and name != REGISTRY}  # fmt: skip
    assert named == set()


def test_every_module_imports():
    for name in import_graph():
        importlib.import_module(name)
