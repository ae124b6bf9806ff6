"""Long-term memory through the whole tree: a fact told in one conversation is recalled in a
later one, read ahead with the words that recall it; a question leaves no memory; what the
user has Solo forget is gone from memory and from the llm's histories; and every turn is
recorded in the store."""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import supervisors
from solo_actors.config import load_config
from solo_actors.dialogue import converse, with_memories
from solo_actors.messages import (
    Flush,
    Flushed,
    GetMemoryStatus,
    ListMemories,
    LLMGetHistory,
    LLMHistory,
    Memories,
    MemoryItem,
    MemoryList,
    MemoryStatus,
    ReadRows,
    Recall,
    Remember,
    Rows,
    TurnAhead,
)
from solo_actors.names import DIALOGUE_NAME, LLM_NAME, MEMORY_NAME
from solo_actors.runtime.app import start_tree
from solo_actors.runtime.ids import new_id
from solo_actors.skills.memories import THAT_WITHIN
from tests.conftest import config_environment, wait_for


@pytest.fixture(scope="module")
def var_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("memory") / "var"


@pytest.fixture(scope="module")
def default_model_tree(var_dir: Path) -> Iterator[supervisors.SupervisorRef]:
    # The tiny test model can't be relied on to use a memory; the default model does. A
    # turn gives up on a recall slower than half a second; a loaded test machine is no
    # reason to.
    overrides = {
        "llm.model": "qwen2.5-coder-0.5b-instruct-q4_k_m",
        "llm.max_tokens": 48,
        "dialogue.recall_timeout": 10,
    }
    root = start_tree(load_config("test", environ=config_environment(var_dir, overrides)))
    yield root
    root.stop()


def memories_held() -> int:
    status = supervisors.ask(MEMORY_NAME, GetMemoryStatus(), timeout=10)
    assert isinstance(status, MemoryStatus), status
    return status.memories


def wait_for_memories(count: int) -> None:
    wait_for(lambda: memories_held() >= count, f"memory to hold {count} memories")


def recalled(text: str) -> list[str]:
    answer = supervisors.ask(MEMORY_NAME, Recall(query=text), timeout=10)
    assert isinstance(answer, Memories) and answer.error is None, answer
    return [item.memory_id for item in answer.items]


def llm_figures() -> dict[str, Any]:
    llm = supervisors.whereis(LLM_NAME)
    assert llm is not None, "the llm is not running"
    return dict(llm.lifecycle.figures)


def tokens_read_ahead(ahead: TurnAhead) -> int:
    """Tell the dialogue actor `ahead` and wait for the llm to read it: the tokens read."""
    before = llm_figures()
    supervisors.tell(DIALOGUE_NAME, ahead)
    wait_for(
        lambda: llm_figures()["prefills"] > before["prefills"],
        f"the llm to read {ahead.text!r} ahead",
    )
    return int(llm_figures()["prefill_tokens"] - before["prefill_tokens"])


def test_the_same_memories_read_the_same_whatever_their_similarity_order() -> None:
    """The words so far and the whole question may rank the same memories otherwise; the
    prompt must not change with the ranking, or the pause reads it all again."""

    def memory(text: str, at: float) -> MemoryItem:
        return MemoryItem(memory_id=new_id(), text=text, similarity=0.5, kind="exchange",
                          user_id=None, conversation_id="earlier", meta={}, at=at)  # fmt: skip

    older = memory("User said: What colour is the sky?", at=1.0)
    newer = memory("User said: What colour is grass?", at=2.0)
    prompt = with_memories("What colour is grass?", [newer, older])
    assert prompt == with_memories("What colour is grass?", [older, newer])
    assert prompt.index(older.text) < prompt.index(newer.text)  # oldest first


def test_the_words_so_far_are_read_ahead_with_their_memories(
    default_model_tree: supervisors.SupervisorRef,
) -> None:
    # The start's warm-up reads the system prompt once the tool owners are up: it must not
    # come between the two read-aheads measured below and take their KV cells.
    wait_for(lambda: llm_figures().get("prefills"), "the llm's warm-up")
    held = memories_held()
    told = converse("Please remember this: my dog is called Rex.", "dog-told")
    assert told.error is None, told.error
    wait_for_memories(held + 1)
    start, whole = "What is my dog called", "What is my dog called again?"
    from_start = recalled(start)
    assert from_start and from_start == recalled(whole), (
        "this test needs the question's start to recall the memories the whole question "
        "does; pick words for which the embedder agrees"
    )

    turn = {"turn_id": new_id(), "conversation_id": "dog-asked"}
    speaking = tokens_read_ahead(TurnAhead(**turn, text=start, speaking=True))
    at_pause = tokens_read_ahead(TurnAhead(**turn, text=whole))
    # Read while the user spoke: the memory's lines and the first words. Left at the
    # pause: the last words and the template's end, as if there were no memory at all.
    assert at_pause < 12 < speaking, (speaking, at_pause)


