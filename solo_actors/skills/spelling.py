"""Spelling and letters, for the ``spelling.*`` intents: from the words as heard.

A model reads tokens, not letters: the default one spelled "necessary" as "neceessary" and
counted 8 letters in "strawberry". The words here are those stt wrote (or the user typed),
in their own spelling (`SkillMatch.said`), so the letters are theirs.
"""

from __future__ import annotations

SAID_SIGNS = {"'": "apostrophe", "-": "hyphen", ".": "dot"}
"""Signs inside a word, said by name when it is spelled ("don't": D, O, N, apostrophe, T)."""


def spelled(word: str) -> str:
    """ "Necessary is spelled N, E, C, E, S, S, A, R, Y.": each letter, each sign by name."""
    kept = [sign for sign in word if sign.isalnum() or sign in SAID_SIGNS]
    letters = ", ".join(SAID_SIGNS.get(sign, sign.upper()) for sign in kept)
    return f"{word[:1].upper()}{word[1:]} is spelled {letters}."


def counted(word: str, letter: str | None) -> str:
    """ "Strawberry has 10 letters." or "There are 3 r's in strawberry." """
    if letter is None:
        count = sum(sign.isalpha() for sign in word)
        return f"{word[:1].upper()}{word[1:]} has {count} letter{'s' if count != 1 else ''}."
    count = word.lower().count(letter.lower())
    if count == 1:
        return f"There is one {letter} in {word}."
    return f"There are {'no' if count == 0 else count} {letter}'s in {word}."
