"""The bridge to CrewAI: Solo's llm as a CrewAI model, Solo's tools as CrewAI tools, and one
run of a workflow as a `Crew`. This is the only module that imports crewai.

`SoloLLM.call` sends each model call to the llm actor as an `LLMRequest` and waits for the
`LLMDone` (through the run's `RunControl`): no second model load, no litellm, no network.
Crew requests queue in the llm actor's mailbox with everyone else's and are served one at a
time; each is capped at ``agents.step_max_tokens``, so a voice turn waits behind at most one
crew call (docs/agents.md, "Scheduling").
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping
from typing import Any

from solo_actors.agents import offline

offline.go_offline()  # again, explicitly: these variables must be set before crewai's import

from crewai import Agent, Crew, Process, Task  # noqa: E402
from crewai.llms.base_llm import BaseLLM  # noqa: E402
from crewai.tasks.task_output import TaskOutput  # noqa: E402
from crewai.tools import BaseTool  # noqa: E402
from pydantic import BaseModel, PrivateAttr  # noqa: E402

from solo_actors.agents.control import RunControl  # noqa: E402
from solo_actors.agents.tools import ToolContext, ToolSpec  # noqa: E402
from solo_actors.agents.workflows import INPUT_FIELD, WorkflowSpec  # noqa: E402
from solo_actors.config.schema import AgentsConfig  # noqa: E402
from solo_actors.messages import LLMRequest  # noqa: E402
from solo_actors.runtime.clock import now  # noqa: E402
from solo_actors.runtime.logs import get_logger  # noqa: E402

# Crew's task_callback is a plain callable on purpose (it closes over the run); CrewAI warns
# that such callbacks can't be checkpointed, which Solo never does.
warnings.filterwarnings("ignore", message="function callbacks cannot be serialized")

REACT_MARKERS = ("Action:", "Final Answer:")
log = get_logger("solo/agents")


class SoloLLM(BaseLLM):
    """A CrewAI model whose every call is one request to Solo's llm actor."""

    llm_type: str = "solo"
    _control: RunControl = PrivateAttr()
    _settings: AgentsConfig = PrivateAttr()
    _context_window: int = PrivateAttr()

    @classmethod
    def for_run(
        cls, control: RunControl, settings: AgentsConfig, model: str, context_window: int
    ) -> SoloLLM:
        llm = cls(model=model, provider="solo", max_tokens=settings.step_max_tokens)
        llm._control, llm._settings, llm._context_window = control, settings, context_window
        return llm

    def call(
        self,
        messages: str | list[Any],
        tools: list[dict[str, Any]] | None = None,
        callbacks: list[Any] | None = None,
        available_functions: dict[str, Any] | None = None,
        from_task: Any = None,
        from_agent: Any = None,
        response_model: type[BaseModel] | None = None,
    ) -> str:
        system, prompt = flatten(messages)
        request = LLMRequest(
            prompt=prompt,
            system=system,
            reply_to=self._control.channel,
            max_tokens=self._settings.step_max_tokens,
        )
        reply = self._control.ask_llm(request, self._settings.llm_call_timeout)
        # The llm actor has no stop sequences; CrewAI's (e.g. "\nObservation:", so the model
        # doesn't invent a tool's answer) are applied to the finished text instead.
        text = self._apply_stop_words(reply.text).strip()
        if self.stop and not any(marker in text for marker in REACT_MARKERS):
            # An agent with tools expects the ReAct format. A small model often just answers;
            # CrewAI would spend the agent's remaining iterations asking for the format, so a
            # reply in neither form is taken as the final answer.
            text = f"Thought: I can answer now.\nFinal Answer: {text}"
        return text or "(no answer)"

    def supports_function_calling(self) -> bool:
        return False  # CrewAI then describes tools in the prompt (ReAct) instead

    def supports_stop_words(self) -> bool:
        return True

    def get_context_window_size(self) -> int:
        return self._context_window

    def get_input_tokens_count(
        self,
        messages: str | list[Any],
        tools: list[dict[str, Any]] | None = None,
        response_model: type[BaseModel] | None = None,
    ) -> int:
        # CrewAI sizes each request before sending it. The exact count is the llm actor's
        # tokenizer's; a quarter of the characters (CrewAI's own fallback) is enough for that
        # check, without the warning the base class logs for it on every call.
        system, prompt = flatten(messages)
        return (len(system or "") + len(prompt) + 3) // 4


