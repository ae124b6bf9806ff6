"""The tree as declared: child specs by path, for what a status snapshot does not carry.

``status()`` says what runs; the declared specs say how each child is meant to run (restart
policy, shutdown, strategy). The api is handed the tree's declaration when it starts (a
`DeclaredTree`, `solo_actors.runtime.tree.declared_tree` in the app), so it imports no tree
module. Nested supervisors declared with ``supervisors.supervisor_spec`` carry their flags
and children in their ``args``, so the whole declared tree is reachable from the root's
child list without asking any actor.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

import supervisors
from solo_actors.config import Config

DeclaredTree = Callable[[Config], tuple[supervisors.SupFlags, list[supervisors.ChildSpec]]]
"""The root's flags and child specs for a config, as the app declares them."""


def _supervisors_below(
    path: str, flags: supervisors.SupFlags, specs: Sequence[supervisors.ChildSpec]
) -> Iterator[tuple[str, supervisors.SupFlags, tuple[supervisors.ChildSpec, ...]]]:
    yield path, flags, tuple(specs)
    for spec in specs:
        if spec.type == "supervisor" and len(spec.args) >= 2:
            child_flags, children = spec.args[0], spec.args[1]
            if isinstance(child_flags, supervisors.SupFlags):
                yield from _supervisors_below(f"{path}/{spec.id}", child_flags, children)


def declared_supervisors(
    tree: DeclaredTree, config: Config, root_name: str
) -> list[tuple[str, supervisors.SupFlags, tuple[supervisors.ChildSpec, ...]]]:
    """Every declared supervisor: its path, flags and child specs, root first."""
    return list(_supervisors_below(root_name, *tree(config)))


def declared_specs(
    tree: DeclaredTree, config: Config, root_name: str
) -> dict[str, supervisors.ChildSpec]:
    """Every declared child spec by its tree path (``solo/llm``)."""
    return {
        f"{path}/{spec.id}": spec
        for path, _, specs in declared_supervisors(tree, config, root_name)
        for spec in specs
    }
