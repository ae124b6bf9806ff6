"""No import cycles in ``supervisors`` or ``solo_actors``, and each module imports alone.

A cycle makes the import order matter and hides which module depends on which, so layers
blur: the supervision library's mailbox needing its lifecycle, the api needing the tree that
starts it. The graph is read from the source with ``ast``: every ``import`` a module makes,
at its top or inside a function (a lazy import still makes the cycle), but not those under
``if TYPE_CHECKING:`` (type annotations only). Then each module is imported in a fresh
interpreter, alone, so a module that only works after another one was imported fails too.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("supervisors", "solo_actors")


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(path): path for package in PACKAGES
            for path in sorted((ROOT / package).rglob("*.py"))}  # fmt: skip


def is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imports(tree: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and is_type_checking(node):
            yield from (i for n in node.orelse for i in imports(n))
            continue
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        yield from imports(node)


def graph() -> dict[str, set[str]]:
    """Each module of the packages and the modules of the packages it imports."""
    known = modules()

    def resolve(name: str) -> str | None:
        while name and name not in known:
            name = name.rpartition(".")[0]
        return name or None

    edges: dict[str, set[str]] = {}
    for name, path in known.items():
        targets: set[str] = set()
        for node in imports(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                targets |= {alias.name for alias in node.names}
            elif node.module and not node.level:
                # `from package import submodule` depends on the submodule, not the package.
                targets |= {f"{node.module}.{alias.name}" if f"{node.module}.{alias.name}"
                            in known else node.module for alias in node.names}  # fmt: skip
        edges[name] = {t for t in map(resolve, targets) if t is not None and t != name}
    return edges


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in edges[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    for node in edges:
        if node not in index:
            visit(node)
    return found


def test_there_is_no_import_cycle() -> None:
    found = cycles(graph())
    assert not found, (
        "import cycles (break each by moving what both need into a leaf module):\n"
        + "\n".join(" <-> ".join(c) for c in found)
    )


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_every_module_imports() -> None:
    """Each module imports in a fresh interpreter, in a fixed order: an import-time cycle the
    graph missed (``importlib``, ``__import__``) or a broken import fails here."""
    names = sorted(name for name in modules() if not name.endswith("__main__"))
    script = "import importlib\n" + "".join(f"importlib.import_module({n!r})\n" for n in names)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            cwd=ROOT, timeout=600, check=False)  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
