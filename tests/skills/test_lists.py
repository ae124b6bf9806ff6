"""Lists (solo_actors/skills/lists.py): what is said puts items on a list, takes them off and
reads them out; the lists are the store's, so they survive a restart, and what is crossed
off stays as history. The words are checked through the real matcher; durability through
the real skills and store actors."""

from __future__ import annotations

import itertools

import pytest

import supervisors
from solo_actors.config import Config
from solo_actors.dialogue import converse
from solo_actors.messages import ListItem, ReadRows, Rows
from solo_actors.names import STORE_NAME
from solo_actors.skills.lists import ITEMS_MAX, READ_MAX, ListBook, items_said, same_item
from solo_actors.skills.templates import Matcher
from tests.conftest import ConfigFactory
from tests.skills.conftest import NOW, start

SECONDS = itertools.count()


def said(lists: ListBook, matcher: Matcher, text: str) -> str:
    """The answer to ``text``, said a second after the one before."""
    match = matcher.match(text)
    assert match is not None and lists.answers(match), (text, match)
    return lists.answer(match, NOW + next(SECONDS)).text


@pytest.fixture
def lists() -> ListBook:
    loaded = ListBook()
    loaded.load([])
    return loaded


def test_items_are_split_as_said_and_named_alike(lists: ListBook) -> None:
    assert items_said("Milk, eggs and some bread.") == ["Milk", "eggs", "bread"]
    assert items_said("salt & pepper plus a lemon") == ["salt", "pepper", "lemon"]
    assert items_said("milk and milk") == ["milk"]
    assert same_item("egg", "eggs") and same_item("the milk", "Milk")
    assert not same_item("oat milk", "milk")


def test_a_shopping_list_is_filled_read_and_crossed_off(lists: ListBook, matcher: Matcher) -> None:
    assert said(lists, matcher, "What's on my shopping list?") == "Your shopping list is empty."
    assert (said(lists, matcher, "Add milk, eggs and bread to my shopping list.")
            == "Added milk, eggs and bread to your shopping list.")  # fmt: skip
    assert (said(lists, matcher, "add eggs and butter to the grocery list")
            == "Added butter to your shopping list. Eggs are already on it.")  # fmt: skip
    assert said(lists, matcher, "Add milk to the list.") == "Milk is already on your shopping list."
    assert (said(lists, matcher, "Is milk on my shopping list?")
            == "Yes, milk is on your shopping list.")  # fmt: skip
    assert (said(lists, matcher, "Are cheese and bread on my shopping list?")
            == "No, cheese isn't on your shopping list. Bread is.")  # fmt: skip
    assert (said(lists, matcher, "Take eggs and ham off my shopping list.")
            == "Took eggs off your shopping list. Ham isn't on your shopping list.")  # fmt: skip
    assert (said(lists, matcher, "What do I need to buy?")
            == "Your shopping list has 3 items: milk, bread and butter.")  # fmt: skip
    assert (said(lists, matcher, "Add call the plumber to my to-do list.")
            == "Added call the plumber to your to-do list.")  # fmt: skip
    assert (said(lists, matcher, "What lists do I have?")
            == "You have 2 lists: shopping with 3 items and to-do with 1 item.")  # fmt: skip
    assert (said(lists, matcher, "Clear my shopping list.")
            == "I cleared your shopping list: 3 items crossed off.")  # fmt: skip
    assert [i.text for i in lists.open_items()] == ["call the plumber"]


def test_an_item_crossed_off_without_a_list_comes_off_whichever_list_has_it(
    lists: ListBook, matcher: Matcher
) -> None:
    said(lists, matcher, "add call the bank to my to-do list")
    said(lists, matcher, "add milk and eggs to my shopping list")
    assert (said(lists, matcher, "mark call the bank as done")
            == "Took call the bank off your to-do list.")  # fmt: skip
    assert said(lists, matcher, "tick off milk and the plumber") == (
        "Took milk off your shopping list. The plumber isn't on any of your lists."
    )
    bread = matcher.match("check off bread")
    assert bread is not None
    nothing = lists.answer(bread, NOW)
    assert nothing.refused and nothing.text == "Bread isn't on any of your lists."
    assert [i.text for i in lists.open_items()] == ["eggs"]


def test_a_long_list_is_read_in_part_and_a_full_one_refuses_more(lists: ListBook) -> None:
    lists.put("packing", [f"thing {n}" for n in range(READ_MAX + 3)], NOW)
    read = lists.read("packing").text
    assert read.startswith(f"Your packing list has {READ_MAX + 3} items: thing 0, thing 1")
    assert read.endswith(f"thing {READ_MAX - 1} and 3 more items.")
    lists.put("packing", [f"more {n}" for n in range(ITEMS_MAX - READ_MAX - 3)], NOW)
    full = lists.add("packing", ["one too many"], NOW)
    assert full.refused and "full" in full.text and len(lists.open_items("packing")) == ITEMS_MAX


def test_lists_wait_for_the_store_before_answering(matcher: Matcher) -> None:
    match = matcher.match("What's on my shopping list?")
    assert match is not None
    answer = ListBook().answer(match, NOW)  # never loaded: it does not say "empty"
    assert answer.refused and "can't reach your lists yet" in answer.text


@pytest.fixture
def config(make_config: ConfigFactory) -> Config:
    return make_config(memory__enabled=False)


def test_a_list_survives_a_restart_and_what_is_crossed_off_stays_as_history(
    config: Config,
) -> None:
    root = start(config)
    try:
        added = converse("Add milk, eggs and bread to my shopping list.", "kitchen")
        assert added.reply == "Added milk, eggs and bread to your shopping list."
        assert added.model == "skills:list.add" and added.error is None
    finally:
        root.stop()

    root = start(config)  # a new process would find the same: the store is the truth
    try:
        read = converse("What's on my shopping list?", "kitchen")
        assert read.reply == "Your shopping list has 3 items: milk, eggs and bread."
        crossed = converse("Cross eggs off my shopping list.", "kitchen")
        assert crossed.reply == "Took eggs off your shopping list."
        # A list is made by putting something on it: Solo asks what, the answer puts it.
        asked = converse("Make a packing list.", "kitchen")
        assert (asked.reply, asked.model) == (
            "What should I put on your packing list?", "skills:list.ask_items")  # fmt: skip
        packed = converse("Socks and a toothbrush.", "kitchen")
        assert packed.reply == "Added socks and toothbrush to your packing list.", packed
        # The question names the list as Solo does: "grocery" is the shopping list.
        assert converse("Make a grocery list.", "kitchen").reply == (
            "What should I put on your shopping list?"
        )
        rows = supervisors.ask(STORE_NAME, ReadRows(table="list_items"), timeout=5)
        assert isinstance(rows, Rows)
        items = [ListItem(**dict(zip(rows.columns, row, strict=True))) for row in rows.rows]
        assert sorted((i.text, i.state) for i in items) == [
            ("bread", "open"), ("eggs", "removed"), ("milk", "open"), ("socks", "open"),
            ("toothbrush", "open")]  # fmt: skip
        (eggs,) = [i for i in items if i.state == "removed"]
        assert eggs.changed_at is not None and eggs.changed_at >= eggs.created_at
    finally:
        root.stop()
