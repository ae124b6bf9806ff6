"""The rooms: Solo as the brain of Wyoming satellites, the role Home Assistant plays.

One `actor.SatelliteActor` per ``[[satellites]]`` entry, under the ``rooms`` supervisor
(`tree`); each connects to its satellite, answers its pipeline runs through Solo's actors,
and speaks the answer back into that room (docs/wyoming.md).
"""

from solo_actors.names import ROOMS_NAME

__all__ = ["ROOMS_NAME", "room_name"]


def room_name(name: str) -> str:
    """The registered name of the satellite actor of room ``name``."""
    return f"room-{name}"
