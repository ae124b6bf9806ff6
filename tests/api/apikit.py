"""A running assistant with its API for tests: the tree in-process, the api on a free port.

`start_assistant` starts the test profile's tree with ``api.port = 0`` and returns the base
URL, the first-run admin token and one token per lower scope; `RunningApi.stop` stops the
tree (every actor and the server thread), so no thread outlives the test module; a fixture
``yield from running_assistant(...)`` gets one that is stopped after its tests.
`start_bare_api` starts the api actor alone (no tree, no models), for the checks made before
any actor is asked. `sse_events_iter` and `EventWatcher` read the ``/events`` stream.
"""

from __future__ import annotations

import io
import json
import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec
import pykka
import requests

import supervisors
from solo_actors.api.actor import ApiActor
from solo_actors.api.auth import Scope, TokenStore
from solo_actors.config import Config, load_config
from solo_actors.runtime.app import start_tree
from solo_actors.runtime.logs import configure_logging
from solo_actors.runtime.tree import declared_tree
from tests.conftest import config_environment

CLIENT_LOGGERS = ("urllib3", "websockets", "httpx", "httpcore")


@dataclass
class RunningApi:
    root: supervisors.SupervisorRef
    config: Config
    url: str
    tokens: dict[Scope, str]
    log: io.StringIO
    session: requests.Session = field(default_factory=requests.Session)

    def request(self, method: str, path: str, scope: Scope | None = "admin",
                **kwargs: object) -> requests.Response:  # fmt: skip
        headers = dict(kwargs.pop("headers", {}) or {})  # type: ignore[call-overload]
        if scope is not None:
            headers["Authorization"] = f"Bearer {self.tokens[scope]}"
        kwargs.setdefault("timeout", 150)  # above the turn timeout: /ask answers first
        return self.session.request(method, self.url + path, headers=headers, **kwargs)  # type: ignore[arg-type]

    def get(self, path: str, scope: Scope | None = "admin", **kwargs: object) -> requests.Response:
        return self.request("GET", path, scope, **kwargs)

    def post(self, path: str, scope: Scope | None = "admin", **kwargs: object) -> requests.Response:
        return self.request("POST", path, scope, **kwargs)

    def node(self, path: str) -> supervisors.NodeStatus | None:
        return self.root.status().find(path)

    def wait_running(self, path: str, restarts: int, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            node = self.node(path)
            if node is not None and node.state == "running" and node.restarts >= restarts:
                return
            time.sleep(0.05)
        raise AssertionError(f"{path} not running with {restarts} restarts after {timeout} s")

    def stop(self) -> None:
        self.session.close()
        self.root.stop()
        configure_logging(self.config.log)  # back to stderr for the tests that follow


def start_assistant(var_dir: Path, overrides: Mapping[str, object] | None = None) -> RunningApi:
    # A loaded 2-core machine can take tens of seconds for a first reply.
    # Short replies: the tests are about the API, not the answers.
    settings = {"api.port": 0, "dialogue.turn_timeout": 100, "llm.max_tokens": 24,
                **(overrides or {})}  # fmt: skip
    config = load_config("test", environ=config_environment(var_dir, settings))
    # Every log line of the run lands here, at debug level, for the no-secrets check.
    log = io.StringIO()
    configure_logging(msgspec.structs.replace(config.log, level="debug", format="json"), log)
    # The test's own HTTP clients log the URLs and frames they send (tokens included) at
    # debug level; the no-secrets check is about the assistant's lines, so quiet them.
    for client in CLIENT_LOGGERS:
        logging.getLogger(client).setLevel(logging.INFO)
    root = start_tree(config)
    url = config.solo.var_path("api", "url").read_text().strip()
    admin = config.solo.var_path(config.api.admin_token_file).read_text().strip()
    store = TokenStore(config.solo.var_path(config.api.tokens_file))
    tokens: dict[Scope, str] = {"admin": admin}
    for scope in ("read", "control"):
        tokens[scope], _ = store.create(scope, label=f"test {scope}")  # type: ignore[arg-type]
    return RunningApi(root, config, url, tokens, log)


def running_assistant(
    var_dir: Path, overrides: Mapping[str, object] | None = None
) -> Iterator[RunningApi]:
    """`start_assistant` for a fixture to ``yield from``: stopped once its tests are done,
    failed or not."""
    running = start_assistant(var_dir, overrides)
    try:
        yield running
    finally:
        running.stop()


def skill_reply(api: RunningApi, text: str, intent_prefix: str) -> str:
    """The reply to ``text`` asked through ``POST /ask``, which one of the skills whose
    intents start with ``intent_prefix`` must have answered."""
    asked = api.post("/ask", scope="control", json={"text": text})
    assert asked.status_code == 200, asked.text
    answer = asked.json()
    assert answer["model"].startswith("skills:" + intent_prefix), (text, answer)
    return str(answer["reply"])


@dataclass
class BareApi:
    """The api actor alone, without the tree: enough for what is decided before a handler
    asks an actor (auth, Host, Origin, content types, TLS); routes that need one say 503."""

    ref: pykka.ActorRef[Any]
    config: Config
    url: str

    def stop(self) -> None:
        self.ref.stop()


def start_bare_api(var_dir: Path, overrides: Mapping[str, object] | None = None) -> BareApi:
    settings = {"api.port": 0, **(overrides or {})}
    config = load_config("test", environ=config_environment(var_dir, settings))
    ref = ApiActor.start(config, "solo", declared_tree)
    url_file = config.solo.var_path("api", "url")
    deadline = time.monotonic() + 10
    while not url_file.exists():  # on_start runs in the actor's thread
        assert time.monotonic() < deadline, "the api did not write its URL"
        time.sleep(0.02)
    return BareApi(ref, config, url_file.read_text().strip())


def sse_events_iter(response: requests.Response) -> Iterator[tuple[str, Any]]:
    """``(event name, data)`` of each server-sent event of a streamed response, as it comes."""
    name = ""
    for line in response.iter_lines(decode_unicode=True):
        if line.startswith("event: "):
            name = line[len("event: ") :]
        elif line.startswith("data: "):
            yield name, json.loads(line[len("data: ") :])


class EventWatcher:
    """``GET /events`` read on a thread of its own until ``until(name, data)`` is true;
    ``subscribed`` is set once the server has made the subscription (its first comment)."""

    def __init__(self, api: RunningApi, topics: str,
                 until: Callable[[str, Any], bool]) -> None:  # fmt: skip
        self.events: list[tuple[str, Any]] = []
        self.subscribed = threading.Event()
        self.error: BaseException | None = None
        self._response = api.get(f"/events?topics={topics}", scope="read", stream=True)
        self._until = until
        self._thread = threading.Thread(target=self._read, name="sse-watcher", daemon=True)
        self._thread.start()
        assert self.subscribed.wait(30), "the event stream did not connect"

    def _read(self) -> None:
        try:
            lines = self._response.iter_lines(decode_unicode=True)
            for line in lines:  # ": connected" comes once the hub subscription exists
                if line.startswith(":"):
                    self.subscribed.set()
                    break
            name = ""
            for line in lines:
                if line.startswith("event: "):
                    name = line[len("event: ") :]
                elif line.startswith("data: "):
                    data = json.loads(line[len("data: ") :])
                    self.events.append((name, data))
                    if self._until(name, data):
                        return
        except BaseException as error:  # reported by `wait`
            self.error = error
        finally:
            self.subscribed.set()
            self._response.close()

    def wait(self, timeout: float) -> list[tuple[str, Any]]:
        self._thread.join(timeout)
        assert not self._thread.is_alive(), f"no end event within {timeout} s: {self.events}"
        assert self.error is None, self.error
        return self.events
