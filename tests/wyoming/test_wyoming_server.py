"""Solo's Wyoming server against the ``wyoming`` library's own client, on a running Solo.

One ``run.py --wyoming`` (default models, process isolation) serves the whole module: the
roles (describe, asr with transcript streaming, tts with synthesize streaming, wake,
handle, intent, ping), several clients at once, clients that leave mid-stream, and bad
input. Every test ends with the supervision reports clean: whatever a client did, no actor
of Solo exited.
"""

from __future__ import annotations

import asyncio
import json

import numpy as np
import pytest
from wyoming.asr import Transcribe, Transcript
from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.event import Event, async_read_event
from wyoming.handle import Handled, HandledChunk
from wyoming.info import Describe, Info
from wyoming.intent import Intent, Recognize
from wyoming.ping import Ping
from wyoming.tts import Synthesize, SynthesizeChunk, SynthesizeStart, SynthesizeStop
from wyoming.wake import Detect, Detection

from solo_actors.config import load_config
from solo_actors.voice.audio import SAMPLE_RATE, float_to_int16, int16_to_float, resample
from solo_actors.voice.stt import load_whisper, whisper_folder
from solo_actors.voice.stt import transcribe as stt_transcribe
from tests.voice.conftest import Speech
from tests.wyoming.conftest import WRITE_TIMEOUT, SoloServer, exchange, run_async, synthesize

QUESTION = "What is the capital of France?"
CHUNK_BYTES = 2048


@pytest.fixture(scope="module")
def asked(speech: Speech) -> np.ndarray:
    """The question, said once by Piper at 16 kHz with a little silence around it."""
    return speech.clip(0.3, QUESTION, 0.6, steady=True)


def audio_events(pcm: bytes, rate: int, width: int = 2, channels: int = 1) -> list[Event]:
    step = CHUNK_BYTES * width * channels // 2
    chunks = [
        AudioChunk(rate=rate, width=width, channels=channels, audio=pcm[i : i + step]).event()
        for i in range(0, len(pcm), step)
    ]
    start = AudioStart(rate=rate, width=width, channels=channels).event()
    return [start, *chunks, AudioStop().event()]


def words(text: str) -> str:
    return " ".join("".join(c for c in text.lower() if c.isalnum() or c == " ").split())


async def transcribe(
    server: SoloServer, pcm: bytes, rate: int = SAMPLE_RATE, **fmt: int
) -> list[Event]:
    async with server.client() as client:
        events = [Transcribe(language="en").event(), *audio_events(pcm, rate, **fmt)]
        return await exchange(client, events, {"transcript-stop", "error"})


def assert_clean(server: SoloServer) -> None:
    assert server.process.poll() is None, "Solo exited"
    assert server.trouble() == [], "an actor of Solo exited"


def test_describe_lists_every_role_as_the_spec_shapes_it(solo_server: SoloServer) -> None:
    async def ask() -> list[Event]:
        async with solo_server.client() as client:
            return await exchange(client, [Describe().event()], {"info"})

    [event] = run_async(ask())
    info = Info.from_event(event)  # the reference library's own parser
    assert [len(info.asr), len(info.tts), len(info.wake), len(info.handle), len(info.intent)] == [
        1
    ] * 5
    assert info.asr[0].models[0].languages == ["en"] and info.asr[0].supports_transcript_streaming
    assert info.tts[0].voices[0].name == "piper-en_US-joe-medium"
    assert (
        info.tts[0].voices[0].languages == ["en_US"] and info.tts[0].supports_synthesize_streaming
    )
    assert info.wake[0].models[0].name == "jarvis"
    assert info.handle[0].supports_handled_streaming and info.handle[0].models[0].installed
    assert "timer.set" in (info.intent[0].models[0].description or "")
    for program in (*info.asr, *info.tts, *info.wake, *info.handle, *info.intent):
        assert program.installed and program.attribution.name and program.version
    assert_clean(solo_server)


