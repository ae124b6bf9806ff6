"""``POST /v1/chat/completions``: OpenAI's chat API served by the llm actor.

The request becomes one `LLMRequest` told to the llm with the api actor as ``reply_to``;
its `LLMToken`s become the stream's chunks and its `LLMDone` the answer, with token counts.
The llm is monitored while it serves the request, so a crash fails the request at once
(503, or an error chunk once the stream has started) instead of leaving it to its timeout;
a client that goes away mid-stream cancels the generation (`LLMCancel`).

Context: without a conversation the messages sent are the whole context (system messages
become the system prompt; with none, Solo's own ``llm.system_prompt`` applies). With a
conversation, named by the ``X-Solo-Conversation`` header or the ``user`` field, the llm
keeps the history: the last message is the new turn, and the earlier ones only start a
conversation the llm does not hold yet.
"""

from __future__ import annotations

import contextlib
import time
from typing import Annotated, Any, Literal

import msgspec
import pykka
from aiohttp import web

import supervisors
from solo_actors.api.common import (
    CONTROL_CHARACTERS,
    PLAIN_PATTERN,
    busy,
    decode_body,
    json_response,
    state_of,
)
from solo_actors.api.state import ApiError
from solo_actors.api.v1.errors import error_body, invalid
from solo_actors.api.v1.models import check_model
from solo_actors.messages import ChatMessage, LLMCancel, LLMDone, LLMError, LLMRequest, LLMToken
from solo_actors.names import LLM_NAME
from solo_actors.runtime.ids import new_id

TurnMessage = LLMToken | LLMDone | LLMError
"""The llm's replies to one request."""
CONVERSATION_HEADER = "X-Solo-Conversation"
MAX_STOPS = 4
SYSTEM_ROLES = ("system", "developer")

Role = Literal["system", "developer", "user", "assistant", "tool"]
ConversationName = Annotated[
    str, msgspec.Meta(pattern=PLAIN_PATTERN, min_length=1, max_length=256,
                      description="a Solo conversation to continue (no control characters)"),
]  # fmt: skip


class ChatMessageIn(msgspec.Struct, frozen=True, kw_only=True):
    """One message of the request; ``content`` is text or a list of content parts."""

    role: Role
    content: str | list[dict[str, Any]] | None = None
    name: str | None = None
    tool_call_id: str | None = None
    tool_calls: list[dict[str, Any]] | None = None


class StreamOptions(msgspec.Struct, frozen=True, kw_only=True):
    include_usage: bool = False


class ChatBody(msgspec.Struct, frozen=True, kw_only=True):
    """The fields Solo reads; others that OpenAI clients send (penalties, metadata) are
    ignored, and those whose meaning Solo cannot honour are refused by name."""

    model: Annotated[str, msgspec.Meta(min_length=1)]
    messages: list[ChatMessageIn]
    stream: bool = False
    stream_options: StreamOptions | None = None
    max_tokens: Annotated[int, msgspec.Meta(ge=1)] | None = None
    max_completion_tokens: Annotated[int, msgspec.Meta(ge=1)] | None = None
    temperature: Annotated[float, msgspec.Meta(ge=0, le=2)] | None = None
    top_p: Annotated[float, msgspec.Meta(gt=0, le=1)] | None = None
    stop: str | list[str] | None = None
    seed: int | None = None
    n: int | None = None
    user: ConversationName | None = None
    tools: list[dict[str, Any]] | None = None
    tool_choice: str | dict[str, Any] | None = None
    response_format: dict[str, Any] | None = None
    logprobs: bool | None = None


def refuse_tools(body: ChatBody) -> None:
    """Function calling: the llm does not offer it yet, so a request that asks for it is
    refused rather than answered as if no tools had been given."""
    if body.tools or body.tool_choice not in (None, "none", "auto"):
        raise invalid("function calling is not available yet: send the request without "
                      "`tools` and `tool_choice`", param="tools",
                      code="tools_not_supported")  # fmt: skip


def check_request(body: ChatBody) -> None:
    """Refuse what Solo cannot honour, naming the parameter."""
    if body.n not in (None, 1):
        raise invalid(f"n = {body.n} is not supported: Solo writes one choice per request "
                      "(send n = 1 or leave it out)", param="n")  # fmt: skip
    refuse_tools(body)
    if body.response_format is not None and body.response_format.get("type") != "text":
        raise invalid("response_format (JSON mode, structured output) is not supported: "
                      'leave it out or send {"type": "text"}', param="response_format")  # fmt: skip
    if body.logprobs:
        raise invalid("logprobs are not supported: leave `logprobs` out", param="logprobs")
    if not body.messages:
        raise invalid("messages is empty: send at least one message with role \"user\"",
                      param="messages")  # fmt: skip


