"""The ``rooms`` supervisor: one satellite actor per ``[[satellites]]`` entry, as data.

one_for_one: rooms are independent, so one room's lost satellite restarts (reconnects) that
room's actor only. Each child restarts after its backoff (``rooms.backoff_min`` doubling to
``rooms.backoff_max``), so an unreachable satellite is retried ever more slowly and never
spins; ``rooms.intensity`` in ``rooms.period`` bounds the restarts of all rooms together,
past which the root restarts the rooms supervisor (and the rest of the tree never notices).
"""

from __future__ import annotations

from msgspec.structs import replace

import supervisors
from solo_actors.config import Config
from solo_actors.rooms import ROOMS_NAME, room_name
from solo_actors.rooms.actor import SatelliteActor
from solo_actors.runtime.specs import worker_spec


def rooms_spec(config: Config) -> supervisors.ChildSpec:
    settings = config.rooms
    backoff = supervisors.Backoff(settings.backoff_min, settings.backoff_max)
    children = [
        replace(worker_spec(config, room_name(s.name), SatelliteActor, s), backoff=backoff)
        for s in config.satellites
    ]
    flags = supervisors.SupFlags(
        strategy="one_for_one", intensity=settings.intensity, period=settings.period
    )
    return supervisors.supervisor_spec(ROOMS_NAME, flags, children, name=ROOMS_NAME)
