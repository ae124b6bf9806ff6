"""Every registered name is written once, in `solo_actors.names`.

Scans the source of ``solo_actors`` with ``ast`` for a registered name written as a string
literal where a name is meant: an argument of the registry's calls (``whereis``, ``ask``,
``tell``, ``cast``, ``monitor``, ``send``, a spec builder ...), a ``name=``/``reply_to=``
keyword or parameter default, or a module constant. Topics, model roles, turn sources and
paths that happen to spell the same word are not names and are not flagged.
"""

from __future__ import annotations

import ast
from pathlib import Path

from solo_actors.names import REGISTERED

PACKAGE = Path(__file__).resolve().parent.parent / "solo_actors"
CALLS = frozenset({"whereis", "ask", "tell", "cast", "monitor", "register", "unregister", "send",
                   "inbox", "worker_spec", "child_spec", "supervisor_spec", "spec"})  # fmt: skip
"""Calls whose string arguments are registered names."""
KEYWORDS = frozenset({"name", "reply_to", "llm_name", "target", "to"})
"""Keywords and parameters that hold a registered name."""


def is_name(node: ast.AST | None) -> bool:
    return isinstance(node, ast.Constant) and node.value in REGISTERED


def name_literals(tree: ast.Module) -> list[ast.Constant]:
    """The registered-name literals of a module, by the rules of the module docstring."""
    found: list[ast.AST] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            called = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
            if called in CALLS:
                found += node.args
            found += [keyword.value for keyword in node.keywords if keyword.arg in KEYWORDS]
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            positional = node.args.posonlyargs + node.args.args
            defaults = zip(positional[len(positional) - len(node.args.defaults) :],
                           node.args.defaults, strict=True)  # fmt: skip
            found += [default for arg, default in defaults if arg.arg in KEYWORDS]
            keyword_only = zip(node.args.kwonlyargs, node.args.kw_defaults, strict=True)
            found += [default for arg, default in keyword_only if arg.arg in KEYWORDS]
    for node in tree.body:
        if isinstance(node, ast.Assign | ast.AnnAssign):
            found.append(node.value)
    return [node for node in found if is_name(node)]  # type: ignore[misc]


def test_registered_names_are_written_only_in_names_py() -> None:
    offences = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.name == "names.py" and path.parent == PACKAGE:
            continue
        for literal in name_literals(ast.parse(path.read_text(), str(path))):
            where = f"{path.relative_to(PACKAGE.parent)}:{literal.lineno}"
            offences.append(f"{where}: {literal.value!r}")
    assert not offences, (
        "registered names written as literals; import them from solo_actors.names instead:\n"
        + "\n".join(offences)
    )


def test_the_scan_finds_a_literal_name() -> None:
    """The rules catch each kind of use (so the test above can fail)."""
    source = """
STORE = "store"
def f(name: str = "llm", *, reply_to: str = "tts") -> None:
    supervisors.tell("dialogue", x)
    Turn(reply_to="speaker")
    topic("agents")  # a topic, not a name: not flagged
"""
    found = sorted(literal.value for literal in name_literals(ast.parse(source)))
    assert found == ["dialogue", "llm", "speaker", "store", "tts"]
