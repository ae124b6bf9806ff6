"""The /v1 routes with the official `openai` client against a running Solo (real models).

Chat (plain and streamed, every chunk parsed by the client), transcription of Piper-made
speech in WAV, FLAC and MP3, speech that Solo's own stt hears back, embeddings, the models
list, and a bad key raised as the client's own AuthenticationError. The bad-input cases are
in test_openai_bad_input.py.
"""

from __future__ import annotations

import base64
import difflib
import io
import wave
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import av
import numpy as np
import openai
import pytest
from piper import SynthesisConfig

from solo_actors.config import load_config
from solo_actors.voice.tts import load_voice, voice_path
from tests.api.apikit import RunningApi, running_assistant

QUESTION = "What is the capital of France?"
HEARD = "what is the capital of france"
MODEL = "smollm2-135m-instruct-q4_1"
"""The test profile's llm."""


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApi]:
    yield from running_assistant(tmp_path_factory.mktemp("openai") / "var")


def client_for(api: RunningApi, token: str) -> openai.OpenAI:
    # No retries: a refusal must reach the test as it was answered.
    return openai.OpenAI(base_url=api.url + "/v1", api_key=token, max_retries=0, timeout=150)


@pytest.fixture(scope="module")
def client(api: RunningApi) -> openai.OpenAI:
    return client_for(api, api.tokens["control"])


def words(text: str) -> str:
    return " ".join("".join(c for c in text.lower() if c.isalnum() or c.isspace()).split())


def hears_the_question(text: str) -> bool:
    """Whether a transcript holds the question, all but at most one word of it in order:
    Piper samples its speech (noise_scale), so whisper-tiny now and then hears one word
    otherwise ("the capital of friends"); a garbled or empty transcript still fails."""
    said, heard = HEARD.split(), words(text).split()
    matcher = difflib.SequenceMatcher(a=said, b=heard, autojunk=False)
    return sum(block.size for block in matcher.get_matching_blocks()) >= len(said) - 1


