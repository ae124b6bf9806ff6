"""The agents actor: runs workflows with CrewAI, one worker thread per run.

Messages in (see solo_actors/messages.py, "agents"): `RunWorkflow` (ask -> `RunAccepted` or
`AgentsError`; as a tell from the dialogue actor it carries the user's turn), `GetRun`,
`CancelRun`, `ListWorkflows`, `ListRuns`. Out, to a run's ``reply_to`` and to the events hub
(topic "agents", what the API's /events and /ws carry): `RunProgress` per step, then the
final `WorkflowRun`; for a turn, the answer as `LLMToken`, `LLMDone` and `TurnDone`.

The actor's own thread never runs a crew: each run gets a worker thread (owned by the actor,
joined when the run ends) and an inbox (``supervisors.inbox``) for the run's llm replies, so the
actor always answers status and cancel messages at once. Runs beyond
``agents.max_parallel_runs`` wait in a queue. A run stops on cancel, on its wall-clock
``timeout`` (a timer here), or on ``max_steps``/``max_tokens`` (checked by its
`RunControl`); it then ends with what its finished steps produced.

Failures (docs/agents.md): an exception inside a crew (a tool, CrewAI, the llm refusing)
ends that run as "failed" with the error, and the actor carries on; a run's thread dying of
a BaseException that is not an Exception (SystemExit, KeyboardInterrupt ...) is beyond a
run's remit, so the actor crashes with it and its supervisor restarts it.
"""

from __future__ import annotations

import importlib
import threading
from collections import OrderedDict, deque
from dataclasses import dataclass
from typing import Any

import msgspec

import supervisors
from solo_actors.agents import offline
from solo_actors.agents.control import RunControl, RunStopped, StepState
from solo_actors.agents.tools import ToolContext, ToolSpec, toolbox
from solo_actors.agents.workflows import WorkflowSpec, configured_workflows
from solo_actors.config import Config
from solo_actors.messages import (
    AgentsError,
    CancelRun,
    GetRun,
    ListRuns,
    ListWorkflows,
    LLMDone,
    LLMToken,
    Message,
    RecordEvent,
    RunAccepted,
    RunProgress,
    Runs,
    RunWorkflow,
    TurnDone,
    WorkflowRun,
    Workflows,
)
from solo_actors.names import AGENTS_NAME, LLM_NAME, STORE_NAME
from solo_actors.runtime.clock import now
from solo_actors.runtime.events import HUB
from solo_actors.runtime.ids import new_id
from solo_actors.runtime.logs import get_logger
from solo_actors.runtime.specs import worker_spec

CREW_MODULE = "solo_actors.agents.crew"
MAX_INPUT_CHARS = 4_000
LIMIT_SENTENCES = {
    "timeout": "I ran out of time",
    "max_steps": "I reached the step limit",
    "max_tokens": "I reached the length limit",
}


class RunBegan(Message, frozen=True):
    """Internal: a run's crew is built (crewai imported); its timeout starts now."""

    run_id: str


class RunDeadline(Message, frozen=True):
    """Internal timer: a run's wall-clock time is up."""

    run_id: str


class RunEnded(Message, frozen=True):
    """Internal: a run's worker has finished (``error``: the exception it ended with)."""

    run_id: str
    error: str | None = None


@dataclass(frozen=True)
class RunCrashed:
    """Internal: a run's worker died of a BaseException that is not an Exception."""

    run_id: str
    error: BaseException


class CrewCrashed(RuntimeError):
    """The actor's exit reason when a run's thread died of something beyond a run."""


@dataclass
class Run:
    control: RunControl
    workflow: WorkflowSpec
    request: RunWorkflow
    context: ToolContext
    worker: threading.Thread | None = None


def child_spec(config: Config, name: str = AGENTS_NAME) -> supervisors.ChildSpec:
    """How a supervisor starts the agents actor, registered as ``name``."""
    return worker_spec(config, name, AgentsActor, name)


def import_crew() -> Any:
    """The crewai bridge module; the first import (seconds) happens here, off the actor."""
    return importlib.import_module(CREW_MODULE)


