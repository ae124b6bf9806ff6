"""The dialogue actor: one place where a user's turn becomes an answer, whatever its source.

Voice, the text console, the API and agents all send a `UserTurn`. The dialogue actor asks
the llm for the reply (as the next turn of the turn's conversation), forwards the streamed
`LLMToken`s and the closing `LLMDone` or `LLMError` to the turn's ``reply_to`` name, and
finishes with a `TurnDone` that carries the text, the reply and every stage timestamp.

It never waits on the llm: requests go out as tells with ``reply_to="dialogue"`` and the
replies come back as mail, so many turns can be in flight and a slow model never blocks a
new turn from being accepted. It monitors the llm incarnation serving its turns
(``supervisors.monitor``): when that actor or its process dies, a crash, a SIGKILL by the
OOM killer or a segfault, every turn it was serving fails at once with a clear error, and
the next turn goes to the restarted llm. When the llm's process dies by a signal before its
first token several times in a row, the error says the model runtime is crashing on this
machine and points at ``solo doctor``. ``dialogue.turn_timeout`` remains only as a backstop
for an llm that is alive but too slow. A full llm mailbox is "busy", never "not running".
A barge-in is tts's to carry out: it interrupts the llm, whose cancelled `LLMDone` closes
the turn here as any other reply does.

A turn a skill answers goes to the skills actor instead, with the conversation's last turn
(`SkillTurn.last`: "say that again"); the skills actor tells its `TurnDone` back, so that
last turn is a skill's as often as the llm's. A skill may leave the turn to the llm after all
(`SkillDeclined`: "What's my favourite colour?" when a memory is near it), and the llm is
asked as for any other turn.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pykka
from msgspec.structs import replace

import supervisors
from solo_actors.agents.routing import agent_intents, hand_off_turn
from solo_actors.config import REPO_ROOT, Config
from solo_actors.messages import (
    Exchange,
    LLMDone,
    LLMError,
    LLMPrefill,
    LLMRequest,
    LLMToken,
    Memories,
    MemoryFilter,
    MemoryItem,
    Message,
    Recall,
    RecordTurn,
    SkillDeclined,
    StageTimes,
    TurnAhead,
    TurnDone,
    TurnSource,
    UserTurn,
)
from solo_actors.names import DIALOGUE_NAME, LLM_NAME, MEMORY_NAME, STORE_NAME
from solo_actors.remembered import WORD, memory_of, turn_sorter
from solo_actors.runtime.clock import now
from solo_actors.runtime.events import HUB
from solo_actors.runtime.logs import get_logger
from solo_actors.runtime.trace import step
from solo_actors.skills.hook import Questions, hand_off_to_skills, skill_matcher, skill_text


def with_memories(text: str, memories: list[MemoryItem]) -> str:
    """The user's text, preceded by recalled memories marked as such, one per line, oldest
    first.

    They go in the user turn, not the system prompt, so the conversation's earlier tokens
    stay an unchanged prefix and the llm's KV cache still covers them. Oldest first, not in
    the recall's order of similarity: the same memories then always read the same, so a turn
    whose words recall what its words so far did, ranked otherwise, reuses their read-ahead
    instead of reading the memories and the question again (bench/RESULTS.md).
    """
    if not memories:
        return text
    ordered = sorted(memories, key=lambda memory: (memory.at, memory.memory_id))
    lines = "\n".join(f"- {' '.join(memory.text.split())}" for memory in ordered)
    # "You remember" frames them as the assistant's own knowledge: framed as material to
    # consult, the system prompt's "you cannot check that offline" won over them (Qwen 0.5B
    # answered "What is my sister's name?" with a refusal, the fact in front of it).
    return f"You remember, from earlier conversations:\n{lines}\n\n{text}"


def same_memories(first: list[MemoryItem], second: list[MemoryItem]) -> bool:
    """Whether two recalls put the same memories in a prompt (`with_memories` orders them)."""
    return {memory.memory_id for memory in first} == {memory.memory_id for memory in second}


AHEAD_KEPT = 8
"""Turns prepared ahead (`TurnAhead`) remembered at once: a turn comes within a second of its
preparation, so a few cover every voice source there is."""


@dataclass(frozen=True)
class Prepared:
    """What a turn's latest `TurnAhead` recalled: its turn, if it has the same text, sends the
    llm the very prompt that was read ahead (and does not recall again), and its next words
    are read ahead with these memories before their own recall."""

    text: str
    memories: list[MemoryItem]


EXCHANGES_KEPT = 1000
"""Conversations whose last turn is kept for "say that again" (the API makes many)."""

RUNTIME_CRASHES = 3
"""llm deaths by a signal before a turn's first token, in a row, that mean the model
runtime itself is crashing on this machine (not one bad request)."""


class TurnTimedOut(Message, frozen=True):
    """Internal timer: the reply to ``turn_id`` is overdue."""

    turn_id: str


@dataclass
class OpenTurn:
    """A turn waiting for its reply."""

    turn: UserTurn
    request_id: str
    times: StageTimes
    served_by: supervisors.MonitorRef | None = None
    """The monitor of the llm incarnation the request went to."""
    memories_used: int = 0
    tokens: list[str] = field(default_factory=list)


class DialogueActor(supervisors.SupervisedActor):
    """Turns `UserTurn`s into llm requests and their replies into `TurnDone`s."""

    def __init__(self, config: Config) -> None:
        super().__init__()
        self.settings = config.dialogue
        self.model = config.llm.served_model
        self.memory_enabled = config.memory.enabled
        self.sorter = turn_sorter(REPO_ROOT / config.dialogue.remember_rules)
        self.creative_words = {word.lower() for word in config.dialogue.creative_words}
        """Which turns tell something to remember (``dialogue.remember = "told"``)."""
        self.log = get_logger(f"solo/{DIALOGUE_NAME}")
        self.open: dict[str, OpenTurn] = {}
        self.prepared: dict[str, Prepared] = {}
        self.by_request: dict[str, str] = {}
        self.counts = dict.fromkeys(("turns", "errors", "timeouts", "llm_down"), 0)
        self.llm_watch: tuple[pykka.ActorRef[Any], supervisors.MonitorRef] | None = None
        self.runtime_crashes = 0
        self.agent_intents = agent_intents(config)
        self.skills = skill_matcher(config)  # docs/skills.md: local intents before the llm
        self.questions = Questions(config.skills.answer_within)
        """A skill's question ("For how long?") per conversation, for its next turn."""
        self.exchanges: OrderedDict[str, Exchange] = OrderedDict()
        """Each conversation's last answered turn, the llm's or a skill's (which the skills
        actor tells back as its `TurnDone`): what "say that again" repeats."""

    def on_receive(self, message: Any) -> None:
        match message:
            case UserTurn():
                self.start_turn(message)
            case TurnAhead():
                self.prepare(message)
            case LLMToken():
                self.on_token(message)
            case LLMDone() | LLMError():
                self.on_reply(message)
            case TurnTimedOut():
                self.on_timeout(message.turn_id)
            case supervisors.Down():
                self.on_llm_down(message)
            case TurnDone():  # a skill's answer (from the skills actor)
                self.keep_exchange(message)
            case SkillDeclined():
                prepared = self.prepared.pop(message.turn.turn_id, None)
                self.ask_llm(message.turn, prepared, message.memories)

    def on_failure(self, *exc_info: Any) -> None:
        # Let it crash, but not silently: every turn in flight gets its apology and an error
        # now, instead of its caller waiting out a timeout that died with this actor.
        for turn_id in list(self.open):
            self.fail(turn_id, "the dialogue actor crashed and was restarted; ask again")

    def start_turn(self, turn: UserTurn) -> None:
        self.counts["turns"] += 1
        prepared = self.prepared.pop(turn.turn_id, None)
        last = self.exchanges.get(turn.conversation_id)
        if hand_off_to_skills(self.skills, turn, self.questions, last):
            return  # a skill (time, timer, sum ...) fits: the skills actor answers the turn
        if hand_off_turn(self.agent_intents, turn):
            return  # "plan ...": the agents actor runs the workflow and answers the turn
        self.ask_llm(turn, prepared)

    def ask_llm(
        self, turn: UserTurn, prepared: Prepared | None, found: list[MemoryItem] | None = None
    ) -> None:
        """Have the llm answer ``turn``, with its memories: those a skill ``found`` for it,
        else those recalled when it was read ahead, else recalled now."""
        if found:
            memories = found
        elif prepared is not None and prepared.text == turn.text:
            memories = prepared.memories
        else:
            memories = self.recall(turn.turn_id, turn.text, turn.conversation_id)
        request = LLMRequest(
            conversation_id=turn.conversation_id,
            prompt=with_memories(turn.text, memories),
            temperature=self.temperature_for(turn.text),
            reply_to=DIALOGUE_NAME,
            turn_id=turn.turn_id,
            times=turn.times,
            room=turn.room,
            use_tools=True,  # the skills a template missed, and MCP tools (llm.tool_owners)
        )
        step(turn.turn_id, "dialogue", "reply asked", memories=len(memories))
        entry = OpenTurn(turn, request.request_id, turn.times, memories_used=len(memories))
        self.open[turn.turn_id] = entry
        self.by_request[request.request_id] = turn.turn_id
        llm = supervisors.whereis(LLM_NAME)
        outcome = "noproc" if llm is None else supervisors.cast(llm, request)
        if outcome == "busy":
            self.fail(turn.turn_id, "the language model is busy; try again in a moment")
            return
        if llm is None or outcome == "noproc":
            self.fail(turn.turn_id, "the language model is not running (it may be restarting)")
            return
        entry.served_by = self.watch_llm(llm)
        self.send_after(self.settings.turn_timeout, TurnTimedOut(turn_id=turn.turn_id))

    def temperature_for(self, text: str) -> float | None:
        """``dialogue.creative_temperature`` for a request for something made up ("tell me
        a story"), so that asking again brings a new one; None (``llm.temperature``) for
        any other turn."""
        if not self.settings.creative_temperature:
            return None
        said = set(WORD.findall(text.lower()))
        return self.settings.creative_temperature if said & self.creative_words else None

    def watch_llm(self, llm: pykka.ActorRef[Any]) -> supervisors.MonitorRef:
        """The monitor of this llm incarnation, made on the first turn sent to it: one Down
        then fails every turn it was serving."""
        if self.llm_watch is None or self.llm_watch[0] is not llm:
            self.llm_watch = (llm, supervisors.monitor(llm, self.actor_ref))
        return self.llm_watch[1]

    def on_llm_down(self, down: supervisors.Down) -> None:
        """The llm incarnation serving some turns exited: fail each of them now."""
        if self.llm_watch is not None and self.llm_watch[1] == down.ref:
            self.llm_watch = None
        served = [entry for entry in self.open.values() if entry.served_by == down.ref]
        if not served:
            return
        self.counts["llm_down"] += 1
        reason = down.reason
        by_signal = "SIG" in reason.detail
        if by_signal and not any(entry.tokens for entry in served):
            self.runtime_crashes += 1
        else:
            self.runtime_crashes = 0
        if self.runtime_crashes >= RUNTIME_CRASHES:
            error = (
                f"the language model runtime keeps crashing on this machine ({reason}); "
                "run `solo doctor` (python run.py doctor) to see why"
            )
            self.log.error("llm runtime crashing", crashes=self.runtime_crashes, reason=str(reason))
        else:
            error = f"the language model stopped while answering ({reason}); ask again"
        for entry in served:
            self.fail(entry.turn.turn_id, error)

    def prepare(self, ahead: TurnAhead) -> None:
        """Get the reply to a likely turn ready: recall its memories and have the llm read
        its prompt, while the user's silence is still being waited out."""
        routed = self.agent_intents is not None and self.agent_intents.route(ahead.text)
        if routed or ahead.turn_id in self.open:
            return  # a workflow's turn, or one already answered: nothing to read ahead
        question = self.questions.pending(ahead.conversation_id)
        before = self.questions.last_request(ahead.conversation_id)
        matches = (
            [] if self.skills is None else skill_text(self.skills, question, ahead.text, before)[1]
        )
        if matches and not all(match.llm_may_answer for match in matches):
            # A skill will answer it: the llm reading its prompt would only take the cores
            # the skill's spoken answer needs.
            return
        # The words so far recall memories too: a turn's memories go before its words, so a
        # read-ahead without them would share nothing past the template with a turn that has
        # some. The first words usually recall what the whole question does, and then only
        # the question's last words are left to read at the pause (bench/RESULTS.md). So when
        # the turn's earlier words were read ahead, the llm reads these at once with their
        # memories, and the recall (tens of milliseconds, more while stt judges the words at
        # the pause) is no longer on the way; only memories that differ are read again.
        earlier = self.prepared.get(ahead.turn_id)
        if earlier is not None:
            self.read_ahead(ahead, earlier.memories)
        memories = self.recall(ahead.turn_id, ahead.text, ahead.conversation_id)
        self.prepared[ahead.turn_id] = Prepared(ahead.text, memories)
        while len(self.prepared) > AHEAD_KEPT:
            del self.prepared[next(iter(self.prepared))]  # the oldest: its turn never came
        if earlier is None or not same_memories(earlier.memories, memories):
            self.read_ahead(ahead, memories)

    def read_ahead(self, ahead: TurnAhead, memories: list[MemoryItem]) -> None:
        prefill = LLMPrefill(
            conversation_id=ahead.conversation_id,
            prompt=with_memories(ahead.text, memories),
            use_tools=True,
            turn_id=ahead.turn_id,
            unfinished=ahead.speaking,
        )
        step(ahead.turn_id, "dialogue", "read ahead asked", memories=len(memories))
        supervisors.cast(LLM_NAME, prefill)  # if it is down or busy, the turn will say so

    def on_token(self, token: LLMToken) -> None:
        entry = self.entry_for(token.request_id)
        if entry is None:
            return
        if not entry.tokens:
            entry.times = replace(entry.times, first_token=now())
        entry.tokens.append(token.text)
        self.runtime_crashes = 0
        self.deliver(entry.turn, token)
        HUB.publish(token)  # live views (the API's /events); never blocks

    def on_reply(self, reply: LLMDone | LLMError) -> None:
        entry = self.entry_for(reply.request_id)
        if entry is None:
            return
        self.deliver(entry.turn, reply)
        if isinstance(reply, LLMError):
            self.finish(entry, self.settings.error_reply, error=reply.message)
            return
        times = reply.times or entry.times
        if times.first_token is None:
            times = replace(times, first_token=entry.times.first_token)
        entry.times = times
        self.finish(entry, reply.text, reply=reply)

    def on_timeout(self, turn_id: str) -> None:
        if turn_id in self.open:
            self.counts["timeouts"] += 1
            seconds = self.settings.turn_timeout
            self.fail(turn_id, f"no reply from the language model within {seconds:g} s")

    def fail(self, turn_id: str, error: str) -> None:
        entry = self.open.get(turn_id)
        if entry is None:
            return
        failure = LLMError(request_id=entry.request_id, message=error, turn_id=turn_id)
        self.deliver(entry.turn, failure)
        self.finish(entry, self.settings.error_reply, error=error)

    def finish(
        self,
        entry: OpenTurn,
        answer: str,
        *,
        error: str | None = None,
        reply: LLMDone | None = None,
    ) -> None:
        turn = entry.turn
        self.open.pop(turn.turn_id, None)
        self.by_request.pop(entry.request_id, None)
        if error is not None:
            self.counts["errors"] += 1
            self.log.warning("turn failed", turn_id=turn.turn_id, error=error)
        done = TurnDone(
            turn_id=turn.turn_id,
            conversation_id=turn.conversation_id,
            source=turn.source,
            text=turn.text,
            reply=answer,
            times=replace(entry.times, done=now()),
            model=self.model,
            tokens_per_second=None if reply is None else reply.tokens_per_second,
            memories_used=entry.memories_used,
            error=error,
        )
        self.keep_exchange(done)
        self.deliver(turn, done)
        HUB.publish(done)
        self.record(done, reply)
        self.publish_figures(open_turns=len(self.open), **self.counts)

    def keep_exchange(self, done: TurnDone) -> None:
        if done.error is not None or not done.reply.strip():
            return
        self.exchanges[done.conversation_id] = Exchange(
            said=done.text, reply=done.reply, at=now(), model=done.model or ""
        )
        self.exchanges.move_to_end(done.conversation_id)
        while len(self.exchanges) > EXCHANGES_KEPT:
            self.exchanges.popitem(last=False)

    def recall(self, turn_id: str, text: str, conversation_id: str) -> list[MemoryItem]:
        """Memories from other conversations relevant to a turn's text; none if memory is
        off, down or slow (a turn never waits more than ``dialogue.recall_timeout`` for
        them)."""
        if not self.memory_enabled:
            return []
        query = Recall(query=text, filter=MemoryFilter(exclude_conversation_id=conversation_id))
        try:
            answer = supervisors.ask(MEMORY_NAME, query, timeout=self.settings.recall_timeout)
        except supervisors.UNANSWERED as error:
            why = supervisors.why_unanswered(error, self.settings.recall_timeout)
            self.log.warning("recall skipped", turn_id=turn_id, why=f"memory {why}")
            return []
        if not isinstance(answer, Memories) or answer.error:
            self.log.warning("recall failed", turn_id=turn_id, answer=str(answer))
            return []
        return answer.items

    def record(self, done: TurnDone, reply: LLMDone | None) -> None:
        """Keep the turn: a row in the store and, if it succeeded and told something worth
        remembering (`solo_actors.remembered`), a memory."""
        row = RecordTurn(
            turn_id=done.turn_id,
            conversation_id=done.conversation_id,
            user_text=done.text,
            reply_text=done.reply,
            model=done.model,
            prompt_tokens=None if reply is None else reply.prompt_tokens,
            completion_tokens=None if reply is None else reply.completion_tokens,
            tokens_per_second=done.tokens_per_second,
            time_to_first_token=None if reply is None else reply.time_to_first_token,
            finish_reason="error" if reply is None else reply.finish_reason,
            times=done.times,
        )
        self.tell_if_running(STORE_NAME, row)
        if done.error is not None or not self.memory_enabled:
            return
        memory = memory_of(self.settings.remember, done.text, done.reply, done.conversation_id,
                           tells=self.sorter.tells(done.text))  # fmt: skip
        if memory is not None:
            self.tell_if_running(MEMORY_NAME, memory)

    def tell_if_running(self, name: str, message: Message) -> None:
        outcome = supervisors.cast(name, message)
        if outcome != "ok":
            # A store or memory that is down (restarting) or full loses this one write; the
            # turn itself is unaffected and the loss is visible in the log.
            self.log.warning("not recorded", to=name, message=type(message).__name__, why=outcome)

    def entry_for(self, request_id: str) -> OpenTurn | None:
        turn_id = self.by_request.get(request_id)
        return None if turn_id is None else self.open.get(turn_id)

    def deliver(self, turn: UserTurn, message: Message) -> None:
        if turn.reply_to is None:
            return
        outcome = supervisors.cast(turn.reply_to, message)
        if outcome != "ok":
            # The requester is gone (a closed API request, a restarting tts): the turn still
            # completes and is recorded; only this delivery is dropped.
            self.log.debug(
                "reply not delivered", reply_to=turn.reply_to, turn_id=turn.turn_id, why=outcome
            )


