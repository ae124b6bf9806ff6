"""``solo agents``: list the configured workflows and run one from a terminal.

``solo agents list [--json]`` reads the workflow files (no model is loaded) and says which
ones are broken and why. ``solo agents run WORKFLOW INPUT... [--json]`` starts, under a small
supervisor of its own (as ``solo chat`` does), the llm and agents actors and the actors the
workflow's tools ask (`ToolSpec.needs`: memory for ``memory_search``, the store for
``conversation_history``), from the assistant's own child specs (`solo_actors.runtime.tree`). It
prints each step as it starts and ends (to stderr, live), then the result (``--json``: the
final `WorkflowRun`); Ctrl-C cancels the run and prints what it has. A store or memory that
can't start (the running assistant holds its files) is reported and left out: the tools that
need it then tell the agents so. Exit codes: 0 done, 1 the run did not finish (failed, a
limit, cancelled), 2 bad usage.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

import msgspec
import pykka

import supervisors
from solo_actors.agents.tools import toolbox
from solo_actors.agents.workflows import configured_workflows
from solo_actors.config import Config
from solo_actors.messages import (
    AgentsError,
    CancelRun,
    GetMemoryStatus,
    RunProgress,
    RunWorkflow,
    WorkflowRun,
)
from solo_actors.names import AGENTS_NAME, LLM_NAME, MEMORY_NAME
from solo_actors.runtime.ids import new_id
from solo_actors.runtime.logs import configure_logging
from solo_actors.runtime.tree import root_children

EXIT_OK, EXIT_UNFINISHED, EXIT_USAGE = 0, 1, 2
ASK_TIMEOUT = 10.0
MEMORY_READY_TIMEOUT = 120.0
"""Seconds to wait for memory to open its index (the embedding model loads first)."""


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    agents = subparsers.add_parser(
        "agents", parents=[common], help="CrewAI workflows: list them, run one"
    )
    commands = agents.add_subparsers(dest="agents_command", metavar="COMMAND", required=True)
    listing = commands.add_parser("list", parents=[common], help="the configured workflows")
    listing.add_argument("--json", action="store_true", help="print JSON")
    listing.set_defaults(handler=list_workflows)
    run = commands.add_parser("run", parents=[common], help="run a workflow and print its result")
    run.add_argument("workflow", help="a workflow name (solo agents list)")
    run.add_argument("input", nargs="+", help="what the workflow works on")
    run.add_argument("--json", action="store_true", help="print the final run as JSON")
    run.set_defaults(handler=run_workflow)


def list_workflows(args: argparse.Namespace, config: Config) -> int:
    catalog = configured_workflows(config.agents, toolbox(mcp=config.mcp))
    if args.json:
        items = [workflow.info() for workflow in catalog.workflows.values()]
        print(msgspec.json.encode({"workflows": items, "problems": catalog.problems}).decode())
    else:
        for workflow in catalog.workflows.values():
            tasks = " -> ".join(f"{t.name} ({t.agent or 'manager'})" for t in workflow.tasks)
            triggers = ", ".join(workflow.triggers) or "-"
            print(f"{workflow.name}: {workflow.description}")
            print(f"  {workflow.process}: {tasks}; triggers: {triggers}")
    for name, problem in catalog.problems.items():
        print(f"solo agents: {name} not loaded: {problem}", file=sys.stderr)
    return EXIT_OK


def actors_needed(config: Config, workflow: str) -> set[str]:
    """The registered names of the actors ``workflow``'s tools ask (none for an unknown
    workflow: the agents actor refuses it with the list of known ones)."""
    tools = toolbox(mcp=config.mcp)
    spec = configured_workflows(config.agents, tools).workflows.get(workflow)
    if spec is None:
        return set()
    return {name for tool in spec.tools_used() for name in tools[tool].needs}


def run_workflow(args: argparse.Namespace, config: Config) -> int:
    configure_logging(config.log)
    needed = actors_needed(config, args.workflow)
    children = root_children(config)
    try:
        tree = supervisors.start_supervisor(
            supervisors.SupFlags(
                intensity=config.supervisor.intensity, period=config.supervisor.period
            ),
            [spec for spec in children if spec.id in (LLM_NAME, AGENTS_NAME)],
            name="agents-cli",
        )
    except supervisors.StartError as error:
        print(f"solo agents: {error}", file=sys.stderr)
        return EXIT_UNFINISHED
    try:
        for spec in children:
            if spec.id in needed:
                start_helper(tree, spec)
        return follow_run(args.workflow, " ".join(args.input), as_json=args.json)
    finally:
        tree.stop()


def start_helper(tree: supervisors.SupervisorRef, spec: supervisors.ChildSpec) -> None:
    """Start an actor the tools ask (store, memory); carry on without it if it can't."""
    try:
        tree.start_child(spec)
    except supervisors.StartError as error:
        print(f"solo agents: {spec.id} could not start ({error}); the tools that need it "
              "will say so to the agents", file=sys.stderr)  # fmt: skip
        return
    if spec.id == MEMORY_NAME:
        problem = wait_memory_ready(MEMORY_READY_TIMEOUT)
        if problem is not None:
            print(f"solo agents: memory is not ready ({problem}); recalls will find nothing",
                  file=sys.stderr)  # fmt: skip