def flatten(messages: str | list[Any]) -> tuple[str | None, str]:
    """CrewAI's chat messages as the llm actor's (system prompt, prompt): the system
    messages joined, then the rest in order (a tool round's thought, observation and
    follow-up included)."""
    if isinstance(messages, str):
        return None, messages
    system = "\n\n".join(m["content"] for m in messages if m.get("role") == "system")
    rest = "\n\n".join(str(m["content"]).strip() for m in messages if m.get("role") != "system")
    return system or None, rest


class SoloTool(BaseTool):
    """A `ToolSpec` as a CrewAI tool, bound to one run."""

    _spec: ToolSpec = PrivateAttr()
    _context: ToolContext = PrivateAttr()
    _control: RunControl = PrivateAttr()

    @classmethod
    def for_run(cls, spec: ToolSpec, context: ToolContext, control: RunControl) -> SoloTool:
        tool = cls(name=spec.name, description=spec.description, args_schema=spec.args)
        tool._spec, tool._context, tool._control = spec, context, control
        return tool

    def _run(self, **arguments: Any) -> str:
        return run_tool(self._spec, self._context, self._control, arguments)


def run_tool(
    spec: ToolSpec,
    context: ToolContext,
    control: RunControl,
    arguments: Mapping[str, Any],
    *,
    placeholder: bool = False,
) -> str:
    """Run a tool for a run and record the call on the run. A tool reports the problems it
    expects as text; an exception is a bug: the run stops as "failed" naming the tool
    (CrewAI would otherwise retry the tool and hand the model the traceback as if it were an
    answer)."""
    started = now()
    try:
        output = spec.run(context, **arguments)
    except Exception as error:
        problem = f"tool {spec.name!r} crashed: {type(error).__name__}: {error}"
        log.error("tool crashed", run_id=control.run_id, tool=spec.name, exc_info=error)
        control.stop("failed", problem)
        output = f"The {spec.name} tool failed; the run is stopping."
    control.record_tool(spec.name, arguments, output, now() - started, placeholder=placeholder)
    return output


def run_workflow(
    workflow: WorkflowSpec,
    control: RunControl,
    settings: AgentsConfig,
    tools: Mapping[str, ToolSpec],
    context: ToolContext,
    model: tuple[str, int],
    on_step: Callable[[TaskOutput], None],
) -> None:
    """Build the crew for one run and run it to the end (or until it is stopped: then
    `RunStopped` propagates). ``model`` is the llm's (name, context window)."""
    llm = SoloLLM.for_run(control, settings, *model)
    inputs = {INPUT_FIELD: context.input}
    for name in workflow.prefetched_tools():
        spec = tools[name]
        arguments = spec.input_arguments(context.input)
        inputs[name] = run_tool(spec, context, control, arguments, placeholder=True)
    control.check()
    agents = {
        name: Agent(
            role=spec.role,
            goal=spec.goal,
            backstory=spec.backstory,
            tools=[SoloTool.for_run(tools[tool], context, control) for tool in spec.tools],
            llm=llm,
            max_iter=settings.max_iter,
            # An exception in a step is final: CrewAI's default retries the whole task twice.
            max_retry_limit=0,
            allow_delegation=False,
            verbose=False,
        )
        for name, spec in workflow.agents.items()
    }
    tasks = [
        Task(
            name=task.name,
            description=task.description,
            expected_output=task.expected_output,
            agent=agents[task.agent] if task.agent else None,
        )
        for task in workflow.tasks
    ]
    hierarchical = workflow.process == "hierarchical"
    crew = Crew(
        agents=list(agents.values()),
        tasks=tasks,
        process=Process.hierarchical if hierarchical else Process.sequential,
        manager_llm=llm if hierarchical else None,
        task_callback=on_step,
        memory=False,
        cache=False,
        planning=False,
        tracing=False,
        share_crew=False,
        verbose=False,
    )
    crew.kickoff(inputs=inputs)
