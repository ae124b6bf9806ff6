"""The API against a running assistant: every route with and without the right scope, bad
input of every kind, control of actors, asking, the live streams, and no secret in any log."""

from __future__ import annotations

import json
import os
import stat
import time
from pathlib import Path
from typing import Any

import pytest
import requests

import supervisors
from solo_actors.api.auth import SCOPES, Scope
from solo_actors.api.routes import ROUTES, Route, openapi_document
from solo_actors.cli import main
from solo_actors.config import ConfigError, load_config
from solo_actors.messages import Remember
from solo_actors.names import MEMORY_NAME
from tests.api.apikit import RunningApi, sse_events_iter
from tests.conftest import ConfigFactory, config_environment, wait_for

# A harmless request per route that passes auth: the scope matrix only asks "was I let in?".
EXAMPLE_PATHS = {
    "/static/{name}": "/static/app.js",
    "/conversations/{id}": "/conversations/none",
    "/actors/{path}/restart": "/actors/no-such-actor/restart",
    "/actors/{path}/start": "/actors/no-such-actor/start",
    "/actors/{path}/stop": "/actors/no-such-actor/stop",
    "/agents/runs/{id}": "/agents/runs/none",
    "/v1/models/{id}": "/v1/models/none",
    "/agents/runs/{id}/cancel": "/agents/runs/none/cancel",
    **{f"/{kind}s/{{id}}": f"/{kind}s/none" for kind in ("timer", "alarm", "reminder")},
    "/memories/{id}": "/memories/none",
    "/lists/{list}": "/lists/shopping",
    "/lists/{list}/items/{id}": "/lists/shopping/items/none",
}
EXAMPLE_QUERIES = {"/memories": "?q=hello", "/ask": "", "/ws": ""}
EXAMPLE_BODIES: dict[str, Any] = {
    "/ask": {"txt": "unknown field"},
    "/say": {"text": ""},
    "/agents/run": {"workflow": "no-such-workflow", "input": "x"},
    # Refused bodies (400): the scopes are checked before them, and nothing is stored.
    "/timers": {"seconds": -1},
    "/alarms": {"due_at": "never"},
    "/reminders": {"due_at": 0, "label": ""},
    "/lists/{list}": {"items": []},
    "/announce": {"text": ""},
    "/volume": {"level": 0},
    "/speaking-rate": {"percent": 0},
    "/v1/chat/completions": {"model": "no-such-model", "messages": []},
    "/v1/audio/speech": {"model": "no-such-model"},
    "/v1/embeddings": {"model": "no-such-model"},
}
EXAMPLE_FORMS = {"/v1/audio/transcriptions": {"model": (None, "no-such-model")}}
"""Multipart bodies (an upload route's), refused after the scope check too."""


def example(route: Route) -> tuple[str, dict[str, Any]]:
    path = EXAMPLE_PATHS.get(route.path, route.path) + EXAMPLE_QUERIES.get(route.path, "")
    kwargs: dict[str, Any] = {}
    if route.path in EXAMPLE_BODIES:
        kwargs["json"] = EXAMPLE_BODIES[route.path]
    if route.path in EXAMPLE_FORMS:
        kwargs["files"] = EXAMPLE_FORMS[route.path]
    if route.path == "/events":
        kwargs["stream"] = True
    return path, kwargs


def lower_scope(scope: Scope) -> Scope | None:
    index = SCOPES.index(scope)
    return SCOPES[index - 1] if index else None


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: f"{r.method} {r.path}")
def test_every_route_checks_its_scope(api: RunningApi, route: Route) -> None:
    path, kwargs = example(route)
    allowed = api.request(route.method, path, scope=route.scope or "read", **kwargs)
    allowed.close()
    assert allowed.status_code not in (401, 403), allowed.text
    if route.scope is None:
        assert api.request(route.method, path, scope=None, **kwargs).status_code not in (401, 403)
        return
    missing = api.request(route.method, path, scope=None, **kwargs)
    if route.path == "/ws":  # a plain GET is no WebSocket: refused before any frame
        assert missing.status_code == 400
        return
    assert missing.status_code == 401 and missing.headers["WWW-Authenticate"] == "Bearer"
    assert "solo token create" in error_message(missing)
    weaker = lower_scope(route.scope)
    if weaker is not None:
        refused = api.request(route.method, path, scope=weaker, **kwargs)
        assert refused.status_code == 403
        assert repr(route.scope) in error_message(refused)


