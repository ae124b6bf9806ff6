"""Conversations: history trimming, KV prefix reuse (counted by llama.cpp), interleaving,
prompts read ahead (`LLMPrefill`), and declined replies left out."""

from __future__ import annotations

import itertools
import time

import llama_cpp

import supervisors
from solo_actors.config import load_config
from solo_actors.declines import Declines
from solo_actors.llm.engine import load_model
from solo_actors.messages import LLMAppend, LLMDescribe, LLMDone, LLMPrefill, LLMRequest
from tests.llm.conftest import EVERY_OPENING, TIMEOUT, RunningLLM, StartLLM

FRANCE = "What is the capital of France?"
GERMANY = "And of Germany?"
SPAIN = "Name a famous painter."
KEPT = "\u00a7 Goya."
"""A reply that opens with none of `EVERY_OPENING` ("§")."""


def new_turn_tokens(llm: RunningLLM, user_text: str) -> int:
    """Tokens of one new ChatML turn: the end of the previous reply, the user message and
    the opening of the next reply. This is all a follow-up turn should evaluate."""
    llama = load_model(llm.model_settings).llama
    turn = f"<|im_end|>\n<|im_start|>user\n{user_text}<|im_end|>\n<|im_start|>assistant\n"
    return len(llama.tokenize(turn.encode(), add_bos=False, special=True))


def test_second_turn_evaluates_only_the_new_turn(start_llm: StartLLM) -> None:
    # llama.cpp counts a batch of guessed tokens (llm.draft_tokens) as prompt evaluation.
    llm = start_llm(draft_tokens=0)
    first = llm.done(FRANCE, conversation_id="c")
    assert first.finish_reason == "stop"
    assert first.prompt_eval_tokens == first.prompt_tokens  # a fresh actor: all evaluated
    llama = load_model(llm.model_settings).llama
    llama_cpp.llama_perf_context_reset(llama.ctx)
    second = llm.done(GERMANY, conversation_id="c")
    evaluated_by_llama = llama_cpp.llama_perf_context(llama.ctx).n_p_eval
    expected = new_turn_tokens(llm, GERMANY)
    assert second.prompt_eval_tokens == expected
    assert evaluated_by_llama == expected  # llama.cpp's own prompt-eval counter agrees
    # Everything before the new turn (system, first question, the reply) came from the cache.
    assert second.prompt_tokens - expected == first.prompt_tokens + first.completion_tokens


def test_history_is_trimmed_oldest_first_and_keeps_the_system_prompt(
    start_llm: StartLLM,
) -> None:
    # The room holds the system prompt (about 200 tokens) and a few turns, not all twelve.
    llm = start_llm(n_ctx=512, max_tokens=16, history_fill=0.75)
    room = 512 - 16
    questions = [f"Tell me one fact about the number {n}, in a sentence." for n in range(1, 13)]
    replies = [llm.done(question, conversation_id="t") for question in questions]
    assert all(reply.prompt_tokens <= room for reply in replies)
    history = llm.history("t")
    assert history[0].role == "system"
    assert history[0].content == llm.config.llm.system_prompt
    users = [message.content for message in history if message.role == "user"]
    assert users == questions[-len(users) :]  # the newest kept, the oldest gone
    assert 1 <= len(users) < len(questions)
    # A trim goes down to history_fill of the room, so the next turns reuse the KV cache.
    trims = [
        later
        for earlier, later in itertools.pairwise(replies)
        if later.prompt_tokens < earlier.prompt_tokens
    ]
    assert trims
    assert all(reply.prompt_tokens <= int(room * 0.75) for reply in trims)
    assert any(reply.prompt_eval_tokens < reply.prompt_tokens for reply in replies[1:])


