"""The API's request handlers, one coroutine per route (the table is in `routes`).

Handlers never wait on model work: reads come from snapshots (``status()``, the report
files, the events hub), asks to the store, memory or a supervisor run in a worker thread
with ``api.actor_timeout``, and ``/ask`` awaits only its own turn's messages, which the api
actor routes to it.

The live streams (``/events``, ``/ask?stream=1``, ``/ws``) treat a client going away as the
ordinary end it is, and re-check their token every ``api.token_recheck`` seconds: a revoked
token ends the stream (an SSE ``revoked`` event, or WebSocket close code 4401).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import re
import time
from collections.abc import Callable
from typing import Annotated, Any, TypeVar, get_args, get_origin

import msgspec
import pykka
from aiohttp import WSMsgType, web

import supervisors
from solo_actors.api.auth import Scope, scope_allows
from solo_actors.api.metrics import render_metrics
from solo_actors.api.report_query import QUERY_KINDS, parse_time, select_reports
from solo_actors.api.specs import declared_specs, declared_supervisors
from solo_actors.api.state import SCOPE, STATE, TOKEN_ID, ApiError, ApiState, walk
from solo_actors.config import Config, ConfigError, load_config
from solo_actors.messages import (
    LLMDone,
    LLMError,
    LLMToken,
    Memories,
    MemoryFilter,
    ReadRows,
    Recall,
    Rows,
    StageTimes,
    StoreFailure,
    TurnDone,
    UserTurn,
)
from solo_actors.names import DIALOGUE_NAME, MEMORY_NAME, STORE_NAME, TTS
from solo_actors.reports import read_reports
from solo_actors.runtime.events import HUB, TOPICS, Event, Topic
from solo_actors.runtime.ids import new_id
from solo_actors.runtime.logs import configure_logging

SSE_HEARTBEAT = 15.0
"""Seconds between SSE comments that keep idle proxies from closing the stream."""

Body = TypeVar("Body", bound=msgspec.Struct)
_encoder = msgspec.json.Encoder()


# -- request bodies ------------------------------------------------------------------------


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


class AskBody(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """POST /ask: a question; the reply continues ``conversation_id`` when given."""

    text: SomeText
    conversation_id: ConversationId | None = None


class SayBody(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """POST /say: a text to speak aloud."""

    text: SomeText


def json_response(value: Any, status: int = 200) -> web.Response:
    return web.Response(body=_encoder.encode(value), status=status,
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
    except (supervisors.NoProcError, pykka.ActorDeadError):
        raise ApiError(503, f"{what} is not running (it may be restarting or not part of "
                       "this tree); see GET /status") from None  # fmt: skip
    except supervisors.BusyError:
        raise busy(what) from None


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


# -- health and the tree -------------------------------------------------------------------


async def health(request: web.Request) -> web.Response:
    state = state_of(request)
    return json_response({"status": "ok", "pid": os.getpid(),
                          "uptime": time.time() - state.started_at})  # fmt: skip


async def ready(request: web.Request) -> web.Response:
    state = state_of(request)
    specs = declared_specs(state.declared, state.config, state.root_name)
    try:
        tree = state.tree()
    except ApiError:
        return json_response({"ready": False, "not_running": [state.root_name]}, 503)
    # A permanent child must run; transient and temporary ones may have finished.
    waiting = [
        node.path for node in walk(tree)
        if node.state != "running"
        and (node.path not in specs or specs[node.path].restart == "permanent")
    ]  # fmt: skip
    answer = {"ready": not waiting, "not_running": waiting}
    return json_response(answer, 503 if waiting else 200)


STATUS_TTL = 0.1
"""Seconds one encoded /status answer is reused: at hundreds of polls a second they share
one snapshot instead of each building its own; no operator can see a tenth of a second."""


async def status(request: web.Request) -> web.Response:
    state = state_of(request)
    now = time.monotonic()
    if state.status_cache is None or now - state.status_cache[0] > STATUS_TTL:
        body = _encoder.encode({
            "time": time.time(),
            "tree": state.tree(),
            "process": state.process_figures(),
            "events": {"subscribers": HUB.subscribers, "published": HUB.published,
                       "dropped": HUB.dropped},
        })  # fmt: skip
        state.status_cache = (now, body)
    return web.Response(body=state.status_cache[1], content_type="application/json")


async def supervisor_list(request: web.Request) -> web.Response:
    state = state_of(request)
    nodes = {node.path: node for node in walk(state.tree())}
    answer = []
    for path, flags, specs in declared_supervisors(state.declared, state.config, state.root_name):
        children = []
        for spec in specs:
            node = nodes.get(f"{path}/{spec.id}")
            children.append({
                "id": spec.id, "name": spec.name, "type": spec.type, "restart": spec.restart,
                "shutdown": spec.shutdown, "state": node.state if node else "stopped",
                "restarts": node.restarts if node else 0,
            })  # fmt: skip
        answer.append({"path": path, "strategy": flags.strategy, "intensity": flags.intensity,
                       "period": flags.period, "children": children})  # fmt: skip
    return json_response({"supervisors": answer})


# -- the report log ------------------------------------------------------------------------


async def log(request: web.Request) -> web.Response:
    state = state_of(request)
    kind = request.query.get("kind")
    if kind is not None and kind not in QUERY_KINDS:
        raise ApiError(400, f"query parameter `kind` must be one of {', '.join(QUERY_KINDS)}; "
                       f"got {kind!r}")  # fmt: skip
    directory = state.config.solo.var_path(state.config.reports.dir)
    reports = await asyncio.to_thread(lambda: list(read_reports(directory)))
    limit = query_int(request, "limit", 100, 1, 10_000)
    selected = select_reports(
        reversed(reports), actor=request.query.get("actor"), kind=kind,
        since=query_time(request, "since"), until=query_time(request, "until"),
    )  # fmt: skip
    return json_response({"reports": selected[:limit]})


# -- the store and memory ------------------------------------------------------------------


async def read_store(state: ApiState, request: ReadRows) -> list[dict[str, Any]]:
    timeout = state.config.api.actor_timeout
    answer = await in_thread(
        lambda: supervisors.ask(STORE_NAME, request, timeout=timeout), timeout + 1, "the store"
    )
    if isinstance(answer, StoreFailure):
        raise ApiError(503, f"the store could not answer: {answer.message}")
    assert isinstance(answer, Rows)
    return [dict(zip(answer.columns, row, strict=True)) for row in answer.rows]


async def turns(request: web.Request) -> web.Response:
    state = state_of(request)
    rows = await read_store(state, ReadRows(
        table="turns", since=query_time(request, "since"), until=query_time(request, "until"),
        limit=query_int(request, "limit", 50, 1, 1000),
    ))  # fmt: skip
    return json_response({"turns": rows})


async def conversation(request: web.Request) -> web.Response:
    state = state_of(request)
    conversation_id = request.match_info["id"]
    rows = await read_store(state, ReadRows(
        table="turns", equals={"conversation_id": conversation_id},
        limit=query_int(request, "limit", 200, 1, 10_000),
    ))  # fmt: skip
    if not rows:
        raise ApiError(404, f"no turns recorded for conversation {conversation_id!r}; "
                       "GET /turns lists recent ones")  # fmt: skip
    return json_response({"conversation_id": conversation_id, "turns": rows[::-1]})


async def memories(request: web.Request) -> web.Response:
    state = state_of(request)
    query = request.query.get("q", "")
    if not query:
        raise ApiError(400, "query parameter `q` is required: the text to recall memories for")
    timeout = state.config.api.actor_timeout
    recall = Recall(
        query=query,
        k=query_int(request, "k", 5, 1, 100),
        filter=MemoryFilter(conversation_id=request.query.get("conversation_id")),
    )
    answer = await in_thread(lambda: supervisors.ask(MEMORY_NAME, recall, timeout=timeout),
                             timeout + 1, "memory")  # fmt: skip
    if isinstance(answer, StoreFailure):
        raise ApiError(503, f"memory could not answer: {answer.message}")
    assert isinstance(answer, Memories)
    if answer.error is not None:
        raise ApiError(503, f"memory could not answer: {answer.error}")
    return json_response({"query": query, "memories": answer.items})


# -- control: actors -----------------------------------------------------------------------


ACTION_SCOPES: dict[str, Scope] = {"restart": "control", "start": "control", "stop": "admin"}
"""Stopping an actor takes admin: it stays down until someone starts it."""


def full_path(state: ApiState, raw: str) -> str:
    """``llm`` and ``solo/llm`` both name the root's child llm."""
    raw = raw.strip("/")
    return raw if raw == state.root_name or raw.startswith(state.root_name + "/") else (
        f"{state.root_name}/{raw}")  # fmt: skip


