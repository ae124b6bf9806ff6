"""Every message that crosses an actor boundary in Solo, in one module.

Messages are frozen, tagged msgspec Structs: immutable (safe to share between threads),
cheap to build, and encodable as JSON or MessagePack without extra code, so the same types can
later cross a process pipe or a NATS subject. A voice turn carries a ``turn_id`` and the
monotonic timestamps of each stage, so the latency of every turn can be stored and shown.

Flow: AudioFrame -> wake -> WakeDetected -> VAD -> Utterance -> stt -> Transcript -> llm ->
LLMToken... LLMDone -> tts (sentence by sentence) -> AudioOut... ; Interrupt cancels
generation and playback (barge-in).
"""

from __future__ import annotations

import time
import uuid
from typing import Literal

import msgspec


def new_id() -> str:
    """A short random id for turns, conversations and requests."""
    return uuid.uuid4().hex[:16]


def now() -> float:
    """Monotonic seconds: the clock every stage timestamp uses."""
    return time.monotonic()


class Message(msgspec.Struct, frozen=True, tag=True, kw_only=True):
    """Base of all messages; the tag is the class name."""


class StageTimes(msgspec.Struct, frozen=True, kw_only=True):
    """Monotonic timestamps of one voice turn's stages; None until the stage happens."""

    wake: float | None = None
    speech_end: float | None = None
    transcript: float | None = None
    first_token: float | None = None
    first_audio: float | None = None
    done: float | None = None


# --- audio in -----------------------------------------------------------------------------


class AudioFrame(Message, frozen=True):
    """A fixed-size block of 16 kHz mono int16 PCM from the microphone or a file."""

    pcm: bytes
    sample_rate: int
    sequence: int
    captured_at: float = msgspec.field(default_factory=now)


class WakeDetected(Message, frozen=True):
    turn_id: str
    keyword: str
    score: float
    at: float = msgspec.field(default_factory=now)


class Utterance(Message, frozen=True):
    """The speech between the wake word and the end of speech, ready for STT."""

    turn_id: str
    pcm: bytes
    sample_rate: int
    times: StageTimes


class Transcript(Message, frozen=True):
    turn_id: str
    text: str
    times: StageTimes


# --- language model -----------------------------------------------------------------------


class ChatMessage(msgspec.Struct, frozen=True, kw_only=True):
    role: str
    content: str


class LLMRequest(Message, frozen=True, kw_only=True):
    """Ask the llm actor for a reply; tokens stream to ``reply_to`` (a registered name).

    With a ``conversation_id`` the actor keeps the history and the prompt is the next user
    turn; without one the request stands alone. ``system`` overrides the configured system
    prompt; ``temperature`` and ``max_tokens`` override the configured sampling for this
    request only. ``times`` comes back in `LLMDone` with ``first_token`` filled in.
    """

    request_id: str = msgspec.field(default_factory=new_id)
    conversation_id: str | None = None
    prompt: str
    system: str | None = None
    reply_to: str | None = None
    turn_id: str | None = None
    temperature: float | None = None
    max_tokens: int | None = None
    times: StageTimes | None = None


class LLMToken(Message, frozen=True):
    """One streamed piece of a reply; the pieces of a request concatenate to its text."""

    request_id: str
    text: str
    index: int
    turn_id: str | None = None


class LLMDone(Message, frozen=True):
    """The end of a reply. ``finish_reason``: "stop" (end of turn), "length" (max_tokens;
    an unfinished last sentence is cut from ``text``), or "cancelled" (partial text).
    ``prompt_eval_tokens`` counts the prompt tokens actually evaluated; the rest of
    ``prompt_tokens`` were reused from the KV cache. Seconds are wall-clock durations."""

    request_id: str
    text: str
    prompt_tokens: int
    prompt_eval_tokens: int
    completion_tokens: int
    tokens_per_second: float
    time_to_first_token: float
    finish_reason: str
    cached: bool = False
    turn_id: str | None = None
    times: StageTimes | None = None


class LLMError(Message, frozen=True):
    """A request the llm actor could not serve; ``message`` says why and what to do."""

    request_id: str
    message: str
    turn_id: str | None = None


class LLMCancel(Message, frozen=True):
    """Stop one request (running or still queued); its `LLMDone` says "cancelled"."""

    request_id: str


# --- dialogue: one user turn, whatever its source ----------------------------------------


TurnSource = Literal["voice", "text", "api", "agents"]


class UserTurn(Message, frozen=True, kw_only=True):
    """Text from the user for the dialogue actor to answer.

    The dialogue actor recalls memories, asks the llm, streams the reply's `LLMToken`s and
    then its `LLMDone` (or an `LLMError`) to ``reply_to`` (a registered name, e.g. "tts"),
    and finally records the turn and tells ``reply_to`` a `TurnDone`.
    """

    turn_id: str = msgspec.field(default_factory=new_id)
    conversation_id: str
    text: str
    source: TurnSource
    reply_to: str | None = None
    times: StageTimes = msgspec.field(default_factory=StageTimes)


class TurnDone(Message, frozen=True, kw_only=True):
    """A finished turn: what was said, what was answered, and how long each stage took.
    ``error`` is set (and ``reply`` is what the user was told instead) when a stage failed."""

    turn_id: str
    conversation_id: str
    source: TurnSource
    text: str
    reply: str
    times: StageTimes
    model: str | None = None
    tokens_per_second: float | None = None
    memories_used: int = 0
    error: str | None = None


# --- audio out and control ----------------------------------------------------------------


class AudioOut(Message, frozen=True):
    turn_id: str
    pcm: bytes
    sample_rate: int
    sentence_index: int


class Interrupt(Message, frozen=True):
    """Barge-in: cancel generation and playback of the given turn (or all if None)."""

    turn_id: str | None = None
    reason: str = "barge-in"
