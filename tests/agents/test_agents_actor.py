"""The agents actor with a scripted llm: progress, limits, cancel, failures, bad requests.

CrewAI really runs here (agents, tasks, the ReAct tool loop); only the model's replies are
scripted, so each limit and failure is hit deterministically and fast.
"""

from __future__ import annotations

import threading

import pytest

import supervisors
from solo_actors.messages import (
    AgentsError,
    CancelRun,
    GetRun,
    LLMCancel,
    LLMRequest,
    RunProgress,
    RunWorkflow,
    WorkflowRun,
)
from tests.agents.conftest import HarnessFactory, wait_until, workflow_toml

pytestmark = pytest.mark.filterwarnings("ignore:function callbacks cannot be serialized")


def answer(request: LLMRequest) -> str:
    return f"Answer number {len(request.prompt) % 97}."


def test_a_run_reports_each_step_and_its_output(harness: HarnessFactory) -> None:
    agents = harness(answer, {"three": workflow_toml(3)})
    run = agents.run("three", "paint the fence")
    assert run.status == "done", run.error
    assert [step.status for step in run.steps] == ["done"] * 3
    assert all(step.output.startswith("Answer number") for step in run.steps)
    assert run.result == run.steps[-1].output
    assert run.llm_calls == len(agents.llm_calls) == 3
    assert all("paint the fence" in call.prompt for call in agents.llm_calls)
    assert 0 < run.llm_seconds <= run.seconds
    progress = [m for m in agents.listener.messages if isinstance(m, RunProgress)]
    assert [(p.step, p.status) for p in progress] == [
        (1, "running"), (1, "done"), (2, "running"), (2, "done"), (3, "running"), (3, "done"),
    ]  # fmt: skip
    assert supervisors.ask(agents.agents, GetRun(run_id=run.run_id), timeout=5) == run


def test_max_steps_stops_with_the_steps_done(harness: HarnessFactory) -> None:
    agents = harness(answer, {"three": workflow_toml(3)}, **{"agents.max_steps": 2})
    run = agents.run("three")
    assert run.status == "max_steps"
    assert "max_steps (2)" in (run.error or "")
    assert [step.status for step in run.steps] == ["done", "done", "pending"]
    assert run.result == run.steps[1].output
    assert len(agents.llm_calls) == 2


def test_max_tokens_stops_before_the_next_call(harness: HarnessFactory) -> None:
    agents = harness(
        lambda _: "word " * 30, {"three": workflow_toml(3)}, **{"agents.max_tokens": 40}
    )
    run = agents.run("three")
    assert run.status == "max_tokens"
    assert run.completion_tokens == 60 and len(agents.llm_calls) == 2
    assert [step.status for step in run.steps] == ["done", "done", "stopped"]


def test_timeout_cancels_the_call_in_flight_and_keeps_the_partial_result(
    harness: HarnessFactory,
) -> None:
    # The first step is answered; the second never is, until the timeout cancels it.
    agents = harness(
        lambda request: None if "part 2" in request.prompt else "First part done.",
        {"two": workflow_toml(2)},
        **{"agents.timeout": 1.5},
    )
    run = agents.run("two")
    assert run.status == "timeout"
    assert "agents.timeout (1.5 s)" in (run.error or "")
    assert run.result == "First part done."
    assert [step.status for step in run.steps] == ["done", "stopped"]
    assert 1.5 <= run.seconds < 10


def test_an_llm_that_never_answers_fails_the_run_and_its_request_is_cancelled(
    harness: HarnessFactory,
) -> None:
    agents = harness(lambda _: None, {"one": workflow_toml(1)}, **{"agents.llm_call_timeout": 1})
    run = agents.run("one")
    assert run.status == "failed"
    assert run.error is not None and "no reply from the language model within 1 s" in run.error
    request, cancel = agents.llm_calls
    assert isinstance(cancel, LLMCancel) and cancel.request_id == request.request_id


