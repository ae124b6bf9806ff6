"""Bad input to the /v1 routes: each a clear 4xx in OpenAI's error shape, raised by the
official client as its own exception type, and the assistant keeps answering afterwards.
A failing llm (stopped, or restarted mid-reply) fails the request at once with 503."""

from __future__ import annotations

import io
import time
import wave
from collections.abc import Iterator
from typing import Any

import openai
import pytest

from tests.api.apikit import RunningApi, running_assistant

MODEL = "smollm2-135m-instruct-q4_1"
HELLO = [{"role": "user", "content": "Hello."}]
UPLOAD_LIMIT = 1_000_000


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApi]:
    # A 1 MB upload limit: a refused upload then fits the socket buffers, so the client has
    # sent it all and reads the 413 (with 25 MB it could still be writing when refused).
    yield from running_assistant(
        tmp_path_factory.mktemp("openai-bad") / "var", {"api.openai.max_upload_bytes": UPLOAD_LIMIT}
    )


@pytest.fixture(scope="module")
def client(api: RunningApi) -> openai.OpenAI:
    return openai.OpenAI(base_url=api.url + "/v1", api_key=api.tokens["control"],
                         max_retries=0, timeout=150)  # fmt: skip


def openai_error(raised: pytest.ExceptionInfo[openai.APIStatusError]) -> dict[str, Any]:
    """The error object of a refusal, checked to have OpenAI's four fields."""
    body = raised.value.body
    assert isinstance(body, dict) and set(body) == {"message", "type", "param", "code"}, body
    assert body["message"], body
    return body


