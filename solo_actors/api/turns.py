"""Turns and speech: ``POST /ask`` (a question, answered as JSON or streamed as server-sent
events) and ``POST /say`` (a text spoken aloud).

``/ask`` awaits only its own turn's messages, in an inbox of its own that monitors the
dialogue actor, so a dialogue that dies mid-turn is an error at once, not at
``api.ask_timeout``.
"""

from __future__ import annotations

import time
from typing import Any

import msgspec
import pykka
from aiohttp import web

import supervisors
from solo_actors.api.common import (
    ConversationId,
    SomeText,
    busy,
    decode_body,
    json_response,
    state_of,
)
from solo_actors.api.state import ApiError, ApiState
from solo_actors.api.streams import send_sse
from solo_actors.messages import (
    LLMDone,
    LLMError,
    LLMToken,
    StageTimes,
    TurnDone,
    UserTurn,
)
from solo_actors.names import DIALOGUE_NAME, TTS
from solo_actors.runtime.ids import new_id


class AskBody(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """POST /ask: a question; the reply continues ``conversation_id`` when given."""

    text: SomeText
    conversation_id: ConversationId | None = None


class SayBody(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """POST /say: a text to speak aloud."""

    text: SomeText


async def ask(request: web.Request) -> web.StreamResponse:
    state = state_of(request)
    body = await decode_body(request, AskBody)
    stream = stream_requested(request)
    # The turn's replies come to an inbox of this request's own, which monitors the dialogue
    # actor: a dialogue that dies mid-turn is an error at once, not at ask_timeout. (The
    # dialogue monitors the llm, so an llm that dies ends the turn with its TurnDone.)
    with supervisors.inbox() as box:
        box.monitor(DIALOGUE_NAME)
        turn = UserTurn(conversation_id=body.conversation_id or f"api-{new_id()}",
                        text=body.text, source="api", reply_to=box.name)  # fmt: skip
        outcome = supervisors.cast(DIALOGUE_NAME, turn)
        if outcome == "busy":
            raise busy("the dialogue actor")
        if outcome != "ok":
            raise ApiError(503, "the dialogue actor is not running; see GET /status")
        return await answer_turn(request, state, box, turn, stream)


async def answer_turn(request: web.Request, state: ApiState, box: supervisors.Inbox,
                      turn: UserTurn, stream: bool) -> web.StreamResponse:  # fmt: skip
    """Wait for ``turn``'s replies in ``box``: stream them as server-sent events, or answer
    the `TurnDone` as JSON; an error within ``api.ask_timeout`` either way."""
    deadline = time.monotonic() + state.config.api.ask_timeout
    response: web.StreamResponse | None = None
    try:
        if stream:
            response = web.StreamResponse(headers={"Content-Type": "text/event-stream",
                                                   "Cache-Control": "no-cache"})  # fmt: skip
            await response.prepare(request)
        while True:
            try:
                message = await box.receive_async(max(0.0, deadline - time.monotonic()))
            except TimeoutError:
                seconds = state.config.api.ask_timeout
                if response is not None:
                    await send_sse(response, "error", {"error": f"no reply within {seconds:g} s"})
                    return response
                raise ApiError(504, f"no reply to turn {turn.turn_id} within {seconds:g} s; "
                               "the model may be busy (GET /status)") from None  # fmt: skip
            except pykka.ActorDeadError as error:
                why = f"the dialogue actor stopped during turn {turn.turn_id}: {error}"
                if response is not None:
                    await send_sse(response, "error", {"error": why})
                    return response
                raise ApiError(503, f"{why}; try again (GET /status)") from None
            if not isinstance(message, LLMToken | LLMDone | LLMError | TurnDone):
                continue
            if response is not None and not isinstance(message, LLMDone):
                kind = {LLMToken: "token", LLMError: "error", TurnDone: "done"}[type(message)]
                await send_sse(response, kind, message)
            if isinstance(message, TurnDone):
                return response if response is not None else json_response(turn_answer(message))
    except ConnectionResetError:
        if response is None:
            raise
        # The client stopped reading: the turn goes on without it, as any other would.
        return response


def stream_requested(request: web.Request) -> bool:
    raw = request.query.get("stream", "0")
    if raw not in ("0", "1"):
        raise ApiError(400, f"query parameter `stream` must be 0 or 1, got {raw!r}")
    return raw == "1"


def turn_answer(done: TurnDone) -> dict[str, Any]:
    times = done.times
    return {"turn_id": done.turn_id, "conversation_id": done.conversation_id,
            "reply": done.reply, "error": done.error, "model": done.model,
            "tokens_per_second": done.tokens_per_second,
            "seconds": None if times.done is None or times.first_token is None
            else {"first_token_to_done": times.done - times.first_token}}  # fmt: skip


async def say(request: web.Request) -> web.Response:
    body = await decode_body(request, SayBody)
    if supervisors.whereis(TTS) is None:
        raise ApiError(503, "speech is not available: the tts actor is not running (start the "
                       "voice pipeline, or check GET /status)")  # fmt: skip
    # The tts actor speaks a finished turn's reply when no tokens preceded it.
    turn_id = new_id()
    done = TurnDone(turn_id=turn_id, conversation_id=f"api-say-{turn_id}", source="api",
                    text="", reply=body.text, times=StageTimes())  # fmt: skip
    outcome = supervisors.cast(TTS, done)
    if outcome == "busy":
        raise busy("the tts actor")
    if outcome == "noproc":
        raise ApiError(503, "speech is not available: the tts actor just stopped")
    return json_response({"turn_id": turn_id, "accepted": True}, 202)