def test_a_fact_from_one_conversation_is_recalled_in_another(
    default_model_tree: supervisors.SupervisorRef,
) -> None:
    held = memories_held()  # the module's earlier turns are remembered too
    told = converse("Please remember this: my sister's name is Ana.", "first-conversation")
    assert told.error is None, told.error
    wait_for_memories(held + 1)  # the exchange is remembered by a tell after the reply

    asked = converse("What is my sister's name?", "second-conversation")
    assert asked.error is None, asked.error
    assert asked.memories_used >= 1
    assert "Ana" in asked.reply, asked.reply


def test_a_question_leaves_no_memory_and_a_fact_is_kept_in_the_users_words(
    default_model_tree: supervisors.SupervisorRef,
) -> None:
    held = memories_held()
    asked = converse("What is the capital of Italy?", "kept-conversation")
    told = converse("My brother lives in Porto.", "kept-conversation")
    assert asked.error is None and told.error is None, (asked.error, told.error)
    # The dialogue actor tells the memory actor both turns' memories, in order, from one
    # mailbox: once the fact's is held, a memory of the question would be held too.
    wait_for_memories(held + 1)
    assert memories_held() == held + 1, "the question was remembered"
    answer = supervisors.ask(MEMORY_NAME, Recall(query="Where does my brother live?"), timeout=10)
    assert isinstance(answer, Memories) and answer.items, answer
    assert answer.items[0].text == "The user said: My brother lives in Porto."
    assert answer.items[0].kind == "told"


def test_something_to_remember_is_said_back_and_kept(
    default_model_tree: supervisors.SupervisorRef,
) -> None:
    """Asked of the model, "Remember that ..." was "Okay.", with memory on or off."""
    held = memories_held()
    told = converse("Please remember that I put the spare key under the blue pot.",
                    "remember-conversation")  # fmt: skip
    assert told.model == "skills:memory.remember", told.model
    assert told.reply == "Okay, I'll remember that you put the spare key under the blue pot."
    wait_for_memories(held + 1)
    answer = supervisors.ask(MEMORY_NAME, Recall(query="Where is the spare key?"), timeout=10)
    assert isinstance(answer, Memories) and answer.items, answer
    assert answer.items[0].text == (
        "The user said: Please remember that I put the spare key under the blue pot."
    )
    assert answer.items[0].conversation_id == "remember-conversation"


def recorded_turns(conversation_id: str) -> list[dict[str, Any]]:
    """The conversation's turns in the store, newest first (flushed first)."""
    flushed = supervisors.ask("store", Flush(), timeout=10)
    assert isinstance(flushed, Flushed) and flushed.durable
    rows = supervisors.ask(
        "store", ReadRows(table="turns", equals={"conversation_id": conversation_id}), timeout=10
    )
    assert isinstance(rows, Rows), rows
    return [dict(zip(rows.columns, row, strict=True)) for row in rows.rows]


def test_every_turn_is_recorded_in_the_store(
    default_model_tree: supervisors.SupervisorRef,
) -> None:
    done = converse("Say the word blue.", "recorded-conversation")
    # The dialogue actor tells the store the turn after it answers: this flush may come first.
    wait_for(lambda: recorded_turns("recorded-conversation"), "the turn in the store")
    record = recorded_turns("recorded-conversation")[0]
    assert record["turn_id"] == done.turn_id
    assert record["user_text"] == "Say the word blue."
    assert record["reply_text"] == done.reply


def history_text(conversation_id: str) -> str:
    history = supervisors.ask(LLM_NAME, LLMGetHistory(conversation_id), timeout=10)
    assert isinstance(history, LLMHistory), history
    return "\n".join(message.content for message in history.messages)


def listed_texts() -> list[str]:
    listed = supervisors.ask(MEMORY_NAME, ListMemories(limit=1000), timeout=10)
    assert isinstance(listed, MemoryList) and listed.error is None, listed
    return [item.text for item in listed.items]


def recorded_words(conversation_id: str) -> list[str]:
    """The user's words and the reply of every turn of the conversation in the store."""
    turns = recorded_turns(conversation_id)
    return [words for turn in turns for words in (turn["user_text"], turn["reply_text"])]


