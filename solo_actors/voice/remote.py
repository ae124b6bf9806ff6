"""Remote Wyoming services as the engines of stt, tts and wake (``engine = "wyoming"``).

A stronger machine runs Whisper, Piper or a wake word detector for every room
(`wyoming-faster-whisper`, `wyoming-piper`, `wyoming-openwakeword`, or another Solo); the
stt, tts and wake actors keep their names and messages and only the engine behind them
changes. The client side of the protocol is the reference `wyoming` library's
(`AsyncClient`), on an event loop of its own thread (`Service`), so the actor's thread
stays a plain blocking caller. Every wait is bounded: a connection by
``remote.connect_timeout``, each event the service owes by ``remote.read_timeout``.
Whatever goes wrong (refused, unreachable, silent, closed mid-answer, an ``error`` event)
is a `RemoteServiceError` whose message names the service, the address and what to check.

`Fallback` decides who serves: with ``remote.fallback = "local"`` a request the service
failed is served by the local engine, loaded on that first need (not at start: a thin room
device never pays for Whisper's or Piper's memory unless the service goes away), and the
local engine goes on serving for ``remote.retry_after`` seconds before the service is tried
again, so a service that is down costs no connect timeout per request. With ``"none"`` the
error goes to the caller, which says it (a failed turn, a request's error). The log says
each switch; the actor's figures say who serves (``serving``) and the last remote error.

`RemoteWake` is the wake word engine of ``voice.wake.engine = "wyoming"``: it streams every
frame to the service on one connection (``detect``, ``audio-start``, ``audio-chunk``…) and
reports the service's ``detection`` events; while the service is down the local engine
(``remote.local_engine``) listens, or with fallback "none" nothing does.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import queue
import threading
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

import numpy as np
from wyoming.asr import Transcribe, Transcript
from wyoming.audio import AudioChunk, AudioChunkConverter, AudioStart, AudioStop
from wyoming.client import AsyncClient
from wyoming.error import Error
from wyoming.event import Event
from wyoming.info import Describe, Info
from wyoming.tts import Synthesize
from wyoming.wake import Detect, Detection

from solo_actors.config.schema import WakeConfig, WyomingEngineConfig
from solo_actors.runtime.logs import get_logger
from solo_actors.voice.audio import SAMPLE_RATE

T = TypeVar("T")

REMOTE = "remote"
LOCAL = "local"
CHUNK_SAMPLES = 1024
"""Samples per ``audio-chunk`` sent to a speech-to-text service (64 ms at 16 kHz)."""
WAKE_REFRACTORY_S = 1.0
"""Seconds of audio after a detection in which the service's further detections are the
same wake word (wyoming-openwakeword reports each chunk scored above its threshold)."""


@dataclass(frozen=True)
class Role:
    """What a service is for: as a person reads it, and its config section."""

    name: str
    section: str


STT = Role("speech-to-text", "voice.stt")
TTS = Role("text-to-speech", "voice.tts")
WAKE = Role("wake word", "voice.wake")


class RemoteServiceError(ConnectionError):
    """A Wyoming service could not serve a request; the message says which, where and why."""


class Service:
    """One Wyoming service (``remote.uri``), called from a blocking thread: each call runs a
    coroutine on this object's event loop thread with a fresh connection."""

    def __init__(self, settings: WyomingEngineConfig, role: Role) -> None:
        self.settings = settings
        self.role = role
        self.key = f"{role.section}.remote"
        """Where the settings are, for the messages."""
        self.where = f"the Wyoming {role.name} service at {settings.uri}"
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name=f"wyoming-{role.section}", daemon=True
        )
        self._thread.start()

    def close(self) -> None:
        if self._loop.is_closed():
            return
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=2.0)
        if not self._thread.is_alive():
            self._loop.close()

    def call(self, session: Callable[[AsyncClient], Coroutine[Any, Any, T]]) -> T:
        """`session` run on a new connection to the service; a `RemoteServiceError` if the
        service cannot be reached or fails it."""
        return self.run(self._call(session))

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """`coroutine` run on the service's loop, waited for (it bounds its own waits)."""
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result()

    def spawn(self, coroutine: Coroutine[Any, Any, None]) -> concurrent.futures.Future[None]:
        """`coroutine` started on the service's loop, not waited for."""
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop)

    async def send(self, client: AsyncClient, event: Event) -> None:
        """Write `event`; a service that reads nothing for ``read_timeout`` seconds fails."""
        try:
            await asyncio.wait_for(client.write_event(event), self.settings.read_timeout)
        except TimeoutError:
            raise RemoteServiceError(
                f"{self.where} read nothing for {self.settings.read_timeout:g} s "
                f"({self.key}.read_timeout); the service is overloaded or hung"
            ) from None

    async def _call(self, session: Callable[[AsyncClient], Coroutine[Any, Any, T]]) -> T:
        client = await self.connect()
        try:
            return await self.guard(session(client))
        finally:
            with contextlib.suppress(Exception):
                await client.disconnect()

    async def connect(self) -> AsyncClient:
        try:
            client = AsyncClient.from_uri(self.settings.uri)
        except ValueError as error:
            raise RemoteServiceError(f"{self.where}: {error}; check {self.key}.uri") from None
        try:
            await self.guard(asyncio.wait_for(client.connect(), self.settings.connect_timeout))
        except TimeoutError:
            raise RemoteServiceError(
                f"{self.where} did not accept a connection within "
                f"{self.settings.connect_timeout:g} s ({self.key}.connect_timeout); "
                "is it up and reachable?"
            ) from None
        return client

    async def guard(self, work: Awaitable[T]) -> T:
        """`work`'s result; a broken connection as a `RemoteServiceError` (a timeout is
        said by whoever set it)."""
        try:
            return await work
        except (RemoteServiceError, TimeoutError):
            raise  # said already, or by the caller that set the timeout
        except ConnectionRefusedError as error:
            raise RemoteServiceError(
                f"{self.where} refused the connection ({error.strerror}); start the service "
                f"or check {self.key}.uri"
            ) from None
        except (OSError, asyncio.IncompleteReadError, EOFError) as error:
            raise RemoteServiceError(
                f"the connection to {self.where} failed ({type(error).__name__}: {error}); "
                "the service stopped or the network failed"
            ) from None

    async def read(
        self, client: AsyncClient, waiting_for: str, timeout: float | None = -1.0
    ) -> Event:
        """The next event the service sends; an ``error`` event, a closed connection or
        `timeout` (``read_timeout``; None: no limit) seconds of silence is a
        `RemoteServiceError`."""
        timeout = self.settings.read_timeout if timeout == -1.0 else timeout
        try:
            event = await self.guard(asyncio.wait_for(client.read_event(), timeout))
        except TimeoutError:
            raise RemoteServiceError(
                f"{self.where} sent no {waiting_for} within {self.settings.read_timeout:g} s "
                f"({self.key}.read_timeout); the service is overloaded or hung"
            ) from None
        if event is None:
            raise RemoteServiceError(
                f"{self.where} closed the connection before sending the {waiting_for}; "
                "the service stopped (see its log)"
            )
        if Error.is_type(event.type):
            error = Error.from_event(event)
            raise RemoteServiceError(
                f"{self.where} answered with an error ({error.code or 'no code'}): {error.text}"
            )
        return event