def test_cancel_stops_a_run_and_the_actor_keeps_serving(harness: HarnessFactory) -> None:
    agents = harness(lambda request: None, {"one": workflow_toml(1)})
    accepted = supervisors.ask(agents.agents, RunWorkflow(workflow="one", input="x",
                               reply_to=agents.listener.name), timeout=10)  # fmt: skip
    wait_until(lambda: agents.llm_calls, 60, "the run's first llm call")
    snapshot = supervisors.ask(agents.agents, CancelRun(run_id=accepted.run_id), timeout=5)
    assert isinstance(snapshot, WorkflowRun)
    run = agents.listener.final(accepted.run_id, 10)
    assert run.status == "cancelled" and run.steps[0].status == "stopped"


def test_a_tool_that_raises_fails_the_run_cleanly(harness: HarnessFactory) -> None:
    calls = 0

    def use_the_tool(request: LLMRequest) -> str:
        nonlocal calls
        calls += 1
        return "Thought: use it\nAction: explode\nAction Input: {}"

    agents = harness(use_the_tool, {"faulty": workflow_toml(2, tools=("explode",))})
    before = supervisors.whereis(agents.agents)
    run = agents.run("faulty")
    assert run.status == "failed"
    assert run.error == "tool 'explode' crashed: ToolBug: injected fault"
    assert calls == 1  # the run stopped at once: CrewAI did not retry the task or the tool
    # The actor is the same incarnation and serves the next run.
    assert supervisors.whereis(agents.agents) is before
    assert supervisors.ask(agents.agents, GetRun(run_id=run.run_id), timeout=5).status == "failed"


def test_a_fatal_error_in_a_run_crashes_the_actor_and_it_is_restarted(
    harness: HarnessFactory,
) -> None:
    agents = harness(lambda _: "fine", {"doomed": workflow_toml(1, description="{doom}")})
    before = supervisors.whereis(agents.agents)
    run = agents.run("doomed")
    assert run.status == "failed" and run.error == "Doom: injected fatal fault"
    wait_until(lambda: supervisors.whereis(agents.agents) not in (None, before), 10, "the restart")
    restarted = supervisors.whereis(agents.agents)
    assert [c.restarts for c in agents.tree.status().children if c.id == "agents"] == [1]
    assert restarted is not None and isinstance(
        supervisors.ask(agents.agents, GetRun(run_id=run.run_id), timeout=5), AgentsError
    )


def test_bad_requests_get_errors_that_say_the_fix(harness: HarnessFactory) -> None:
    agents = harness(answer, {"one": workflow_toml(1), "broken": "tasks = [nonsense"})

    def refusal(workflow: str, text: str) -> str:
        answer_ = supervisors.ask(
            agents.agents, RunWorkflow(workflow=workflow, input=text), timeout=5
        )
        assert isinstance(answer_, AgentsError)
        return answer_.message

    assert "unknown workflow 'nope'; known: one" in refusal("nope", "x")
    assert "empty input" in refusal("one", "   ")
    assert "broken.toml: not valid TOML" in refusal("broken", "x")
    assert "no run 'zzz'" in supervisors.ask(agents.agents, GetRun(run_id="zzz"), timeout=5).message
    assert agents.run("one").status == "done"  # still serving


def test_runs_leave_no_threads_behind(harness: HarnessFactory) -> None:
    agents = harness(answer, {"one": workflow_toml(1)})
    agents.run("one")  # warm: crewai's own event-bus threads start once per process
    before = {thread.ident for thread in threading.enumerate()}
    for _ in range(2):
        assert agents.run("one").status == "done"
    wait_until(
        lambda: {thread.ident for thread in threading.enumerate()} <= before, 5, "threads to end"
    )


def test_a_hierarchical_workflow_runs_with_solos_llm_as_the_manager(
    harness: HarnessFactory,
) -> None:
    text = workflow_toml(2).replace('agent = "worker"\n', "", 1)
    agents = harness(lambda _: "Final Answer: delegated and done.",
                     {"managed": 'process = "hierarchical"\n' + text})  # fmt: skip
    run = agents.run("managed")
    assert run.status == "done", run.error
    assert [step.agent for step in run.steps] == ["manager", "worker"]
    assert all(step.output == "delegated and done." for step in run.steps)
