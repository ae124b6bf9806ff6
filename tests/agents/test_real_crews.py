"""Real crews on real models: every shipped workflow on the tiny model in one shared tree,
a plan on the default model, a "critique ..." turn through the dialogue actor, and the CLI
in a fresh process with a socket audit hook that proves CrewAI never leaves the machine.

Small models word things differently on every machine, so these tests assert structure
(every step produced output, the crew worked on the subject), never wording. The tiny model's
last step sometimes answers with nothing but a tool's output (the date, which changes every
minute, so the same prompt gives a different reply later), so only the default model is held
to mentioning the subject in its final answer.
"""

from __future__ import annotations

import datetime
import functools
import json
import os
import subprocess
import sys
import types
from collections.abc import Iterator
from pathlib import Path

import pytest

import supervisors
from solo_actors.agents import tools
from solo_actors.agents.actor import AgentsActor
from solo_actors.config import REPO_ROOT
from solo_actors.dialogue import converse
from solo_actors.llm import child_spec as llm_spec
from solo_actors.messages import RunWorkflow, WorkflowRun
from solo_actors.names import AGENTS_NAME
from solo_actors.runtime.app import start_tree
from tests.agents.conftest import TINY, Listener, tiny_config
from tests.conftest import config_environment

pytestmark = pytest.mark.filterwarnings("ignore:function callbacks cannot be serialized")

DEFAULT_MODEL = "qwen2.5-coder-0.5b-instruct-q4_k_m"


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Iterator[supervisors.SupervisorRef]:
    """The whole assistant on the tiny model, shared by this module's runs."""
    root = start_tree(tiny_config(tmp_path_factory.mktemp("agents") / "var"))
    yield root
    root.stop()


def run_to_end(agents: str, listener: Listener, workflow: str, text: str) -> WorkflowRun:
    request = RunWorkflow(workflow=workflow, input=text, reply_to=listener.name)
    accepted = supervisors.ask(agents, request, timeout=10)
    return listener.final(accepted.run_id, timeout=240)


def assert_finished_well(run: WorkflowRun, subject: str) -> None:
    assert run.status == "done", run.error
    assert all(step.status == "done" and step.output.strip() for step in run.steps), run.steps
    assert run.result == run.steps[-1].output
    assert any(subject in step.output.lower() for step in run.steps), run.steps
    assert run.llm_calls >= len(run.steps) and 0 < run.llm_seconds <= run.seconds


class FixedClock(datetime.datetime):
    """What the agents' current_datetime tool reads in these tests: one moment, always."""

    @classmethod
    def now(cls, tz: datetime.tzinfo | None = None) -> FixedClock:
        return cls(2026, 11, 23, 9, 30, tzinfo=datetime.UTC)


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """The plan's prompt holds the date and time: pinned, so a model's reply does not change
    with the clock (on Friday 4 December 2026 the tiny model only wrote the date back, and
    the default model's final plan lost its subject)."""
    monkeypatch.setattr(tools, "datetime", types.SimpleNamespace(datetime=FixedClock))


@pytest.mark.parametrize(
    ("workflow", "text", "subject"),
    [
        ("plan", "a picnic in the park on Saturday", "picnic"),
        ("research", "my vegetable garden", "garden"),
        ("critique", "Our bakery sells the freshest bread in town, baked every morning.", "bread"),
    ],
)
def test_each_shipped_workflow_runs_on_the_tiny_model(
    tree: supervisors.SupervisorRef, listener: Listener, workflow: str, text: str, subject: str
) -> None:
    run = run_to_end(AGENTS_NAME, listener, workflow, text)
    assert_finished_well(run, subject)
    assert [step.task for step in run.steps] == {
        "plan": ["draft", "critique", "final"],
        "research": ["recall", "summary"],
        "critique": ["review"],
    }[workflow]


def test_a_critique_turn_is_answered_by_the_agents_like_a_reply(
    tree: supervisors.SupervisorRef,
) -> None:
    done = converse("Critique: my essay about whales is far too long.", "conv-agents", timeout=240)
    assert done.error is None, done.error
    assert done.model == "agents:critique" and done.reply.strip()
    assert done.times.done is not None


def test_a_plan_on_the_default_model(
    tmp_path: Path, listener: Listener, pulled_model: object
) -> None:
    pulled_model(DEFAULT_MODEL)  # type: ignore[operator]
    config = tiny_config(tmp_path / "var", **{"llm.model": DEFAULT_MODEL, "llm.n_ctx": 2048})
    agents = "agents-default-model"
    root = supervisors.start_supervisor(
        supervisors.SupFlags(intensity=1, period=5),
        [
            llm_spec(config, "llm-default-model"),
            supervisors.ChildSpec(
                id=agents, name=agents, args=(config, agents), shutdown=5.0,
                start=functools.partial(AgentsActor.start, llm_name="llm-default-model"),
            ),
        ],
        name="agents-default-model-test",
    )  # fmt: skip
    try:
        run = run_to_end(agents, listener, "plan", "a birthday party for my daughter")
    finally:
        root.stop()
    assert_finished_well(run, "party")
    assert "party" in run.result.lower(), run.result


AUDITED_RUN = """
import json, socket, sys
attempts = []
def audit(event, args):
    if event in ("socket.connect", "socket.getaddrinfo"):
        attempts.append([event, repr(args)])
sys.addaudithook(audit)
from solo_actors.cli import main
code = main(["--profile", "test", "agents", "run", "critique", "--json",
             "The museum opens at nine and closes at five."])
print(json.dumps({"code": code, "attempts": attempts}), file=sys.stderr)
"""
LOOPBACK = ("'127.0.0.1'", "'::1'", "'localhost'")


def test_a_whole_run_in_a_fresh_process_makes_no_network_connection(tmp_path: Path) -> None:
    """Crewai's first import, the crew and the CLI, all under a socket audit hook."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("SOLO", "CREWAI"))}
    environ.update(config_environment(tmp_path / "var", TINY))
    process = subprocess.run(
        [sys.executable, "-c", AUDITED_RUN], cwd=REPO_ROOT, env=environ,
        capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    report = json.loads(process.stderr.strip().splitlines()[-1])
    run = json.loads(process.stdout)
    assert report["code"] == 0 and run["status"] == "done", process.stderr[-2000:]
    assert "museum" in run["result"].lower() or "nine" in run["result"].lower(), run["result"]
    outside = [a for a in report["attempts"] if not any(host in a[1] for host in LOOPBACK)]
    assert outside == []
    # CrewAI's own files went under var/, not the home folder.
    assert (tmp_path / "var" / "crewai" / "latest_kickoff_task_outputs.db").exists()