def describe(settings: WyomingEngineConfig, role: Role) -> str:
    """What the service at ``settings.uri`` says it is (its ``info``: the programs it
    serves); a `RemoteServiceError` if it cannot be reached or does not answer."""
    service = Service(settings, role)

    async def ask(client: AsyncClient) -> str:
        await service.send(client, Describe().event())
        while not Info.is_type((event := await service.read(client, "info")).type):
            pass
        info = Info.from_event(event)
        programs = [program.name for program in (*info.asr, *info.tts, *info.wake)]
        return ", ".join(programs) or "no asr, tts or wake program"

    try:
        return service.call(ask)
    finally:
        service.close()


class RemoteStt:
    """Speech-to-text on a Wyoming service: ``transcribe``, the audio, its transcript."""

    def __init__(self, settings: WyomingEngineConfig, language: str) -> None:
        self.service = Service(settings, STT)
        self.language = language

    def transcribe(self, pcm: bytes) -> str:
        """The text of 16 kHz int16 mono speech."""
        return self.service.call(lambda client: self._transcribe(client, pcm))

    async def _transcribe(self, client: AsyncClient, pcm: bytes) -> str:
        audio = {"rate": SAMPLE_RATE, "width": 2, "channels": 1}
        send = self.service.send
        await send(client, Transcribe(language=self.language).event())
        await send(client, AudioStart(**audio).event())
        for start in range(0, len(pcm), 2 * CHUNK_SAMPLES):
            piece = pcm[start : start + 2 * CHUNK_SAMPLES]
            await send(client, AudioChunk(audio=piece, **audio).event())
        await send(client, AudioStop().event())
        while True:  # transcript-start/-chunk of a streaming service come first: skipped
            event = await self.service.read(client, "transcript")
            if Transcript.is_type(event.type):
                return Transcript.from_event(event).text.strip()

    def close(self) -> None:
        self.service.close()


