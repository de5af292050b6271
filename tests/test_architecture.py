"""The package's layering as docs/architecture.md states it: no import cycles."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "src" / "sim"


def _imports() -> dict[str, set[str]]:
    """Each module's imports of the package's modules, at the top or inside a function (those
    under ``if TYPE_CHECKING:`` are for the type checker alone and do not count)."""
    found: dict[str, set[str]] = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        package = name.split(".") if parts[-1] == "__init__" else name.split(".")[:-1]
        tree = ast.parse(path.read_text())
        typing_only = {id(n) for node in ast.walk(tree) if isinstance(node, ast.If)
                       and "TYPE_CHECKING" in ast.unparse(node.test) for n in ast.walk(node)}
        targets: set[str] = set()
        for node in ast.walk(tree):
            if not isinstance(node, ast.ImportFrom) or id(node) in typing_only:
                continue
            base = ".".join(package[:len(package) - node.level + 1]) if node.level else ""
            module = ".".join(filter(None, [base, node.module or ""]))
            targets |= {f"{module}.{a.name}" for a in node.names} | {module}
        found[name] = targets
    return {m: {t for t in ts if t in found and t != m} for m, ts in found.items()}


def test_no_module_imports_one_that_imports_it():
    graph = _imports()
    assert "sim.experiment.results" in graph and "sim.model.world" in graph  # the walk found the package
    cycles = []
    for start in graph:
        stack, seen = [(start, (start,))], set()
        while stack:
            node, path = stack.pop()
            for nxt in graph[node]:
                if nxt == start:
                    cycles.append(" -> ".join((*path, start)))
                elif nxt not in seen:
                    seen.add(nxt)
                    stack.append((nxt, (*path, nxt)))
    assert not cycles, cycles[:5]
