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
import json
import re
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
from solo_actors.messages import (
    ChatMessage,
    FunctionCall,
    LLMCancel,
    LLMDone,
    LLMError,
    LLMRequest,
    LLMToken,
    ToolDefinition,
)
from solo_actors.names import LLM_NAME
from solo_actors.runtime.ids import new_id

TurnMessage = LLMToken | LLMDone | LLMError
"""The llm's replies to one request."""
CONVERSATION_HEADER = "X-Solo-Conversation"
MAX_STOPS = 4
SYSTEM_ROLES = ("system", "developer")
TOOL_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")
"""OpenAI's rule for a function's name."""

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


def tools_of(body: ChatBody) -> tuple[list[ToolDefinition] | None, str | None]:
    """The request's own tools as the llm offers them, and the call its ``tool_choice``
    forces (`LLMRequest.force_tool`): "none" offers no tools, "auto" (the default) lets
    the model choose, "required" forces a call of one of them, a named function that one."""
    choice = body.tool_choice
    if isinstance(choice, dict):
        function = choice.get("function")
        name = function.get("name") if isinstance(function, dict) else None
        if choice.get("type") != "function" or not isinstance(name, str):
            raise invalid('tool_choice must be "none", "auto", "required" or {"type": '
                          '"function", "function": {"name": ...}}',
                          param="tool_choice")  # fmt: skip
        forced: str | None = name
    elif choice in (None, "auto", "none"):
        forced = None
    elif choice == "required":
        forced = "*"
    else:
        raise invalid(f'tool_choice {choice!r} is not "none", "auto", "required" or a named '
                      "function", param="tool_choice")  # fmt: skip
    if not body.tools:
        if forced is not None:
            raise invalid("tool_choice asks for a call, but the request has no `tools`",
                          param="tool_choice")  # fmt: skip
        return None, None
    if choice == "none":
        return None, None
    tools = [tool_of(index, entry) for index, entry in enumerate(body.tools)]
    names = [tool.name for tool in tools]
    if len(set(names)) < len(names):
        raise invalid("two tools have the same name: each function name must be unique",
                      param="tools")  # fmt: skip
    if forced not in (None, "*", *names):
        raise invalid(f"tool_choice names the function {forced!r}, which is not in `tools` "
                      f"({', '.join(names)})", param="tool_choice")  # fmt: skip
    return tools, forced


def tool_of(index: int, entry: dict[str, Any]) -> ToolDefinition:
    """One ``tools`` entry: ``{"type": "function", "function": {"name", "description",
    "parameters"}}``."""
    where = f"tools[{index}]"
    function = entry.get("function")
    if entry.get("type") != "function" or not isinstance(function, dict):
        raise invalid(f'{where} must be {{"type": "function", "function": {{...}}}}: '
                      "functions are the only tools", param=where)  # fmt: skip
    name = function.get("name")
    if not isinstance(name, str) or not TOOL_NAME.fullmatch(name):
        raise invalid(f"{where}.function.name must be 1 to 64 letters, digits, _ or -",
                      param=f"{where}.function.name")  # fmt: skip
    description = function.get("description", "")
    parameters = function.get("parameters", {"type": "object", "properties": {}})
    if not isinstance(description, str):
        raise invalid(f"{where}.function.description must be a string",
                      param=f"{where}.function.description")  # fmt: skip
    if not isinstance(parameters, dict):
        raise invalid(f"{where}.function.parameters must be a JSON Schema object",
                      param=f"{where}.function.parameters")  # fmt: skip
    return ToolDefinition(name=name, description=description, parameters=parameters)


def check_request(body: ChatBody) -> None:
    """Refuse what Solo cannot honour, naming the parameter."""
    if body.n not in (None, 1):
        raise invalid(f"n = {body.n} is not supported: Solo writes one choice per request "
                      "(send n = 1 or leave it out)", param="n")  # fmt: skip
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


