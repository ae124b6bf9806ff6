"""Workflows as data: one TOML file per workflow, decoded and checked before any run.

A workflow names its agents (role, goal, backstory, tools) and its tasks (description,
expected output, agent), and how CrewAI runs them: ``sequential`` (each task in order, each
seeing the previous outputs) or ``hierarchical`` (a manager agent on the same llm delegates).
Descriptions may use ``{input}`` (the run's input) and ``{<tool name>}``: that tool is called
with the input before the crew starts and its answer is put there, which gives even a small
model the data without it having to drive a tool call. See docs/agents.md for an example.

Loading never imports CrewAI, so the dialogue actor can read the triggers cheaply, and every
mistake (bad TOML, an unknown agent, tool or placeholder) is a `WorkflowError` naming the
file and what to change.
"""

from __future__ import annotations

import re
import string
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import msgspec

from solo_actors.agents.tools import ToolSpec
from solo_actors.config import REPO_ROOT
from solo_actors.config.schema import AgentsConfig
from solo_actors.messages import WorkflowInfo

NAME = re.compile(r"^[a-z][a-z0-9_-]*$")
INPUT_FIELD = "input"


class WorkflowError(ValueError):
    """A workflow file that can't be used; the message names the file and the fix."""


class Spec(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """Base of the workflow file's tables: strict about keys, so a typo is an error."""


class AgentSpec(Spec, frozen=True, kw_only=True):
    role: str
    goal: str
    backstory: str
    tools: list[str] = []


class TaskSpec(Spec, frozen=True, kw_only=True):
    name: str
    description: str
    expected_output: str
    agent: str | None = None
    """Required in a sequential workflow; a hierarchical one's manager may choose instead."""


class WorkflowSpec(Spec, frozen=True, kw_only=True):
    name: str = ""
    """The file's stem; set by the loader."""
    description: str
    process: Literal["sequential", "hierarchical"] = "sequential"
    triggers: list[str] = []
    """First words of a user turn that run this workflow on the rest of the turn."""
    agents: dict[str, AgentSpec]
    tasks: list[TaskSpec]

    def placeholders(self) -> set[str]:
        """Every ``{field}`` used in the tasks' texts."""
        return {
            field
            for task in self.tasks
            for text in (task.description, task.expected_output)
            for _, field, _, _ in string.Formatter().parse(text)
            if field
        }

    def prefetched_tools(self) -> list[str]:
        """Tools whose answers fill placeholders, called before the crew starts."""
        return sorted(self.placeholders() - {INPUT_FIELD})

    def tools_used(self) -> set[str]:
        """Every tool a run may call: the agents' tools and the placeholders'."""
        return {tool for agent in self.agents.values() for tool in agent.tools} | set(
            self.prefetched_tools()
        )

    def info(self) -> WorkflowInfo:
        return WorkflowInfo(
            name=self.name,
            description=self.description,
            process=self.process,
            agents=list(self.agents),
            tasks=[task.name for task in self.tasks],
            triggers=self.triggers,
        )


@dataclass(frozen=True)
class Catalog:
    """The workflows that loaded, and what is wrong with those that didn't (by name)."""

    workflows: dict[str, WorkflowSpec]
    problems: dict[str, str]


def configured_workflows(settings: AgentsConfig, tools: Mapping[str, ToolSpec]) -> Catalog:
    """The workflows in ``agents.workflows_dir`` (relative to the repo)."""
    return load_workflows(REPO_ROOT / settings.workflows_dir, tools)


def load_workflows(directory: Path, tools: Mapping[str, ToolSpec]) -> Catalog:
    """Every ``*.toml`` workflow in ``directory``, each checked against ``tools``.

    A broken file doesn't stop the others: its problem is kept under its name, so asking
    for that workflow says what is wrong, and the assistant keeps running.
    """
    if not directory.is_dir():
        problem = f"no workflow folder {directory}: create it or fix agents.workflows_dir"
        return Catalog({}, {"*": problem})
    workflows: dict[str, WorkflowSpec] = {}
    problems: dict[str, str] = {}
    for path in sorted(directory.glob("*.toml")):
        try:
            workflows[path.stem] = load_workflow(path, tools)
        except WorkflowError as error:
            problems[path.stem] = str(error)
    if not workflows and not problems:
        problems["*"] = f"no workflow files (*.toml) in {directory}: add one (docs/agents.md)"
    for name, problem in trigger_clashes(workflows.values()).items():
        problems[name] = problem
        workflows.pop(name, None)
    return Catalog(workflows, problems)


def load_workflow(path: Path, tools: Mapping[str, ToolSpec]) -> WorkflowSpec:
    name = path.stem
    if not NAME.match(name):
        raise WorkflowError(
            f"{path}: workflow names (file names) are lower-case letters, digits, - and _"
        )
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as error:
        raise WorkflowError(f"{path}: can't read it: {error}") from None
    except tomllib.TOMLDecodeError as error:
        raise WorkflowError(f"{path}: not valid TOML: {error}") from None
    try:
        workflow = msgspec.convert(data, WorkflowSpec)
    except msgspec.ValidationError as error:
        raise WorkflowError(f"{path}: {error}") from None
    workflow = msgspec.structs.replace(workflow, name=name)
    problems = list(problems_in(workflow, tools))
    if problems:
        raise WorkflowError(f"{path}: " + "; ".join(problems))
    return workflow


def problems_in(workflow: WorkflowSpec, tools: Mapping[str, ToolSpec]) -> Iterable[str]:
    """What is wrong with a decoded workflow, each with the fix."""
    known_tools = ", ".join(sorted(tools))
    if not workflow.agents:
        yield "declare at least one agent ([agents.<name>] with role, goal, backstory)"
    if not workflow.tasks:
        yield "declare at least one task ([[tasks]] with name, description, expected_output)"
    for agent_name, agent in workflow.agents.items():
        for text, what in ((agent.role, "role"), (agent.goal, "goal")):
            if not text.strip():
                yield f"agent {agent_name!r} has an empty {what}"
        for tool in agent.tools:
            if tool not in tools:
                yield f"agent {agent_name!r} uses unknown tool {tool!r} (known: {known_tools})"
    seen: set[str] = set()
    for task in workflow.tasks:
        if task.name in seen:
            yield f"two tasks are named {task.name!r}; task names must differ"
        seen.add(task.name)
        if task.agent is None and workflow.process == "sequential":
            yield f"task {task.name!r} needs an agent (a sequential workflow has no manager)"
        if task.agent is not None and task.agent not in workflow.agents:
            yield (
                f"task {task.name!r} names unknown agent {task.agent!r} "
                f"(declared: {', '.join(workflow.agents) or 'none'})"
            )
        if not task.description.strip() or not task.expected_output.strip():
            yield f"task {task.name!r} needs a description and an expected_output"
    try:
        unknown = sorted(workflow.placeholders() - {INPUT_FIELD, *tools})
    except ValueError as error:  # a lone "{" or "}" in a text
        yield f"a task text has a stray brace ({error}); write {{{{ and }}}} for literal braces"
        return
    for field in unknown:
        yield f"placeholder {{{field}}} is neither {{input}} nor a tool (known: {known_tools})"


def trigger_clashes(workflows: Iterable[WorkflowSpec]) -> dict[str, str]:
    """Workflows whose trigger another (earlier) workflow already has, with the problem."""
    owners: dict[str, str] = {}
    clashes: dict[str, str] = {}
    for workflow in workflows:
        for trigger in workflow.triggers:
            word = trigger.lower()
            if word in owners:
                clashes[workflow.name] = (
                    f"trigger {word!r} is used by workflows {owners[word]!r} and "
                    f"{workflow.name!r}; give each trigger to one workflow"
                )
            else:
                owners[word] = workflow.name
    return clashes


class IntentRouter:
    """Which workflow, if any, a user's turn asks for: its first word is a trigger."""

    def __init__(self, workflows: Iterable[WorkflowSpec]) -> None:
        self.triggers = {
            trigger.lower(): workflow.name
            for workflow in workflows
            for trigger in workflow.triggers
        }

    def route(self, text: str) -> tuple[str, str] | None:
        """``(workflow, input)`` for a turn such as "Plan my Saturday.", else None.

        The input is the rest of the turn; a trigger said alone has nothing to work on and
        stays an ordinary turn.
        """
        words = text.strip().split(maxsplit=1)
        if len(words) < 2:
            return None
        first = words[0].strip(string.punctuation).lower()
        workflow = self.triggers.get(first)
        if workflow is None:
            return None
        return workflow, words[1].strip()
