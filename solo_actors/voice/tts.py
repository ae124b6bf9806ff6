"""The tts actor: speaks replies with Piper, sentence by sentence, as the tokens arrive.

It receives, for each turn, the `Transcript` (a reply is coming), the reply's `LLMToken`s,
its `LLMDone` or `LLMError`, and the closing `TurnDone` (from the dialogue actor, or from a
voice stage that failed). Tokens collect until a sentence is complete; that sentence is
synthesised at once and its audio sent to the speaker as an `AudioOut`, so the first
sentence plays while the llm writes the rest. A reply's first words go out even sooner: its
first chunk (its first phrase, clause or sentence, `spoken_text.first_chunk`) is spoken on
its own.
A turn that ends with nothing spoken (an error) speaks the `TurnDone`'s ``reply`` instead.
The voice is loaded once per process.

`ChangeSpeakingRate` (ask, from the skills actor) sets how fast Solo speaks, everywhere
(`speaking_rate`), answered with `SpeakingRateIs`.

Other programs' text (Solo's Wyoming server, a room's satellite) comes as a `Synthesize`:
each sentence's audio goes back to whoever asked as a `SynthesizedAudio`, then a
`Synthesized`; nothing is played here.

Barge-in: a `WakeDetected` cancels every turn opened before it (see `barge`). It is urgent
mail (``urgent``): it overtakes the tokens still queued and is taken between the pieces of a
sentence being synthesised, so tts synthesises nothing more of those turns; it then tells
one `Interrupt` to the llm, then one to the speaker, for each turn it cancels (a turn it
hears of only later, opened before the wake word, is cancelled and interrupted then); the
llm's cancelled `LLMDone` closes the turn at the dialogue actor, which sends no Interrupt of
its own. When tts starts speaking a reply's first chunk it tells the llm `SpeechStarted`
(urgent), so generation leaves it a core; the rule for where that chunk ends is tts's alone.
The speaker has stopped the sound already, and it drops whatever audio of a turn opened
before the wake word still comes.

With ``voice.tts.engine = "wyoming"`` a remote Wyoming service says each sentence
(`remote.RemoteTts`), its audio converted to the rate of ``voice.tts.voice`` (read from the
voice's .onnx.json), with Piper here as the fallback (`remote.Fallback`, loaded on first
need). A sentence the service fails with no fallback is not said: the log and the turn's
``error`` say why (a Wyoming request gets `Synthesized` with the error).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime
from msgspec.structs import replace
from piper import PiperConfig, PiperVoice, SynthesisConfig

import supervisors
from solo_actors.config import Config
from solo_actors.messages import (
    AudioOut,
    ChangeSpeakingRate,
    InputEnded,
    Interrupt,
    LLMDone,
    LLMError,
    LLMToken,
    SpeakingRateIs,
    SpeechStarted,
    SpeechSynthesized,
    Synthesize,
    Synthesized,
    SynthesizedAudio,
    SynthesizeSpeech,
    Transcript,
    TurnDone,
    VoiceRequestFailed,
    WakeDetected,
)
from solo_actors.models import ModelError, resolve_model
from solo_actors.names import LLM_NAME, SPEAKER, TTS
from solo_actors.runtime.clock import now
from solo_actors.runtime.logs import get_logger
from solo_actors.runtime.trace import step
from solo_actors.voice import remote
from solo_actors.voice.audio import ALERT_SECONDS, chime
from solo_actors.voice.barge import BargeIn, opened_at
from solo_actors.voice.devices import Device, onnx_providers
from solo_actors.voice.input_end import HoldsInputEnd
from solo_actors.voice.mail import send
from solo_actors.voice.remote import Fallback, RemoteServiceError, RemoteTts
from solo_actors.voice.speaking_rate import SpeakingRate, rate_file
from solo_actors.voice.spoken_text import first_chunk, sentences

UNSPOKEN = re.compile(r"[*_`#>|~\[\]\x00-\x1f\x7f-\x9f]+")
"""Markdown that small models like to write and that should not be read out, and control
characters, which the API refuses but a model could still write (a NUL crashes espeak)."""


@cache
def load_voice(path: str, threads: int = 0, device: Device = "cpu") -> PiperVoice:
    """The process's Piper voice for `path` (the .onnx; its .onnx.json beside it), run on
    `threads` onnxruntime threads (0: one per core) that sleep when idle instead of spinning.

    Piper synthesises a reply's first sentence while the llm is still writing the next
    ones: with idle threads spinning, the two fight for the same cores and both slow down.
    Without onnxruntime's memory arena: the arena keeps the peak of the longest sentence
    ever said for good (one 60-word sentence: +350 MB that never came back; the 30-minute
    soak saw tts grow 19 % in one step), while a short sentence synthesises as fast without
    it (0.32 s both ways).
    """
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.enable_cpu_mem_arena = False
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    session = onnxruntime.InferenceSession(
        path, sess_options=options, providers=onnx_providers(device)
    )
    return PiperVoice(session=session, config=voice_settings(path))


def voice_settings(path: str) -> PiperConfig:
    """The Piper voice's settings (its sample rate...), from the .onnx.json beside it."""
    return PiperConfig.from_dict(json.loads(Path(f"{path}.json").read_text(encoding="utf-8")))


