"""A safe calculator for spoken arithmetic: a tokenizer and a recursive-descent parser.

Nothing is ever handed to ``eval`` or ``ast``: the only values are numbers and the only
operations are the ones in `BINARY` and `POSTFIX`, so whatever the text, the worst it can
do is be refused. Precedence, lowest first: plus/minus; times/divided by/"of"; powers;
unary minus, square root of and factorial of; postfix (percent, squared, cubed,
factorial). "15 percent of 80" is 0.15 x 80, and a percentage added to or taken from a sum
is of that sum: "45 plus 20 percent" is 54.
"""

from __future__ import annotations

import math
import re
import statistics
from collections.abc import Callable

from solo_actors.skills.words import (
    NUMBER_WORD,
    NoMatch,
    SlotError,
    number_from_words,
    spoken_and,
)

BINARY = {
    "plus": "+", "add": "+", "+": "+", "minus": "-", "less": "-", "-": "-",
    "times": "*", "multiplied by": "*", "x": "*", "*": "*", "of": "*",
    "divided by": "/", "over": "/", "/": "/",
    "to the power of": "^", "to the": "^", "^": "^", "**": "^", "mod": "%", "modulo": "%",
}  # fmt: skip
POSTFIX = {"percent": 0.01, "squared": 2, "cubed": 3, "factorial": 0}
"""A postfix word and its number: a share (percent) or an exponent; factorial's is unused."""
SQUARE_ROOT = ("square root of", "the square root of")
FACTORIAL_OF = ("factorial of", "the factorial of")
PREFIX = (*SQUARE_ROOT, *FACTORIAL_OF, "minus", "negative")
LARGEST_FACTORIAL = 170
"""The largest whole number whose factorial a float holds."""
CURRENCIES = ("dollars", "dollar", "euros", "euro", "pounds", "pound", "bucks", "buck")
"""Money said with a sum ("15 euros plus 20 percent"): the sum is the same without it."""
LEVELS = (("+", "-"), ("*", "/", "%"))
LEVEL_ENDS = (None, ")", "+", "-")
"""What may follow a sum's term."""

_OPERATORS = sorted([*BINARY, *POSTFIX, *PREFIX, *CURRENCIES, "(", ")"], key=len, reverse=True)
_TOKEN = re.compile(
    r"\s*(\d+(?:\.\d+)?|"
    + "|".join(re.escape(o) + (r"\b" if o[-1].isalpha() else "") for o in _OPERATORS)
    + rf"|(?:{NUMBER_WORD}|and|point)\b)"
)
MATH_PATTERN = (
    r"(?:\(\s*)*(?:(?:minus|negative|(?:the\s+)?(?:square\s+root|factorial)\s+of)\s+)*"
    r"[\d(a-z][-\w .()+*/^%]*?"
)
"""What an ``{expr:math}`` slot may span; `parse_expression` decides whether it is one."""
MAX_EXPONENT = 1000
_NUMBER_TOKEN = re.compile(rf"\d+(?:\.\d+)?|{NUMBER_WORD}")


def tokens(text: str) -> list[str | float]:
    """Numbers (as floats) and operator words; `NoMatch` if anything else is in the text."""
    raw: list[str] = []
    position = 0
    text = text.strip()
    while position < len(text):
        found = _TOKEN.match(text, position)
        if found is None:
            raise NoMatch(f"not arithmetic: {text[position:]!r}")
        if found.group(1) not in CURRENCIES:
            raw.append(found.group(1))
        position = found.end()
        while position < len(text) and text[position] == " ":
            position += 1
    out: list[str | float] = []
    words: list[str] = []
    for token in [*raw, ""]:
        number_like = token in ("and", "point") or re.fullmatch(_NUMBER_TOKEN, token)
        if number_like and token:
            words.append(token)
            continue
        if words:
            if words[-1] == "and":  # "and" only joins numbers ("one hundred and five")
                raise NoMatch("'and' is not an operator")
            out.append(number_from_words(words))
            words = []
        if token:
            out.append(BINARY.get(token, token))
    return out


class _Parser:
    def __init__(self, items: list[str | float]) -> None:
        self.items = items
        self.at = 0

    def peek(self) -> str | float | None:
        return self.items[self.at] if self.at < len(self.items) else None

    def take(self) -> str | float | None:
        item = self.peek()
        self.at += 1
        return item

    def expression(self, level: int = 0) -> float:
        if level == len(LEVELS):
            return self.power()
        value = self.expression(level + 1)
        while self.peek() in LEVELS[level]:
            operator = self.take()
            share = self.bare_percent() if level == 0 else None
            if share is not None:  # "45 plus 20 percent" is 54, as on a calculator
                value *= 1 + share if operator == "+" else 1 - share
                continue
            right = self.expression(level + 1)
            value = apply(str(operator), value, right)
        return value

    def bare_percent(self) -> float | None:
        """The share of a term that is a percentage alone ("20 percent", then the end, a
        bracket or another plus or minus), taken; None, taking nothing, for any other."""
        number, word, after = [*self.items[self.at : self.at + 3], None, None, None][:3]
        if not isinstance(number, float) or word != "percent" or after not in LEVEL_ENDS:
            return None
        self.at += 2
        return number * POSTFIX["percent"]

    def power(self) -> float:
        base = self.unary()
        if self.peek() == "^":
            self.take()
            exponent = self.power()  # right-associative
            return apply("^", base, exponent)
        return base

    def unary(self) -> float:
        item = self.peek()
        if item in ("-", "minus", "negative"):
            self.take()
            return -self.unary()
        if item in SQUARE_ROOT:
            self.take()
            value = self.unary()
            if value < 0:
                raise SlotError("a negative number has no real square root")
            return math.sqrt(value)
        if item in FACTORIAL_OF:
            self.take()
            return factorial(self.unary())
        return self.postfix(self.primary())

    def primary(self) -> float:
        item = self.take()
        if isinstance(item, float):
            return item
        if item == "(":
            value = self.expression()
            if self.take() != ")":
                raise NoMatch("unbalanced brackets")
            return value
        raise NoMatch(f"expected a number, got {item!r}")

    def postfix(self, value: float) -> float:
        while self.peek() in POSTFIX:
            word = str(self.take())
            if word == "percent":
                value *= POSTFIX[word]
            elif word == "factorial":
                value = factorial(value)
            else:
                value = apply("^", value, POSTFIX[word])
        return value


