"""The agents routes against a running assistant on the tiny model: a run started over HTTP,
its progress on /events and /ws, reading, listing and cancelling runs, bad requests, and the
agents actor being down.

The tiny model words things differently on every machine: these tests assert structure
(statuses, steps, outputs present, event order), never wording (see
tests/agents/test_real_crews.py).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.api.apikit import EventWatcher, RunningApi, running_assistant

pytestmark = pytest.mark.filterwarnings("ignore:function callbacks cannot be serialized")

RUN_TIMEOUT = 400.0
"""Seconds a 3-step plan on the tiny model may take on a loaded 2-core machine (crewai's
first import included)."""
UNFINISHED = ("queued", "running")


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApi]:
    # Short crew steps: the tests are about the API, not the plans.
    overrides = {"agents.step_max_tokens": 48, "llm.n_threads": 1}
    yield from running_assistant(tmp_path_factory.mktemp("agents-api") / "var", overrides)


def start(api: RunningApi, workflow: str, text: str) -> str:
    response = api.post("/agents/run", scope="control", json={"workflow": workflow, "input": text})
    assert response.status_code == 202, response.text
    body = response.json()
    assert response.headers["Location"] == body["location"] == f"/agents/runs/{body['run_id']}"
    assert body["workflow"] == workflow and body["steps"] >= 1
    return str(body["run_id"])


def poll_until_finished(api: RunningApi, run_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + RUN_TIMEOUT
    while True:
        response = api.get(f"/agents/runs/{run_id}", scope="read")
        assert response.status_code == 200, response.text
        run = response.json()
        if run["status"] not in UNFINISHED:
            return dict(run)
        assert time.monotonic() < deadline, f"run {run_id} still {run['status']}: {run}"
        time.sleep(0.5)


def test_a_run_started_over_http_reports_each_step_on_the_event_stream(api: RunningApi) -> None:
    run_ids: list[str] = []

    def is_end(name: str, data: Any) -> bool:
        return data["data"]["type"] == "WorkflowRun" and data["data"]["run_id"] in run_ids

    watcher = EventWatcher(api, "agents", is_end)
    run_ids.append(start(api, "plan", "a picnic in the park on Saturday"))
    run = poll_until_finished(api, run_ids[0])

    assert run["status"] == "done", run["error"]
    assert [step["task"] for step in run["steps"]] == ["draft", "critique", "final"]
    for step in run["steps"]:
        assert step["status"] == "done" and step["output"].strip(), step
        assert step["seconds"] > 0 and step["llm_calls"] >= 1 and step["completion_tokens"] > 0
        assert 0 < step["llm_seconds"] <= step["seconds"]
    assert run["result"] == run["steps"][-1]["output"]
    assert run["finished"] >= run["started"] >= run["created"]
    # plan's draft fills {current_datetime} before the crew starts: a recorded tool call.
    assert [(c["tool"], c["placeholder"], c["step"]) for c in run["tool_calls"]] == [
        ("current_datetime", True, 1)
    ]

    events = [data for _, data in watcher.wait(60) if data["data"]["run_id"] == run_ids[0]]
    assert all(event["topic"] == "agents" for event in events)
    progress = [(e["data"]["step"], e["data"]["steps"], e["data"]["status"]) for e in events[:-1]]
    assert progress == [(step, 3, status) for step in (1, 2, 3) for status in ("running", "done")]
    ended = [e["data"] for e in events[:-1] if e["data"]["status"] == "done"]
    assert [e["output"] for e in ended] == [step["output"] for step in run["steps"]]
    assert all(e["seconds"] > 0 for e in ended)
    assert events[-1]["data"] == run  # the stream's end is the run as GET shows it

    too_late = api.post(f"/agents/runs/{run_ids[0]}/cancel", scope="control")
    assert too_late.status_code == 409 and "'done'" in too_late.json()["error"]


def test_workflows_lists_the_declared_workflows(api: RunningApi) -> None:
    response = api.get("/agents/workflows", scope="read")
    assert response.status_code == 200
    body = response.json()
    workflows = {item["name"]: item for item in body["workflows"]}
    assert {"plan", "research", "critique"} <= set(workflows)
    assert workflows["plan"]["tasks"] == ["draft", "critique", "final"]
    assert workflows["plan"]["agents"] and workflows["plan"]["process"] == "sequential"
    assert "plan" in workflows["plan"]["triggers"]
    assert body["problems"] == {}


def test_cancel_a_queued_and_a_running_run_seen_on_the_websocket(api: RunningApi) -> None:
    from websockets.sync.client import connect

    ws_url = api.url.replace("http://", "ws://") + "/ws?topics=agents"
    with connect(ws_url) as socket:
        socket.send(json.dumps({"token": api.tokens["read"]}))
        time.sleep(0.5)  # the subscription is made once the token is accepted
        running = start(api, "plan", "a day at the beach")
        queued = start(api, "critique", "The shop opens at nine.")  # one run at a time

        cancelled = api.post(f"/agents/runs/{queued}/cancel", scope="control")
        assert cancelled.status_code == 202, cancelled.text
        assert cancelled.json()["status"] == "cancelled"  # a queued run ends at once
        assert api.post(f"/agents/runs/{running}/cancel", scope="control").status_code == 202
        run = poll_until_finished(api, running)

        ends: dict[str, dict[str, Any]] = {}
        deadline = time.monotonic() + 60
        while len(ends) < 2 and time.monotonic() < deadline:
            event = json.loads(socket.recv(timeout=60))
            assert event["topic"] == "agents"
            if event["data"]["type"] == "WorkflowRun" and event["data"]["run_id"] in (
                running, queued):  # fmt: skip
                ends[event["data"]["run_id"]] = event["data"]
    assert run["status"] == "cancelled" and run["error"] == "cancelled on request"
    assert all(step["status"] in ("done", "stopped", "pending") for step in run["steps"])
    assert ends[running] == run and ends[queued]["status"] == "cancelled"
    # Cancelling a cancelled run changes nothing; both are listed, newest first.
    assert api.post(f"/agents/runs/{queued}/cancel", scope="control").status_code == 202
    listed = api.get("/agents/runs?limit=2", scope="read").json()["runs"]
    assert [item["run_id"] for item in listed] == [queued, running]


def test_bad_requests_name_the_field_or_the_known_workflows(api: RunningApi) -> None:
    def refused(body: object, **kwargs: Any) -> str:
        response = api.post("/agents/run", scope="control", json=body, **kwargs)
        assert response.status_code == 400, response.text
        return str(response.json()["error"])

    broken = api.post("/agents/run", scope="control", data=b'{"workflow": ',
                      headers={"Content-Type": "application/json"})  # fmt: skip
    assert broken.status_code == 400 and "not valid JSON" in broken.json()["error"]
    assert '"workflow": str' in broken.json()["hint"]
    assert "`workflow`" in refused({"input": "x"})
    assert "`input`" in refused({"workflow": "plan"})
    assert "`colour`" in refused({"workflow": "plan", "input": "x", "colour": "red"})
    assert "$.input" in refused({"workflow": "plan", "input": "   "})
    assert "$.input" in refused({"workflow": "plan", "input": "x" * 4_001})
    assert "$.workflow" in refused({"workflow": 7, "input": "x"})
    unknown = api.post("/agents/run", scope="control", json={"workflow": "nope", "input": "x"})
    assert unknown.status_code == 400 and "unknown workflow 'nope'" in unknown.json()["error"]
    assert {"plan", "research", "critique"} <= set(unknown.json()["workflows"])

    missing = api.get("/agents/runs/no-such-run", scope="read")
    assert missing.status_code == 404 and "no run 'no-such-run'" in missing.json()["error"]
    assert api.post("/agents/runs/no-such-run/cancel", scope="control").status_code == 404
    assert api.get("/agents/runs?limit=0", scope="read").status_code == 400

    assert api.post("/agents/run", scope=None, json={}).status_code == 401
    weak = api.post("/agents/run", scope="read", json={"workflow": "plan", "input": "x"})
    assert weak.status_code == 403 and "'control'" in weak.json()["error"]
    assert api.post("/agents/runs/x/cancel", scope="read").status_code == 403
    assert api.get("/agents/runs/x", scope=None).status_code == 401


def test_the_agents_actor_down_answers_503(api: RunningApi) -> None:
    assert api.post("/actors/agents/stop", scope="admin").status_code == 202
    try:
        for method, path, body in (
            ("GET", "/agents/workflows", None),
            ("GET", "/agents/runs", None),
            ("POST", "/agents/run", {"workflow": "plan", "input": "x"}),
        ):
            response = api.request(method, path, scope="control", json=body)
            assert response.status_code == 503, response.text
            assert "the agents actor is not running" in response.json()["error"]
    finally:
        assert api.post("/actors/agents/start", scope="control").status_code == 202
    api.wait_running("solo/agents", 0)
    assert api.get("/agents/workflows", scope="read").status_code == 200
