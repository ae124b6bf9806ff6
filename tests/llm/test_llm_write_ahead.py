"""A reply written ahead (`Engine.write_ahead`): taken up by a stream of the same prompt and
decoding, token for token the reply written without it; dropped by anything else.

Each comparison runs the very same llama.cpp operations in the same order on one context
(reset, the prompt read in one batch, then one token at a time), so the replies are equal
on any CPU: only where they are written differs, before or after the request."""

from __future__ import annotations

import pytest

from solo_actors.llm.engine import Engine, Generation, ModelSettings, Sampling, load_model
from solo_actors.models import ResolvedModel

QUESTION = "<|im_start|>user\nName three colours of the rainbow.<|im_end|>\n<|im_start|>assistant\n"
OTHER = "<|im_start|>user\nName three kinds of trees.<|im_end|>\n<|im_start|>assistant\n"
GREEDY = Sampling(0.0, 0.95, 40, 1.1, -1, 32, draft_tokens=3)


@pytest.fixture(scope="module")
def engine(default_model: ResolvedModel) -> Engine:
    return Engine(load_model(ModelSettings(str(default_model.path), 1024, 256, 2)))


def reply(engine: Engine, prompt: list[int], sampling: Sampling) -> tuple[str, Generation]:
    result = Generation(prompt_tokens=len(prompt))
    text = "".join(engine.stream(prompt, sampling, lambda: False, result))
    return text, result


def read(engine: Engine, text: str) -> list[int]:
    """`text`'s tokens, read into a fresh KV cache as a prefill reads a pause's words."""
    prompt = engine.tokenize(text, start=True)
    engine.reset()
    engine.prefill(prompt)
    return prompt


def test_the_reply_taken_up_is_the_reply_written_without_it(engine: Engine) -> None:
    prompt = read(engine, QUESTION)
    alone, written_alone = reply(engine, prompt, GREEDY)

    read(engine, QUESTION)
    assert engine.write_ahead(prompt, GREEDY, lambda: True, 5) == 5
    taken_up, written = reply(engine, prompt, GREEDY)
    assert taken_up == alone and written.tokens == written_alone.tokens, (taken_up, alone)
    assert len(written.tokens) > 5, written  # it went on past what was written ahead
    assert written.written_ahead == 5 and written.prompt_eval_tokens == 0
    # The guesses made ahead are counted with the reply's own.
    assert written.drafted == written_alone.drafted


def test_a_sampled_reply_is_taken_up_with_its_sampler(engine: Engine) -> None:
    """The sampler's state (its seed, the penalty's recent tokens) crosses the pause."""
    sampled = Sampling(0.9, 0.95, 40, 1.3, 7, 32, draft_tokens=0)
    prompt = read(engine, QUESTION)
    alone, _ = reply(engine, prompt, sampled)
    read(engine, QUESTION)
    engine.write_ahead(prompt, sampled, lambda: True, 4)
    taken_up, written = reply(engine, prompt, sampled)
    assert taken_up == alone and written.written_ahead == 4


def test_writing_stops_when_told_and_at_the_end_of_the_reply(engine: Engine) -> None:
    prompt = read(engine, QUESTION)
    asked: list[int] = []

    def two_then_stop() -> bool:
        asked.append(1)
        return len(asked) <= 2

    assert engine.write_ahead(prompt, GREEDY, two_then_stop, 10) == 2
    assert engine.write_ahead(prompt, GREEDY, lambda: False, 10) == 0
    # Nothing is written past the end of the turn: the reply's own tokens (as the same
    # operations write them without writing ahead) and its end, however long it is.
    short = read(engine, "<|im_start|>user\nSay only: yes.<|im_end|>\n<|im_start|>assistant\n")
    _, alone = reply(engine, short, GREEDY)
    assert alone.finish_reason == "stop", f"the reply did not end in {GREEDY.max_tokens} tokens"
    read(engine, "<|im_start|>user\nSay only: yes.<|im_end|>\n<|im_start|>assistant\n")
    assert engine.write_ahead(short, GREEDY, lambda: True, GREEDY.max_tokens) == (
        len(alone.tokens) + 1
    )


def test_another_prompt_decoding_or_use_of_the_cache_drops_it(engine: Engine) -> None:
    prompt = read(engine, QUESTION)
    other = engine.tokenize(OTHER, start=True)

    # Other words (the user went on): the reply is theirs, read after the shared prefix.
    read(engine, QUESTION)
    engine.write_ahead(prompt, GREEDY, lambda: True, 5)
    text, result = reply(engine, other, GREEDY)
    assert result.written_ahead == 0 and result.prompt_eval_tokens > 0
    assert text.strip() and result.tokens, result

    # Another decoding: not taken up, the prompt's logits are read again.
    read(engine, QUESTION)
    engine.write_ahead(prompt, GREEDY, lambda: True, 5)
    warmer = Sampling(0.5, 0.95, 40, 1.1, 3, 8, draft_tokens=3)
    _, result = reply(engine, prompt, warmer)
    assert result.written_ahead == 0 and result.prompt_eval_tokens >= 1

    # A prefill (the next words at the next pause) in between drops it.
    read(engine, QUESTION)
    engine.write_ahead(prompt, GREEDY, lambda: True, 5)
    engine.prefill(prompt)
    _, result = reply(engine, prompt, GREEDY)
    assert result.written_ahead == 0
    # And a reset or a restore: the cache it was written into is gone.
    read(engine, QUESTION)
    snapshot = engine.snapshot()
    engine.write_ahead(prompt, GREEDY, lambda: True, 5)
    engine.restore(snapshot)
    _, result = reply(engine, prompt, GREEDY)
    assert result.written_ahead == 0 and result.tokens
