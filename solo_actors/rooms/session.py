"""One connection to a room's satellite: what Home Assistant does for it, done by Solo.

Solo connects, asks ``describe``, then sends ``run-satellite``. The satellite answers with
``run-pipeline`` (``start_stage`` wake: Solo listens for the wake word; asr: the satellite
heard it; ``end_stage`` handle or tts) and streams its microphone as ``audio-chunk``s:

* wake: the audio goes to Solo's wake actor (a detector of this room's own); on the wake
  word Solo sends ``detection``.
* asr: the audio goes to Solo's vad actor until the speech ends (``voice-started`` and
  ``voice-stopped`` are sent), then to stt; Solo sends the ``transcript``.
* handle: the text is a dialogue turn of this room's conversation, answered by skills or
  the llm.
* tts: the answer's audio (``audio-start``, ``audio-chunk``s, ``audio-stop``), spoken as
  it is written (its first phrase, then sentence by sentence, the rule tts uses), which the
  satellite plays; ``synthesize`` with the whole answer's text before the ``audio-stop``.

The reply goes to this room only: the turn's ``reply_to`` is this room's actor, and the
turn names the room, so a timer, alarm or reminder it sets rings here: the skills actor
tells this room what to say (`SayInRoom`: a chime, then the line, as its own audio stream,
after the answer being spoken if any) and, for timers, the Wyoming ``timer-started``,
``-updated``, ``-cancelled`` and ``-finished`` events (`RoomTimer`). A failed
stage sends ``error`` to the satellite. After a pipeline that started at the wake word,
Solo listens for the next one; a satellite that wakes itself sends ``run-pipeline`` again.
Audio that comes while a turn is being answered is not listened to (no barge-in here).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from dataclasses import dataclass
from typing import Any

import numpy as np

import supervisors
from solo_actors.config import Config, SatelliteConfig
from solo_actors.messages import (
    DetectSpeech,
    DetectWake,
    LLMToken,
    Message,
    RoomTimer,
    SayInRoom,
    SpeechEnded,
    Synthesize,
    Synthesized,
    SynthesizedAudio,
    Transcribe,
    Transcribed,
    TurnDone,
    UserTurn,
    WakeDetected,
    WakeResult,
)
from solo_actors.names import DIALOGUE_NAME, SKILLS_NAME, STT, TTS, VAD, WAKE
from solo_actors.runtime.ids import new_id
from solo_actors.runtime.logs import get_logger
from solo_actors.voice.audio import ALERT_SECONDS, chime
from solo_actors.voice.spoken_text import first_chunk, sentences
from solo_actors.voice.volume import Volume
from solo_actors.wyoming.audio import AudioFormat, chunks
from solo_actors.wyoming.bridge import Bridge, Request, ServiceError
from solo_actors.wyoming.protocol import (
    Event,
    ProtocolError,
    RequestError,
    read_event,
    write_event,
)

AUDIO_CHUNK_SAMPLES = 1024
MAX_EVENT_BYTES = 1 << 20
WRITE_TIMEOUT = 10.0


class SatelliteGone(ConnectionError):
    """The satellite closed the connection or stopped answering."""


def watch_link(writer: asyncio.StreamWriter, seconds: int) -> None:
    """TCP keepalive and a bound on unacknowledged data, so a link that went dead without a
    word (a pulled cable: no FIN, no RST) ends the connection in about ``2 * seconds``
    instead of the kernel's two hours, and the room reconnects."""
    sock = writer.get_extra_info("socket")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    probes = 3
    options = {"TCP_KEEPIDLE": seconds, "TCP_KEEPINTVL": max(1, seconds // probes),
               "TCP_KEEPCNT": probes, "TCP_USER_TIMEOUT": 2_000 * seconds}  # fmt: skip
    for option, value in options.items():
        if hasattr(socket, option):  # Linux names; elsewhere the system's defaults
            sock.setsockopt(socket.IPPROTO_TCP, getattr(socket, option), value)


@dataclass
class Reply:
    """The answer being spoken into the room as its text streams in."""

    pending: str = ""
    """Text written but not yet spoken (an unfinished sentence)."""
    started: bool = False
    """Its audio stream is open (audio-start sent)."""
    alert: bool = False
    """A chime opens the stream (a ring or an announcement), at the voice's rate."""


class RoomSession:
    """One connection to the room's satellite, until it ends; see the module docstring."""

    def __init__(
        self,
        config: Config,
        satellite: SatelliteConfig,
        bridge: Bridge,
        owner: str,
        volume: Volume,
    ) -> None:
        self.config, self.satellite, self.bridge, self.owner = config, satellite, bridge, owner
        self.volume = volume
        """The room's level, which its actor sets; each piece of audio is scaled by it."""
        self.log = get_logger(f"solo/rooms/{owner}")
        self.writer: asyncio.StreamWriter | None = None
        self.write_lock = asyncio.Lock()
        self.audio_lock = asyncio.Lock()
        """Held while an audio stream plays into the room: a ring waits for the answer."""
        self.deliveries: set[asyncio.Task[None]] = set()
        self.stage = "idle"
        self.start_stage = "wake"
        self.end_stage = "tts"
        self.listening: Request | None = None
        self.listener: asyncio.Task[None] | None = None
        self.turns = 0

    @property
    def conversation_id(self) -> str:
        """The room's one conversation: its turns, and the words read ahead at its pauses."""
        return f"room-{self.satellite.name}"

    async def run(self, connected: Any) -> None:
        """Connect, then serve the satellite until the connection ends (SatelliteGone)."""
        host, port = self.satellite.host_port
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(host, port), self.config.rooms.connect_timeout
            )
        except (OSError, TimeoutError) as error:
            raise SatelliteGone(f"cannot reach {self.satellite.uri}: {error!r}") from None
        self.writer = writer
        watch_link(writer, self.config.rooms.keepalive)
        try:
            await self.send("describe")
            await self.send("run-satellite")
            connected()
            while True:
                try:
                    event = await read_event(reader, MAX_EVENT_BYTES)
                except ProtocolError as error:
                    raise SatelliteGone(
                        f"the satellite sent what is not Wyoming: {error}"
                    ) from None
                if event is None:
                    raise SatelliteGone("the satellite closed the connection")
                await self.handle(event)
        except (OSError, TimeoutError, asyncio.IncompleteReadError) as error:
            raise SatelliteGone(f"lost the satellite: {error!r}") from None
        finally:
            self.writer = None
            self.stop_listening()
            for task in self.deliveries:
                task.cancel()
            writer.transport.abort()

    async def send(
        self, kind: str, data: dict[str, Any] | None = None, payload: bytes | None = None
    ) -> None:
        assert self.writer is not None
        event = Event(kind, data or {}, payload)
        async with self.write_lock:
            await write_event(self.writer, event, WRITE_TIMEOUT)

    async def handle(self, event: Event) -> None:
        if event.type == "run-pipeline":
            self.start_stage = str(event.data.get("start_stage", "wake"))
            self.end_stage = str(event.data.get("end_stage", "tts"))
            self.log.info("pipeline", start=self.start_stage, end=self.end_stage)
            self.listen("wake" if self.start_stage == "wake" else "asr")
        elif event.type == "audio-chunk" and self.listening is not None:
            try:
                pcm = AudioFormat.of(event.data, event.type).to_pipeline(event.payload or b"")
            except RequestError as error:
                await self.send("error", {"text": str(error), "code": "bad-audio"})
                return
            stream = self.listening.key
            piece: DetectWake | DetectSpeech = (
                DetectWake(stream_id=stream, pcm=pcm, reply_to=self.owner)
                if self.stage == "wake"
                else DetectSpeech(stream_id=stream, pcm=pcm, reply_to=self.owner,
                                  conversation_id=self.conversation_id)
            )  # fmt: skip
            with contextlib.suppress(ServiceError):  # the listener says it, at its next reply
                self.listening.send(piece)
        elif event.type == "ping":
            await self.send("pong", {"text": event.data.get("text")} if event.data else {})

    # -- stages ------------------------------------------------------------------------------

    def listen(self, stage: str) -> None:
        """Start listening to the stream for the wake word, or for speech."""
        self.stop_listening()
        self.stage = stage
        target = WAKE if stage == "wake" else VAD
        self.listening = self.bridge.open(new_id(), target, None)
        self.listener = asyncio.create_task(self.listened(self.listening))

    def stop_listening(self) -> None:
        if self.listening is not None:
            if self.stage == "wake":  # free the room's detector in the wake actor
                with contextlib.suppress(ServiceError):
                    self.listening.send(DetectWake(stream_id=self.listening.key, pcm=b"",
                                                   reply_to=self.owner, end=True))  # fmt: skip
            self.listening.close()
            self.listening = None
        if self.listener is not None and self.listener is not asyncio.current_task():
            self.listener.cancel()
        self.listener = None

    async def listened(self, request: Request) -> None:
        """What the wake word or speech listener answers, then the stage after it."""
        try:
            reply = await request.next()
            if isinstance(reply, WakeResult) and reply.keyword is not None:
                await self.send("detection", {"name": reply.keyword,
                                              "timestamp": int(reply.at_s * 1000)})  # fmt: skip
                # The room's wake word silences what rings in the room, as Solo's own does.
                heard = WakeDetected(turn_id=request.key, keyword=reply.keyword, score=1.0,
                                     room=self.satellite.name)  # fmt: skip
                supervisors.cast(SKILLS_NAME, heard)
                self.listen("asr")
            elif isinstance(reply, SpeechEnded):
                self.stop_listening()
                self.stage = "busy"
                async with self.audio_lock:
                    await self.answer(reply.pcm, request.key)
                if self.start_stage == "wake":
                    self.listen("wake")
                else:
                    self.stage = "idle"  # the satellite wakes itself: it asks again
        except ServiceError as error:
            self.log.warning("pipeline failed", error=str(error))
            with contextlib.suppress(OSError, TimeoutError):
                await self.send("error", {"text": str(error), "code": "pipeline-failed"})
            self.stage = "idle"
            self.listening = None
            if self.start_stage == "wake":
                self.listen("wake")

    def open(self, key: str, target: str) -> Request:
        return self.bridge.open(key, target, self.config.rooms.reply_timeout)

    async def answer(self, pcm: bytes, stream_id: str) -> None:
        """The room's question: transcript, turn, and the answer spoken into the room. The
        turn takes the stream's id: the reply read ahead at its pause is the turn's."""
        if pcm:
            await self.send("voice-started")
            await self.send("voice-stopped")
            request = self.open(new_id(), STT)
            try:
                request.send(Transcribe(request_id=request.key, pcm=pcm, reply_to=self.owner))
                transcribed = await request.next()
                assert isinstance(transcribed, Transcribed)
            finally:
                request.close()
        if pcm and transcribed.error:
            await self.send("error", {"text": transcribed.error, "code": "stt-failed"})
            return
        if not pcm or not transcribed.text:
            await self.send("error", {"text": "no words were heard after the wake word",
                                      "code": "stt-no-text-recognized"})  # fmt: skip
            return
        await self.send("transcript", {"text": transcribed.text})
        if self.end_stage not in ("intent", "handle", "tts"):
            return
        speaking = self.end_stage == "tts"
        turn = UserTurn(turn_id=stream_id, conversation_id=self.conversation_id,
                        text=transcribed.text,
                        source="satellite", reply_to=self.owner,
                        room=self.satellite.name)  # fmt: skip
        request = self.open(turn.turn_id, DIALOGUE_NAME)
        reply = Reply()
        try:
            request.send(turn)
            while not isinstance(done := await request.next(), TurnDone):
                if speaking and isinstance(done, LLMToken):
                    # Spoken as it is written: the first phrase, then each sentence.
                    reply.pending += done.text
                    if not reply.started:
                        chunk, reply.pending = first_chunk(reply.pending)
                        await self.speak(chunk, reply)
                    whole, reply.pending = sentences(reply.pending)
                    for sentence in whole:
                        await self.speak(sentence, reply)
        finally:
            request.close()
        self.turns += 1
        self.log.info("answered", error=done.error)
        self.log.debug("answered words", text=transcribed.text, reply=done.reply)
        if speaking:
            await self.speak(done.reply if not reply.started else reply.pending, reply)
            await self.send("synthesize", {"text": done.reply})
            if reply.started:
                await self.send("audio-stop")

    async def speak(self, text: str, reply: Reply) -> None:
        """A piece of the answer's audio into the room; the first opens its audio stream."""
        if not text.strip():
            return
        request = self.open(new_id(), TTS)
        try:
            request.send(Synthesize(request_id=request.key, text=text, reply_to=self.owner))
            while isinstance(audio := await request.next(), SynthesizedAudio):
                audio_format = {"rate": audio.sample_rate, "width": 2, "channels": 1}
                if not reply.started:
                    reply.started = True
                    await self.send("audio-start", audio_format)
                    if reply.alert:
                        alert = chime(audio.sample_rate, ALERT_SECONDS)
                        for piece in chunks(self.at_volume(alert), AUDIO_CHUNK_SAMPLES):
                            await self.send("audio-chunk", audio_format, piece)
                for piece in chunks(self.at_volume(audio.pcm), AUDIO_CHUNK_SAMPLES):
                    await self.send("audio-chunk", audio_format, piece)
        finally:
            request.close()
        if isinstance(audio, Synthesized) and audio.error:
            await self.send("error", {"text": audio.error, "code": "tts-failed"})

    def at_volume(self, pcm: np.ndarray | bytes) -> np.ndarray:
        """int16 audio at the room's level."""
        samples = pcm if isinstance(pcm, np.ndarray) else np.frombuffer(pcm, np.int16)
        return self.volume.apply(samples)

    # -- what skills tells the room ------------------------------------------------------------

    def deliver(self, message: Message) -> None:
        """Take a ring, an announcement or a timer event (on the loop, from the actor)."""
        if self.writer is None:
            return
        task = asyncio.create_task(self.delivered(message))
        self.deliveries.add(task)
        task.add_done_callback(self.deliveries.discard)

    async def delivered(self, message: Message) -> None:
        try:
            if isinstance(message, RoomTimer):
                await self.send(f"timer-{message.change}", timer_event(message))
            elif isinstance(message, SayInRoom):
                async with self.audio_lock:
                    await self.say(message)
        except (OSError, TimeoutError, ServiceError) as error:
            # A lost link ends the connection by itself; a failed tts costs this line only.
            self.log.warning("not said in the room", error=str(error))

    async def say(self, message: SayInRoom) -> None:
        """``message``'s line as one audio stream: a chime (``alert``), then the words."""
        reply = Reply(alert=message.alert)
        await self.speak(message.text, reply)
        await self.send("synthesize", {"text": message.text})
        if reply.started:
            await self.send("audio-stop")


def timer_event(message: RoomTimer) -> dict[str, Any]:
    """The data of a Wyoming ``timer-*`` event (wyoming.timer): ``id``; a started timer's
    ``total_seconds``, ``name`` and length in hours, minutes and seconds; an updated one's
    seconds left and ``is_active`` (False while it is paused)."""
    data: dict[str, Any] = {"id": message.timer_id}
    seconds = round(message.seconds)
    if message.change == "started":
        hours, rest = divmod(seconds, 3600)
        minutes, secs = divmod(rest, 60)
        data |= {"total_seconds": seconds, "start_hours": hours, "start_minutes": minutes,
                 "start_seconds": secs}  # fmt: skip
        if message.name:
            data["name"] = message.name
    elif message.change == "updated":
        data |= {"is_active": message.active, "total_seconds": seconds}
    return data
