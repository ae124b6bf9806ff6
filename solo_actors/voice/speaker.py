"""The speaker actor: plays replies, acknowledges the wake word, stops on barge-in, reports.

Audio (`AudioOut` from tts, and the acknowledgement chime) queues in a `Playback`, which a
clock drains: the sound card's callback (sounddevice), a real-time clock thread that plays
into WAV files (``--output-dir`` with ``--realtime``: a sound card without the sound), or
nothing at all (``--output-dir`` as fast as possible: written as soon as it is queued). The
samples a turn actually played are what its reply file holds, one file per reply.

What reaches the sound card is scaled to the volume level (`volume`, `ChangeVolume`: "turn
it down"); files keep the voice as synthesised.

The actor's own work per message is a queue operation, so a `WakeDetected` is handled
within a millisecond or two of the wake actor's detection: playback of the current reply
stops at once (barge-in) and the chime starts. Audio that arrives later for a turn opened
before that wake word (a sentence tts was still synthesising) is dropped, not played.

A voice turn's reply that played to its end, without error or barge-in, is followed by
continued conversation: ``voice.vad.follow_up_after`` seconds later, if nothing else is
playing, vad is told `FollowUp` and listens for a question without the wake word. Waiting
for playback (and its echo) to end first is what keeps Solo's own voice from being taken
for the user's.

When a turn's `TurnDone` arrives and its audio has played, the actor stamps ``first_audio``
and ``done``, logs the turn, prints one JSON line per turn (`RunOptions.json_lines`) or,
for a turn that failed or answered nothing, a line on stderr (the console actor says it on
a terminal), tells the finished `TurnDone` to each name in ``voice.tts.report_to`` that is
running, and publishes the latencies. A finite input's `InputEnded`, once every turn before
it is finished, goes to the app's ``input-end`` watcher (see `input_end`) and sets the
``input_finished`` figure.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import sounddevice
from msgspec.structs import replace

import supervisors
from solo_actors.config import Config
from solo_actors.messages import (
    AudioOut,
    ChangeVolume,
    FollowUp,
    InputEnded,
    Interrupt,
    Message,
    ReplyShown,
    StageTimes,
    TurnDone,
    WakeDetected,
)
from solo_actors.names import INPUT_END, MIC, SPEAKER, TURN_WATCH, VAD
from solo_actors.runtime.clock import now
from solo_actors.runtime.logs import get_logger
from solo_actors.runtime.trace import step
from solo_actors.voice.audio import chime, write_wav
from solo_actors.voice.barge import BargeIn, opened_at
from solo_actors.voice.console import problem_line, turn_problem
from solo_actors.voice.input_end import HoldsInputEnd
from solo_actors.voice.mail import send
from solo_actors.voice.mic import pick_device
from solo_actors.voice.options import RunOptions
from solo_actors.voice.volume import Volume, volume_file

ACK = ""
"""The turn id of the acknowledgement chime: played, never recorded in a reply."""

TICK = 0.02
"""Seconds of audio a clock moves per step (the device block size)."""

PIPER_RATE = 22_050
"""The output rate when no voice says otherwise (Piper's medium voices)."""

REPORTED_KEPT = 256
"""Turn ids of the latest reported turns, remembered so that a turn is reported once even
when the turn watch failed it and its own `TurnDone` still came (voice/turn_watch.py)."""


class TurnPlayed(Message, frozen=True):
    """Internal timer: the turn's queued audio should have played by now."""

    turn_id: str


class EchoFaded(Message, frozen=True):
    """Internal timer: ``voice.vad.follow_up_after`` has passed since a spoken reply's last
    sample; unless something else is playing, vad may listen for a follow-up."""

    turn_id: str


@dataclass
class Segment:
    turn_id: str
    samples: np.ndarray
    offset: int = 0


@dataclass
class Track:
    """What one turn played, and when its first sample went out."""

    chunks: list[np.ndarray] = field(default_factory=list)
    first_played: float | None = None
    interrupted: bool = False


class Playback:
    """Audio waiting to be played, drained by a clock; thread-safe (the device callback).

    `on_start(turn_id)` is called (on the clock's thread) when a reply's first sample plays.
    """

    def __init__(self, on_start: Callable[[str], None]) -> None:
        self.on_start = on_start
        self.lock = threading.Lock()
        self.segments: deque[Segment] = deque()
        self.tracks: dict[str, Track] = {}
        self.ack_played: float | None = None

    def push(self, turn_id: str, samples: np.ndarray) -> None:
        with self.lock:
            self.segments.append(Segment(turn_id, samples))

    def pull(self, count: int) -> np.ndarray:
        """The next `count` samples to play (silence-padded); called by the clock."""
        out = np.zeros(count, np.int16)
        filled = 0
        played_at = now()
        started: list[str] = []
        with self.lock:
            while filled < count and self.segments:
                segment = self.segments[0]
                piece = segment.samples[segment.offset : segment.offset + count - filled]
                out[filled : filled + len(piece)] = piece
                filled += len(piece)
                segment.offset += len(piece)
                if segment.turn_id == ACK:
                    if self.ack_played is None:
                        self.ack_played = played_at
                else:
                    track = self.tracks.setdefault(segment.turn_id, Track())
                    if track.first_played is None:
                        track.first_played = played_at
                        started.append(segment.turn_id)
                    track.chunks.append(piece)
                if segment.offset >= len(segment.samples):
                    self.segments.popleft()
        for turn_id in started:
            step(turn_id, "speaker", "first sample played")
            self.on_start(turn_id)
        return out

    def drain(self) -> None:
        """Play everything queued at once (no clock: files written as fast as possible)."""
        with self.lock:
            total = sum(len(s.samples) - s.offset for s in self.segments)
        self.pull(total)

    def stop(self, turn_id: str | None = None) -> set[str]:
        """Drop the queued audio of `turn_id` (of every reply if None); the turns stopped."""
        with self.lock:
            stopped = {
                s.turn_id
                for s in self.segments
                if s.turn_id != ACK and turn_id in (None, s.turn_id)
            }
            self.segments = deque(s for s in self.segments if s.turn_id not in stopped)
        return stopped

    def idle(self) -> bool:
        """Nothing is queued to play."""
        with self.lock:
            return not self.segments

    def queued_seconds(self, turn_id: str, rate: int) -> float:
        with self.lock:
            waiting = sum(len(s.samples) - s.offset for s in self.segments if s.turn_id == turn_id)
        return waiting / rate

    def take(self, turn_id: str) -> Track:
        with self.lock:
            return self.tracks.pop(turn_id, Track())


class RealtimeClock:
    """Drains a `Playback` at the speed of real time in `TICK` steps, like a sound card."""

    def __init__(self, playback: Playback, rate: int) -> None:
        self.playback = playback
        self.rate = rate
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self.run, name="speaker-clock", daemon=True)
        self.thread.start()

    def run(self) -> None:
        started = time.monotonic()
        step = int(self.rate * TICK)
        ticks = 0
        while not self.stopping.wait(max(0.0, started + ticks * TICK - time.monotonic())):
            self.playback.pull(step)
            ticks += 1

    def close(self) -> None:
        self.stopping.set()
        self.thread.join()