def factorial(value: float) -> float:
    """``value``! ("5 factorial": 120), of a whole number from 0 to `LARGEST_FACTORIAL`."""
    if value != int(value) or value < 0:
        raise SlotError("a factorial is of a whole number, 0 or more")
    if value > LARGEST_FACTORIAL:
        raise SlotError("that number is too large for me to work out")
    return float(math.factorial(int(value)))


def apply(operator: str, left: float, right: float) -> float:
    if operator == "+":
        return left + right
    if operator == "-":
        return left - right
    if operator == "*":
        return left * right
    if operator in ("/", "%"):
        if right == 0:
            raise SlotError("you can't divide by zero")
        return left / right if operator == "/" else math.fmod(left, right)
    if abs(right) > MAX_EXPONENT or (left == 0 and right < 0):
        raise SlotError("that number is too large for me to work out")
    try:
        result = left**right
    except OverflowError as error:
        raise SlotError("that number is too large for me to work out") from error
    if isinstance(result, complex):
        raise SlotError("that has no real answer")
    return result


def parse_expression(text: str) -> float:
    """The value of spoken arithmetic ("17 times 23", "15 percent of 80", "2 to the power
    of 10"); `NoMatch` when the text is not arithmetic with at least one operation."""
    items = tokens(text)
    if not any(isinstance(item, str) for item in items):
        raise NoMatch("a bare number is not a calculation")
    parser = _Parser(items)
    value = parser.expression()
    if parser.peek() is not None:
        raise NoMatch(f"unexpected {parser.peek()!r}")
    if not math.isfinite(value):
        raise SlotError("that number is too large for me to work out")
    return value


GROUPED_FROM = 10_000
"""The smallest number said with its thousands grouped: four digits are often a year."""


def spoken_number(value: float) -> str:
    """A result as it should be said: whole numbers without a decimal point, others to at
    most four decimals, huge ones in scientific form; from 10,000 up with its thousands
    grouped, as people read it ("31,536,000"; a year such as 1985 is not grouped)."""
    if abs(value) >= 1e15:
        return f"{value:.4g}"
    grouping = "," if abs(value) >= GROUPED_FROM else ""
    if value == int(value):
        return f"{int(value):{grouping}}"
    return f"{value:{grouping}.4f}".rstrip("0").rstrip(".")


SUMMARIES: dict[str, tuple[str, Callable[[list[float]], float]]] = {
    "math.average": ("The average of {said} is {value}.", statistics.fmean),
    "math.median": ("The median of {said} is {value}.", statistics.median),
    "math.sum": ("{said} add up to {value}.", math.fsum),
}
"""A list of numbers' summary intents: how the answer is said, and how it is worked out."""


def summarised(intent: str, values: list[float]) -> str:
    """ "The average of 4, 8 and 15 is 9.": the numbers as heard, then the result (the
    model had said 12 for that one)."""
    said, summary = SUMMARIES[intent]
    heard = spoken_and([spoken_number(value) for value in values])
    answer = said.format(said=heard, value=spoken_number(summary(values)))
    return answer[0].upper() + answer[1:]


LARGEST_FACTORED = 10**12
"""The largest number factored: trial division up to its square root takes milliseconds."""


def prime_factors(number: float) -> list[int]:
    """`number`'s prime factors, smallest first, each as often as it divides it; a
    `ValueError` saying why for a number that has none to speak of."""
    if number != int(number):
        raise ValueError("only whole numbers have prime factors")
    whole = int(number)
    if whole < 2:
        raise ValueError("only whole numbers from 2 up have prime factors")
    if whole > LARGEST_FACTORED:
        raise ValueError(f"I factor numbers up to {LARGEST_FACTORED:,}")
    factors, divisor = [], 2
    while divisor * divisor <= whole:
        while whole % divisor == 0:
            factors.append(divisor)
            whole //= divisor
        divisor += 1 if divisor == 2 else 2
    return [*factors, whole] if whole > 1 else factors


def primality(number: float) -> str:
    """ "Yes, 97 is a prime number." or "No, 91 is 7 times 13." (the model has called
    such numbers prime)."""
    said = spoken_number(number)
    if number != int(number) or number < 2:
        return f"No, {said} is not a prime number: a prime is a whole number from 2 up."
    factors = prime_factors(number)
    if len(factors) == 1:
        return f"Yes, {said} is a prime number."
    return f"No, {said} is {factors[0]} times {spoken_number(number / factors[0])}."


def factorised(number: float) -> str:
    """ "84 is 2 times 2 times 3 times 7.", "97 is a prime number: its only prime factor
    is itself."."""
    factors = prime_factors(number)
    if len(factors) == 1:
        return f"{factors[0]} is a prime number: its only prime factor is itself."
    return f"{spoken_number(number)} is {' times '.join(map(str, factors))}."