def test_ping_is_answered_with_pong(solo_server: SoloServer) -> None:
    async def ask() -> list[Event]:
        async with solo_server.client() as client:
            return await exchange(client, [Ping(text="hi").event()], {"pong"})

    assert run_async(ask())[-1].data == {"text": "hi"}


def test_a_recorded_question_is_transcribed_with_streaming_chunks(
    solo_server: SoloServer, asked: np.ndarray
) -> None:
    events = run_async(transcribe(solo_server, asked.tobytes()))
    types = [event.type for event in events]
    assert types[0] == "transcript-start" and types[-2:] == ["transcript", "transcript-stop"], types
    assert set(types[1:-2]) <= {"transcript-chunk"}
    text = Transcript.from_event(events[-2]).text
    assert words(text) == words(QUESTION), text
    chunks = "".join(event.data["text"] for event in events if event.type == "transcript-chunk")
    assert words(text).startswith(words(chunks)), (chunks, text)
    assert_clean(solo_server)


def test_the_final_transcript_sees_whispers_whole_window(
    solo_server: SoloServer, speech: Speech
) -> None:
    """The partials come from the short window (fast); the final transcript from Whisper's
    whole 30 s one (wyoming.final_window), which makes fewer word errors. The final words
    are the library's own with the 30 s window on the same clip; on this machine the 6 s
    window hears "mint" for "moon" in it."""
    pcm = speech.clip(0.5, "How far is the moon from the earth?", 0.5, steady=True).tobytes()
    config = load_config(environ={})
    stt = config.voice.stt
    model = load_whisper(whisper_folder(config), stt.threads)
    whole_window = stt_transcribe(model, pcm, stt.language, stt.beam_size, 30.0)
    events = run_async(transcribe(solo_server, pcm))
    assert Transcript.from_event(events[-2]).text == whole_window
    assert_clean(solo_server)


def test_audio_at_another_rate_and_in_stereo_is_converted(
    solo_server: SoloServer, asked: np.ndarray
) -> None:
    stereo = resample(int16_to_float(asked), SAMPLE_RATE, 44_100)
    pcm = float_to_int16(np.repeat(stereo, 2)).tobytes()
    events = run_async(transcribe(solo_server, pcm, 44_100, channels=2))
    assert words(Transcript.from_event(events[-2]).text) == words(QUESTION)
    assert_clean(solo_server)


def test_audio_that_cannot_be_audio_gets_a_clear_error(solo_server: SoloServer) -> None:
    async def ask() -> list[Event]:
        async with solo_server.client() as client:
            sent = [Transcribe().event(), AudioStart(rate=3, width=2, channels=1).event()]
            first = await exchange(client, sent, {"error"})
            # The connection goes on: the next request is served.
            return first + await exchange(client, [Ping().event()], {"pong"})

    events = run_async(ask())
    assert events[0].type == "error" and "rate of 3 Hz" in events[0].data["text"]
    assert events[-1].type == "pong"
    assert_clean(solo_server)


def test_synthesized_speech_is_heard_back_as_the_same_words(solo_server: SoloServer) -> None:
    pcm, rate = run_async(synthesize(solo_server, QUESTION))
    assert rate == 22_050 and len(pcm) > rate  # more than half a second of speech
    events = run_async(transcribe(solo_server, pcm, rate))
    assert words(Transcript.from_event(events[-2]).text) == words(QUESTION)
    assert_clean(solo_server)


