"""Function calling in the llm actor: reading calls, streaming around them, running them as
messages to the actor that owns the tool, and the caller's own tools returned unrun.

The real default model (Qwen2.5-Coder-0.5B, whose GGUF template renders tools) writes the
calls; a test actor registered as the owner answers them, so what the tool did is checked
exactly. Greedy decoding makes the model's choices repeatable. The requests carry a plain
system prompt: Solo's default one (the honesty rules) makes this small model refuse more,
with tools or without (bench/RESULTS.md has the measured rates); here the mechanism is tested.
"""

from __future__ import annotations

import dataclasses
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec
import pytest

import supervisors
from solo_actors.llm.engine import ModelSettings
from solo_actors.llm.templates import FAMILIES, ChatTemplate, select_template
from solo_actors.llm.tools import CallGate, MalformedCall, call_tool, parse_calls
from solo_actors.llm.warm_start import ABANDONED_AFTER, STALE_AFTER, WarmStates
from solo_actors.messages import (
    CallTool,
    FunctionCall,
    Interrupt,
    ListTools,
    LLMDone,
    LLMError,
    LLMPrefill,
    LLMRequest,
    ToolDefinition,
    ToolResult,
    Tools,
)
from solo_actors.runtime.ids import new_id
from tests.conftest import wait_for
from tests.llm.conftest import DEFAULT, TIMEOUT, RunningLLM, StartLLM

PLAIN = "You are a helpful assistant. Answer briefly."
SOLO_DEFAULT = "qwen2.5-coder-1.5b-instruct-q4_k_m"
TIMER = ToolDefinition(
    name="set_timer",
    description="Start a countdown timer.",
    parameters={
        "type": "object",
        "properties": {"duration": {"type": "string", "description": "e.g. '5 minutes'"}},
        "required": ["duration"],
    },
)


# -- reading calls -------------------------------------------------------------------------


def test_calls_are_read_in_every_shape_small_models_write() -> None:
    tagged = (
        '<tool_call>\n{"name": "set_timer", "arguments": {"duration": "5 minutes"}}\n</tool_call>'
    )
    (call,) = parse_calls(tagged) or []
    assert (call.name, call.arguments) == ("set_timer", {"duration": "5 minutes"})
    two = tagged + "\n" + tagged.replace("5 minutes", "2 hours")
    assert [c.arguments["duration"] for c in parse_calls(two) or []] == ["5 minutes", "2 hours"]
    bare = '{"name": "set_timer", "parameters": {"duration": "1 minute"}}'
    assert (parse_calls(bare) or [])[0].arguments == {"duration": "1 minute"}
    fenced = '```json\n{"name": "set_timer", "arguments": "{\\"duration\\": \\"3 s\\"}"}\n```'
    assert (parse_calls(fenced) or [])[0].arguments == {"duration": "3 s"}
    unclosed = '<tool_call>{"name": "get_current_time"}'
    assert (parse_calls(unclosed) or [])[0].name == "get_current_time"
    # Qwen2.5's template shows calls in doubled braces; its models copy them, tagged or not.
    doubled = '{{"name": "calculate", "arguments": {"expression": "17 times 23"}}}'
    assert (parse_calls(doubled) or [])[0].arguments == {"expression": "17 times 23"}
    assert (parse_calls(f"<tool_call>\n{doubled}\n</tool_call>") or [])[0].name == "calculate"


def test_text_is_no_call_and_a_broken_call_says_what_is_wrong() -> None:
    assert parse_calls("Paris is the capital of France.") is None
    assert parse_calls("{not json at all} said the poet") is None
    assert parse_calls('{"answer": 42}') is None
    with pytest.raises(MalformedCall, match="not valid JSON"):
        parse_calls('<tool_call>{"name": "set_timer", "arguments": {"duration": </tool_call>')
    with pytest.raises(MalformedCall, match="must be a JSON object"):
        parse_calls('<tool_call>{"name": "set_timer", "arguments": [1, 2]}</tool_call>')
    with pytest.raises(MalformedCall, match="not valid JSON"):  # a bare call cut short
        parse_calls('{"name": "send_message", "arguments": {"message": "late"}')
    with pytest.raises(MalformedCall, match='"name"'):
        parse_calls('<tool_call>{"arguments": {}}</tool_call>')


