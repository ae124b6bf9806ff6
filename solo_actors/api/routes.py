"""Every route of the API as data: method, path, handler, scope, parameters, body, answers.

The aiohttp router and the OpenAPI 3 document (``GET /openapi.json``) are both built from
`ROUTES`, so the two cannot drift apart; a test compares the running router with the
document as well. The handlers live in one module per route group: `status` (health,
readiness, the tree, metrics), `history` (report log, turns, memories), `actors`, `turns`
(``/ask``, ``/say``), `config_reload`, `streams` (``/events``, ``/ws``), `agent_runs`,
`skill_items`, `volume`, `speaking_rate`, `mcp_route` and the OpenAI-compatible `v1`
package; what they share is in `common`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import msgspec
from aiohttp import web

from solo_actors.api import (
    actors,
    agent_runs,
    config_reload,
    history,
    mcp_route,
    skill_items,
    speaking_rate,
    status,
    streams,
    turns,
    volume,
)
from solo_actors.api.actors import ACTION_SCOPES
from solo_actors.api.auth import SCOPES, Scope
from solo_actors.api.common import PLAIN_PATTERN, json_response
from solo_actors.api.report_query import QUERY_KINDS
from solo_actors.api.turns import AskBody, SayBody
from solo_actors.api.v1 import audio, chat, embeddings, models
from solo_actors.api.v1 import errors as v1_errors
from solo_actors.runtime.events import TOPICS

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
STATIC_DIR = Path(__file__).with_name("static")
API_VERSION = "1"


@dataclass(frozen=True)
class Param:
    name: str
    where: Literal["query", "path", "header"]
    description: str
    schema: dict[str, Any]
    required: bool = False


@dataclass(frozen=True)
class Route:
    method: Literal["GET", "POST", "DELETE"]
    path: str
    """OpenAPI path; `router_path` when aiohttp needs a pattern."""
    handler: Handler
    scope: Scope | None
    """Least token scope that may call it; None: public."""
    summary: str
    params: tuple[Param, ...] = ()
    body: type[msgspec.Struct] | None = None
    ok: int = 200
    content: tuple[str, ...] = ("application/json",)
    errors: tuple[int, ...] = ()
    """Statuses besides the ones every route may answer (429) and auth adds (401, 403)."""
    router_path: str | None = None
    error_bodies: tuple[tuple[int, dict[str, Any]], ...] = ()
    """Error statuses whose body is not the usual ``{"error": ...}``, with its schema."""
    operation_id: str = ""
    """OpenAPI operationId when the handler's name is shared with other routes."""
    form: dict[str, Any] | None = None
    """The schema of a multipart/form-data body (an upload), instead of a JSON ``body``.
    Such a route reads its body as a stream and bounds it itself; the API's JSON body limit
    does not apply to it."""

    @property
    def body_type(self) -> str:
        return "multipart/form-data" if self.form is not None else "application/json"


INT = {"type": "integer"}
STRING = {"type": "string"}
TIME = {
    "type": "string",
    "pattern": r"^\d+(\.\d+)?[smhd]?$",
    "description": "epoch seconds, or a duration ago: 90s, 10m, 2h, 1d",
}


JSONRPC_ERROR: dict[str, Any] = {
    "type": "object",
    "description": "a JSON-RPC error, as MCP's transport answers a message it can't take",
    "required": ["jsonrpc", "error"],
    "properties": {"jsonrpc": {"type": "string"},
                   "error": {"type": "object", "required": ["code", "message"],
                             "properties": {"code": INT, "message": STRING}}},
}  # fmt: skip


READINESS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["ready", "not_running"],
    "properties": {"ready": {"type": "boolean"},
                   "not_running": {"type": "array", "items": {"type": "string"}}},
}  # fmt: skip


def query(name: str, description: str, schema: dict[str, Any], required: bool = False) -> Param:
    """A query parameter; free text in one refuses control characters (the server's check)."""
    if schema.get("type") == "string" and not {"pattern", "enum"} & schema.keys():
        schema = {**schema, "pattern": PLAIN_PATTERN}
    return Param(name, "query", description, schema, required)


async def dashboard(_request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC_DIR / "index.html")


async def static_file(request: web.Request) -> web.FileResponse:
    name = request.match_info["name"]
    path = STATIC_DIR / name
    # Only the page's own files: no sub-folders, so no path can climb out of static/.
    if "/" in name or name.startswith(".") or not path.is_file():
        raise web.HTTPNotFound(text=f"no static file {name!r}")
    return web.FileResponse(path)


