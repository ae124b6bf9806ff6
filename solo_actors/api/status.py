"""The tree and the process: ``/health``, ``/ready``, ``/status``, ``/supervisors`` and
``/metrics``.

Each answers from snapshots (``status()``, the declared specs the api was handed at start,
the events hub's counters), never by asking an actor, so they answer while actors are busy.
"""

from __future__ import annotations

import os
import time

from aiohttp import web

from solo_actors.api.common import (
    ENCODER,
    json_response,
    state_of,
)
from solo_actors.api.metrics import render_metrics
from solo_actors.api.specs import declared_specs, declared_supervisors
from solo_actors.api.state import ApiError, walk
from solo_actors.runtime.events import HUB


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
        body = ENCODER.encode({
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


async def metrics(request: web.Request) -> web.Response:
    body, content_type = render_metrics(state_of(request))
    return web.Response(body=body, headers={"Content-Type": content_type})