def test_the_gate_streams_text_at_once_and_holds_only_a_call() -> None:
    gate = CallGate()
    assert gate.feed("The") == "The"  # no call starts with "T": streamed at once
    assert gate.feed(" capital") == " capital"
    gate = CallGate()
    assert gate.feed("<tool") == ""  # may become <tool_call>
    assert gate.feed("_call>{") == ""
    assert gate.feed('"name": "x"}</tool_call>') == ""
    assert gate.holding and gate.held == '<tool_call>{"name": "x"}</tool_call>'
    gate = CallGate()
    assert gate.feed("<") == ""
    assert gate.feed("b>bold</b>") == "<b>bold</b>"  # not a call after all: released
    gate = CallGate()
    assert gate.feed("<tool") == ""
    assert gate.finish() == "<tool"  # the reply ended undecided: it was text


def test_templates_that_render_tools_support_them_and_the_library_ones_do_not(
    default_model: Any,
) -> None:
    from llama_cpp import Llama

    llama = Llama(str(default_model.path), n_ctx=64, vocab_only=True, verbose=False)
    qwen = select_template("auto", llama.metadata)
    assert qwen.origin == "gguf" and qwen.supports_tools
    entries = [{"type": "function", "function": {"name": "set_timer", "parameters": {}}}]
    prompt = qwen.render([{"role": "user", "content": "hi"}], True, entries)
    assert "<tools>" in prompt and '"set_timer"' in prompt
    assert not any(ChatTemplate(f.template, f.name, f).supports_tools for f in FAMILIES.values())


# -- owners --------------------------------------------------------------------------------


@dataclass
class Owner:
    """What a test tool owner was asked: every call, and when the first one started."""

    calls: list[CallTool] = field(default_factory=list)
    started: threading.Event = field(default_factory=threading.Event)


class OwnerActor(supervisors.SupervisedActor):
    """A tool owner for tests: answers with `answer` (which may be slow: a tool still
    running when the turn is interrupted) and records every call in `record`."""

    def __init__(
        self, tools: list[ToolDefinition], answer: Callable[[CallTool], str], record: Owner
    ) -> None:
        super().__init__()
        self.tools, self.answer, self.record = tools, answer, record

    def on_receive(self, message: Any) -> Any:
        if isinstance(message, ListTools):
            return Tools(items=self.tools)
        if isinstance(message, CallTool):
            self.record.calls.append(message)
            self.record.started.set()
            content = self.answer(message)
            return ToolResult(call_id=message.call_id, name=message.name, content=content)
        return None


@pytest.fixture
def owner() -> Iterator[Callable[..., tuple[str, Owner]]]:
    started: list[tuple[str, supervisors.SupervisedRef[Any]]] = []

    def start(tools: list[ToolDefinition], answer: Callable[[CallTool], str]) -> tuple[str, Owner]:
        record = Owner()
        ref = OwnerActor.start(tools, answer, record)
        name = f"owner-{new_id()}"
        supervisors.default_registry.register(name, ref)
        started.append((name, ref))
        return name, record

    yield start
    for name, ref in started:
        supervisors.default_registry.unregister(name, ref)
        ref.stop()


def test_an_owner_that_is_not_running_answers_with_an_error_at_once() -> None:
    call = FunctionCall(name="set_timer", arguments={})
    started = time.monotonic()
    result = call_tool(f"nobody-{new_id()}", call, "Set a timer.", None, 10.0, lambda: False)
    assert result is not None and result.error and "not running" in result.content
    assert time.monotonic() - started < 5


@pytest.fixture
def qwen(start_llm: StartLLM, default_model: Any) -> Callable[..., RunningLLM]:
    def start(**llm: Any) -> RunningLLM:
        return start_llm(model=DEFAULT, max_tokens=96, system_prompt=PLAIN, **llm)

    return start


@pytest.mark.slow
def test_a_timer_request_becomes_a_call_of_the_owners_tool_and_its_answer_is_the_reply(
    qwen: Callable[..., RunningLLM], owner: Callable[..., tuple[str, Owner]]
) -> None:
    name, actor = owner([TIMER], lambda call: f"Timer set for {call.arguments['duration']}.")
    llm = qwen(tool_owners=[name])
    done = llm.done(
        "I need to be reminded in 5 minutes that the pasta is ready, start a countdown",
        use_tools=True,
    )
    assert [call.name for call in actor.calls] == ["set_timer"], done
    assert "5" in str(actor.calls[0].arguments["duration"])
    assert done.tools_used == ["set_timer"] and "5 minutes" in done.text
    assert llm.figures["tool_calls"] >= 1


