"""Fixtures for the llm tests: real models on CPU, each actor under a real supervisor.

`start_server` runs llama-cpp-python's own OpenAI-compatible server (``python -m
llama_cpp.server``), the real peer of the remote llm engine.

Weights are loaded once per test session: the actor keeps each `Llama` in a per-process
cache (``solo_actors.llm.engine.load_model``), so starting a fresh actor per test costs a
template compile and a KV reset, not a model load. Models come from ``models/`` (``make
test`` pulls them); a missing one fails with ``run: solo models pull ID``.
"""

from __future__ import annotations

import contextlib
import queue
import signal
import socket
import string
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest

import supervisors
from solo_actors.config import Config, load_config
from solo_actors.llm import LLMActor, LLMEvent, child_spec
from solo_actors.llm.engine import ModelSettings
from solo_actors.messages import (
    ChatMessage,
    LLMDescribe,
    LLMDone,
    LLMError,
    LLMGetHistory,
    LLMHistory,
    LLMRequest,
    LLMToken,
)
from solo_actors.models import ResolvedModel
from solo_actors.runtime.ids import new_id

TINY = "smollm2-135m-instruct-q4_1"
DEFAULT = "qwen2.5-coder-0.5b-instruct-q4_k_m"
TIMEOUT = 120.0
SERVER_START = 120.0
EVERY_OPENING = [*string.ascii_letters, *string.digits, *string.punctuation]
"""As ``llm.declines``: every reply a model can write opens with one of them, so a test of
what a decline does needs no particular words from the model."""


@dataclass
class Streamed:
    """One request's events as an in-process caller saw them, with arrival times."""

    tokens: list[LLMToken] = field(default_factory=list)
    token_times: list[float] = field(default_factory=list)
    final: LLMDone | LLMError | None = None
    final_time: float = 0.0

    def add(self, event: LLMEvent) -> None:
        if isinstance(event, LLMToken):
            self.tokens.append(event)
            self.token_times.append(time.monotonic())
        else:
            self.final, self.final_time = event, time.monotonic()

    @property
    def done(self) -> LLMDone:
        assert isinstance(self.final, LLMDone), self.final
        return self.final

    @property
    def text(self) -> str:
        return "".join(token.text for token in self.tokens)


@dataclass
class RunningLLM:
    """An llm actor under its own supervisor, reached by registered name."""

    config: Config
    name: str
    supervisor: supervisors.SupervisorRef

    def ref(self) -> supervisors.SupervisedRef[LLMActor]:
        ref = supervisors.whereis(self.name, timeout=30)
        assert ref is not None, f"{self.name} is not running"
        return ref  # type: ignore[return-value]

    def ask(self, prompt: str, **fields: Any) -> LLMDone | LLMError:
        reply = supervisors.ask(self.name, LLMRequest(prompt=prompt, **fields), timeout=TIMEOUT)
        assert isinstance(reply, LLMDone | LLMError)
        return reply

    def done(self, prompt: str, **fields: Any) -> LLMDone:
        reply = self.ask(prompt, **fields)
        assert isinstance(reply, LLMDone), reply
        return reply

    def stream(self, request: LLMRequest, on_token: Callable[[Streamed], None] | None = None
               ) -> Streamed:  # fmt: skip
        """Send `request` with an inbox as its ``reply_to`` and collect the reply as it
        streams; ``on_token`` sees the stream after each token (e.g. to cancel it), with the
        tokens already waiting in the inbox taken in first: on a loaded machine this thread
        may wake only after the llm sent several more, and those were sent before whatever
        ``on_token`` does, so they must not be counted as sent after it."""
        streamed = Streamed()
        with supervisors.inbox() as box:
            box.monitor(self.name)
            supervisors.tell(self.name, msgspec.structs.replace(request, reply_to=box.name))
            while streamed.final is None:
                streamed.add(box.receive(TIMEOUT))
                if on_token is None:
                    continue
                with contextlib.suppress(TimeoutError):  # raised once nothing more waits
                    while streamed.final is None:
                        streamed.add(box.receive(0))
                if streamed.final is None:
                    on_token(streamed)
        return streamed

    def history(self, conversation_id: str) -> list[ChatMessage]:
        reply = supervisors.ask(self.name, LLMGetHistory(conversation_id), timeout=TIMEOUT)
        assert isinstance(reply, LLMHistory)
        return reply.messages

    @property
    def figures(self) -> Mapping[str, supervisors.Figure]:
        return self.ref().lifecycle.figures

    @property
    def model_settings(self) -> ModelSettings:
        """The key of this actor's model in the per-process model cache."""
        settings = self.config.llm
        return ModelSettings(
            path=supervisors.ask(self.name, LLMDescribe(), timeout=TIMEOUT).path,
            n_ctx=settings.n_ctx,
            n_batch=settings.n_batch,
            n_threads=settings.n_threads,
        )


