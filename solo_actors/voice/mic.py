"""The mic actor: audio in (a sound card or a WAV file) or typed lines in (``--text``).

Audio becomes 16 kHz mono int16 `AudioFrame`s of 32 ms for the wake actor. The sound card's
callback only copies the block into a bounded queue (``voice.mic.queue_frames``) with a
non-blocking put: when the consumer falls behind, new frames are dropped and counted
(``dropped`` in status), never waited for, so the audio thread is never blocked. A pump
thread takes frames from the queue and *asks* the wake actor to handle each one, which gives
natural back-pressure: a file read as fast as possible waits on the queue instead of dropping.

With no input device the actor says so in one line and stays up, idle: the API and
``--text`` still work. A finite input (file, stdin) ends with an `InputEnded` sent down the
pipeline so the run can end once the last question is answered. With ``--no-wake`` the whole
file is one question: it goes to stt as a single `Utterance`, past the wake word and vad.
Typed lines are asked one at a time: each once the previous line's reply is shown
(`ReplyShown`), which the console actor says on a terminal (``RunOptions.console``, where a
``you>`` prompt then shows) and the speaker says off one, once the turn's JSON line is out.
"""

from __future__ import annotations

import contextlib
import queue
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pykka

import supervisors
from solo_actors.config import Config
from solo_actors.messages import (
    AudioFrame,
    InputEnded,
    ReplyShown,
    StageTimes,
    Transcript,
    UserTurn,
    Utterance,
)
from solo_actors.names import CONSOLE, DIALOGUE_NAME, MIC, STT, TTS, WAKE
from solo_actors.runtime.clock import now
from solo_actors.runtime.ids import new_id
from solo_actors.runtime.logs import get_logger
from solo_actors.voice.audio import (
    FRAME_SAMPLES,
    FRAME_SECONDS,
    SAMPLE_RATE,
    AudioInputError,
    frames_of,
    read_wav,
)
from solo_actors.voice.console import PROMPT
from solo_actors.voice.mail import send
from solo_actors.voice.options import RunOptions

END = None
"""Queued after a finite input's last frame."""

ASK_TIMEOUT = 5.0
"""Longest the pump waits for the wake actor to take one frame before dropping it."""


SPOKEN_WITHIN = 300.0
"""Seconds a typed turn's reply takes at most to be spoken once written (a long reply, read
aloud), after which the next typed line is asked even without its `ReplyShown`."""


def pick_device(wanted: str, kind: str) -> int | None:
    """The sounddevice index for a config value: "" (default), an index, or part of a name.

    Raises ``ValueError`` naming the devices there are when nothing matches.
    """
    import sounddevice

    if not wanted:
        return None
    if wanted.isdigit():
        return int(wanted)
    channels = f"max_{kind}_channels"
    devices = list(enumerate(sounddevice.query_devices()))
    for index, device in devices:
        if wanted.lower() in device["name"].lower() and device[channels] > 0:
            return index
    names = ", ".join(f"{index}: {device['name']}" for index, device in devices if device[channels])
    raise ValueError(f"no {kind} device matches {wanted!r}; there are: {names or 'none'}")


