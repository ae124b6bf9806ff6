"""The API's speaking rate: how fast Solo speaks, everywhere it speaks.

``GET /speaking-rate`` (read) answers the rate in percent of the voice's normal speed;
``POST /speaking-rate`` (control) sets it (``{"percent": 80}``, 60 to 140) and answers the
rate and the one before. The rate is tts's (`solo_actors.voice.speaking_rate`): the handler
asks it `ChangeSpeakingRate`, waiting at most ``api.actor_timeout``, as the "speak slower"
skill does.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from aiohttp import web

from solo_actors.api.common import ask_actor, decode_body, json_response, state_of
from solo_actors.api.state import ApiError, ApiState
from solo_actors.messages import ChangeSpeakingRate, SpeakingRateIs
from solo_actors.names import TTS
from solo_actors.voice.speaking_rate import FASTEST, SLOWEST


class SpeakingRateBody(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """POST /speaking-rate: speak at ``percent`` of the voice's normal speed."""

    percent: Annotated[int, msgspec.Meta(ge=SLOWEST, le=FASTEST)]


async def ask_tts(state: ApiState, request: ChangeSpeakingRate) -> dict[str, Any]:
    """``request`` asked of tts; the answer as the API says it."""
    answer = await ask_actor(state, TTS, request, "tts")
    if not isinstance(answer, SpeakingRateIs):
        raise ApiError(503, f"tts did not say its speaking rate (answered {type(answer).__name__})")
    return {"percent": answer.percent, "before": answer.before, "remote_voice": answer.remote}


async def speaking_rate(request: web.Request) -> web.Response:
    """GET /speaking-rate."""
    return json_response(await ask_tts(state_of(request), ChangeSpeakingRate()))


async def set_speaking_rate(request: web.Request) -> web.Response:
    """POST /speaking-rate: set the rate."""
    body = await decode_body(request, SpeakingRateBody)
    return json_response(await ask_tts(state_of(request), ChangeSpeakingRate(percent=body.percent)))
