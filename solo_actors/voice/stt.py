"""The stt actor: turns an `Utterance` into text with faster-whisper and hands it on.

The model is the catalog's CTranslate2 folder (``voice.stt.model``), never a hub name, which
would go to the network. It is loaded once per process (int8 on the CPU) and a restarted
actor reuses it. For each utterance the actor tells tts the `Transcript` (so tts knows a
reply is coming) and the dialogue actor a `UserTurn` whose reply goes to tts.

Transcribing while the user speaks: at each pause vad sends `SpeechSoFar`, the utterance
it would cut if nothing more were said, and the actor transcribes it at once, during the
silence vad still waits out. When the `Utterance` comes with the same audio (no speech
after the pause) its text is already there; otherwise the whole utterance is transcribed.

With ``voice.vad.end_of_turn = "words"`` the text made at a pause is also judged
(voice/turn_end.py) and the verdict goes back to vad as a `TurnEnd`: a finished question
ends the turn at once, one that stops mid-phrase gets a longer silence timeout.

The text made at a pause also goes to the dialogue actor as a `TurnAhead`, so the llm reads
the prompt that turn will have while the silence runs out; at the endpoint only what
differs is left to read (one token when nothing does). vad also sends the speech so far
while the user is still speaking (``SpeechSoFar.speaking``, every
``voice.vad.partial_every`` s); its text goes on as a `TurnAhead` too, and is never taken
for an utterance's.

Whisper's encoder is given ``voice.stt.window`` seconds (the question's features padded as
faster-whisper pads them) instead of the fixed 30 s window faster-whisper pads every input
to: the encoder is most of the time, and a short question in a 6 s window costs a sixth of
the work. A window shorter than the model was trained with makes the decoder say the
question again past its end (one short question in five with 6 s, one in sixteen with 8 s);
the first telling is kept (`before_repeat`). With that, on 156 test questions, the 6 s
window gave the 30 s window's words in 138 and the 8 s window in 139. An output that still
looks like a loop (Whisper's gzip compression-ratio test, or a decode that never ended) is
transcribed again with the full window, and so is audio longer than the window.

Whisper's beam search keeps ``voice.stt.beam_size`` hypotheses, and the best is not always
what was said: "how many cups are in a later" beat "... a liter". When the best fits no skill
template and another one fits a template whole, with no word left to a free-text slot
(`skills.hook.fits_whole`), that one is the transcript: a command's words are few and fixed, so a
hypothesis that fits them is better evidence than a fraction of a log-probability
(`bench/bench_skills.py --heard`; docs/voice.md). The beams are searched anyway; finishing
the second and matching it cost a few percent of a transcription (bench/RESULTS.md).

An utterance with no recognisable words, or a crash while transcribing one (the actor is
then restarted by its supervisor), is answered with ``voice.stt.error_reply``.

The wake word said before a question ("Jarvis, what time is it?", heard in the follow-up
window after a reply) is not part of it: it is taken off the front of every transcript
(`without_wake_word`). The wake word alone is no finished question at a pause, and no
question at all at the end of a turn (the turn is abandoned, as after silence).

Other programs' speech (Solo's Wyoming server, a room's satellite) comes as a `Transcribe`
and its text goes back to whoever asked, as a `Transcribed`; it opens no turn.

With ``voice.stt.engine = "wyoming"`` a remote Wyoming service transcribes instead of
Whisper here (`remote.RemoteStt`), with Whisper as the fallback (`remote.Fallback`, loaded
on first need). A service that fails with no fallback fails the turn (or the request) with
its error, which says what to check.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache, partial
from itertools import chain
from typing import Any

import numpy as np
from faster_whisper import WhisperModel
from faster_whisper.audio import pad_or_trim
from faster_whisper.tokenizer import Tokenizer
from faster_whisper.transcribe import get_compression_ratio
from msgspec.structs import replace

import supervisors
from solo_actors.config import REPO_ROOT, Config
from solo_actors.messages import (
    AudioTranscribed,
    InputEnded,
    SpeechSoFar,
    Transcribe,
    TranscribeAudio,
    Transcribed,
    Transcript,
    TurnAbandoned,
    TurnAhead,
    TurnEnd,
    UserTurn,
    Utterance,
    VoiceRequestFailed,
)
from solo_actors.models import ModelError, resolve_model
from solo_actors.names import DIALOGUE_NAME, STT, TTS, TURN_WATCH, VAD
from solo_actors.runtime.clock import now
from solo_actors.runtime.logs import get_logger
from solo_actors.runtime.trace import step
from solo_actors.skills.hook import fits_whole, skill_matcher
from solo_actors.voice import remote
from solo_actors.voice.audio import SAMPLE_RATE, int16_to_float
from solo_actors.voice.devices import stt_device
from solo_actors.voice.mail import fail_turn, send
from solo_actors.voice.options import RunOptions
from solo_actors.voice.remote import Fallback, RemoteServiceError, RemoteStt
from solo_actors.voice.turn_end import TurnEndJudge, Verdict, load_judge
from solo_actors.voice.wake_engines import spoken_wake_phrases

WORDS = re.compile(r"\w")
WORD_LIST = re.compile(r"\w+")


def wake_word_pattern(phrases: tuple[str, ...]) -> re.Pattern[str]:
    """The wake word at the start of a transcript, said to Solo: alone, or set off by
    punctuation ("Jarvis, what time is it?"), never as a word of the question ("Jarvis is
    a character in ...")."""
    said = "|".join(r"\W+".join(map(re.escape, phrase.split())) for phrase in phrases if phrase)
    if not said:
        return re.compile(r"(?!)")  # no wake word: nothing to take off
    return re.compile(rf"^\W*(?:{said})(?:\W*$|\s*[,.!?;:]+\s*)", re.IGNORECASE)


def without_wake_word(text: str, wake_word: re.Pattern[str]) -> str:
    """The question in `text`: without the wake word said before it (a follow-up window
    hears the next question's "Jarvis, ..." as speech; so does a turn whose user says the
    name twice). Only the wake word leaves nothing."""
    question = wake_word.sub("", text, count=1)
    return text if question == text else question[:1].upper() + question[1:]


@cache
def load_whisper(
    folder: str, threads: int, device: str = "cpu", compute_type: str = "int8"
) -> WhisperModel:
    """The process's Whisper model for `folder`, loaded on first use (`devices.stt_device`
    picks `device` and `compute_type` from the config)."""
    return WhisperModel(
        folder, device=device, compute_type=compute_type, cpu_threads=threads or os.cpu_count() or 1
    )


def whisper_folder(config: Config) -> str:
    return str(
        resolve_model(
            config.voice.stt.model, config.models, role="stt", var_dir=config.solo.var_dir
        ).path
    )


FULL_WINDOW_S = 30.0
"""Whisper's own window: what faster-whisper pads every input to."""

WINDOW_MARGIN_S = 1.0
"""Silence always left after the speech inside a shortened window."""

REPEATING = 2.4
"""Compression ratio above which a transcript repeats itself (faster-whisper's default)."""

REPEATED_WORDS = 3
"""A run of this many words or more said twice in a row is the decoder looping, not speech;
so is a transcript that ends by starting over with this many of its first words."""

RESTARTED_WORDS = 5
"""A run of this many words said twice anywhere in one question is the decoder starting it
over ("Turn off the lights in the kitchen. Turn off the lights in the"), not speech."""

TOKENS_PER_SECOND = 12
"""A bound on the tokens of one second of speech (people say 3-5): a runaway loop stops."""


def transcribe(
    model: WhisperModel,
    pcm: bytes,
    language: str,
    beam_size: int,
    window: float = 30.0,
    prefer: Callable[[str], bool] | None = None,
) -> str:
    """The text of 16 kHz int16 speech: the library call the actor and the benchmark share.

    `window` is the least audio (seconds) Whisper's encoder sees; see the module docstring.
    `prefer`: of the beam's hypotheses, the first it accepts when the best one it does not
    (`command_preference`); None: the best.
    """
    audio = int16_to_float(pcm)
    seconds = len(audio) / SAMPLE_RATE
    if window < FULL_WINDOW_S and seconds + WINDOW_MARGIN_S <= FULL_WINDOW_S:
        hypotheses = transcribe_window(model, audio, language, beam_size, window,
                                       beam_size if prefer else 1)  # fmt: skip
        # Past the speech, a short window's decoder may say it all again: the first telling
        # is the transcript (on 156 test questions, the 30 s window's words every time).
        told = [None if text is None else before_repeat(text) for text in hypotheses]
        texts = [text for text in told if text is not None and not repeating(text)]
        if told[0] is not None and not repeating(told[0]):  # else the best looped
            return preferred(texts, prefer)
    segments, _info = model.transcribe(
        audio,
        language=language,
        beam_size=beam_size,
        vad_filter=False,  # vad already cut the utterance
        without_timestamps=True,
        condition_on_previous_text=False,
    )
    return " ".join(segment.text.strip() for segment in segments).strip()


def preferred(texts: list[str], prefer: Callable[[str], bool] | None) -> str:
    """The first of `texts` (best first) that `prefer` accepts if the best is not; else the
    best. A text that is one short phrase said twice is offered as that phrase said once,
    right after itself."""
    if prefer is None or prefer(texts[0]):
        return texts[0]
    # The best was asked above: only its phrase said once is left to ask of it.
    offered = chain([said_once(texts[0])], *((text, said_once(text)) for text in texts[1:]))
    return next((form for form in offered if form and prefer(form)), texts[0])


def said_once(text: str) -> str | None:
    """The phrase of a `text` that is one phrase of fewer than `REPEATED_WORDS` words said
    twice ("Cancel. Cancel.", "forget it forget it"), else None.

    The short window sometimes hears a short command twice. `before_repeat` leaves runs
    this short alone because people do say them twice ("very, very good", "bye bye"); only
    `preferred` uses this, where the phrase said once is a command and the text as heard
    is not.
    """
    spans = [match.span() for match in WORD_LIST.finditer(text)]
    half = len(spans) // 2
    words = [text[start:end].lower() for start, end in spans]
    if not 0 < half < REPEATED_WORDS or len(words) != 2 * half:
        return None
    if words[:half] != words[half:]:
        return None
    return text[: spans[half][0]].strip(" ,")


def command_preference(config: Config) -> Callable[[str], bool] | None:
    """What `transcribe` prefers of the beam's hypotheses with this config: those the skill
    templates fit whole (`voice.stt.prefer_commands`); None: the best."""
    commands = skill_matcher(config) if config.voice.stt.prefer_commands else None
    return None if commands is None else partial(fits_whole, commands)


def transcribe_window(
    model: WhisperModel,
    audio: np.ndarray,
    language: str,
    beam_size: int,
    window: float,
    hypotheses: int = 1,
) -> list[str | None]:
    """The `hypotheses` best texts (best first) of one greedy (or beam) decode of `audio`
    padded to `window` seconds, not to 30; None for one that ran to the length bound without
    ending (a loop)."""
    features = model.feature_extractor(audio)
    per_second = 1 / model.feature_extractor.time_per_frame
    frames = int(max(window, features.shape[-1] / per_second + WINDOW_MARGIN_S) * per_second)
    features = pad_or_trim(features, min(frames, model.feature_extractor.nb_max_frames))
    tokenizer = whisper_tokenizer(model, language)
    prompt = [*tokenizer.sot_sequence, tokenizer.no_timestamps]
    longest = min(
        len(prompt) + int(TOKENS_PER_SECOND * (len(audio) / SAMPLE_RATE + 1)), model.max_length
    )
    result = model.model.generate(
        model.encode(features),
        [prompt],
        beam_size=beam_size,
        num_hypotheses=min(hypotheses, beam_size),
        max_length=longest,
        suppress_blank=True,
        suppress_tokens=[-1],
    )
    return [
        tokenizer.decode(tokens).strip() if len(prompt) + len(tokens) < longest else None
        for tokens in result[0].sequences_ids
    ]


@cache
def whisper_tokenizer(model: WhisperModel, language: str) -> Tokenizer:
    return Tokenizer(model.hf_tokenizer, model.model.is_multilingual, "transcribe", language)


def repeat_start(text: str) -> int | None:
    """Where in `text` the decoder started repeating itself (a character offset), if it did:
    a run of words said again right after itself, a long run said again later, or the
    opening words said again at the end."""
    spans = [match.span() for match in WORD_LIST.finditer(text)]
    words = [text[start:end].lower() for start, end in spans]
    starts: list[int] = []
    for size in range(REPEATED_WORDS, len(words) // 2 + 1):
        for start in range(len(words) - 2 * size + 1):
            if words[start : start + size] == words[start + size : start + 2 * size]:
                starts.append(start + size)
                break
    first_seen: dict[tuple[str, ...], int] = {}
    for start in range(len(words) - RESTARTED_WORDS + 1):
        run = tuple(words[start : start + RESTARTED_WORDS])
        if start - first_seen.setdefault(run, start) >= RESTARTED_WORDS:
            starts.append(start)
            break
    for start in range(len(words) // 2, len(words) - REPEATED_WORDS + 1):
        if words[start:] == words[: len(words) - start]:
            starts.append(start)
            break
    return spans[min(starts)][0] if starts else None


def before_repeat(text: str) -> str:
    """`text` up to where the decoder started repeating itself."""
    start = repeat_start(text)
    return text if start is None else text[:start].strip()


def repeating(text: str) -> bool:
    """The decoder looped: it repeated itself (`repeat_start`), or the text compresses too
    well to be speech (Whisper's own test)."""
    if repeat_start(text) is not None:
        return True
    return bool(text) and get_compression_ratio(text) > REPEATING


def turn_end_judge(config: Config) -> TurnEndJudge:
    """The judge of ``voice.vad``'s rules and model. A model that cannot be had is logged
    and the rules judge alone: the turn still ends, a little less often early."""
    vad = config.voice.vad
    model_path = None
    if vad.turn_end_model:
        try:
            model_path = str(resolve_model(vad.turn_end_model, config.models, role="llm",
                                           var_dir=config.solo.var_dir).path)  # fmt: skip
        except ModelError as error:
            get_logger(f"solo/voice/{STT}").error(
                "voice.vad.turn_end_model cannot be used; the end of turn is judged by the "
                'rules alone (fix the model id, or set it to "" to silence this)',
                error=str(error),
            )
    return load_judge(REPO_ROOT / vad.turn_end_rules, model_path, skill_matcher(config))


@dataclass
class Ahead:
    """A transcription made at a pause, kept for the utterance that may follow."""

    turn_id: str
    pcm: bytes
    text: str


class SttActor(supervisors.SupervisedActor):
    """Transcribes utterances; see the module docstring."""

    def __init__(self, config: Config, options: RunOptions) -> None:
        super().__init__()
        self.config = config
        self.settings = config.voice.stt
        self.options = options
        self.log = get_logger(f"solo/voice/{STT}")
        self.current: Utterance | None = None
        self.ahead: Ahead | None = None
        self.judge: TurnEndJudge | None = None
        self.prefer: Callable[[str], bool] | None = None
        self.wake_word = wake_word_pattern(spoken_wake_phrases(config.voice.wake))
        self.model: WhisperModel | None = None
        self.remote: RemoteStt | None = None
        self.fallback: Fallback | None = None
        self.counts: dict[str, int | float] = dict.fromkeys(
            (
                "utterances",
                "unrecognised",
                "audio_s",
                "busy_s",
                "ahead",
                "ahead_used",
                "partials",
                "words_after_pause",
                "wake_word_only",
            ),
            0,
        )

    def on_start(self) -> None:
        figures: dict[str, Any] = {"engine": self.settings.engine}
        if self.settings.engine == "wyoming":
            self.remote = RemoteStt(self.settings.remote, self.settings.language)
            self.fallback = Fallback(
                self.settings.remote, remote.STT, f"solo/voice/{STT}", self.publish_figures
            )
            figures.update(self.fallback.figures())
        else:
            self.local_model()
        if self.config.voice.vad.end_of_turn == "words":
            self.judge = turn_end_judge(self.config)
        self.prefer = command_preference(self.config)
        self.publish_figures(model=self.settings.model, **figures, **self.counts)

    def local_model(self) -> WhisperModel:
        """Whisper here: loaded at start, or with a remote engine on its first need."""
        if self.model is None:
            if self.remote is not None:
                self.log.warning("loading the local fallback model", model=self.settings.model)
            self.model = load_whisper(
                whisper_folder(self.config), self.settings.threads, *stt_device(self.settings)
            )
        return self.model

    def on_stop(self) -> None:
        self.close()

    def on_failure(self, *exc_info: Any) -> None:
        self.close()
        if self.current is not None:
            self.fail(self.current, f"speech recognition crashed: {exc_info[1]!r}")

    def close(self) -> None:
        if self.remote is not None:
            self.remote.close()
            self.remote = None

    def on_receive(self, message: Any) -> Any:
        match message:
            case SpeechSoFar():
                self.transcribe_ahead(message)
            case Utterance():
                self.current = message
                self.hear(message)
                self.current = None
            case Transcribe():
                try:
                    text = self.made_ahead(message) or self.transcribe(message.pcm, message.window)
                except RemoteServiceError as error:
                    send(message.reply_to, Transcribed(request_id=message.request_id, text="",
                                                       error=str(error)))  # fmt: skip
                    return None
                text = text if WORDS.search(text) else ""
                send(message.reply_to, Transcribed(request_id=message.request_id, text=text))
            case InputEnded():
                send(TTS, message)
            case TranscribeAudio():
                return self.transcribe_recording(message)
            case _:
                return super().on_receive(message)
        return None

    def made_ahead(self, request: Transcribe) -> str:
        """The words of `request` if they were transcribed at the last pause with the usual
        window (a satellite's stream that its words or the silence ended there); else ""."""
        ahead = self.ahead
        if ahead is None or request.window or ahead.pcm != request.pcm:
            return ""
        self.ahead = None
        self.counts["ahead_used"] += 1
        self.publish_figures(**self.counts)
        return ahead.text

    def transcribe(self, pcm: bytes, window: float = 0.0) -> str:
        """The text of `pcm`, by the configured engine; a `RemoteServiceError` when the
        remote service failed with no fallback. `window`: see `Transcribe.window`."""
        settings = self.settings
        started = time.perf_counter()

        def here() -> str:
            model = self.local_model()
            return transcribe(model, pcm, settings.language, settings.beam_size,
                              window or settings.window, self.prefer)  # fmt: skip

        if self.fallback is not None and self.remote is not None:
            service = self.remote
            text = self.fallback.serve(lambda: service.transcribe(pcm), here)
        else:
            text = here()
        busy = time.perf_counter() - started
        seconds = len(pcm) / 2 / SAMPLE_RATE
        self.counts["audio_s"] += seconds
        self.counts["busy_s"] += busy
        self.publish_figures(**self.counts, last_rtf=round(busy / max(seconds, 1e-6), 3))
        return text

    def transcribe_recording(
        self, request: TranscribeAudio
    ) -> AudioTranscribed | VoiceRequestFailed:
        """A recording sent to be transcribed (the API's /v1/audio/transcriptions): its
        text goes back to the asker, and no turn is started."""
        if not request.pcm:
            return VoiceRequestFailed(message="the recording holds no audio samples")
        if len(request.pcm) % 2:
            return VoiceRequestFailed(message="the recording must be 16-bit samples (an even "
                                      "number of bytes)")  # fmt: skip
        try:
            text = self.transcribe(request.pcm)
        except RemoteServiceError as error:
            return VoiceRequestFailed(message=str(error), unavailable=True)
        seconds = len(request.pcm) / 2 / SAMPLE_RATE
        return AudioTranscribed(text=text, seconds=seconds, language=self.settings.language)

    def transcribe_ahead(self, speech: SpeechSoFar) -> None:
        if speech.speaking and not self.actor_inbox.empty():
            return  # newer speech (or the utterance) waits behind: this one is stale
        self.counts["partials" if speech.speaking else "ahead"] += 1
        try:
            text = self.transcribe(speech.pcm)
            if not speech.speaking:
                text = self.with_words_after_pause(self.ahead, speech.turn_id, speech.pcm, text)
        except RemoteServiceError:
            return  # logged; the utterance's own transcription fails the turn, saying why
        step(speech.turn_id, "stt", "words so far" if speech.speaking else "pause transcribed",
             text=text)  # fmt: skip
        question = without_wake_word(text, self.wake_word)
        if speech.speaking and self.judge is not None:
            # Before the llm's read below, not beside it: on two cores llama.cpp's threads
            # wait for each other while another process holds a core.
            self.judge.read_ahead(question)
        if WORDS.search(question):
            # The dialogue actor gets the reply ready while the user speaks or is silent:
            # first, so that the llm reads the words while they are judged below.
            conversation_id = speech.conversation_id or self.options.conversation_id
            send(DIALOGUE_NAME, TurnAhead(turn_id=speech.turn_id, conversation_id=conversation_id,
                                     text=question, speaking=speech.speaking))  # fmt: skip
        if not speech.speaking:
            self.ahead = Ahead(speech.turn_id, speech.pcm, text)
            self.judge_turn_end(speech, text, question)

    def judge_turn_end(self, speech: SpeechSoFar, text: str, question: str) -> None:
        """Tell vad whether the words at this pause end the turn (see voice/turn_end.py):
        the wake word alone does not, the question is still to come (and the wake word's
        own turn, if its engine heard it, replaces this one)."""
        if self.judge is None:
            return
        wake_word_only = bool(WORDS.search(text)) and not WORDS.search(question)
        verdict: Verdict = "incomplete" if wake_word_only else self.judge.verdict(question)
        step(speech.turn_id, "stt", "judged the words", verdict=verdict)
        if verdict != "unsure":
            send(VAD, TurnEnd(turn_id=speech.turn_id, pcm_bytes=len(speech.pcm), verdict=verdict))

    def with_words_after_pause(
        self, pause: Ahead | None, turn_id: str, pcm: bytes, text: str
    ) -> str:
        """`text`, the words of `pcm`; or, if they are only the words heard at the turn's
        earlier `pause` although speech came after it, those words and the words after.

        Whisper sometimes ends its transcript at a pause in the question and drops what
        was said after it ("What is the capital of France, [pause] and of Spain?"); the
        speech after the pause is then transcribed on its own.
        """
        if pause is None or pause.turn_id != turn_id or not pcm.startswith(pause.pcm):
            return text
        if WORD_LIST.findall(text.lower()) != WORD_LIST.findall(pause.text.lower()):
            return text
        after = self.transcribe(pcm[len(pause.pcm) :])
        self.counts["words_after_pause"] += 1
        return f"{text} {after}" if WORDS.search(after) else text

    def hear(self, utterance: Utterance) -> None:
        ahead, self.ahead = self.ahead, None
        self.counts["utterances"] += 1
        made_at_the_pause = ahead is not None and (ahead.turn_id, ahead.pcm) == (
            utterance.turn_id, utterance.pcm
        )  # fmt: skip
        if ahead is not None and made_at_the_pause:
            # Nothing was said after the pause: its transcription is this utterance's.
            self.counts["ahead_used"] += 1
            text = ahead.text
        else:
            try:
                text = self.transcribe(utterance.pcm)
                text = self.with_words_after_pause(ahead, utterance.turn_id, utterance.pcm, text)
            except RemoteServiceError as error:
                self.fail(utterance, str(error))
                return
        times = replace(utterance.times, transcript=now())
        # The words go to the log only at debug: a forgotten memory must not live on in it.
        self.log.info("transcript", turn_id=utterance.turn_id, words=len(text.split()))
        self.log.debug("transcript words", turn_id=utterance.turn_id, text=text)
        step(utterance.turn_id, "stt", "transcript", made_at_the_pause=made_at_the_pause)
        self.publish_figures(**self.counts)
        if not WORDS.search(text):
            self.counts["unrecognised"] += 1
            self.fail(replace(utterance, times=times), "no words recognised in the utterance")
            return
        question = without_wake_word(text, self.wake_word)
        if not WORDS.search(question):
            # Only the name, then silence: no question, as when nobody speaks after the
            # wake word (a follow-up window that heard the user call Solo, say).
            self.counts["wake_word_only"] += 1
            self.log.info("only the wake word was said: no question", turn_id=utterance.turn_id)
            self.publish_figures(**self.counts)
            send(TURN_WATCH, TurnAbandoned(turn_id=utterance.turn_id))
            return
        text = question
        send(TTS, Transcript(turn_id=utterance.turn_id, text=text, times=times))
        send(
            DIALOGUE_NAME,
            UserTurn(
                turn_id=utterance.turn_id,
                conversation_id=self.options.conversation_id,
                text=text,
                source="voice",
                reply_to=TTS,
                times=times,
            ),
        )

    def fail(self, utterance: Utterance, error: str) -> None:
        self.log.warning("turn failed", turn_id=utterance.turn_id, error=error)
        fail_turn(
            utterance.turn_id,
            self.options.conversation_id,
            error,
            self.settings.error_reply,
            utterance.times,
        )