def converse(
    text: str,
    conversation_id: str,
    *,
    source: TurnSource = "text",
    timeout: float = 120.0,
    on_message: Callable[[Message], None] | None = None,
) -> TurnDone:
    """Run one turn through the running dialogue actor and wait for its `TurnDone`.

    The reply address is an inbox (``supervisors.inbox``) that monitors the dialogue actor,
    so a dialogue that dies mid-turn raises at once (``pykka.ActorDeadError``) instead of
    at the timeout. ``on_message`` (called on this thread) sees each `LLMToken` as it
    streams. Raises `TimeoutError` if the turn doesn't finish within ``timeout`` seconds.
    """
    deadline = time.monotonic() + timeout
    with supervisors.inbox() as box:
        box.monitor(DIALOGUE_NAME)
        turn = UserTurn(conversation_id=conversation_id, text=text, source=source,
                        reply_to=box.name)  # fmt: skip
        supervisors.tell(DIALOGUE_NAME, turn)
        while True:
            try:
                message = box.receive(max(0.0, deadline - time.monotonic()))
            except TimeoutError:
                raise TimeoutError(
                    f"no answer to turn {turn.turn_id} within {timeout:g} s"
                ) from None
            if on_message is not None:
                on_message(message)
            if isinstance(message, TurnDone):
                return message
