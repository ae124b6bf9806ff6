"""Skills through the running assistant's API: a timer set by /ask fires on time (on
/events), and /timers, /alarms, /reminders list, create and cancel, with the right scopes
and clear refusals, all in the OpenAPI document; /lists holds what /ask puts on a list."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from solo_actors.cli import main
from solo_actors.skills.builtin import SkillBook
from tests.api.apikit import EventWatcher, RunningApi, running_assistant


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApi]:
    yield from running_assistant(tmp_path_factory.mktemp("skills-api") / "var")


def fired(name: str, data: Any) -> bool:
    return name == "skills"


def test_a_timer_set_through_ask_fires_on_time(api: RunningApi) -> None:
    watcher = EventWatcher(api, "skills", fired)
    asked_at = time.time()
    asked = api.post("/ask", scope="control", json={"text": "Set a timer for 2 seconds."})
    answered_at = time.time()
    assert asked.status_code == 200, asked.text
    answer = asked.json()
    assert answer["reply"] == "Timer set for 2 seconds." and answer["model"] == "skills:timer.set"
    ((_name, event),) = watcher.wait(timeout=10)
    assert event["data"]["text"] == "Your 2 second timer is done."
    # Due 2 s after the turn, which came between the request and its answer (the answer
    # waits for the store to flush the timer): announced then, within half a second.
    assert asked_at + 2 <= event["at"] <= answered_at + 2.5, (asked_at, event["at"], answered_at)


def test_timers_are_created_listed_and_cancelled(api: RunningApi) -> None:
    before = time.time()
    created = api.post("/timers", scope="control", json={"seconds": 600, "label": "pasta"})
    took = time.time() - before  # the flush of the timer included, before the answer
    assert created.status_code == 201, created.text
    timer = created.json()
    assert timer["label"] == "pasta" and 600 - took - 0.001 <= timer["remaining_s"] <= 600, took
    assert created.headers["Location"] == f"/timers/{timer['id']}"
    listed = api.get("/timers", scope="read").json()["timers"]
    assert [t["id"] for t in listed] == [timer["id"]]
    assert set(listed[0]) >= {"id", "label", "due_at", "remaining_s"}
    assert api.post("/timers", scope="read", json={"seconds": 5}).status_code == 403
    gone = api.request("DELETE", f"/timers/{timer['id']}", scope="control")
    assert gone.status_code == 200 and gone.json()["state"] == "cancelled"
    assert api.get("/timers", scope="read").json() == {"timers": []}
    again = api.request("DELETE", f"/timers/{timer['id']}", scope="control")
    assert again.status_code == 404, again.text


@pytest.mark.parametrize(
    ("path", "body", "says"),
    [("/timers", {"seconds": -300}, "seconds"),
     ("/timers", {"seconds": 10 * 365 * 86400}, "that long"),
     ("/alarms", {"due_at": 1.0}, "already passed"),
     ("/reminders", {"due_at": 4e9, "label": "call my sister"}, "days ahead"),
     ("/alarms", {"due_at": time.time() + 3600, "repeats": "fortnightly"}, "repeats"),
     ("/timers", {"seconds": 60, "repeats": "daily"}, "repeats")],
)  # fmt: skip
def test_bad_items_are_refused_with_the_reason(
    api: RunningApi, path: str, body: dict[str, Any], says: str
) -> None:
    refused = api.post(path, scope="control", json=body)
    assert refused.status_code == 400 and says in refused.json()["error"], refused.text
    assert api.get(path, scope="read").json()[path[1:]] == []


def test_a_request_the_skills_actor_fails_on_fails_alone(
    api: RunningApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bug a client can reach (the fuzzer once found one) costs that request a 500, not a
    restart: sent again and again, it no longer uses up the tree's restart intensity."""

    def broken(*_args: object, **_kwargs: object) -> None:
        raise OverflowError("date value out of range")

    node = api.node("solo/skills")
    assert node is not None
    restarts = node.restarts
    monkeypatch.setattr(SkillBook, "create", broken)
    for _ in range(6):  # more than the tree's restart intensity allows in its period
        failed = api.post("/alarms", scope="control", json={"due_at": time.time() + 3600})
        assert failed.status_code == 500, failed.text
        assert failed.json()["error"].startswith(
            "the skills actor failed on this request (OverflowError: date value out of range) "
            "and keeps running"
        ), failed.text
    monkeypatch.undo()
    created = api.post("/alarms", scope="control", json={"due_at": time.time() + 3600})
    assert created.status_code == 201, created.text
    node = api.node("solo/skills")
    assert node is not None and node.restarts == restarts and node.figures["requests_failed"] == 6
    assert "failed on a CreateSkillItem and goes on" in api.log.getvalue()  # with its traceback
    api.request("DELETE", f"/alarms/{created.json()['id']}", scope="control")


def test_alarms_and_reminders(api: RunningApi) -> None:
    due = time.time() + 3600
    alarm = api.post("/alarms", scope="control", json={"due_at": due}).json()
    reminder = api.post("/reminders", scope="control",
                        json={"due_at": due, "label": "call my sister"}).json()  # fmt: skip
    assert abs(alarm["due_at"] - due) < 1e-3 and alarm["label"]
    assert [r["label"] for r in api.get("/reminders", scope="read").json()["reminders"]] == [
        "call my sister"
    ]
    assert (alarm["repeats"], reminder["repeats"]) == (None, None)
    for path, item in (("/alarms", alarm), ("/reminders", reminder)):
        assert api.request("DELETE", f"{path}/{item['id']}", scope="control").status_code == 200