async def openapi(_request: web.Request) -> web.Response:
    return json_response(openapi_document())


ACTOR_PATH = Param(
    "path", "path",
    "tree path, e.g. llm or solo/voice/tts; here with each `/` written `%2F` "
    "(solo%2Fvoice%2Ftts), since OpenAPI path parameters hold no `/`. The server takes the "
    "slashes as they are too: POST /actors/solo/voice/tts/restart",
    {"type": "string", "pattern": "^[^/]+$"}, True,
)  # fmt: skip
ACTION_SUMMARIES = {
    "restart": "Restart an actor (counted in its restarts, not in its supervisor's intensity)",
    "start": "Start a stopped actor",
    "stop": "Stop an actor; it stays stopped until started (admin)",
}


MEMORY_FILTER = (
    query("conversation_id", "only this conversation's memories", STRING),
    query("kind", 'only this kind ("told", "exchange")', STRING),
    query("user_id", "only this user's memories", STRING),
)
"""Which memories a recall, a listing or a forget takes."""


def actor_route(action: str) -> Route:
    """``POST /actors/{path}/<action>``: one route per action, each with its own scope."""
    return Route("POST", f"/actors/{{path}}/{action}", actors.actor_action,
                 ACTION_SCOPES[action], ACTION_SUMMARIES[action], params=(ACTOR_PATH,), ok=202,
                 errors=(404, 409, 503), router_path=f"/actors/{{path:.+}}/{{action:{action}}}",
                 operation_id=f"{action}_actor")  # fmt: skip


def skill_item_routes() -> tuple[Route, ...]:
    """GET, POST and DELETE of /timers, /alarms, /reminders and /lists, and POST /announce
    (solo_actors/api/skill_items.py)."""
    routes: list[Route] = []
    for kind in skill_items.KINDS:
        listing, create, cancel = skill_items.handlers_for(kind)
        extra = ", remaining_s and length_s" if kind == "timer" else ""
        routes += [
            Route("GET", f"/{kind}s", listing, "read",
                  f"Pending {kind}s, soonest first: id, label, due_at (epoch seconds){extra}",
                  errors=(503,)),
            Route("POST", f"/{kind}s", create, "control",
                  f"Create a {kind}, checked as a spoken one is (400 says what is wrong)",
                  body=skill_items.BODIES[kind], ok=201, errors=(400, 413, 503)),
            Route("DELETE", f"/{kind}s/{{id}}", cancel, "control", f"Cancel a pending {kind}",
                  params=(Param("id", "path", f"{kind} id (from GET /{kind}s)", STRING, True),),
                  errors=(404, 503)),
        ]  # fmt: skip
    list_path = Param("list", "path", 'a list\'s name ("shopping", "to-do")', STRING, True)
    routes += [
        Route("GET", "/lists", skill_items.lists, "read",
              "The open items of each list (shopping, to-do ...), oldest first: id, text, "
              "created_at", params=(query("list", "only this list", STRING),),
              errors=(503,)),
        Route("POST", "/lists/{list}", skill_items.add_to_list, "control",
              "Put items on a list (made by naming it); those on it already are named in "
              "'already'", params=(list_path,), body=skill_items.ListBody, ok=201,
              errors=(400, 413, 503)),
        Route("DELETE", "/lists/{list}", skill_items.clear_list, "control",
              "Clear a list: every open item crossed off (kept as history)",
              params=(list_path,), errors=(404, 503)),
        Route("DELETE", "/lists/{list}/items/{id}", skill_items.cross_off, "control",
              "Cross an item off a list",
              params=(list_path, Param("id", "path", "item id (from GET /lists)", STRING, True)),
              errors=(404, 503)),
    ]  # fmt: skip
    routes.append(Route(
        "POST", "/announce", skill_items.announce, "control",
        "Say a text in one room (a [[satellites]] name), or in every room and on Solo's own "
        "speaker; answers where it was said and which rooms were not connected",
        body=skill_items.AnnounceBody, errors=(400, 404, 413, 503),
    ))  # fmt: skip
    return tuple(routes)


