"""The remote llm engine against a real OpenAI-compatible server: llama-cpp-python's own
(``python -m llama_cpp.server``, its `server` extra's dependencies are in the dev extra),
started here on loopback with the tiny model.

A turn goes through it (its access log shows the request, and no local model is loaded);
a server killed mid-reply fails the turn within 2 s, and with ``fallback = "local"`` the
next turn is answered locally and the actor's status figures (what /status serves) say so;
an unreachable server, a bad key and an interrupt mid-stream each end the turn at once
with words that say what happened.
"""

from __future__ import annotations

import os
import queue
import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import msgspec
import pytest

import supervisors
from solo_actors.config import ConfigError, load_config
from solo_actors.llm import child_spec
from solo_actors.llm.remote import RemoteLLMActor
from solo_actors.messages import (
    Interrupt,
    LLMDone,
    LLMError,
    LLMGetHistory,
    LLMRequest,
    LLMToken,
    ToolDefinition,
)
from solo_actors.runtime.ids import new_id
from tests.llm.conftest import (
    EVERY_OPENING,
    TIMEOUT,
    RunningLLM,
    StartServer,
    free_port,
    llm_config,
)

FRANCE = "What is the capital of France?"
STORY = "Write a long story about a dragon who learns to cook."
KEY_VARIABLE = "SOLO_TEST_REMOTE_LLM_KEY"
SERVER_START = 120.0


StartRemote = Callable[..., RunningLLM]


@pytest.fixture
def start_remote(tmp_path: Path) -> Iterator[StartRemote]:
    """Start the llm child as the config says (engine "openai") under a supervisor."""
    started: list[RunningLLM] = []

    def start(
        base_url: str, n_ctx: int = 1024, declines: tuple[str, ...] = (), **remote: Any
    ) -> RunningLLM:
        config = llm_config(tmp_path / "var", engine="openai", cache=False, n_ctx=n_ctx)
        if declines:
            config = msgspec.structs.replace(
                config, llm=msgspec.structs.replace(config.llm, declines=list(declines))
            )
        remote = {"base_url": base_url, "model": "tiny", "retry_after": 60.0, **remote}
        settings = msgspec.structs.replace(config.llm.remote, **remote)
        config = msgspec.structs.replace(
            config, llm=msgspec.structs.replace(config.llm, remote=settings)
        )
        name = f"llm-{new_id()}"
        supervisor = supervisors.start_supervisor(
            supervisors.SupFlags(intensity=3, period=5.0),
            [child_spec(config, name)],
            name=f"test-{name}",
        )
        running = RunningLLM(config, name, supervisor)
        started.append(running)
        return running

    yield start
    for running in reversed(started):
        if running.supervisor.is_alive():
            running.supervisor.stop()


def status_figures(llm: RunningLLM) -> dict[str, Any]:
    """The llm node's figures in the supervisor's status tree (what /status serves)."""
    (node,) = llm.supervisor.status().children
    return dict(node.figures)


def first_token_then(
    llm: RunningLLM, inbox: queue.Queue[Any], reply_to: str, **fields: Any
) -> LLMRequest:
    """Send a long request and wait until its first token arrived."""
    request = LLMRequest(prompt=STORY, reply_to=reply_to, max_tokens=600, **fields)
    supervisors.tell(llm.name, request)
    first = inbox.get(timeout=TIMEOUT)
    assert isinstance(first, LLMToken), first
    return request


def final_event(inbox: queue.Queue[Any]) -> LLMDone | LLMError:
    while True:
        event = inbox.get(timeout=TIMEOUT)
        if isinstance(event, LLMDone | LLMError):
            return event


def test_a_turn_goes_through_the_server_and_keeps_its_history(
    start_server: StartServer, start_remote: StartRemote
) -> None:
    server = start_server()
    llm = start_remote(server.base_url, fallback="none")
    assert llm.ref().actor_class is RemoteLLMActor  # the child the config declared
    streamed = llm.stream(LLMRequest(prompt=FRANCE, conversation_id="c1"))
    done = streamed.done
    assert "Paris" in done.text
    assert streamed.text == done.text and len(streamed.tokens) >= 2
    assert done.completion_tokens >= len(streamed.tokens) - 1
    assert server.completions_seen() == 1
    follow_up = llm.done("And of Germany?", conversation_id="c1")
    assert follow_up.text
    history = llm.ref().ask(LLMGetHistory("c1"), timeout=TIMEOUT).messages
    assert [message.role for message in history] == [
        "system", "user", "assistant", "user", "assistant",
    ]  # fmt: skip
    assert history[2].content == done.text
    figures = status_figures(llm)
    assert figures["engine"] == "openai" and figures["serving"] == "openai"
    assert figures["local_loaded"] is False  # the reply came from the server, not from here
    assert figures["remote_requests"] == 2 and figures["remote_errors"] == 0


