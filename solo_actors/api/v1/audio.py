"""``POST /v1/audio/transcriptions`` and ``POST /v1/audio/speech``: stt and tts over HTTP.

Transcription takes OpenAI's multipart form. The ``file`` part is read in chunks into a
spooled temporary file (in memory up to ``api.openai.upload_memory_bytes``, then on disk)
and refused with 413 past ``api.openai.max_upload_bytes``; this route alone is exempt from
the API's JSON body limit. PyAV (FFmpeg, already under faster-whisper) decodes it, WAV,
FLAC, MP3 or anything else FFmpeg reads, and resamples it to the 16 kHz mono int16 the stt
actor takes in a `TranscribeAudio` ask. Decoded audio is bounded too: 16 kHz int16 is
32,000 bytes a second, and a long low-bitrate MP3 would otherwise grow without limit.

Speech asks tts for a `SynthesizeSpeech`, with OpenAI's voice name mapped to a Solo voice
(``api.openai.voices``, data), and encodes the samples: WAV with the standard library, raw
``pcm`` as OpenAI sends it (24 kHz, 16-bit little-endian, mono), and MP3, FLAC, Opus and
AAC with PyAV.
"""

from __future__ import annotations

import asyncio
import functools
import io
import itertools
import tempfile
import wave
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO, Annotated, Any, Literal

import av
import msgspec
import numpy as np
from aiohttp import BodyPartReader, web
from aiohttp.http_exceptions import HttpProcessingError

import supervisors
from solo_actors.api.common import decode_body, in_thread, json_response, state_of
from solo_actors.api.state import ApiError, ApiState
from solo_actors.api.v1.errors import invalid
from solo_actors.api.v1.models import check_model
from solo_actors.messages import (
    AudioTranscribed,
    SpeechSynthesized,
    SynthesizeSpeech,
    TranscribeAudio,
    VoiceRequestFailed,
)
from solo_actors.names import STT, TTS

STT_RATE = 16_000
MAX_AUDIO_SECONDS = 3 * 3600
"""Decoded audio longer than this is refused: 3 h of 16 kHz int16 is 346 MB."""
PCM_RATE = 24_000
"""OpenAI's ``pcm`` response format: 24 kHz, 16-bit little-endian, mono."""
CHUNK = 64 * 1024
FIELD_LIMIT = 4_096
"""The longest text field of the form (model, prompt, language ...)."""
FORM_OVERHEAD = 64 * 1024
"""What a form may hold besides its file: the other fields and the part headers."""
TRANSCRIPTION_FORMATS = ("json", "text", "verbose_json")

TRANSCRIPTION_FORM: dict[str, Any] = {
    "type": "object",
    "required": ["file", "model"],
    "properties": {
        "file": {"type": "string", "format": "binary",
                 "description": "the recording: WAV, FLAC, MP3 (anything FFmpeg decodes)"},
        "model": {"type": "string", "description": "whisper-1, or Solo's stt model id"},
        "response_format": {"type": "string", "enum": list(TRANSCRIPTION_FORMATS)},
        "language": {"type": "string"},
        "prompt": {"type": "string", "description": "accepted, not used"},
        "temperature": {"type": "number", "description": "accepted, not used"},
    },
}  # fmt: skip
"""The OpenAPI schema of the multipart form."""


@dataclass
class Form:
    """The form's fields once read; ``file`` is spooled, not held as bytes."""

    file: IO[bytes] | None = None
    size: int = 0
    fields: dict[str, str] = field(default_factory=dict)


def upload_limit(state: ApiState) -> int:
    """The largest request body the transcription route takes (file plus form)."""
    return state.config.api.openai.max_upload_bytes + FORM_OVERHEAD


def too_large(limit: int) -> ApiError:
    return invalid(f"the audio file is larger than {limit} bytes "
                   "(api.openai.max_upload_bytes); send a shorter or more compressed recording",
                   param="file", code="file_too_large", status=413)  # fmt: skip