class SpeakerActor(HoldsInputEnd, supervisors.SupervisedActor):
    """Plays and reports; see the module docstring."""

    def __init__(self, config: Config, options: RunOptions) -> None:
        super().__init__()
        self.settings = config.voice.tts
        self.ack = config.voice.wake.ack
        self.options = options
        self.log = get_logger(f"solo/voice/{SPEAKER}")
        self.rate = PIPER_RATE
        self.playback = Playback(on_start=lambda turn_id: self.publish_figures(playing=turn_id))
        self.clock: RealtimeClock | None = None
        self.stream: Any = None
        self.instant = False
        self.output_dir = Path(options.output_dir) if options.output_dir else None
        self.finished: dict[str, TurnDone] = {}
        self.reported: deque[str] = deque(maxlen=REPORTED_KEPT)
        self.interrupted: set[str] = set()
        self.barge_in = BargeIn()
        self.turns = 0
        self.chime = chime(self.rate)
        self.pending_ack: WakeDetected | None = None
        self.follow_up = config.voice.vad.follow_up > 0
        self.follow_up_after = config.voice.vad.follow_up_after
        self.volume = Volume(volume_file(config.solo))

    # -- lifecycle -----------------------------------------------------------------------

    def on_start(self) -> None:
        self.publish_figures(volume=self.volume.level)
        if self.output_dir is not None:
            self.output_dir.mkdir(parents=True, exist_ok=True)
            if self.options.realtime:
                self.clock = RealtimeClock(self.playback, self.rate)
            else:
                self.instant = True
            self.publish_figures(output=str(self.output_dir), turns=0)
            return
        try:
            self.stream = sounddevice.OutputStream(
                samplerate=self.rate,
                channels=1,
                dtype="int16",
                blocksize=int(self.rate * TICK),
                device=pick_device(self.settings.output_device, "output"),
                callback=self.on_device,
            )
            self.stream.start()
            self.publish_figures(output="device", turns=0)
        except (sounddevice.PortAudioError, ValueError) as error:
            self.stream = None
            self.instant = True
            print(
                f"solo: no speaker ({error}); replies are not played "
                "(use --output-dir DIR to keep them as WAV files)",
                file=sys.stderr,
                flush=True,
            )
            self.publish_figures(output="none", problem=str(error), turns=0)

    def on_device(self, outdata: np.ndarray, frames: int, _time: Any, _status: Any) -> None:
        outdata[:, 0] = self.volume.apply(self.playback.pull(frames))

    def on_stop(self) -> None:
        self.close()

    def on_failure(self, *exc_info: Any) -> None:
        self.close()

    def close(self) -> None:
        if self.clock is not None:
            self.clock.close()
        if self.stream is not None:
            self.stream.close()

    # -- messages ------------------------------------------------------------------------

    def on_receive(self, message: Any) -> Any:
        match message:
            case AudioOut():
                self.play(message)
            case WakeDetected():
                self.on_wake(message)
            case Interrupt():
                self.stop_playback(message.turn_id)
            case TurnDone():
                if message.turn_id in self.finished or message.turn_id in self.reported:
                    return None  # the turn watch failed it first, or the reverse: once only
                # Finish once the audio queued for the turn has played.
                self.finished[message.turn_id] = message
                if self.barge_in.stale(opened_at(message.times)):
                    self.interrupted.add(message.turn_id)  # cut short, maybe before a word
                wait = self.playback.queued_seconds(message.turn_id, self.rate)
                self.send_after(wait + (TICK if wait else 0.0), TurnPlayed(message.turn_id))
            case TurnPlayed():
                self.finish(message.turn_id)
            case EchoFaded():
                if not self.finished and self.playback.idle():
                    send(VAD, FollowUp(after_turn=message.turn_id))
            case InputEnded():
                self.hold_input_end(message)
            case ChangeVolume():
                answer = self.volume.change(message)
                self.publish_figures(volume=answer.level)
                return answer
            case _:
                return super().on_receive(message)
        return None

    def play(self, audio: AudioOut) -> None:
        if audio.turn_id in self.interrupted:
            return
        if self.barge_in.stale(audio.opened):
            self.interrupted.add(audio.turn_id)
            return
        if audio.sample_rate != self.rate:
            raise ValueError(
                f"tts sent {audio.sample_rate} Hz audio; the speaker plays {self.rate} Hz "
                "(voice.tts.voice must be a 22,050 Hz Piper voice)"
            )
        self.playback.push(audio.turn_id, np.frombuffer(audio.pcm, np.int16))
        if self.instant:
            self.playback.drain()

    def on_wake(self, wake: WakeDetected) -> None:
        self.barge_in.record(wake)
        stopped = self.playback.stop()
        self.interrupted.update(stopped)
        if stopped:
            stopped_ms = (now() - wake.at) * 1000
            self.log.info(
                "barge-in: playback stopped", turn_id=wake.turn_id, ms=round(stopped_ms, 1)
            )
            self.publish_figures(barge_in_stop_ms=round(stopped_ms, 2))
        if self.ack == "tone":
            self.playback.ack_played = None
            self.playback.push(ACK, self.chime)
            if self.instant:
                self.playback.drain()
            self.pending_ack = wake
            self.send_after(TICK * 2, TurnPlayed(ACK))

    def stop_playback(self, turn_id: str | None) -> None:
        self.playback.stop(turn_id)
        if turn_id is not None:
            self.interrupted.add(turn_id)

    # -- finishing turns -----------------------------------------------------------------

    def finish(self, turn_id: str) -> None:
        if turn_id == ACK:
            self.report_ack()
            return
        done = self.finished.pop(turn_id, None)
        if done is None:
            return
        track = self.playback.take(turn_id)
        self.turns += 1
        times = replace(done.times, first_audio=track.first_played, done=now())
        done = replace(done, times=times)
        file = self.write_reply(done, track)
        interrupted = turn_id in self.interrupted
        self.report(done, file, interrupted=interrupted)
        self.reported.append(turn_id)
        if done.source == "voice":
            send(TURN_WATCH, done)
        self.interrupted.discard(turn_id)
        if self.follow_up and done.source == "voice" and done.error is None and not interrupted:
            self.send_after(self.follow_up_after, EchoFaded(turn_id))
        self.maybe_end_input()

    def report_ack(self) -> None:
        wake, played = self.pending_ack, self.playback.ack_played
        if wake is not None and played is not None:
            self.publish_figures(ack_latency_ms=round((played - wake.at) * 1000, 2))
            self.pending_ack = None
        elif wake is not None:
            self.send_after(TICK, TurnPlayed(ACK))  # the device has not reached it yet

    def write_reply(self, done: TurnDone, track: Track) -> Path | None:
        if self.output_dir is None or not track.chunks:
            return None
        path = self.output_dir / f"reply-{self.turns:03d}-{done.turn_id}.wav"
        write_wav(path, np.concatenate(track.chunks), self.rate)
        return path

    def report(self, done: TurnDone, file: Path | None, *, interrupted: bool) -> None:
        stages = stage_offsets(done.times)
        self.log.info(
            "turn done",
            turn_id=done.turn_id,
            error=done.error,
            interrupted=interrupted,
            **{f"{stage}_s": value for stage, value in stages.items()},
        )
        # The words only at debug: a forgotten memory must not live on in the log.
        self.log.debug("turn done words", turn_id=done.turn_id, text=done.text, reply=done.reply)
        problem = turn_problem(done, interrupted=interrupted)
        if self.options.json_lines:
            line = {
                "turn_id": done.turn_id,
                "source": done.source,
                "text": done.text,
                "reply": done.reply,
                "file": str(file) if file else None,
                "error": problem,
                "interrupted": interrupted,
                "seconds_after_speech_end": stages,
            }
            print(json.dumps(line), flush=True)
        elif problem and not self.options.console:
            print(problem_line(problem), file=sys.stderr, flush=True)
        if self.options.text and not self.options.console and done.source == "text":
            send(MIC, ReplyShown(done.turn_id))  # the next typed line may be asked
        for name in self.settings.report_to:
            if supervisors.whereis(name) is not None:
                send(name, done)
        figures: dict[str, int | float] = {"turns": self.turns}
        if done.times.speech_end is not None and done.times.first_audio is not None:
            latency = done.times.first_audio - done.times.speech_end
            figures["speech_end_to_first_audio_ms"] = round(latency * 1000, 1)
        self.publish_figures(**figures)

    def turns_open(self) -> bool:
        return bool(self.finished)

    def pass_input_end(self, ended: InputEnded) -> None:
        # Every turn before the input's end is finished: they are all of this run's turns.
        ended = replace(ended, turns=self.turns)
        self.publish_figures(input_finished=True, input_problem=ended.problem or "")
        if supervisors.whereis(INPUT_END) is not None:
            send(INPUT_END, ended)


def stage_offsets(times: StageTimes) -> dict[str, float | None]:
    """Each stage's time in seconds after the end of speech (or after the first stage)."""
    stamps = {name: getattr(times, name) for name in StageTimes.__struct_fields__}
    base = times.speech_end
    if base is None:
        base = min((t for t in stamps.values() if t is not None), default=None)
    return {
        name: None if stamp is None or base is None else round(stamp - base, 4)
        for name, stamp in stamps.items()
    }