def test_a_conversation_is_trimmed_ahead_of_the_turn_that_would_not_fit(
    start_llm: StartLLM,
) -> None:
    # The room of the trimming test above: the system prompt and a few turns.
    llm = start_llm(n_ctx=512, max_tokens=16, history_fill=0.75, draft_tokens=0)
    room = 512 - 16
    for number in range(1, 13):
        reply = llm.done(f"Tell me one fact about the number {number}.", conversation_id="t")
        assert reply.prompt_tokens <= room
        # Mail is taken in order: the answer to this ask comes after the trim ahead the
        # reply scheduled, if any.
        supervisors.ask(llm.name, LLMDescribe(), timeout=TIMEOUT)
        if llm.figures["trims_ahead"]:
            break
    else:
        raise AssertionError(f"no conversation was trimmed ahead: {dict(llm.figures)}")
    assert llm.figures["trim_tokens"] > 0  # the kept history, read while nobody waited
    question = "And one fact about the number 100?"
    after = llm.done(question, conversation_id="t")
    # Its prompt is the trimmed history plus the question, and only the question is read
    # (the last reply's end marker too, unless the trim read it ahead).
    assert after.prompt_tokens <= int(room * 0.75) + new_turn_tokens(llm, question)
    assert 0 < after.prompt_eval_tokens <= new_turn_tokens(llm, question), after


def test_interleaved_conversations_restore_their_kv_snapshots(start_llm: StartLLM) -> None:
    alone = start_llm()
    alone.done(FRANCE, conversation_id="a")
    reference = alone.done(GERMANY, conversation_id="a")

    llm = start_llm()
    llm.done(FRANCE, conversation_id="a")
    llm.done(SPAIN, conversation_id="b")
    resumed = llm.done(GERMANY, conversation_id="a")
    assert resumed.prompt_eval_tokens == new_turn_tokens(llm, GERMANY)
    # The restored cache is the same conversation: the same prompt, token for token. The
    # reply text is not compared: the restored and the fresh context read the prompt in
    # other batch splits, which round differently on some CPUs (AVX-512 vs AVX2).
    assert resumed.prompt_tokens == reference.prompt_tokens
    assert resumed.text.strip() and resumed.finish_reason in ("stop", "length")
    assert llm.figures["kv_restores"] == 1


def test_without_snapshots_interleaving_re_evaluates_but_stays_correct(
    start_llm: StartLLM,
) -> None:
    llm = start_llm(kv_snapshot_mb=0)
    first = llm.done(FRANCE, conversation_id="a")
    llm.done(SPAIN, conversation_id="b")
    resumed = llm.done(GERMANY, conversation_id="a")
    assert resumed.prompt_eval_tokens > new_turn_tokens(llm, GERMANY)
    # Only the system prompt, shared with conversation b, is reused.
    assert resumed.prompt_eval_tokens > first.completion_tokens
    assert resumed.text
    assert llm.figures["kv_restores"] == 0


def prefill(llm: RunningLLM, conversation_id: str, prompt: str, unfinished: bool = False) -> int:
    """Read `prompt` ahead and wait until it is read (a prefill with its request already
    waiting behind it is skipped); the tokens it evaluated."""
    before = llm.figures["prefills"], llm.figures["prefill_tokens"]
    supervisors.tell(llm.name, LLMPrefill(conversation_id=conversation_id, prompt=prompt,
                                          unfinished=unfinished))  # fmt: skip
    deadline = time.monotonic() + 60
    while llm.figures["prefills"] == before[0]:
        assert time.monotonic() < deadline, "the prefill was not read"
        time.sleep(0.01)
    return int(llm.figures["prefill_tokens"] - before[1])


def test_a_prefilled_prompt_leaves_nothing_to_evaluate(start_llm: StartLLM) -> None:
    llm = start_llm()
    llm.done(FRANCE, conversation_id="p")
    prefill(llm, "p", GERMANY)
    reply = llm.done(GERMANY, conversation_id="p")
    # All of it was read ahead, and the first token is sampled from the logits the read
    # left (a reply, not an empty one from logits of nothing).
    assert reply.prompt_eval_tokens == 0
    assert reply.completion_tokens > 0 and reply.text.strip(), reply
    assert llm.figures["prefills"] == 1
    assert llm.figures["prefill_tokens"] == new_turn_tokens(llm, GERMANY)


def test_a_prefill_for_other_words_costs_nothing_but_time(start_llm: StartLLM) -> None:
    reference = start_llm()
    reference.done(FRANCE, conversation_id="q")
    expected = reference.done(SPAIN, conversation_id="q")

    llm = start_llm()
    llm.done(FRANCE, conversation_id="q")
    # Read ahead for words the user then went on from: the turn shares only their start.
    prefill(llm, "q", "Name a famous")
    reply = llm.done(SPAIN, conversation_id="q")
    assert 1 < reply.prompt_eval_tokens < new_turn_tokens(llm, SPAIN)
    # The same prompt as without the prefill (its reply text is not compared: the prompt was
    # read in other batch splits, which round differently on some CPUs), and nothing of the
    # prefill is in the history.
    assert reply.prompt_tokens == expected.prompt_tokens
    assert reply.text.strip()
    assert [m.content for m in llm.history("q")][:-1] == [
        m.content for m in reference.history("q")
    ][:-1]


