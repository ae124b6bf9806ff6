"""The llm actor on real models: answers, streaming, cancellation, bad input, supervision."""

from __future__ import annotations

import os
import queue
from collections.abc import Callable
from typing import Any

import llama_cpp
import pytest

import supervisors
from solo_actors.llm.engine import (
    Engine,
    Generation,
    ModelBroken,
    ModelSettings,
    Sampling,
    load_model,
    thread_counts,
)
from solo_actors.llm.sanitize import cut_unfinished_sentence
from solo_actors.messages import (
    Interrupt,
    LLMCancel,
    LLMDone,
    LLMError,
    LLMRequest,
    LLMToken,
    StageTimes,
)
from solo_actors.models import ResolvedModel
from tests.llm.conftest import DEFAULT, TIMEOUT, RunningLLM, StartLLM, Streamed

FRANCE = "What is the capital of France?"
STORY = "Write a long story about a dragon who learns to cook."


def test_default_model_knows_the_capital_of_france(
    start_llm: StartLLM, default_model: ResolvedModel
) -> None:
    llm = start_llm(model=DEFAULT)
    done = llm.done(FRANCE)
    assert "Paris" in done.text
    assert done.finish_reason == "stop"


def test_tokens_stream_before_done_and_add_up_to_the_text(start_llm: StartLLM) -> None:
    llm = start_llm()
    streamed = llm.stream(LLMRequest(prompt=FRANCE, times=StageTimes(wake=1.0)))
    done = streamed.done
    assert done.finish_reason == "stop"
    assert len(streamed.tokens) >= 3
    assert [token.index for token in streamed.tokens] == list(range(len(streamed.tokens)))
    assert streamed.text == done.text
    assert streamed.token_times[0] < streamed.final_time
    assert done.time_to_first_token > 0
    assert done.completion_tokens >= len(streamed.tokens) - 1
    assert done.tokens_per_second > 0
    assert done.times is not None and done.times.wake == 1.0 and done.times.first_token


def test_max_tokens_cuts_the_unfinished_sentence(start_llm: StartLLM) -> None:
    llm = start_llm()
    streamed = llm.stream(LLMRequest(prompt=STORY, max_tokens=40))
    done = streamed.done
    assert done.finish_reason == "length"
    assert done.completion_tokens == 40
    assert streamed.text.startswith(done.text)
    assert done.text == cut_unfinished_sentence(streamed.text)


def test_reply_to_gets_the_stream_by_registered_name(
    start_llm: StartLLM, collector: tuple[str, queue.Queue[Any]]
) -> None:
    name, inbox = collector
    llm = start_llm()
    supervisors.tell(llm.name, LLMRequest(prompt=FRANCE, reply_to=name, turn_id="t1"))
    received: list[Any] = []
    while not received or isinstance(received[-1], LLMToken):
        received.append(inbox.get(timeout=TIMEOUT))
    done = received[-1]
    assert isinstance(done, LLMDone) and done.turn_id == "t1"
    assert "".join(token.text for token in received[:-1]) == done.text
    assert all(token.turn_id == "t1" for token in received[:-1])


def cancel_after_tokens(
    llm: RunningLLM, request: LLMRequest, count: int, send: Callable[[], object]
) -> tuple[Streamed, int]:
    """Stream `request`, call `send` (which cancels it) once `count` tokens arrived; returns
    the stream and how many tokens had arrived when the cancel was sent."""
    sent_at: list[int] = []

    def on_token(streamed: Streamed) -> None:
        if not sent_at and len(streamed.tokens) >= count:
            sent_at.append(len(streamed.tokens))
            send()

    streamed = llm.stream(request, on_token)
    assert sent_at, f"the reply ended before {count} tokens: {streamed.final}"
    return streamed, sent_at[0]


@pytest.mark.parametrize(
    ("how", "cancel"),
    [
        pytest.param("tell", LLMCancel(request_id="req-1"), id="cancel-request"),
        pytest.param("tell", Interrupt(turn_id="turn-1"), id="interrupt-turn"),
        pytest.param("tell", Interrupt(), id="interrupt-current"),
        # An ask is answered at once, not after the reply it interrupts.
        pytest.param("ask", Interrupt(), id="interrupt-ask"),
    ],
)
def test_cancel_stops_within_one_token(start_llm: StartLLM, how: str, cancel: object) -> None:
    llm = start_llm(max_tokens=400)
    request = LLMRequest(prompt=STORY, request_id="req-1", turn_id="turn-1")
    send = getattr(supervisors, how)
    streamed, sent_at = cancel_after_tokens(llm, request, 5, lambda: send(llm.name, cancel))
    done = streamed.done
    assert done.finish_reason == "cancelled"
    assert len(streamed.tokens) - sent_at <= 1
    assert done.completion_tokens <= sent_at + 1
    assert streamed.text == done.text
    # The actor serves the next request as usual.
    assert llm.done(FRANCE).finish_reason == "stop"


def test_shutdown_stops_a_long_reply(start_llm: StartLLM) -> None:
    llm = start_llm(max_tokens=400)
    streamed, sent_at = cancel_after_tokens(llm, LLMRequest(prompt=STORY), 5, llm.supervisor.stop)
    assert streamed.done.finish_reason == "cancelled"
    assert len(streamed.tokens) - sent_at <= 1


