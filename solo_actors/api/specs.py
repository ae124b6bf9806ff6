"""The tree as declared: child specs by path, for what a status snapshot does not carry.

``status()`` says what runs; the specs in `solo_actors.tree` say how each child is meant to
run (restart policy, shutdown, strategy). Nested supervisors declared with
``supervisors.supervisor_spec`` carry their flags and children in their ``args``, so the whole
declared tree is reachable from the root's child list without asking any actor.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import supervisors
from solo_actors.config import Config


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
    config: Config, root_name: str
) -> list[tuple[str, supervisors.SupFlags, tuple[supervisors.ChildSpec, ...]]]:
    """Every declared supervisor: its path, flags and child specs, root first."""
    # Imported here: the tree module imports the api actor, which imports this module.
    from solo_actors.tree import root_children, root_flags

    return list(_supervisors_below(root_name, root_flags(config), root_children(config)))


def declared_specs(config: Config, root_name: str) -> dict[str, supervisors.ChildSpec]:
    """Every declared child spec by its tree path (``solo/llm``)."""
    return {
        f"{path}/{spec.id}": spec
        for path, _, specs in declared_supervisors(config, root_name)
        for spec in specs
    }
