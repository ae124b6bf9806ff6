"""Chance: a coin, dice, a number and a joke picked at random, for the ``chance.*`` intents.

A skill, not the model: the default model refused ("I can't flip a coin offline."), and one
that answers greedily (``llm.temperature = 0``, the default) gives the same "random"
answer each time: "Tell me a joke." got the same joke again and again. The `random.Random`
is the skill book's (`SkillBook.chance`), so a test can seed it.
"""

from __future__ import annotations

import math
import random
from collections import deque

from solo_actors.skills.arithmetic import spoken_number

# Bounds that keep an answer short enough to say.
MOST_DICE = 10
MOST_SIDES = 1000
WIDEST_RANGE = 1_000_000_000


def flipped(chance: random.Random) -> str:
    return chance.choice(("Heads.", "Tails."))


def rolled(chance: random.Random, count: int, sides: int) -> str:
    """ "You rolled a 4." or "You rolled 3 and 5: 8 in all."; `ValueError` saying what is
    wrong with the dice asked for."""
    if not 1 <= count <= MOST_DICE:
        raise ValueError(f"I can roll one to {MOST_DICE} dice, not {spoken_number(count)}")
    if not 2 <= sides <= MOST_SIDES:
        raise ValueError(f"a die has 2 to {MOST_SIDES} sides, not {spoken_number(sides)}")
    faces = [chance.randint(1, sides) for _ in range(count)]
    if count == 1:
        return f"You rolled {article(faces[0])} {faces[0]}."
    listed = ", ".join(str(face) for face in faces[:-1]) + f" and {faces[-1]}"
    return f"You rolled {listed}: {sum(faces)} in all."


def picked(chance: random.Random, low: float, high: float) -> str:
    """A whole number from ``low`` to ``high``, both included, in either order."""
    low, high = sorted((low, high))
    first, last = math.ceil(low), math.floor(high)
    if first > last:
        raise ValueError(f"there is no whole number between {spoken_number(low)} and "
                         f"{spoken_number(high)}")  # fmt: skip
    if last - first > WIDEST_RANGE:
        raise ValueError(f"pick a range of at most {spoken_number(WIDEST_RANGE)} numbers")
    return f"I picked {chance.randint(first, last)}."


def told_joke(chance: random.Random, jokes: list[str], told: deque[str]) -> str:
    """A joke of ``jokes`` not among those ``told`` lately (every other one, at most), which
    remembers it."""
    if not jokes:
        raise ValueError("I know no jokes yet: add some to config/skills/jokes.toml")
    joke = chance.choice([joke for joke in jokes if joke not in told] or jokes)
    told.append(joke)
    return joke


def article(number: int) -> str:
    """ "an" before a face said with a vowel first (8, 11, 18, 80-89, 800-899)."""
    said = str(number)
    return "an" if said.startswith("8") or said in ("11", "18") else "a"