class RemoteTts:
    """Text-to-speech on a Wyoming service: ``synthesize``, then its audio, converted to
    Solo's voice format (int16 mono at `rate`) by the `wyoming` library's converter."""

    def __init__(self, settings: WyomingEngineConfig, rate: int) -> None:
        self.service = Service(settings, TTS)
        self.rate = rate

    def synthesize(self, text: str) -> np.ndarray:
        """int16 speech of `text` at `rate`."""
        return self.service.call(lambda client: self._synthesize(client, text))

    async def _synthesize(self, client: AsyncClient, text: str) -> np.ndarray:
        await self.service.send(client, Synthesize(text=text).event())
        converter = AudioChunkConverter(rate=self.rate, width=2, channels=1)
        pieces: list[bytes] = []
        while True:
            event = await self.service.read(client, "audio")
            if AudioChunk.is_type(event.type):
                pieces.append(converter.convert(AudioChunk.from_event(event)).audio)
            elif AudioStop.is_type(event.type):
                return np.frombuffer(b"".join(pieces), np.int16)

    def close(self) -> None:
        self.service.close()


class Fallback:
    """Who serves the next request: the remote service, or the local engine after the
    service failed (with ``fallback = "local"``, for ``retry_after`` seconds); see the
    module docstring. `publish` gets the figures that change (``serving``,
    ``remote_error``, ``remote_errors``, and with `per_request` ``fallbacks``: the requests
    the local engine served; a wake word's frames are not counted)."""

    def __init__(
        self,
        settings: WyomingEngineConfig,
        role: Role,
        log_name: str,
        publish: Callable[..., None] = lambda **_: None,
        *,
        per_request: bool = True,
    ) -> None:
        self.settings = settings
        self.role = role
        self.log = get_logger(log_name)
        self.publish = publish
        self.per_request = per_request
        self.failed_at: float | None = None
        """When the service last failed (monotonic), None since it last served."""
        self.serving = REMOTE
        self.fallbacks = 0
        self.errors = 0

    def figures(self) -> dict[str, Any]:
        """The figures at start."""
        figures = {"serving": self.serving, "remote_uri": self.settings.uri, "remote_error": "",
                   "remote_errors": 0, "fallback": self.settings.fallback}  # fmt: skip
        return {**figures, "fallbacks": 0} if self.per_request else figures

    def resting(self) -> bool:
        """The service failed less than ``retry_after`` seconds ago."""
        if self.failed_at is None:
            return False
        return time.monotonic() - self.failed_at < self.settings.retry_after

    def remote_allowed(self) -> bool:
        return self.settings.fallback == "none" or not self.resting()

    def serve(self, remote: Callable[[], T], local: Callable[[], T]) -> T:
        """`remote()`'s answer; `local()`'s when the service fails or is resting, with
        fallback "local" (else the `RemoteServiceError` goes to the caller)."""
        if not self.remote_allowed():
            return self.local(local)
        try:
            answer = remote()
        except RemoteServiceError as error:
            self.failed(error)
            if self.settings.fallback == "none":
                raise
            return self.local(local)
        self.succeeded()
        return answer

    def local(self, local: Callable[[], T]) -> T:
        self.switch(LOCAL)
        if self.per_request:
            self.fallbacks += 1
            self.publish(fallbacks=self.fallbacks)
        return local()

    def failed(self, error: RemoteServiceError) -> None:
        self.failed_at = time.monotonic()
        self.errors += 1
        then = "the local engine serves" if self.settings.fallback == "local" else "no fallback"
        self.log.error(f"remote {self.role.name} failed; {then}", error=str(error),
                       uri=self.settings.uri)  # fmt: skip
        self.publish(remote_error=str(error), remote_errors=self.errors)

    def succeeded(self) -> None:
        if self.failed_at is not None:
            self.log.info(f"remote {self.role.name} serving again", uri=self.settings.uri)
        self.failed_at = None
        self.switch(REMOTE)

    def switch(self, serving: str) -> None:
        if serving != self.serving:
            self.serving = serving
            self.publish(serving=serving)