@pytest.mark.slow
def test_the_prompts_start_is_read_at_start_and_the_first_turn_reuses_it(
    qwen: Callable[..., RunningLLM], owner: Callable[..., tuple[str, Owner]]
) -> None:
    name, _actor = owner([TIMER], lambda call: "done")
    llm = qwen(tool_owners=[name])
    deadline = time.monotonic() + TIMEOUT
    while not llm.figures.get("prefills"):
        assert time.monotonic() < deadline, "no warm-up at start"
        time.sleep(0.1)
    done = llm.done("What is the capital of France?", use_tools=True)
    # The system prompt and the tool's schema were read at start: the turn reads its words.
    assert done.prompt_eval_tokens < done.prompt_tokens / 2, done
    assert llm.figures["prefill_tokens"] > done.prompt_eval_tokens


@pytest.mark.slow
def test_a_prompt_that_fits_only_without_the_tools_is_read_ahead_without_them(
    qwen: Callable[..., RunningLLM], owner: Callable[..., tuple[str, Owner]]
) -> None:
    many = [
        msgspec.structs.replace(TIMER, name=f"set_timer_{n}", description=f"Timer number {n}.")
        for n in range(20)
    ]
    name, actor = owner(many, lambda call: "done")
    llm = qwen(tool_owners=[name], n_ctx=512)
    question = "What is the capital of France?"
    wait_for(
        lambda: llm.figures.get("prefills"), "the warm-up, without the tools too", timeout=TIMEOUT
    )
    # Read ahead as its request will be: the 20 schemas do not fit 512 tokens, so without
    # them (the request leaves them out, and a read-ahead that kept them was never used).
    supervisors.tell(llm.name, LLMPrefill(conversation_id="c", prompt=question, use_tools=True))
    wait_for(lambda: llm.figures["prefills"] == 2, "the question's read-ahead", timeout=TIMEOUT)
    done = llm.done(question, conversation_id="c", use_tools=True)
    assert done.prompt_eval_tokens == 0 and done.text, done
    assert not actor.calls and not done.tools_used


@pytest.mark.slow
def test_a_reply_without_a_call_streams_token_by_token_with_tools_offered(
    qwen: Callable[..., RunningLLM], owner: Callable[..., tuple[str, Owner]]
) -> None:
    name, actor = owner([TIMER], lambda call: "done")
    llm = qwen(tool_owners=[name])
    streamed = llm.stream(LLMRequest(prompt="What is the capital of France?", use_tools=True))
    assert "Paris" in streamed.done.text and not actor.calls
    assert len(streamed.tokens) > 3  # streamed, not held back and sent whole


@pytest.mark.slow
def test_the_callers_own_tools_come_back_as_calls_and_are_not_run(
    qwen: Callable[..., RunningLLM], owner: Callable[..., tuple[str, Owner]]
) -> None:
    name, actor = owner([TIMER], lambda call: "done")
    llm = qwen(tool_owners=[name])
    done = llm.done("Set a timer for 10 minutes please.", tools=[TIMER])
    assert done.finish_reason == "tool_calls" and done.text == ""
    assert [call.name for call in done.tool_calls] == ["set_timer"]
    assert "10" in str(done.tool_calls[0].arguments["duration"])
    assert not actor.calls  # the caller runs its tools


def test_a_model_without_function_calling_refuses_the_callers_tools(start_llm: StartLLM) -> None:
    reply = start_llm().ask("Set a timer for 10 minutes.", tools=[TIMER])
    assert isinstance(reply, LLMError) and "no function calling" in reply.message
    assert reply.code == "tools_not_supported"  # the API maps it to OpenAI's error code


def test_owners_tools_are_simply_not_offered_to_a_model_without_function_calling(
    start_llm: StartLLM, owner: Callable[..., tuple[str, Owner]]
) -> None:
    name, actor = owner([TIMER], lambda call: "done")
    done = start_llm(tool_owners=[name], max_tokens=16).done("Hello", use_tools=True)
    assert isinstance(done, LLMDone) and not actor.calls and done.text


