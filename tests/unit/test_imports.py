"""The house's import rules, read from the source with `ast` (nothing is imported to check them):
the read side reaches no ingest module, `shared/` imports nothing from `services/`, and the
project's modules import each other without cycles."""

from __future__ import annotations

import ast
from collections.abc import Iterable
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("services", "shared", "tongxin")
READ_SIDE = ("services.county.queries", "services.county.api")
INGEST = "services.county.ingest"


def _name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES: dict[str, Path] = {_name(p): p for top in PACKAGES for p in sorted((ROOT / top).rglob("*.py"))}


def _imported(module: str, nodes: Iterable[ast.AST]) -> set[str]:
    """The project modules these import statements name (`from a import b`: `a.b` if a module, else `a`)."""
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name in MODULES}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1] + ([node.module] if node.module else []))
            for alias in node.names:
                full = f"{base}.{alias.name}"
                found |= {full} if full in MODULES else {base} & MODULES.keys()
    return found


@cache
def _tree(module: str) -> ast.Module:
    return ast.parse(MODULES[module].read_text(encoding="utf-8"))


def imports(module: str) -> set[str]:
    """Every project module `module` imports, at its top or inside a function."""
    return _imported(module, ast.walk(_tree(module)))


def top_level_imports(module: str) -> set[str]:
    """The project modules `module` imports when it is itself imported (its top-level statements)."""
    return _imported(module, _tree(module).body)


def reached(starts: Iterable[str]) -> dict[str, list[str]]:
    """Each module reachable from `starts` by imports, with one chain of imports that reaches it."""
    chains = {m: [m] for m in starts}
    todo = list(chains)
    while todo:
        module = todo.pop()
        for other in sorted(imports(module)):
            if other not in chains:
                chains[other] = [*chains[module], other]
                todo.append(other)
    return chains


def test_the_read_side_reaches_no_ingest_module() -> None:
    read_side = [m for m in MODULES if m.startswith(READ_SIDE)]
    assert "services.county.queries.roster" in read_side and "services.county.api.app" in read_side
    chains = reached(read_side)
    ingest = {m: " → ".join(chain) for m, chain in chains.items() if m.startswith(INGEST)}
    assert ingest == {}


def test_shared_imports_nothing_from_services() -> None:
    shared = [m for m in MODULES if m.startswith("shared")]
    assert len(shared) > 5
    found = {m: sorted(i for i in imports(m) if i.startswith("services")) for m in shared}
    assert {m: i for m, i in found.items() if i} == {}


def test_no_import_cycles() -> None:
    """Tarjan's strongly connected components of the top-level imports: none larger than one module."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        for other in top_level_imports(module):
            if other not in index:
                visit(other)
                low[module] = min(low[module], low[other])
            elif other in stack:
                low[module] = min(low[module], index[other])
        if low[module] == index[module]:
            component = []
            while True:
                other = stack.pop()
                component.append(other)
                if other == module:
                    break
            if len(component) > 1 or module in top_level_imports(module):
                cycles.append(sorted(component))

    for module in MODULES:
        if module not in index:
            visit(module)
    assert cycles == []
