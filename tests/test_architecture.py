"""The package's shape: layers that import one way, no import circles, small modules.

The import graph is read from the source (module-level imports and the ones
inside functions; a ``TYPE_CHECKING`` block may name a type from anywhere).
``from . import x`` counts as importing the module ``x`` when there is one.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "flask_komtet"
MAX_LINES = 400

#: Top to bottom; a module may import only from its own layer or the ones below it.
LAYERS: dict[str, tuple[str, ...]] = {
    "face": ("flask_komtet", "extension", "admin", "webhooks", "cli", "celery_tasks", "receivers", "pytest_plugin",
             "register_cli", "testing", "monitoring"),
    "service": ("outbox", "dispatch", "routing", "reconcile", "ops"),
    "state": ("state", "registry", "installation", "models", "statements", "config"),
    "core": ("orders", "details", "adapter", "values", "receipts", "validation", "client", "posting", "signing",
             "enums", "errors", "signals", "emulator", "moments", "kopecks", "marks"),
}
#: The emulator stands apart: a second opinion on receipts, it imports nothing else of the package.
STANDALONE = "emulator"


def _modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def _type_checking_nodes(tree: ast.AST) -> set[int]:
    skipped = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skipped.update(id(child) for stmt in node.body for child in ast.walk(stmt))
    return skipped


def _imports(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skipped = _type_checking_nodes(tree)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    targets = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                source = f"{base}.{node.module}" if node.module else base
            else:
                source = node.module or ""
            submodules = [f"{source}.{alias.name}" for alias in node.names if f"{source}.{alias.name}" in modules]
            targets.update(submodules)
            if len(submodules) < len(node.names):
                targets.add(source)  # names from the module itself
    return {target for target in targets if target in modules and target != name}


def import_graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports(name, path, modules) for name, path in modules.items()}


def strongly_connected(graph: dict[str, set[str]]) -> list[set[str]]:
    """Tarjan's algorithm, iteratively."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components = []
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                components.append(component)
    return components


def _top(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def layer_of(module: str) -> int:
    top = _top(module)
    for rank, members in enumerate(LAYERS.values()):
        if top in members:
            return rank
    raise AssertionError(f"{module} belongs to no layer: add it to LAYERS in tests/test_architecture.py")


def test_no_import_circles() -> None:
    circles = [sorted(c) for c in strongly_connected(import_graph()) if len(c) > 1]
    assert circles == []


def test_the_check_finds_a_circle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert [sorted(c) for c in strongly_connected(graph) if len(c) > 1] == [["a", "b", "c"]]


def test_layers_import_one_way() -> None:
    upward = []
    for module, targets in import_graph().items():
        if _top(module) == STANDALONE:
            continue
        for target in targets:
            if layer_of(target) < layer_of(module):
                upward.append(f"{module} -> {target}")
    assert upward == []


def test_the_emulator_imports_nothing_else_of_the_package() -> None:
    outside = sorted(f"{m} -> {t}" for m, targets in import_graph().items() if _top(m) == STANDALONE
                     for t in targets if _top(t) != STANDALONE)
    assert outside == []


def test_only_the_package_imports_the_extension() -> None:
    importers = sorted(m for m, targets in import_graph().items() if "flask_komtet.extension" in targets)
    assert importers == ["flask_komtet"]


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("*.py")), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_modules_stay_small(path: Path) -> None:
    assert len(path.read_text(encoding="utf-8").splitlines()) <= MAX_LINES


def test_admin_screens_live_in_their_package() -> None:
    assert sorted(p.name for p in PACKAGE.glob("admin_*.py")) == []
    assert (PACKAGE / "admin" / "__init__.py").exists()


def test_private_names_stay_in_their_module() -> None:
    """Modules use each other's public names only: no ``from .x import _private``."""
    leaks = []
    for name, path in _modules().items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.level or (node.module or "").startswith("flask_komtet")):
                leaks += [f"{name}: {alias.name}" for alias in node.names
                          if alias.name.startswith("_") and not alias.name.startswith("__")]
    assert leaks == []
