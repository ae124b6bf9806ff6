"""Memory skills: say back what Solo keeps of what the user told it, and forget it.

"What do you remember about me?" says the newest memories in the user's own words. "Forget
that" forgets the newest memory of this conversation, if it was told in the last
``THAT_WITHIN`` seconds (else it names it, and how to forget it). "Forget what I told you
about my sister" forgets the memories that are near the topic in meaning *and* name one of
its words (meaning alone finds "My dog is Rex." for "my cat"). "Forget everything" is asked
first; "yes" forgets every memory. "What's my name?" finds the name in the newest memory
that tells it ("My name is Sam.", "Call me Sam."). "What's my favourite colour?" with no
memory near it in meaning or words is "You haven't told me about your favourite colour.";
with one, the turn is the llm's, which reads those memories with it (`Answer.to_llm`).

The memory actor does the work (`ListMemories`, `Recall`, `Forget`, asked with
``skills.store_timeout``); what it forgets, it also has the llm drop from its conversation
histories, and the store from its transcript. The reply quotes what was forgotten, so the
user hears what went; the store's record of it does not (`Answer.forgotten`).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any, TypeVar

import supervisors
from solo_actors.messages import (
    Forget,
    Forgotten,
    ListMemories,
    Memories,
    MemoryFilter,
    MemoryItem,
    MemoryList,
    Message,
    Recall,
    UserTurn,
)
from solo_actors.names import MEMORY_NAME
from solo_actors.remembered import WORD, RememberMode, memory_of, words_said
from solo_actors.skills.builtin import Answer, refuse
from solo_actors.skills.holidays import Holiday
from solo_actors.skills.templates import SkillMatch
from solo_actors.skills.words import in_your_words, spoken_and

Answered = TypeVar("Answered", bound=Message)

INTENT_PREFIX = "memory."
SAID_BACK = 5
"""Memories said back at most: the newest; the dashboard and ``GET /memories`` list all."""
THAT_WITHIN = 600.0
"""Seconds within which the conversation's newest memory is what "forget that" means."""
TOPIC_CANDIDATES = 20
TOPIC_FLOOR = 0.2
"""Recall for a topic is wide (cosine >= 0.2, 20 nearest): the topic's words decide."""
RELATED = 0.45
"""Cosine from which a memory is about what a question asks ("When is my birthday?": 0.76 to
"My birthday is May 3."; 0.52-0.88 for the related pairs tried, at most 0.39 for the others,
with the default embedder): the question is then the llm's, which reads it."""
NAME_QUERY = "My name is Sam. Call me Sam."
BIRTHDAY_QUERY = "My birthday is May 3. I was born on May 3."
OWN_BIRTHDAY = re.compile(r"\bmy birthday\b|\bI was born\b|\bI'm born\b", re.IGNORECASE)
"""A memory of the user's own birthday: not "my sister's birthday is ..."."""
NAME_CANDIDATES = 20
"""The memories nearest in meaning to a name told that are searched for one."""
NAME_TOLD = re.compile(
    r"\b(?:my name is|my name's|call me|i am called|i'm called|i go by)\s+"
    r"(?P<first>[^\W\d_][\w'-]*)(?P<rest>(?-i:\s+[A-Z][\w'-]+){0,2})",
    re.IGNORECASE,
)
"""A name told, and the capitalised words after its first ("Bob Smith" of "My name is Bob
Smith and I live in Lyon.")."""
NOT_A_NAME = frozenset((
    "not", "no", "a", "an", "the", "back", "later", "when", "if", "at", "in", "on", "up",
    "out", "about", "after", "before", "every", "this", "next", "now", "soon", "today",
    "tonight", "tomorrow", "please",
))  # fmt: skip
"""First words after "call me" or "my name is" that start something else ("call me back")."""
NOT_TOPIC_WORDS = frozenset((
    "a", "an", "the", "my", "your", "our", "his", "her", "their", "its", "i", "me", "you",
    "we", "he", "she", "they", "him", "them", "us", "it", "is", "are", "was", "were", "be",
    "am", "have", "has", "had", "do", "does", "did", "not", "don", "can", "will", "of",
    "about", "to", "for", "and", "or", "in", "on", "at", "with", "that", "this", "what",
    "everything", "all", "thing", "things", "just", "so", "very", "there", "here",
    "re", "ve", "ll",  # what is left of "we're", "I've", "I'll" (one letter goes anyway)
))  # fmt: skip
QUESTION_WORDS = frozenset((
    "where", "when", "who", "whom", "whose", "which", "why", "how", "know", "remember",
    "tell", "told", "said", "say", "so", "okay", "hey", "called", "name",
))  # fmt: skip
"""Words of a question about the user that say nothing about what it asks after."""


