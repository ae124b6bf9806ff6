"""Conversations: history per id, trimmed to the context window, kept as exact tokens.

A `Conversation` remembers its turns and, after each reply, the rendered text of the whole
closed conversation together with the exact tokens that encode it, starting with the tokens
the model itself generated for its replies. The next turn's prompt is rendered in full, and
when it extends that text (the usual case: the template only appends) its tokens are the
remembered ones plus the tokenised new suffix. So the token sequence sent to llama.cpp
matches its KV cache token for token, and only the new turn is evaluated, even where
re-tokenising the model's reply would have split it differently.

A turn that called tools holds, after the user message, the model's call (its raw text, so
its tokens match what was generated), the tools' answers (role "tool") and the final reply;
`PromptBuilder.follow` extends a prompt with one such round.

Trimming drops the oldest exchange (a user message and everything up to the next one) until
the prompt fits the room the reply leaves in the context (``n_ctx - max_tokens``); the
system prompt is always kept. Trimming changes the start of the prompt, so everything after
the system prompt is evaluated again; to make that rare, a trim goes down to
``history_fill`` of the room, not just below it. A conversation whose next turn would not
fit is trimmed as soon as its reply is written (`PromptBuilder.trim_closed`), so the llm
actor reads the kept history again while the reply is spoken, not while the next question
waits.

An exchange whose reply declined the request (solo_actors/declines.py: "I can't do that.")
is not kept (`PromptBuilder.leave_out`). A small model copies its own replies: after one
"I can't do that." in the history, Qwen2.5 1.5B answered "how far is the moon" with "I
can't check that offline.", and after three, "how do I boil an egg" with "I can't do
that." (docs/llm.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from solo_actors.llm.engine import Engine
from solo_actors.llm.templates import ChatTemplate
from solo_actors.messages import ChatMessage, FunctionCall

Turn = dict[str, Any]
"""A message as chat templates read it: "role" and "content" (text), and, from a caller's
history, an assistant's "tool_calls" (OpenAI-style entries, arguments as an object) or a
tool answer's "tool_call_id"."""
ToolList = list[Mapping[str, object]]


class PromptTooLong(ValueError):
    """Even without history the prompt does not leave room for the reply."""

    code = "context_length_exceeded"


def turn_of(message: ChatMessage) -> Turn:
    """`message` as a template reads it."""
    turn: Turn = {"role": message.role, "content": message.content}
    if message.tool_calls:
        turn["tool_calls"] = [
            {"id": call.call_id, "type": "function",
             "function": {"name": call.name, "arguments": call.arguments}}
            for call in message.tool_calls
        ]  # fmt: skip
    if message.tool_call_id is not None:
        turn["tool_call_id"] = message.tool_call_id
    return turn


def turns_of(messages: Iterable[ChatMessage]) -> list[Turn]:
    return [turn_of(message) for message in messages]


def message_of(turn: Turn) -> ChatMessage:
    """A template's message back as a `ChatMessage` (the inverse of `turn_of`)."""
    calls = tuple(
        FunctionCall(call_id=call["id"], name=call["function"]["name"],
                     arguments=call["function"]["arguments"])
        for call in turn.get("tool_calls", ())
    )  # fmt: skip
    return ChatMessage(role=turn["role"], content=turn["content"], tool_calls=calls,
                       tool_call_id=turn.get("tool_call_id"))  # fmt: skip


@dataclass(slots=True)
class Conversation:
    system: str
    turns: list[Turn] = field(default_factory=list)
    """User and assistant messages, alternating, oldest first (a history an OpenAI client
    gave may hold tool messages too)."""
    text: str = ""
    """The rendered closed conversation (ends after the last reply)."""
    tokens: list[int] = field(default_factory=list)
    """The tokens of `text`, as they were evaluated."""
    tools: ToolList | None = None
    """The tools rendered into the system prompt (OpenAI-style entries), if any."""
    tools_hint: str = ""
    """Added to the system prompt while tools are offered (``llm.tools_prompt``)."""

    def messages(self, turns: list[Turn]) -> list[Turn]:
        system = self.system
        if self.tools and self.tools_hint:
            system = f"{system}\n{self.tools_hint}" if system else self.tools_hint
        head = [{"role": "system", "content": system}] if system else []
        return [*head, *turns]