def test_a_repeating_alarm_is_created_listed_and_cancelled(api: RunningApi) -> None:
    due = time.time() + 3600
    made = api.post("/alarms", scope="control", json={"due_at": due, "repeats": "daily"})
    assert made.status_code == 201, made.text
    assert made.json()["repeats"] == "daily"
    (listed,) = api.get("/alarms", scope="read").json()["alarms"]
    assert (listed["id"], listed["repeats"]) == (made.json()["id"], "daily")
    # On a day it does not repeat on: refused, with the day.
    weekday = time.strftime("%A", time.localtime(due)).lower()
    other = next(day for day in ("monday", "tuesday") if day != weekday)
    refused = api.post("/reminders", scope="control",
                       json={"due_at": due, "label": "stretch", "repeats": other})  # fmt: skip
    assert refused.status_code == 400 and "not every" in refused.json()["error"], refused.text
    gone = api.request("DELETE", f"/alarms/{listed['id']}", scope="control")
    assert gone.status_code == 200 and api.get("/alarms", scope="read").json()["alarms"] == []


def test_the_routes_are_in_the_openapi_document(api: RunningApi) -> None:
    paths = api.get("/openapi.json", scope=None).json()["paths"]
    for kind in ("timers", "alarms", "reminders"):
        assert set(paths[f"/{kind}"]) == {"get", "post"}
        assert set(paths[f"/{kind}/{{id}}"]) == {"delete"}
    assert set(paths["/lists"]) == {"get"} and set(paths["/lists/{list}"]) == {"post", "delete"}
    assert set(paths["/lists/{list}/items/{id}"]) == {"delete"}


def test_lists_said_and_changed_through_the_api_are_the_same_lists(api: RunningApi) -> None:
    said = api.post("/ask", scope="control",
                    json={"text": "Add milk, eggs and bread to my shopping list."})  # fmt: skip
    assert said.json()["reply"] == "Added milk, eggs and bread to your shopping list.", said.text
    added = api.post("/lists/Shopping", scope="control",
                     json={"items": ["butter", "egg", "Butter"]})  # fmt: skip
    assert added.status_code == 201, added.text
    assert [i["text"] for i in added.json()["added"]] == ["butter"]
    assert added.json()["already"] == ["egg"]
    shopping = api.get("/lists", scope="read").json()["lists"]["shopping"]
    assert [i["text"] for i in shopping] == ["milk", "eggs", "bread", "butter"]
    eggs = shopping[1]["id"]
    gone = api.request("DELETE", f"/lists/shopping/items/{eggs}", scope="control")
    assert gone.status_code == 200 and gone.json()["state"] == "removed", gone.text
    again = api.request("DELETE", f"/lists/shopping/items/{eggs}", scope="control")
    assert again.status_code == 404 and "no open item" in again.json()["error"], again.text
    read = api.post("/ask", scope="control", json={"text": "What's on my shopping list?"})
    assert read.json()["reply"] == "Your shopping list has 3 items: milk, bread and butter."
    assert api.post("/lists/shopping", scope="read", json={"items": ["tea"]}).status_code == 403
    empty = api.post("/lists/shopping", scope="control", json={"items": ["  "]})
    assert empty.status_code == 400, empty.text
    only = api.get("/lists", scope="read", params={"list": "to-do"}).json()
    assert only == {"lists": {}}
    # A list named as speech names it: "todo" is the to-do list ("add ... to my todo list").
    todo = api.post("/lists/todo", scope="control", json={"items": ["call the plumber"]})
    assert [i["list"] for i in todo.json()["added"]] == ["to-do"], todo.text
    only = api.get("/lists", scope="read", params={"list": "To-Do"}).json()
    assert [i["text"] for i in only["lists"]["to-do"]] == ["call the plumber"]
    nameless = api.post("/lists/the", scope="control", json={"items": ["tea"]})
    assert nameless.status_code == 400 and "names no list" in nameless.text, nameless.text
    # Crossing off on a list that cannot exist: not found, as an item that is not there.
    for path in ("/lists/$", "/lists/$/items/x", "/lists/the/items/x"):
        gone = api.request("DELETE", path, scope="control")
        assert gone.status_code == 404 and "names no list" in gone.text, (path, gone.text)
    cleared = api.request("DELETE", "/lists/shopping", scope="control")
    assert cleared.status_code == 200, cleared.text
    assert [i["text"] for i in cleared.json()["crossed_off"]] == ["milk", "bread", "butter"]
    assert list(api.get("/lists", scope="read").json()["lists"]) == ["to-do"]


def test_the_cli_lists_and_cancels(
    api: RunningApi, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SOLO__SOLO__VAR_DIR", str(api.config.solo.var_path()))
    timer = api.post("/timers", scope="control", json={"seconds": 300, "label": "tea"}).json()
    assert main(["timers", "--profile", "test"]) == 0
    listed = capsys.readouterr().out
    assert timer["id"] in listed and "tea" in listed and "s left" in listed
    assert main(["timers", "cancel", timer["id"], "--profile", "test"]) == 0
    assert "cancelled" in capsys.readouterr().out
    assert main(["timers", "cancel", timer["id"], "--profile", "test"]) == 1
    assert "404" in capsys.readouterr().err
    assert main(["reminders", "--json", "--profile", "test"]) == 0
    assert json.loads(capsys.readouterr().out) == {"reminders": []}
    daily = api.post("/alarms", scope="control",
                     json={"due_at": time.time() + 600, "repeats": "daily"}).json()  # fmt: skip
    assert main(["alarms", "--profile", "test"]) == 0
    assert f"{daily['id']}" in (listed := capsys.readouterr().out) and "(repeats daily)" in listed
    assert main(["alarms", "cancel", daily["id"], "--profile", "test"]) == 0
