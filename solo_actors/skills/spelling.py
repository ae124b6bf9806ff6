"""Spelling and letters, for the ``spelling.*`` intents: from the words as heard.

A model reads tokens, not letters: the default one spelled "necessary" as "neceessary" and
counted 8 letters in "strawberry". The words here are those stt wrote (or the user typed),
in their own spelling (`SkillMatch.said`), so the letters are theirs.
"""

from __future__ import annotations

SAID_SIGNS = {"'": "apostrophe", "-": "hyphen", ".": "dot"}
"""Signs inside a word, said by name when it is spelled ("don't": D, O, N, apostrophe, T)."""


def letters_of(word: str) -> str:
    """ "N, E, C, E, S, S, A, R, Y": each letter, and each sign by its name."""
    kept = [sign for sign in word if sign.isalnum() or sign in SAID_SIGNS]
    return ", ".join(SAID_SIGNS.get(sign, sign.upper()) for sign in kept)


def spelled(words: str) -> str:
    """ "Necessary is spelled N, E, C, E, S, S, A, R, Y." (a second word after "then")."""
    said = "; then ".join(filter(None, (letters_of(word) for word in words.split())))
    return f"{words[:1].upper()}{words[1:]} is spelled {said}."


def counted(words: str, letter: str | None) -> str:
    """ "Strawberry has 10 letters." or "There are 3 r's in strawberry." """
    if letter is None:
        count = sum(sign.isalpha() for sign in words)
        return f"{words[:1].upper()}{words[1:]} has {count} letter{'s' if count != 1 else ''}."
    count = words.lower().count(letter.lower())
    if count == 1:
        return f"There is one {letter} in {words}."
    return f"There are {'no' if count == 0 else count} {letter}'s in {words}."