def test_a_declined_reply_leaves_its_exchange_out_of_the_history_as_locally(
    start_server: StartServer, start_remote: StartRemote
) -> None:
    # Whatever the server writes declines here, so no particular words of it are needed.
    server = start_server()
    llm = start_remote(server.base_url, fallback="none", declines=tuple(EVERY_OPENING))
    assert llm.done(FRANCE, conversation_id="c").text.strip()
    assert [message.role for message in llm.history("c")] == ["system"]
    assert status_figures(llm)["declines_left_out"] == 1


def test_a_server_killed_mid_reply_fails_the_turn_at_once_and_the_next_is_local(
    start_server: StartServer,
    start_remote: StartRemote,
    collector: tuple[str, queue.Queue[Any]],
) -> None:
    name, inbox = collector
    server = start_server()
    llm = start_remote(server.base_url, fallback="local")
    first_token_then(llm, inbox, name)
    server.kill()
    killed = time.monotonic()
    final = final_event(inbox)
    assert time.monotonic() - killed < 2.0
    assert isinstance(final, LLMError), final
    assert "dropped mid-reply" in final.message and server.base_url in final.message
    figures = status_figures(llm)
    assert "dropped mid-reply" in str(figures["remote_error"])

    done = llm.done(FRANCE)  # the server is gone: the local model answers
    assert "Paris" in done.text
    figures = status_figures(llm)
    assert figures["serving"] == "llama.cpp" and figures["local_loaded"] is True
    assert figures["fallbacks"] == 1 and figures["remote_errors"] == 1


def test_an_unreachable_server_fails_the_turn_at_once_without_a_fallback(
    start_remote: StartRemote,
) -> None:
    url = f"http://127.0.0.1:{free_port()}/v1"  # nothing listens there
    llm = start_remote(url, fallback="none")
    started = time.monotonic()
    reply = llm.ask(FRANCE)
    assert time.monotonic() - started < 5.0
    assert isinstance(reply, LLMError), reply
    assert "is unreachable" in reply.message and url in reply.message
    assert status_figures(llm)["local_loaded"] is False
    assert llm.supervisor.status().children[0].restarts == 0  # a failed turn, not a crash


def test_an_unreachable_server_at_start_falls_back_to_the_local_model(
    start_remote: StartRemote,
) -> None:
    llm = start_remote(f"http://127.0.0.1:{free_port()}/v1", fallback="local")
    assert status_figures(llm)["local_loaded"] is False  # loaded on the first need only
    done = llm.done(FRANCE)
    assert "Paris" in done.text
    figures = status_figures(llm)
    assert figures["serving"] == "llama.cpp"
    assert "is unreachable" in str(figures["remote_error"])
    llm.done("And of Germany?")  # within retry_after: straight to the local model
    assert status_figures(llm)["remote_requests"] == 1


def test_an_interrupt_mid_stream_cancels_the_reply_and_the_server_serves_on(
    start_server: StartServer,
    start_remote: StartRemote,
    collector: tuple[str, queue.Queue[Any]],
) -> None:
    name, inbox = collector
    server = start_server()
    llm = start_remote(server.base_url, fallback="none")
    request = first_token_then(llm, inbox, name, turn_id="t1")
    supervisors.tell(llm.name, Interrupt(turn_id="t1"))
    interrupted = time.monotonic()
    final = final_event(inbox)
    assert time.monotonic() - interrupted < 2.0
    assert isinstance(final, LLMDone) and final.request_id == request.request_id
    assert final.finish_reason == "cancelled"
    # The connection was closed: the server stopped that reply and answers the next.
    assert "Paris" in llm.done(FRANCE).text
    assert server.completions_seen() == 2