def test_words_still_being_said_are_read_without_the_end_of_their_message(
    start_llm: StartLLM,
) -> None:
    """Read as finished, "How many days are in a..." adds its ellipsis and the template's end
    of the user's message, which the finished words replace; read as unfinished, it stops at
    "a", and the finished words are read from there for no more than after a finished read."""
    so_far, finished = "How many days are in a...", "How many days are in a week?"
    whole = start_llm()
    whole_first = prefill(whole, "w", so_far)
    whole_then = prefill(whole, "w", finished)
    llm = start_llm()
    first = prefill(llm, "w", so_far, unfinished=True)
    then = prefill(llm, "w", finished)
    assert whole_first - first >= 4, (whole_first, first)  # "...", <|im_end|>, assistant, ...
    assert then == whole_then, (then, whole_then)
    reply = llm.done(finished, conversation_id="w")
    assert reply.prompt_eval_tokens == 0 and reply.text.strip(), reply


def written_ahead(llm: RunningLLM, conversation_id: str, prompt: str) -> int:
    """Read `prompt` ahead and wait until its reply was begun (`llm.write_ahead`); the
    tokens written."""
    before = llm.figures["written_ahead"]
    prefill(llm, conversation_id, prompt)
    deadline = time.monotonic() + 60
    while llm.figures["written_ahead"] == before:
        assert time.monotonic() < deadline, "nothing was written ahead"
        time.sleep(0.01)
    return int(llm.figures["written_ahead"] - before)


def test_a_turn_takes_up_the_reply_written_ahead_for_its_words(start_llm: StartLLM) -> None:
    """At a pause the reply's first tokens are written before the turn ends; the turn with
    the same words takes them up (that it is the same reply: test_llm_write_ahead.py)."""
    llm = start_llm(write_ahead=6)
    llm.done(FRANCE, conversation_id="a")
    assert written_ahead(llm, "a", GERMANY) == 6
    reply = llm.done(GERMANY, conversation_id="a")
    assert reply.prompt_eval_tokens == 0
    assert reply.completion_tokens >= 5 and reply.text.strip(), reply
    assert llm.figures["written_ahead_used"] == 6
    assert llm.history("a")[-1].content == reply.text


def test_a_reply_written_ahead_for_other_words_is_dropped(start_llm: StartLLM) -> None:
    """The user went on after the pause: the turn's words differ, and nothing written for
    the pause's words reaches its reply or its history."""
    reference = start_llm(write_ahead=0)
    reference.done(FRANCE, conversation_id="b")
    expected = reference.done(SPAIN, conversation_id="b")

    llm = start_llm(write_ahead=6)
    llm.done(FRANCE, conversation_id="b")
    written_ahead(llm, "b", GERMANY)
    reply = llm.done(SPAIN, conversation_id="b")
    assert llm.figures["written_ahead_used"] == 0
    assert reference.figures["written_ahead"] == 0
    # The same prompt as without it (the reply's text is not compared: the two prompts were
    # read in other batch splits, which round differently on some CPUs).
    assert reply.prompt_tokens == expected.prompt_tokens and reply.text.strip()
    assert [m.content for m in llm.history("b")][:-1] == [
        m.content for m in reference.history("b")
    ][:-1]


def test_a_prefill_that_would_be_refused_is_skipped(start_llm: StartLLM) -> None:
    llm = start_llm()
    supervisors.tell(llm.name, LLMPrefill(conversation_id="r", prompt="x" * 100_000))
    assert llm.done(FRANCE, conversation_id="r").text  # the actor is still serving
    assert llm.figures["prefills"] == 0


