"""The response cache through the actor: hits, misses, files across actors, TTL, scope."""

from __future__ import annotations

import time
from pathlib import Path

from solo_actors.messages import LLMRequest
from tests.llm.conftest import StartLLM

QUESTION = "What is the capital of France?"


def test_repeat_is_a_hit_within_two_milliseconds(start_llm: StartLLM) -> None:
    llm = start_llm(cache=True)
    first = llm.done(QUESTION)
    assert not first.cached
    assert (llm.figures["cache_hits"], llm.figures["cache_misses"]) == (0, 1)
    latencies = []
    for _ in range(7):
        started = time.perf_counter()
        hit = llm.done(QUESTION)
        latencies.append(time.perf_counter() - started)
        assert hit.cached
        assert hit.text == first.text
        assert hit.completion_tokens == first.completion_tokens
    # The fastest round trip is what a hit costs: on a loaded 2-core machine most of the
    # others wait for a core (to wake the actor, then this thread) for longer than that.
    assert min(latencies) <= 0.002, latencies
    assert (llm.figures["cache_hits"], llm.figures["cache_misses"]) == (7, 1)


def test_a_hit_streams_its_text_as_one_token(start_llm: StartLLM) -> None:
    llm = start_llm(cache=True)
    first = llm.done(QUESTION)
    streamed = llm.stream(LLMRequest(prompt=QUESTION))
    assert streamed.done.cached
    assert [token.text for token in streamed.tokens] == [first.text]


def test_file_cache_serves_a_new_actor(start_llm: StartLLM, tmp_path: Path) -> None:
    shared = tmp_path / "shared-var"
    first = start_llm(var_dir=shared, cache=True)
    answer = first.done(QUESTION)
    first.supervisor.stop()
    assert list((shared / "cache" / "llm").glob("*/*.json"))
    second = start_llm(var_dir=shared, cache=True)
    hit = second.done(QUESTION)
    assert hit.cached and hit.text == answer.text
    assert second.figures["cache_hits"] == 1


def test_entries_expire_after_the_ttl(start_llm: StartLLM) -> None:
    llm = start_llm(cache=True, cache_ttl=1.0, max_tokens=8)
    llm.done(QUESTION)
    assert llm.done(QUESTION).cached
    time.sleep(1.1)
    assert not llm.done(QUESTION).cached
    assert llm.figures["cache_misses"] == 2


def test_sampling_without_a_fixed_seed_is_never_cached(start_llm: StartLLM) -> None:
    llm = start_llm(cache=True, temperature=0.8, seed=-1, max_tokens=8)
    assert not llm.done(QUESTION).cached
    assert not llm.done(QUESTION).cached
    assert (llm.figures["cache_hits"], llm.figures["cache_misses"]) == (0, 0)


def test_a_fixed_seed_makes_sampling_cacheable(start_llm: StartLLM) -> None:
    llm = start_llm(cache=True, temperature=0.8, seed=42, max_tokens=8)
    first = llm.done(QUESTION)
    again = llm.done(QUESTION)
    assert again.cached and again.text == first.text


def test_history_is_part_of_the_key(start_llm: StartLLM) -> None:
    llm = start_llm(cache=True, max_tokens=8)
    assert not llm.done(QUESTION, conversation_id="c").cached
    assert llm.done(QUESTION).cached  # the same full prompt as the conversation's first turn
    assert not llm.done(QUESTION, conversation_id="c").cached  # same words, longer history