def v1_routes() -> tuple[Route, ...]:
    """The OpenAI-compatible routes (solo_actors/api/v1; docs/openai.md)."""
    return (
        Route("GET", "/v1/models", models.list_models, "read",
              "OpenAI-compatible: the models on disk (catalog models, and the served ones)"),
        Route("GET", "/v1/models/{id}", models.get_model, "read", "OpenAI-compatible: one model",
              params=(Param("id", "path", "model id (from GET /v1/models)", STRING, True),),
              errors=(404,)),
        Route("POST", "/v1/chat/completions", chat.chat_completions, "control",
              "OpenAI-compatible chat, answered by the llm; `stream` for server-sent chunks; "
              f"a Solo conversation by the {chat.CONVERSATION_HEADER} header or `user`",
              params=(Param(chat.CONVERSATION_HEADER, "header",
                            "a Solo conversation to continue: the llm keeps its history (else "
                            "the request is stateless); wins over `user`",
                            {"type": "string", "minLength": 1, "maxLength": 256,
                             "pattern": "^[ -~]*[!-~][ -~]*$"}),),
              body=chat.ChatBody, content=("application/json", "text/event-stream"),
              errors=(400, 404, 413, 503, 504)),
        Route("POST", "/v1/audio/transcriptions", audio.transcriptions, "control",
              "OpenAI-compatible speech to text (multipart `file`: WAV, FLAC, MP3), by stt",
              form=audio.TRANSCRIPTION_FORM, content=("application/json", "text/plain"),
              errors=(400, 404, 413, 503)),
        Route("POST", "/v1/audio/speech", audio.speech, "control",
              "OpenAI-compatible text to speech (wav, pcm, mp3, flac, opus, aac), by tts",
              body=audio.SpeechBody, content=tuple(dict.fromkeys(audio.MEDIA_TYPES.values())),
              errors=(400, 404, 413, 503)),
        Route("POST", "/v1/embeddings", embeddings.embeddings, "control",
              "OpenAI-compatible embeddings, by the memory's embedder",
              body=embeddings.EmbeddingsBody, errors=(400, 404, 413, 503)),
    )  # fmt: skip