def test_streamed_text_is_spoken_sentence_by_sentence_in_one_format(
    solo_server: SoloServer,
) -> None:
    text = ["The capital of Fr", "ance is Paris. It is a big ", "city on the Seine."]

    async def ask() -> list[Event]:
        async with solo_server.client() as client:
            events = [SynthesizeStart().event()]
            events += [SynthesizeChunk(text=piece).event() for piece in text]
            # As Home Assistant does: the whole text again, for servers that do not stream.
            events += [Synthesize(text="".join(text)).event(), SynthesizeStop().event()]
            return await exchange(client, events, {"synthesize-stopped", "error"})

    events = run_async(ask())
    types = [event.type for event in events]
    assert types[-1] == "synthesize-stopped", types
    assert types.count("audio-start") == 2 and types.count("audio-stop") == 2, types
    formats = {(e.data["rate"], e.data["width"], e.data["channels"])
               for e in events if e.type in ("audio-start", "audio-chunk")}  # fmt: skip
    assert formats == {(22_050, 2, 1)}
    first_stop = types.index("audio-stop")
    first = b"".join(e.payload or b"" for e in events[:first_stop] if e.type == "audio-chunk")
    heard = run_async(transcribe(solo_server, first, 22_050))
    assert "paris" in words(Transcript.from_event(heard[-2]).text)
    assert_clean(solo_server)


def test_the_wake_word_is_detected_and_its_absence_said(
    solo_server: SoloServer, speech: Speech
) -> None:
    with_wake = speech.clip(0.5, "Jarvis.", 0.25, QUESTION, 0.5, steady=True).tobytes()
    without = speech.clip(0.5, QUESTION, 0.5, steady=True).tobytes()

    async def listen(pcm: bytes) -> list[Event]:
        async with solo_server.client() as client:
            events = [Detect(names=["jarvis"]).event(), *audio_events(pcm, SAMPLE_RATE)]
            return await exchange(client, events, {"not-detected", "error"}, timeout=60)

    async def heard(pcm: bytes) -> list[Event]:
        async with solo_server.client() as client:
            events = [Detect(names=["jarvis"]).event(), *audio_events(pcm, SAMPLE_RATE)]
            return await exchange(client, events, {"detection", "not-detected", "error"})

    detected = run_async(heard(with_wake))
    assert detected[-1].type == "detection", detected
    detection = Detection.from_event(detected[-1])
    assert detection.name == "jarvis" and 500 <= (detection.timestamp or 0) <= 2_000
    assert [e.type for e in run_async(listen(without))] == ["not-detected"]
    assert_clean(solo_server)


def test_handle_answers_a_conversation_streaming(solo_server: SoloServer) -> None:
    context = {"conversation_id": "kitchen-1"}

    async def ask() -> list[Event]:
        async with solo_server.client() as client:
            event = Transcript(text=QUESTION, context=context).event()
            return await exchange(client, [event], {"handled-stop", "not-handled", "error"})

    events = run_async(ask())
    types = [event.type for event in events]
    assert types[0] == "handled-start" and types[-2:] == ["handled", "handled-stop"], types
    handled = Handled.from_event(events[-2])
    assert "Paris" in (handled.text or ""), handled.text
    assert handled.context == context and events[0].data["context"] == context
    chunks = [HandledChunk.from_event(e).text for e in events if e.type == "handled-chunk"]
    assert len(chunks) >= 2 and "".join(chunks).strip() == handled.text
    assert_clean(solo_server)


def test_intent_is_recognised_by_the_skills_matcher(solo_server: SoloServer) -> None:
    async def ask(text: str) -> list[Event]:
        async with solo_server.client() as client:
            event = Recognize(text=text, context={"conversation_id": "c"}).event()
            return await exchange(client, [event], {"intent", "not-recognized", "error"})

    intent = Intent.from_event(run_async(ask("set a timer for 5 minutes"))[-1])
    assert intent.name == "timer.set"
    assert [(e.name, e.value) for e in intent.entities] == [("duration", 300.0)]
    assert intent.context == {"conversation_id": "c"}
    assert [e.type for e in run_async(ask(QUESTION))] == ["not-recognized"]
    assert_clean(solo_server)


def test_several_clients_are_served_at_once(solo_server: SoloServer, asked: np.ndarray) -> None:
    async def all_at_once() -> list[list[Event]]:
        asks = [transcribe(solo_server, asked.tobytes()) for _ in range(3)]
        return await asyncio.gather(*asks, synthesize(solo_server, "Hello there."))

    *transcripts, (pcm, _rate) = run_async(all_at_once())
    for events in transcripts:
        assert words(Transcript.from_event(events[-2]).text) == words(QUESTION)
    assert pcm
    assert_clean(solo_server)