def error_message(response: Any) -> str:
    """An error's message: ``{"error": "..."}``, or OpenAI's shape under /v1."""
    error = response.json()["error"]
    return error["message"] if isinstance(error, dict) else error


def test_unknown_and_revoked_tokens_are_refused(api: RunningApi) -> None:
    response = api.get("/status", scope=None, headers={"Authorization": "Bearer solo_nonsense"})
    assert response.status_code == 401 and "unknown or revoked" in response.json()["error"]


def test_health_ready_status_supervisors(api: RunningApi) -> None:
    assert api.get("/health", scope=None).json()["status"] == "ok"
    ready = api.get("/ready", scope=None)
    assert ready.status_code == 200 and ready.json() == {"ready": True, "not_running": []}
    status = api.get("/status", scope="read").json()
    tree = status["tree"]
    assert tree["path"] == "solo" and tree["state"] == "running"
    children = {child["id"]: child for child in tree["children"]}
    assert {"reports", "llm", "dialogue", "api"} <= set(children)
    llm = children["llm"]
    assert llm["uptime"] > 0 and "restarts" in llm and "mailbox" in llm and llm["figures"]
    assert status["process"]["rss_bytes"] > 10_000_000
    supervisors_ = api.get("/supervisors", scope="read").json()["supervisors"]
    root = supervisors_[0]
    assert root["path"] == "solo" and root["strategy"] == "one_for_one"
    assert [c["id"] for c in root["children"]][-1] == "api"
    assert all(c["restart"] == "permanent" for c in root["children"])


def test_metrics_are_prometheus_text(api: RunningApi) -> None:
    response = api.get("/metrics", scope="read")
    assert response.headers["Content-Type"].startswith("text/plain")
    assert 'solo_actor_up{path="solo/llm"} 1.0' in response.text
    assert "solo_process_rss_bytes" in response.text


def test_bad_json_unknown_fields_and_missing_fields_name_the_problem(api: RunningApi) -> None:
    broken = api.post("/ask", scope="control", data=b'{"text": ', headers={
        "Content-Type": "application/json"})  # fmt: skip
    assert broken.status_code == 400 and "not valid JSON" in broken.json()["error"]
    unknown = api.post("/ask", scope="control", json={"text": "hi", "colour": "red"})
    assert unknown.status_code == 400 and "`colour`" in unknown.json()["error"]
    missing = api.post("/ask", scope="control", json={})
    assert missing.status_code == 400 and "`text`" in missing.json()["error"]
    wrong = api.post("/say", scope="control", json={"text": 42})
    assert wrong.status_code == 400 and "$.text" in wrong.json()["error"]
    assert '"text": str' in wrong.json()["hint"]