ROUTES: tuple[Route, ...] = (
    Route("GET", "/", dashboard, None, "The dashboard page", content=("text/html",)),
    Route("GET", "/static/{name}", static_file, None, "The dashboard's script and style",
          params=(Param("name", "path", "file name", STRING, True),),
          content=("text/javascript", "text/css"), errors=(404,)),
    Route("GET", "/health", status.health, None, "The process is alive"),
    Route("GET", "/ready", status.ready, None, "Every permanent child is running (else 503)",
          errors=(503,), error_bodies=((503, READINESS_SCHEMA),)),
    Route("GET", "/openapi.json", openapi, None, "This document"),
    Route("GET", "/status", status.status, "read",
          "The supervision tree: state, uptime, restarts, last exit, mailbox, figures",
          errors=(503,)),
    Route("GET", "/supervisors", status.supervisor_list, "read",
          "Each supervisor's flags and child specs with their state", errors=(503,)),
    Route("GET", "/log", history.log, "read", "Supervisor reports, newest first",
          params=(query("actor", "tree path or child id, e.g. solo/llm or llm", STRING),
                  query("kind", "report kind; crash = abnormal exit, stop = shutdown",
                        {"type": "string", "enum": list(QUERY_KINDS)}),
                  query("since", "reports at or after", TIME),
                  query("until", "reports before", TIME),
                  query("limit", "at most this many (1..10000, default 100)",
                        {"type": "integer", "minimum": 1, "maximum": 10000})),
          errors=(400,)),
    Route("GET", "/turns", history.turns, "read", "Recent turns from the store, newest first",
          params=(query("since", "turns at or after", TIME),
                  query("until", "turns before", TIME),
                  query("limit", "at most this many (1..1000, default 50)",
                        {"type": "integer", "minimum": 1, "maximum": 1000})),
          errors=(400, 503)),
    Route("GET", "/conversations/{id}", history.conversation, "read",
          "One conversation's turns, oldest first",
          params=(Param("id", "path", "conversation id", STRING, True),
                  query("limit", "at most this many (1..10000)",
                        {"type": "integer", "minimum": 1, "maximum": 10000})),
          errors=(400, 404, 503)),
    Route("GET", "/volume", volume.volume, "read",
          "How loud Solo speaks (1..10) on its speaker, or in a room",
          params=(query("room", "a [[satellites]] name; leave out for Solo's own speaker",
                        {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9_-]*$"}),),
          errors=(404, 503)),
    Route("POST", "/volume", volume.set_volume, "control",
          "Set how loud Solo speaks (1..10) on its speaker, or in a room",
          body=volume.VolumeBody, errors=(400, 404, 413, 503)),
    Route("GET", "/speaking-rate", speaking_rate.speaking_rate, "read",
          "How fast Solo speaks, in percent of its voice's normal speed", errors=(503,)),
    Route("POST", "/speaking-rate", speaking_rate.set_speaking_rate, "control",
          "Set how fast Solo speaks (60..140 percent of its voice's normal speed)",
          body=speaking_rate.SpeakingRateBody, errors=(400, 413, 503)),
    Route("GET", "/memories", history.memories, "read",
          "Memories recalled for a text (q), or without q all of them, newest first",
          params=(query("q", "text to recall memories for; leave out to list them all",
                        {"type": "string", "minLength": 1}),
                  query("k", "with q: at most this many (1..100)",
                        {"type": "integer", "minimum": 1, "maximum": 100}),
                  *MEMORY_FILTER,
                  query("limit", "without q: at most this many (1..1000, default 50)",
                        {"type": "integer", "minimum": 1, "maximum": 1000}),
                  query("offset", "without q: skip this many of the newest first",
                        {"type": "integer", "minimum": 0, "maximum": 10**9})),
          errors=(400, 503)),
    Route("DELETE", "/memories/{id}", history.forget_memory, "control",
          "Forget one memory (and drop its words from the llm's conversation histories)",
          params=(Param("id", "path", "memory id (from GET /memories)", STRING, True),),
          errors=(404, 503)),
    Route("DELETE", "/memories", history.forget_memories, "control",
          "Forget the memories matching a filter, or every memory with all=true",
          params=(*MEMORY_FILTER,
                  query("all", "true: every memory (and no filter)",
                        {"type": "string", "enum": ["true", "false"]})),
          errors=(400, 503)),
    Route("GET", "/metrics", status.metrics, "read", "Prometheus text exposition",
          content=("text/plain",)),
    Route("GET", "/events", streams.events, "read",
          "Server-sent events: turn, token, report and agents (run progress), live",
          params=(query("topics", f"comma-separated subset of {', '.join(TOPICS)}", STRING),),
          content=("text/event-stream",), errors=(400,)),
    Route("GET", "/ws", streams.websocket, "read",
          "WebSocket of the same events (a first frame {\"token\": ...} may authenticate)",
          params=(query("topics", f"comma-separated subset of {', '.join(TOPICS)}", STRING),),
          ok=101, errors=(400,)),
    *(actor_route(action) for action in ACTION_SCOPES),
    Route("POST", "/ask", turns.ask, "control",
          "Ask a question; ?stream=1 answers with server-sent events of tokens",
          params=(query("stream", "1 for server-sent events, 0 (the default) for one "
                        "JSON answer", {"type": "string", "enum": ["0", "1"]}),),
          body=AskBody, content=("application/json", "text/event-stream"),
          errors=(400, 413, 503, 504)),
    Route("POST", "/mcp", mcp_route.handle, "control",
          "Solo's MCP server over streamable HTTP (stateless JSON-RPC; docs/openai.md)",
          content=("application/json",), errors=(400, 404, 406),
          error_bodies=((400, JSONRPC_ERROR), (406, JSONRPC_ERROR))),
    Route("POST", "/say", turns.say, "control", "Speak a text aloud (needs the tts actor)",
          body=SayBody, ok=202, errors=(400, 413, 503)),
    Route("GET", "/agents/workflows", agent_runs.workflows, "read",
          "The workflows that can run (agents, tasks, triggers) and the files that did not load",
          errors=(503,)),
    Route("POST", "/agents/run", agent_runs.start_run, "control",
          "Start a workflow run; answers its id and Location at once (progress on /events)",
          body=agent_runs.RunBody, ok=202, errors=(400, 413, 503)),
    Route("GET", "/agents/runs", agent_runs.runs, "read", "Recent runs, newest first",
          params=(query("limit", "at most this many (1..1000, default 20)",
                        {"type": "integer", "minimum": 1, "maximum": 1000}),),
          errors=(400, 503)),
    Route("GET", "/agents/runs/{id}", agent_runs.run, "read",
          "One run: status, each step's output and timings, tool calls, result",
          params=(Param("id", "path", "run id (from POST /agents/run)", STRING, True),),
          errors=(404, 503)),
    Route("POST", "/agents/runs/{id}/cancel", agent_runs.cancel_run, "control",
          "Cancel a queued or running run (it ends within a token); 409 once it has ended",
          params=(Param("id", "path", "run id", STRING, True),), ok=202, errors=(404, 409, 503)),
    *skill_item_routes(),
    *v1_routes(),
    Route("POST", "/config/reload", config_reload.config_reload, "admin",
          "Re-read the profile; apply what can change live, list what needs a restart",
          errors=(400,)),
)  # fmt: skip


BINARY = {"type": "string", "format": "binary"}
CONTENT_SCHEMAS: dict[str, dict[str, Any]] = {
    "application/json": {"type": "object"},
    # Each event's data is a JSON object; docs/api.md describes them by event name.
    "text/event-stream": {"type": "object"},
    **{kind: BINARY for kind in audio.MEDIA_TYPES.values()},
}
ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["error"],
    "properties": {"error": {"type": "string"}, "status": {"type": "integer"}},
}
ERROR_MEANINGS = {
    400: "bad input: the message names the field or parameter and the fix (a control "
    "character in text, a body that is not UTF-8 JSON included)",
    401: "no token, or an unknown or revoked one",
    403: "the token's scope is too low, or the request came from another site's page "
    "(a foreign Origin)",
    404: "no such thing (an unknown actor path lists the known ones)",
    405: "method not allowed here; the Allow header lists the allowed ones",
    409: "refused as things stand: a supervisor's refusal (starting a running child), or a "
    "run that has already ended",
    406: "the Accept header allows neither application/json nor text/event-stream (an MCP "
    "client sends both)",
    413: "request body larger than api.max_body_bytes",
    415: "a request body that is not sent as Content-Type: application/json",
    421: "the Host header names neither this server's address, localhost, nor an "
    "api.allowed_hosts entry (DNS rebinding is refused this way)",
    429: "rate limit reached; retry after Retry-After seconds",
    500: "an unexpected error; the assistant's log says why",
    503: "the actor needed is not running or did not answer in time",
    504: "no reply within api.ask_timeout",
}
EVERY_ROUTE = frozenset({405, 413, 415, 421, 429, 500})
"""What any request may be answered, whatever its route (the middleware's checks)."""


def operation(route: Route) -> dict[str, Any]:
    errors = {*route.errors, *EVERY_ROUTE}
    if route.scope is not None:
        errors |= {401, 403}
    if route.method == "POST" or route.ok == 101:
        errors.add(403)  # a foreign Origin
    if any(param.where == "query" for param in route.params):
        errors.add(400)
    ok_content: dict[str, Any] = {kind: {"schema": CONTENT_SCHEMAS.get(kind, STRING)}
                                  for kind in route.content}  # fmt: skip
    responses: dict[str, Any] = {str(route.ok): {"description": "success", "content": ok_content}}
    if route.ok == 101:
        responses[str(route.ok)] = {"description": "switching to the WebSocket protocol"}
    bodies = dict(route.error_bodies)
    error_schema = v1_errors.SCHEMA if v1_errors.is_v1(route.path) else ERROR_SCHEMA
    for code in sorted(errors):
        responses[str(code)] = {
            "description": ERROR_MEANINGS[code],
            "content": {"application/json": {"schema": bodies.get(code, error_schema)}},
        }
    document: dict[str, Any] = {
        "summary": route.summary,
        "operationId": route.operation_id or f"{route.method.lower()}_{route.handler.__name__}",
        "responses": responses,
        "parameters": [
            {"name": p.name, "in": p.where, "required": p.required or p.where == "path",
             "description": p.description, "schema": p.schema}
            for p in route.params
        ],
    }  # fmt: skip
    if route.scope is not None:
        document["security"] = [{"bearer": [route.scope]}]
        document["description"] = f"Needs a token with scope `{route.scope}` or higher."
    else:
        document["security"] = []
    if route.body is not None:
        _, components = msgspec.json.schema_components([route.body])
        document["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": components[route.body.__name__]}},
        }
    if route.form is not None:
        document["requestBody"] = {
            "required": True, "content": {"multipart/form-data": {"schema": route.form}},
        }  # fmt: skip
    return document


def openapi_document() -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for route in ROUTES:
        paths.setdefault(route.path, {})[route.method.lower()] = operation(route)
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Solo operator API",
            "version": API_VERSION,
            "description": "Status and control of the Solo assistant; see docs/api.md. "
            f"Token scopes, lowest first: {', '.join(SCOPES)}.",
        },
        "servers": [{"url": "/"}],
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
        "security": [{"bearer": []}],
        "paths": paths,
    }