def read_if_there(path: Path) -> bytes:
    """A file's bytes; none if a compaction deleted it since it was listed."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return b""


def cached_replies(var_dir: Path) -> list[str]:
    """Every reply the llm's cache holds on disk."""
    files = (var_dir / "cache" / "llm").glob("*/*.json")
    return [json.loads(path.read_text())["text"] for path in files]


def test_forget_that_forgets_the_memory_and_the_exchange_it_was_told_in(
    default_model_tree: supervisors.SupervisorRef, var_dir: Path
) -> None:
    held = memories_held()
    told = converse("My locker code is 4512.", "forget-that-conversation")
    assert told.error is None, told.error
    wait_for_memories(held + 1)
    assert "4512" in history_text("forget-that-conversation")
    # Recorded once the dialogue actor has answered: this flush may come first.
    wait_for(lambda: "My locker code is 4512." in recorded_words("forget-that-conversation"),
             "the turn in the store")  # fmt: skip
    assert told.reply in cached_replies(var_dir), "the reply was not cached: nothing to forget"

    forgot = converse("Forget that.", "forget-that-conversation")
    assert forgot.model == "skills:memory.forget_last", forgot.model
    assert forgot.reply == 'Okay, I forgot "My locker code is 4512."', forgot.reply
    assert memories_held() == held
    assert not any("4512" in text for text in listed_texts())
    # The skills actor told the llm before it replied: the exchange is gone from the
    # history the next turn would be answered from.
    assert "4512" not in history_text("forget-that-conversation")
    said_back = converse("What do you remember about me?", "forget-that-conversation")
    assert said_back.model == "skills:memory.list" and "4512" not in said_back.reply
    # Nor is it kept in the transcript (the reply heard it named; its record does not) or in
    # a cached reply.
    words = recorded_words("forget-that-conversation")
    assert not [text for text in words if "4512" in text], words
    assert 'Okay, I forgot "(forgotten)"' in words, words
    assert not [reply for reply in cached_replies(var_dir) if "4512" in reply]

    # Nor, a moment later, in LanceDB's files: its older versions kept the text until the
    # memory actor purged them (`PURGE_AFTER`).
    def lance_files_holding(text: bytes) -> list[Path]:
        files = [path for path in (var_dir / "memories.lance").rglob("*") if path.is_file()]
        assert files, "no LanceDB files: the memory is not where this test looks"
        return [path for path in files if text in read_if_there(path)]

    wait_for(lambda: not lance_files_holding(b"4512"), "the forgotten text to leave LanceDB")

    nothing = converse("Forget that.", "forget-that-conversation")
    assert nothing.reply.startswith("You haven't told me anything in this conversation")


def test_the_users_name_is_said_from_what_they_told(
    default_model_tree: supervisors.SupervisorRef,
) -> None:
    """Asked of the model, "What's my name?" with no name told was answered "Okay."."""
    untold = converse("What's my name?", "name-conversation")
    assert untold.model == "skills:memory.name", untold.model
    assert untold.reply.startswith("You haven't told me your name."), untold.reply
    held = memories_held()
    for said in ("My dog is called Rex.", "Call me Bob."):
        told = converse(said, "name-conversation")
        assert told.error is None, told.error
    wait_for_memories(held + 2)
    named = converse("What is my name?", "another-conversation")
    assert named.reply == "Your name is Bob.", named.reply
    renamed = converse("Actually, my name is Robert Smith.", "name-conversation")
    assert renamed.error is None, renamed.error
    wait_for_memories(held + 3)
    assert converse("Do you know my name?", "name-conversation").reply == (
        "Your name is Robert Smith."
    )