@pytest.fixture(scope="module")
def question_audio() -> tuple[np.ndarray, int]:
    """The question said by the catalog's Piper voice at its own rate (22,050 Hz): the
    route must resample it. Noise off, so every session hears the same rendition."""
    config = load_config("test", environ={})
    voice = load_voice(voice_path(config), config.voice.tts.threads)
    settings = SynthesisConfig(noise_scale=0.0, noise_w_scale=0.0)
    samples = np.concatenate([c.audio_int16_array for c in voice.synthesize(QUESTION, settings)])
    pad = np.zeros(voice.config.sample_rate // 2, np.int16)
    return np.concatenate([pad, samples, pad]), voice.config.sample_rate


def wav_file(samples: np.ndarray, rate: int) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(samples.astype("<i2").tobytes())
    return buffer.getvalue()


def compressed_file(samples: np.ndarray, rate: int, container: str, codec: str) -> bytes:
    """FLAC or MP3 made with PyAV (FFmpeg's encoders)."""
    buffer = io.BytesIO()
    with av.open(buffer, "w", format=container) as out:
        stream = out.add_stream(codec, rate=rate, layout="mono")
        frame = av.AudioFrame.from_ndarray(samples.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = rate
        resampler = av.AudioResampler(format=stream.codec_context.format, layout="mono", rate=rate)
        for piece in [*resampler.resample(frame), *resampler.resample(None), None]:
            for packet in stream.encode(piece):
                out.mux(packet)
    return buffer.getvalue()


# -- models ----------------------------------------------------------------------------------


def test_models_lists_the_models_on_disk(client: openai.OpenAI) -> None:
    listed = {model.id: model for model in client.models.list()}
    assert MODEL in listed, listed
    assert {"whisper-tiny.en", "piper-en_US-joe-medium", "minilm-l6-v2-int8"} <= set(listed)
    assert listed[MODEL].owned_by == "solo"
    assert client.models.retrieve(MODEL).id == MODEL


# -- chat ------------------------------------------------------------------------------------


def test_chat_answers_with_usage(client: openai.OpenAI) -> None:
    answer = client.chat.completions.create(
        model=MODEL, temperature=0, max_tokens=24,
        messages=[{"role": "system", "content": "You answer in one short sentence."},
                  {"role": "user", "content": QUESTION}],
    )  # fmt: skip
    choice = answer.choices[0]
    assert choice.message.role == "assistant"
    assert choice.message.content, answer
    assert choice.finish_reason in ("stop", "length")
    assert answer.model == MODEL and answer.object == "chat.completion"
    assert answer.usage is not None
    assert answer.usage.prompt_tokens > 10
    assert answer.usage.completion_tokens > 0
    assert answer.usage.total_tokens == answer.usage.prompt_tokens + answer.usage.completion_tokens


def test_chat_streams_chunks_the_client_parses(client: openai.OpenAI) -> None:
    stream = client.chat.completions.create(
        model=MODEL, temperature=0.7, seed=11, max_tokens=24, stream=True,
        stream_options={"include_usage": True},
        messages=[{"role": "user", "content": "Tell me about the sea."}],
    )  # fmt: skip
    chunks = list(stream)  # the client parses every chunk, or raises
    assert len(chunks) >= 4, chunks
    assert chunks[0].choices[0].delta.role == "assistant"
    with_choices = [chunk for chunk in chunks if chunk.choices]
    pieces = [chunk.choices[0].delta.content or "" for chunk in with_choices]
    assert len([piece for piece in pieces if piece]) >= 2, "one token per chunk expected"
    assert "".join(pieces).strip()
    reasons = [chunk.choices[0].finish_reason for chunk in with_choices]
    assert reasons[-1] in ("stop", "length") and not any(reasons[:-1])
    assert not chunks[-1].choices and chunks[-1].usage is not None, "usage comes last"
    assert chunks[-1].usage.completion_tokens >= len([p for p in pieces if p]) - 1
    assert len({chunk.id for chunk in chunks}) == 1


def test_the_same_request_streamed_or_not_gives_the_same_text(client: openai.OpenAI) -> None:
    request = {"model": MODEL, "temperature": 0, "max_tokens": 16,
               "messages": [{"role": "user", "content": "Name a colour."}]}  # fmt: skip
    plain = client.chat.completions.create(**request)
    streamed = client.chat.completions.create(**request, stream=True)
    text = "".join(chunk.choices[0].delta.content or "" for chunk in streamed if chunk.choices)
    assert text == plain.choices[0].message.content


def test_every_role_is_read(client: openai.OpenAI) -> None:
    """system, developer, user, assistant and tool messages all reach the prompt."""
    system = [{"role": "system", "content": "Be brief."},
              {"role": "developer", "content": "Answer in English."}]  # fmt: skip
    question = {"role": "user", "content": [{"type": "text", "text": "So, what time?"}]}
    answer = client.chat.completions.create(
        model=MODEL, temperature=0, max_tokens=12, top_p=0.9,
        messages=[*system,
                  {"role": "user", "content": "What time is it?"},
                  {"role": "assistant", "content": "Let me check."},
                  {"role": "tool", "tool_call_id": "call_1", "content": "It is 10:42."},
                  question],
    )  # fmt: skip
    shorter = client.chat.completions.create(model=MODEL, temperature=0, max_tokens=12,
                                             messages=[*system, question])  # fmt: skip
    assert answer.choices[0].message.content
    assert answer.usage and shorter.usage
    assert answer.usage.prompt_tokens > shorter.usage.prompt_tokens + 20


def test_max_tokens_ends_with_length(client: openai.OpenAI) -> None:
    answer = client.chat.completions.create(
        model=MODEL, temperature=0, max_completion_tokens=2,
        messages=[{"role": "user", "content": "Write a long story about a dragon."}],
    )  # fmt: skip
    assert answer.choices[0].finish_reason == "length"
    assert answer.usage is not None and answer.usage.completion_tokens <= 2


def test_a_stop_string_ends_the_reply_before_it(client: openai.OpenAI) -> None:
    request = {"model": MODEL, "temperature": 0, "max_tokens": 24,
               "messages": [{"role": "user", "content": "Count from 1 to 10."}]}  # fmt: skip
    whole = client.chat.completions.create(**request).choices[0].message.content or ""
    assert len(whole) > 4, whole
    stop = whole[len(whole) // 2 :][:2]
    cut = client.chat.completions.create(**request, stop=[stop]).choices[0].message.content
    assert cut is not None and stop not in cut and whole.startswith(cut.rstrip())


def test_a_conversation_header_keeps_the_history(client: openai.OpenAI) -> None:
    """With a conversation, the llm holds the history: the second request sends one
    message, and its prompt holds the first exchange too."""
    first_message = [{"role": "user", "content": "My name is Ada."}]
    later = [{"role": "user", "content": "What is my name?"}]

    def ask(messages: list[dict[str, str]], **extra: Any) -> Any:
        return client.chat.completions.create(model=MODEL, temperature=0, max_tokens=12,
                                              messages=messages, **extra)  # fmt: skip

    headers = {"X-Solo-Conversation": "openai-test-history"}
    first = ask(first_message, extra_headers=headers)
    second = ask(later, extra_headers=headers)
    alone = ask(later)
    assert first.usage and second.usage and alone.usage
    assert second.usage.prompt_tokens > alone.usage.prompt_tokens + first.usage.completion_tokens
    # Stateless: the messages sent are the whole context, so the client's history counts.
    reply = {"role": "assistant", "content": first.choices[0].message.content or ""}
    replayed = ask([*first_message, reply, *later])
    assert replayed.usage is not None
    assert replayed.usage.prompt_tokens == second.usage.prompt_tokens


# -- audio -----------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["wav", "flac", "mp3"])
def test_transcription_of_piper_speech(client: openai.OpenAI, kind: str,
                                       question_audio: tuple[np.ndarray, int]) -> None:  # fmt: skip
    samples, rate = question_audio
    data = {
        "wav": lambda: wav_file(samples, rate),
        "flac": lambda: compressed_file(samples, rate, "flac", "flac"),
        "mp3": lambda: compressed_file(samples, rate, "mp3", "libmp3lame"),
    }[kind]()
    if kind == "wav":
        assert len(data) > 65_536, "more than the JSON body limit, which must not apply"
    text = client.audio.transcriptions.create(model="whisper-1", file=(f"q.{kind}", data))
    assert hears_the_question(text.text), text


def test_transcription_formats(client: openai.OpenAI,
                               question_audio: tuple[np.ndarray, int]) -> None:  # fmt: skip
    data = wav_file(*question_audio)
    plain = client.audio.transcriptions.create(model="whisper-tiny.en", file=("q.wav", data),
                                               response_format="text")  # fmt: skip
    assert hears_the_question(plain), plain
    verbose = client.audio.transcriptions.create(model="whisper-1", file=("q.wav", data),
                                                 response_format="verbose_json")  # fmt: skip
    assert hears_the_question(verbose.text), verbose.text
    assert verbose.language == "en"
    samples, rate = question_audio
    assert verbose.duration == pytest.approx(len(samples) / rate, abs=0.1)


def test_speech_is_heard_back_by_solo(client: openai.OpenAI) -> None:
    speech = client.audio.speech.create(model="tts-1", voice="nova", input=QUESTION,
                                        response_format="wav")  # fmt: skip
    audio = speech.read()
    with wave.open(io.BytesIO(audio)) as heard:
        assert heard.getnchannels() == 1 and heard.getsampwidth() == 2
        assert heard.getnframes() > heard.getframerate()  # more than a second of speech
    text = client.audio.transcriptions.create(model="whisper-1", file=("s.wav", audio))
    assert hears_the_question(text.text), text


def test_speech_as_pcm_is_24_khz(client: openai.OpenAI) -> None:
    pcm = client.audio.speech.create(model="tts-1", voice="alloy", input=QUESTION,
                                     response_format="pcm").read()  # fmt: skip
    assert len(pcm) % 2 == 0
    samples = np.frombuffer(pcm, dtype="<i2")
    wav = wav_file(samples, 24_000)
    text = client.audio.transcriptions.create(model="whisper-1", file=("p.wav", wav))
    assert hears_the_question(text.text), text


def test_speech_as_mp3(client: openai.OpenAI, tmp_path: Path) -> None:
    path = tmp_path / "s.mp3"
    client.audio.speech.create(model="tts-1", voice="echo", input="Hello there.").write_to_file(
        path
    )  # the default format is mp3, as OpenAI's
    with av.open(str(path)) as container:
        assert container.format.name == "mp3"
        assert sum(frame.samples for frame in container.decode(audio=0)) > 10_000


# -- embeddings ------------------------------------------------------------------------------


def test_embeddings_of_three_texts(client: openai.OpenAI) -> None:
    texts = ["The cat sat on the mat.", "A kitten rested on the rug.", "Stock prices fell."]
    answer = client.embeddings.create(model="text-embedding-3-small", input=texts)
    vectors = np.array([item.embedding for item in answer.data])
    assert vectors.shape == (3, 384)
    assert [item.index for item in answer.data] == [0, 1, 2]
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-3)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2]
    assert answer.usage.prompt_tokens > 10
    floats = client.embeddings.create(model="minilm-l6-v2-int8", input=texts,
                                      encoding_format="float")  # fmt: skip
    assert np.allclose(np.array([item.embedding for item in floats.data]), vectors, atol=1e-6)
    single = client.embeddings.create(model="minilm-l6-v2-int8", input=texts[0])
    assert np.allclose(single.data[0].embedding, vectors[0], atol=1e-5)


def test_base64_embeddings_are_float32(api: RunningApi) -> None:
    answer = api.post("/v1/embeddings", scope="control",
                      json={"model": "minilm-l6-v2-int8", "input": "hello",
                            "encoding_format": "base64"}).json()  # fmt: skip
    vector = np.frombuffer(base64.b64decode(answer["data"][0]["embedding"]), dtype="<f4")
    assert vector.shape == (384,)


# -- auth ------------------------------------------------------------------------------------


def test_a_bad_key_is_the_clients_authentication_error(api: RunningApi) -> None:
    with pytest.raises(openai.AuthenticationError) as raised:
        client_for(api, "solo_not-a-real-token").models.list()
    assert raised.value.status_code == 401
    assert isinstance(raised.value.body, dict)
    assert set(raised.value.body) == {"message", "type", "param", "code"}
    assert "token" in raised.value.body["message"]


def test_a_read_token_cannot_chat(api: RunningApi) -> None:
    reader = client_for(api, api.tokens["read"])
    assert any(model.id == MODEL for model in reader.models.list())
    with pytest.raises(openai.PermissionDeniedError) as raised:
        reader.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "hi"}])
    assert "control" in str(raised.value)
