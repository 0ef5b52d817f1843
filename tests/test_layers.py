"""The import graph of the installed package follows the floors of docs/architecture.md.

The graph is derived from the source of every module of the installed ``auditor`` package
(imports inside functions count: they are dependencies too). Two checks: no module imports a
floor it may not use (an arrow pointing up, or sideways into a neighbour), and no import cycle
anywhere, not even inside one package.
"""

from __future__ import annotations

import ast
import importlib.util
import pkgutil
from pathlib import Path

# Floor -> the floors its modules may import (besides their own). Keep in step with
# docs/architecture.md, which draws the same table.
FLOORS: dict[str, tuple[str, ...]] = {
    "model": (),
    "exposure": ("model",),
    "collectors": ("model", "exposure"),
    "rules": ("model", "exposure"),
    "audit": ("model", "exposure", "collectors", "rules"),
    "policy": ("model",),
    "history": ("model",),
    "benchmarks": ("model",),
    "reports": ("model",),
    "app": (
        "model",
        "exposure",
        "collectors",
        "rules",
        "audit",
        "policy",
        "history",
        "benchmarks",
        "reports",
    ),
    "commands": (
        "model",
        "exposure",
        "collectors",
        "rules",
        "audit",
        "policy",
        "history",
        "benchmarks",
        "reports",
        "app",
    ),
}
# Module (or package) prefix -> floor; the longest prefix wins.
PLACES = {
    "auditor": "model",  # the package root holds only __version__
    "auditor.model": "model",
    "auditor.exposure": "exposure",
    "auditor.collectors": "collectors",
    "auditor.rules": "rules",
    "auditor.audit": "audit",
    "auditor.policy": "policy",
    "auditor.history": "history",
    "auditor.benchmarks": "benchmarks",
    "auditor.reports": "reports",
    "auditor.app": "app",
    "auditor.commands": "commands",
    "auditor.cli": "commands",
    "auditor.__main__": "commands",
}


def floor_of(module: str) -> str:
    best = max((p for p in PLACES if module == p or module.startswith(p + ".")), key=len)
    return PLACES[best]


def installed_modules() -> dict[str, Path]:
    """Every module of the installed package, by dotted name, found through the import system."""
    spec = importlib.util.find_spec("auditor")
    assert spec is not None and spec.submodule_search_locations
    found: dict[str, Path] = {"auditor": Path(spec.origin or "")}
    todo = [("auditor", list(spec.submodule_search_locations))]
    # An editable install maps some sub-packages from other folders: ask for each floor by name.
    for name in PLACES:
        sub = importlib.util.find_spec(name)
        if name != "auditor" and sub is not None and sub.origin:
            found[name] = Path(sub.origin)
            if sub.submodule_search_locations:
                todo.append((name, list(sub.submodule_search_locations)))
    while todo:
        package, paths = todo.pop()
        for info in pkgutil.iter_modules(paths):
            name = f"{package}.{info.name}"
            sub = importlib.util.find_spec(name)
            assert sub is not None and sub.origin, name
            found[name] = Path(sub.origin)
            if info.ispkg and sub.submodule_search_locations:
                todo.append((name, list(sub.submodule_search_locations)))
    return found


def imports_of(name: str, path: Path, known: set[str]) -> set[str]:
    """The package modules ``name`` imports (``from x import y`` counts y when y is a module)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                prefix = ".".join(base + ([node.module] if node.module else []))
            else:
                prefix = node.module or ""
            targets = [f"{prefix}.{a.name}" for a in node.names] + [prefix]
        else:
            continue
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name:
                out.add(target)
    return out


def graph() -> dict[str, set[str]]:
    modules = installed_modules()
    known = set(modules)
    return {name: imports_of(name, path, known) for name, path in modules.items()}


def _package_root_import(source: str, target: str) -> bool:
    """``from auditor import __version__`` is the package root, not a way into other floors."""
    return target == "auditor"


def test_no_import_points_to_a_floor_it_may_not_use():
    wrong = []
    for source, targets in sorted(graph().items()):
        here = floor_of(source)
        for target in sorted(targets):
            there = floor_of(target)
            if there != here and there not in FLOORS[here] and not _package_root_import(source, target):
                wrong.append(f"{source} ({here}) imports {target} ({there})")
    assert not wrong, "imports across floors:\n" + "\n".join(wrong)


def test_reporters_import_only_the_model():
    for source, targets in graph().items():
        if floor_of(source) == "reports":
            assert {floor_of(t) for t in targets} <= {"reports", "model"}, (source, sorted(targets))


def test_no_import_cycle():
    edges = graph()
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(v: str) -> None:  # Tarjan's strongly connected components
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    assert not cycles, "import cycles: " + "; ".join(" <-> ".join(c) for c in cycles)


def test_the_graph_is_real():
    """The derivation itself: known edges are found, so the checks above cannot pass vacuously."""
    edges = graph()
    assert "auditor.model.records" in edges["auditor.collectors.inspect"]
    assert "auditor.collectors.compose.project" in edges["auditor.collectors.compose"]
    assert "auditor.reports.ci_common" in edges["auditor.reports.sarif"]
    assert len(edges) > 80