class AgentsActor(supervisors.SupervisedActor):
    """Runs workflows on request; see the module docstring."""

    def __init__(
        self,
        config: Config,
        name: str = AGENTS_NAME,
        *,
        llm_name: str = LLM_NAME,
        extra_tools: tuple[ToolSpec, ...] = (),
    ) -> None:
        super().__init__()
        self.config = config
        self.settings = config.agents
        self.name = name
        self.llm_name = llm_name
        self.log = get_logger(f"solo/{name}")
        self.tools = toolbox(extra_tools, config.mcp)
        self.runs: OrderedDict[str, Run] = OrderedDict()
        self.queued: deque[str] = deque()
        self.active: dict[str, Run] = {}
        self.counts = dict.fromkeys(("runs", "done", "failed", "stopped", "refused"), 0)

    # -- lifecycle -----------------------------------------------------------------------

    def on_start(self) -> None:
        catalog = configured_workflows(self.settings, self.tools)
        self.workflows, self.problems = catalog.workflows, catalog.problems
        for name, problem in self.problems.items():
            self.log.error("workflow not loaded", workflow=name, problem=problem)
        offline.use_storage(self.config.solo.var_path("crewai"))
        # Importing crewai costs ~9 s of CPU, and holds the GIL for most of it: every other
        # actor (a voice turn's tokens) slows down meanwhile. So by default the first run's
        # worker imports it; `preload` does it on a thread of its own right after start.
        self.warmup: threading.Thread | None = None
        if self.settings.preload:
            self.warmup = threading.Thread(target=self._warm_up, name=f"{self.name}-warmup")
            self.warmup.start()
        self._publish()

    def _warm_up(self) -> None:
        try:
            import_crew()
        except Exception as error:
            # Runs will fail with the same error when they import it; say it once here.
            self.log.error("crewai could not be imported", error=repr(error))

    def on_stop(self) -> None:
        self._abandon_runs("the agents actor stopped")

    def on_failure(self, *exc_info: Any) -> None:
        self._abandon_runs("the agents actor crashed and is restarting")

    def _abandon_runs(self, why: str) -> None:
        for run in list(self.active.values()):
            run.control.stop("cancelled", why)
        grace = self.config.supervisor.shutdown_timeout / 2
        for run in list(self.active.values()):
            if run.worker is not None:
                run.worker.join(grace)
            if run.worker is not None and run.worker.is_alive():
                # A thread can't be killed; this one ends at its next llm call or tool.
                self.log.warning("run thread still busy at stop", run_id=run.control.run_id)
            self._close_channel(run)
        for run_id in self.queued:
            self.runs[run_id].control.stop("cancelled", why)
            self.runs[run_id].control.end(None)
        if self.warmup is not None:
            self.warmup.join(grace)

    # -- messages ------------------------------------------------------------------------

    def on_receive(self, message: Any) -> Any:
        match message:
            case RunWorkflow():
                return self.start_run(message)
            case GetRun(run_id=run_id):
                run = self.runs.get(run_id)
                return self._unknown_run(run_id) if run is None else run.control.snapshot()
            case CancelRun(run_id=run_id):
                return self.cancel(run_id)
            case ListWorkflows():
                items = [workflow.info() for workflow in self.workflows.values()]
                return Workflows(items=items, problems=self.problems)
            case ListRuns(limit=limit):
                newest = list(self.runs.values())[-limit:] if limit > 0 else []
                return Runs(items=[run.control.snapshot() for run in reversed(newest)])
            case RunBegan(run_id=run_id):
                self.send_after(self.settings.timeout, RunDeadline(run_id=run_id))
            case RunDeadline(run_id=run_id) if run_id in self.active:
                seconds = self.settings.timeout
                self.active[run_id].control.stop(
                    "timeout", f"the run took longer than agents.timeout ({seconds:g} s)"
                )
            case RunEnded(run_id=run_id, error=error):
                self.finish(run_id, error)
            case RunCrashed(run_id=run_id, error=error):
                self.finish(run_id, f"{type(error).__name__}: {error}")
                kind = type(error).__name__
                raise CrewCrashed(f"run {run_id}'s thread died of {kind}") from error
        return None

    def start_run(self, request: RunWorkflow) -> RunAccepted | AgentsError:
        refusal = self._refusal(request)
        if refusal is not None:
            self.counts["refused"] += 1
            self.log.warning("run refused", workflow=request.workflow, problem=refusal.message)
            if request.turn is not None:
                self._answer_turn(request, refusal.message, error=refusal.message)
            return refusal
        workflow = self.workflows[request.workflow]
        run_id = new_id()
        control = RunControl(
            run_id=run_id,
            workflow=workflow.name,
            input=request.input.strip(),
            steps=[
                StepState(index=index, task=task.name, agent=task.agent or "manager")
                for index, task in enumerate(workflow.tasks)
            ],
            llm_name=self.llm_name,
            channel=f"{self.name}-run-{run_id}",
            max_tokens=self.settings.max_tokens,
        )
        context = ToolContext(
            input=control.input,
            conversation_id=request.conversation_id,
            timeout=self.settings.tool_timeout,
        )
        self.runs[run_id] = Run(control, workflow, request, context)
        self.queued.append(run_id)
        self.counts["runs"] += 1
        self._launch_queued()
        self._forget_old_runs()
        self._publish()
        return RunAccepted(run_id=run_id, workflow=workflow.name, steps=len(workflow.tasks))

    def _refusal(self, request: RunWorkflow) -> AgentsError | None:
        if request.workflow in self.problems:
            problem = self.problems[request.workflow]
            return AgentsError(message=f"workflow {request.workflow!r} is broken: {problem}")
        if request.workflow not in self.workflows:
            known = ", ".join(sorted(self.workflows)) or "none"
            return AgentsError(
                message=f"unknown workflow {request.workflow!r}; known: {known} "
                f"(solo agents list; add one in {self.settings.workflows_dir})"
            )
        if not request.input.strip():
            return AgentsError(
                message=f"empty input: say what the {request.workflow} workflow should work on, "
                f'e.g. solo agents run {request.workflow} "my Saturday"'
            )
        if len(request.input) > MAX_INPUT_CHARS:
            return AgentsError(
                message=f"input is {len(request.input)} characters; the limit is {MAX_INPUT_CHARS}"
            )
        return None

    def cancel(self, run_id: str) -> WorkflowRun | AgentsError:
        run = self.runs.get(run_id)
        if run is None:
            return self._unknown_run(run_id)
        run.control.stop("cancelled", "cancelled on request")
        if run_id in self.queued:
            self.queued.remove(run_id)
            run.control.end(None)
            self._report(run)
        return run.control.snapshot()

    def _unknown_run(self, run_id: str) -> AgentsError:
        return AgentsError(
            message=f"no run {run_id!r}: the id is wrong or the run is older than the "
            f"{self.settings.runs_kept} kept (agents.runs_kept)"
        )

    # -- running -------------------------------------------------------------------------

    def _launch_queued(self) -> None:
        while self.queued and len(self.active) < self.settings.max_parallel_runs:
            run = self.runs[self.queued.popleft()]
            run.control.open_channel()
            run.worker = threading.Thread(
                target=self._work, args=(run,), name=f"{self.name}-run-{run.control.run_id}"
            )
            self.active[run.control.run_id] = run
            run.worker.start()

    def _work(self, run: Run) -> None:
        """A run's worker thread: build and run the crew, then tell the actor it ended."""
        control = run.control
        ending: Message | RunCrashed
        try:
            crew = import_crew()
            self.actor_ref.tell(RunBegan(run_id=control.run_id))
            first = control.begin()
            if first is not None:
                self._progress(run, first)
            crew.run_workflow(
                run.workflow,
                control,
                self.settings,
                self.tools,
                run.context,
                (self.config.llm.served_model, self.config.llm.n_ctx),
                lambda output: self._step_done(run, output.raw),
            )
            ending = RunEnded(run_id=control.run_id)
        except RunStopped:
            ending = RunEnded(run_id=control.run_id)
        except Exception as error:
            # CrewAI may wrap our stop in its own exception; the control knows if it was one.
            ending = RunEnded(run_id=control.run_id, error=f"{type(error).__name__}: {error}")
        except BaseException as error:
            ending = RunCrashed(run_id=control.run_id, error=error)
        # If the actor is gone, its on_stop/on_failure has abandoned this run already.
        # A run's ending is never dropped as busy: only a dead actor loses it.
        supervisors.cast(self.actor_ref, ending)

    def _step_done(self, run: Run, output: str) -> None:
        """CrewAI's task_callback (on a CrewAI thread): a step finished."""
        control = run.control
        self._progress(run, control.finish_step(output))
        done, left = control.done_steps(), len(control.steps) - control.done_steps()
        if left and done >= self.settings.max_steps:
            control.stop(
                "max_steps",
                f"the run reached agents.max_steps ({self.settings.max_steps}) "
                f"with {left} step(s) left",
            )
            return
        following = control.start_next_step()
        if following is not None:
            self._progress(run, following)

    def _progress(self, run: Run, step: StepState) -> None:
        result = step.result()
        progress = RunProgress(
            run_id=run.control.run_id,
            workflow=run.workflow.name,
            step=step.index + 1,
            steps=len(run.control.steps),
            task=step.task,
            agent=step.agent,
            status=result.status,
            output=result.output,
            seconds=result.seconds,
        )
        HUB.publish(progress)  # live views (the API's /events); never blocks
        if run.request.reply_to is not None:
            self._tell(run.request.reply_to, progress)

    def finish(self, run_id: str, error: str | None) -> None:
        run = self.active.pop(run_id, None)
        if run is None:
            return
        run.control.end(error)
        if run.worker is not None:
            run.worker.join()  # it told us it ended: this returns at once
        self._close_channel(run)
        self._report(run)
        self._launch_queued()
        self._publish()

    def _close_channel(self, run: Run) -> None:
        run.control.close_channel()

    def _report(self, run: Run) -> None:
        """Tell everyone who should know that a run ended."""
        final = run.control.snapshot()
        self.counts[final.status if final.status in ("done", "failed") else "stopped"] += 1
        log = self.log.warning if final.error else self.log.info
        log(
            "run ended",
            run_id=final.run_id,
            workflow=final.workflow,
            status=final.status,
            seconds=round(final.seconds, 2),
            llm_seconds=round(final.llm_seconds, 2),
            error=final.error,
        )
        HUB.publish(final)
        if run.request.reply_to is not None:
            self._tell(run.request.reply_to, final)
        if run.request.turn is not None:
            self._answer_turn(run.request, spoken_result(final, self.config), error=final.error)
        self._tell(
            STORE_NAME,
            RecordEvent(
                kind="agents.run",
                source=self.name,
                data={
                    "run_id": final.run_id,
                    "workflow": final.workflow,
                    "status": final.status,
                    "steps_done": sum(step.status == "done" for step in final.steps),
                    "steps": len(final.steps),
                    "seconds": round(final.seconds, 3),
                    "llm_seconds": round(final.llm_seconds, 3),
                    "completion_tokens": final.completion_tokens,
                    "error": final.error,
                },
            ),
        )

    def _answer_turn(self, request: RunWorkflow, text: str, *, error: str | None) -> None:
        """Answer a routed user turn like the dialogue actor answers one: the text as one
        token, `LLMDone`, then `TurnDone`."""
        turn = request.turn
        assert turn is not None
        if turn.reply_to is not None:
            self._tell(
                turn.reply_to,
                LLMToken(request_id=turn.turn_id, text=text, index=0, turn_id=turn.turn_id),
            )
            self._tell(
                turn.reply_to,
                LLMDone.whole_text(turn.turn_id, text, turn_id=turn.turn_id, times=turn.times),
            )
            done = TurnDone(
                turn_id=turn.turn_id,
                conversation_id=turn.conversation_id,
                source=turn.source,
                text=turn.text,
                reply=text,
                times=msgspec.structs.replace(turn.times, done=now()),
                model=f"agents:{request.workflow}",
                error=error,
            )
            self._tell(turn.reply_to, done)

    def _tell(self, name: str, message: Message) -> None:
        outcome = supervisors.cast(name, message)
        if outcome != "ok":
            self.log.debug("not delivered", name=name, message=type(message).__name__, why=outcome)

    def _forget_old_runs(self) -> None:
        finished = [run_id for run_id, run in self.runs.items() if run.control.finished]
        for run_id in finished[: max(0, len(finished) - self.settings.runs_kept)]:
            del self.runs[run_id]

    def _publish(self) -> None:
        self.publish_figures(
            workflows=len(self.workflows),
            broken_workflows=len(self.problems),
            running=len(self.active),
            queued=len(self.queued),
            **self.counts,
        )


def spoken_result(run: WorkflowRun, config: Config) -> str:
    """What the user hears for a run started by a turn."""
    if run.status == "done":
        return run.result
    if run.status == "failed":
        return config.dialogue.error_reply
    if run.status == "cancelled":
        return f"I stopped the {run.workflow} run."
    sentence = LIMIT_SENTENCES[run.status]
    if not run.result:
        return f"{sentence} before the {run.workflow} workflow finished its first step."
    return f"{sentence}, so this is unfinished: {run.result}"