async def actor_action(request: web.Request) -> web.Response:
    state = state_of(request)
    action = request.match_info["action"]
    needed = ACTION_SCOPES[action]
    held = request.get(SCOPE)
    # Fails closed: a request that somehow carries no scope is refused, not let through.
    if held is None or not scope_allows(held, needed):  # type: ignore[arg-type]
        raise ApiError(403, f"{action} needs a token with scope {needed!r}; this one has "
                       f"{held or 'none'!r}")  # fmt: skip
    path = full_path(state, request.match_info["path"])
    tree = state.tree()
    node = tree.find(path)
    if node is None or path == tree.path:
        known = [n.path for n in walk(tree) if n is not tree]
        raise ApiError(404, f"no actor at {path!r}", known_paths=known)
    parent_path, child_id = path.rsplit("/", 1)
    parent = state.supervisor_at(parent_path)
    if parent is None:
        raise ApiError(503, f"the supervisor {parent_path!r} is not running")
    if path.endswith("/" + state.actor_name) and action != "restart":
        raise ApiError(409, f"the api cannot {action} itself: there would be no api left to "
                       "start it again; use restart, or stop the assistant")  # fmt: skip
    timeout = state.config.api.actor_timeout

    def perform() -> None:
        if action == "stop":
            parent.terminate_child(child_id)
        elif action == "start":
            parent.restart_child(child_id)
        else:
            # An operator's restart: counted in the actor's restarts but not in its
            # supervisor's restart intensity, so no number of clicks can stop the tree.
            parent.cycle_child(child_id)

    try:
        if path.endswith("/" + state.actor_name):
            # Restarting ourselves: answer first; the supervisor stops this server, so we
            # must not wait for it.
            asyncio.get_running_loop().call_later(
                0.1, functools.partial(parent.cycle_child, child_id, wait=False)
            )
        else:
            await in_thread(perform, timeout, f"the supervisor {parent_path!r}")
    except supervisors.SupervisorError as error:
        raise ApiError(409, f"cannot {action} {path}: {error}") from None
    except supervisors.StartError as error:
        raise ApiError(500, f"{path} failed to start: {error.reason}") from None
    return json_response({"path": path, "action": action, "accepted": True}, 202)


