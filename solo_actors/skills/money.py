"""A tip on a bill, a bill shared between people and a price with a percentage off, for the
``math.tip``, ``math.split`` and ``math.discount`` intents: amounts to the cent, said without
a currency (Solo is not told the user's).

A skill, not the model: the default model's arithmetic on a bill is a guess, and the turn is
one a person asks at a table with the bill in hand.
"""

from __future__ import annotations

import math

from solo_actors.skills.arithmetic import spoken_number
from solo_actors.skills.chance import article

LARGEST_BILL = 1_000_000_000
MOST_PEOPLE = 1000
USUAL_TIPS = (10, 15, 20)
"""The rates said when none was asked for: customs differ, so the choice is the user's."""


def amount(value: float) -> str:
    """ "54", "6.75", "4.50": whole amounts without cents, others to the cent, a half cent
    up (as a till rounds: 7.125 is 7.13, where `round` would make it 7.12)."""
    cents = to_cents(value)
    return str(cents // 100) if cents % 100 == 0 else f"{cents / 100:.2f}"


def to_cents(value: float) -> int:
    return math.floor(value * 100 + 0.5 + 1e-9)  # 1e-9: 7.125 * 100 may land just under


def check_bill(bill: float) -> None:
    if not 0 < bill <= LARGEST_BILL:
        raise ValueError(f"a bill must be more than 0 and at most {LARGEST_BILL:,}")


def tipped(bill: float, rate: float | None) -> str:
    """ "A 20 percent tip on 45 is 9, which makes 54."; without a rate, the usual ones.
    `ValueError` saying what is wrong with the bill or the rate."""
    check_bill(bill)
    if rate is None:
        each = [f"{rate} percent is {amount(bill * rate / 100)}" for rate in USUAL_TIPS]
        each[0] = each[0].replace(" percent", " percent tip", 1)
        return f"On {amount(bill)}, {article(USUAL_TIPS[0])} {', '.join(each[:-1])} and {each[-1]}."
    if not 0 < rate <= 100:
        raise ValueError(f"a tip is more than 0 and at most 100 percent, not {rate:g}")
    tip = to_cents(bill * rate / 100) / 100  # the total is the bill and the tip as said
    said = f"{article(int(rate)).capitalize()} {spoken_number(rate)} percent tip"
    return f"{said} on {amount(bill)} is {amount(tip)}, which makes {amount(bill + tip)}."


def shared(total: float, people: float) -> str:
    """ "That's 30 each." or "That's 33.33 each, with a cent over."; `ValueError` saying
    what is wrong with the total or the number of people."""
    check_bill(total)
    if people != int(people) or not 2 <= people <= MOST_PEOPLE:
        raise ValueError(f"I can share a bill between 2 and {MOST_PEOPLE} people")
    cents = to_cents(total)
    each, over = divmod(cents, int(people))
    rest = "" if not over else f", with {over} cent{'s' if over != 1 else ''} over"
    return f"That's {amount(each / 100)} each{rest}."


def discounted(price: float, rate: float) -> str:
    """ "20 percent off 80 is 64: 16 off."; `ValueError` saying what is wrong with the price
    or the rate."""
    check_bill(price)
    if not 0 < rate <= 100:
        raise ValueError(f"a discount is more than 0 and at most 100 percent, not {rate:g}")
    off = to_cents(price * rate / 100) / 100
    return (
        f"{spoken_number(rate)} percent off {amount(price)} is {amount(price - off)}: "
        f"{amount(off)} off."
    )
