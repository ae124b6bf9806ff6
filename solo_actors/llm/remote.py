"""The remote llm engine: replies written by an OpenAI-compatible server (``llm.engine =
"openai"``), with the local model as an optional fallback (docs/openai.md).

`RemoteLLMActor` is registered under the llm's name and answers the messages the local
`LLMActor` answers (`LLMRequest`, `LLMPrefill`, `LLMCancel`, `Interrupt`): dialogue, agents,
the API and `solo chat` don't know which engine serves them. It is an `LLMActor` whose
`_answer` sends the conversation to ``{base_url}/chat/completions`` and streams the reply's
SSE chunks as `LLMToken`s, through the same sanitiser, conversation history and cancel
board as the local engine.

The HTTP side is the official `openai` client (`AsyncOpenAI`): it speaks the protocol
(SSE chunks, the error shape, the bearer key) as every such server expects. It runs on an
event loop of its own thread, because the actor's thread must stay free to notice a cancel
while the server is silent (reading a prompt, or hung): the actor waits for each chunk at
most `POLL` seconds before it reads the cancel board again, and a cancel cancels the
request's task, which closes the connection (the server stops generating). A dropped
connection or a killed server ends the read at once (the socket closes) and the turn
fails with an `LLMError` saying so; a silent server fails it after
``llm.remote.read_timeout``. Nothing waits longer than that.

Fallback (``llm.remote.fallback = "local"``): a turn whose reply the server did not start
(unreachable, refused, an HTTP error, a timeout before the first token) is answered by the
local model, loaded in this process on the first such turn, not at start: a Solo on a GPU
server never pays the local model's memory unless it needs it. A reply that broke after
its first token is not repeated locally (the user has heard part of it): that turn fails,
and the next ones go to the local model. After any remote failure, turns go to the local
model for ``retry_after`` seconds before the server is tried again, so a server that is
down costs no connect timeout per turn. The log says each switch, and the actor's figures
(``/status``) say which engine serves (``serving``) and the last remote error.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import queue
import threading
from collections.abc import Callable, Generator
from typing import Any

import httpcore
import httpx
import openai

from solo_actors.config import Config
from solo_actors.config.schema import RemoteLLMConfig
from solo_actors.llm.actor import CannotServe, LLMActor, NoFunctionCalling, check_prompt
from solo_actors.llm.engine import Generation, Sampling
from solo_actors.llm.history import Conversation, PromptTooLong, Turn
from solo_actors.messages import LLMDescription, LLMDone, LLMPrefill, LLMRequest
from solo_actors.names import LLM_NAME
from solo_actors.runtime.clock import now

POLL = 0.05
"""Seconds the actor waits for a chunk before it reads the cancel board again."""
CHARS_PER_TOKEN = 4
"""The remote model's tokenizer is not here: history is sized at this many characters a
token (CrewAI's estimate too), which errs towards keeping less."""
NO_KEY = "none"
"""Sent as the bearer key to a server that needs none: the openai client insists on one,
and such servers (llama.cpp's, Ollama, vLLM without --api-key) ignore it."""

# A streamed body's read can raise httpcore's own exceptions, not mapped to httpx's.
TIMEOUTS = (httpx.TimeoutException, httpcore.TimeoutException)
TRANSPORT = (httpx.TransportError, httpcore.NetworkError, httpcore.ProtocolError)

LOCAL = "llama.cpp"
REMOTE = "openai"


class RemoteUnavailable(CannotServe):
    """The server did not start the reply: nothing was streamed, a fallback may answer."""


class RemoteBroke(CannotServe):
    """The reply broke after some of it was streamed: the turn fails."""


class RemoteClient:
    """An `AsyncOpenAI` client on an event loop thread, streamed from a blocking caller."""

    def __init__(self, settings: RemoteLLMConfig, api_key: str | None, name: str) -> None:
        self.settings = settings
        self.url = settings.base_url.rstrip("/")
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name=f"{name}-http", daemon=True
        )
        self._thread.start()
        self._client = openai.AsyncOpenAI(
            api_key=api_key or NO_KEY,
            base_url=settings.base_url,
            timeout=httpx.Timeout(settings.read_timeout, connect=settings.connect_timeout),
            max_retries=0,  # a failure is reported (or falls back) now, not three times later
        )

    def close(self) -> None:
        if self._loop.is_closed():
            return
        closing = asyncio.run_coroutine_threadsafe(self._client.close(), self._loop)
        with contextlib.suppress(Exception):  # an unclean close of a dropped client is harmless
            closing.result(timeout=2.0)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=2.0)
        if not self._thread.is_alive():
            self._loop.close()

    def stream(
        self, body: dict[str, Any], cancelled: Callable[[], bool], result: Generation
    ) -> Generator[str, None, None]:
        """POST a streamed chat completion and yield its text pieces; `result` gets the
        finish reason and token counts. Stops (finish reason "cancelled") within `POLL`
        seconds of `cancelled()` turning true; raises `RemoteUnavailable` or `RemoteBroke`."""
        events: queue.Queue[tuple[str, Any]] = queue.Queue()
        task = asyncio.run_coroutine_threadsafe(self._produce(body, events), self._loop)
        pieces = 0
        finish: str | None = None
        try:
            while True:
                if cancelled():
                    result.finish_reason = "cancelled"
                    return
                try:
                    kind, value = events.get(timeout=POLL)
                except queue.Empty:
                    continue
                if kind == "piece":
                    pieces += 1
                    result.tokens.append(0)  # the server's tokens are not ours: a count
                    yield value
                elif kind == "finish":
                    finish = value
                elif kind == "usage":
                    result.prompt_tokens = result.prompt_eval_tokens = value.prompt_tokens
                    result.tokens = [0] * value.completion_tokens
                elif kind == "error":
                    raise (RemoteBroke if pieces else RemoteUnavailable)(
                        self.explain(value, started=bool(pieces))
                    )
                else:  # "end"
                    break
        finally:
            task.cancel()  # a no-op once it ended; else it closes the connection
        if finish is None:
            problem = "the server closed the reply without finishing it"
            raise (RemoteBroke if pieces else RemoteUnavailable)(
                f"the remote language model at {self.url} failed: {problem}; ask again"
            )
        result.finish_reason = "length" if finish == "length" else "stop"

    async def _produce(self, body: dict[str, Any], events: queue.Queue[tuple[str, Any]]) -> None:
        try:
            stream = await self._client.chat.completions.create(**body, stream=True)
            async with stream:
                async for chunk in stream:
                    if chunk.usage is not None:
                        events.put(("usage", chunk.usage))
                    for choice in chunk.choices[:1]:
                        if choice.delta is not None and choice.delta.content:
                            events.put(("piece", choice.delta.content))
                        if choice.finish_reason:
                            events.put(("finish", choice.finish_reason))
        except Exception as error:
            events.put(("error", error))
        else:
            events.put(("end", None))

    def explain(self, error: BaseException, *, started: bool) -> str:
        """What went wrong with the server, in words that say what to check."""
        where = f"the remote language model at {self.url}"
        cause = error.__cause__ or error
        if isinstance(error, openai.APIStatusError):
            hint = {
                401: f"check the key in ${self.settings.api_key_env or '(llm.remote.api_key_env)'}",
                403: f"check the key in ${self.settings.api_key_env or '(llm.remote.api_key_env)'}",
                404: "check llm.remote.base_url (with /v1) and llm.remote.model",
            }.get(error.status_code, "see the server's log")
            return f"{where} answered HTTP {error.status_code}: {error.message}; {hint}"
        if isinstance(cause, httpx.ConnectTimeout):
            return (
                f"{where} did not accept a connection within "
                f"{self.settings.connect_timeout:g} s (llm.remote.connect_timeout); "
                "is the server up and reachable?"
            )
        if isinstance(cause, httpx.ConnectError):
            return f"{where} is unreachable ({cause}); start the server or check base_url"
        if isinstance(cause, TIMEOUTS):
            return (
                f"{where} sent nothing for {self.settings.read_timeout:g} s "
                "(llm.remote.read_timeout); the server is overloaded or hung"
            )
        if isinstance(cause, TRANSPORT):
            moment = "mid-reply" if started else "before replying"
            return (
                f"the connection to {where} dropped {moment} ({type(cause).__name__}: "
                f"{cause}); the server stopped or the network failed; ask again"
            )
        return f"{where} failed: {type(error).__name__}: {error}"


