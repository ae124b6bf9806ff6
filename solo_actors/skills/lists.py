"""List skills: the user's shopping list, to-do list and any other list they name.

"Add milk, eggs and bread to my shopping list" puts three items on it (a list is made by
naming it: "add passport to my packing list"); "take eggs off my shopping list" crosses one
off; "what's on my shopping list?" reads it out; "is milk on my shopping list?" looks; "clear
my shopping list" crosses off everything on it; "what lists do I have?" names them. A list
said without a name ("add milk to the list") is the shopping list, except in crossing off
("mark call the bank as done", "tick off milk"), where each item comes off whichever list
has it. Names that mean the same list ("grocery", "todo") are data: the ``[lists]`` table
of ``config/skills/lists.toml``.

The skills actor keeps the open items here and in the store (`SaveListItem`, flushed before
the reply says it is done, as for timers); it reads them back at start. A crossed-off item
stays in the store as history (state ``removed``). ``GET /lists`` lists the open items.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable

from msgspec.structs import replace

from solo_actors.messages import ListItem
from solo_actors.skills.builtin import Answer, refuse
from solo_actors.skills.dates import plural
from solo_actors.skills.templates import SkillMatch
from solo_actors.skills.words import normalise, spoken_and

INTENT_PREFIX = "list."
DEFAULT_LIST = "shopping"
"""The list a request names no list for ("add milk to the list")."""
ITEMS_MAX = 200
"""Open items a list holds at most: a bound on what "what's on my list" would read out."""
READ_MAX = 20
"""Items read out at most; the rest are counted (``GET /lists`` has them all)."""
ITEM_SEPARATOR = re.compile(r"\s*(?:,|;|\band\b|&|\bplus\b)\s*", re.IGNORECASE)
"""Between the items of "milk, eggs and bread"."""
LEADING_QUANTIFIER = re.compile(r"^(?:some|more|a few|a bit of|a|an)\s+(?=\S)", re.IGNORECASE)
"""Words before an item that are not the item: "some milk" is milk on a shopping list."""


def items_said(words: str) -> list[str]:
    """The items of ``words`` as said: "Milk, eggs and some bread" -> milk, eggs, bread."""
    items = [LEADING_QUANTIFIER.sub("", part.strip(" .!?")) for part in ITEM_SEPARATOR.split(words)]
    unique: dict[str, str] = {}
    for item in items:
        if item and normalise(item) not in unique:
            unique[normalise(item)] = item
    return list(unique.values())


def are(items: list[str], *, negated: bool = False) -> str:
    """ "is" or "are" for ``items``: one item is many if it ends like a plural ("eggs")."""
    many = len(items) > 1 or (items[0].endswith("s") and not items[0].endswith("ss"))
    return ("aren't" if many else "isn't") if negated else ("are" if many else "is")


def same_item(said: str, kept: str) -> bool:
    """Whether ``said`` names the item ``kept`` ("egg" and "eggs", "the milk" and "milk")."""
    a, b = (LEADING_QUANTIFIER.sub("", re.sub(r"^the\s+", "", normalise(t))) for t in (said, kept))
    return a == b or a.removesuffix("s") == b.removesuffix("s")


class ListFull(Exception):
    """A list holds `ITEMS_MAX` open items already; the message says so, in words."""


class ListBook:
    """The open items of every list, and the answers of the ``list.*`` intents."""

    def __init__(self) -> None:
        self.items: dict[str, ListItem] = {}
        self.loaded = False

    def load(self, items: Iterable[ListItem]) -> None:
        """The store's open items; an item changed here since is kept as it is here."""
        for item in items:
            self.items.setdefault(item.item_id, item)
        self.loaded = True

    def open_items(self, list_name: str | None = None) -> list[ListItem]:
        """Open items, oldest first: of ``list_name``, or of every list."""
        return sorted(
            (i for i in self.items.values() if list_name in (None, i.list_name)),
            key=lambda item: item.created_at,
        )

    @staticmethod
    def answers(match: SkillMatch) -> bool:
        # A question back ("make a packing list": what to put on it) is the book's, as every
        # intent's ``ask`` is.
        return match.intent.startswith(INTENT_PREFIX) and not match.ask

    def answer(self, match: SkillMatch, now: float | None = None) -> Answer:
        if match.error is not None:
            return refuse(f"Sorry, I can't do that: {match.error}.")
        if not self.loaded:
            return refuse("Sorry, I can't reach your lists yet: the store has not answered.")
        now = time.time() if now is None else now
        name = str(match.slots.get("list") or DEFAULT_LIST)
        said = match.said.get("items") or str(match.slots.get("items", ""))
        match match.intent:
            case "list.add":
                return self.add(name, items_said(said), now)
            case "list.remove":
                return self.remove(name, items_said(said), now)
            case "list.done":
                return self.remove(None, items_said(said), now)
            case "list.has":
                return self.has(name, items_said(said))
            case "list.read":
                return self.read(name)
            case "list.clear":
                return self.clear(name, now)
            case "list.all":
                return self.all_lists()
        return refuse(f"Sorry, I know how that is said, but no skill does {match.intent}.")

    def find(self, name: str | None, item: str) -> ListItem | None:
        """The open ``item`` on list ``name``, or (None) on any list, the oldest first."""
        return next((kept for kept in self.open_items(name) if same_item(item, kept.text)), None)

    def put(self, name: str, items: list[str], now: float) -> tuple[list[ListItem], list[str]]:
        """Put the ``items`` not on list ``name`` yet on it: those added, and those that were
        there; `ListFull` (saying so) if they do not fit."""
        there = [item for item in items if self.find(name, item) is not None]
        new: list[str] = []
        for said in items:  # each once ("milk" and "Milk" from the API are one)
            if said not in there and not any(same_item(said, kept) for kept in new):
                new.append(said)
        if len(new) > ITEMS_MAX - len(self.open_items(name)):
            raise ListFull(f"your {name} list is full: it holds {ITEMS_MAX} items. "
                           "Cross some off first")  # fmt: skip
        # A millisecond apart, so they are read back from the store in the order said: a
        # microsecond is under what a float of epoch seconds keeps (about 0.5 us today), and
        # two items stored at one instant came back in either order.
        added = [ListItem(list_name=name, text=item, created_at=now + index / 1e3)
                 for index, item in enumerate(new)]  # fmt: skip
        for item in added:
            self.items[item.item_id] = item
        return added, there

    def cross_off(self, items: list[ListItem], now: float) -> list[ListItem]:
        """Take open ``items`` off their lists: the changes to make durable."""
        crossed = [replace(item, state="removed", changed_at=now) for item in items]
        for item in crossed:
            del self.items[item.item_id]
        return crossed

    def add(self, name: str, items: list[str], now: float) -> Answer:
        try:
            added, there = self.put(name, items, now)
        except ListFull as full:
            return refuse(f"Sorry, {full}.")
        new = [item.text for item in added]
        if not added:
            return Answer(f"{spoken_and(there).capitalize()} {are(there)} already on your "
                          f"{name} list.")  # fmt: skip
        also = f" {spoken_and(there).capitalize()} {are(there)} already on it." if there else ""
        return Answer(f"Added {spoken_and(new)} to your {name} list.{also}", listed=added)

    def remove(self, name: str | None, items: list[str], now: float) -> Answer:
        """Cross ``items`` off list ``name``, or (None: "mark call the bank as done") each off
        whichever list has it."""
        found = [(item, self.find(name, item)) for item in items]
        crossed = self.cross_off([kept for _, kept in found if kept is not None], now)
        missing = [item for item, kept in found if kept is None]
        parts = []
        for list_name in dict.fromkeys(item.list_name for item in crossed):
            off = [item.text for item in crossed if item.list_name == list_name]
            parts.append(f"Took {spoken_and(off)} off your {list_name} list.")
        if missing:
            isnt = are(missing, negated=True)
            where = f"your {name} list" if name else "any of your lists"
            parts.append(f"{spoken_and(missing).capitalize()} {isnt} on {where}.")
        return Answer(" ".join(parts), listed=crossed, refused=not crossed)

    def has(self, name: str, items: list[str]) -> Answer:
        on = [item for item in items if self.find(name, item) is not None]
        off = [item for item in items if item not in on]
        if not off:
            return Answer(f"Yes, {spoken_and(on)} {are(on)} on your {name} list.")
        also = f" {spoken_and(on).capitalize()} {are(on)}." if on else ""
        return Answer(f"No, {spoken_and(off)} {are(off, negated=True)} on your {name} list.{also}")

    def read(self, name: str) -> Answer:
        items = self.open_items(name)
        if not items:
            return Answer(f"Your {name} list is empty.")
        said = [item.text for item in items[:READ_MAX]]
        more = len(items) - len(said)
        if more:
            said.append(plural(more, "more item"))
        return Answer(f"Your {name} list has {plural(len(items), 'item')}: {spoken_and(said)}.")

    def clear(self, name: str, now: float) -> Answer:
        items = self.open_items(name)
        if not items:
            return Answer(f"Your {name} list is already empty.")
        crossed = self.cross_off(items, now)
        return Answer(f"I cleared your {name} list: {plural(len(items), 'item')} crossed off.",
                      listed=crossed)  # fmt: skip

    def all_lists(self) -> Answer:
        counts: dict[str, int] = {}
        for item in self.open_items():
            counts[item.list_name] = counts.get(item.list_name, 0) + 1
        if not counts:
            return Answer("All your lists are empty. Say, for example, "
                          '"add milk to my shopping list".')  # fmt: skip
        said = [f"{name} with {plural(count, 'item')}" for name, count in counts.items()]
        return Answer(f"You have {plural(len(counts), 'list')}: {spoken_and(said)}.")