def test_interrupt_cancels_a_queued_request(start_llm: StartLLM) -> None:
    llm = start_llm(max_tokens=400)
    first = LLMRequest(prompt=STORY)
    queued = LLMRequest(prompt=FRANCE, turn_id="later")
    first_reply = llm.ref().ask(first, block=False)
    queued_reply = llm.ref().ask(queued, block=False)
    supervisors.tell(llm.name, Interrupt(turn_id="later"))
    supervisors.tell(llm.name, LLMCancel(request_id=first.request_id))
    assert first_reply.get(timeout=TIMEOUT).finish_reason == "cancelled"
    skipped = queued_reply.get(timeout=TIMEOUT)
    assert skipped.finish_reason == "cancelled"
    assert skipped.text == "" and skipped.completion_tokens == 0


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"prompt": ""}, "empty prompt"),
        ({"prompt": " \n\t "}, "empty prompt"),
        ({"prompt": "caf\udce9 au lait"}, "prompt is not valid UTF-8"),
        ({"prompt": b"bytes"}, "prompt must be text"),
        ({"prompt": "hi", "system": "\udcff"}, "system prompt is not valid UTF-8"),
        ({"prompt": "word " * 2000}, "prompt too long"),
        ({"prompt": "hi", "max_tokens": 5000}, "max_tokens must be between 1 and 1023"),
        ({"prompt": "hi", "temperature": -1.0}, "temperature must be >= 0"),
    ],
)
def test_bad_input_is_an_error_and_the_actor_keeps_serving(
    start_llm: StartLLM,
    collector: tuple[str, queue.Queue[Any]],
    fields: dict[str, Any],
    problem: str,
) -> None:
    name, inbox = collector
    llm = start_llm()
    before = llm.ref().actor_urn
    reply = llm.ask(reply_to=name, **fields)
    assert isinstance(reply, LLMError)
    assert problem in reply.message
    assert inbox.get(timeout=TIMEOUT) == reply
    assert llm.ref().actor_urn == before  # not crashed and restarted: still the same actor
    assert llm.done(FRANCE, max_tokens=8).completion_tokens > 0
    assert llm.figures["errors"] == 1


def test_weights_survive_a_crash_and_restart(start_llm: StartLLM) -> None:
    llm = start_llm()
    first = llm.ref()
    settings = llm.model_settings
    weights = load_model(settings)
    supervisors.faults.enable()
    try:
        with pytest.raises(supervisors.ActorExitedError):  # an actor bug: crash, get restarted
            first.ask(supervisors.Fault("raise"), timeout=TIMEOUT)
    finally:
        supervisors.faults.enable(False)
    assert llm.ref().actor_urn != first.actor_urn
    assert load_model(settings) is weights
    assert llm.done(FRANCE, max_tokens=8).completion_tokens > 0


def test_a_broken_model_is_loaded_again(start_llm: StartLLM, monkeypatch: Any) -> None:
    llm = start_llm(n_batch=64)  # own model-cache entry: the other tests keep theirs
    first = llm.ref()
    weights = load_model(llm.model_settings)

    def broken(*_args: Any, **_kwargs: Any) -> Any:
        raise ModelBroken("llama_decode returned -1")

    monkeypatch.setattr(Engine, "stream", broken)
    with pytest.raises(supervisors.ActorExitedError):
        llm.ask(FRANCE)
    monkeypatch.undo()
    assert llm.ref().actor_urn != first.actor_urn
    assert load_model(llm.model_settings) is not weights
    assert llm.done(FRANCE, max_tokens=8).completion_tokens > 0


def test_two_actors_on_one_model_take_turns(start_llm: StartLLM) -> None:
    """Both actors get the process's one `Llama`; its lock keeps their KV use apart.

    The replies are not compared word for word: the same greedy prompt read in another batch
    split rounds differently on another CPU (AVX-512 wrote "Zorvath" where AVX2 wrote
    "Zephyr"), so equality would test the machine's arithmetic, not the lock.
    """
    first, second = start_llm(max_tokens=24), start_llm(max_tokens=24)
    assert load_model(first.model_settings) is load_model(second.model_settings)
    alone = first.done(STORY)
    replies = [llm.ref().ask(LLMRequest(prompt=STORY), block=False) for llm in (first, second)]
    for reply in (reply.get(timeout=TIMEOUT) for reply in replies):
        assert reply.text.strip() and reply.completion_tokens > 0
        assert reply.finish_reason in ("stop", "length")
        assert reply.prompt_tokens == alone.prompt_tokens


@pytest.mark.parametrize("spoken", [True, False])
def test_a_reply_leaves_a_core_to_tts_once_speech_started(
    tiny_model: ResolvedModel, spoken: bool
) -> None:
    settings = ModelSettings(path=str(tiny_model.path), n_ctx=512, n_batch=64, n_threads=0)
    engine = Engine(load_model(settings))
    threads = thread_counts(0)
    assert engine.threads == threads
    assert (threads.prompt, threads.generating) == (os.cpu_count(), os.cpu_count())
    prompt = engine.tokenize(
        "<|im_start|>user\nCount from one to ten, in words.<|im_end|>\n<|im_start|>assistant\n",
        start=True,
    )
    result = Generation(prompt_tokens=len(prompt))
    seen: list[tuple[str, int]] = []
    sampling = Sampling(temperature=0, top_p=1, top_k=1, repeat_penalty=1, seed=0, max_tokens=48)
    started_at = 3  # tts says it started speaking once three pieces were written
    for piece in engine.stream(prompt, sampling, lambda: False, result,
                               lambda: spoken and len(seen) >= started_at):  # fmt: skip
        seen.append((piece, llama_cpp.llama_n_threads(engine.llama.ctx)))
    assert len(seen) > started_at + 1, f"too short a reply to test with: {seen}"
    # All cores write until tts speaks; the rest of a spoken reply leaves one to tts (the
    # count read beside a piece is what the next token is generated with).
    assert {count for _, count in seen[:started_at]} == {threads.generating}
    later = threads.beside_speech if spoken else threads.generating
    assert {count for _, count in seen[started_at:]} == {later}
