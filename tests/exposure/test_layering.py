"""auditor.exposure stands on the model alone: it imports nothing else from auditor."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "auditor" / "exposure"
ALLOWED = {"auditor.model", "auditor.errors"}


def imported_modules(path: Path) -> set[str]:
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.add(node.module)
    return out


def test_exposure_imports_only_the_model_and_errors():
    offending = {}
    for path in sorted(PACKAGE.glob("*.py")):
        bad = {
            m
            for m in imported_modules(path)
            if m.startswith("auditor") and not m.startswith("auditor.exposure") and m not in ALLOWED
        }
        if bad:
            offending[path.name] = sorted(bad)
    assert offending == {}


def test_no_module_level_mutable_state():
    for path in sorted(PACKAGE.glob("*.py")):
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, (ast.Assign, ast.AnnAssign)):
                value = node.value
                assert not isinstance(
                    value, (ast.Dict, ast.List, ast.Set, ast.DictComp, ast.ListComp, ast.SetComp)
                ) or _is_constant_table(node), (
                    path.name,
                    ast.unparse(node)[:80],
                )


def _is_constant_table(node: ast.Assign | ast.AnnAssign) -> bool:
    """Upper-case names hold constant lookup tables (never mutated)."""
    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
    return all(isinstance(t, ast.Name) and (t.id.isupper() or t.id == "__all__") for t in targets)
