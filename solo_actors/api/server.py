"""The aiohttp application: routes from the table, auth, limits, errors, the access log.

Order of checks for every request: per-address rate limit, ``Host`` and ``Origin``
(`solo_actors.api.origin`), body size, route lookup, then (per route) the body's content
type, control characters in the query, the bearer token, its scope and its own rate limit.
Every refusal is a JSON ``{"error": ..., "status": ...}`` naming what was wrong and how to
fix it, and so is an unexpected error (500). The access log records method, path (never
the query string), status, duration and the token's *id*; headers and bodies are never
logged, and `solo_actors.runtime.logs` masks any token that might still reach a line.
"""

from __future__ import annotations

import ipaddress
import logging
import time

import structlog
from aiohttp import web

from solo_actors.api.auth import retry_after, scope_allows
from solo_actors.api.common import CONTROL_CHARACTERS, json_response
from solo_actors.api.mcp_route import mcp_lifespan
from solo_actors.api.origin import SAFE_METHODS
from solo_actors.api.routes import ROUTES, Handler, Route
from solo_actors.api.state import SCOPE, STATE, TOKEN_ID, ApiError, ApiState
from solo_actors.api.v1 import errors as v1_errors
from solo_actors.api.v1.audio import too_large, upload_limit
from solo_actors.runtime.logs import get_logger

SOCKET_PATH = "/ws"


def error_response(error: ApiError, path: str) -> web.Response:
    """The error as JSON: OpenAI's shape under /v1, ``{"error": ..., "status": ...}`` else."""
    if v1_errors.is_v1(path):
        response = json_response(v1_errors.error_body(error), error.status)
    else:
        response = json_response({"error": error.message, "status": error.status,
                                  **error.extra}, error.status)  # fmt: skip
    response.headers.update(error.headers)
    return response


def bearer_token(request: web.Request) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def guarded(route: Route) -> Handler:
    """``route``'s handler behind its token check: 401 without a valid token, 403 when its
    scope is too low, 429 past the token's rate limit."""

    async def handle(request: web.Request) -> web.StreamResponse:
        state: ApiState = request.app[STATE]
        check_content_type(request, route)
        check_query(request)
        if route.scope is None:
            return await route.handler(request)
        if not state.config.api.auth:
            request[SCOPE] = "admin"  # loopback only: the config refuses auth off elsewhere
            return await route.handler(request)
        token = bearer_token(request)
        if token is None:
            if route.path == SOCKET_PATH:
                return await route.handler(request)  # it authenticates by its first frame
            raise ApiError(401, "missing token: send `Authorization: Bearer <token>` (create "
                           "one with `solo token create --scope read`)",
                           headers={"WWW-Authenticate": "Bearer"})  # fmt: skip
        entry = state.tokens.authenticate(token)
        if entry is None:
            raise ApiError(401, "unknown or revoked token (list tokens with `solo token list`)",
                           headers={"WWW-Authenticate": "Bearer"})  # fmt: skip
        if not scope_allows(entry.scope, route.scope):
            raise ApiError(403, f"{route.method} {route.path} needs a token with scope "
                           f"{route.scope!r} or higher; this one has {entry.scope!r}")  # fmt: skip
        wait = state.per_token.take(entry.id)
        if wait:
            raise ApiError(429, f"rate limit of token {entry.id} reached "
                           f"({state.config.api.rate_per_token:g}/s)",
                           headers={"Retry-After": retry_after(wait)})  # fmt: skip
        request[SCOPE] = entry.scope
        request[TOKEN_ID] = entry.id
        return await route.handler(request)

    return handle


JSON = "application/json"


def check_content_type(request: web.Request, route: Route) -> None:
    """A route that reads a body, and any request that sends one, must say it is JSON:
    the types a page may send cross-site without asking (text/plain, forms) are refused,
    and asking first (a CORS preflight) gets no permission from this server. An upload
    route takes a multipart form instead; a foreign page's form is still refused, by its
    Origin (`check_host_and_origin`), and a form carries no bearer token."""
    expected = route.body_type
    reads_body = route.body is not None or route.form is not None
    if (reads_body or request.body_exists) and request.content_type != expected:
        sent = request.headers.get("Content-Type", "none")
        what = "JSON" if expected == JSON else "a multipart form"
        raise ApiError(415, f"the request body must be {what}, sent with `Content-Type: "
                       f"{expected}` (got {sent!r})")  # fmt: skip


def check_query(request: web.Request) -> None:
    for name, value in request.query.items():
        if CONTROL_CHARACTERS.search(value):
            raise ApiError(400, f"query parameter `{name}` contains a control character; only "
                           "tab and newline are allowed in text")  # fmt: skip


def local_address(request: web.Request) -> tuple[str, int]:
    """The address and port the request's connection came in on ("", 0 once it is gone)."""
    sockname = request.transport.get_extra_info("sockname") if request.transport else None
    return (str(sockname[0]), int(sockname[1])) if sockname else ("", 0)


def check_host_and_origin(request: web.Request, state: ApiState) -> None:
    """Refuse a rebinding page (a foreign ``Host``) and a foreign page's writes and
    WebSockets (a foreign ``Origin``); see `solo_actors.api.origin`."""
    local = local_address(request)
    host = request.headers.get("Host")
    if not state.hosts.host_allowed(host, local):
        raise ApiError(421, f"this server does not answer to Host {host!r}: use the address "
                       "it listens on or localhost, with its port, or add the name to "
                       "api.allowed_hosts")  # fmt: skip
    origin = request.headers.get("Origin")
    changes = request.method not in SAFE_METHODS or request.path == SOCKET_PATH
    if changes and origin is not None and not state.hosts.origin_allowed(origin, local):
        raise ApiError(403, f"cross-origin request from {origin!r} refused: only this "
                       "server's own pages (or api.allowed_hosts) may send it")  # fmt: skip


