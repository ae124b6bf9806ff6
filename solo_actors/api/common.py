"""What every route group's handlers share: reading a request and answering it.

Request bodies are msgspec Structs decoded with `decode_body` (400 naming the bad field,
with a picture of the expected object); text fields refuse control characters
(`SomeText`, `ConversationId`). Asks to actors run in a worker thread (`in_thread`), so the
event loop never blocks, and a full mailbox answers 503 "busy" with Retry-After (`busy`).

No handler waits on model work: reads come from snapshots (``status()``, the report files,
the events hub), asks to the store, memory or a supervisor run in a worker thread with
``api.actor_timeout``, and ``/ask`` awaits only its own turn's messages.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from typing import Annotated, Any, TypeVar, get_args, get_origin

import msgspec
import pykka
from aiohttp import web

import supervisors
from solo_actors.api.report_query import parse_time
from solo_actors.api.state import STATE, ApiError, ApiState

Body = TypeVar("Body", bound=msgspec.Struct)
ENCODER = msgspec.json.Encoder()
"""The JSON encoder of every answer (msgspec Structs and plain values)."""


REFUSED_CONTROLS = r"\x00-\x08\x0b-\x1f\x7f-\x9f"
"""Control characters no text field may hold: all but tab and newline. A NUL crashes the
speech synthesiser, and the rest are never meant to be read or spoken."""
CONTROL_CHARACTERS = re.compile(f"[{REFUSED_CONTROLS}]")
TEXT_PATTERN = f"^[^\\S{REFUSED_CONTROLS}]*[^\\s{REFUSED_CONTROLS}][^{REFUSED_CONTROLS}]*$"
"""Some text that is not only white space, without refused control characters. Written so
that each character can match only one part: no backtracking, whatever the length."""
PLAIN_PATTERN = f"^[^{REFUSED_CONTROLS}]*$"
"""Any text without refused control characters."""

SomeText = Annotated[
    str,
    msgspec.Meta(pattern=TEXT_PATTERN, max_length=16_384,
                 description="not only white space; no control characters but tab and newline"),
]  # fmt: skip
ConversationId = Annotated[
    str,
    msgspec.Meta(pattern=PLAIN_PATTERN, max_length=256,
                 description="a conversation to continue; no control characters"),
]  # fmt: skip


def json_response(value: Any, status: int = 200) -> web.Response:
    return web.Response(body=ENCODER.encode(value), status=status,
                        content_type="application/json")  # fmt: skip


async def decode_body(request: web.Request, kind: type[Body]) -> Body:
    """The request's JSON body as ``kind``; 400 naming the bad field, 413 when too big."""
    raw = await request.read()
    try:
        value = msgspec.json.decode(raw, type=kind)
    except msgspec.ValidationError as error:
        raise ApiError(400, f"invalid request body: {validation_message(error)}",
                       hint=f"expected {schema_hint(kind)}") from None  # fmt: skip
    except (msgspec.DecodeError, UnicodeDecodeError) as error:
        raise ApiError(400, f"request body is not valid JSON in UTF-8: {error}",
                       hint=f"expected {schema_hint(kind)}") from None  # fmt: skip
    return value


def validation_message(error: msgspec.ValidationError) -> str:
    """msgspec's message, with a failed text pattern said in words instead of as a regex."""
    message = str(error)
    if "matching regex" not in message:
        return message
    where = message.rpartition(" - at ")[2]
    return (f"{where} holds a control character (only tab and newline are allowed in text), "
            "or nothing but white space")  # fmt: skip


def schema_hint(kind: type[msgspec.Struct]) -> str:
    """A one-line picture of ``kind``'s JSON object, e.g. ``{"text": str}``."""
    fields = msgspec.structs.fields(kind)
    return (
        "{"
        + ", ".join(
            f'"{f.encode_name}": {type_name(f.type)}' + ("" if f.required else " (optional)")
            for f in fields
        )
        + "}"
    )


def type_name(annotation: Any) -> str:
    """``str`` for ``str`` and ``Annotated[str, ...]``; unions as written (``str | None``)."""
    if get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    return getattr(annotation, "__name__", str(annotation))


BUSY_RETRY_S = 1
"""What a busy answer's Retry-After says: a full mailbox drains within about a second."""


def busy(what: str) -> ApiError:
    """The answer when ``what``'s mailbox is full: it runs, so it is not "not running"."""
    return ApiError(503, f"{what} is busy; try again in a moment",
                    headers={"Retry-After": str(BUSY_RETRY_S)})  # fmt: skip


async def in_thread(call: Callable[[], Any], timeout: float, what: str) -> Any:
    """Run a blocking call (an ask) in a worker thread; 503 naming ``what`` on timeout."""
    try:
        return await asyncio.wait_for(asyncio.to_thread(call), timeout)
    except (TimeoutError, pykka.Timeout):
        raise ApiError(503, f"{what} did not answer within {timeout:g} s; it may be busy "
                       "or restarting, try again") from None  # fmt: skip
    except supervisors.ActorExitedError as error:
        why = f"{what} {supervisors.why_unanswered(error)}"
        if error.__cause__ is not None:  # this very request crashed it: a retry would too
            raise ApiError(500, f"{why}; its supervisor restarts it, and the assistant's log "
                           "has the traceback") from None  # fmt: skip
        raise ApiError(503, f"{why}; it may be restarting, try again",
                       headers={"Retry-After": str(BUSY_RETRY_S)}) from None  # fmt: skip
    except (supervisors.NoProcError, pykka.ActorDeadError):
        raise ApiError(503, f"{what} is not running (it may be restarting or not part of "
                       "this tree); see GET /status") from None  # fmt: skip
    except supervisors.BusyError:
        raise busy(what) from None
    except supervisors.RequestFailedError as error:
        raise ApiError(500, f"{what} failed on this request ({error.detail}) and keeps "
                       "running; the assistant's log has the traceback") from None  # fmt: skip


async def ask_actor(state: ApiState, name: str, message: Any, what: str) -> Any:
    """``message`` asked of the actor registered as ``name``, from a worker thread, waiting
    ``api.actor_timeout``; a 503 naming ``what`` when it does not answer (`in_thread`)."""
    timeout = state.config.api.actor_timeout
    return await in_thread(lambda: supervisors.ask(name, message, timeout=timeout),
                           timeout + 1, what)  # fmt: skip


def state_of(request: web.Request) -> ApiState:
    return request.app[STATE]


def query_int(request: web.Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(400, f"query parameter `{name}` must be an integer, got {raw!r}") from None
    if not low <= value <= high:
        raise ApiError(400, f"query parameter `{name}` must be {low}..{high}, got {value}")
    return value


def query_time(request: web.Request, name: str) -> float | None:
    raw = request.query.get(name)
    if raw is None:
        return None
    try:
        return parse_time(raw)
    except ValueError:
        raise ApiError(400, f"query parameter `{name}` must be epoch seconds or a duration "
                       f"like 10m, 2h, 1d; got {raw!r}") from None  # fmt: skip
