"""Fixtures for the agents tests: workflow files in a temporary folder, a scripted llm
actor (deterministic replies, for limits and failures), and the agents actor under a small
supervisor of its own, registered under unique names so tests never collide."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

import supervisors
from solo_actors.agents.actor import AgentsActor
from solo_actors.agents.tools import NoArguments, ToolContext, ToolSpec
from solo_actors.config import Config, load_config
from solo_actors.messages import (
    LLMCancel,
    LLMDone,
    LLMRequest,
    LLMToken,
    Message,
    RunWorkflow,
    WorkflowRun,
)
from solo_actors.runtime.ids import new_id
from tests.conftest import ConfigFactory, config_environment

# One llama.cpp thread: on a shared 2-core machine two threads that sync every layer stall
# each other (a 29-token reply measured 3.6 s with one thread, 43 s with two, at load 7).
TINY = {
    "api.enabled": False,
    "llm.n_threads": 1,
    "agents.step_max_tokens": 48,
    "dialogue.turn_timeout": 120,
}


def tiny_config(var_dir: Path, **overrides: object) -> Config:
    return load_config("test", environ=config_environment(var_dir, {**TINY, **overrides}))


Script = Callable[[LLMRequest], str | None]
"""The scripted llm's reply to a request; None: never answer (until cancelled)."""


class ToolBug(RuntimeError):
    """What the faulty test tool raises."""


class Doom(BaseException):
    """Not an Exception: nothing in CrewAI catches it."""


def explode(context: ToolContext) -> str:
    raise ToolBug("injected fault")


def doom(context: ToolContext) -> str:
    raise Doom("injected fatal fault")


FAULTY_TOOLS = (
    ToolSpec(name="explode", description="Always raises.", args=NoArguments, run=explode),
    ToolSpec(name="doom", description="Kills its thread.", args=NoArguments, run=doom),
)


def workflow_toml(
    tasks: int, *, tools: tuple[str, ...] = (), description: str = "Do: {input}"
) -> str:
    """A sequential workflow of ``tasks`` tasks by one agent."""
    tool_list = ", ".join(f'"{tool}"' for tool in tools)
    text = (
        'description = "A test workflow."\n'
        "[agents.worker]\n"
        'role = "Worker"\ngoal = "Do the task."\nbackstory = "You do tasks."\n'
        f"tools = [{tool_list}]\n"
    )
    for index in range(tasks):
        text += (
            f'[[tasks]]\nname = "t{index + 1}"\nagent = "worker"\n'
            f'description = "{description} (part {index + 1})"\nexpected_output = "A line."\n'
        )
    return text


class ScriptedLLM(supervisors.SupervisedActor):
    """Answers `LLMRequest`s like the llm actor, with text from a script."""

    def __init__(self, script: Script, calls: list[LLMRequest | LLMCancel]) -> None:
        super().__init__()
        self.script = script
        self.calls = calls
        self.pending: dict[str, LLMRequest] = {}

    def on_receive(self, message: Any) -> None:
        match message:
            case LLMRequest():
                self.calls.append(message)
                text = self.script(message)
                if text is None:
                    self.pending[message.request_id] = message
                else:
                    self.reply(message, text, "stop")
            case LLMCancel(request_id=request_id) if request_id in self.pending:
                self.calls.append(message)
                self.reply(self.pending.pop(request_id), "", "cancelled")

    def reply(self, request: LLMRequest, text: str, finish_reason: str) -> None:
        assert request.reply_to is not None
        if text:
            supervisors.tell(
                request.reply_to, LLMToken(request_id=request.request_id, text=text, index=0)
            )
        supervisors.tell(
            request.reply_to,
            LLMDone(
                request_id=request.request_id,
                text=text,
                prompt_tokens=len(request.prompt.split()),
                prompt_eval_tokens=0,
                completion_tokens=len(text.split()),
                tokens_per_second=0.0,
                time_to_first_token=0.0,
                finish_reason=finish_reason,
            ),
        )


@dataclass
class Listener:
    """A registered inbox that keeps every message it is told (progress, final runs)."""

    box: supervisors.Inbox
    messages: list[Message] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.box.name

    def final(self, run_id: str, timeout: float = 120.0) -> WorkflowRun:
        """The run's final `WorkflowRun`, once told (every message before it is kept)."""
        deadline = time.monotonic() + timeout
        while True:
            for message in self.messages:
                if isinstance(message, WorkflowRun) and message.run_id == run_id:
                    return message
            try:
                self.messages.append(self.box.receive(max(0.0, deadline - time.monotonic())))
            except TimeoutError:
                pytest.fail(f"run {run_id} did not end within {timeout} s")


@pytest.fixture
def listener() -> Iterator[Listener]:
    with supervisors.inbox(f"listener-{new_id()}") as box:
        yield Listener(box)


@dataclass
class Harness:
    """A scripted llm and an agents actor under their own supervisor."""

    tree: supervisors.SupervisorRef
    agents: str
    llm_calls: list[LLMRequest | LLMCancel]
    """Every request the scripted llm got, and every cancel of a request it held."""
    listener: Listener

    def run(
        self, workflow: str, text: str = "the test input", timeout: float = 180.0
    ) -> WorkflowRun:
        accepted = supervisors.ask(
            self.agents,
            RunWorkflow(workflow=workflow, input=text, reply_to=self.listener.name),
            timeout=10,
        )
        assert accepted.run_id, accepted
        return self.listener.final(accepted.run_id, timeout)


HarnessFactory = Callable[..., Harness]


@pytest.fixture
def harness(
    tmp_path: Path, make_config: ConfigFactory, listener: Listener
) -> Iterator[HarnessFactory]:
    """``harness(script, workflows={"name": toml}, **config_overrides)``."""
    trees: list[supervisors.SupervisorRef] = []

    def start(script: Script, workflows: dict[str, str], **overrides: object) -> Harness:
        folder = tmp_path / "workflows"
        folder.mkdir(exist_ok=True)
        for name, text in workflows.items():
            (folder / f"{name}.toml").write_text(text)
        config: Config = make_config(**{"agents.workflows_dir": str(folder), **overrides})
        suffix = new_id()
        llm_name, agents_name = f"llm-{suffix}", f"agents-{suffix}"
        calls: list[LLMRequest | LLMCancel] = []
        start_agents = functools.partial(
            AgentsActor.start, llm_name=llm_name, extra_tools=FAULTY_TOOLS
        )
        tree = supervisors.start_supervisor(
            supervisors.SupFlags(intensity=3, period=10),
            [
                supervisors.ChildSpec(
                    id="llm", name=llm_name, start=ScriptedLLM.start, args=(script, calls)
                ),
                supervisors.ChildSpec(
                    id="agents", name=agents_name, start=start_agents, args=(config, agents_name),
                    shutdown=5.0,
                ),
            ],
            name=f"agents-test-{suffix}",
        )  # fmt: skip
        trees.append(tree)
        return Harness(tree, agents_name, calls, listener)

    yield start
    for tree in trees:
        tree.stop()
