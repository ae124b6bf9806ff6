"""One Wyoming client's connection: its events in order, each role served by Solo's actors.

Roles, as the Wyoming spec has them (docs/wyoming.md lists every event):

* asr: ``transcribe``, then ``audio-start``/``-chunk``/``-stop`` -> ``transcript-start``,
  ``transcript-chunk``s while the audio arrives (the words so far, transcribed every
  ``wyoming.partial_every`` s), ``transcript``, ``transcript-stop``. stt does the work; the
  final transcript sees Whisper's full window (``wyoming.final_window``), for fewer errors.
* tts: ``synthesize`` -> one audio stream; ``synthesize-start``/``-chunk``/``-stop`` -> one
  audio stream per sentence as the text arrives, all in the voice's one format, then
  ``synthesize-stopped`` (the ``synthesize`` sent inside a stream for old servers is
  ignored). tts does the work.
* wake: ``detect``, then audio -> ``detection`` each time the wake word is heard,
  ``not-detected`` at the end of a stream that held none. The wake actor listens, with a
  detector of this stream's own.
* handle: ``transcript`` (``context.conversation_id`` keeps a conversation) -> a dialogue
  turn, streamed as ``handled-start``, ``handled-chunk``s, ``handled``, ``handled-stop``
  (``not-handled`` when the turn failed).
* intent: ``recognize`` -> ``intent`` (``intents-start``/``-stop`` around several), or
  ``not-recognized``. The skills actor's matcher; nothing is done.
* ``describe`` -> ``info``; ``ping`` -> ``pong``. Other events are dropped, as the spec asks.

A request that fails is answered with an ``error`` event and the connection goes on; what
is not a Wyoming event (a bad header, a ``data_length`` longer than what follows, an event
over ``wyoming.max_event_bytes``) gets an ``error`` and the connection is closed. A client
that leaves mid-request leaves nothing behind: its generation is interrupted, its wake
detector freed, its replies dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec

import supervisors
from solo_actors.config import Config
from solo_actors.messages import (
    DetectWake,
    IntentsRecognized,
    Interrupt,
    LLMToken,
    RecognizeIntent,
    Synthesize,
    Synthesized,
    SynthesizedAudio,
    Transcribe,
    Transcribed,
    TurnDone,
    UserTurn,
    WakeResult,
)
from solo_actors.names import DIALOGUE_NAME, SKILLS_NAME, STT, TTS, WAKE
from solo_actors.runtime.ids import new_id
from solo_actors.runtime.logs import get_logger
from solo_actors.voice.spoken_text import sentences
from solo_actors.wyoming.audio import AudioFormat, chunks, seconds_of
from solo_actors.wyoming.bridge import Bridge, Request, ServiceError
from solo_actors.wyoming.info import voice_meta
from solo_actors.wyoming.protocol import (
    Event,
    ProtocolError,
    RequestError,
    read_event,
    write_event,
)

AUDIO_CHUNK_SAMPLES = 1024
"""Samples per audio-chunk sent (what wyoming-piper sends)."""


class AudioIn(msgspec.Struct):
    """An audio stream coming in, converted to the pipeline's format as it arrives."""

    stream_id: str
    pcm: bytearray
    partial_at: float = 0.0
    """Seconds of audio at the last partial transcription."""