def test_the_key_is_read_from_the_variable_api_key_env_names(
    start_server: StartServer, start_remote: StartRemote, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = start_server("--api_key", "right-key")
    monkeypatch.setenv(KEY_VARIABLE, "right-key")
    good = start_remote(server.base_url, fallback="none", api_key_env=KEY_VARIABLE)
    assert good.done(FRANCE).text
    monkeypatch.setenv(KEY_VARIABLE, "wrong-key")
    bad = start_remote(server.base_url, fallback="none", api_key_env=KEY_VARIABLE)
    reply = bad.ask(FRANCE)
    assert isinstance(reply, LLMError), reply
    assert "HTTP 401" in reply.message and KEY_VARIABLE in reply.message
    monkeypatch.delenv(KEY_VARIABLE)
    unset = start_remote(server.base_url, fallback="none", api_key_env=KEY_VARIABLE)
    reply = unset.ask(FRANCE)
    assert isinstance(reply, LLMError), reply
    assert f"{KEY_VARIABLE}, which is not set" in reply.message


def remote_environ(**settings: str) -> dict[str, str]:
    environ = {"SOLO__LLM__ENGINE": "openai"}
    environ.update({f"SOLO__LLM__REMOTE__{key.upper()}": value for key, value in settings.items()})
    return environ


def test_the_config_refuses_an_unset_key_variable_a_pasted_key_and_a_bad_url() -> None:
    with pytest.raises(ConfigError, match=f"environment variable {KEY_VARIABLE}, which is not"):
        load_config("test", environ=remote_environ(api_key_env=KEY_VARIABLE))
    with pytest.raises(ConfigError, match="must be the NAME of an environment variable"):
        load_config("test", environ=remote_environ(api_key_env="sk-abc123-not-a-name"))
    with pytest.raises(ConfigError, match=r"is not an http\(s\) URL"):
        load_config("test", environ=remote_environ(base_url="gpu-box:8000"))
    with pytest.raises(ConfigError, match=r"llm\.remote\.model is empty"):
        load_config("test", environ=remote_environ(model=""))
    environ = remote_environ(api_key_env=KEY_VARIABLE)
    config = load_config("test", environ={**environ, KEY_VARIABLE: "a-key"})
    assert config.llm.engine == "openai" and config.llm.served_model == "openai:default"
    assert os.environ.get(KEY_VARIABLE) is None  # the key stays in the environment only


@pytest.fixture
def silent_server() -> Iterator[str]:
    """A port that accepts connections (the kernel's backlog does) and never answers."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/v1"


def test_a_silent_server_fails_the_turn_after_read_timeout(
    start_remote: StartRemote, silent_server: str
) -> None:
    llm = start_remote(silent_server, fallback="none", read_timeout=1.0)
    started = time.monotonic()
    reply = llm.ask(FRANCE)
    assert isinstance(reply, LLMError), reply
    assert time.monotonic() - started < 10.0
    assert "sent nothing for 1 s" in reply.message and "read_timeout" in reply.message


def test_an_interrupt_stops_a_turn_waiting_on_a_silent_server(
    start_remote: StartRemote, silent_server: str, collector: tuple[str, queue.Queue[Any]]
) -> None:
    name, inbox = collector
    llm = start_remote(silent_server, fallback="none", read_timeout=60.0)
    supervisors.tell(llm.name, LLMRequest(prompt=FRANCE, reply_to=name, turn_id="t2"))
    time.sleep(0.5)  # the request is out, the server says nothing
    supervisors.tell(llm.name, Interrupt(turn_id="t2"))
    interrupted = time.monotonic()
    final = final_event(inbox)
    assert time.monotonic() - interrupted < 2.0
    assert isinstance(final, LLMDone) and final.finish_reason == "cancelled"


def test_a_long_conversation_is_trimmed_to_fit_n_ctx(
    start_server: StartServer, start_remote: StartRemote
) -> None:
    server = start_server()
    # Estimated at 4 characters a token, the system prompt is ~230 tokens and a note ~97:
    # two notes and a reply fit in n_ctx 512 minus 16, three don't, and a trim goes down to
    # history_fill (0.75) of that room: only the newest note is left.
    llm = start_remote(server.base_url, fallback="none", n_ctx=512)
    filler = "The quick brown fox jumps over the lazy dog. " * 8
    for turn in range(3):
        done = llm.done(f"Note {turn}: {filler} Say OK.", conversation_id="long", max_tokens=16)
        assert done.finish_reason in ("stop", "length")
    history = llm.ref().ask(LLMGetHistory("long"), timeout=TIMEOUT).messages
    kept = [message.content for message in history if message.role == "user"]
    assert len(kept) == 1 and kept[0].startswith("Note 2:")
    assert server.completions_seen() == 3


def test_a_requests_own_tools_are_refused_by_the_remote_engine(
    start_remote: StartRemote,
) -> None:
    # Refused before anything is sent: the server is never asked, so none need listen.
    llm = start_remote(f"http://127.0.0.1:{free_port()}/v1", fallback="none")
    reply = llm.ask(FRANCE, tools=[ToolDefinition(name="get_weather")])
    assert isinstance(reply, LLMError) and reply.code == "tools_not_supported", reply
    assert "does not pass a request's own tools" in reply.message
