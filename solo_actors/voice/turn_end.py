"""End of turn from the words: has the user finished the question heard so far?

A silence timeout alone cannot tell "what is the capital of France?" followed by silence
from "set a timer for ... ten minutes": both pause. So at each pause (`SpeechSoFar`) stt
asks `TurnEndJudge.verdict` about the words it just transcribed:

* ``incomplete``: they end on a word or phrase that needs more after it ("for", "of the",
  "tell me") or trail off ("..."). vad waits ``voice.vad.incomplete_timeout`` of silence
  instead of ``silence_timeout``, so a mid-sentence pause is not taken for the end.
* ``complete``: the words are a whole skill command ("set a timer for five minutes", "what
  time is it": a template of ``config/skills`` fits them, with no free-text slot left open
  at the end), or a small language model (``voice.vad.turn_end_model``), reading the words
  as the user's message, puts the probability that the message ends there at or above
  ``end_probability``; without a model, Whisper closed the words with . ? or !. vad ends
  the turn at once, and stt already holds the transcript of exactly that audio. Commands
  come first because the model, reading no context, gives short ones low odds ("what day
  is it": 0.08) although nothing more can follow them.
* ``unsure``: neither; the silence timeout decides, as before.

The rules and the model's prompt are data, in ``config/turn_end.toml``. The model is the
LiveKit/Pipecat idea (a language model's end-of-utterance probability) without their
fine-tuned weights, which no PyPI package carries: an instruct model's probability of the
end-of-turn token or of closing punctuation after the lower-cased words. Its false-cut
rate on questions with pauses is measured by ``bench/bench_turn_end.py``.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Literal

import llama_cpp
import msgspec
import numpy as np
from llama_cpp import Llama

from solo_actors.skills.hook import finished_command
from solo_actors.skills.templates import Matcher

Verdict = Literal["complete", "incomplete", "unsure"]

WORD = re.compile(r"[^\W_]+")
CLOSING_MARKS = (".", "?", "!")
TRAILING_OFF = ("...", "…", ",", "-")
CLOSING_TOKEN = re.compile(rb"\s?[.?!]+\s*")
"""A token that closes a sentence: counted with the end-of-turn token as "it ends here"."""


class ModelRules(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    prompt: str
    """The chat template up to the user's words."""
    end_of_turn: str
    """The template's end-of-turn token."""
    end_probability: float


class TurnEndRules(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """``config/turn_end.toml``: the endings after which a question is not finished, and
    how the language model is asked."""

    dangling_words: list[str]
    dangling_phrases: list[str]
    model: ModelRules


class EndScorer:
    """A small instruct model's probability that the user's message ends after `words`.

    The prompt's fixed start is evaluated once and kept in the KV cache, and so are the
    words last read (`read`) as far as the next words begin with them: the words so far,
    read while the user speaks, leave only the pause's last words to evaluate on one thread.
    """

    def __init__(self, model_path: str, rules: ModelRules) -> None:
        self.llama = Llama(model_path=model_path, n_ctx=256, n_threads=1, n_threads_batch=1,
                           verbose=False)  # fmt: skip
        (end_token,) = self.llama.tokenize(rules.end_of_turn.encode(), add_bos=False, special=True)
        closing = [token for token in range(self.llama.n_vocab())
                   if CLOSING_TOKEN.fullmatch(self.llama.detokenize([token]))]  # fmt: skip
        self.ends = np.array([end_token, *closing])
        self.prefix = self.llama.tokenize(rules.prompt.encode(), add_bos=True, special=True)
        self.llama.eval(self.prefix)

    def read(self, words: str) -> None:
        """Evaluate `words` after the prompt's start, keeping what the KV cache already has of
        them and reading at least their last token again, whose logits `probability` takes."""
        tokens = self.llama.tokenize(words.encode(), add_bos=False)
        if not tokens:
            return
        start = len(self.prefix)
        held = self.llama.input_ids[start : self.llama.n_tokens]
        same = next((index for index, (was, now) in enumerate(zip(held, tokens, strict=False))
                     if was != now), min(len(held), len(tokens)))  # fmt: skip
        keep = min(same, len(tokens) - 1)
        self.llama.n_tokens = start + keep  # eval drops the KV cache past this point
        self.llama.eval(tokens[keep:])

    def probability(self, words: str) -> float:
        self.read(words)
        # The last token's logits: Llama keeps them in `scores` only with logits_all.
        last = llama_cpp.llama_get_logits_ith(self.llama.ctx, -1)
        logits = np.ctypeslib.as_array(last, shape=(self.llama.n_vocab(),)).astype(np.float64)
        odds = np.exp(logits - logits.max())
        return float(odds[self.ends].sum() / odds.sum())


class TurnEndJudge:
    """Says whether a transcript at a pause is a finished question; see the module docstring."""

    def __init__(
        self,
        rules: TurnEndRules,
        scorer: EndScorer | None = None,
        commands: Matcher | None = None,
    ) -> None:
        endings = sorted({*rules.dangling_words, *rules.dangling_phrases}, key=len, reverse=True)
        self.dangling = re.compile(r"(?:^|\s)(?:" + "|".join(map(re.escape, endings)) + r")$")
        self.scorer = scorer
        self.commands = commands
        self.end_probability = rules.model.end_probability

    def read_ahead(self, text: str) -> None:
        """Let the model read the words so far while the user speaks: at the pause, only the
        words said since are left for `verdict` to read (see `EndScorer.read`)."""
        if self.scorer is not None:
            self.scorer.read(model_words(text))

    def verdict(self, text: str) -> Verdict:
        stripped = text.strip()
        words = model_words(stripped)
        if not words:
            return "unsure"
        if self.dangling.search(words) or stripped.endswith(TRAILING_OFF):
            return "incomplete"
        if self.commands is not None and finished_command(self.commands, stripped):
            return "complete"
        if self.scorer is not None:
            ends = self.scorer.probability(words) >= self.end_probability
        else:
            ends = stripped.endswith(CLOSING_MARKS)
        return "complete" if ends else "unsure"


def model_words(text: str) -> str:
    """The words as the model reads them: lower case, without punctuation."""
    return " ".join(WORD.findall(text.lower()))


def load_rules(path: Path) -> TurnEndRules:
    return msgspec.toml.decode(path.read_bytes(), type=TurnEndRules)


@cache
def load_judge(
    rules_path: Path, model_path: str | None, commands: Matcher | None = None
) -> TurnEndJudge:
    """The process's judge for these rules, model (None: rules alone) and skill commands
    (None: none), made once."""
    rules = load_rules(rules_path)
    scorer = EndScorer(model_path, rules.model) if model_path else None
    return TurnEndJudge(rules, scorer, commands)