class MemoryUnavailable(Exception):
    """The memory actor could not answer (down, busy, disabled): the words say why."""


def unreachable(error: MemoryUnavailable) -> str:
    return f"Sorry, I can't reach my memory: {error}."


def said(items: list[MemoryItem]) -> list[str]:
    """Each memory in the user's words."""
    return [words_said(item.text, item.meta).strip() for item in items]


def quoted(items: list[MemoryItem]) -> str:
    """'"A.", "B." and "C."' in the user's words, ending a sentence: a full stop follows
    only when the last words had no end of their own ('"I like tea".')."""
    listed = spoken_and([f'"{words}"' for words in said(items)])
    return listed if listed[-2:-1] in (".", "!", "?") else listed + "."


def name_told(words: str) -> str | None:
    """The name these words tell the user goes by, if they tell one."""
    for told in NAME_TOLD.finditer(words):
        first = told["first"]
        if first.lower() not in NOT_A_NAME:
            rest = told["rest"].split() if first[:1].isupper() else []  # typed in lower case
            return " ".join([first[:1].upper() + first[1:], *rest])
    return None


def topic_words(text: str) -> set[str]:
    """The words that say what a topic is about, without a plural's s ("sisters": "sister")."""
    words = {word.lower() for word in WORD.findall(text) if len(word) > 1} - NOT_TOPIC_WORDS
    return {word.removesuffix("s") if len(word) > 3 else word for word in words}


def share_a_word(words: set[str], others: set[str]) -> bool:
    """Whether a word of one set is one of the other's, or begins it ("park", "parked"):
    the shorter has at least four letters, so "car" is not the start of "card"."""
    return any(
        a == b or (min(len(a), len(b)) >= 4 and (a.startswith(b) or b.startswith(a)))
        for a in words
        for b in others
    )