def voice_path(config: Config, voice: str | None = None) -> str:
    """The .onnx of `voice` (a catalog id or a path; None: ``voice.tts.voice``)."""
    return str(
        resolve_model(
            voice or config.voice.tts.voice, config.models, role="tts",
            var_dir=config.solo.var_dir,
        ).path
    )  # fmt: skip


def synthesize(voice: PiperVoice, text: str, settings: SynthesisConfig) -> Iterator[np.ndarray]:
    """int16 audio of `text`, one array per sentence Piper finds: the library call the actor
    and the benchmark share."""
    for chunk in voice.synthesize(text, settings):
        yield chunk.audio_int16_array


MULTIPLIED = re.compile(r"(?<=\d)\s*[*\u00d7]\s*(?=\d)|\\times\b|\\cdot\b")
"""A multiplication sign between numbers ("5 * 4 * 3", LaTeX's "\\times"): said "times",
where `UNSPOKEN` would drop the asterisk and leave "5 4 3"."""

LATEX = re.compile(r"\\[()\[\]]|\\")
"""LaTeX's math brackets ("\\( 15 + 3 \\)") and any other backslash, which the 1.5B writes
in worked sums and Piper would read out."""


def speakable(text: str) -> str:
    """``text`` as tts reads it: multiplication said; markdown, LaTeX's brackets and control
    characters dropped; runs of whitespace one space."""
    said = LATEX.sub(" ", MULTIPLIED.sub(" times ", text))
    return " ".join(UNSPOKEN.sub(" ", said).split())


@dataclass
class Reply:
    """A turn whose reply tts is speaking."""

    turn_id: str
    opened: float
    """When the user opened the turn (`barge.opened_at`)."""
    pending: str = ""
    sentences: int = 0
    cancelled: bool = False
    speech_started: bool = False
    """The llm was told `SpeechStarted` for this reply."""
    error: str | None = None
    """Why a sentence of it could not be said (a remote engine's failure)."""


