"""Prompt lookup: guessed tokens checked in one batch give the reply the model writes alone."""

from __future__ import annotations

import llama_cpp
import numpy as np

from solo_actors.llm.engine import Engine, Generation, ModelSettings, Sampling, load_model
from solo_actors.llm.lookup import draft
from solo_actors.models import ResolvedModel

COPY = (
    "<|im_start|>user\nRepeat exactly: the quick brown fox jumps over the lazy dog, "
    "and the lazy dog sleeps in the warm sun all day long.<|im_end|>\n<|im_start|>assistant\n"
)


def tokens(*values: int) -> np.ndarray:
    return np.asarray(values, dtype=np.intc)


def test_the_guess_is_what_followed_the_latest_earlier_occurrence_of_the_tail() -> None:
    context = tokens(1, 2, 3, 4, 5, 9, 1, 2, 3, 7, 8, 6, 1, 2, 3)
    assert draft(context, 2) == [7, 8]  # the later of the two earlier "1 2 3"s
    assert draft(context, 5) == [7, 8, 6, 1, 2]


def test_a_shorter_tail_is_looked_up_when_the_longer_never_occurred() -> None:
    assert draft(tokens(5, 2, 3, 4, 1, 2, 3), 3) == [4, 1, 2]  # "1 2 3" once, "2 3" twice


def test_no_guess_without_an_earlier_occurrence_or_from_one_token_alone() -> None:
    assert draft(tokens(1, 2, 3, 4, 5), 3) == []
    assert draft(tokens(7, 1, 8, 1), 3) == []  # only "1" recurs: one token guesses badly
    assert draft(tokens(1, 2, 1, 2), 0) == []
    assert draft(tokens(1), 3) == []


def generate(engine: Engine, prompt: list[int], draft_tokens: int) -> tuple[str, Generation]:
    engine.reset()
    result = Generation(prompt_tokens=len(prompt))
    sampling = Sampling(0.0, 0.95, 40, 1.0, -1, 48, draft_tokens=draft_tokens)
    text = "".join(engine.stream(prompt, sampling, lambda: False, result))
    return text, result


def kv_cells(engine: Engine) -> int:
    """How many positions the context's KV cache holds (its highest one, plus one)."""
    memory = llama_cpp.llama_get_memory(engine.llama.ctx)
    return int(llama_cpp.llama_memory_seq_pos_max(memory, 0)) + 1


def test_guesses_write_the_reply_in_fewer_steps(default_model: ResolvedModel) -> None:
    # No reply is compared with another model run's text: a batch's logits come from
    # another kernel than a single token's, and a near tie may break otherwise on some CPU.
    engine = Engine(load_model(ModelSettings(str(default_model.path), 1024, 256, 1)))
    prompt = engine.tokenize(COPY, start=True)
    alone, one_by_one = generate(engine, prompt, draft_tokens=0)
    guessed, with_guesses = generate(engine, prompt, draft_tokens=3)
    assert "quick brown fox" in alone, alone  # the model copies, so its own words recur
    assert "quick brown fox" in guessed, guessed
    assert one_by_one.drafted == 0
    assert with_guesses.draft_accepted >= 5, with_guesses  # tokens not generated one at a time
    assert with_guesses.drafted >= with_guesses.draft_accepted
    # The reply's tokens are what the cache holds after the prompt, and the cache holds
    # no cell of a rejected guess: its cells end where the tokens it says it holds end.
    live = engine.live_tokens
    reply = with_guesses.tokens
    assert list(live[: len(prompt)]) == prompt
    assert list(live[len(prompt) : len(prompt) + len(reply)]) == reply
    assert kv_cells(engine) == len(live)
    # A second turn reads the first from that cache: only what follows it is evaluated.
    follow = engine.tokenize(f"{guessed}<|im_end|>\n<|im_start|>user\nAgain.<|im_end|>\n"
                             "<|im_start|>assistant\n", start=False)  # fmt: skip
    second_turn = [*prompt, *follow]
    result = Generation(prompt_tokens=len(second_turn))
    sampling = Sampling(0.0, 0.95, 40, 1.0, -1, 24, draft_tokens=3)
    again = "".join(engine.stream(second_turn, sampling, lambda: False, result))
    assert result.prompt_eval_tokens <= len(follow)  # the first turn came from the cache
    assert again.strip(), result
    assert kv_cells(engine) == len(engine.live_tokens)
