"""A running assistant with its API for tests: the tree in-process, the api on a free port.

`start_assistant` starts the test profile's tree with ``api.port = 0`` and returns the base
URL, the first-run admin token and one token per lower scope; `RunningApi.stop` stops the
tree (every actor and the server thread), so no thread outlives the test module.
"""

from __future__ import annotations

import io
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import msgspec
import requests

import supervisors
from solo_actors.api.auth import Scope, TokenStore
from solo_actors.app import start_tree
from solo_actors.config import Config, load_config
from solo_actors.logs import configure_logging
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