def calls_of(message: ChatMessageIn, index: int) -> tuple[FunctionCall, ...]:
    """An assistant message's ``tool_calls``, their arguments (a JSON string) parsed."""
    calls = []
    for position, entry in enumerate(message.tool_calls or ()):
        where = f"messages[{index}].tool_calls[{position}]"
        function = entry.get("function")
        call_id = entry.get("id")
        if not isinstance(function, dict) or not isinstance(function.get("name"), str):
            raise invalid(f'{where} must be {{"id", "type": "function", "function": {{"name", '
                          '"arguments"}}', param=where)  # fmt: skip
        if not isinstance(call_id, str) or not call_id:
            raise invalid(f"{where}.id is missing: the tool messages answer calls by id",
                          param=f"{where}.id")  # fmt: skip
        arguments = function.get("arguments") or "{}"
        try:
            parsed = json.loads(arguments) if isinstance(arguments, str) else arguments
        except json.JSONDecodeError as error:
            raise invalid(f"{where}.function.arguments is not JSON ({error})",
                          param=f"{where}.function.arguments") from None  # fmt: skip
        if not isinstance(parsed, dict):
            raise invalid(f"{where}.function.arguments must be a JSON object",
                          param=f"{where}.function.arguments")  # fmt: skip
        calls.append(FunctionCall(call_id=call_id, name=function["name"], arguments=parsed))
    return tuple(calls)


def chat_messages(body: ChatBody) -> tuple[list[str], list[ChatMessage]]:
    """The system prompt's parts, and the other messages as the llm reads them. A tool
    message is taken as sent, as llama.cpp's server and Ollama take it, even when the call
    it answers is not in the history (a client may have trimmed it)."""
    system: list[str] = []
    turns: list[ChatMessage] = []
    for index, message in enumerate(body.messages):
        text = text_of(message, index)
        if message.role in SYSTEM_ROLES:
            system.append(text)
            continue
        calls = calls_of(message, index) if message.role == "assistant" else ()
        turn_call = message.tool_call_id if message.role == "tool" else None
        turns.append(ChatMessage(role=message.role, content=text, tool_calls=calls,
                                 tool_call_id=turn_call))  # fmt: skip
    return system, turns


def llm_request(body: ChatBody, conversation: str | None) -> LLMRequest:
    """The `LLMRequest` for ``body``: system messages joined as the system prompt, the
    last user message as the prompt, the messages before it as its history, and those
    after it (tool calls and their answers: the second leg of function calling) as its
    tool round."""
    system, turns = chat_messages(body)
    users = [index for index, turn in enumerate(turns) if turn.role == "user"]
    if not turns or turns[-1].role not in ("user", "tool") or not users:
        raise invalid('the last message must have role "user" (the turn Solo answers) or '
                      '"tool" (the answers to the calls it made)', param="messages")  # fmt: skip
    last = users[-1]
    if not turns[last].content.strip():
        where = max(i for i, message in enumerate(body.messages) if message.role == "user")
        raise invalid("the last user message is empty: send some text to answer",
                      param=f"messages[{where}].content")  # fmt: skip
    tools, forced = tools_of(body)
    return LLMRequest(
        conversation_id=conversation, prompt=turns[last].content,
        system="\n\n".join(system) if system else None, history=tuple(turns[:last]),
        tool_round=tuple(turns[last + 1 :]), tools=tools, force_tool=forced,
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
        param = "tools" if message.code == "tools_not_supported" else None
        return invalid(message.message, param=param, code=message.code)
    if isinstance(message, LLMDone) and message.finish_reason == "cancelled":
        return ApiError(503, "the reply was cancelled before it ended (the llm was interrupted, "
                        "or is restarting); try again")  # fmt: skip
    return None


def usage(done: LLMDone) -> dict[str, int]:
    return {"prompt_tokens": done.prompt_tokens, "completion_tokens": done.completion_tokens,
            "total_tokens": done.prompt_tokens + done.completion_tokens}  # fmt: skip


def finish_reason(done: LLMDone) -> str:
    if done.finish_reason in ("length", "tool_calls"):
        return done.finish_reason
    return "stop"  # "cancelled" is a failure


def tool_calls(done: LLMDone) -> list[dict[str, Any]]:
    """The calls of the request's tools in OpenAI's shape (the arguments a JSON string)."""
    return [{"id": call.call_id, "type": "function",
             "function": {"name": call.name, "arguments": json.dumps(call.arguments)}}
            for call in done.tool_calls]  # fmt: skip


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
    message: dict[str, Any] = {"role": "assistant", "content": done.text, "refusal": None}
    if done.tool_calls:
        message.update(content=None, tool_calls=tool_calls(done))
    return {
        "id": f"chatcmpl-{request.request_id}", "object": "chat.completion",
        "created": int(time.time()), "model": model, "system_fingerprint": None,
        "choices": [{"index": 0, "logprobs": None, "finish_reason": finish_reason(done),
                     "message": message}],
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

    def delta(content: dict[str, Any], reason: str | None = None) -> list[dict[str, Any]]:
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
                for index, call in enumerate(tool_calls(message)):
                    await send(delta({"tool_calls": [{"index": index, **call}]}))
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
