"""The whole assistant with ``llm.engine = "openai"``: turns through dialogue to
llama-cpp-python's own OpenAI-compatible server, the llm in its own process (the shipped
isolation), the server killed mid-reply, the next turn answered locally, and the API's
/status saying so.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from solo_actors.dialogue import converse
from solo_actors.messages import LLMToken, Message, TurnDone
from tests.api.apikit import RunningApi, running_assistant
from tests.llm.conftest import (  # noqa: F401  (fixtures: the llama.cpp server, its model)
    LlamaServer,
    StartServer,
    start_server,
    tiny_model,
)

TIMEOUT = 120.0
FIGURES_WAIT = 15.0
STORY = "Write a long story about a dragon who learns to cook."


@pytest.fixture
def server(start_server: StartServer) -> LlamaServer:  # noqa: F811  (the imported fixture)
    return start_server()


@pytest.fixture
def assistant(tmp_path: Path, server: LlamaServer) -> Iterator[RunningApi]:
    yield from running_assistant(
        tmp_path / "var",
        {
            "llm.engine": "openai",
            "llm.remote.base_url": server.base_url,
            "llm.remote.model": "tiny",
            "llm.remote.fallback": "local",
            "llm.max_tokens": 400,  # a reply long enough to be cut by the kill
            "isolation.llm.mode": "process",  # as shipped (a hot standby too): its own process
        },
    )


def llm_figures(api: RunningApi, **wanted: Any) -> dict[str, Any]:
    """The llm node's figures as GET /status serves them, once they show `wanted`: the llm
    process sends its figures with its heartbeats, so they arrive a beat later."""

    def find(node: dict[str, Any]) -> dict[str, Any] | None:
        if node["path"].endswith("/llm"):
            return node
        return next(filter(None, map(find, node.get("children", []))), None)

    deadline = time.monotonic() + FIGURES_WAIT
    while True:
        response = api.get("/status", scope="read")
        assert response.status_code == 200, response.text
        node = find(response.json()["tree"])
        assert node is not None and node["state"] == "running", node
        figures = dict(node["figures"])
        shown = all(figures.get(key) == value for key, value in wanted.items())
        if shown or time.monotonic() > deadline:
            return figures
        time.sleep(0.1)


def test_a_server_killed_mid_turn_fails_it_fast_and_the_next_turn_is_local(
    assistant: RunningApi, server: LlamaServer
) -> None:
    first_token = threading.Event()

    def on_message(message: Message) -> None:
        if isinstance(message, LLMToken):
            first_token.set()

    outcome: list[TurnDone] = []
    turn = threading.Thread(
        target=lambda: outcome.append(converse(STORY, "c1", on_message=on_message)),
        daemon=True,
    )
    turn.start()
    assert first_token.wait(TIMEOUT), "no token from the remote engine"
    assert server.completions_seen() == 1
    server.kill()
    killed = time.monotonic()
    turn.join(TIMEOUT)
    assert outcome, "the turn never finished"
    assert time.monotonic() - killed < 2.0
    done = outcome[0]
    assert done.error is not None and "dropped mid-reply" in done.error
    assert done.model == "openai:tiny"
    figures = llm_figures(assistant, serving="llama.cpp")
    assert figures["serving"] == "llama.cpp"  # the next turn's engine ...
    assert figures["local_loaded"] is False  # ... loaded when that turn comes
    assert "dropped mid-reply" in figures["remote_error"]

    local = converse("What is the capital of France?", "c1", timeout=TIMEOUT)
    assert local.error is None, local.error
    assert local.reply.strip()
    figures = llm_figures(assistant, fallbacks=1)
    assert figures["serving"] == "llama.cpp" and figures["local_loaded"] is True
    assert figures["fallbacks"] == 1
    assert "dropped mid-reply" in figures["remote_error"]