def stops_of(body: ChatBody) -> tuple[str, ...]:
    stops = [body.stop] if isinstance(body.stop, str) else list(body.stop or ())
    if len(stops) > MAX_STOPS:
        raise invalid(f"stop takes at most {MAX_STOPS} strings, got {len(stops)}", param="stop")
    if any(not stop for stop in stops):
        raise invalid("stop strings must not be empty", param="stop")
    return tuple(stops)


def text_of(message: ChatMessageIn, index: int) -> str:
    """A message's text: its string content, or its text parts joined; any other part
    (an image, audio, a file) is refused, naming where it is."""
    content = message.content
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    texts = []
    for position, part in enumerate(content):
        kind = part.get("type")
        where = f"messages[{index}].content[{position}]"
        if kind != "text":
            raise invalid(f"{where} is a {kind!r} part: Solo's model reads text only; send "
                          "text content parts", param=where,
                          code="unsupported_content")  # fmt: skip
        text = part.get("text")
        if not isinstance(text, str):
            raise invalid(f"{where} has no `text` string", param=where)
        texts.append(text)
    return "".join(texts)


def conversation_of(request: web.Request, body: ChatBody) -> str | None:
    header = request.headers.get(CONVERSATION_HEADER)
    if header is not None:
        if not header.strip() or len(header) > 256 or CONTROL_CHARACTERS.search(header):
            raise invalid(f"the {CONVERSATION_HEADER} header must be 1 to 256 characters, "
                          "not only spaces, without control characters",
                          param=CONVERSATION_HEADER)  # fmt: skip
        return header
    return body.user


def llm_request(body: ChatBody, conversation: str | None) -> LLMRequest:
    """The `LLMRequest` for ``body``: system messages joined as the system prompt, the
    last message as the prompt, the others as its history."""
    system: list[str] = []
    turns: list[ChatMessage] = []
    for index, message in enumerate(body.messages):
        text = text_of(message, index)
        if message.role in SYSTEM_ROLES:
            system.append(text)
        else:
            turns.append(ChatMessage(role=message.role, content=text))
    if not turns or turns[-1].role != "user":
        raise invalid('the last message must have role "user": it is the turn Solo answers',
                      param="messages")  # fmt: skip
    if not turns[-1].content.strip():
        raise invalid("the last user message is empty: send some text to answer",
                      param=f"messages[{len(body.messages) - 1}].content")  # fmt: skip
    return LLMRequest(
        conversation_id=conversation, prompt=turns[-1].content,
        system="\n\n".join(system) if system else None, history=tuple(turns[:-1]),
        turn_id=new_id(), temperature=body.temperature,
        max_tokens=body.max_completion_tokens or body.max_tokens, top_p=body.top_p,
        stop=stops_of(body), seed=body.seed,
    )  # fmt: skip


class Reply:
    """One request's replies from the llm, in order, in an inbox of its own that monitors
    the llm: an llm that dies fails the request at once; each message comes within
    `api.ask_timeout`."""

    def __init__(self, request: LLMRequest, timeout: float) -> None:
        self.box = supervisors.inbox()
        self.request = msgspec.structs.replace(request, reply_to=self.box.name)
        self.timeout = timeout
        self.finished = False

    def start(self) -> None:
        """Watch the llm, then tell it the request (503 when it is not running or busy)."""
        self.box.monitor(LLM_NAME)
        outcome = supervisors.cast(LLM_NAME, self.request)
        if outcome == "busy":
            raise busy("the llm")
        if outcome != "ok":
            raise ApiError(503, "the llm is not running (it may be restarting); see GET /status")

    async def next(self) -> TurnMessage:
        """The next reply message. The llm is monitored, so the timeout is only a backstop
        for one that hangs: it bounds the wait for each message, not the whole reply, which
        may rightly take long on a busy machine."""
        while True:
            try:
                message = await self.box.receive_async(self.timeout)
            except TimeoutError:
                raise ApiError(504, f"no reply within {self.timeout:g} s (api.ask_timeout); "
                               "the model may be busy (GET /status)") from None  # fmt: skip
            except pykka.ActorDeadError as error:
                raise ApiError(503, f"the llm stopped while answering ({error}); it is being "
                               "restarted, try again") from None  # fmt: skip
            if isinstance(message, LLMToken | LLMDone | LLMError):
                return message

    def close(self) -> None:
        """Forget the request; an unfinished one is cancelled (its client went away)."""
        if not self.finished:
            supervisors.cast(LLM_NAME, LLMCancel(request_id=self.request.request_id))
        self.box.close()