def wait_memory_ready(timeout: float) -> str | None:
    """Wait until memory has opened its index (a recall before that finds nothing)."""
    deadline = time.monotonic() + timeout
    problem = f"not ready after {timeout:g} s"
    while time.monotonic() < deadline:
        try:
            status = supervisors.ask(MEMORY_NAME, GetMemoryStatus(), timeout=ASK_TIMEOUT)
        except (pykka.Timeout, supervisors.BusyError):
            continue  # busy loading on a loaded machine: ask again until the deadline
        except supervisors.UNANSWERED as error:
            return f"it {supervisors.why_unanswered(error)}"
        if status.ready:
            return None
        problem = status.last_error or problem
        time.sleep(0.1)
    return problem


def follow_run(workflow: str, text: str, *, as_json: bool) -> int:
    """Start the run, print its progress, wait for the end (Ctrl-C cancels).

    Progress and the final run come to an inbox that monitors the agents actor, so an
    agents actor that dies mid-run is an error at once, not a wait without end.
    """
    with supervisors.inbox(f"agents-cli-{new_id()}") as box:
        box.monitor(AGENTS_NAME)
        request = RunWorkflow(workflow=workflow, input=text, reply_to=box.name)
        accepted = supervisors.ask(AGENTS_NAME, request, timeout=ASK_TIMEOUT)
        if isinstance(accepted, AgentsError):
            print(f"solo agents: {accepted.message}", file=sys.stderr)
            return EXIT_USAGE
        try:
            run = next_run_event(box)
        except KeyboardInterrupt:
            print("solo agents: cancelling ...", file=sys.stderr)
            supervisors.ask(AGENTS_NAME, CancelRun(run_id=accepted.run_id), timeout=ASK_TIMEOUT)
            run = next_run_event(box)
        except pykka.ActorDeadError as error:
            print(f"solo agents: the agents actor stopped mid-run: {error}", file=sys.stderr)
            return EXIT_UNFINISHED
    if as_json:
        print(msgspec.json.encode(run).decode())
    else:
        print(run.result)
        print(describe_end(run), file=sys.stderr)
    return EXIT_OK if run.status == "done" else EXIT_UNFINISHED


def next_run_event(box: supervisors.Inbox) -> WorkflowRun:
    """Print progress from ``box`` until the final `WorkflowRun` comes; return it."""
    while True:
        message = box.receive()
        if isinstance(message, RunProgress):
            print(describe_progress(message), file=sys.stderr, flush=True)
        elif isinstance(message, WorkflowRun):
            return message


def describe_progress(progress: RunProgress) -> str:
    """``step 2/3 critique (critic) ...`` as a step starts, ``... done in 4.2 s: <first line>``
    as it ends."""
    head = f"step {progress.step}/{progress.steps} {progress.task} ({progress.agent})"
    if progress.status == "running":
        return f"{head} ..."
    first_line = progress.output.strip().splitlines()[0] if progress.output.strip() else ""
    return f"{head} {progress.status} in {progress.seconds:.1f} s: {first_line[:100]}"


def describe_end(run: WorkflowRun) -> str:
    share = run.llm_seconds / run.seconds if run.seconds else 0.0
    done = sum(step.status == "done" for step in run.steps)
    line = (
        f"{run.workflow} {run.status}: {done}/{len(run.steps)} steps in {run.seconds:.1f} s "
        f"({share:.0%} in the llm, {run.llm_calls} calls, {run.completion_tokens} tokens)"
    )
    return line if run.error is None else f"{line}; {run.error}"