def test_clients_that_leave_mid_stream_cost_nothing(
    solo_server: SoloServer, asked: np.ndarray
) -> None:
    pcm = asked.tobytes()

    async def leave_midway() -> None:
        for request in (Transcribe(), Detect()):
            async with solo_server.client() as client:
                for event in [request.event(), *audio_events(pcm, SAMPLE_RATE)[:-5]]:
                    await client.write_event(event)
        async with solo_server.client() as client:  # a turn whose client is gone
            await client.write_event(
                Transcript(text="Tell me a long story about a dragon.").event()
            )
            await client.read_event()
        async with solo_server.client() as client:  # a long reply nobody reads to its end
            await client.write_event(Synthesize(text=QUESTION * 4).event())
            await client.read_event()

    run_async(leave_midway())
    events = run_async(transcribe(solo_server, pcm))
    assert words(Transcript.from_event(events[-2]).text) == words(QUESTION)
    assert_clean(solo_server)


async def raw_exchange(server: SoloServer, data: bytes, close_write: bool) -> list[Event]:
    """Send ``data`` as raw bytes; the events the server sent back until it closed."""
    reader, writer = await asyncio.open_connection(server.host, server.port)
    writer.write(data)
    if close_write:
        writer.write_eof()
    received = []
    while (event := await asyncio.wait_for(async_read_event(reader), 30)) is not None:
        received.append(event)
    writer.close()
    return received


@pytest.mark.parametrize(
    ("data", "close_write", "says"),
    [
        (b"this is not json\n", False, "not JSON"),
        (b'["a list"]\n', False, '"type" string'),
        (json.dumps({"type": "transcript", "data_length": 100}).encode() + b'\n{"text": "hi"}',
         True, "announced more"),
        (json.dumps({"type": "audio-chunk", "payload_length": 1 << 30}).encode() + b"\n",
         False, "over the limit"),
    ],
    ids=["malformed-header", "header-not-an-object", "data-length-too-long", "event-too-large"],
)  # fmt: skip
def test_what_is_not_wyoming_gets_an_error_and_the_connection_closes(
    solo_server: SoloServer, data: bytes, close_write: bool, says: str
) -> None:
    events = run_async(raw_exchange(solo_server, data, close_write))
    assert [e.type for e in events] == ["error"], events
    assert says in events[0].data["text"] and events[0].data["code"] == "protocol-error"
    assert_clean(solo_server)


def test_a_peer_that_stops_reading_is_disconnected(solo_server: SoloServer) -> None:
    asks = 4_000
    info_bytes = len(json.dumps(solo_server_info(solo_server)))

    async def flood() -> tuple[int, str]:
        reader, writer = await asyncio.open_connection(solo_server.host, solo_server.port)
        # Info asked for 4,000 times (~10 MB of answers), and none of it read for a while.
        writer.write(b'{"type": "describe"}\n' * asks)
        await asyncio.sleep(5 * WRITE_TIMEOUT)
        received = 0
        try:
            while chunk := await asyncio.wait_for(reader.read(1 << 20), 30):
                received += len(chunk)
        except ConnectionError:
            return received, "reset"
        return received, "closed"

    received, how = run_async(flood())
    # Cut off: what it got is what the buffers held when the server gave up, not it all.
    assert received < asks * info_bytes / 2, (received, how)
    run_async(exchange_ping(solo_server))
    assert_clean(solo_server)


def solo_server_info(server: SoloServer) -> dict[str, object]:
    async def ask() -> list[Event]:
        async with server.client() as client:
            return await exchange(client, [Describe().event()], {"info"})

    return run_async(ask())[-1].data


async def exchange_ping(server: SoloServer) -> None:
    async with server.client() as client:
        await exchange(client, [Ping().event()], {"pong"})