@pytest.mark.slow
def test_an_interrupt_while_a_tool_runs_ends_the_turn_at_once(
    qwen: Callable[..., RunningLLM], owner: Callable[..., tuple[str, Owner]]
) -> None:
    release = threading.Event()

    def slow(call: CallTool) -> str:
        release.wait(60)
        return "Timer set."

    name, actor = owner([TIMER], slow)
    llm = qwen(tool_owners=[name], tool_timeout=60.0)
    request = LLMRequest(
        prompt="I need to be reminded in 5 minutes that the pasta is ready, start a countdown",
        use_tools=True,
    )
    pending = llm.ref().ask(request, block=False)
    assert actor.started.wait(TIMEOUT), "the model did not call the tool"
    interrupted = time.monotonic()
    supervisors.tell(llm.name, Interrupt())
    done = pending.get(timeout=TIMEOUT)
    waited = time.monotonic() - interrupted
    release.set()
    assert isinstance(done, LLMDone) and done.finish_reason == "cancelled"
    assert waited < 5, f"the interrupted turn took {waited:.1f} s to end"


def saved_warm_up(start: Callable[..., RunningLLM], var: Path, owner: str) -> RunningLLM:
    """An llm started with `owner`'s tools in `var`, once its warm-up's state is saved."""
    llm = start(tool_owners=[owner], var_dir=var)
    wait_for(
        lambda: list((var / "cache/llm/kv").glob("*.kv")),
        "the warm-up's state file",
        timeout=TIMEOUT,
    )
    return llm


@pytest.mark.slow
def test_a_start_restores_the_warm_up_the_start_before_saved(
    qwen: Callable[..., RunningLLM], owner: Callable[..., tuple[str, Owner]], tmp_path: Path
) -> None:
    name, _actor = owner([TIMER], lambda call: "done")
    var = tmp_path / "var"
    first = saved_warm_up(qwen, var, name)
    assert first.figures["warm_starts"] == 0
    read = first.figures["prefill_tokens"]
    asked = first.done("What is the capital of France?", use_tools=True)
    first.supervisor.stop()

    second = qwen(tool_owners=[name], var_dir=var)
    assert second.figures["warm_starts"] == 1  # at start, before any mail
    wait_for(lambda: second.figures.get("prefills"), "the second warm-up", timeout=TIMEOUT)
    # Only the token whose logits are sampled is read again, of the ~hundreds read before.
    assert second.figures["prefill_tokens"] == 1 < read, second.figures
    again = second.done("What is the capital of France?", use_tools=True)
    # The restored cells are the very bytes the first start computed: the turn reads its
    # own words only, and writes the same reply.
    assert again.prompt_eval_tokens == asked.prompt_eval_tokens < asked.prompt_tokens / 2
    assert again.text == asked.text


@pytest.mark.slow
def test_a_question_asked_before_the_warm_up_reuses_the_restored_state(
    qwen: Callable[..., RunningLLM], owner: Callable[..., tuple[str, Owner]], tmp_path: Path
) -> None:
    name, _actor = owner([TIMER], lambda call: "done")
    var = tmp_path / "var"
    saved_warm_up(qwen, var, name).supervisor.stop()
    # No tool owner this time: no warm-up at all, and a prompt that differs from the saved
    # one after the system prompt. Only what differs is read.
    second = qwen(var_dir=var)
    done = second.done("What is the capital of France?")
    assert second.figures["warm_starts"] == 1 and second.figures["prefills"] == 0
    assert 0 < done.prompt_eval_tokens < done.prompt_tokens, done


@pytest.mark.slow
def test_a_damaged_warm_up_state_is_read_again_and_replaced(
    qwen: Callable[..., RunningLLM], owner: Callable[..., tuple[str, Owner]], tmp_path: Path
) -> None:
    name, _actor = owner([TIMER], lambda call: "done")
    var = tmp_path / "var"
    first = saved_warm_up(qwen, var, name)
    read = first.figures["prefill_tokens"]
    first.supervisor.stop()
    (saved,) = (var / "cache/llm/kv").glob("*.kv")
    damaged = bytearray(saved.read_bytes())
    damaged[-1000] ^= 0xFF  # one byte of the KV cells: the checksum no longer holds
    saved.write_bytes(damaged)

    second = qwen(tool_owners=[name], var_dir=var)
    assert second.figures["warm_starts"] == 0, "a damaged state was restored"
    wait_for(
        lambda: saved.read_bytes() != damaged, "the state file to be written again", timeout=TIMEOUT
    )
    assert second.figures["prefill_tokens"] == read
    assert second.done("What is the capital of France?", use_tools=True).text