def test_a_prefill_with_a_newer_one_or_its_request_waiting_is_skipped(
    start_llm: StartLLM,
) -> None:
    """The words at a pause, the final words, then the turn: queued behind a long read, only
    the newest of a conversation's is worth reading (the request reads its own prompt)."""
    llm = start_llm()
    llm.done(FRANCE, conversation_id="s")
    # A reply being written keeps the actor busy while the rest queues up behind it. The
    # test holds the model's lock until all of it is queued: a reply of 24 tokens alone
    # could end, on a loaded machine, before this thread sent the request, and the
    # second prefill of "s" would then be read (nothing newer waiting behind it yet).
    with load_model(llm.model_settings).lock:
        supervisors.tell(llm.name, LLMRequest(prompt="Count from one to twenty.",
                                              conversation_id="busy", max_tokens=24))  # fmt: skip
        for conversation_id, prompt in (("s", "And of"), ("s", GERMANY), ("other", SPAIN)):
            supervisors.tell(llm.name, LLMPrefill(conversation_id=conversation_id, prompt=prompt))
        pending = llm.ref().ask(LLMRequest(prompt=GERMANY, conversation_id="s"), block=False)
    reply = pending.get(timeout=TIMEOUT)
    assert isinstance(reply, LLMDone), reply
    assert llm.figures["prefills_skipped"] == 2  # both of "s": its request waited behind them
    assert llm.figures["prefills"] == 1  # "other" had nothing newer waiting
    assert reply.prompt_eval_tokens == new_turn_tokens(llm, GERMANY)


def test_a_declined_reply_leaves_its_exchange_out_of_the_history(start_llm: StartLLM) -> None:
    # Whatever the model writes declines here, so no particular words of it are needed.
    llm = start_llm(draft_tokens=0, declines=EVERY_OPENING)
    first = llm.done(FRANCE, conversation_id="c")
    second = llm.done(GERMANY, conversation_id="c")
    assert first.text.strip() and second.text.strip(), (first, second)
    assert llm.figures["declines_left_out"] == 2
    assert [message.role for message in llm.history("c")] == ["system"]
    # The history adds nothing to the next prompt, and what it holds still leads the KV
    # cache: only the new turn is read.
    assert (second.prompt_tokens - new_turn_tokens(llm, GERMANY)
            == first.prompt_tokens - new_turn_tokens(llm, FRANCE))  # fmt: skip
    assert 0 < second.prompt_eval_tokens <= new_turn_tokens(llm, GERMANY), second
    # An exchange that opens with none of them is kept.
    supervisors.tell(llm.name, LLMAppend(conversation_id="c", said=SPAIN, reply=KEPT))
    assert [(m.role, m.content) for m in llm.history("c")[1:]] == [
        ("user", SPAIN), ("assistant", KEPT),
    ]  # fmt: skip


def test_a_reply_declines_when_it_opens_with_a_decline_after_any_apology() -> None:
    declines = Declines(["I can't", "I'm unable"])
    assert declines("I can't do that.")
    assert declines("Sorry, I can\u2019t check that offline.")
    assert declines("I'm sorry, but I'm unable to play music.")
    assert declines("  i CAN'T order anything.")
    assert not declines("The capital of Australia is Canberra.")
    assert not declines("Sorry to hear that. Rest well.")
    assert not declines("You can't go wrong with pasta.")
    assert not Declines([])("I can't do that.")
    shipped = Declines(load_config(environ={}).llm.declines)
    assert shipped("I don't have a favorite color.") and shipped("I can't check that offline.")
    assert not shipped("To boil an egg, place it in a pot of water.")


def test_an_exchange_answered_elsewhere_joins_the_history_and_is_read_once(
    start_llm: StartLLM,
) -> None:
    llm = start_llm(draft_tokens=0)
    first = llm.done(FRANCE, conversation_id="c")
    sum_asked, sum_answered = "What is 2 plus 2?", "It's 4."
    supervisors.tell(llm.name, LLMAppend(conversation_id="c", said=sum_asked, reply=sum_answered))
    after = llm.done(GERMANY, conversation_id="c")
    assert [(m.role, m.content) for m in llm.history("c")[1:]] == [
        ("user", FRANCE), ("assistant", first.text), ("user", sum_asked),
        ("assistant", sum_answered), ("user", GERMANY), ("assistant", after.text),
    ]  # fmt: skip
    # The exchange and the new turn are read, and nothing before them again.
    llama = load_model(llm.model_settings).llama
    answered = len(llama.tokenize(sum_answered.encode(), add_bos=False, special=True))
    read = new_turn_tokens(llm, sum_asked) + answered + new_turn_tokens(llm, GERMANY)
    assert after.prompt_tokens == first.prompt_tokens + first.completion_tokens + read
    assert after.prompt_eval_tokens == read, after
    assert llm.figures["appended"] == 1
