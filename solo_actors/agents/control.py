"""`RunControl`: one run's live state, shared by the actor, the run's worker thread and the
threads CrewAI calls the model and tools on.

It is the run's single source of truth (steps, counters, why it stopped), guarded by one
condition variable, so `GetRun` reads a consistent snapshot without waiting for the worker,
and a stop (cancel, timeout, a limit, a crashed tool) wakes an llm call that is waiting for
its reply at once. It also carries the run's llm requests: each is told to the llm actor with
the run's inbox (``supervisors.inbox``, registered as `channel`) as ``reply_to``; the inbox
monitors the llm for each call, so an llm that dies fails the call at once.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pykka

import supervisors
from solo_actors.messages import (
    LLMCancel,
    LLMDone,
    LLMError,
    LLMRequest,
    Message,
    RunStatus,
    StepResult,
    StepStatus,
    ToolCall,
    WorkflowRun,
)
from solo_actors.runtime.clock import now

StopReason = RunStatus
TOOL_OUTPUT_CHARS = 2_000
"""A tool's answer is kept up to this long in a run's `ToolCall`s (the agent saw it all)."""


class RunStopped(Exception):
    """Raised inside the crew to end a run that was told to stop (its reason is on the
    `RunControl`)."""


class LLMUnavailable(RuntimeError):
    """The llm actor is down, refused the request, or never answered it."""


@dataclass
class StepState:
    """One step (task) of a run as it goes; `result` is its message form."""

    index: int
    task: str
    agent: str
    status: StepStatus = "pending"
    output: str = ""
    started: float | None = None
    ended: float | None = None
    llm_seconds: float = 0.0
    llm_calls: int = 0
    completion_tokens: int = 0

    def result(self) -> StepResult:
        end = self.ended if self.ended is not None else now()
        return StepResult(
            index=self.index,
            task=self.task,
            agent=self.agent,
            status=self.status,
            output=self.output,
            started=self.started,
            seconds=0.0 if self.started is None else end - self.started,
            llm_seconds=self.llm_seconds,
            llm_calls=self.llm_calls,
            completion_tokens=self.completion_tokens,
        )


@dataclass
class RunControl:
    """One run's state and its stop switch; every method is safe from any thread."""

    run_id: str
    workflow: str
    input: str
    steps: list[StepState]
    llm_name: str
    channel: str
    """The registered name of the run's inbox: the ``reply_to`` of its llm requests."""
    max_tokens: int
    created: float = field(default_factory=now)
    started: float | None = None
    finished: float | None = None
    stop_reason: StopReason | None = None
    error: str | None = None
    llm_seconds: float = 0.0
    llm_calls: int = 0
    completion_tokens: int = 0
    tool_calls: list[ToolCall] = field(default_factory=list)
    _current: str | None = None
    _inbox: supervisors.Inbox | None = None
    _changed: threading.Condition = field(default_factory=threading.Condition)

    # -- stopping ------------------------------------------------------------------------

    def stop(self, reason: StopReason, error: str | None = None) -> None:
        """Stop the run: the llm call in flight is cancelled and the next one raises
        `RunStopped`. The first reason wins."""
        with self._changed:
            if self.stop_reason is not None or self.finished is not None:
                return
            self.stop_reason, self.error = reason, error
            request_id = self._current
            self._changed.notify_all()
        if request_id is not None:
            self._tell_llm(LLMCancel(request_id=request_id))
            # Wake the worker waiting on the reply now, even if the llm is slow to answer.
            supervisors.cast(self.channel, None)

    def check(self) -> None:
        if self.stop_reason is not None:
            raise RunStopped(self.stop_reason)

    # -- llm calls -----------------------------------------------------------------------

    def ask_llm(self, request: LLMRequest, timeout: float) -> LLMDone:
        """Send ``request`` (its ``reply_to`` must be `channel`) and wait for the reply."""
        with self._changed:
            self.check()
            if self.completion_tokens >= self.max_tokens:
                self.stop_reason = "max_tokens"
                self.error = f"the run used its {self.max_tokens} completion tokens"
                raise RunStopped(self.stop_reason)
            self._current = request.request_id
            inbox = self._inbox
        if inbox is None:
            raise RunStopped(self.stop_reason or "cancelled")  # the channel closed: stopping
        sent = now()
        watch = inbox.monitor(self.llm_name)
        try:
            self._tell_llm(request, required=True)
            reply = self._wait_reply(inbox, request.request_id, sent + timeout, timeout)
        except LLMUnavailable:
            # Given up on (no reply in time): don't leave the llm generating for nobody.
            self._tell_llm(LLMCancel(request_id=request.request_id))
            raise
        finally:
            inbox.demonitor(watch)
            with self._changed:
                self._current = None
        self._account(reply, now() - sent)
        self.check()
        if isinstance(reply, LLMError):
            raise LLMUnavailable(f"the language model refused a request: {reply.message}")
        return reply

    def _wait_reply(
        self, inbox: supervisors.Inbox, request_id: str, deadline: float, timeout: float
    ) -> LLMDone | LLMError:
        """The reply to ``request_id`` from the inbox; fails at once if the llm serving it
        exits (the inbox monitors it), or when the run is stopped (`stop` wakes it)."""
        while True:
            self.check()
            try:
                message = inbox.receive(max(0.0, deadline - now()))
            except TimeoutError:
                raise LLMUnavailable(
                    f"no reply from the language model within {timeout:g} s "
                    "(agents.llm_call_timeout)"
                ) from None
            except pykka.ActorDeadError as error:
                self.check()  # the channel closed because the run was stopped
                raise LLMUnavailable(f"the language model stopped: {error}") from None
            if isinstance(message, LLMDone | LLMError) and message.request_id == request_id:
                return message

    def open_channel(self) -> None:
        """Register the run's inbox as `channel`, for the llm's replies."""
        with self._changed:
            self._inbox = supervisors.inbox(self.channel)

    def close_channel(self) -> None:
        """Release `channel`; a run still waiting on it is woken and stops."""
        with self._changed:
            inbox, self._inbox = self._inbox, None
        if inbox is not None:
            inbox.close()

    def _account(self, reply: LLMDone | LLMError, seconds: float) -> None:
        tokens = reply.completion_tokens if isinstance(reply, LLMDone) else 0
        with self._changed:
            self.llm_seconds += seconds
            self.llm_calls += 1
            self.completion_tokens += tokens
            step = self._running_step()
            if step is not None:
                step.llm_seconds += seconds
                step.llm_calls += 1
                step.completion_tokens += tokens

    def _tell_llm(self, message: Message, *, required: bool = False) -> None:
        outcome = supervisors.cast(self.llm_name, message)
        if outcome == "busy" and required:
            raise LLMUnavailable("the language model is busy; try again in a moment")
        if outcome == "noproc" and required:
            raise LLMUnavailable(
                "the language model is not running (it may be restarting)"
            ) from None

    # -- tools ---------------------------------------------------------------------------

    def record_tool(self, tool: str, arguments: Mapping[str, Any], output: str, seconds: float,
                    *, placeholder: bool) -> None:  # fmt: skip
        """Keep a tool's call, credited to the step running now."""
        plain = {key: value if isinstance(value, str | int | float | bool | None) else str(value)
                 for key, value in arguments.items()}  # fmt: skip
        with self._changed:
            step = self._running_step()
            self.tool_calls.append(ToolCall(
                tool=tool, arguments=plain, output=output[:TOOL_OUTPUT_CHARS],
                step=None if step is None else step.index + 1, placeholder=placeholder,
                seconds=seconds,
            ))  # fmt: skip

    # -- steps ---------------------------------------------------------------------------

    def begin(self) -> StepState | None:
        """The crew starts: the run is running and its first step has begun."""
        with self._changed:
            self.started = now()
            return self._start_step(0)

    def finish_step(self, output: str) -> StepState:
        """The running step produced ``output``."""
        with self._changed:
            step = self._running_step()
            assert step is not None, "a task ended while no step was running"
            step.status, step.output, step.ended = "done", output, now()
            return step

    def start_next_step(self) -> StepState | None:
        """Start the step after the last finished one; None when none is left."""
        with self._changed:
            return self._start_step(sum(step.status == "done" for step in self.steps))

    def _start_step(self, index: int) -> StepState | None:
        if index >= len(self.steps):
            return None
        step = self.steps[index]
        step.status, step.started = "running", now()
        return step

    def _running_step(self) -> StepState | None:
        return next((step for step in self.steps if step.status == "running"), None)

    def done_steps(self) -> int:
        with self._changed:
            return sum(step.status == "done" for step in self.steps)

    def end(self, error: str | None) -> None:
        """The worker is finished; ``error`` is an exception the run ended with."""
        with self._changed:
            if self.stop_reason is None and error is not None:
                self.stop_reason, self.error = "failed", error
            self.finished = now()
            for step in self.steps:
                if step.status == "running":
                    step.status, step.ended = "stopped", self.finished

    # -- reading -------------------------------------------------------------------------

    @property
    def status(self) -> RunStatus:
        if self.finished is not None:
            return self.stop_reason or "done"
        return "queued" if self.started is None else "running"

    def snapshot(self) -> WorkflowRun:
        with self._changed:
            done = [step for step in self.steps if step.status == "done"]
            end = self.finished if self.finished is not None else now()
            return WorkflowRun(
                run_id=self.run_id,
                workflow=self.workflow,
                input=self.input,
                status=self.status,
                steps=[step.result() for step in self.steps],
                result=done[-1].output if done else "",
                error=self.error,
                created=self.created,
                started=self.started,
                finished=self.finished,
                seconds=0.0 if self.started is None else end - self.started,
                llm_seconds=self.llm_seconds,
                llm_calls=self.llm_calls,
                completion_tokens=self.completion_tokens,
                tool_calls=list(self.tool_calls),
            )
