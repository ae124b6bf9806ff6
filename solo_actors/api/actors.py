"""Control of the tree: ``POST /actors/{path}/restart|start|stop``.

Restart and start take a control token, stop takes admin (a stopped actor stays down until
someone starts it); the api may restart itself but neither stop nor start itself.
"""

from __future__ import annotations

import asyncio
import functools

from aiohttp import web

import supervisors
from solo_actors.api.auth import Scope, scope_allows
from solo_actors.api.common import (
    in_thread,
    json_response,
    state_of,
)
from solo_actors.api.state import SCOPE, ApiError, ApiState, walk

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