class RemoteLLMActor(LLMActor):
    """The llm actor of ``engine = "openai"``; see the module docstring."""

    def __init__(self, config: Config, name: str = LLM_NAME) -> None:
        super().__init__(config, name)
        self.remote = config.llm.remote
        self._counts.update(remote_requests=0, remote_errors=0, fallbacks=0)
        self._client: RemoteClient | None = None
        self._key_problem: str | None = None
        self._failed_at: float | None = None
        """When the server last failed a turn (monotonic), None since it last answered."""
        self._last_error = ""
        self._serving = REMOTE

    # -- lifecycle -----------------------------------------------------------------------

    def on_start(self) -> None:
        api_key = None
        if self.remote.api_key_env:
            api_key = os.environ.get(self.remote.api_key_env) or None
            if api_key is None:
                # The config loader refuses this already; a config built otherwise (tests,
                # a changed environment) gets the same words on every turn instead.
                self._key_problem = (
                    f"llm.remote.api_key_env names {self.remote.api_key_env}, which is not "
                    f"set in the environment; export {self.remote.api_key_env}=<the server's "
                    'key>, or set api_key_env = "" for a server that needs no key'
                )
        self._client = RemoteClient(self.remote, api_key, self.name)
        self.publish_figures(
            engine=REMOTE,
            model=self.remote.model,
            remote_url=self._client.url,
            serving=REMOTE,
            remote_error=self._key_problem or "",
            local_loaded=False,
            **self._counts,
        )
        self.log.info(
            "llm ready (remote engine)",
            base_url=self._client.url,
            model=self.remote.model,
            fallback=self.remote.fallback,
        )

    def on_stop(self) -> None:
        self._close()

    def on_failure(self, *exc_info: Any) -> None:
        super().on_failure(*exc_info)
        self._close()

    def _close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    # -- messages ------------------------------------------------------------------------

    def prefill(self, ahead: LLMPrefill) -> None:
        # The server reads its prompt when the request comes; only a local model serving
        # the coming turn can read ahead.
        if not self._remote_allowed() and self.local_loaded:
            super().prefill(ahead)

    def _describe(self) -> LLMDescription:
        return LLMDescription(
            model=self.remote.model,
            path=self.remote.base_url,
            template="the server's",
            n_ctx=self.settings.n_ctx,
            engine=REMOTE,
            serving=self._serving,
            fallback=self.remote.fallback,
            **self._default_sampling(),
        )

    # -- serving -------------------------------------------------------------------------

    def _answer(self, request: LLMRequest) -> LLMDone:
        if not self._remote_allowed():
            return self._answer_locally(request)
        started = now()
        check_prompt(request.prompt, request.system)
        sampling = self._sampling(request)
        if self._is_cancelled(request):
            nothing = Generation(prompt_tokens=0, finish_reason="cancelled")
            return self._done(request, "", nothing, started, None, cached=False)
        try:
            done = self._answer_remotely(request, sampling, started)
        except RemoteUnavailable as error:
            self._remote_failed(str(error))
            if self.remote.fallback == "none":
                raise
            self.log.warning(
                "remote llm unavailable: answering with the local model",
                error=str(error),
                turn_id=request.turn_id,
            )
            return self._answer_locally(request)
        except RemoteBroke as error:
            self._remote_failed(str(error))
            raise
        if self._failed_at is not None:
            self.log.info("remote llm answering again", base_url=self.remote.base_url)
        self._failed_at = None
        self._serve(REMOTE)
        return done

    def _answer_remotely(self, request: LLMRequest, sampling: Sampling, started: float) -> LLMDone:
        if request.tools is not None or request.tool_round:
            raise NoFunctionCalling(
                "the remote llm engine does not pass a request's own tools on to its server: "
                "send the request without tools, or to a Solo whose llm runs locally"
            )
        if self._key_problem is not None:
            raise RemoteUnavailable(self._key_problem)
        assert self._client is not None
        self._counts["remote_requests"] += 1
        conversation = self._conversation(request.conversation_id, request.system, request.history)
        turns = self._fit(conversation, request.prompt, sampling.max_tokens)
        body: dict[str, Any] = {
            "model": self.remote.model,
            "messages": conversation.messages(turns),
            "max_tokens": sampling.max_tokens,
            "temperature": sampling.temperature,
            "top_p": sampling.top_p,
            # Token counts in the last chunk, from servers that know the option.
            "stream_options": {"include_usage": True},
        }
        if sampling.seed >= 0:
            body["seed"] = sampling.seed
        if sampling.stop:
            body["stop"] = list(sampling.stop)
        result = Generation(prompt_tokens=0)
        pieces = self._client.stream(body, lambda: self._should_stop(request), result)
        streamed = self._stream(request, pieces, result, sampling.stop)
        if request.conversation_id is not None:
            if self._left_out(streamed.text):  # as the local engine's
                conversation.turns = turns[:-1]
            else:
                conversation.turns = [*turns, {"role": "assistant", "content": streamed.text}]
            # The local model's exact tokens no longer end this conversation: if it serves
            # the next turn, it renders and reads the whole history again.
            conversation.text, conversation.tokens = "", []
            self._keep(request.conversation_id, conversation)
        return self._done(
            request, streamed.text, result, started, streamed.first_token, cached=False,
            speed=streamed.speed,
        )  # fmt: skip

    def _fit(self, conversation: Conversation, prompt: str, max_tokens: int) -> list[Turn]:
        """The history plus the new user message, oldest turns dropped to fit ``n_ctx``
        (estimated; see `CHARS_PER_TOKEN`), as `PromptBuilder.fit` does for the local one."""
        room = self.settings.n_ctx - max_tokens
        turns: list[Turn] = [*conversation.turns, {"role": "user", "content": prompt}]

        def size(kept: list[Turn]) -> int:
            texts = [turn["content"] for turn in conversation.messages(kept)]
            return sum(len(text) // CHARS_PER_TOKEN + 4 for text in texts)

        if size(turns) > room:
            target = int(room * self.settings.history_fill)
            while len(turns) > 1 and size(turns) > target:
                turns = turns[2:]
        if size(turns) > room:
            raise PromptTooLong(
                f"prompt too long: about {size(turns)} tokens, but llm.n_ctx "
                f"({self.settings.n_ctx}) minus the reply's max_tokens leaves {room}; "
                "shorten the prompt or raise llm.n_ctx"
            )
        return turns

    def _answer_locally(self, request: LLMRequest) -> LLMDone:
        if not self.local_loaded:
            self.log.warning("loading the local fallback model", model=self.settings.model)
            try:
                self._load_local()
            except Exception as error:
                raise CannotServe(
                    f"the remote language model failed ({self._last_error}) and the local "
                    f"fallback {self.settings.model!r} could not be loaded: {error}"
                ) from error
            self.publish_figures(local_loaded=True)
        self._counts["fallbacks"] += 1
        self._serve(LOCAL)
        return super()._answer(request)

    # -- the remote server's health ------------------------------------------------------

    def _remote_allowed(self) -> bool:
        """Whether this turn goes to the server (else straight to the local model)."""
        if self.remote.fallback == "none" or self._failed_at is None:
            return True
        return now() - self._failed_at >= self.remote.retry_after

    def _remote_failed(self, error: str) -> None:
        self._failed_at = now()
        self._last_error = error
        self._counts["remote_errors"] += 1
        self.log.error("remote llm failed", error=error, base_url=self.remote.base_url)
        self.publish_figures(remote_error=error)
        if self.remote.fallback == "local":
            self._serve(LOCAL)  # the next turns, until retry_after

    def _serve(self, engine: str) -> None:
        if engine != self._serving:
            self._serving = engine
            self.publish_figures(serving=engine)