def test_huge_bodies_are_refused_with_413(api: RunningApi) -> None:
    limit = api.config.api.max_body_bytes
    huge = api.post("/ask", scope="control", json={"text": "x" * (limit + 1)})
    assert huge.status_code == 413 and str(limit) in huge.json()["error"]

    def chunks() -> Any:  # no Content-Length: aiohttp's own limit must catch it
        yield b'{"text": "'
        for _ in range(limit // 1000 + 2):
            yield b"y" * 1000
        yield b'"}'

    chunked = api.post("/ask", scope="control", data=chunks(),
                       headers={"Content-Type": "application/json"})  # fmt: skip
    assert chunked.status_code == 413 and "api.max_body_bytes" in chunked.json()["error"]


def test_unknown_routes_and_actor_paths_say_what_exists(api: RunningApi) -> None:
    route = api.get("/nothing-here", scope="read")
    assert route.status_code == 404 and "/openapi.json" in route.json()["error"]
    actor = api.post("/actors/solo/nobody/restart", scope="control")
    assert actor.status_code == 404
    assert "solo/llm" in actor.json()["known_paths"]
    method = api.request("DELETE", "/status", scope="read")
    assert method.status_code == 405 and "GET" in method.json()["error"]
    assert set(method.headers["Allow"].split(", ")) == {"GET", "HEAD"}
    head = api.request("HEAD", "/status", scope="read")
    assert head.status_code == 200 and head.headers["Content-Type"] == "application/json"


def test_restart_counts_and_stop_start(api: RunningApi) -> None:
    before = api.node("solo/dialogue")
    assert before is not None
    response = api.post("/actors/dialogue/restart", scope="control")
    assert response.status_code == 202 and response.json()["path"] == "solo/dialogue"
    api.wait_running("solo/dialogue", before.restarts + 1)
    stopped = api.post("/actors/solo/voice/tts/stop", scope="admin")
    assert stopped.status_code == 202
    node = api.node("solo/voice/tts")
    assert node is not None and node.state == "stopped"
    say = api.post("/say", scope="control", json={"text": "hello"})
    assert say.status_code == 503 and "tts" in say.json()["error"]
    assert api.post("/actors/voice/tts/start", scope="control").status_code == 202
    api.wait_running("solo/voice/tts", 0)
    again = api.post("/actors/voice/tts/start", scope="control")
    assert again.status_code == 409 and "running" in again.json()["error"]
    itself = api.post("/actors/api/stop", scope="admin")
    assert itself.status_code == 409 and "itself" in itself.json()["error"]
    assert api.post("/say", scope="control", json={"text": "Hello."}).status_code == 202


def test_ask_answers_and_streams_tokens(api: RunningApi) -> None:
    answer = api.post("/ask", scope="control", json={"text": "Say hello."})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["reply"].strip() and body["error"] is None
    with api.post("/ask?stream=1", scope="control", json={
            "text": "Say hi.", "conversation_id": body["conversation_id"]},
            stream=True) as streamed:  # fmt: skip
        assert streamed.headers["Content-Type"].startswith("text/event-stream")
        events = sse_events(streamed, until="done")
    tokens = [data["text"] for name, data in events if name == "token"]
    done = events[-1][1]
    assert tokens and "".join(tokens).strip() == done["reply"].strip()
    assert done["conversation_id"] == body["conversation_id"]


def sse_events(response: requests.Response, until: str) -> list[tuple[str, Any]]:
    """Parse server-sent events from a streamed response up to the first ``until`` event."""
    events: list[tuple[str, Any]] = []
    name = ""
    for line in response.iter_lines(decode_unicode=True):
        if line.startswith("event: "):
            name = line[len("event: ") :]
        elif line.startswith("data: "):
            events.append((name, json.loads(line[len("data: ") :])))
            if name == until:
                break
    return events


def test_events_stream_turns_tokens_and_reports(api: RunningApi) -> None:
    with api.get("/events?topics=turn,report", scope="read", stream=True) as stream:
        assert stream.status_code == 200
        assert api.post("/ask", scope="control", json={"text": "Hello?"}).status_code == 200
        assert api.post("/actors/dialogue/restart", scope="control").status_code == 202
        seen = {}
        for name, data in sse_events_iter(stream):
            seen.setdefault(name, data)
            if {"turn", "report"} <= seen.keys():
                break
    assert seen["turn"]["data"]["type"] == "TurnDone"
    assert seen["report"]["data"]["kind"] in ("shutdown", "restart", "start")
    bad = api.get("/events?topics=gossip", scope="read")
    assert bad.status_code == 400 and "turn, token, report" in bad.json()["error"]


def test_websocket_authenticates_by_first_frame_and_streams(api: RunningApi) -> None:
    from websockets.sync.client import connect

    ws_url = api.url.replace("http://", "ws://") + "/ws?topics=report"
    with connect(ws_url) as socket:
        socket.send(json.dumps({"token": api.tokens["read"]}))
        time.sleep(0.2)  # the subscription is made once the token is accepted
        assert api.post("/actors/dialogue/restart", scope="control").status_code == 202
        event = json.loads(socket.recv(timeout=20))
    assert event["topic"] == "report" and event["data"]["supervisor"] == "solo"
    with connect(ws_url) as socket:
        socket.send(json.dumps({"token": "solo_wrong"}))
        with pytest.raises(Exception, match="4401"):
            socket.recv(timeout=10)


def test_log_filters_newest_first(api: RunningApi) -> None:
    assert api.post("/actors/dialogue/restart", scope="control").status_code == 202
    api.wait_running("solo/dialogue", 1)
    reports = api.get("/log?actor=dialogue&kind=restart&limit=5", scope="read").json()["reports"]
    assert reports and all(r["kind"] == "restart" and r["child_id"] == "dialogue" for r in reports)
    stamps = [r["timestamp"] for r in reports]
    assert stamps == sorted(stamps, reverse=True)
    starts = api.get("/log?kind=start&since=1h&limit=1000", scope="read").json()["reports"]
    assert {"reports", "llm", "api"} <= {r["child_id"] for r in starts}
    future = api.get(f"/log?since={time.time() + 60}", scope="read").json()["reports"]
    assert future == []
    bad = api.get("/log?kind=explosion", scope="read")
    assert bad.status_code == 400 and "crash" in bad.json()["error"]
    assert api.get("/log?since=yesterday", scope="read").status_code == 400


def test_turns_conversations_and_memories_come_from_their_actors(api: RunningApi) -> None:
    asked = api.post(
        "/ask", scope="control", json={"text": "Hi there.", "conversation_id": "conv-store"}
    )
    assert asked.status_code == 200, asked.text
    deadline = time.monotonic() + 20  # the store flushes within store.flush_interval_ms
    conversation = api.get("/conversations/conv-store", scope="read")
    while conversation.status_code == 404 and time.monotonic() < deadline:
        time.sleep(0.2)
        conversation = api.get("/conversations/conv-store", scope="read")
    assert conversation.status_code == 200, conversation.text
    assert conversation.json()["turns"][-1]["user_text"] == "Hi there."
    recent = api.get("/turns?since=1h&limit=5", scope="read").json()["turns"]
    assert any(turn["conversation_id"] == "conv-store" for turn in recent)
    missing = api.get("/conversations/never-spoken", scope="read")
    assert missing.status_code == 404 and "/turns" in missing.json()["error"]
    recalled = api.get("/memories?q=greetings&k=3", scope="read")
    assert recalled.status_code == 200 and isinstance(recalled.json()["memories"], list)
    assert api.get("/memories?q=", scope="read").status_code == 400


def test_memories_are_listed_newest_first_and_forgotten_one_by_filter_or_all(
    api: RunningApi,
) -> None:
    facts = [("m-dog", "told", "My dog is Rex."), ("m-old", "exchange", "Hi"),
             ("m-key", "told", "The spare key is under the blue pot.")]  # fmt: skip
    for number, (memory_id, kind, said) in enumerate(facts):
        supervisors.tell(MEMORY_NAME, Remember(
            text=f"The user said: {said}", kind=kind, memory_id=memory_id, at=1000.0 + number,
            conversation_id="api-memories", meta={"said": said},
            user_id="ann" if memory_id == "m-dog" else None,
        ))  # fmt: skip

    def listed(query: str) -> dict[str, Any]:
        response = api.get(f"/memories?conversation_id=api-memories{query}", scope="read")
        assert response.status_code == 200, response.text
        return dict(response.json())

    wait_for(lambda: listed("")["total"] == 3, "the three memories to be listed")
    page = listed("&limit=2")
    assert [m["memory_id"] for m in page["memories"]] == ["m-key", "m-old"]
    assert (page["total"], page["limit"], page["offset"]) == (3, 2, 0)
    assert page["memories"][0]["similarity"] is None
    assert page["memories"][0]["meta"] == {"said": "The spare key is under the blue pot."}
    assert [m["memory_id"] for m in listed("&offset=2")["memories"]] == ["m-dog"]
    assert [m["memory_id"] for m in listed("&kind=told")["memories"]] == ["m-key", "m-dog"]
    assert [m["memory_id"] for m in listed("&user_id=ann")["memories"]] == ["m-dog"]
    assert api.get("/memories?limit=0", scope="read").status_code == 400
    assert api.get("/memories?offset=-1", scope="read").status_code == 400

    def recalled(kind: str) -> list[str]:
        response = api.get("/memories?q=My%20dog%20is%20Rex.&conversation_id=api-memories"
                           f"&kind={kind}", scope="read")  # fmt: skip
        assert response.status_code == 200, response.text
        return [memory["memory_id"] for memory in response.json()["memories"]]

    # A recall takes the same filter: the nearest memory is not one of another kind.
    assert recalled("told")[0] == "m-dog"
    assert "m-dog" not in recalled("exchange")

    assert api.request("DELETE", "/memories/m-key", scope="read").status_code == 403
    forgotten = api.request("DELETE", "/memories/m-key", scope="control")
    assert forgotten.status_code == 200 and forgotten.json() == {"forgotten": 1}
    again = api.request("DELETE", "/memories/m-key", scope="control")
    assert again.status_code == 404 and "GET /memories" in again.json()["error"]

    neither = api.request("DELETE", "/memories", scope="control")
    assert neither.status_code == 400 and "all=true" in neither.json()["error"]
    both = api.request("DELETE", "/memories?kind=told&all=true", scope="control")
    assert both.status_code == 400
    by_kind = api.request("DELETE", "/memories?kind=exchange&conversation_id=api-memories",
                          scope="control")  # fmt: skip
    assert by_kind.json() == {"forgotten": 1}
    assert [m["memory_id"] for m in listed("")["memories"]] == ["m-dog"]
    everything = api.request("DELETE", "/memories?all=true", scope="control")
    assert everything.status_code == 200 and everything.json()["forgotten"] >= 1
    assert api.get("/memories", scope="read").json()["total"] == 0


def test_config_reload_applies_live_settings_and_lists_the_rest(
    api: RunningApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    var_dir = api.config.solo.var_path()
    environment = config_environment(var_dir, {
        "api.port": 0, "dialogue.turn_timeout": 61, "api.rate_per_token": 1,
        "api.rate_burst": 3, "log.level": "error"})  # fmt: skip
    for key, value in environment.items():
        monkeypatch.setenv(key, value)
    result = api.post("/config/reload", scope="admin").json()
    assert {"api.rate_per_token", "api.rate_burst", "log.level"} <= set(result["applied"])
    assert "dialogue.turn_timeout" in result["needs_restart"]
    assert all(api.get("/health", scope=None).status_code == 200 for _ in range(2))
    # A burst of 3 at 1 per second: well within 20 quick requests one is refused (a fixed
    # count could earn a token back if one request happened to take a second).
    for _ in range(20):
        limited = api.get("/status", scope="read")
        if limited.status_code != 200:
            break
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1
    assert "rate limit" in limited.json()["error"]
    monkeypatch.setenv("SOLO__API__RATE_PER_TOKEN", "1000")
    monkeypatch.setenv("SOLO__API__RATE_PER_ADDRESS", "1000")  # the later tests not limited
    monkeypatch.setenv("SOLO__API__RATE_BURST", "1000")
    monkeypatch.setenv("SOLO__LOG__LEVEL", "debug")
    time.sleep(1.0)  # one token back in the admin bucket
    assert api.post("/config/reload", scope="admin").status_code == 200


def test_openapi_document_matches_the_running_router(api: RunningApi) -> None:
    document = api.get("/openapi.json", scope=None).json()
    assert document == json.loads(json.dumps(openapi_document()))
    documented = {(method.upper(), path) for path, ops in document["paths"].items()
                  for method in ops}  # fmt: skip
    assert documented == {(route.method, route.path) for route in ROUTES}
    for method, path in documented:
        concrete = EXAMPLE_PATHS.get(path, path)
        response = api.request(method, concrete, scope=None, stream=True)
        response.close()
        if response.status_code == 404:
            assert "no route" not in response.text, f"{method} {path} is documented, not routed"


def test_no_token_ever_reaches_the_log(api: RunningApi) -> None:
    api.get("/status", scope="read")
    api.get("/status?token=" + api.tokens["control"], scope="admin")
    api.get("/status", scope=None, headers={"Authorization": "Bearer solo_not_a_real_one"})
    text = api.log.getvalue()
    assert '"path": "/status"' in text or '"path":"/status"' in text
    for secret in (*api.tokens.values(), "solo_not_a_real_one"):
        assert secret not in text


def test_tokens_are_stored_hashed_and_private(api: RunningApi) -> None:
    tokens_file = api.config.solo.var_path(api.config.api.tokens_file)
    admin_file = api.config.solo.var_path(api.config.api.admin_token_file)
    for path in (tokens_file, admin_file):
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    stored = tokens_file.read_text()
    assert all(token not in stored for token in api.tokens.values())


def test_binding_beyond_loopback_needs_auth_is_a_config_error(
    make_config: ConfigFactory, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(ConfigError, match=r"api\.auth = true"):
        make_config(**{"api.host": "0.0.0.0", "api.auth": False, "api.port": 0})
    assert load_config("test", environ={}).api.host == "127.0.0.1"
    # The CLI says so with exit code 2 before anything starts: not even the var folder.
    var_dir = tmp_path / "never"
    environment = {"SOLO__API__HOST": "0.0.0.0", "SOLO__API__AUTH": "false",
                   "SOLO__SOLO__VAR_DIR": str(var_dir)}  # fmt: skip
    with pytest.MonkeyPatch.context() as patch:
        for key, value in environment.items():
            patch.setenv(key, value)
        assert main(["run", "--profile", "test"]) == 2
    assert "api.auth = true" in capsys.readouterr().err
    assert not var_dir.exists()


def test_solo_status_prints_the_live_tree(
    api: RunningApi, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SOLO__SOLO__VAR_DIR", str(api.config.solo.var_path()))
    assert main(["status", "--profile", "test"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].startswith("solo ") and "running" in out
    assert "├── llm" in out and "└── api" in out and "rss" in out
    monkeypatch.setenv("SOLO_TOKEN", api.tokens["read"])
    assert main(["status", "--profile", "test", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["tree"]["path"] == "solo"