# -- control: turns and speech -------------------------------------------------------------


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


# -- control: configuration ----------------------------------------------------------------


def changed_keys(old: Any, new: Any, prefix: str = "") -> list[str]:
    """Dotted keys whose values differ between two config trees."""
    if isinstance(old, dict) and isinstance(new, dict):
        keys = sorted(set(old) | set(new))
        return [k for key in keys for k in changed_keys(old.get(key), new.get(key),
                                                        f"{prefix}{key}.")]  # fmt: skip
    return [] if old == new else [prefix.rstrip(".")]


LIVE_API_KEYS = ("rate_per_token", "rate_per_address", "rate_burst", "ask_timeout",
                 "actor_timeout")  # fmt: skip
"""[api] settings a reload applies at once, besides all of [log]; any other change needs a
restart of the assistant (or of the actor that reads it)."""


def live_part(old: Config, new: Config) -> Config:
    """``old`` with the settings of ``new`` that can change while running."""
    api = msgspec.structs.replace(old.api, **{key: getattr(new.api, key) for key in LIVE_API_KEYS})
    return msgspec.structs.replace(old, log=new.log, api=api)


async def config_reload(request: web.Request) -> web.Response:
    state = state_of(request)
    old = state.config
    try:
        new = await asyncio.to_thread(load_config, old.profile)
    except ConfigError as error:
        raise ApiError(400, f"the profile does not load: {error}; nothing was changed") from None
    changed = changed_keys(msgspec.to_builtins(old), msgspec.to_builtins(new))
    live = live_part(old, new)
    applied = changed_keys(msgspec.to_builtins(old), msgspec.to_builtins(live))
    if live.log != old.log:
        configure_logging(live.log)
    state.apply(live)
    return json_response(
        {
            "profile": new.profile,
            "applied": applied,
            "needs_restart": [key for key in changed if key not in applied],
        }
    )


# -- streams -------------------------------------------------------------------------------


def requested_topics(request: web.Request) -> frozenset[Topic]:
    raw = request.query.get("topics")
    if raw is None:
        return frozenset(TOPICS)
    topics = {part.strip() for part in raw.split(",") if part.strip()}
    unknown = topics - set(TOPICS)
    if unknown or not topics:
        raise ApiError(400, f"query parameter `topics` takes a comma-separated subset of "
                       f"{', '.join(TOPICS)}; got {raw!r}")  # fmt: skip
    return frozenset(topics)  # type: ignore[arg-type]


class Subscriber:
    """A hub subscription woken through the event loop (the hub publishes from actor
    threads, so the wake-up crosses threads with call_soon_threadsafe)."""

    def __init__(self, state: ApiState, topics: frozenset[Topic]) -> None:
        self.loop = asyncio.get_running_loop()
        self.ready = asyncio.Event()
        self.subscription = HUB.subscribe(topics, state.config.api.event_queue, self.wake)

    def wake(self) -> None:
        """Called by the hub on a publisher's thread: wake the waiting task."""
        self.loop.call_soon_threadsafe(self.ready.set)

    async def next_batch(self, timeout: float) -> list[Event]:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.ready.wait(), timeout)
        self.ready.clear()
        return self.subscription.drain()

    def close(self) -> None:
        self.subscription.close()