def llm_config(var_dir: Path, **llm: Any) -> Config:
    """The test profile with var/ in `var_dir` and `llm` settings replaced."""
    config = load_config("test", environ={"SOLO__SOLO__VAR_DIR": str(var_dir)})
    return msgspec.structs.replace(config, llm=msgspec.structs.replace(config.llm, **llm))


@pytest.fixture(scope="session")
def tiny_model(pulled_model: Callable[[str], ResolvedModel]) -> ResolvedModel:
    return pulled_model(TINY)


@pytest.fixture(scope="session")
def default_model(pulled_model: Callable[[str], ResolvedModel]) -> ResolvedModel:
    return pulled_model(DEFAULT)


StartLLM = Callable[..., RunningLLM]


@pytest.fixture
def start_llm(tmp_path: Path, tiny_model: ResolvedModel) -> Iterator[StartLLM]:
    """Start llm actors (tiny model, response cache off unless asked) under supervisors."""
    started: list[RunningLLM] = []

    def start(var_dir: Path | None = None, **llm: Any) -> RunningLLM:
        llm.setdefault("cache", False)
        config = llm_config(var_dir or tmp_path / "var", **llm)
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


class Collector(supervisors.SupervisedActor):
    """A registered receiver of `reply_to` messages, for tests."""

    def __init__(self, inbox: queue.Queue[Any]) -> None:
        super().__init__()
        self.inbox = inbox

    def on_receive(self, message: Any) -> None:
        self.inbox.put(message)


@pytest.fixture
def collector() -> Iterator[tuple[str, queue.Queue[Any]]]:
    """A registered name whose messages land in the returned queue."""
    inbox: queue.Queue[Any] = queue.Queue()
    ref = Collector.start(inbox)
    name = f"collector-{new_id()}"
    supervisors.default_registry.register(name, ref)
    yield name, inbox
    supervisors.default_registry.unregister(name, ref)
    ref.stop()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class LlamaServer:
    """A running ``llama_cpp.server`` and its log."""

    process: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def completions_seen(self) -> int:
        """Chat completion requests in the server's access log."""
        return self.log.read_text(errors="replace").count("POST /v1/chat/completions")

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)


StartServer = Callable[..., LlamaServer]


@pytest.fixture
def start_server(tmp_path: Path, tiny_model: ResolvedModel) -> Iterator[StartServer]:
    """Start llama-cpp-python's OpenAI-compatible server on loopback with the tiny model."""
    started: list[LlamaServer] = []

    def start(*extra: str) -> LlamaServer:
        port = free_port()
        log = tmp_path / f"llama-server-{port}.log"
        command = [
            sys.executable, "-m", "llama_cpp.server", "--model", str(tiny_model.path),
            "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "2048",
            "--n_threads", "1", *extra,
        ]  # fmt: skip
        with log.open("wb") as out:
            process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
        server = LlamaServer(process, port, log)
        started.append(server)
        deadline = time.monotonic() + SERVER_START
        while time.monotonic() < deadline:
            assert process.poll() is None, (
                "llama_cpp.server exited at start; is the dev extra installed (make setup)? "
                f"its log:\n{log.read_text(errors='replace')[-3000:]}"
            )
            try:
                httpx.get(f"{server.base_url}/models", timeout=2.0)
                return server
            except httpx.TransportError:
                time.sleep(0.2)
        raise AssertionError(f"llama_cpp.server not up within {SERVER_START:g} s")

    yield start
    for server in started:
        if server.process.poll() is None:
            server.process.terminate()
            try:
                server.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