async def read_form(request: web.Request, state: ApiState) -> Form:
    settings = state.config.api.openai
    try:
        reader = await request.multipart()
    except (AssertionError, ValueError) as error:
        raise invalid(f"the body is not a multipart form: {error}") from None
    form = Form()
    try:
        while (part := await reader.next()) is not None:
            if not isinstance(part, BodyPartReader):
                raise invalid("nested multipart parts are not supported")
            if part.name == "file":
                # Closed by the caller once decoded (or below, on an error).
                spool = tempfile.SpooledTemporaryFile(max_size=settings.upload_memory_bytes)  # noqa: SIM115
                form.file = spool
                while chunk := await part.read_chunk(CHUNK):
                    form.size += len(chunk)
                    if form.size > settings.max_upload_bytes:
                        raise too_large(settings.max_upload_bytes)
                    spool.write(chunk)
                spool.seek(0)
            elif part.name:
                value = bytearray()
                while chunk := await part.read_chunk(CHUNK):
                    value += chunk
                    if len(value) > FIELD_LIMIT:
                        raise invalid(f"form field {part.name!r} is longer than {FIELD_LIMIT} "
                                      "bytes", param=part.name)  # fmt: skip
                form.fields[part.name] = value.decode("utf-8", "replace")
    except (HttpProcessingError, ValueError) as error:
        # Malformed part headers or boundaries: the client's form, not a server fault.
        if form.file is not None:
            form.file.close()
        raise invalid(f"the multipart form is malformed: {error}") from None
    except BaseException:
        if form.file is not None:
            form.file.close()
        raise
    return form


def decode_audio(source: IO[bytes], max_seconds: float = MAX_AUDIO_SECONDS) -> bytes:
    """16 kHz mono int16 samples of the recording in ``source`` (400 when FFmpeg can't
    read it, 413 past ``max_seconds``)."""
    limit = int(max_seconds * STT_RATE) * 2
    chunks: list[bytes] = []
    size = 0
    try:
        with av.open(source, mode="r") as container:
            if not container.streams.audio:
                raise invalid("the file holds no audio stream", param="file")
            resampler = av.AudioResampler(format="s16", layout="mono", rate=STT_RATE)
            frames = container.decode(container.streams.audio[0])
            for frame in itertools.chain(frames, [None]):
                for out in resampler.resample(frame):
                    data = out.to_ndarray().tobytes()
                    size += len(data)
                    if size > limit:
                        raise invalid(f"the recording is longer than {max_seconds:g} s",
                                      param="file", status=413)  # fmt: skip
                    chunks.append(data)
    except av.FFmpegError as error:
        raise invalid(f"the file could not be decoded as audio ({error}); send WAV, FLAC or "
                      "MP3", param="file", code="invalid_audio") from None  # fmt: skip
    return b"".join(chunks)


async def transcriptions(request: web.Request) -> web.StreamResponse:
    state = state_of(request)
    form = await read_form(request, state)
    try:
        fields = form.fields
        if "model" not in fields:
            raise invalid("the form has no `model` field (e.g. whisper-1)", param="model")
        await check_model(state, fields["model"], "stt")
        response_format = fields.get("response_format", "json")
        if response_format not in TRANSCRIPTION_FORMATS:
            raise invalid(f"response_format {response_format!r} is not supported; use one of "
                          f"{', '.join(TRANSCRIPTION_FORMATS)}",
                          param="response_format")  # fmt: skip
        language = state.config.voice.stt.language
        if fields.get("language", language) not in (language, ""):
            raise invalid(f"this Solo transcribes {language!r} only (voice.stt.language); "
                          "leave `language` out or send it", param="language")  # fmt: skip
        if form.file is None:
            raise invalid("the form has no `file` part: send the recording as `file`",
                          param="file")  # fmt: skip
        if form.size == 0:
            raise invalid("the audio file is empty (0 bytes)", param="file", code="empty_file")
        pcm = await asyncio.to_thread(decode_audio, form.file)
    finally:
        if form.file is not None:
            form.file.close()
    if not pcm:
        raise invalid("the audio file holds no samples", param="file", code="empty_file")
    answer = await ask_voice(state, STT, TranscribeAudio(pcm=pcm), "speech recognition")
    assert isinstance(answer, AudioTranscribed)
    if response_format == "text":
        return web.Response(text=answer.text + "\n", content_type="text/plain")
    if response_format == "json":
        return json_response({"text": answer.text})
    return json_response({
        "task": "transcribe", "language": answer.language, "duration": answer.seconds,
        "text": answer.text,
        # One segment: the stt actor transcribes the recording as one utterance.
        "segments": [{"id": 0, "seek": 0, "start": 0.0, "end": answer.seconds,
                      "text": answer.text, "tokens": [], "temperature": 0.0}],
    })  # fmt: skip


async def ask_voice(state: ApiState, name: str, message: Any, what: str) -> Any:
    """Ask stt or tts; a `VoiceRequestFailed` is the request's fault (400), or the engine's
    (503: its remote service is down)."""
    timeout = state.config.api.openai.audio_timeout
    answer = await in_thread(lambda: supervisors.ask(name, message, timeout=timeout),
                             timeout + 1, f"{what} ({name})")  # fmt: skip
    if isinstance(answer, VoiceRequestFailed):
        if answer.unavailable:
            raise invalid(answer.message, code="engine_unavailable", status=503)
        raise invalid(answer.message)
    return answer


