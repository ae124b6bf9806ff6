"""The API's agents routes: start a workflow run, read it, list runs and workflows, cancel.

Each handler asks the agents actor (registered as ``agents``) from a worker thread, waiting
at most ``api.actor_timeout``. The actor never runs a crew on its own thread, so it answers
at once even while a run is generating. Progress is not polled here: the agents actor
publishes each `RunProgress` and the final `WorkflowRun` on the events hub (topic
``agents``), which ``GET /events`` and ``GET /ws`` carry like turns and reports.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from aiohttp import web

from solo_actors.agents.actor import MAX_INPUT_CHARS
from solo_actors.api.common import (
    TEXT_PATTERN,
    ConversationId,
    ask_actor,
    decode_body,
    json_response,
    query_int,
    state_of,
)
from solo_actors.api.state import ApiError, ApiState
from solo_actors.messages import (
    AgentsError,
    CancelRun,
    GetRun,
    ListRuns,
    ListWorkflows,
    Message,
    RunAccepted,
    Runs,
    RunWorkflow,
    WorkflowRun,
    Workflows,
)
from solo_actors.names import AGENTS_NAME

WorkflowName = Annotated[
    str,
    msgspec.Meta(pattern=TEXT_PATTERN, max_length=64,
                 description="GET /agents/workflows lists them"),
]  # fmt: skip
RunInput = Annotated[
    str,
    msgspec.Meta(pattern=TEXT_PATTERN, max_length=MAX_INPUT_CHARS,
                 description="what to work on; no control characters but tab and newline"),
]  # fmt: skip
ENDED = ("done", "failed", "timeout", "max_steps", "max_tokens")
"""Statuses of a run that ended by itself; cancelling it is too late (409)."""


class RunBody(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """POST /agents/run: run ``workflow`` on ``input``; ``conversation_id`` is the
    conversation the history tool reads (any recent one when left out)."""

    workflow: WorkflowName
    input: RunInput
    conversation_id: ConversationId | None = None


def run_path(run_id: str) -> str:
    return f"/agents/runs/{run_id}"


async def ask_agents(state: ApiState, message: Message) -> Any:
    return await ask_actor(state, AGENTS_NAME, message, "the agents actor")


async def start_run(request: web.Request) -> web.Response:
    state = state_of(request)
    body = await decode_body(request, RunBody)
    answer = await ask_agents(state, RunWorkflow(workflow=body.workflow, input=body.input,
                                                 conversation_id=body.conversation_id))  # fmt: skip
    if isinstance(answer, AgentsError):
        known: Workflows = await ask_agents(state, ListWorkflows())
        raise ApiError(400, answer.message, workflows=[item.name for item in known.items])
    assert isinstance(answer, RunAccepted)
    location = run_path(answer.run_id)
    response = json_response({"run_id": answer.run_id, "workflow": answer.workflow,
                              "steps": answer.steps, "location": location}, 202)  # fmt: skip
    response.headers["Location"] = location
    return response


async def run(request: web.Request) -> web.Response:
    answer = await ask_agents(state_of(request), GetRun(run_id=request.match_info["id"]))
    if isinstance(answer, AgentsError):
        raise ApiError(404, answer.message)
    assert isinstance(answer, WorkflowRun)
    return json_response(answer)


async def runs(request: web.Request) -> web.Response:
    state = state_of(request)
    limit = query_int(request, "limit", 20, 1, 1000)
    answer: Runs = await ask_agents(state, ListRuns(limit=limit))
    return json_response({"runs": answer.items})


async def cancel_run(request: web.Request) -> web.Response:
    run_id = request.match_info["id"]
    answer = await ask_agents(state_of(request), CancelRun(run_id=run_id))
    if isinstance(answer, AgentsError):
        raise ApiError(404, answer.message)
    assert isinstance(answer, WorkflowRun)
    if answer.status in ENDED:
        raise ApiError(409, f"run {run_id} already ended with status {answer.status!r}; "
                       f"GET {run_path(run_id)} shows it")  # fmt: skip
    return json_response(answer, 202)


async def workflows(request: web.Request) -> web.Response:
    answer: Workflows = await ask_agents(state_of(request), ListWorkflows())
    return json_response({"workflows": answer.items, "problems": answer.problems})