class MemorySkills:
    """The answers of the ``memory.*`` intents."""

    def __init__(self, timeout: float, *, keeping: RememberMode | None = "told") -> None:
        self.timeout = timeout
        self.keeping = keeping
        """How memories are kept (``dialogue.remember``); None with ``memory.enabled`` off."""
        self.handlers: dict[str, Callable[[SkillMatch, UserTurn], Answer]] = {
            "memory.remember": self.remember, "memory.told": self.told,
            "memory.list": self.say_back,
            "memory.forget_last": self.forget_last, "memory.forget_about": self.forget_about,
            "memory.forget_all": self.forget_all,
            "memory.name": self.say_name, "memory.about_me": self.about_me,
            "memory.what_i": self.about_me,
            "memory.keep_all": lambda _match, _turn: Answer("Okay, I'll keep them."),
        }  # fmt: skip

    def answers(self, match: SkillMatch) -> bool:
        return match.intent.startswith(INTENT_PREFIX) and not match.ask and match.error is None

    def answer(self, match: SkillMatch, turn: UserTurn) -> Answer:
        handler = self.handlers.get(match.intent)
        if handler is None:
            return refuse(f"Sorry, I know how that is said, but no skill does {match.intent}.")
        try:
            return handler(match, turn)
        except MemoryUnavailable as error:
            return refuse(unreachable(error))

    # -- the intents -------------------------------------------------------------------------

    def remember(self, match: SkillMatch, turn: UserTurn) -> Answer:
        """ "Okay, I'll remember that your car is on level 3.", once the memory actor has
        been told the memory the dialogue actor would keep of a turn that tells it."""
        fact = in_your_words(match.said.get("fact", match.slots["fact"])).rstrip(".!")
        return self.kept(f"Okay, I'll remember that {fact}.", turn)

    def told(self, match: SkillMatch, turn: UserTurn) -> Answer:
        """ "My name is Sam.", "Call me Sam.": "Okay, I'll call you Sam."; "My birthday is
        March 3rd.": "Okay, I'll remember that your birthday is March 3." (the model had
        answered "I can't check that offline.")."""
        if "day" in match.slots:
            birthday: Holiday = match.slots["day"]
            return self.kept(f"Okay, I'll remember that your birthday is {birthday.name}.", turn)
        name = name_told(turn.text)
        if name is None:  # "call me back": not a name
            return Answer("", to_llm=True)
        return self.kept(f"Okay, I'll call you {name}.", turn)

    def kept(self, reply: str, turn: UserTurn) -> Answer:
        """``reply``, once the memory actor has been told the memory the dialogue actor
        would keep of ``turn``, which tells it something; a refusal saying why otherwise."""
        if self.keeping is None:
            return refuse("Sorry, I can't remember things: memory is off. Set [memory] "
                          "enabled = true in your config to turn it on.")  # fmt: skip
        memory = memory_of(self.keeping, turn.text, reply, turn.conversation_id, tells=True)
        assert memory is not None  # a turn that tells is kept in every mode
        # Waited for while it restarts; one still gone, or with a full mailbox, has not
        # taken it, and the user hears so rather than "Okay".
        taken = supervisors.whereis(MEMORY_NAME, timeout=self.timeout) is not None and (
            supervisors.cast(MEMORY_NAME, memory) == "ok")  # fmt: skip
        if not taken:
            why = MemoryUnavailable("it is restarting or busy, say that again in a moment")
            return refuse(unreachable(why))
        return Answer(reply)

    def say_back(self, _match: SkillMatch, _turn: UserTurn) -> Answer:
        listed = self.listed(ListMemories(limit=SAID_BACK))
        if not listed.items:
            return Answer("You haven't told me anything that I kept.")
        text = f"You told me: {quoted(listed.items)}"
        more = listed.total - len(listed.items)
        if more:
            text += f" And {more} more; the dashboard lists them all."
        return Answer(text)

    def say_name(self, _match: SkillMatch, _turn: UserTurn) -> Answer:
        name = self.newest_told(NAME_QUERY, name_told)
        if name is not None:
            return Answer(f"Your name is {name}.")
        return Answer("You haven't told me your name. Say, for example: my name is Sam.")

    def birthday(
        self, person: str = "", finds: Callable[[str], str | None] = lambda words: words
    ) -> str | None:
        """What `finds` finds (the words themselves, by default) in the newest memory that
        tells the user's birthday and in which it finds anything ("My birthday is March
        3rd.", "I was born in 1990."), or `person`'s ("my sister": "My sister's birthday is
        May 3."), None if none does; `MemoryUnavailable` if the memory can't be asked."""
        if not person:
            return self.newest_told(
                BIRTHDAY_QUERY, lambda words: finds(words) if OWN_BIRTHDAY.search(words) else None
            )
        named = re.sub(r"^(?:my|our)\s+", "", person)
        theirs = re.compile(rf"\b{re.escape(named)}(?:'s)?\b.*\b(?:birthday|born)\b",
                            re.IGNORECASE)  # fmt: skip
        query = f"My {named}'s birthday is May 3. My {named} was born on May 3."
        return self.newest_told(query, lambda words: finds(words) if theirs.search(words) else None)

    def newest_told(self, query: str, told: Callable[[str], str | None]) -> str | None:
        """What `told` finds in the newest of the memories near `query` in which it finds
        anything (the memories in the user's words)."""
        found = self.ask(Recall(query=query, k=NAME_CANDIDATES, min_similarity=0.0), Memories)
        if found.error is not None:
            raise MemoryUnavailable(found.error)
        for item in sorted(found.items, key=lambda item: item.at, reverse=True):
            if (said := told(words_said(item.text, item.meta))) is not None:
                return said
        return None

    def about_me(self, match: SkillMatch, turn: UserTurn) -> Answer:
        """ "You haven't told me about your <topic>." ("... what music you like.", for
        ``memory.what_i``) when nothing kept is near the question; else the llm's turn, which
        reads what is (the question is wider than the topic: "Where did I park my car?" is
        0.58 from "I parked on level 3.", "my car" 0.32)."""
        topic = match.said.get("topic", str(match.slots["topic"]))  # "IP address"
        recall = Recall(query=turn.text, k=TOPIC_CANDIDATES, min_similarity=TOPIC_FLOOR)
        try:
            found = self.ask(recall, Memories)
            if found.error is not None:
                raise MemoryUnavailable(found.error)
        except MemoryUnavailable as error:  # the llm may know it from this conversation
            return Answer(unreachable(error), to_llm=True)
        asked = topic_words(turn.text) - QUESTION_WORDS
        # A taste is often told without the word asked after ("I love jazz." is 0.29 from
        # "What kind of music do I like?"), and a memory taken as near only leaves the turn
        # to the llm: for ``memory.what_i`` any memory recalled is near.
        bar = TOPIC_FLOOR if "verb" in match.slots else RELATED
        near = [item for item in found.items
                if (item.similarity or 0.0) >= bar
                or share_a_word(asked, topic_words(words_said(item.text, item.meta)))]  # fmt: skip
        if near:
            # The llm reads them, this conversation's too: the dialogue actor's recall
            # leaves those to the history, where the 1.5B lost "my favourite colour is
            # blue" a dozen turns on ("I don't have access to your personal preferences.").
            return Answer(f"You told me: {quoted(near[:SAID_BACK])}", to_llm=True,
                          recalled=near)  # fmt: skip
        if "verb" in match.slots:  # memory.what_i
            return Answer(f"You haven't told me what {topic} you {match.slots['verb']}.")
        return Answer(f"You haven't told me about your {in_your_words(topic)}.")

    def forget_last(self, _match: SkillMatch, turn: UserTurn) -> Answer:
        newest = self.listed(
            ListMemories(filter=MemoryFilter(conversation_id=turn.conversation_id), limit=1)
        ).items
        if not newest:
            return Answer("You haven't told me anything in this conversation that I kept.")
        if time.time() - newest[0].at > THAT_WITHIN:
            # "That" is what was just said; a voice run is one conversation for days, and
            # its newest memory may be last week's: named, not forgotten.
            return Answer(f"You haven't told me anything just now that I kept. The last thing "
                          f'was {quoted(newest)} To forget it, say "forget what I told you '
                          'about", then what it was about.')  # fmt: skip
        self.forget(newest)
        return Answer(f"Okay, I forgot {quoted(newest)}", forgotten=said(newest))

    def forget_about(self, match: SkillMatch, _turn: UserTurn) -> Answer:
        topic = str(match.slots["topic"])
        wanted = topic_words(topic)
        recall = Recall(query=topic, k=TOPIC_CANDIDATES, min_similarity=TOPIC_FLOOR)
        found = self.ask(recall, Memories)
        if found.error is not None:
            raise MemoryUnavailable(found.error)
        about = [item for item in found.items
                 if wanted & topic_words(words_said(item.text, item.meta))]  # fmt: skip
        if not about:
            return Answer(f"I don't remember anything you told me about {topic}.")
        self.forget(about)
        shown = about[:SAID_BACK]
        text = f"Okay, I forgot {quoted(shown)}"
        if len(about) > len(shown):
            text += f" And {len(about) - len(shown)} more about {topic}."
        return Answer(text, forgotten=said(shown))

    def forget_all(self, _match: SkillMatch, _turn: UserTurn) -> Answer:
        forgotten = self.forgotten(Forget(everything=True))
        if not forgotten:
            return Answer("There was nothing to forget.")
        things = "thing" if forgotten == 1 else "things"
        return Answer(f"Okay, I forgot everything you told me: {forgotten} {things}.")

    # -- asking the memory actor -------------------------------------------------------------

    def forget(self, items: list[MemoryItem]) -> None:
        self.forgotten(Forget(memory_ids=[item.memory_id for item in items]))

    def listed(self, request: ListMemories) -> MemoryList:
        listed = self.ask(request, MemoryList)
        if listed.error is not None:
            raise MemoryUnavailable(listed.error)
        return listed

    def forgotten(self, request: Forget) -> int:
        answer = self.ask(request, Forgotten)
        if answer.error is not None:
            raise MemoryUnavailable(answer.error)
        return answer.count

    def ask(self, request: Message, answered: type[Answered]) -> Answered:
        try:
            answer: Any = supervisors.ask(MEMORY_NAME, request, timeout=self.timeout)
        except supervisors.UNANSWERED as error:
            why = supervisors.why_unanswered(error, self.timeout)
            raise MemoryUnavailable(f"the memory actor {why}") from error
        if not isinstance(answer, answered):
            raise MemoryUnavailable(f"unexpected answer {type(answer).__name__}")
        return answer