async def send_sse(response: web.StreamResponse, event: str, data: Any,
                   event_id: int | None = None) -> None:  # fmt: skip
    head = f"id: {event_id}\n" if event_id is not None else ""
    await response.write(f"{head}event: {event}\ndata: ".encode() + _encoder.encode(data) + b"\n\n")


def token_live(request: web.Request) -> bool:
    """Whether the token a stream was opened with is still valid (no token: auth is off)."""
    token_id = request.get(TOKEN_ID)
    return token_id is None or state_of(request).tokens.is_live(token_id)


async def events(request: web.Request) -> web.StreamResponse:
    state = state_of(request)
    subscriber = Subscriber(state, requested_topics(request))
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream",
                                           "Cache-Control": "no-cache"})  # fmt: skip
    loop = asyncio.get_running_loop()
    try:
        await response.prepare(request)
        await response.write(b": connected\n\n")
        dropped = 0
        checked = written = loop.time()
        while True:
            wait = min(SSE_HEARTBEAT, state.config.api.token_recheck)
            batch = await subscriber.next_batch(wait)
            now = loop.time()
            if now - checked >= state.config.api.token_recheck:
                checked = now
                if not token_live(request):
                    await send_sse(response, "revoked", {"error": "the token was revoked",
                                                         "status": 401})  # fmt: skip
                    return response
            if batch:
                written = now
            elif now - written >= SSE_HEARTBEAT:
                written = now
                await response.write(b": keep-alive\n\n")
            for event in batch:
                await send_sse(response, event.topic, event, event.id)
            if subscriber.subscription.dropped != dropped:
                dropped = subscriber.subscription.dropped
                await send_sse(response, "dropped", {"dropped": dropped})
    except ConnectionResetError:
        return response  # the client went away: the ordinary end of a stream
    finally:  # the client went away, the token was revoked, or the server is stopping
        subscriber.close()


REVOKED_CLOSE = 4401
"""WebSocket close code for a missing, wrong or revoked token (401 in the 4000 range)."""


async def websocket(request: web.Request) -> web.WebSocketResponse:
    state = state_of(request)
    topics = requested_topics(request)
    socket = web.WebSocketResponse(heartbeat=SSE_HEARTBEAT)
    await socket.prepare(request)
    if request.get(SCOPE) is None and not await authenticate_socket(request, socket):
        return socket
    subscriber = Subscriber(state, topics)
    # A reader task notices the client closing while the writer waits for events.
    reader = asyncio.create_task(drain_socket(socket))
    loop = asyncio.get_running_loop()
    checked = loop.time()
    try:
        while not socket.closed and not reader.done():
            for event in await subscriber.next_batch(1.0):
                await socket.send_str(_encoder.encode(event).decode())
            if loop.time() - checked >= state.config.api.token_recheck:
                checked = loop.time()
                if not token_live(request):
                    await socket.close(code=REVOKED_CLOSE, message=b"token revoked")
    except ConnectionResetError:
        pass  # the client went away: the ordinary end of a stream
    finally:
        reader.cancel()
        subscriber.close()
        await socket.close()
    return socket


async def drain_socket(socket: web.WebSocketResponse) -> None:
    async for message in socket:
        if message.type in (WSMsgType.CLOSE, WSMsgType.ERROR):
            return


async def authenticate_socket(request: web.Request, socket: web.WebSocketResponse) -> bool:
    """Browsers cannot set headers on a WebSocket: the first frame may carry the token,
    as ``{"token": "..."}``. Closes the socket (4401/4403) when it does not."""
    state = state_of(request)
    try:
        message = await socket.receive(timeout=5.0)
        token = msgspec.json.decode(message.data, type=dict[str, str]).get("token", "")
    except (TimeoutError, ValueError, msgspec.DecodeError, TypeError):
        token = ""  # no frame, not JSON, not UTF-8, or not an object of strings
    entry = state.tokens.authenticate(token) if token else None
    if entry is None:
        await socket.close(code=REVOKED_CLOSE, message=b'send {"token": "..."} first')
        return False
    if not scope_allows(entry.scope, "read"):
        await socket.close(code=4403, message=b"needs scope read")
        return False
    request[SCOPE] = entry.scope
    request[TOKEN_ID] = entry.id
    return True


# -- metrics -------------------------------------------------------------------------------


async def metrics(request: web.Request) -> web.Response:
    body, content_type = render_metrics(state_of(request))
    return web.Response(body=body, headers={"Content-Type": content_type})