def test_an_unknown_model_is_not_found(client: openai.OpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as raised:
        client.chat.completions.create(model="gpt-9-imaginary", messages=HELLO)
    error = openai_error(raised)
    assert error["code"] == "model_not_found" and error["param"] == "model"
    assert "GET /v1/models" in error["message"]
    with pytest.raises(openai.NotFoundError):
        client.models.retrieve("gpt-9-imaginary")


def test_a_model_on_disk_that_the_llm_does_not_serve(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as raised:
        client.chat.completions.create(model="qwen2.5-coder-0.5b-instruct-q4_k_m",
                                       messages=HELLO)  # fmt: skip
    assert MODEL in openai_error(raised)["message"]


def test_more_than_one_choice_is_refused(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as raised:
        client.chat.completions.create(model=MODEL, messages=HELLO, n=2)
    error = openai_error(raised)
    assert error["param"] == "n" and error["type"] == "invalid_request_error"


def test_an_empty_message_list_is_refused(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as raised:
        client.chat.completions.create(model=MODEL, messages=[])
    assert openai_error(raised)["param"] == "messages"


def test_an_image_part_is_refused_naming_where_it_is(client: openai.OpenAI) -> None:
    image = {"url": "data:image/png;base64,iVBORw0KGgo="}
    content = [{"type": "text", "text": "What is in this picture?"},
               {"type": "image_url", "image_url": image}]  # fmt: skip
    with pytest.raises(openai.BadRequestError) as raised:
        client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": content}])
    error = openai_error(raised)
    assert error["param"] == "messages[0].content[1]" and "image_url" in error["message"]


TOOL = {"type": "function", "function": {"name": "get_time", "parameters": {}}}
CALL = {"id": "call_1", "type": "function", "function": {"name": "get_time", "arguments": "{}"}}


def test_tools_to_a_model_without_function_calling_are_refused(client: openai.OpenAI) -> None:
    # The test profile's SmolLM2 has a chat template that renders no tools.
    with pytest.raises(openai.BadRequestError) as raised:
        client.chat.completions.create(model=MODEL, messages=HELLO, tools=[TOOL])
    error = openai_error(raised)
    assert "has no function calling" in error["message"] and MODEL in error["message"]
    assert (error["param"], error["code"]) == ("tools", "tools_not_supported")
    # "none" offers no tools: answered as without them.
    reply = client.chat.completions.create(model=MODEL, messages=HELLO, tools=[TOOL],
                                           tool_choice="none", max_tokens=8)  # fmt: skip
    assert reply.choices[0].message.content


@pytest.mark.parametrize(
    ("messages", "tools", "choice", "param", "words"),
    [
        ([*HELLO, {"role": "assistant", "content": None, "tool_calls": [
            {"type": "function", "function": {"name": "get_time", "arguments": "{}"}}]},
          {"role": "tool", "tool_call_id": "call_1", "content": "noon"}],
         [TOOL], None, "messages[1].tool_calls[0].id", "answer calls by id"),
        ([*HELLO, {"role": "assistant", "content": None, "tool_calls": [
            {**CALL, "function": {"name": "get_time", "arguments": "{not json"}}]},
          {"role": "tool", "tool_call_id": "call_1", "content": "noon"}],
         [TOOL], None, "messages[1].tool_calls[0].function.arguments", "not JSON"),
        (HELLO, [TOOL], {"type": "function", "function": {"name": "get_date"}},
         "tool_choice", "'get_date', which is not in `tools`"),
        (HELLO, None, "required", "tool_choice", "has no `tools`"),
        (HELLO, [TOOL], "sometimes", "tool_choice", "is not"),
        (HELLO, [{"type": "function", "function": {"name": "get time"}}], None,
         "tools[0].function.name", "letters, digits"),
        (HELLO, [{"type": "retrieval"}], None, "tools[0]", "functions are the only tools"),
    ],
)  # fmt: skip
def test_bad_tools_and_tool_messages_are_refused_naming_the_field(
    client: openai.OpenAI, messages: Any, tools: Any, choice: Any, param: str, words: str
) -> None:
    extra = {"tools": tools} if tools is not None else {}
    if choice is not None:
        extra["tool_choice"] = choice
    with pytest.raises(openai.BadRequestError) as raised:
        client.chat.completions.create(model=MODEL, messages=messages, **extra)
    error = openai_error(raised)
    assert error["param"] == param and words in error["message"], error


def test_the_last_message_must_be_the_users_or_a_tools(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as raised:
        client.chat.completions.create(
            model=MODEL,
            messages=[*HELLO, {"role": "assistant", "content": "Hi!"}],
        )
    assert 'role "user"' in openai_error(raised)["message"]


def test_bad_sampling_values_are_refused(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as raised:
        client.chat.completions.create(model=MODEL, messages=HELLO, temperature=7)
    assert "temperature" in openai_error(raised)["message"]
    with pytest.raises(openai.BadRequestError) as raised:
        client.chat.completions.create(model=MODEL, messages=HELLO, max_tokens=5000)
    assert "max_tokens" in openai_error(raised)["message"]


def test_a_zero_byte_audio_file_is_refused(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as raised:
        client.audio.transcriptions.create(model="whisper-1", file=("empty.wav", b""))
    error = openai_error(raised)
    assert error["param"] == "file" and error["code"] == "empty_file"


def test_a_file_that_is_not_audio_is_refused(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as raised:
        notes = b"these are not audio " * 50
        client.audio.transcriptions.create(model="whisper-1", file=("notes.mp3", notes))
    error = openai_error(raised)
    assert error["code"] == "invalid_audio" and "WAV, FLAC or MP3" in error["message"]


def test_an_unsupported_transcription_format_is_refused(client: openai.OpenAI) -> None:
    silence = io.BytesIO()
    with wave.open(silence, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(16_000)
        out.writeframes(b"\0\0" * 1600)
    with pytest.raises(openai.BadRequestError) as raised:
        client.audio.transcriptions.create(model="whisper-1", file=("s.wav", silence.getvalue()),
                                           response_format="srt")  # fmt: skip
    assert openai_error(raised)["param"] == "response_format"


def test_an_upload_over_the_limit_is_413(api: RunningApi) -> None:
    assert api.config.api.openai.max_upload_bytes == UPLOAD_LIMIT
    response = api.post("/v1/audio/transcriptions", scope="control",
                        files={"model": (None, "whisper-1"),
                               "file": ("big.wav", b"\0" * (UPLOAD_LIMIT + 100_000))})  # fmt: skip
    assert response.status_code == 413, response.text
    error = response.json()["error"]
    assert error["param"] == "file" and "api.openai.max_upload_bytes" in error["message"]


def test_a_chunked_upload_is_cut_at_the_limit(api: RunningApi) -> None:
    """No Content-Length to check first: the route counts the file's bytes as they come."""
    boundary = "solo-test-boundary"
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"model\"\r\n\r\n"
            f"whisper-1\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
            f"filename=\"big.wav\"\r\nContent-Type: audio/wav\r\n\r\n").encode()  # fmt: skip

    def body() -> Iterator[bytes]:
        yield head
        for _ in range(12):
            yield b"\0" * 100_000
        yield f"\r\n--{boundary}--\r\n".encode()

    form = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
    response = api.post("/v1/audio/transcriptions", scope="control", data=body(), headers=form)
    assert response.status_code == 413, response.text
    assert response.json()["error"]["code"] == "file_too_large"


def test_the_json_body_limit_still_holds_for_chat(api: RunningApi) -> None:
    big = [{"role": "user", "content": "x" * 70_000}]
    response = api.post("/v1/chat/completions", scope="control",
                        json={"model": MODEL, "messages": big})  # fmt: skip
    assert response.status_code == 413
    assert "api.max_body_bytes" in response.json()["error"]["message"]


def test_a_body_that_is_not_json_is_refused_in_openai_shape(api: RunningApi) -> None:
    response = api.post("/v1/embeddings", scope="control", data=b"{not json",
                        headers={"Content-Type": "application/json"})  # fmt: skip
    assert response.status_code == 400
    assert response.json()["error"]["type"] == "invalid_request_error"


def test_an_unknown_voice_is_refused(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as raised:
        client.audio.speech.create(model="tts-1", voice="bob", input="Hi.")
    error = openai_error(raised)
    assert error["param"] == "voice" and "nova" in error["message"]


def test_bad_embedding_inputs_are_refused(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as raised:
        client.embeddings.create(model="text-embedding-3-small", input=[])
    assert openai_error(raised)["param"] == "input"
    with pytest.raises(openai.BadRequestError) as raised:
        client.embeddings.create(model="text-embedding-3-small", input="hi", dimensions=1536)
    assert openai_error(raised)["param"] == "dimensions"
    with pytest.raises(openai.BadRequestError) as raised:
        client.embeddings.create(model="text-embedding-3-small", input=[[1, 2, 3]])
    assert "token arrays" in openai_error(raised)["message"]


def test_a_stopped_llm_is_a_503_and_a_restart_mid_reply_fails_the_stream(
    api: RunningApi, client: openai.OpenAI
) -> None:
    assert api.post("/actors/llm/stop").status_code == 202
    try:
        with pytest.raises(openai.InternalServerError) as raised:
            client.chat.completions.create(model=MODEL, messages=HELLO)
        assert raised.value.status_code == 503
        assert "llm" in openai_error(raised)["message"]
    finally:
        assert api.post("/actors/llm/start").status_code == 202
    api.wait_running("solo/llm", 0)
    stream = client.chat.completions.create(
        model=MODEL, max_tokens=900, temperature=0.8, seed=3, stream=True,
        messages=[{"role": "system", "content": "You write very long texts."},
                  {"role": "user", "content": "Write a very long story about the sea."}],
    )  # fmt: skip
    started = time.monotonic()
    with pytest.raises(openai.APIError) as failed:
        for index, _chunk in enumerate(stream):
            if index == 2:
                assert api.post("/actors/llm/restart").status_code == 202
    assert "llm" in str(failed.value)
    assert time.monotonic() - started < 30


def test_the_assistant_still_answers(client: openai.OpenAI, api: RunningApi) -> None:
    api.wait_running("solo/llm", 1)
    answer = client.chat.completions.create(model=MODEL, messages=HELLO, max_tokens=8)
    assert answer.choices[0].message.content
