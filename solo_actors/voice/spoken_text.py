"""Where a streamed reply is cut into the pieces tts speaks: sentences, and a first chunk.

tts synthesises a reply while the llm still writes it, one piece at a time, and the time
to a reply's first sound is the time to write and synthesise its first piece. So the first
piece is cut as early as it can be without sounding broken (`first_chunk`), and every later
one at a sentence end (`SENTENCE_END`), while the earlier audio plays.

Only tts cuts: when it starts speaking a reply's first chunk it tells the llm so with an
urgent `SpeechStarted`, and generation then leaves tts a core (`solo_actors.llm.engine`); the
llm knows nothing of how speech is cut.
"""

from __future__ import annotations

import re

SENTENCE_END = re.compile(r"(?<=[.!?;:])\s+|\n+")
"""Where a sentence may be cut: after end punctuation and a space, or at a line break."""

FIRST_SENTENCE_END = re.compile(r"(?<=[^\W\d_][.!?])(?:\s+|$)|\n+")
"""The end of a reply's first sentence, as soon as its full stop is written: the space
that follows comes with the next token, which is not worth waiting for. A full stop after
a digit may be a decimal point ("3.5"), so that one waits for its space."""

CLAUSE_END = re.compile(r"(?<=,)\s+")
"""The end of a reply's first clause: after a comma and a space."""

FIRST_CLAUSE_CHARS = 16
"""A shorter first clause ("Yes, ...") waits for more: a lone word sounds clipped."""

PHRASE_WORDS = (
    "is|are|was|were|has|have|had|will|would|can|could|should|may|might|must"
    "|in|on|at|for|with|from|by|about|during|after|before|because|since|which|who|that|but|so"
)
PHRASE_START = re.compile(rf"\s+(?=(?:{PHRASE_WORDS})\b)", re.IGNORECASE)
"""Before a word that usually opens a new phrase: a verb after its subject ("The capital of
France | is Paris"), a preposition or a conjunction ("Water boils | at 100 degrees")."""

DANGLING = re.compile(
    rf"\b(?:{PHRASE_WORDS}|a|an|the|of|to|and|or|not|no|very|my|your|our|their|its|his|her"
    r"|this|these|those|i|you|he|she|it|we|they|there|here|what|where|when|how|why)\W*$",
    re.IGNORECASE,
)
"""A word a phrase does not end with ("A fruit that | is yellow", "I think it | is"): no
cut right after it."""

FIRST_PHRASE_WORDS = 3
"""Words a first chunk cut before such a word has at least: "A spider | has ..." waits."""

WORD = re.compile(r"\w+")


def first_chunk(text: str) -> tuple[str, str]:
    """(a reply's first chunk to speak, the rest) once `text`, the reply so far with
    nothing of it spoken yet, holds one; else ("", text).

    The first chunk ends at the earliest of: the first sentence's end, the first clause's
    end (once ``FIRST_CLAUSE_CHARS`` long), or, while that sentence is unfinished, the
    start of a new phrase (after at least ``FIRST_PHRASE_WORDS`` words). A chunk cut at a
    phrase ends with a comma, so that Piper says it with a phrase's rising pitch, not a
    sentence's final fall.
    """
    cuts: list[tuple[int, int, str]] = []
    # Line breaks before any word ("\n\nThe capital ...") end no sentence.
    ends = (end for end in FIRST_SENTENCE_END.finditer(text) if text[: end.start()].strip())
    if sentence := next(ends, None):
        cuts.append((sentence.start(), sentence.end(), ""))
    for clause in CLAUSE_END.finditer(text):
        if clause.start() >= FIRST_CLAUSE_CHARS:
            cuts.append((clause.start(), clause.end(), ""))
            break
    if sentence is None:
        # A phrase is cut only while its sentence is still being written: a whole
        # sentence sounds better said whole, and is there already.
        for phrase in PHRASE_START.finditer(text):
            before = text[: phrase.start()]
            if len(WORD.findall(before)) >= FIRST_PHRASE_WORDS and not DANGLING.search(before):
                cuts.append((phrase.start(), phrase.end(), "" if before.endswith(",") else ","))
                break
    if not cuts:
        return "", text
    start, end, mark = min(cuts)
    return text[:start] + mark, text[end:]


def sentences(text: str) -> tuple[list[str], str]:
    """The whole sentences at the start of `text`, and the unfinished rest."""
    *whole, rest = SENTENCE_END.split(text)
    return whole, rest