class MicActor(supervisors.SupervisedActor):
    """Feeds frames (or typed lines) into the pipeline; see the module docstring."""

    def __init__(self, config: Config, options: RunOptions) -> None:
        super().__init__()
        self.settings = config.voice.mic
        self.options = options
        self.log = get_logger(f"solo/voice/{MIC}")
        self.frames: queue.Queue[bytes | None] = queue.Queue(maxsize=self.settings.queue_frames)
        self.stopping = threading.Event()
        self.threads: list[threading.Thread] = []
        self.stream: Any = None
        self.counts = dict.fromkeys(("frames", "dropped", "lines"), 0)
        self.end_problem: str | None = None
        self.reply_shown = threading.Event()
        """Set while no typed turn is waiting for its reply to be shown (``--text``)."""
        self.reply_shown.set()
        self.awaited: str | None = None
        """The typed turn whose `ReplyShown` the next line waits for."""
        # A lost `ReplyShown` (a crashed console or speaker) must not stop the rest of the
        # input: a turn gets its reply or its error within `turn_timeout`, and is spoken
        # within `SPOKEN_WITHIN` after that.
        self.reply_wait = config.dialogue.turn_timeout + SPOKEN_WITHIN

    # -- lifecycle -----------------------------------------------------------------------

    def on_start(self) -> None:
        if self.options.text:
            # Not joined on stop: a read from stdin cannot be interrupted, and waiting for
            # one would hold every stop at a terminal prompt up by the join's timeout.
            self.spawn(self.read_lines, "mic-stdin", joined=False)
            self.publish_figures(source="stdin")
            return
        self.spawn(self.pump, "mic-pump")
        if self.options.input is not None:
            self.open_file(Path(self.options.input))
        else:
            self.open_device()

    def on_stop(self) -> None:
        self.close()

    def on_failure(self, *exc_info: Any) -> None:
        self.close()

    def on_receive(self, message: Any) -> Any:
        if isinstance(message, ReplyShown):
            if message.turn_id == self.awaited:  # not a late word about an earlier turn
                self.reply_shown.set()
            return None
        return super().on_receive(message)

    def close(self) -> None:
        self.stopping.set()
        self.reply_shown.set()  # a reader waiting to prompt sees `stopping` and ends
        if self.stream is not None:
            self.stream.close()
        # Wakes the pump if it waits on an empty queue; a full queue means it is not
        # waiting and will see `stopping` on its next frame.
        with contextlib.suppress(queue.Full):
            self.frames.put_nowait(END)
        for thread in self.threads:
            if thread is not threading.current_thread():
                thread.join(timeout=ASK_TIMEOUT + 1)

    def spawn(self, target: Any, name: str, *, joined: bool = True) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        if joined:
            self.threads.append(thread)
        thread.start()

    # -- sources -------------------------------------------------------------------------

    def open_device(self) -> None:
        import sounddevice

        try:
            device = pick_device(self.settings.device, "input")
            self.stream = sounddevice.InputStream(
                samplerate=SAMPLE_RATE,
                channels=1,
                dtype="int16",
                blocksize=FRAME_SAMPLES,
                device=device,
                callback=self.on_audio,
            )
            self.stream.start()
        except (sounddevice.PortAudioError, ValueError) as error:
            self.stream = None
            line = (
                f"solo: no microphone ({error}); listening is off, the rest keeps running "
                "(try --input FILE or --text; `python -m sounddevice` lists devices)"
            )
            print(line, file=sys.stderr, flush=True)
            self.log.warning("no input device", error=str(error))
            self.publish_figures(source="none", problem=str(error))
            return
        self.publish_figures(source=f"device:{self.settings.device or 'default'}")

    def on_audio(self, indata: np.ndarray, _frames: int, _time: Any, _status: Any) -> None:
        """The sound card's callback thread: copy and go, never wait."""
        self.offer(indata.tobytes())

    def offer(self, pcm: bytes) -> None:
        try:
            self.frames.put_nowait(pcm)
        except queue.Full:
            self.counts["dropped"] += 1

    def open_file(self, path: Path) -> None:
        try:
            audio = read_wav(path)
        except AudioInputError as error:
            self.end_problem = str(error)
            print(f"solo: bad input: {error}", file=sys.stderr, flush=True)
            self.log.error("bad input file", error=str(error))
            self.publish_figures(source=f"file:{path}", problem=str(error))
            self.frames.put(END)
            return
        for note in audio.notes:
            print(f"solo: {path}: {note}", file=sys.stderr, flush=True)
            self.log.warning("input converted", file=str(path), note=note)
        self.publish_figures(source=f"file:{path}", seconds=round(audio.seconds, 2))
        if self.options.no_wake:
            self.ask_whole(str(path), audio.samples)
        else:
            self.spawn(lambda: self.feed(frames_of(audio.samples)), "mic-file")

    def ask_whole(self, source: str, samples: np.ndarray) -> None:
        """``--no-wake``: the whole file is the question, straight to stt. Its end follows
        it there too, past the wake actor, which would count no wake word in it."""
        times = StageTimes(speech_end=now())
        utterance = Utterance(
            turn_id=new_id(), pcm=samples.tobytes(), sample_rate=SAMPLE_RATE, times=times
        )
        send(STT, utterance)
        send(STT, InputEnded(source=source))

    def feed(self, frames: list[bytes]) -> None:
        """Play a file into the queue: paced like a device, or as fast as the pipeline takes."""
        started = time.monotonic()
        for index, pcm in enumerate(frames):
            if self.stopping.is_set():
                return
            if self.options.realtime:
                # The device clock: frame n is due n frames after the start (no drift).
                delay = started + index * FRAME_SECONDS - time.monotonic()
                if delay > 0:
                    self.stopping.wait(delay)
                self.offer(pcm)
            else:
                self.frames.put(pcm)
        self.frames.put(END)

    def pump(self) -> None:
        """Hand queued frames to the wake actor one ask at a time (back-pressure)."""
        sequence = 0
        while True:
            pcm = self.frames.get()
            if self.stopping.is_set():
                return
            if pcm is END:
                send(WAKE, InputEnded(source=self.options.input or MIC, problem=self.end_problem))
                return
            frame = AudioFrame(pcm=pcm, sample_rate=SAMPLE_RATE, sequence=sequence)
            sequence += 1
            self.counts["frames"] += 1
            try:
                supervisors.ask(WAKE, frame, timeout=ASK_TIMEOUT)
            except (supervisors.NoProcError, supervisors.ActorExitedError, pykka.Timeout):
                # wake is restarting: this frame is lost; wait for the new one.
                self.counts["dropped"] += 1
                supervisors.whereis(WAKE, timeout=ASK_TIMEOUT)
            if sequence % 32 == 0:
                self.publish_figures(**self.counts, queued=self.frames.qsize())

    def typed_lines(self) -> Iterator[str]:
        """stdin's lines until it ends, each once the previous line's reply is shown; on a
        terminal, after a prompt.

        Typed lines are one conversation, as at a terminal: each is asked after the reply
        to the one before, so replies come in the order of the questions (a skill's reply
        does not overtake the model's) and each question's turn sees the previous answer.
        """
        while True:
            if not self.reply_shown.wait(self.reply_wait):
                self.log.warning(
                    "no reply shown in time; the next typed line is asked anyway",
                    turn_id=self.awaited,
                    waited_s=self.reply_wait,
                )
            if self.stopping.is_set():
                return
            if self.options.console:
                sys.stdout.write(PROMPT)
                sys.stdout.flush()
            line = sys.stdin.readline()
            if not line:
                return
            yield line

    def read_lines(self) -> None:
        """``--text``: each stdin line is a user turn; wake word and STT are skipped."""
        # On a terminal the reply comes through the console actor, which prints it.
        reply_to = CONSOLE if self.options.console else TTS
        for line in self.typed_lines():
            if self.stopping.is_set():
                return
            text = line.strip()
            if not text:
                continue
            self.counts["lines"] += 1
            times = StageTimes(speech_end=now(), transcript=now())
            turn = UserTurn(
                conversation_id=self.options.conversation_id,
                text=text,
                source="text",
                reply_to=reply_to,
                times=times,
            )
            self.awaited = turn.turn_id
            self.reply_shown.clear()
            # tts learns of the turn first, so it waits for the reply before the run ends.
            send(TTS, Transcript(turn_id=turn.turn_id, text=text, times=times))
            send(DIALOGUE_NAME, turn)
            self.publish_figures(**self.counts)
        send(TTS, InputEnded(source="stdin"))
