"""Benchmark a `plan` run of the agents actor on the default model, against the same work
sent straight to the llm actor, in one process. Prints one JSON object.

* ``crew``: one ``plan`` run through the agents actor (CrewAI, `SoloLLM`, the llm actor):
  wall time, each step's time, llm calls and tokens, and the share of the wall time spent
  waiting for the llm actor (its queue + generation, measured by the run itself).
* ``direct``: the same three steps as bare `LLMRequest` asks to the llm actor, each prompt
  the step's task text with the previous output appended, same ``max_tokens``; what the
  model alone costs for a comparable amount of text. ``crew_overhead_seconds`` is the
  crew's wall time outside the llm (CrewAI's prompt building, parsing, callbacks).

The response cache is off (a repeated greedy request would otherwise be replayed) and the
crewai import is done before the clock starts. ``load_average`` (1-minute, at the start and
at the end) is recorded because the machine is shared: compare runs only at similar load.

Usage: python bench/bench_agents.py [--model ID] [--threads N] [--step-max-tokens N]
                                    [--input TEXT]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import supervisors
from solo_actors.agents.actor import child_spec as agents_spec
from solo_actors.agents.actor import import_crew
from solo_actors.config import Config, load_config
from solo_actors.dialogue import TurnCollector, TurnWaiter
from solo_actors.llm import child_spec as llm_spec
from solo_actors.messages import LLMDone, LLMRequest, Message, RunWorkflow, WorkflowRun
from solo_actors.runtime.logs import configure_logging

DEFAULT_INPUT = "a relaxed Saturday with a morning run, groceries and dinner with friends"


def settings(args: argparse.Namespace, var_dir: Path) -> Config:
    environ = {
        "SOLO__SOLO__VAR_DIR": str(var_dir),
        "SOLO__LLM__CACHE": "false",
        "SOLO__LLM__N_THREADS": str(args.threads),
        "SOLO__AGENTS__STEP_MAX_TOKENS": str(args.step_max_tokens),
        # A benchmark measures; it doesn't give up on a slow (busy) machine.
        "SOLO__AGENTS__LLM_CALL_TIMEOUT": "1800",
        "SOLO__AGENTS__TIMEOUT": "3600",
        "SOLO__LOG__LEVEL": "warning",
    }
    if args.model:
        environ["SOLO__LLM__MODEL"] = args.model
    return load_config("headless", environ=environ)


def crew_run(text: str) -> WorkflowRun:
    finished = threading.Event()
    final: list[WorkflowRun] = []

    def on_message(message: Message) -> None:
        if isinstance(message, WorkflowRun):
            final.append(message)
            finished.set()

    name = "bench-agents-listener"
    collector = TurnCollector.start(TurnWaiter(), on_message)
    supervisors.default_registry.register(name, collector)
    try:
        request = RunWorkflow(workflow="plan", input=text, reply_to=name)
        supervisors.ask("agents", request, timeout=10)
        if not finished.wait(1800):
            raise TimeoutError("the plan run did not finish within 30 minutes")
    finally:
        supervisors.default_registry.unregister(name, collector)
        collector.stop()
    return final[0]


def direct_run(run: WorkflowRun, config: Config) -> list[dict[str, float | int]]:
    """The plan's steps as bare asks to the llm actor (each sees the previous output)."""
    from solo_actors.agents.tools import toolbox
    from solo_actors.agents.workflows import configured_workflows

    workflow = configured_workflows(config.agents, toolbox()).workflows["plan"]
    previous, steps = "", []
    for task in workflow.tasks:
        prompt = task.description.replace("{input}", run.input).replace(
            "{current_datetime}", "Saturday"
        )
        if previous:
            prompt += f"\n\nPrevious step:\n{previous}"
        started = time.perf_counter()
        done = supervisors.ask(
            "llm",
            LLMRequest(prompt=prompt, max_tokens=config.agents.step_max_tokens),
            timeout=600,
        )
        assert isinstance(done, LLMDone), done
        steps.append(
            {
                "seconds": round(time.perf_counter() - started, 3),
                "prompt_tokens": done.prompt_tokens,
                "completion_tokens": done.completion_tokens,
            }
        )
        previous = done.text
    return steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="", help="catalog id (default: the config's)")
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="llama.cpp threads (0 = one per core; 1 is "
        "faster on a busy shared machine, see docs/agents.md)",
    )
    parser.add_argument("--step-max-tokens", type=int, default=256)
    parser.add_argument("--input", default=DEFAULT_INPUT)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-agents-") as var_dir:
        config = settings(args, Path(var_dir))
        configure_logging(config.log)  # warnings only: stdout is the JSON
        import_started = time.perf_counter()
        import_crew()
        import_seconds = time.perf_counter() - import_started
        tree = supervisors.start_supervisor(
            supervisors.SupFlags(intensity=1, period=5),
            [llm_spec(config), agents_spec(config)],
            name="bench-agents",
        )
        try:
            load = os.getloadavg()[0]
            run = crew_run(args.input)
            direct = direct_run(run, config)
            load_end = os.getloadavg()[0]
        finally:
            tree.stop()
    direct_seconds = sum(step["seconds"] for step in direct)
    print(
        json.dumps(
            {
                "benchmark": "agents plan run",
                "model": config.llm.model,
                "llm_threads": args.threads,
                "step_max_tokens": args.step_max_tokens,
                "cpus": os.cpu_count(),
                "load_average": round(load, 2),
                "load_average_end": round(load_end, 2),
                "python": platform.python_version(),
                "crewai_import_seconds": round(import_seconds, 2),
                "crew": {
                    "status": run.status,
                    "seconds": round(run.seconds, 3),
                    "llm_seconds": round(run.llm_seconds, 3),
                    "llm_share": round(run.llm_seconds / run.seconds, 4) if run.seconds else 0,
                    "crew_overhead_seconds": round(run.seconds - run.llm_seconds, 3),
                    "llm_calls": run.llm_calls,
                    "completion_tokens": run.completion_tokens,
                    "steps": [
                        {
                            "task": step.task,
                            "agent": step.agent,
                            "seconds": round(step.seconds, 3),
                            "llm_seconds": round(step.llm_seconds, 3),
                            "llm_calls": step.llm_calls,
                            "completion_tokens": step.completion_tokens,
                            "output_chars": len(step.output),
                        }
                        for step in run.steps
                    ],
                    "error": run.error,
                },
                "direct": {"seconds": round(direct_seconds, 3), "steps": direct},
                "crew_vs_direct": round(run.seconds / direct_seconds, 3)
                if direct_seconds
                else None,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