class Hears(Protocol):
    """A local wake word engine (`wake_engines.WakeEngine`, which imports this module)."""

    def hear(self, frame: np.ndarray) -> float | None: ...

    def close(self) -> None: ...


class RemoteWake:
    """The wake word engine of ``engine = "wyoming"`` (see the module docstring): it hears
    frames as `wake_engines.WakeEngine` does, by streaming them to the service."""

    def __init__(
        self,
        settings: WakeConfig,
        local: Callable[[], Hears],
        publish: Callable[..., None] = lambda **_: None,
    ) -> None:
        self.remote = settings.remote
        self.name = settings.remote.model or "wake word"
        self.service = Service(settings.remote, WAKE)
        self.fallback = Fallback(
            settings.remote, WAKE, "solo/voice/wake", publish, per_request=False
        )
        self.make_local = local
        self.local_engine: Hears | None = None
        self.client: AsyncClient | None = None
        self.heard: queue.Queue[Event | RemoteServiceError] = queue.Queue()
        self.reader: concurrent.futures.Future[None] | None = None
        self.samples = 0
        self.quiet_until = 0

    def hear(self, frame: np.ndarray) -> float | None:
        if self.remote.fallback == "none" and self.fallback.resting():
            return None  # nothing listens; the service is tried again after retry_after
        try:
            return self.fallback.serve(
                lambda: self.hear_remote(frame), lambda: self.hear_locally(frame)
            )
        except RemoteServiceError:
            return None  # fallback "none": nothing listens until the service is back

    def hear_remote(self, frame: np.ndarray) -> float | None:
        if self.client is None:
            self.open()
        assert self.client is not None
        chunk = AudioChunk(rate=SAMPLE_RATE, width=2, channels=1, audio=frame.tobytes())
        try:
            self.service.run(self.service.guard(self.service.send(self.client, chunk.event())))
        except RemoteServiceError:
            self.drop()
            raise
        self.samples += len(frame)
        fired: float | None = None
        while True:
            try:
                heard = self.heard.get_nowait()
            except queue.Empty:
                return fired
            if isinstance(heard, RemoteServiceError):
                self.drop()
                raise heard
            if Detection.is_type(heard.type) and self.samples >= self.quiet_until:
                fired = 1.0
                self.quiet_until = self.samples + int(WAKE_REFRACTORY_S * SAMPLE_RATE)

    def open(self) -> None:
        """Connect, ask for the wake word, start the stream and the reader of detections."""
        names = [self.remote.model] if self.remote.model else None

        async def start() -> AsyncClient:
            client = await self.service.connect()
            audio = AudioStart(rate=SAMPLE_RATE, width=2, channels=1)
            for event in (Detect(names=names).event(), audio.event()):
                await self.service.guard(self.service.send(client, event))
            return client

        self.client = self.service.run(start())
        self.heard = queue.Queue()
        self.reader = self.service.spawn(self.read(self.client, self.heard))

    async def read(
        self, client: AsyncClient, heard: queue.Queue[Event | RemoteServiceError]
    ) -> None:
        """Put each event the service sends in `heard`, then the error that ended the stream
        (told to the next frame)."""
        while True:
            try:
                heard.put(await self.service.read(client, "detection", timeout=None))
            except RemoteServiceError as error:
                heard.put(error)
                return

    def hear_locally(self, frame: np.ndarray) -> float | None:
        if self.local_engine is None:
            self.local_engine = self.make_local()
        return self.local_engine.hear(frame)

    def drop(self) -> None:
        """Forget the connection (broken, or closing)."""
        client, self.client = self.client, None
        if self.reader is not None:
            self.reader.cancel()
            self.reader = None
        if client is not None:
            with contextlib.suppress(Exception):
                self.service.run(client.disconnect())

    def close(self) -> None:
        self.drop()
        if self.local_engine is not None:
            self.local_engine.close()
            self.local_engine = None
        self.service.close()
