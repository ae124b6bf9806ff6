"""The vad actor: after the wake word, finds where the question starts and ends.

Silero VAD (the ONNX model bundled with faster-whisper) scores every 32 ms frame while the
actor listens; its recurrent state is carried from frame to frame, so each frame costs one
small inference. Listening starts at `WakeDetected` and ends when, after speech, the frames
stay below ``voice.vad.threshold`` for ``silence_timeout`` seconds (the endpoint), when the
question reaches ``max_utterance`` seconds (it is cut and answered), or when nobody speaks
within ``listen_timeout``. The `Utterance` keeps ``pre_roll`` seconds before the first
speech frame, because Silero notices speech a frame or two after it starts.

At each pause (``TAIL_SECONDS`` of silence after speech) the actor tells stt the
`SpeechSoFar`: exactly the utterance it will send at the endpoint if the user says nothing
more, so stt transcribes it while the silence timeout runs out. While the user speaks, every
``partial_every`` seconds of it, the speech so far goes to stt too (``speaking=True``), so
the llm can read most of the turn's prompt before the turn ends.

Between turns the actor does nothing with the frames (no inference), so idle listening
costs the wake word alone.

With ``voice.vad.end_of_turn = "words"``, stt answers a pause's `SpeechSoFar` with a
`TurnEnd` when its words decide (voice/turn_end.py): a finished question ends the turn at
once, at the pause, with no silence left to wait; words that stop mid-phrase make this turn
wait ``incomplete_timeout`` of silence instead of ``silence_timeout``, until speech resumes.
A verdict about speech the user has since added to is stale and ignored.

Continued conversation: when a spoken reply has finished playing, the speaker sends
`FollowUp` (``follow_up_after`` seconds after its last sample, so Solo's own voice is never
heard as the user's) and vad listens ``follow_up`` seconds for a question as if the wake
word had been said. No speech in that time, and it stops listening; the wake word during
it starts an ordinary turn.

A room's satellite streams its audio as `DetectSpeech` pieces: each stream gets a detector
of its own, endpointed by the same rules (its pauses are sent to stt as `SpeechSoFar`, so
its words may end it early, and are read ahead into the room's conversation; no partials
while the user speaks), and its speech goes back as one `SpeechEnded` to whoever asked.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cache
from typing import Any, Literal

import numpy as np

import supervisors
from solo_actors.config import Config
from solo_actors.messages import (
    AudioFrame,
    DetectSpeech,
    FollowUp,
    InputEnded,
    SpeechEnded,
    SpeechSoFar,
    StageTimes,
    TurnAbandoned,
    TurnEnd,
    TurnHeard,
    Utterance,
    WakeDetected,
)
from solo_actors.names import STT, TURN_WATCH, VAD
from solo_actors.runtime.clock import now
from solo_actors.runtime.ids import new_id
from solo_actors.runtime.logs import get_logger
from solo_actors.runtime.trace import step
from solo_actors.voice.audio import FRAME_SAMPLES, FRAME_SECONDS, SAMPLE_RATE, int16_to_float
from solo_actors.voice.mail import fail_turn, send
from solo_actors.voice.options import RunOptions

CONTEXT_SAMPLES = 64
"""Silero v5+ looks at the last 64 samples of the previous frame with each frame."""

TAIL_SECONDS = 0.12
"""Silence kept after the last speech frame (4 frames): Whisper ends words more cleanly with
it. It is also the pause after which stt is given the speech so far (all of the tail is
there), so it is as short as keeps the words: on 100 test questions 4 frames gave the same
words as 7 in 95 (the rest were Whisper's coin flips both ways, as often right as wrong),
and the answer starts 0.1 s sooner."""


@cache
def silero_session() -> Any:
    """The process's Silero ONNX session (loaded once; restarts reuse it)."""
    from faster_whisper.vad import get_vad_model

    return get_vad_model().session


class StreamingSilero:
    """Silero VAD fed one frame at a time, carrying its recurrent state."""

    def __init__(self) -> None:
        self.session = silero_session()
        self.reset()

    def reset(self) -> None:
        self.state_h = np.zeros((1, 1, 128), np.float32)
        self.state_c = np.zeros((1, 1, 128), np.float32)
        self.context = np.zeros(CONTEXT_SAMPLES, np.float32)

    def probability(self, pcm: bytes) -> float:
        samples = int16_to_float(pcm)
        batch = np.concatenate([self.context, samples])[np.newaxis, :]
        output, self.state_h, self.state_c = self.session.run(
            None, {"input": batch, "h": self.state_h, "c": self.state_c}
        )
        self.context = samples[-CONTEXT_SAMPLES:]
        return float(np.ravel(output)[0])


@dataclass
class Speech:
    """Frames listened to and where speech is in them."""

    frames: list[bytes] = field(default_factory=list)
    speech_start: int | None = None
    last_speech: int = 0
    give_up_frames: int = 0
    """Frames with no speech after which listening stops: the listen timeout after the wake
    word, the follow-up window after a reply."""
    silence_frames: int = 0
    """Frames of silence after speech that end it: the silence timeout, or the longer one
    after words that stop mid-phrase (a `TurnEnd` "incomplete")."""


@dataclass(kw_only=True)
class Listening(Speech):
    """The turn being listened to: its frames since the wake word and where speech is."""

    wake: WakeDetected
    last_partial: int = 0
    """The frame at which the words so far were last sent while the user spoke."""
    follow_up: bool = False
    """Listening after a reply, without the wake word (continued conversation)."""


@dataclass
class Stream(Speech):
    """Another program's audio stream (a room's satellite), with its own detector."""

    reply_to: str = ""
    """Who gets its `SpeechEnded`."""
    conversation_id: str | None = None
    silero: StreamingSilero = field(default_factory=StreamingSilero)
    pending: bytes = b""
    """The start of a frame not yet whole."""


Verdict = Literal["listen", "pause", "no_speech", "end", "cut"]
"""What the endpoint rules say after a frame; "pause": the speech so far is worth
transcribing now (it is what will be sent if nothing more is said)."""
FRAME_BYTES = 2 * FRAME_SAMPLES
MAX_STREAMS = 64
"""Satellite streams endpointed at once; the oldest is dropped past that."""


class VadActor(supervisors.SupervisedActor):
    """Endpoints the question after the wake word; see the module docstring."""

    def __init__(self, config: Config, options: RunOptions) -> None:
        super().__init__()
        self.settings = config.voice.vad
        self.error_reply = config.voice.stt.error_reply
        self.options = options
        self.log = get_logger(f"solo/voice/{VAD}")
        self.silero = StreamingSilero()
        self.pre_roll = math.ceil(self.settings.pre_roll / FRAME_SECONDS)
        self.silence_frames = math.ceil(self.settings.silence_timeout / FRAME_SECONDS)
        self.max_frames = math.ceil(self.settings.max_utterance / FRAME_SECONDS)
        self.tail_frames = math.ceil(TAIL_SECONDS / FRAME_SECONDS)
        self.give_up_frames = math.ceil(self.settings.listen_timeout / FRAME_SECONDS)
        self.incomplete_frames = math.ceil(self.settings.incomplete_timeout / FRAME_SECONDS)
        self.follow_up_frames = math.ceil(self.settings.follow_up / FRAME_SECONDS)
        self.partial_frames = math.ceil(self.settings.partial_every / FRAME_SECONDS)
        self.listening: Listening | None = None
        self.streams: dict[str, Stream] = {}
        self.counts = dict.fromkeys(
            ("utterances", "cut", "no_speech", "ended_by_words", "waited_for_words",
             "follow_ups", "follow_ups_heard"), 0
        )  # fmt: skip

    def on_failure(self, *exc_info: Any) -> None:
        if self.listening is not None:
            self.fail(self.listening.wake, f"voice activity detection crashed: {exc_info[1]!r}")

    def on_receive(self, message: Any) -> Any:
        match message:
            case AudioFrame():
                if self.listening is not None:
                    self.listen(self.listening, message.pcm)
            case WakeDetected():
                # A new wake word replaces whatever was being listened to (barge-in).
                if self.listening is not None:
                    send(TURN_WATCH, TurnAbandoned(turn_id=self.listening.wake.turn_id))
                self.silero.reset()
                self.listening = Listening(wake=message, give_up_frames=self.give_up_frames,
                                           silence_frames=self.silence_frames)  # fmt: skip
            case FollowUp():
                self.listen_for_follow_up(message)
            case TurnEnd():
                self.words_decide(message)
            case DetectSpeech():
                self.endpoint(message)
            case InputEnded():
                self.flush()
                send(STT, message)
            case _:
                return super().on_receive(message)
        return None

    def hear(self, speech: Speech, silero: StreamingSilero, pcm: bytes) -> tuple[bool, Verdict]:
        """Add one frame to ``speech``: whether it is speech, and what the endpoint rules
        say now (the same rules for the microphone's turns and satellites' streams)."""
        index = len(speech.frames)
        speech.frames.append(pcm)
        spoken = silero.probability(pcm) >= self.settings.threshold
        if spoken:
            if speech.speech_start is None:
                speech.speech_start = index
            speech.last_speech = index
            speech.silence_frames = self.silence_frames  # a verdict on earlier words is stale
        if speech.speech_start is None:
            return spoken, "no_speech" if index + 1 >= speech.give_up_frames else "listen"
        if index - speech.last_speech >= speech.silence_frames:
            return spoken, "end"
        if index - speech.speech_start + 1 >= self.max_frames:
            return spoken, "cut"
        if index - speech.last_speech == self.tail_frames:
            return spoken, "pause"
        return spoken, "listen"

    def listen(self, turn: Listening, pcm: bytes) -> None:
        index = len(turn.frames)
        spoken, verdict = self.hear(turn, self.silero, pcm)
        if spoken:
            if turn.speech_start == index:
                turn.last_partial = index
            if self.partial_frames and index - turn.last_partial >= self.partial_frames:
                # Only while speech goes on: the pause sends its own SpeechSoFar, and one
                # sent in the last ~0.1 s of speech delays that by what is left of its
                # Whisper run (stt skips it if it has not started by then).
                turn.last_partial = index
                send(STT, SpeechSoFar(turn_id=turn.wake.turn_id, pcm=self.cut(turn, index + 1),
                                      sample_rate=SAMPLE_RATE, speaking=True))  # fmt: skip
        if verdict == "no_speech":
            self.counts["no_speech"] += 1
            self.log.info("no speech after the wake word or reply", turn_id=turn.wake.turn_id)
            self.listening = None
            send(TURN_WATCH, TurnAbandoned(turn_id=turn.wake.turn_id))
            self.publish_figures(**self.counts)
        elif verdict in ("end", "cut"):
            self.finish(turn, cut=verdict == "cut")
        elif verdict == "pause":
            self.pause_heard(turn.wake.turn_id, turn)

    def flush(self) -> None:
        """The input ended: answer what was said so far."""
        turn = self.listening
        if turn is not None and turn.speech_start is not None:
            self.finish(turn, cut=False)
        elif turn is not None:
            send(TURN_WATCH, TurnAbandoned(turn_id=turn.wake.turn_id))
        self.listening = None

    def listen_for_follow_up(self, follow_up: FollowUp) -> None:
        if self.listening is not None or not self.follow_up_frames:
            return  # the wake word came first, or continued conversation is off
        self.counts["follow_ups"] += 1
        self.silero.reset()
        # The turn starts now, as if the wake word had just been said (no chime: the user
        # is answering, not calling).
        wake = WakeDetected(turn_id=new_id(), keyword="follow-up", score=0.0)
        self.log.info("listening for a follow-up", turn_id=wake.turn_id,
                      after_turn=follow_up.after_turn)  # fmt: skip
        self.listening = Listening(wake=wake, give_up_frames=self.follow_up_frames,
                                   silence_frames=self.silence_frames, follow_up=True)  # fmt: skip
        send(TURN_WATCH, wake)  # this turn, too, is owed an answer if a question comes
        self.publish_figures(**self.counts)

    def words_decide(self, verdict: TurnEnd) -> None:
        """Act on stt's `TurnEnd` if it is about the speech heard so far, all of it (of the
        microphone's turn, or of a satellite's stream)."""
        turn = self.listening
        speech: Speech | None = self.streams.get(verdict.turn_id)
        if speech is None and turn is not None and turn.wake.turn_id == verdict.turn_id:
            speech = turn
        if speech is None or speech.speech_start is None:
            return  # that turn has ended already
        if len(self.cut(speech)) != verdict.pcm_bytes:
            return  # the user spoke again after the pause it judged
        if verdict.verdict == "complete":
            self.counts["ended_by_words"] += 1
            if isinstance(speech, Listening):
                self.finish(speech, cut=False)
            else:
                self.end_stream(verdict.turn_id, "end")
        else:
            self.counts["waited_for_words"] += 1
            speech.silence_frames = self.incomplete_frames

    def finish(self, turn: Listening, *, cut: bool) -> None:
        self.listening = None
        if turn.follow_up:
            self.counts["follow_ups_heard"] += 1
        pcm = self.cut(turn)
        self.counts["utterances"] += 1
        if cut:
            self.counts["cut"] += 1
            self.log.warning(
                "utterance cut at the maximum length (voice.vad.max_utterance)",
                turn_id=turn.wake.turn_id,
                seconds=self.settings.max_utterance,
            )
        seconds = len(pcm) / 2 / SAMPLE_RATE
        self.log.info("utterance", turn_id=turn.wake.turn_id, seconds=round(seconds, 2), cut=cut)
        times = StageTimes(wake=turn.wake.at, speech_end=now())
        step(turn.wake.turn_id, "vad", "end of turn", seconds=round(seconds, 2))
        # Figures first: whoever gets the utterance and then reads them sees it counted.
        self.publish_figures(**self.counts, last_utterance_s=round(seconds, 2))
        send(
            STT,
            Utterance(turn_id=turn.wake.turn_id, pcm=pcm, sample_rate=SAMPLE_RATE, times=times),
        )
        send(TURN_WATCH, TurnHeard(turn_id=turn.wake.turn_id))

    def endpoint(self, piece: DetectSpeech) -> None:
        stream = self.streams.get(piece.stream_id)
        if stream is None:
            if len(self.streams) >= MAX_STREAMS:
                del self.streams[next(iter(self.streams))]
            stream = self.streams[piece.stream_id] = Stream(
                give_up_frames=self.give_up_frames, silence_frames=self.silence_frames,
                reply_to=piece.reply_to, conversation_id=piece.conversation_id,
            )  # fmt: skip
        audio = stream.pending + piece.pcm
        whole = len(audio) - len(audio) % FRAME_BYTES
        stream.pending = audio[whole:]
        for start in range(0, whole, FRAME_BYTES):
            _spoken, verdict = self.hear(stream, stream.silero, audio[start : start + FRAME_BYTES])
            if verdict == "pause":
                self.pause_heard(piece.stream_id, stream, stream.conversation_id)
            elif verdict != "listen":
                self.end_stream(piece.stream_id, verdict)
                return

    def pause_heard(self, turn_id: str, speech: Speech, conversation_id: str | None = None) -> None:
        """A pause (the microphone's or a room's stream's): stt transcribes what the endpoint
        will send if nothing more is said, and its words may end the turn now
        (`words_decide`)."""
        step(turn_id, "vad", "pause")
        send(STT, SpeechSoFar(turn_id=turn_id, pcm=self.cut(speech), sample_rate=SAMPLE_RATE,
                              conversation_id=conversation_id))  # fmt: skip

    def end_stream(self, stream_id: str, verdict: Verdict) -> None:
        """A satellite's stream is over: its speech (none, if nobody spoke) to its asker."""
        stream = self.streams.pop(stream_id)
        self.counts["utterances" if verdict != "no_speech" else "no_speech"] += 1
        self.counts["cut"] += verdict == "cut"
        pcm = self.cut(stream) if verdict != "no_speech" else b""
        self.publish_figures(**self.counts)  # before the speech: its receiver sees it counted
        send(stream.reply_to, SpeechEnded(stream_id=stream_id, pcm=pcm))

    def cut(self, turn: Speech, end: int | None = None) -> bytes:
        """The utterance: from the pre-roll before speech to the tail after the last of it
        (or to frame `end`, for the speech so far while it goes on)."""
        start = max(0, (turn.speech_start or 0) - self.pre_roll)
        if end is None:
            end = turn.last_speech + 1 + self.tail_frames
        return b"".join(turn.frames[start:end])

    def fail(self, wake: WakeDetected, error: str) -> None:
        fail_turn(
            wake.turn_id,
            self.options.conversation_id,
            error,
            self.error_reply,
            StageTimes(wake=wake.at),
        )