class TtsActor(HoldsInputEnd, supervisors.SupervisedActor):
    """Speaks replies as they stream in; see the module docstring."""

    urgent = (WakeDetected,)

    def __init__(self, config: Config) -> None:
        super().__init__()
        self.config = config
        self.settings = config.voice.tts
        self.log = get_logger(f"solo/voice/{TTS}")
        self.board = BargeIn()
        self.woken_by: str | None = None
        """The turn the latest wake word opened."""
        self.replies: dict[str, Reply] = {}
        self.counts: dict[str, int | float] = dict.fromkeys(
            ("sentences", "interrupted", "audio_s", "busy_s"), 0
        )

    def on_start(self) -> None:
        self.voice: PiperVoice | None = None
        self.remote: RemoteTts | None = None
        self.fallback: Fallback | None = None
        self.speaking_rate = SpeakingRate(rate_file(self.config.solo))
        self.synthesis = self.synthesis_at_rate()
        self.rate = voice_settings(voice_path(self.config)).sample_rate
        figures: dict[str, Any] = {"engine": self.settings.engine}
        if self.settings.engine == "wyoming":
            self.remote = RemoteTts(self.settings.remote, self.rate)
            self.fallback = Fallback(
                self.settings.remote, remote.TTS, f"solo/voice/{TTS}", self.publish_figures
            )
            figures.update(self.fallback.figures())
        else:
            self.local_voice()
        self.publish_figures(voice=self.settings.voice, sample_rate=self.rate, **figures,
                             speaking_rate=self.speaking_rate.level, **self.counts)  # fmt: skip

    def synthesis_at_rate(self) -> SynthesisConfig:
        """Piper's settings for Solo's own speech, at the user's speaking rate."""
        return SynthesisConfig(
            length_scale=self.speaking_rate.length_scale(self.settings.length_scale)
        )

    def change_rate(self, request: ChangeSpeakingRate) -> SpeakingRateIs:
        answer = self.speaking_rate.change(request, remote=self.remote is not None)
        self.synthesis = self.synthesis_at_rate()
        self.publish_figures(speaking_rate=answer.percent)
        return answer

    def local_voice(self) -> PiperVoice:
        """Piper here: loaded at start, or with a remote engine on its first need."""
        if self.voice is None:
            if self.remote is not None:
                self.log.warning("loading the local fallback voice", voice=self.settings.voice)
            self.voice = load_voice(
                voice_path(self.config), self.settings.threads, self.settings.device
            )
        return self.voice

    def say(self, text: str, synthesis: SynthesisConfig | None = None) -> Iterable[np.ndarray]:
        """int16 audio of `text` at `rate`, by the configured engine: Piper's one piece per
        sentence it finds (with `synthesis`, else at the user's speaking rate), or the
        service's whole text; a `RemoteServiceError` when the service failed with no
        fallback."""
        if self.speaking_rate.refresh():  # set by the process this one stood in for
            self.synthesis = self.synthesis_at_rate()
        settings = synthesis or self.synthesis
        if self.remote is None or self.fallback is None:
            return synthesize(self.local_voice(), text, settings)
        service = self.remote
        return self.fallback.serve(
            lambda: [service.synthesize(text)],
            lambda: list(synthesize(self.local_voice(), text, settings)),
        )

    def on_stop(self) -> None:
        self.close()

    def on_failure(self, *exc_info: Any) -> None:
        self.close()

    def close(self) -> None:
        if self.remote is not None:
            self.remote.close()
            self.remote = None

    def on_receive(self, message: Any) -> Any:
        match message:
            case Transcript():
                self.reply(message.turn_id, opened_at(message.times))
            case LLMToken():
                self.on_token(message)
            case LLMDone():
                self.on_done(message)
            case LLMError():
                self.log.warning("reply failed", turn_id=message.turn_id, error=message.message)
            case TurnDone():
                self.on_turn_done(message)
            case WakeDetected():
                self.barge_in(message)
            case Interrupt():
                self.cancel(message.turn_id)
            case Synthesize():
                self.synthesize_for(message)
            case ChangeSpeakingRate():
                return self.change_rate(message)
            case InputEnded():
                self.hold_input_end(message)
            case SynthesizeSpeech():
                return self.synthesize_text(message)
            case _:
                return super().on_receive(message)
        return None

    def reply(self, turn_id: str | None, opened: float | None = None) -> Reply:
        """The open reply of `turn_id`; a turn tts had not heard of opens now."""
        key = turn_id or ""
        reply = self.replies.get(key)
        if reply is None:
            reply = self.replies[key] = Reply(key, now() if opened is None else opened)
            if self.board.stale(reply.opened) and key != self.woken_by:
                # Opened before a wake word that overtook it in the mailbox: cancelled too
                # (never the wake word's own turn, whatever its stamps say).
                self.interrupt(reply)
        return reply

    def on_token(self, token: LLMToken) -> None:
        reply = self.reply(token.turn_id)
        if reply.cancelled:
            return
        reply.pending += token.text
        if reply.sentences == 0:
            chunk, reply.pending = first_chunk(reply.pending)
            if chunk and not reply.speech_started:
                # Urgent for the llm: it leaves this synthesis a core from its next token.
                reply.speech_started = True
                send(LLM_NAME, SpeechStarted(turn_id=reply.turn_id))
            self.speak(reply, chunk)
        whole, reply.pending = sentences(reply.pending)
        for sentence in whole:
            self.speak(reply, sentence)

    def on_done(self, done: LLMDone) -> None:
        reply = self.reply(done.turn_id)
        if done.finish_reason != "cancelled":
            self.speak(reply, reply.pending)
        reply.pending = ""

    def on_turn_done(self, done: TurnDone) -> None:
        reply = self.replies.pop(done.turn_id, None) or Reply(done.turn_id, opened_at(done.times))
        if reply.sentences == 0 and not reply.cancelled and done.reply:
            # Nothing was said (an error, or a reply with no tokens): say the turn's reply.
            if done.source == "skills":  # a timer, alarm or reminder: a chime, then its line
                self.send_audio(reply, chime(self.rate, ALERT_SECONDS))
            self.speak(reply, done.reply)
        if reply.error is not None and done.error is None:
            done = replace(done, error=reply.error)
        send(SPEAKER, done)
        self.maybe_end_input()

    def speak(self, reply: Reply, text: str) -> None:
        text = speakable(text)
        if not text or reply.cancelled or self.board.stale(reply.opened):
            return
        started = time.perf_counter()
        step(reply.turn_id, "tts", "synthesising", text=text)
        try:
            pieces = self.say(text)
        except RemoteServiceError as error:
            reply.error = f"the reply could not be said: {error}"
            return
        for audio in pieces:
            self.receive_urgent()  # a wake word sent meanwhile
            if self.board.stale(reply.opened):
                break  # a wake word came while this sentence was being synthesised
            step(reply.turn_id, "tts", "synthesised", seconds=round(len(audio) / self.rate, 2))
            self.send_audio(reply, audio)
            self.counts["sentences"] += 1
        self.counts["busy_s"] += time.perf_counter() - started
        self.publish_figures(**self.counts)

    def synthesize_text(self, request: SynthesizeSpeech) -> SpeechSynthesized | VoiceRequestFailed:
        """A text to be returned as audio, not played (the API's /v1/audio/speech)."""
        text = speakable(request.text)
        if not text:
            return VoiceRequestFailed(message="nothing to say: the text holds no speakable "
                                      "characters")  # fmt: skip
        if not 0.25 <= request.speed <= 4.0:
            return VoiceRequestFailed(message=f"speed must be 0.25..4.0, got {request.speed}")
        started = time.perf_counter()
        try:
            # The speed asked, not the user's speaking rate: a program's audio is its own.
            settings = SynthesisConfig(length_scale=self.settings.length_scale / request.speed)
            if request.voice is None and request.speed == 1.0:
                audio, rate = list(self.say(text, settings)), self.rate
            else:  # another voice or speed: Piper here says it
                voice = self.local_voice() if request.voice is None else load_voice(
                    voice_path(self.config, request.voice), self.settings.threads,
                    self.settings.device,
                )  # fmt: skip
                audio, rate = list(synthesize(voice, text, settings)), voice.config.sample_rate
        except ModelError as error:
            return VoiceRequestFailed(message=f"voice {request.voice!r} is not usable: {error}")
        except RemoteServiceError as error:
            return VoiceRequestFailed(message=str(error), unavailable=True)
        pcm = np.concatenate(audio) if audio else np.zeros(0, dtype=np.int16)
        self.counts["busy_s"] += time.perf_counter() - started
        self.counts["audio_s"] += len(pcm) / rate
        self.publish_figures(**self.counts)
        return SpeechSynthesized(pcm=pcm.tobytes(), sample_rate=rate,
                                 voice=request.voice or self.settings.voice)  # fmt: skip

    def synthesize_for(self, request: Synthesize) -> None:
        started, sentences = time.perf_counter(), 0
        text = speakable(request.text)
        try:
            pieces = self.say(text) if text else ()
        except RemoteServiceError as error:
            send(request.reply_to, Synthesized(request_id=request.request_id, sentences=0,
                                               error=str(error)))  # fmt: skip
            return
        for audio in pieces:
            send(request.reply_to, SynthesizedAudio(request_id=request.request_id,
                 pcm=audio.tobytes(), sample_rate=self.rate, index=sentences))  # fmt: skip
            sentences += 1
            self.counts["audio_s"] += len(audio) / self.rate
        self.counts["sentences"] += sentences
        self.counts["busy_s"] += time.perf_counter() - started
        self.publish_figures(**self.counts)
        send(request.reply_to, Synthesized(request_id=request.request_id, sentences=sentences))

    def send_audio(self, reply: Reply, audio: np.ndarray) -> None:
        """One piece of a reply's audio (a sentence, a chime) to the speaker, in order."""
        message = AudioOut(turn_id=reply.turn_id, pcm=audio.tobytes(), sample_rate=self.rate,
                           sentence_index=reply.sentences, opened=reply.opened)  # fmt: skip
        send(SPEAKER, message)
        reply.sentences += 1
        self.counts["audio_s"] += len(audio) / self.rate

    # -- barge-in ------------------------------------------------------------------------

    def barge_in(self, wake: WakeDetected) -> None:
        self.board.record(wake)
        self.woken_by = wake.turn_id
        for reply in list(self.replies.values()):
            if reply.turn_id != wake.turn_id and not reply.cancelled:
                self.interrupt(reply)

    def interrupt(self, reply: Reply) -> None:
        """Cancel `reply` here and tell the actors still working on it to stop."""
        interrupt = Interrupt(turn_id=reply.turn_id)
        # One each, llm first: it stops writing (urgent mail, within a token); its cancelled
        # LLMDone then closes the turn at the dialogue actor. The speaker has stopped the
        # sound on the wake word already; this drops what of the turn is still to come.
        for name in (LLM_NAME, SPEAKER):
            send(name, interrupt)
        self.cancel(reply.turn_id)

    def cancel(self, turn_id: str | None) -> None:
        for reply in self.replies.values():
            if turn_id is None or reply.turn_id == turn_id:
                if not reply.cancelled:
                    self.counts["interrupted"] += 1
                    self.publish_figures(interrupted=self.counts["interrupted"])
                reply.cancelled = True
                reply.pending = ""

    # -- end of a finite input (see `input_end`) -----------------------------------------

    def turns_open(self) -> bool:
        return bool(self.replies)

    def pass_input_end(self, ended: InputEnded) -> None:
        send(SPEAKER, ended)
