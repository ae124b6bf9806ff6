"""The API's volume: how loud Solo speaks on its own speaker or in a room.

``GET /volume`` (read) answers the level, 1 to 10, of Solo's speaker, or with
``?room=NAME`` of that room's satellite; ``POST /volume`` (control) sets it (``{"level": 4}``,
``"room"`` optional) and answers the level and the one before. The level belongs to what
plays it (`solo_actors.voice.volume`): the handler asks the speaker or the room's actor
(`ChangeVolume`), waiting at most ``api.actor_timeout``, as the "turn it down" skill does.
A room that is no ``[[satellites]]`` name is a 404.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from aiohttp import web

from solo_actors.api.common import ask_actor, decode_body, json_response, state_of
from solo_actors.api.skill_items import RoomName
from solo_actors.api.state import ApiError, ApiState
from solo_actors.messages import ChangeVolume, VolumeIs
from solo_actors.names import SPEAKER
from solo_actors.rooms import room_name
from solo_actors.voice.volume import LOUDEST, QUIETEST


class VolumeBody(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """POST /volume: play Solo's voice at ``level`` on its speaker, or in ``room``."""

    level: Annotated[int, msgspec.Meta(ge=QUIETEST, le=LOUDEST)]
    room: RoomName | None = None


async def ask_output(state: ApiState, room: str | None, request: ChangeVolume) -> dict[str, Any]:
    """``request`` asked of the speaker or ``room``'s actor; the answer as the API says it."""
    if room is not None and room not in {satellite.name for satellite in state.config.satellites}:
        raise ApiError(404, f"no room {room!r}: rooms are the [[satellites]] names of the "
                       "configuration")  # fmt: skip
    output, what = (SPEAKER, "the speaker") if room is None else (room_name(room), f"room {room}")
    answer = await ask_actor(state, output, request, what)
    if not isinstance(answer, VolumeIs):
        raise ApiError(503, f"{what} did not say its volume (answered {type(answer).__name__})")
    return {"room": room, "level": answer.level, "before": answer.before}


async def volume(request: web.Request) -> web.Response:
    """GET /volume: the level of the speaker, or of ``?room=``."""
    return json_response(
        await ask_output(state_of(request), request.query.get("room"), ChangeVolume())
    )


async def set_volume(request: web.Request) -> web.Response:
    """POST /volume: set the level."""
    body = await decode_body(request, VolumeBody)
    change = ChangeVolume(level=body.level)
    return json_response(await ask_output(state_of(request), body.room, change))
