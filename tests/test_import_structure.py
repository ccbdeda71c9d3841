"""The package's import graph has no cycles, and its modules stay small.

Imports are read from the source (every ``import`` anywhere in a module, lazy ones
inside functions included, except those under ``if TYPE_CHECKING:``), so a cycle that
only works because one side imports lazily is still a cycle here."""

from __future__ import annotations

import ast
import statistics
from pathlib import Path

#: Import name of each source folder (as pyproject.toml's package-dir maps them).
ROOTS = {"agentflow": "agentflow", "agentflow.graphs": "graphs", "agentflow.tools": "tools",
         "agentflow.evals": "evals", "agentflow.prompts": "prompts"}
#: Today: median about 100 lines, largest 535 (evals/datasets.py).
MEDIAN_LINES, MAX_LINES = 200, 600


def _modules(repo: Path) -> dict[str, Path]:
    found: dict[str, Path] = {}
    for package, folder in ROOTS.items():
        for path in (repo / folder).rglob("*.py"):
            parts = [p for p in path.relative_to(repo / folder).with_suffix("").parts if p != "__init__"]
            found[".".join([package, *parts])] = path
    return found


def _imports(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    out: set[str] = set()

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                continue
            if isinstance(child, ast.Import):
                out.update(a.name for a in child.names)
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    base = ".".join(package[: len(package) - child.level + 1] + ([base] if base else []))
                out.add(base)
                out.update(f"{base}.{a.name}" for a in child.names)
            visit(child)

    visit(ast.parse(path.read_text(encoding="utf-8")))
    return {m for m in out if m in known and m != name}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def connect(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                connect(w)
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
                found.append(sorted(component))

    for v in graph:
        if v not in index:
            connect(v)
    return found


def test_no_import_cycles(repo_root: Path) -> None:
    modules = _modules(repo_root)
    graph = {name: _imports(name, path, modules) for name, path in modules.items()}
    assert "agentflow.agent.factory" in graph["agentflow.agent.live"]  # the walk sees imports
    assert _cycles(graph) == []


def test_modules_stay_small(repo_root: Path) -> None:
    sizes = {name: len(path.read_text(encoding="utf-8").splitlines())
             for name, path in _modules(repo_root).items()}
    assert statistics.median(sizes.values()) <= MEDIAN_LINES
    largest = max(sizes, key=sizes.__getitem__)
    assert sizes[largest] <= MAX_LINES, f"{largest} has {sizes[largest]} lines"
