"""The agents' tools (the arithmetic evaluator against hostile input, memory and history
lookups with their actors up and down) and workflow files (loading, every kind of mistake,
intent routing). No model is loaded here."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import supervisors
from solo_actors.agents.arithmetic import MAX_EXPRESSION_CHARS, ExpressionError, evaluate
from solo_actors.agents.tools import (
    ToolContext,
    calculate,
    conversation_history,
    current_datetime,
    search_memory,
    toolbox,
)
from solo_actors.agents.workflows import IntentRouter, load_workflows
from solo_actors.config import REPO_ROOT
from solo_actors.messages import Memories, MemoryItem, ReadRows, Recall, Rows, StoreFailure
from solo_actors.names import MEMORY_NAME, STORE_NAME
from tests.agents.conftest import workflow_toml

CONTEXT = ToolContext(input="the garden", conversation_id="conv-7", timeout=2.0)


# -- arithmetic ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "value"),
    [
        ("(2 + 3) * 4 / 5", 4.0),
        ("2 ** 10", 1024),
        ("2^8", 256),
        ("-7 // 2", -4),
        ("17 % 5", 2),
        ("sqrt(16) + abs(-2)", 6.0),
        ("round(2.567, 2)", 2.57),
        ("max(1, 9, 3) - min(4, 2)", 7),
        ("1.5e3 + 0.5", 1500.5),
    ],
)
def test_arithmetic_computes(expression: str, value: float) -> None:
    assert evaluate(expression) == value


@pytest.mark.parametrize(
    ("expression", "problem"),
    [
        ("__import__('os').system('rm -rf /')", "not allowed"),
        ("open('/etc/passwd').read()", "not allowed"),
        ("(1).__class__.__bases__", "not allowed"),
        ("[x for x in range(10**9)]", "not allowed"),
        ("lambda: 1", "not allowed"),
        ("'a' * 10", "not allowed"),
        ("True + 1", "not numbers"),
        ("9 ** 9 ** 9", "too large"),
        ("10 ** 5000", "too large"),
        ("2 ** 4097", "too large"),
        ("(10 ** 1000) * (10 ** 1000)", "more than 4096 bits"),
        ("1e308 * 10", "not a finite number"),
        ("(-8) ** 0.5", "complex"),
        ("1 / 0", "division by zero"),
        ("5 % 0", "division by zero"),
        ("sqrt(-1)", "can't compute"),
        ("1 +", "not an arithmetic expression"),
        ("", "empty expression"),
        ("1" + "+1" * MAX_EXPRESSION_CHARS, "longer than"),
        ("+".join(["1"] * 150), "more than 200 parts"),
    ],
)
def test_arithmetic_refuses_hostile_or_broken_input(expression: str, problem: str) -> None:
    started = time.perf_counter()
    with pytest.raises(ExpressionError, match=problem):
        evaluate(expression)
    assert time.perf_counter() - started < 0.5  # refused, not computed


@given(st.text(alphabet="0123456789.+-*/%()^e ,sqrtabsminx", max_size=40) | st.text(max_size=40))
def test_arithmetic_gives_a_number_or_an_expression_error(text: str) -> None:
    try:
        value = evaluate(text)
    except ExpressionError:
        return
    assert isinstance(value, int | float) and not isinstance(value, bool)


def test_the_calculator_tool_answers_errors_as_text() -> None:
    assert calculate(CONTEXT, "6 * 7") == "6 * 7 = 42"
    assert "division by zero" in calculate(CONTEXT, "1/0")


def test_the_clock_tool_says_the_date() -> None:
    assert str(time.localtime().tm_year) in current_datetime(CONTEXT)


# -- memory and history ----------------------------------------------------------------------


class Answering(supervisors.SupervisedActor):
    """Stands in for the memory or store actor: answers asks from a function."""

    def __init__(self, answer: Any) -> None:
        super().__init__()
        self.answer = answer
        self.asked: list[Any] = []

    def on_receive(self, message: Any) -> Any:
        self.asked.append(message)
        return self.answer(message)


@pytest.fixture
def stand_in() -> Iterator[Any]:
    started: list[tuple[str, Any]] = []

    def start(name: str, answer: Any) -> Any:
        ref = Answering.start(answer)
        supervisors.default_registry.register(name, ref)
        started.append((name, ref))
        return ref

    yield start
    for name, ref in started:
        supervisors.default_registry.unregister(name, ref)
        ref.stop()


def memory_item(text: str) -> MemoryItem:
    return MemoryItem(memory_id="m", text=text, similarity=0.9, kind="exchange", user_id=None,
                      conversation_id=None, meta={}, at=0.0)  # fmt: skip


def test_memory_search_lists_what_memory_recalls(stand_in: Any) -> None:
    memory = stand_in(MEMORY_NAME, lambda _: Memories(items=[memory_item("Roses need sun.")]))
    assert search_memory(CONTEXT, "roses") == "- Roses need sun."
    recall = memory.proxy().asked.get()[0]
    assert isinstance(recall, Recall) and recall.query == "roses"


def test_memory_search_says_clearly_when_memory_is_down_or_failing(stand_in: Any) -> None:
    assert supervisors.whereis(MEMORY_NAME) is None
    assert "Memory is not running" in search_memory(CONTEXT, "roses")
    stand_in(MEMORY_NAME, lambda _: Memories(items=[], error="the index is rebuilding"))
    assert "the index is rebuilding" in search_memory(CONTEXT, "roses")


def test_history_reads_the_runs_conversation_oldest_first(stand_in: Any) -> None:
    rows = Rows(table="turns", columns=["turn_id", "user_text", "reply_text"],
                rows=[["2", "And tomorrow?", "Rain."], ["1", "Weather?", "Sunny."]])  # fmt: skip
    store = stand_in(STORE_NAME, lambda _: rows)
    text = conversation_history(CONTEXT, turns=2)
    assert text == "User: Weather?\nAssistant: Sunny.\nUser: And tomorrow?\nAssistant: Rain."
    request = store.proxy().asked.get()[0]
    assert request == ReadRows(table="turns", equals={"conversation_id": "conv-7"}, limit=2)


def test_history_says_when_the_store_is_down_or_failing(stand_in: Any) -> None:
    assert "store is not running" in conversation_history(CONTEXT)
    stand_in(STORE_NAME, lambda _: StoreFailure(message="database is locked"))
    assert "database is locked" in conversation_history(CONTEXT)


# -- workflow files --------------------------------------------------------------------------


def test_the_shipped_workflows_load() -> None:
    catalog = load_workflows(REPO_ROOT / "config" / "workflows", toolbox())
    assert catalog.problems == {}
    assert {"plan", "research", "critique"} <= set(catalog.workflows)
    plan = catalog.workflows["plan"]
    assert [task.agent for task in plan.tasks] == ["planner", "critic", "planner"]
    assert catalog.workflows["research"].prefetched_tools() == ["memory_search"]
    assert catalog.workflows["research"].tools_used() == {"memory_search", "conversation_history"}


def test_the_example_workflow_in_the_docs_loads(tmp_path: Path) -> None:
    """docs/agents.md's TOML example is what a newcomer copies: it must be valid."""
    text = (REPO_ROOT / "docs" / "agents.md").read_text()
    example = text.split("```toml\n", 1)[1].split("```", 1)[0]
    (tmp_path / "trip.toml").write_text(example)
    catalog = load_workflows(tmp_path, toolbox())
    assert catalog.problems == {}
    trip = catalog.workflows["trip"]
    assert [task.name for task in trip.tasks] == ["itinerary", "budget"]
    assert trip.tools_used() == {"calculator", "memory_search", "current_datetime"}


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("tasks = [", "not valid TOML"),
        ('description = "x"\nagents = {}\ntasks = []', "declare at least one agent"),
        (workflow_toml(1).replace('agent = "worker"', 'agent = "ghost"'), "unknown agent 'ghost'"),
        (workflow_toml(1, tools=("shell",)), "unknown tool 'shell'"),
        (workflow_toml(1, description="Use {secret}"), "placeholder {secret}"),
        (workflow_toml(1, description="Use {input"), "stray brace"),
        (workflow_toml(1) + "colour = 'blue'\n", "unknown field"),
        (workflow_toml(1).replace("process", "x") + 'process = "parallel"\n', "process"),
        (workflow_toml(1).replace('agent = "worker"\n', ""), "needs an agent"),
    ],
)
def test_a_broken_workflow_file_is_reported_and_the_others_load(
    tmp_path: Path, text: str, problem: str
) -> None:
    (tmp_path / "good.toml").write_text(workflow_toml(1))
    (tmp_path / "bad.toml").write_text(text)
    catalog = load_workflows(tmp_path, toolbox())
    assert list(catalog.workflows) == ["good"]
    assert "bad.toml" in catalog.problems["bad"] and problem in catalog.problems["bad"]


def test_a_missing_folder_and_clashing_triggers_are_reported(tmp_path: Path) -> None:
    assert "no workflow folder" in load_workflows(tmp_path / "nowhere", toolbox()).problems["*"]
    (tmp_path / "a.toml").write_text('triggers = ["go"]\n' + workflow_toml(1))
    (tmp_path / "b.toml").write_text('triggers = ["Go"]\n' + workflow_toml(1))
    catalog = load_workflows(tmp_path, toolbox())
    assert list(catalog.workflows) == ["a"] and "trigger 'go'" in catalog.problems["b"]


def test_turns_that_start_with_a_trigger_are_routed() -> None:
    catalog = load_workflows(REPO_ROOT / "config" / "workflows", toolbox())
    router = IntentRouter(catalog.workflows.values())
    assert router.route("Plan my Saturday.") == ("plan", "my Saturday.")
    assert router.route("research: the garden") == ("research", "the garden")
    assert router.route("critique this: hello") == ("critique", "this: hello")
    assert router.route("plan") is None  # nothing to plan: an ordinary turn
    assert router.route("What is the plan?") is None
