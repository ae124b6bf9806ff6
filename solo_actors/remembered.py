"""What the dialogue keeps as a long-term memory of a finished turn, and in which words.

Every memory recalled for a later turn is read by the llm before that turn's words, so a
memory costs every turn that recalls it. With ``[dialogue] remember = "told"`` (the
default) only what the user told is kept, in the user's own words: "My sister is called
Ana.", not "What is the capital of France?" with its reply. The rules that tell a question
or a request from a statement are data, in ``config/remember.toml``. ``"exchanges"`` keeps
every successful turn with its reply, as Solo did before. docs/storage.md, "What is
remembered".
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Literal

import msgspec

from solo_actors.messages import Remember

RememberMode = Literal["told", "exchanges"]

TOLD_PREFIX = "The user said: "
"""Before a told memory's words (why this wording: `memory_of`)."""
EXCHANGE_PREFIX, EXCHANGE_REPLY = "User said: ", "\nSolo replied: "
"""Around the user's words in a memory of an exchange."""

MEMORY_KIND: dict[RememberMode, str] = {"told": "told", "exchanges": "exchange"}
"""The `Remember.kind` each mode's memories carry, so a `MemoryFilter` can tell them apart."""

SAID = "said"
"""The `Remember.meta` key that holds the user's own words of the turn a memory keeps."""

WORD = re.compile(r"[^\W_]+")
"""A word as the turn-end rules read one (voice/turn_end.py): letters of any alphabet, digits."""


class RememberRules(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """``config/remember.toml``: how a turn that only asks is told from one that tells."""

    fillers: list[str]
    keep_phrases: list[str]
    question_openers: list[str]
    request_openers: list[str]
    small_talk: list[str]
    tell_openers: list[str] = []
    """Openers that tell although a request opener fits them ("call me ..."); a rules file
    written before they were added has none."""


class TurnSorter:
    """Says whether a user's words tell something worth remembering."""

    def __init__(self, rules: RememberRules) -> None:
        self.fillers = phrase_pattern(rules.fillers, at_start=True)
        self.keep = phrase_pattern(rules.keep_phrases, at_start=False)
        self.telling = phrase_pattern(rules.tell_openers, at_start=True)
        self.asking = phrase_pattern(
            [*rules.question_openers, *rules.request_openers], at_start=True
        )
        self.small_talk = set(rules.small_talk)

    def tells(self, text: str) -> bool:
        words = " ".join(WORD.findall(text.lower()))
        if self.keep.search(words):
            return True
        while (filler := self.fillers.match(words)) is not None:
            words = words[filler.end() :].lstrip()
        if not words or words in self.small_talk:
            return False
        if self.telling.match(words):
            return True
        return not (text.rstrip().endswith("?") or self.asking.match(words))


def phrase_pattern(phrases: list[str], *, at_start: bool) -> re.Pattern[str]:
    """Any of the phrases as whole words; longest first, so "what s" wins over "what".
    None of them matches nothing."""
    if not phrases:
        return re.compile(r"(?!)")
    longest_first = sorted(set(phrases), key=len, reverse=True)
    alternatives = "|".join(map(re.escape, longest_first))
    return re.compile(("^" if at_start else r"\b") + f"(?:{alternatives})" + r"(?:\s|$)")


@cache
def turn_sorter(rules_path: Path) -> TurnSorter:
    """The sorter for these rules, read once per process."""
    return TurnSorter(msgspec.toml.decode(rules_path.read_bytes(), type=RememberRules))


def memory_of(
    mode: RememberMode, said: str, reply: str, conversation_id: str, *, tells: bool
) -> Remember | None:
    """The memory a successful turn leaves, or None if it leaves none. ``tells``: its words
    told something (`TurnSorter.tells`; a skill's "remember that ..." always does)."""
    if mode == "exchanges":
        text = f"{EXCHANGE_PREFIX}{said}{EXCHANGE_REPLY}{reply}"
    elif tells:
        # The user's words alone: the reply adds nothing they did not say, and a reply that
        # declined ("I can't check that offline") would be recalled as if it were the answer.
        # "The user said" because "User said" left Qwen 0.5B declining 4 of 12 questions
        # about a fact in front of it ("The user said": 2 of 12; the 1.5B: 0, against 1).
        text = f"{TOLD_PREFIX}{said}"
    else:
        return None
    # The user's own words, apart: what "what do you remember" reads back and "forget that"
    # finds in the llm's history (solo_actors/skills/memories.py).
    return Remember(
        text=text, kind=MEMORY_KIND[mode], conversation_id=conversation_id, meta={SAID: said}
    )


def words_said(text: str, meta: Mapping[str, object]) -> str:
    """The user's own words a memory keeps: its ``said`` meta, or for a memory written
    before that was kept, its text less what `memory_of` put around them."""
    said = meta.get(SAID)
    if isinstance(said, str) and said:
        return said
    if text.startswith(EXCHANGE_PREFIX):
        return text.removeprefix(EXCHANGE_PREFIX).split(EXCHANGE_REPLY, 1)[0]
    return text.removeprefix(TOLD_PREFIX)