def failure(message: TurnMessage) -> ApiError | None:
    """The error a reply message means, if it means one."""
    if isinstance(message, LLMError):
        code = "context_length_exceeded" if "prompt too long" in message.message else None
        return invalid(message.message, code=code)
    if isinstance(message, LLMDone) and message.finish_reason == "cancelled":
        return ApiError(503, "the reply was cancelled before it ended (the llm was interrupted, "
                        "or is restarting); try again")  # fmt: skip
    return None


def usage(done: LLMDone) -> dict[str, int]:
    return {"prompt_tokens": done.prompt_tokens, "completion_tokens": done.completion_tokens,
            "total_tokens": done.prompt_tokens + done.completion_tokens}  # fmt: skip


def finish_reason(done: LLMDone) -> str:
    return "length" if done.finish_reason == "length" else "stop"  # "cancelled" is a failure


async def chat_completions(request: web.Request) -> web.StreamResponse:
    state = state_of(request)
    body = await decode_body(request, ChatBody)
    check_request(body)
    await check_model(state, body.model, "llm")
    conversation = conversation_of(request, body)
    reply = Reply(llm_request(body, conversation), state.config.api.ask_timeout)
    headers = {CONVERSATION_HEADER: conversation} if conversation else {}
    try:
        reply.start()
        if body.stream:
            include_usage = body.stream_options is not None and body.stream_options.include_usage
            return await stream(request, reply, body.model, include_usage, headers)
        while True:
            message = await reply.next()
            if (error := failure(message)) is not None:
                reply.finished = True
                raise error
            if isinstance(message, LLMDone):
                reply.finished = True
                response = json_response(completion(reply.request, body.model, message))
                response.headers.update(headers)
                return response
    finally:
        reply.close()


def completion(request: LLMRequest, model: str, done: LLMDone) -> dict[str, Any]:
    return {
        "id": f"chatcmpl-{request.request_id}", "object": "chat.completion",
        "created": int(time.time()), "model": model, "system_fingerprint": None,
        "choices": [{"index": 0, "logprobs": None, "finish_reason": finish_reason(done),
                     "message": {"role": "assistant", "content": done.text, "refusal": None}}],
        "usage": usage(done),
    }  # fmt: skip


_encoder = msgspec.json.Encoder()


async def stream(request: web.Request, reply: Reply, model: str, include_usage: bool,
                 headers: dict[str, str]) -> web.StreamResponse:  # fmt: skip
    """Server-sent chunks: the role first, a chunk per token, the finish reason, the usage
    when asked for, then ``data: [DONE]``. An error before the first token is an HTTP
    error; after it, an error chunk ends the stream."""
    first = await reply.next()
    if (error := failure(first)) is not None:
        reply.finished = True
        raise error
    base = {"id": f"chatcmpl-{reply.request.request_id}", "object": "chat.completion.chunk",
            "created": int(time.time()), "model": model, "system_fingerprint": None}  # fmt: skip
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream",
                                           "Cache-Control": "no-cache", **headers})  # fmt: skip

    async def send(choices: list[dict[str, Any]], **extra: Any) -> None:
        chunk = {**base, "choices": choices, **({"usage": None} if include_usage else {}), **extra}
        await response.write(b"data: " + _encoder.encode(chunk) + b"\n\n")

    def delta(content: dict[str, str], reason: str | None = None) -> list[dict[str, Any]]:
        return [{"index": 0, "delta": content, "logprobs": None, "finish_reason": reason}]

    message: TurnMessage = first
    with contextlib.suppress(ConnectionResetError):  # the client went away: close() cancels
        await response.prepare(request)
        await send(delta({"role": "assistant", "content": ""}))
        while True:
            if (error := failure(message)) is not None:
                reply.finished = True
                await response.write(b"data: " + _encoder.encode(error_body(error)) + b"\n\n")
                break
            if isinstance(message, LLMDone):
                reply.finished = True
                await send(delta({}, finish_reason(message)))
                if include_usage:
                    await send([], usage=usage(message))
                break
            if isinstance(message, LLMToken) and message.text:
                await send(delta({"content": message.text}))
            try:
                message = await reply.next()
            except ApiError as timeout:
                message = LLMError(request_id=reply.request.request_id, message=timeout.message)
        await response.write(b"data: [DONE]\n\n")
    return response
