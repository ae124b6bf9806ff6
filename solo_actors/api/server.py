"""The aiohttp application: routes from the table, auth, limits, errors, the access log.

Order of checks for every request: per-address rate limit, body size, route lookup, then
(per route) the bearer token, its scope and its own rate limit. Every refusal is a JSON
``{"error": ..., "status": ...}`` naming what was wrong and how to fix it. The access log
records method, path (never the query string), status, duration and the token's *id*;
headers and bodies are never logged, so no token or secret reaches a log.
"""

from __future__ import annotations

import ipaddress
import logging
import time
from typing import Any

from aiohttp import web

from solo_actors.api.auth import retry_after, scope_allows
from solo_actors.api.handlers import json_response
from solo_actors.api.routes import ROUTES, Handler, Route
from solo_actors.api.state import SCOPE, STATE, TOKEN_ID, ApiError, ApiState
from solo_actors.logs import get_logger

SOCKET_PATH = "/ws"


def error_response(error: ApiError) -> web.Response:
    response = json_response({"error": error.message, "status": error.status, **error.extra},
                             error.status)  # fmt: skip
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
        if route.scope is None:
            return await route.handler(request)
        if not state.config.api.auth:
            request[SCOPE] = "admin"  # loopback only: the bind check guarantees it
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


def http_error(error: web.HTTPException, request: web.Request) -> ApiError:
    """aiohttp's own refusals (unknown route, wrong method, body too big) as JSON errors."""
    if isinstance(error, web.HTTPRequestEntityTooLarge):
        limit = request.app[STATE].config.api.max_body_bytes
        return ApiError(413, f"request body too large: the limit is {limit} bytes "
                        "(api.max_body_bytes)")  # fmt: skip
    if isinstance(error, web.HTTPMethodNotAllowed):
        return ApiError(405, f"{request.method} is not allowed on {request.path}; allowed: "
                        f"{', '.join(sorted(error.allowed_methods))}")  # fmt: skip
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
        limit = state.config.api.max_body_bytes
        if request.content_length is not None and request.content_length > limit:
            raise ApiError(413, f"request body of {request.content_length} bytes is too large: "
                           f"the limit is {limit} bytes (api.max_body_bytes)")  # fmt: skip
        response = await handler(request)
    except ApiError as error:
        response = error_response(error)
    except web.HTTPException as error:
        response = error_response(http_error(error, request))
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


ACCESS_LOG = web.AppKey("access_log", Any)


def build_app(state: ApiState, actor_path: str) -> web.Application:
    # client_max_size also bounds chunked bodies, which carry no Content-Length to check.
    app = web.Application(middlewares=[guard], client_max_size=state.config.api.max_body_bytes)
    app[STATE] = state
    app[ACCESS_LOG] = get_logger(actor_path)
    for route in ROUTES:
        app.router.add_route(route.method, route.router_path or route.path, guarded(route))
    return app
