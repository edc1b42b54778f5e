"""No module of txarakoon imports itself back, however indirectly.

A circle of imports works only in a lucky order, and it is a sign that two
modules are one module in two files. Every import statement counts as an
edge: at module level, under ``if TYPE_CHECKING:``, and inside functions (a
circle that is only "hidden" still ties the modules together).

Importing ``a.b.c`` also runs the ``__init__`` of ``a.b`` first; that implicit
step is Python's, not an import we wrote, so it is not an edge (a package that
re-exports its modules would otherwise be a circle with each of them).
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from pathlib import Path

import txarakoon

PACKAGE = Path(txarakoon.__file__).parent


def _modules(package: Path) -> dict[str, tuple[Path, bool]]:
    """``{dotted name: (file, is a package)}`` of every module under ``package``."""
    found = {}
    for path in sorted(package.rglob("*.py")):
        parts = list(path.relative_to(package.parent).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        if is_package:
            parts.pop()
        found[".".join(parts)] = (path, is_package)
    return found


def _owner(name: str, known: Iterable[str]) -> str | None:
    """The module ``name`` lives in: itself or its longest known prefix."""
    known = set(known)
    while name and name not in known:
        name = name.rpartition(".")[0]
    return name or None


def imports_of(source: str, module: str, is_package: bool, known: Iterable[str]) -> set[str]:
    """The known modules that ``module`` (whose code is ``source``) imports,
    wherever the import statement is."""
    known = set(known)
    package = module if is_package else module.rpartition(".")[0]
    targets: list[str] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            targets.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - (node.level - 1)])
                base = f"{base}.{node.module}" if node.module else base
            else:
                base = node.module or ""
            for alias in node.names:
                # `from pkg import mod` imports the module pkg.mod; `from mod
                # import name` imports mod.
                submodule = f"{base}.{alias.name}"
                targets.append(submodule if submodule in known else base)
    edges = {_owner(target, known) for target in targets}
    return {edge for edge in edges if edge is not None and edge != module}


def import_graph(package: Path) -> dict[str, set[str]]:
    """Who imports whom among the modules of ``package``."""
    modules = _modules(package)
    return {
        name: imports_of(path.read_text(encoding="utf-8"), name, is_package, modules)
        for name, (path, is_package) in modules.items()
    }


def find_cycle(graph: Mapping[str, Iterable[str]]) -> list[str] | None:
    """A circle of ``graph`` as ``[a, b, ..., a]``, or None if it has none."""
    done: set[str] = set()
    path: list[str] = []
    on_path: set[str] = set()

    def visit(name: str) -> list[str] | None:
        path.append(name)
        on_path.add(name)
        for target in sorted(graph.get(name, ())):
            if target in on_path:
                return [*path[path.index(target) :], target]
            if target not in done:
                cycle = visit(target)
                if cycle is not None:
                    return cycle
        path.pop()
        on_path.discard(name)
        done.add(name)
        return None

    for name in sorted(graph):
        if name not in done:
            cycle = visit(name)
            if cycle is not None:
                return cycle
    return None


def test_the_package_has_no_import_circle() -> None:
    cycle = find_cycle(import_graph(PACKAGE))
    assert cycle is None, "import circle: " + " -> ".join(cycle or [])


def test_every_kind_of_import_is_an_edge() -> None:
    known = {"p", "p.a", "p.b", "p.c", "p.d", "p.sub", "p.sub.e", "q"}
    source = """
from typing import TYPE_CHECKING
import q
from . import a
from .b import something
if TYPE_CHECKING:
    from .c import Other
def later():
    from .sub import e
    import p.d
"""
    assert imports_of(source, "p.x", False, known) == {"q", "p.a", "p.b", "p.c", "p.sub.e", "p.d"}
    assert imports_of("from .. import a", "p.sub.e", False, known) == {"p.a"}
    assert imports_of("from . import e", "p.sub", True, known) == {"p.sub.e"}


def test_a_circle_is_reported_with_its_path() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert find_cycle(graph) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set(), "c": {"a", "b"}}) is None