SpeechFormat = Literal["wav", "pcm", "mp3", "flac", "opus", "aac"]


class SpeechBody(msgspec.Struct, frozen=True, kw_only=True):
    """What Solo reads of OpenAI's speech request; other fields are ignored."""

    model: Annotated[str, msgspec.Meta(min_length=1)]
    input: Annotated[str, msgspec.Meta(min_length=1)]
    voice: Annotated[str, msgspec.Meta(min_length=1)]
    response_format: SpeechFormat = "mp3"
    speed: Annotated[float, msgspec.Meta(ge=0.25, le=4.0)] = 1.0


def wav_bytes(samples: np.ndarray, rate: int) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(samples.astype("<i2").tobytes())
    return buffer.getvalue()


CODECS: dict[str, tuple[str, str, int | None]] = {
    "mp3": ("mp3", "libmp3lame", None), "flac": ("flac", "flac", None),
    "opus": ("ogg", "libopus", 48_000), "aac": ("adts", "aac", None),
}  # fmt: skip
"""Response format -> (container, encoder, sample rate it needs; None: the voice's)."""

MEDIA_TYPES = {"wav": "audio/wav", "pcm": "audio/pcm", "mp3": "audio/mpeg", "flac": "audio/flac",
               "opus": "audio/ogg", "aac": "audio/aac"}  # fmt: skip


def resampled(samples: np.ndarray, rate: int, target: int) -> np.ndarray:
    frame = av.AudioFrame.from_ndarray(samples.reshape(1, -1), format="s16", layout="mono")
    frame.sample_rate = rate
    resampler = av.AudioResampler(format="s16", layout="mono", rate=target)
    outs = [*resampler.resample(frame), *resampler.resample(None)]
    return np.concatenate([out.to_ndarray().reshape(-1) for out in outs]) if outs else samples


def encoded(samples: np.ndarray, rate: int, kind: str) -> bytes:
    container_format, codec, codec_rate = CODECS[kind]
    buffer = io.BytesIO()
    with av.open(buffer, "w", format=container_format) as out:
        # An audio codec's stream (PyAV types add_stream for every kind of stream).
        stream: Any = out.add_stream(codec, rate=codec_rate or rate, layout="mono")
        frame = av.AudioFrame.from_ndarray(samples.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = rate
        resampler = av.AudioResampler(format=stream.codec_context.format, layout="mono",
                                      rate=codec_rate or rate)  # fmt: skip
        for piece in [*resampler.resample(frame), *resampler.resample(None), None]:
            for packet in stream.encode(piece):
                out.mux(packet)
    return buffer.getvalue()


ENCODERS: dict[str, Callable[[np.ndarray, int], bytes]] = {
    "wav": wav_bytes,
    "pcm": lambda samples, rate: resampled(samples, rate, PCM_RATE).astype("<i2").tobytes(),
    **{kind: functools.partial(encoded, kind=kind) for kind in CODECS},
}


def solo_voice(state: ApiState, voice: str) -> str:
    """The Solo voice an OpenAI voice name maps to; a Solo voice id passes as it is."""
    voices = state.config.api.openai.voices
    if voice in voices:
        return voices[voice]
    if voice in voices.values() or voice == state.config.voice.tts.voice:
        return voice
    raise invalid(f"unknown voice {voice!r}; use one of {', '.join(sorted(voices))} "
                  "(api.openai.voices maps them to Solo's voices)", param="voice")  # fmt: skip


async def speech(request: web.Request) -> web.Response:
    state = state_of(request)
    body = await decode_body(request, SpeechBody)
    await check_model(state, body.model, "tts")
    limit = state.config.api.openai.max_speech_chars
    if len(body.input) > limit:
        raise invalid(f"input is {len(body.input)} characters; the limit is {limit} "
                      "(api.openai.max_speech_chars)", param="input")  # fmt: skip
    message = SynthesizeSpeech(text=body.input, voice=solo_voice(state, body.voice),
                               speed=body.speed)  # fmt: skip
    answer = await ask_voice(state, TTS, message, "speech synthesis")
    assert isinstance(answer, SpeechSynthesized)
    samples = np.frombuffer(answer.pcm, dtype=np.int16)
    audio = await asyncio.to_thread(ENCODERS[body.response_format], samples, answer.sample_rate)
    return web.Response(body=audio, content_type=MEDIA_TYPES[body.response_format])