class Connection:
    """Serves one client until it leaves; see the module docstring."""

    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        config: Config,
        bridge: Bridge,
        owner: str,
        peer: str,
        info: dict[str, Any],
    ) -> None:
        self.reader, self.writer, self.config, self.bridge = reader, writer, config, bridge
        self.settings = config.wyoming
        self.owner = owner
        self.info = info
        self.log = get_logger(f"solo/{owner}").bind(peer=peer)
        self.write_lock = asyncio.Lock()
        self.mode = "asr"
        self.language = config.voice.stt.language
        self.audio: AudioIn | None = None
        self.sent_words = ""
        self.partial: asyncio.Task[None] | None = None
        self.wake: asyncio.Task[bool] | None = None
        self.wake_request: Request | None = None
        self.streaming_text: str | None = None
        self.requests: set[Request] = set()
        self.turns: set[str] = set()
        self.conversation = new_id()

    # -- the connection ----------------------------------------------------------------------

    async def run(self) -> None:
        try:
            limit = self.settings.max_event_bytes
            while (event := await read_event(self.reader, limit)) is not None:
                await self.handle(event)
        except ProtocolError as error:
            self.log.warning("bad event; closing", error=str(error))
            with contextlib.suppress(OSError, TimeoutError):
                await self.send("error", {"text": str(error), "code": "protocol-error"})
        except (OSError, TimeoutError, asyncio.IncompleteReadError) as error:
            self.log.info("client gone", error=repr(error))
        except Exception as error:
            # A fault in serving this client ends this connection only, said to the client.
            self.log.exception("connection failed", error=repr(error))
            with contextlib.suppress(OSError, TimeoutError):
                text = f"Solo failed to serve this connection: {error!r}"
                await self.send("error", {"text": text, "code": "internal-error"})
        finally:
            await self.leave()

    async def leave(self) -> None:
        """Free whatever the client's requests hold in Solo's actors."""
        for task in (self.partial, self.wake):
            if task is not None:
                task.cancel()
        if self.audio is not None and self.wake_request is not None:
            with contextlib.suppress(ServiceError):
                self.wake_request.send(DetectWake(stream_id=self.audio.stream_id, pcm=b"",
                                                  reply_to=self.owner, end=True))  # fmt: skip
        for turn_id in self.turns:  # its generation stops: nobody waits for it any more
            supervisors.cast(DIALOGUE_NAME, Interrupt(turn_id=turn_id, reason="client left"))
        for request in list(self.requests):
            request.close()
        self.writer.close()

    async def send(
        self, kind: str, data: dict[str, Any] | None = None, payload: bytes | None = None
    ) -> None:
        event = Event(kind, data or {}, payload)
        async with self.write_lock:
            await write_event(self.writer, event, self.settings.write_timeout)

    async def handle(self, event: Event) -> None:
        handlers: dict[str, Callable[[Event], Awaitable[None]]] = {
            "describe": self.describe, "ping": self.ping, "transcribe": self.transcribe,
            "detect": self.detect, "audio-start": self.audio_start,
            "audio-chunk": self.audio_chunk, "audio-stop": self.audio_stop,
            "synthesize": self.synthesize, "synthesize-start": self.synthesize_start,
            "synthesize-chunk": self.synthesize_chunk, "synthesize-stop": self.synthesize_stop,
            "transcript": self.handle_transcript, "recognize": self.recognize,
        }  # fmt: skip
        handler = handlers.get(event.type)
        if handler is None:
            return  # the spec: servers drop events they do not know
        try:
            await handler(event)
        except (ServiceError, RequestError) as error:
            self.log.warning("request failed", wyoming_event=event.type, error=str(error))
            code = "bad-request" if isinstance(error, RequestError) else "service-unavailable"
            await self.send("error", {"text": str(error), "code": code})

    def request(self, key: str, target: str, timeout: float | None = -1.0) -> Request:
        request = self.bridge.open(
            key, target, self.settings.reply_timeout if timeout == -1.0 else timeout
        )
        self.requests.add(request)
        return request

    def done(self, request: Request) -> None:
        self.requests.discard(request)
        request.close()

    @staticmethod
    def text_of(event: Event, key: str = "text") -> str:
        text = event.data.get(key)
        if not isinstance(text, str):
            raise RequestError(f'a {event.type} event needs a "{key}" string')
        return text

    @staticmethod
    def context_of(event: Event) -> dict[str, Any]:
        context = event.data.get("context")
        return context if isinstance(context, dict) else {}

    # -- info, ping ----------------------------------------------------------------------------

    async def describe(self, _event: Event) -> None:
        await self.send("info", self.info)

    async def ping(self, event: Event) -> None:
        text = event.data.get("text")
        await self.send("pong", {"text": text} if isinstance(text, str) else {})

    # -- audio in: asr and wake ----------------------------------------------------------------

    async def transcribe(self, event: Event) -> None:
        self.mode = "asr"
        language = event.data.get("language")
        self.language = language if isinstance(language, str) else self.config.voice.stt.language

    async def detect(self, _event: Event) -> None:
        self.mode = "wake"

    async def audio_start(self, event: Event) -> None:
        AudioFormat.of(event.data, event.type)
        await self.begin_audio()

    async def begin_audio(self) -> None:
        if self.audio is not None:
            await self.end_audio()
        self.audio = AudioIn(new_id(), bytearray())
        if self.mode == "asr":
            self.sent_words = ""
            await self.send("transcript-start", {"language": self.language})
        else:
            self.wake_request = self.request(self.audio.stream_id, WAKE, timeout=None)
            self.wake = asyncio.create_task(self.hear_wake(self.wake_request))

    async def audio_chunk(self, event: Event) -> None:
        pcm = AudioFormat.of(event.data, event.type).to_pipeline(event.payload or b"")
        if self.audio is None:
            await self.begin_audio()
        assert self.audio is not None
        if self.mode == "wake":
            assert self.wake_request is not None and self.wake is not None
            if self.wake.done():  # the wake actor exited mid-stream: the stream is over
                self.audio = None
                self.wake.result()  # raises what ended it
                return
            self.wake_request.send(DetectWake(stream_id=self.audio.stream_id, pcm=pcm,
                                              reply_to=self.owner))  # fmt: skip
            return
        self.audio.pcm += pcm
        seconds = seconds_of(self.audio.pcm)
        if seconds > self.settings.max_audio_seconds:
            self.audio = None
            raise RequestError(
                f"the audio to transcribe is longer than {self.settings.max_audio_seconds:g} s "
                "(wyoming.max_audio_seconds); send one voice command per transcribe"
            )
        if seconds - self.audio.partial_at >= self.settings.partial_every and (
            self.partial is None or self.partial.done()
        ):
            self.audio.partial_at = seconds
            self.partial = asyncio.create_task(self.transcribe_partial(bytes(self.audio.pcm)))

    async def audio_stop(self, _event: Event) -> None:
        if self.audio is not None:
            await self.end_audio()

    async def end_audio(self) -> None:
        audio, self.audio = self.audio, None
        assert audio is not None
        if self.mode == "wake":
            await self.end_wake(audio)
            return
        if self.partial is not None:
            with contextlib.suppress(ServiceError):
                await self.partial
        text = await self.transcribe_pcm(bytes(audio.pcm), self.settings.final_window)
        # Whisper may capitalise the whole differently from a partial: compare the words.
        said = text.lower().startswith(self.sent_words.lower())
        rest = text[len(self.sent_words) :] if said else ""
        if rest.strip():
            await self.send("transcript-chunk", {"text": rest})
        await self.send("transcript", {"text": text, "language": self.language})
        await self.send("transcript-stop")

    async def transcribe_pcm(self, pcm: bytes, window: float = 0.0) -> str:
        request = self.request(new_id(), STT)
        try:
            request.send(Transcribe(request_id=request.key, pcm=pcm, reply_to=self.owner,
                                    window=window))  # fmt: skip
            reply = await request.next()
            assert isinstance(reply, Transcribed)
            if reply.error:
                raise ServiceError(reply.error)
            return reply.text
        finally:
            self.done(request)

    async def transcribe_partial(self, pcm: bytes) -> None:
        """The words so far; the part beyond what was sent goes out as a transcript-chunk
        (a partial that took words back sends nothing: the final transcript settles it)."""
        try:
            text = await self.transcribe_pcm(pcm)
        except ServiceError:
            return  # the final transcription says it, if stt is still down then
        words = text.rsplit(" ", 1)[0] if " " in text else ""  # the last word may be cut
        if words.lower().startswith(self.sent_words.lower()) and len(words) > len(self.sent_words):
            chunk, self.sent_words = words[len(self.sent_words) :], words
            await self.send("transcript-chunk", {"text": chunk})

    async def hear_wake(self, request: Request) -> bool:
        """Sends a detection for each wake word in the stream; True once any was heard."""
        heard = False
        while True:
            result = await request.next()
            assert isinstance(result, WakeResult)
            if result.ended:
                return heard
            heard = True
            await self.send("detection", {"name": result.keyword,
                                          "timestamp": int(result.at_s * 1000)})  # fmt: skip

    async def end_wake(self, audio: AudioIn) -> None:
        request, task = self.wake_request, self.wake
        assert request is not None and task is not None
        self.wake_request = self.wake = None
        try:
            request.send(DetectWake(stream_id=audio.stream_id, pcm=b"", reply_to=self.owner,
                                    end=True))  # fmt: skip
            heard = await asyncio.wait_for(task, self.settings.reply_timeout)
        except TimeoutError:
            raise ServiceError("Solo's wake did not answer the end of the stream") from None
        finally:
            self.done(request)
        if not heard:
            await self.send("not-detected")

    # -- tts -----------------------------------------------------------------------------------

    async def synthesize(self, event: Event) -> None:
        if self.streaming_text is not None:
            return  # sent inside a stream for servers that do not stream: already said
        await self.speak(self.text_of(event), own_stream=False)

    async def synthesize_start(self, _event: Event) -> None:
        self.streaming_text = ""

    async def synthesize_chunk(self, event: Event) -> None:
        if self.streaming_text is None:
            self.streaming_text = ""  # a chunk without a start: a stream all the same
        whole, self.streaming_text = sentences(self.streaming_text + self.text_of(event))
        for sentence in whole:
            await self.speak(sentence, own_stream=True)

    async def synthesize_stop(self, _event: Event) -> None:
        rest, self.streaming_text = self.streaming_text or "", None
        if rest.strip():
            await self.speak(rest, own_stream=True)
        await self.send("synthesize-stopped")

    async def speak(self, text: str, *, own_stream: bool) -> None:
        """Say ``text`` as one audio stream (start, chunks, stop) in the voice's format.

        Outside a stream an empty text is still one (empty) audio stream: the client waits
        for its audio-stop. Inside one, a segment with nothing to say sends nothing."""
        request = self.request(new_id(), TTS)
        started = False
        try:
            request.send(Synthesize(request_id=request.key, text=text, reply_to=self.owner))
            while isinstance(reply := await request.next(), SynthesizedAudio):
                audio_format = {"rate": reply.sample_rate, "width": 2, "channels": 1}
                if not started:
                    started = True
                    await self.send("audio-start", audio_format)
                for piece in chunks(reply.pcm, AUDIO_CHUNK_SAMPLES):
                    await self.send("audio-chunk", audio_format, piece)
        finally:
            self.done(request)
        if isinstance(reply, Synthesized) and reply.error:
            raise ServiceError(reply.error)
        if not started and own_stream:
            return
        if not started:
            rate = voice_meta(self.config).rate
            await self.send("audio-start", {"rate": rate, "width": 2, "channels": 1})
        await self.send("audio-stop")

    # -- handle and intent ---------------------------------------------------------------------

    async def handle_transcript(self, event: Event) -> None:
        text = self.text_of(event)
        context = self.context_of(event)
        conversation = context.get("conversation_id")
        if isinstance(conversation, str) and conversation:
            self.conversation = conversation
        context = {**context, "conversation_id": self.conversation}
        turn = UserTurn(conversation_id=f"wyoming-{self.conversation}", text=text,
                        source="wyoming", reply_to=self.owner)  # fmt: skip
        request = self.request(turn.turn_id, DIALOGUE_NAME)
        self.turns.add(turn.turn_id)
        started = False
        try:
            request.send(turn)
            while not isinstance(reply := await request.next(), TurnDone):
                if isinstance(reply, LLMToken) and reply.text:
                    if not started:
                        started = True
                        await self.send("handled-start", {"context": context})
                    await self.send("handled-chunk", {"text": reply.text})
        finally:
            self.turns.discard(turn.turn_id)
            self.done(request)
        if reply.error is not None:
            self.log.warning("turn failed", error=reply.error)
            await self.send("not-handled", {"text": reply.reply, "context": context})
        else:
            if not started:
                await self.send("handled-start", {"context": context})
            await self.send("handled", {"text": reply.reply, "context": context})
        if started or reply.error is None:
            await self.send("handled-stop")

    async def recognize(self, event: Event) -> None:
        text = self.text_of(event)
        context = self.context_of(event)
        request = self.request(new_id(), SKILLS_NAME)
        try:
            request.send(RecognizeIntent(request_id=request.key, text=text, reply_to=self.owner))
            reply = await request.next()
            assert isinstance(reply, IntentsRecognized)
        finally:
            self.done(request)
        if not reply.intents:
            await self.send("not-recognized", {"context": context})
            return
        several = len(reply.intents) > 1
        if several:
            await self.send("intents-start", {"context": context})
        for intent in reply.intents:
            entities = [{"name": name, "value": value} for name, value in intent.slots.items()]
            data: dict[str, Any] = {"name": intent.name, "entities": entities, "context": context}
            if intent.error:
                data["text"] = intent.error
            await self.send("intent", data)
        if several:
            await self.send("intents-stop", {"context": context})