def test_the_days_until_the_users_birthday_are_counted_from_what_they_told(
    default_model_tree: supervisors.SupervisorRef,
) -> None:
    """The model, reading "My birthday is March 3rd." on December 7, said "There are 10 days
    until your birthday on March 3rd."."""
    untold = converse("How many days until my birthday?", "birthday-conversation")
    assert untold.model == "skills:time.until_birthday", untold.model
    assert untold.reply.startswith("You haven't told me your birthday."), untold.reply
    unborn = converse("What year was I born?", "birthday-conversation")
    assert unborn.reply.startswith("You haven't told me the year you were born."), unborn
    held = memories_held()
    told = converse("My birthday is March 3rd.", "birthday-conversation")
    assert told.error is None, told.error
    wait_for_memories(held + 1)
    counted = converse("How many days until my birthday?", "another-birthday-conversation")
    today = dt.date.today()
    birthday = dt.date(today.year, 3, 3)
    birthday = birthday if birthday >= today else dt.date(today.year + 1, 3, 3)
    days = (birthday - today).days
    if days > 1:  # not tomorrow or today, which are said so
        assert counted.reply.startswith(f"Your birthday is in {days} days, on "), counted.reply
        assert counted.reply.endswith("March 3."), counted.reply
    # Someone else's birthday, told later, is theirs, not the user's (the model had counted
    # 10 days to a sister's March 3rd on December 7).
    untold = converse("How many days until my sister's birthday?", "birthday-conversation")
    assert untold.reply.startswith("You haven't told me your sister's birthday."), untold.reply
    held = memories_held()
    assert converse("My sister's birthday is May 20.", "birthday-conversation").error is None
    wait_for_memories(held + 1)
    own = converse("How many days until my birthday?", "another-birthday-conversation")
    assert own.reply == counted.reply, own.reply
    # The year, told later in words of its own, gives the age and the weekday of birth and
    # leaves the day as it was (the model had said 30 in 2026, and Wednesday for Saturday).
    held = memories_held()
    assert converse("I was born in 1990.", "birthday-conversation").error is None
    wait_for_memories(held + 1)
    assert converse("How many days until my birthday?", "birthday-conversation").reply == (
        counted.reply
    )
    age = today.year - 1990 - ((today.month, today.day) < (3, 3))
    aged = converse("How old am I?", "another-birthday-conversation")
    assert aged.model == "skills:time.own_age", aged.model
    assert aged.reply.startswith(f"You're {age}"), aged.reply
    assert converse("What day of the week was I born?", "birthday-conversation").reply == (
        "You were born on a Saturday: March 3, 1990."
    )
    # The model, told nothing, had said 1980, and 10 years old in 2030.
    assert converse("What year was I born?", "birthday-conversation").reply == (
        "You were born on March 3, 1990."
    )
    assert converse("How old will I be in 2030?", "birthday-conversation").reply == (
        "You turn 40 in 2030, on March 3."
    )
    lived = (today - dt.date(1990, 3, 3)).days
    assert converse("How many days old am I?", "birthday-conversation").reply == (
        f"You're {lived:,} days old: you were born on March 3, 1990."
    )
    weekday = converse("What day will my birthday be on next year?", "birthday-conversation")
    assert weekday.reply == counted.reply, weekday.reply
    hers = converse("How many days until my sister's birthday?", "another-birthday-conversation")
    assert hers.model == "skills:time.until_birthday", hers.model
    assert hers.reply.startswith("Your sister's birthday is") and "May 20" in hers.reply, hers


def test_a_question_about_the_user_is_the_llms_only_once_something_near_it_was_told(
    default_model_tree: supervisors.SupervisorRef,
) -> None:
    """Asked of the model with nothing told, "What's my favourite colour?" was "Okay."."""
    untold = converse("What's my favourite colour?", "colour-conversation")
    assert untold.model == "skills:memory.about_me", untold.model
    assert untold.reply == "You haven't told me about your favourite colour.", untold.reply
    assert untold.memories_used == 0
    held = memories_held()
    told = converse("My favourite colour is green.", "colour-conversation")
    assert told.error is None, told.error
    wait_for_memories(held + 1)
    # Now a memory is near it: the skill leaves the turn to the llm, which reads it.
    asked = converse("What is my favourite colour?", "another-colour-conversation")
    assert asked.error is None and not asked.model.startswith("skills:"), asked.model
    assert asked.memories_used >= 1
    assert "green" in asked.reply.lower(), asked.reply
    # In the conversation it was told in too: the llm reads what the skill found, not only
    # its history (where the 1.5B lost it a dozen turns on).
    same = converse("What is my favourite colour?", "colour-conversation")
    assert same.memories_used >= 1 and "green" in same.reply.lower(), same
    # Nothing near "my car" was told: still the skill's, with the memories that are there.
    car = converse("Where did I park my car?", "another-colour-conversation")
    assert car.reply == "You haven't told me about your car.", car.reply
    address = converse("What's my IP address?", "another-colour-conversation")
    assert address.reply == "You haven't told me about your IP address.", address.reply
    # What the user likes, asked as they ask it: the model had said "I can't check that
    # offline."; once told, the llm answers from the memory.
    music = converse("What music do I like?", "music-conversation")
    assert music.reply == "You haven't told me what music you like.", music.reply
    told = converse("I love jazz, especially Miles Davis.", "music-conversation")
    assert told.error is None, told.error
    wait_for_memories(held + 2)
    liked = converse("What kind of music do I like?", "another-music-conversation")
    assert not liked.model.startswith("skills:") and "jazz" in liked.reply.lower(), liked