@dataclass(frozen=True, slots=True)
class Draft:
    """The next prompt before tokenising: the whole history plus the new user message."""

    turns: list[Turn]
    text: str


@dataclass(frozen=True, slots=True)
class Prompt:
    turns: list[Turn]
    """The kept history plus the new user message."""
    text: str
    tokens: list[int]


class PromptBuilder:
    """Renders, tokenises and trims prompts for one model and template."""

    def __init__(self, engine: Engine, template: ChatTemplate, history_fill: float) -> None:
        self.engine = engine
        self.template = template
        self.history_fill = history_fill

    def draft(
        self, conversation: Conversation, user_text: str, after: Sequence[Turn] = ()
    ) -> Draft:
        """The next user turn (and `after` it, a caller's tool round) rendered with the
        whole history (rendering is cheap, tokenising is not: a response-cache hit needs
        only this)."""
        turns = [*conversation.turns, {"role": "user", "content": user_text}, *after]
        return Draft(turns=turns, text=self._text(conversation, turns))

    def follow(self, conversation: Conversation, prompt: Prompt, turns: list[Turn]) -> Prompt:
        """`prompt` with `turns` (a tool call and its answers) appended, the assistant's
        turn open again. Not trimmed: a tool round's prompt that outgrows the context fails
        with `PromptTooLong` when generation is asked for more room than is left."""
        extended = [*prompt.turns, *turns]
        text = self._text(conversation, extended)
        if text.startswith(prompt.text):
            tokens = [*prompt.tokens, *self.engine.tokenize(text[len(prompt.text) :], start=False)]
        else:
            tokens = self._tokens(conversation, text)
        return Prompt(turns=extended, text=text, tokens=tokens)

    def forced(self, prompt: Prompt, start: str) -> Prompt:
        """`prompt` with the reply's first characters written for the model, which writes on
        from there (how a tool call is forced, `solo_actors.llm.tools.forced_start`)."""
        tokens = [*prompt.tokens, *self.engine.tokenize(start, start=False)]
        return Prompt(turns=prompt.turns, text=prompt.text + start, tokens=tokens)

    def fit(self, conversation: Conversation, draft: Draft, room: int) -> Prompt:
        """Tokenise `draft`, dropping the oldest turns if it exceeds `room` tokens."""
        turns, text = draft.turns, draft.text
        tokens = self._tokens(conversation, text)
        if len(tokens) > room:
            target = int(room * self.history_fill)
            while len(tokens) > target and (rest := _without_oldest_exchange(turns)):
                turns = rest
                text = self._text(conversation, turns)
                tokens = self._tokens(conversation, text)
        if len(tokens) > room:
            raise PromptTooLong(
                f"prompt too long: {len(tokens)} tokens, but the context holds "
                f"{room} (llm.n_ctx={self.engine.n_ctx} minus the reply's max_tokens); "
                "shorten the prompt or raise llm.n_ctx"
            )
        return Prompt(turns=turns, text=text, tokens=tokens)

    def trim_closed(self, conversation: Conversation, room: int, next_turn: int) -> bool:
        """Trim the closed `conversation` now, as its next prompt's `fit` would, if that
        prompt (about `next_turn` tokens more than the history) would not fit `room`: the
        kept history then goes down to ``history_fill`` of the room. True if it trimmed;
        `conversation.tokens` are then the kept history's, to be read while nobody waits."""
        if not conversation.tokens or len(conversation.tokens) + next_turn <= room:
            return False
        target = int(room * self.history_fill)
        turns, text, tokens = conversation.turns, conversation.text, conversation.tokens
        while len(tokens) + next_turn > target and (rest := _without_oldest_exchange(turns)):
            turns = rest
            text = self._closed_text(conversation, turns)
            tokens = self.engine.tokenize(text, start=True)
        if turns is conversation.turns:
            return False  # one exchange left: the next prompt's fit says whether it fits
        conversation.turns, conversation.text, conversation.tokens = turns, text, tokens
        return True

    def close(
        self, conversation: Conversation, prompt: Prompt, reply: str, reply_tokens: list[int]
    ) -> None:
        """Record the reply and the exact tokens of the closed conversation.

        `reply_tokens` are the tokens the model generated (empty for a cached reply). They
        are kept only if they decode to exactly `reply`; if sanitising changed the reply,
        its re-tokenised text is used and the next turn re-evaluates it.
        """
        turns = [*prompt.turns, {"role": "assistant", "content": reply}]
        closed = self._closed_text(conversation, turns)
        head = prompt.text + reply
        generated = bool(reply_tokens) and self.engine.detokenize(reply_tokens) == reply
        if generated and closed.startswith(head):
            tail = self.engine.tokenize(closed[len(head) :], start=False)
            tokens = [*prompt.tokens, *reply_tokens, *tail]
        elif closed.startswith(prompt.text):
            tail = self.engine.tokenize(closed[len(prompt.text) :], start=False)
            tokens = [*prompt.tokens, *tail]
        else:
            tokens = self.engine.tokenize(closed, start=True)
        conversation.turns, conversation.text, conversation.tokens = turns, closed, tokens

    def extend_closed(self, conversation: Conversation) -> None:
        """After turns were added to the closed `conversation` (an exchange answered
        elsewhere): its text and tokens, the kept ones plus the new turns' (nothing is
        evaluated). A conversation with none kept is tokenised afresh by its next turn."""
        if not conversation.text:
            return
        closed = self._closed_text(conversation, conversation.turns)
        conversation.tokens = self._tokens(conversation, closed)
        conversation.text = closed

    def leave_out(self, conversation: Conversation, prompt: Prompt) -> None:
        """Close the turn of `prompt` keeping nothing of it: the history is what came before
        its user message (as `fit` kept it). Untrimmed, that is what the conversation
        already holds, and its tokens lead the KV cache, so the next turn reads only
        itself."""
        opened = max(index for index, turn in enumerate(prompt.turns) if turn["role"] == "user")
        kept = prompt.turns[:opened]
        if kept == conversation.turns:
            return
        conversation.turns = kept
        conversation.text = self._closed_text(conversation, kept)
        conversation.tokens = self.engine.tokenize(conversation.text, start=True)

    def _text(self, conversation: Conversation, turns: list[Turn]) -> str:
        """`turns` rendered as a prompt: the assistant's turn opened for the reply."""
        return self.template.render(
            conversation.messages(turns), add_generation_prompt=True, tools=conversation.tools
        )

    def _closed_text(self, conversation: Conversation, turns: list[Turn]) -> str:
        """`turns` rendered as a closed conversation: it ends after the last message."""
        return self.template.render(
            conversation.messages(turns), add_generation_prompt=False, tools=conversation.tools
        )

    def _tokens(self, conversation: Conversation, text: str) -> list[int]:
        if conversation.text and text.startswith(conversation.text):
            suffix = self.engine.tokenize(text[len(conversation.text) :], start=False)
            return [*conversation.tokens, *suffix]
        return self.engine.tokenize(text, start=True)


def without_mentions(turns: list[Turn], texts: list[str]) -> list[Turn]:
    """`turns` less every exchange (a user message and what follows up to the next one)
    any message of which contains one of ``texts`` (spaces compared as one: a recalled
    memory's lines are written that way): where it was told, recalled, or said back."""
    kept: list[Turn] = []
    exchange: list[Turn] = []
    for turn in [*turns, {"role": "user", "content": ""}]:  # the sentinel ends the last one
        if turn["role"] == "user" and exchange:
            said = (" ".join(str(message["content"]).split()) for message in exchange)
            if not any(text in words for words in said for text in texts):
                kept.extend(exchange)
            exchange = []
        exchange.append(turn)
    return kept


def _without_oldest_exchange(turns: list[Turn]) -> list[Turn]:
    """`turns` from the second user message on (empty if there is none)."""
    for index in range(1, len(turns)):
        if turns[index]["role"] == "user":
            return turns[index:]
    return []