def http_error(error: web.HTTPException, request: web.Request) -> ApiError:
    """aiohttp's own refusals (unknown route, wrong method, body too big) as JSON errors."""
    if isinstance(error, web.HTTPRequestEntityTooLarge):
        limit = request.app[STATE].config.api.max_body_bytes
        return ApiError(413, f"request body too large: the limit is {limit} bytes "
                        "(api.max_body_bytes)")  # fmt: skip
    if isinstance(error, web.HTTPMethodNotAllowed):
        allowed = ", ".join(sorted(error.allowed_methods))
        return ApiError(405, f"{request.method} is not allowed on {request.path}; allowed: "
                        f"{allowed}", headers={"Allow": allowed})  # fmt: skip
    if error.status == 404 and request.match_info.route.resource is None:
        return ApiError(404, f"no route {request.method} {request.path}; "
                        "GET /openapi.json lists them")  # fmt: skip
    return ApiError(error.status, error.text or error.reason)


def is_loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False  # a Unix socket or an unknown peer: limited like any remote one


@web.middleware
async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
    state: ApiState = request.app[STATE]
    log = request.app[ACCESS_LOG]
    started = time.perf_counter()
    response: web.StreamResponse
    try:
        # Loopback is the operator's own machine (the CLI, the dashboard): its tools must
        # never be throttled into errors. Tokens keep their own limit there too.
        remote = request.remote or "unknown"
        wait = 0.0 if is_loopback(remote) else state.per_address.take(remote)
        if wait:
            raise ApiError(429, f"rate limit of your address reached "
                           f"({state.config.api.rate_per_address:g}/s)",
                           headers={"Retry-After": retry_after(wait)})  # fmt: skip
        check_host_and_origin(request, state)
        if request.path in UPLOAD_PATHS:
            # Read as a stream by its handler, which bounds the file it holds.
            if request.content_length is not None and request.content_length > upload_limit(state):
                raise too_large(state.config.api.openai.max_upload_bytes)
        else:
            limit = state.config.api.max_body_bytes
            if request.content_length is not None and request.content_length > limit:
                raise ApiError(413, f"request body of {request.content_length} bytes is too "
                               f"large: the limit is {limit} bytes "
                               "(api.max_body_bytes)")  # fmt: skip
        response = await handler(request)
    except ApiError as error:
        response = error_response(error, request.path)
    except web.HTTPException as error:
        response = error_response(http_error(error, request), request.path)
    except Exception:
        # A bug, not a refusal. Its traceback is logged (never with local variables: a
        # handler's locals hold its token); the client gets JSON like any other answer,
        # unless its answer was already under way, which only closing the connection ends.
        log.exception("request failed", method=request.method, path=request.path)
        if request.writer.output_size > 0:
            raise
        response = error_response(
            ApiError(
                500, "internal error: the request failed unexpectedly; the assistant's log says why"
            ),
            request.path,
        )
    # Reads that succeed are debug lines, and skipped before any formatting when debug is
    # off: a dashboard polling /status must not cost a log line each time.
    quiet = request.method == "GET" and response.status < 400
    if not quiet or debug_enabled():
        # Path only: a query string is the client's to choose and may carry anything.
        (log.debug if quiet else log.info)(
            "request", method=request.method, path=request.path, status=response.status,
            ms=round((time.perf_counter() - started) * 1000, 2), remote=request.remote,
            token_id=request.get(TOKEN_ID),
        )  # fmt: skip
    return response


def debug_enabled() -> bool:
    return logging.getLogger("solo").isEnabledFor(logging.DEBUG)


ACCESS_LOG = web.AppKey("access_log", structlog.stdlib.BoundLogger)
UPLOAD_PATHS = frozenset(route.path for route in ROUTES if route.form is not None)
"""Routes that stream and bound their own (multipart) bodies."""
SECURITY_HEADERS = {
    # The dashboard loads only its own files and talks only to this server; no other site
    # may frame it (clickjacking) or have a response read as another type than declared.
    "Content-Security-Policy": "default-src 'self'; connect-src 'self'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


async def add_security_headers(_request: web.Request, response: web.StreamResponse) -> None:
    response.headers.update(SECURITY_HEADERS)


def answers_head(route: Route) -> bool:
    """GET routes also answer HEAD (headers only), except the endless streams."""
    return route.method == "GET" and route.ok != 101 and "text/event-stream" not in route.content


def build_app(state: ApiState, actor_path: str) -> web.Application:
    # client_max_size also bounds chunked bodies, which carry no Content-Length to check.
    app = web.Application(middlewares=[guard], client_max_size=state.config.api.max_body_bytes)
    app[STATE] = state
    app[ACCESS_LOG] = get_logger(actor_path)
    app.on_response_prepare.append(add_security_headers)
    app.cleanup_ctx.append(mcp_lifespan)
    for route in ROUTES:
        path = route.router_path or route.path
        app.router.add_route(route.method, path, guarded(route))
        if answers_head(route):
            app.router.add_route("HEAD", path, guarded(route))
    return app