def test_forget_that_names_an_old_memory_and_keeps_it(
    default_model_tree: supervisors.SupervisorRef,
) -> None:
    """A voice run is one conversation for days: "forget that" means what was just told,
    not last week's newest memory, which it names instead of forgetting."""
    held = memories_held()
    told_long_ago = Remember(text="The user said: My bike lock code is 2020.", kind="told",
                             conversation_id="old-conversation",
                             meta={"said": "My bike lock code is 2020."},
                             at=time.time() - 2 * THAT_WITHIN)  # fmt: skip
    supervisors.tell(MEMORY_NAME, told_long_ago)
    wait_for_memories(held + 1)
    answer = converse("Forget that.", "old-conversation")
    assert answer.reply.startswith(
        "You haven't told me anything just now that I kept. The last thing was "
        '"My bike lock code is 2020."'
    ), answer.reply
    assert memories_held() == held + 1


def test_forget_a_topic_then_everything_once_confirmed(
    default_model_tree: supervisors.SupervisorRef,
) -> None:
    held = memories_held()
    for fact in ("My niece is called Ines.", "My niece lives in Braga.", "My dog is Rex."):
        assert converse(fact, "topic-conversation").error is None
    wait_for_memories(held + 3)
    said_back = converse("What have I told you?", "another-conversation")
    assert said_back.reply.startswith('You told me: "My dog is Rex.", "My niece lives in Braga."')

    # Near in meaning is not enough: "my cat" must not forget the dog.
    cat = converse("Forget what I told you about my cat.", "another-conversation")
    assert cat.reply == "I don't remember anything you told me about my cat.", cat.reply
    assert memories_held() == held + 3

    niece = converse("Forget what I told you about my niece.", "another-conversation")
    assert "Ines" in niece.reply and "Braga" in niece.reply, niece.reply
    assert memories_held() == held + 1
    assert "Ines" not in history_text("topic-conversation")
    assert "Rex" in history_text("topic-conversation")

    asked = converse("Forget everything.", "another-conversation")
    assert asked.reply == "Should I forget everything you told me? Say yes to confirm."
    assert memories_held() == held + 1, "forgotten before it was confirmed"
    confirmed = converse("Yes.", "another-conversation")
    assert confirmed.model == "skills:memory.forget_all", confirmed.model
    assert confirmed.reply.startswith("Okay, I forgot everything you told me"), confirmed.reply
    assert memories_held() == 0
    assert "Rex" not in history_text("topic-conversation")


def test_say_that_again_repeats_the_models_reply_word_for_word(
    default_model_tree: supervisors.SupervisorRef,
) -> None:
    answered = converse("Name a colour of the rainbow.", "repeat-conversation")
    assert answered.error is None and answered.reply.strip(), answered
    again = converse("Could you say that again?", "repeat-conversation")
    assert (again.reply, again.model) == (answered.reply, "skills:repeat")


def test_turns_go_on_without_memory_when_it_is_down(
    default_model_tree: supervisors.SupervisorRef,
) -> None:
    default_model_tree.terminate_child("memory")
    try:
        done = converse("Hello there.", "no-memory-conversation")
        assert done.error is None and done.memories_used == 0
        # Nothing can be recalled to say it was never told: the llm has the conversation.
        about = converse("What's my favourite colour?", "no-memory-conversation")
        assert about.error is None and not about.model.startswith("skills:"), about.model
        # Nor is anything said to be remembered while the memory is not there to keep it.
        told = converse("Remember that my umbrella is red.", "no-memory-conversation")
        assert told.reply.startswith("Sorry, I can't reach my memory: it is restarting"), told
    finally:
        default_model_tree.restart_child("memory")


def test_a_name_or_birthday_told_is_said_back_and_kept(
    default_model_tree: supervisors.SupervisorRef,
) -> None:
    """Asked of the model, "My birthday is on March 3rd." was "I can't check that offline.",
    although the memory was kept; "call me back" is no name, and the llm answers. (Last in
    this module: the tests above ask before any name or birthday is told.)"""
    held = memories_held()
    name = converse("Call me Alex.", "told-conversation")
    assert (name.model, name.reply) == ("skills:memory.told", "Okay, I'll call you Alex.")
    birthday = converse("My birthday is on March 3rd.", "told-conversation")
    assert birthday.model == "skills:memory.told", birthday.model
    assert birthday.reply == "Okay, I'll remember that your birthday is March 3."
    wait_for_memories(held + 2)
    assert converse("What's my name?", "told-conversation").reply == "Your name is Alex."
    until = converse("How many days until my birthday?", "told-conversation").reply
    assert "March 3" in until, until
    back = converse("Call me back.", "told-conversation")
    assert not back.model.startswith("skills:"), back