def test_a_warm_up_state_is_kept_for_one_model_build_and_settings(tmp_path: Path) -> None:
    settings = ModelSettings(path="model.gguf", n_ctx=2048, n_batch=256, n_threads=0)
    base = WarmStates(tmp_path, "a" * 64, settings).path
    assert WarmStates(tmp_path, "a" * 64, settings).path == base
    assert WarmStates(tmp_path, "b" * 64, settings).path != base  # another model
    bigger_batches = dataclasses.replace(settings, n_batch=512)
    assert WarmStates(tmp_path, "a" * 64, bigger_batches).path != base
    moved = dataclasses.replace(settings, path="/elsewhere/models/model.gguf")
    assert WarmStates(tmp_path, "a" * 64, moved).path == base, "a moved model lost its state"


def test_state_files_unused_for_a_month_and_unfinished_saves_are_deleted(tmp_path: Path) -> None:
    states = WarmStates(tmp_path, "a" * 64, ModelSettings("m.gguf", 2048, 256, 0))
    files = ("old.kv", "recent.kv", "kept.kv", "killed.part", "saving.part", "notes.txt")
    for name in files:
        (tmp_path / name).write_bytes(b"state")
    month_ago = time.time() - STALE_AFTER - 60
    hour_ago = time.time() - ABANDONED_AFTER - 60
    for name, when in (("old.kv", month_ago), ("kept.kv", month_ago), ("killed.part", hour_ago)):
        os.utime(tmp_path / name, (when, when))
    states.prune(keep=tmp_path / "kept.kv")
    left = sorted(path.name for path in tmp_path.iterdir())
    assert left == ["kept.kv", "notes.txt", "recent.kv", "saving.part"]


def test_the_gate_stops_at_a_name_of_solos_own_tools_and_streams_the_rest_as_it_comes() -> None:
    tools = ["set_timer", "calculate"]
    gate = CallGate(tools=tools)
    pieces = ["To", " time", " it,", " use", " the", " `", "set", "_t", "imer", "`", " tool"]
    streamed = "".join(gate.feed(piece) for piece in pieces) + gate.finish()
    assert (streamed, gate.talked_of) == ("To time it, use the ", "set_timer")
    assert gate.streamed == streamed
    # Bare, an underscored name counts too; a plain word only backquoted.
    gate = CallGate(tools=tools)
    assert gate.feed("Use set") == "Use "  # "set" may become set_timer: held one token
    assert gate.feed("_timer now") == "" and gate.talked_of == "set_timer"
    gate = CallGate(tools=tools)
    streamed = "".join(map(gate.feed, ["I", " can", " calculate", " it", " set", "."]))
    assert streamed + gate.finish() == "I can calculate it set." and gate.talked_of is None
    gate = CallGate(tools=tools)
    assert gate.feed("Run `ls`, or use `calc") == "Run `ls`, or use "
    assert gate.feed("ulate`") == "" and gate.talked_of == "calculate"
    # A name the user is not told to use or call (a list of the tools) streams as it comes.
    gate = CallGate(tools=tools)
    listed = "I have these tools:\n- `set_timer`: a timer.\n- `calculate`: sums."
    assert gate.feed(listed) + gate.finish() == listed and gate.talked_of is None
    # The caller's own tools (no names given) are never screened.
    gate = CallGate()
    assert gate.feed("use `set_timer`") == "use `set_timer`" and gate.talked_of is None


@pytest.mark.slow
def test_a_call_the_model_describes_instead_of_making_is_made_for_it(
    start_llm: StartLLM, owner: Callable[..., tuple[str, Owner]]
) -> None:
    name, actor = owner([TIMER], lambda call: f"Timer set for {call.arguments['duration']}.")
    # Solo's default model, a coder model, described calls in prose in long conversations;
    # a tutor's system prompt has it do so at once.
    llm = start_llm(model=SOLO_DEFAULT, max_tokens=96, tool_owners=[name])
    tutor = (
        "You are a programming tutor. Never call a function yourself: tell the user in words "
        "which function they would call, writing its name in backquotes, and show its "
        "arguments as a JSON code block."
    )
    request = LLMRequest(
        prompt="Which function would I use for a 5 minute timer, and with what arguments?",
        system=tutor,
        use_tools=True,
    )
    streamed = llm.stream(request)
    said = "".join(token.text for token in streamed.tokens)
    assert llm.figures["tools_described"] >= 1, said
    assert [call.name for call in actor.calls] == ["set_timer"], said
    assert "5" in str(actor.calls[0].arguments["duration"])
    assert "set_timer" not in said and "`" not in said, said
    assert streamed.done.tools_used == ["set_timer"] and streamed.done.text == said
