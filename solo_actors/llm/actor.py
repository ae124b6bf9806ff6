"""The llm actor: one llama.cpp model answering `LLMRequest`s, token by token.

Messages in: `LLMRequest` (tell or ask; an ask gets the final `LLMDone`/`LLMError`),
`LLMPrefill` (a coming request's prompt, read ahead; nothing is answered), `LLMCancel` and
`Interrupt`, and `LLMDescribe` (-> `LLMDescription`), `LLMGetHistory` (-> `LLMHistory`),
`LLMForget`, `ForgetMentions`. Out, to the request's ``reply_to`` (a registered name):
`LLMToken`... then `LLMDone`, or one `LLMError` for a request that can't be served (the
actor keeps serving). Only messages: the actor may run in its own process, where no proxy
reaches it.

Scheduling: requests are served one at a time on the actor's thread (one llama.cpp
context, one KV cache). Generation blocks that thread, so a cancel must not wait in the
mailbox behind it: `LLMCancel` and `Interrupt` are urgent mail (the library's urgent lane,
``urgent``), which overtakes queued requests; the generation loop takes it once per token
(``receive_urgent``) and records it on the `CancelBoard` (see `cancel`), stopping within
one token. tts's urgent `SpeechStarted` is taken the same way: from then on the turn's
generation leaves tts a core (`engine.thread_counts`). A supervisor's request to exit stops
the current generation the same way, so shutdown is not held up by a long reply.

Conversations share the single KV cache: before generating for a conversation other than
the one whose tokens are live, the live one's KV cells are parked in a RAM snapshot
(bounded by ``llm.kv_snapshot_mb``) and the target's are restored if that saves evaluation.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import time
from collections import OrderedDict
from collections.abc import Callable, Generator, Sequence
from typing import Any

import msgspec
import numpy as np

from solo_actors.config import REPO_ROOT, Config
from solo_actors.declines import Declines
from solo_actors.llm.cache import CachedReply, ResponseCache, cache_key
from solo_actors.llm.cancel import CancelBoard
from solo_actors.llm.engine import (
    Engine,
    Generation,
    KVSnapshot,
    ModelBroken,
    ModelSettings,
    Sampling,
    common_prefix,
    drop_model,
    load_model,
)
from solo_actors.llm.history import (
    Conversation,
    Draft,
    Prompt,
    PromptBuilder,
    PromptTooLong,
    ToolList,
    Turn,
    message_of,
    turns_of,
    without_mentions,
)
from solo_actors.llm.sanitize import StreamSanitizer, cut_unfinished_sentence
from solo_actors.llm.templates import ALL_STOPS, select_template
from solo_actors.llm.tools import (
    LIST_TIMEOUT,
    CallGate,
    MalformedCall,
    Offered,
    ToolDirectory,
    call_tool,
    forced_start,
    parse_calls,
    result_text,
)
from solo_actors.llm.warm_start import WarmStates
from solo_actors.messages import (
    ChatMessage,
    ForgetMentions,
    FunctionCall,
    Interrupt,
    LLMAppend,
    LLMCancel,
    LLMDescribe,
    LLMDescription,
    LLMDone,
    LLMError,
    LLMForget,
    LLMGetHistory,
    LLMHistory,
    LLMPrefill,
    LLMRequest,
    LLMToken,
    Message,
    SpeechStarted,
    ToolResult,
)
from solo_actors.models import resolve_model
from solo_actors.names import LLM_NAME
from solo_actors.runtime.clock import now
from solo_actors.runtime.logs import get_logger
from solo_actors.runtime.trace import step
from supervisors import SupervisedActor, cast

LLMEvent = LLMToken | LLMDone | LLMError


class CannotServe(Exception):
    """A request the actor answers with an `LLMError` (and keeps serving); the message
    says why and what to do."""

    code: str | None = None
    """`LLMError.code`."""


class BadRequest(CannotServe, ValueError):
    """A request the actor refuses; the message says what is wrong with it."""


class NoFunctionCalling(BadRequest):
    """A request with its own tools, to a model whose chat template renders none."""

    code = "tools_not_supported"


@dataclasses.dataclass(slots=True)
class Streamed:
    """What `LLMActor._stream` made of an engine's pieces."""

    text: str
    first_token: float | None
    speed: float
    """Tokens per second after the first piece (0 when unknown)."""


class SnapshotStore:
    """KV snapshots of idle conversations; least recently parked dropped over budget."""

    def __init__(self, budget_bytes: int) -> None:
        self.budget = budget_bytes
        self._snapshots: OrderedDict[str, KVSnapshot] = OrderedDict()
        self._bytes = 0

    def put(self, key: str, snapshot: KVSnapshot) -> None:
        self.pop(key)
        self._snapshots[key] = snapshot
        self._bytes += snapshot.nbytes
        while self._bytes > self.budget:
            _, dropped = self._snapshots.popitem(last=False)
            self._bytes -= dropped.nbytes

    def pop(self, key: str) -> KVSnapshot | None:
        snapshot = self._snapshots.pop(key, None)
        if snapshot is not None:
            self._bytes -= snapshot.nbytes
        return snapshot


def check_text(what: str, text: object) -> str:
    """`text` if it is non-empty UTF-8 text, else a `BadRequest` naming the problem."""
    if not isinstance(text, str):
        raise BadRequest(f"{what} must be text (str), got {type(text).__name__}")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:
        # Lone surrogates: how undecodable bytes arrive after surrogateescape decoding.
        raise BadRequest(
            f"{what} is not valid UTF-8: undecodable bytes at character {error.start}; "
            "send UTF-8 text"
        ) from None
    return text


def check_prompt(prompt: str, system: str | None) -> None:
    """A `BadRequest` naming the problem unless `prompt` is non-blank UTF-8 text and
    `system` is None or UTF-8 text."""
    check_text("prompt", prompt)
    if not prompt.strip():
        raise BadRequest("empty prompt: send some text to answer")
    if system is not None:
        check_text("system prompt", system)


WARM_UP_AFTER = 0.5
"""Seconds between tries of the start's warm-up while tool owners are still starting."""

WARM_UP_TRIES = 20
"""Tries before the warm-up reads the tools that are there (an owner may offer none)."""

WARM_UP_PROMPT = "Hello"
"""The user message of the warm-up: any; only the prompt's fixed start is kept for reuse."""


class WarmUp(Message, frozen=True):
    """To itself, after start: read every prompt's fixed start into the KV cache."""

    tries: int = 0


class TrimAhead(Message, frozen=True):
    """To itself, after a reply: trim the conversation now if its next turn would not fit."""

    conversation_id: str


NEXT_TURN_TOKENS = 64
"""Tokens a conversation's next turn adds to its history, as the trim ahead reckons: a
spoken question is 10-30, the template's markers about 10."""


UNFINISHED_TAIL = " \t\n.,;:!?-\u2026"
"""What Whisper ends words so far with that the finished words may not have ("in a...")."""


CANNOT = "Sorry, I can't do that."
"""The reply when the model kept calling tools and none of them did what was asked."""


def _call_key(call: FunctionCall) -> str:
    """What makes two calls the same call: the tool and its arguments."""
    return call.name + json.dumps(call.arguments, sort_keys=True, default=str)


def _already_answered(call: FunctionCall) -> ToolResult:
    return ToolResult(
        call_id=call.call_id,
        name=call.name,
        content=f"{call.name} already ran for this request and was not run again; its answer "
        "is above. Now answer the user in plain words, without calling a tool.",
        error=True,
    )


class LLMActor(SupervisedActor):
    """Serves `LLMRequest`s with one llama.cpp model; see the module docstring."""

    urgent = (LLMCancel, Interrupt, SpeechStarted)
    engine: Engine
    prompts: PromptBuilder

    def __init__(self, config: Config, name: str = LLM_NAME) -> None:
        super().__init__()
        self.config = config
        self.settings = config.llm
        self.name = name
        self.log = get_logger(name)
        self._board = CancelBoard()
        self._interrupts_at_start = 0
        self._conversations: OrderedDict[str, Conversation] = OrderedDict()
        self._snapshots = SnapshotStore(self.settings.kv_snapshot_mb << 20)
        self._kv_owner: str | None = None
        self._cache: ResponseCache | None = None
        self._warm_states: WarmStates | None = None
        self._tools_left_out = False
        self._tools = ToolDirectory(config.llm.owners(config.mcp), LIST_TIMEOUT)
        self._declines = Declines(config.llm.declines)
        self._counts = dict.fromkeys(
            (
                "requests", "errors", "cancelled", "cache_hits", "cache_misses", "kv_restores",
                "prefills", "prefills_skipped", "prefill_tokens", "tool_calls", "interrupts",
                "draft_tokens", "draft_tokens_accepted", "warm_starts", "trims_ahead",
                "trim_tokens", "declines_left_out", "appended", "tools_described",
                "written_ahead", "written_ahead_used",
            ),
            0,
        )  # fmt: skip

    # -- lifecycle -----------------------------------------------------------------------

    def on_start(self) -> None:
        self._load_local()
        template = self.prompts.template.origin
        self.publish_figures(model=self._model_name, template=template, **self._counts)
        self.log.info("llm ready", model=self._model_name, template=template)
        if self._tools.owners and self.prompts.template.supports_tools:
            self.send_after(0.0, WarmUp())

    def warm_up(self, warm: WarmUp) -> None:
        """Read the system prompt and the tools' schemas (~750 tokens with the skills') into
        the KV cache while nobody waits, so that a process's first turn does not pay for
        them: every conversation's prompt starts with the same tokens. With
        ``llm.warm_start`` what the start restored is not read again, and what had to be
        read is saved for the next start (`warm_start`)."""
        offered = self._tools.refresh()
        missing = set(self._tools.owners) - set(offered.owners.values())
        if missing and warm.tries < WARM_UP_TRIES:  # still starting (they start after us)
            self.send_after(WARM_UP_AFTER, WarmUp(tries=warm.tries + 1))
            return
        ahead = LLMPrefill(prompt=WARM_UP_PROMPT, use_tools=True)
        prompt = self._ahead_prompt(ahead)
        if prompt is None:
            return
        evaluated = self._read_ahead(ahead, prompt)
        if self._warm_states is not None and evaluated > 1:
            # Not all of it came from disk (the sampled token is always read again).
            try:
                self._warm_states.save(self.engine)
            except OSError as error:  # a full or read-only disk: the next start reads again
                self.log.warning("warm-up state not saved", error=str(error))

    def _load_local(self) -> None:
        """Load (or find loaded in this process) the llama.cpp model and what serves it."""
        settings = self.settings
        resolved = resolve_model(
            settings.model, self.config.models, role="llm", var_dir=self.config.solo.var_dir
        )
        self._model_settings = ModelSettings(
            path=str(resolved.path),
            n_ctx=settings.n_ctx,
            n_batch=settings.n_batch,
            n_threads=settings.n_threads,
            gpu_layers=settings.gpu_layers,
        )
        self._model_name = resolved.catalog_id or resolved.path.name
        self._model_digest = resolved.sha256
        self.engine = Engine(load_model(self._model_settings))
        # A restarted actor reuses the loaded model but not whatever its KV cache held.
        self.engine.reset()
        if settings.warm_start:
            # Before any mail: a question asked at once reuses it too (docs/llm.md).
            directory = REPO_ROOT / self.config.solo.var_dir / "cache" / "llm" / "kv"
            self._warm_states = WarmStates(directory, resolved.sha256, self._model_settings)
            if restored := self._warm_states.restore(self.engine):
                self._counts["warm_starts"] += 1
                self.log.info("warm-up restored from disk", tokens=restored)
        template = select_template(
            settings.template, self.engine.metadata, self.engine.bos_token, self.engine.eos_token
        )
        self.prompts = PromptBuilder(self.engine, template, settings.history_fill)
        if settings.cache:
            directory = REPO_ROOT / self.config.solo.var_dir / "cache" / "llm"
            self._cache = ResponseCache(directory, settings.cache_ttl, settings.cache_entries)
            self._cache.prune()

    @property
    def local_loaded(self) -> bool:
        return hasattr(self, "engine")

    def on_failure(self, *exc_info: Any) -> None:
        error = exc_info[1]
        if isinstance(error, ModelBroken) and self.local_loaded:
            # The only crash that condemns the weights: load them again on restart.
            drop_model(self._model_settings)

    # -- messages ------------------------------------------------------------------------

    def on_receive(self, message: Any) -> Any:
        match message:
            case LLMRequest():
                return self._generate(message)
            case LLMPrefill():
                self.prefill(message)
            case WarmUp():
                self.warm_up(message)
            case TrimAhead():
                self.trim_ahead(message)
            case LLMCancel() | Interrupt() | SpeechStarted():
                self._board.record(message)
                if isinstance(message, Interrupt):
                    self._counts["interrupts"] += 1
                    self.publish_figures(interrupts=self._counts["interrupts"])
            case LLMDescribe():
                return self._describe()
            case LLMGetHistory(conversation_id=conversation_id):
                return LLMHistory(conversation_id, list(self._history(conversation_id)))
            case LLMAppend():
                self.append(message)
            case LLMForget(conversation_id=conversation_id):
                self._forget(conversation_id)
            case ForgetMentions(texts=texts):
                self._forget_mentions(texts)
            case _:
                return super().on_receive(message)

    def _generate(self, request: LLMRequest) -> LLMDone | LLMError:
        """Serve `request`: stream its tokens to ``reply_to``, then the final `LLMDone` (also
        the reply to an ask), or an `LLMError` if the request is bad."""
        self._interrupts_at_start = self._board.interrupts
        try:
            reply: LLMDone | LLMError = self._answer(request)
        except (CannotServe, PromptTooLong) as error:
            reply = LLMError(
                request_id=request.request_id, message=str(error), turn_id=request.turn_id,
                code=error.code,
            )  # fmt: skip
        # Figures first: whoever gets the reply and then reads them sees this request's.
        self._publish(reply)
        self._deliver(request, reply)
        return reply

    def prefill(self, ahead: LLMPrefill) -> None:
        """Read a coming request's prompt into the KV cache now (see `LLMPrefill`). A prompt
        the request would refuse is skipped: the request itself will say what is wrong. So
        is one whose conversation has a newer prefill or its request waiting behind it: the
        words at the pause, then the turn, queue up while a long prompt is read, and reading
        the stale ones first only delays the turn (by 1.1 s in one measured turn)."""
        # Only a conversation's next request continues its prefill: a stand-alone request
        # (no conversation) waiting says nothing about the warm-up's or another's prompt.
        if ahead.conversation_id is not None and self._turn_waiting(ahead.conversation_id):
            self._counts["prefills_skipped"] += 1
            step(ahead.turn_id, "llm", "read ahead skipped: newer mail waits")
            return
        prompt = self._ahead_prompt(ahead)
        if prompt is not None:
            self._read_ahead(ahead, prompt)
            if not ahead.unfinished:
                self._write_ahead(ahead, prompt)

    def append(self, told: LLMAppend) -> None:
        """Add an exchange a skill answered to its conversation (one not held yet starts
        with it; its tools come with its first request). Nothing is read now: the skill's
        answer is being spoken, and Piper would share the cores with the reading. The next
        turn's read-ahead, while the user speaks, reads it (a typed turn reads it first)."""
        if self._left_out(told.reply):
            return
        conversation = self._conversations.get(told.conversation_id)
        if conversation is None:
            conversation = Conversation(system=self.settings.system_prompt)
        conversation.turns = [*conversation.turns, {"role": "user", "content": told.said},
                              {"role": "assistant", "content": told.reply}]  # fmt: skip
        if self.local_loaded:  # the remote engine's conversations keep no tokens
            self.prompts.extend_closed(conversation)
        self._keep(told.conversation_id, conversation)
        self._counts["appended"] += 1
        self.publish_figures(**self._counts)

    def _turn_waiting(self, conversation_id: str) -> bool:
        """Whether a prefill or a request of the conversation waits in the mailbox."""
        return self.mail_waiting(
            lambda waiting: (
                isinstance(waiting, LLMPrefill | LLMRequest)
                and waiting.conversation_id == conversation_id
            )
        )

    def trim_ahead(self, trim: TrimAhead) -> None:
        """Trim a conversation whose next turn would not fit, and read the history it keeps,
        now, while its reply is spoken (`PromptBuilder.trim_closed`): its next turn then
        reads only itself, where it would have read the whole kept history again (seconds
        on 2 cores). Skipped when that turn waits already: it trims as it reads."""
        conversation = self._conversations.get(trim.conversation_id)
        if (
            not self.local_loaded
            or conversation is None
            or self._turn_waiting(trim.conversation_id)
        ):
            return
        room = self.engine.n_ctx - self._sampling(None).max_tokens
        if not self.prompts.trim_closed(conversation, room, NEXT_TURN_TOKENS):
            return
        self._switch_kv(trim.conversation_id, conversation.tokens)
        self._counts["trims_ahead"] += 1
        self._counts["trim_tokens"] += self.engine.prefill(conversation.tokens)
        self.publish_figures(**self._counts)

    def _ahead_prompt(self, ahead: LLMPrefill) -> Prompt | None:
        """The prompt `ahead`'s request will have; None if it would be refused."""
        try:
            check_prompt(ahead.prompt, ahead.system)
            offered = self._offered(ahead, refresh=False)
            conversation = self._conversation(ahead.conversation_id, ahead.system, offered=offered)
            draft = self.prompts.draft(conversation, ahead.prompt)
            room = self.engine.n_ctx - self._sampling(None).max_tokens
            # Fitted as its request will be: without the tools if they do not fit.
            return self._fit_tools(ahead, conversation, draft, room, offered)[1]
        except (BadRequest, PromptTooLong):
            return None

    def _read_ahead(self, ahead: LLMPrefill, prompt: Prompt) -> int:
        """Read `prompt` into the KV cache; returns how many tokens were evaluated."""
        tokens = self._up_to_the_words(ahead, prompt) if ahead.unfinished else prompt.tokens
        self._switch_kv(ahead.conversation_id, tokens)
        self._counts["prefills"] += 1
        step(ahead.turn_id, "llm", "reading ahead")
        evaluated = self.engine.prefill(tokens)
        self._counts["prefill_tokens"] += evaluated
        step(ahead.turn_id, "llm", "read ahead", tokens=evaluated, prompt_tokens=len(prompt.tokens))
        self.publish_figures(**self._counts)
        return evaluated

    def _write_ahead(self, ahead: LLMPrefill, prompt: Prompt) -> None:
        """Begin the reply to finished words read ahead (``llm.write_ahead`` tokens at most)
        while nothing else waits: at a pause the user's silence is still being waited out,
        and a request with this prompt then has its first words written already
        (`Engine.write_ahead`). Any mail stops it within a token; a request for other
        words, or any other use of the KV cache, drops what was written."""
        limit = self.settings.write_ahead
        if not limit:
            return
        lifecycle = self.actor_ref.lifecycle

        def nothing_waits() -> bool:
            return not self.mail_waiting(lambda _: True) and lifecycle.exit_request is None

        written = self.engine.write_ahead(prompt.tokens, self._sampling(None), nothing_waits,
                                          limit)  # fmt: skip
        self._counts["written_ahead"] += written
        step(ahead.turn_id, "llm", "wrote ahead", tokens=written)
        self.publish_figures(**self._counts)

    def _up_to_the_words(self, ahead: LLMPrefill, prompt: Prompt) -> list[int]:
        """`prompt`'s tokens up to the end of the user's last word so far (see
        `LLMPrefill.unfinished`): what the prompt of the finished words starts with too."""
        words = ahead.prompt.rstrip(UNFINISHED_TAIL)
        at = prompt.text.rfind(ahead.prompt)
        if at < 0 or not words:
            return prompt.tokens
        # Only the short tail is tokenised, not the whole prompt again. Were its first token
        # merged with the last word's, one token more or less is read: a cost, never an error.
        dropped = self.engine.tokenize(prompt.text[at + len(words) :], start=False)
        return prompt.tokens[: len(prompt.tokens) - len(dropped)]

    def _describe(self) -> LLMDescription:
        """Model, template and default sampling, for people (``solo chat /params``)."""
        return LLMDescription(
            model=self._model_name,
            path=self._model_settings.path,
            template=self.prompts.template.origin,
            n_ctx=self.engine.n_ctx,
            **self._default_sampling(),
        )

    def _default_sampling(self) -> dict[str, Any]:
        """The configured sampling, as `LLMDescription` shows it."""
        sampling = dataclasses.asdict(self._sampling(None))
        del sampling["stop"]  # a request's own; none by default
        return sampling

    def _history(self, conversation_id: str) -> tuple[ChatMessage, ...]:
        """A conversation as the model sees it now: system prompt, then kept turns."""
        conversation = self._conversations.get(conversation_id)
        if conversation is None:
            return ()
        return tuple(message_of(turn) for turn in conversation.messages(conversation.turns))

    def _forget(self, conversation_id: str) -> None:
        """Drop a conversation's history and KV snapshot."""
        self._conversations.pop(conversation_id, None)
        self._drop_kv(conversation_id)

    def _drop_kv(self, conversation_id: str) -> None:
        self._snapshots.pop(conversation_id)
        if self._kv_owner == conversation_id:
            self._kv_owner = None  # so its live cache is not parked under its name later

    def _forget_mentions(self, texts: list[str]) -> None:
        """Drop every exchange any message of which holds one of ``texts``
        (`without_mentions`); a conversation that changed is tokenised afresh at its next
        prompt (its kept tokens no longer match). And drop every cached reply: one may
        repeat what was forgotten ("Okay, your locker code is 4512."), and a cache entry
        keeps no prompt to tell which. Forgetting is rare; a cold cache costs only the next
        repeated question's generation."""
        if self._cache is not None:
            self._cache.clear()
        for conversation_id, conversation in self._conversations.items():
            kept = without_mentions(conversation.turns, texts)
            if len(kept) == len(conversation.turns):
                continue
            conversation.turns, conversation.text, conversation.tokens = kept, "", []
            self._drop_kv(conversation_id)
            self.log.info("exchanges forgotten", conversation_id=conversation_id,
                          turns_left=len(kept))  # fmt: skip

    # -- serving -------------------------------------------------------------------------

    def _answer(self, request: LLMRequest) -> LLMDone:
        started = now()
        step(request.turn_id, "llm", "request taken")
        check_prompt(request.prompt, request.system)
        sampling = self._sampling(request)
        if self._is_cancelled(request):
            nothing = Generation(prompt_tokens=0, finish_reason="cancelled")
            return self._done(request, "", nothing, started, None, cached=False)
        offered = self._offered(request, refresh=True)
        conversation = self._conversation(
            request.conversation_id, request.system, request.history, offered
        )
        tool_round = turns_of(request.tool_round)
        draft = self.prompts.draft(conversation, request.prompt, tool_round)
        room = self.engine.n_ctx - sampling.max_tokens
        # A forced call's reply starts otherwise than the same prompt's unforced one.
        key = None if request.force_tool else self._cache_key(draft, sampling)
        cached = self._cache.get(key) if self._cache and key else None
        if key:
            self._counts["cache_hits" if cached else "cache_misses"] += 1
        if cached is not None:
            return self._replay(request, conversation, draft, room, cached, started)
        fitted = self._fit_tools(request, conversation, draft, room, offered, tool_round)
        conversation, prompt, offered = fitted
        return self._run(request, conversation, prompt, sampling, key, started, offered)

    def _fit_tools(
        self,
        request: LLMRequest | LLMPrefill,
        conversation: Conversation,
        draft: Draft,
        room: int,
        offered: Offered | None,
        tool_round: Sequence[Turn] = (),
    ) -> tuple[Conversation, Prompt, Offered | None]:
        """`draft` (the request's prompt, then its `tool_round`) fitted to `room` tokens;
        if it does not fit with the owners' tools, the request's conversation and prompt
        without them (and None for the tools offered)."""
        try:
            return conversation, self.prompts.fit(conversation, draft, room), offered
        except PromptTooLong:
            if offered is None or not offered.owners:
                raise
        # The owners' tools are a help, not the request: without them it may fit.
        if not self._tools_left_out:  # said once: it repeats on every such turn
            self._tools_left_out = True
            self.log.warning("tools left out: the prompt does not fit with them; "
                             "raise llm.n_ctx to offer them")  # fmt: skip
        history = request.history if isinstance(request, LLMRequest) else ()
        conversation = self._conversation(request.conversation_id, request.system, history)
        draft = self.prompts.draft(conversation, request.prompt, tool_round)
        return conversation, self.prompts.fit(conversation, draft, room), None

    def _offered(self, request: LLMRequest | LLMPrefill, *, refresh: bool) -> Offered | None:
        """The tools this request offers the model: the caller's own, or (``use_tools``)
        those of ``llm.tool_owners``; None when there are none or the template has no
        place for them."""
        caller_tools = request.tools if isinstance(request, LLMRequest) else None
        forced = request.force_tool if isinstance(request, LLMRequest) else None
        if forced is not None and not caller_tools:
            raise BadRequest("force_tool needs the request's own tools: send them in `tools`")
        if caller_tools is not None:
            if not self.prompts.template.supports_tools:
                raise NoFunctionCalling(
                    f"the model {self._model_name} has no function calling: its chat template "
                    "does not render tools; send the request without tools, or serve a model "
                    "whose template has them (llm.model, e.g. qwen2.5-coder-0.5b-instruct-q4_k_m)"
                )
            names = [tool.name for tool in caller_tools]
            if forced not in (None, "*", *names):
                raise BadRequest(f"force_tool names {forced!r}, which is not one of the "
                                 f"request's tools ({', '.join(names)})")  # fmt: skip
            return Offered(list(caller_tools), {}) if caller_tools else None
        if not (request.use_tools and self.prompts.template.supports_tools):
            return None
        offered = self._tools.refresh() if refresh else self._tools.current()
        return offered if offered.definitions else None

    def _run(
        self,
        request: LLMRequest,
        conversation: Conversation,
        prompt: Prompt,
        sampling: Sampling,
        key: str | None,
        started: float,
        offered: Offered | None = None,
    ) -> LLMDone:
        """Generate the reply; when the model calls the owners' tools, run them and
        generate again with their answers, up to ``llm.tool_rounds`` rounds."""
        emit = _Tokens(self, request)
        used: list[str] = []
        rounds = 0
        answered: dict[str, str] = {}
        repeated = False
        succeeded: set[str] = set()
        worked: list[str] = []
        all_tokens: list[int] = []
        evaluated = 0
        forced = ""
        if request.force_tool is not None and offered is not None:
            name = None if request.force_tool == "*" else request.force_tool
            forced = forced_start(self.prompts.template.source, name)
            prompt = self.prompts.forced(prompt, forced)

        described = False
        said = ""  # streamed before a tool was named: the reply's start, kept out of history

        def tools_said() -> str:
            """The reply when the model is stopped: what the tools that worked said, or,
            if none did, the honest refusal (never a tool's error text read out)."""
            return " ".join(dict.fromkeys(answered[key] for key in worked)) or CANNOT

        while True:
            gate = CallGate(forced, offered.owners) if offered else None
            result, text, held, speed = self._generate_round(request, prompt, sampling, emit, gate)
            forced = ""  # only the first round's reply is forced
            all_tokens += result.tokens
            evaluated += result.prompt_eval_tokens
            talked_of = gate.talked_of if gate is not None else None
            if talked_of is not None and result.finish_reason != "cancelled":
                assert gate is not None
                self._counts["tools_described"] += 1
                if gate.streamed.strip():
                    ended = gate.streamed.rstrip().endswith((".", "!", "?"))
                    said += gate.streamed + (" " if ended else "… ")
                    emit(" " if ended else "… ")
                if not described:
                    # The model described the call instead of making it: it makes it now,
                    # from the same prompt, with the call's start written for it.
                    described = True
                    forced = forced_start(self.prompts.template.source, talked_of)
                    prompt = self.prompts.forced(prompt, forced)
                    continue
                text = tools_said()
                emit(text)
                break
            calls = self._read_calls(held, offered) if held is not None else None
            if held is not None and calls is None:
                emit(held)  # it started like a call but is ordinary text
                text = held
            if calls is None or result.finish_reason == "cancelled":
                break
            assert offered is not None
            if not offered.owners:  # the caller's tools: the caller runs them
                summary = Generation(len(prompt.tokens), evaluated, all_tokens, "tool_calls")
                done = self._done(request, "", summary, started, emit.first, cached=False)
                return msgspec.structs.replace(done, tool_calls=calls)
            again = all(_call_key(call) in answered or call.name in succeeded for call in calls)
            if rounds >= self.settings.tool_rounds or (repeated and again):
                # Small models often call again what they were just answered, after being
                # told so too; the tools' own answers are the reply then.
                text = tools_said()
                emit(text)
                break
            if again:
                # A tool that already did its work in this reply, called again (a second
                # timer for the same request, with its length said another way): not run.
                repeated = True
                answers: list[ToolResult] | None = [_already_answered(c) for c in calls]
            else:
                answers = self._call_tools(request, calls, offered)
                used += [call.name for call in calls if call.name in offered.owners]
            if answers is None:
                result.finish_reason = "cancelled"
                text = ""
                break
            for call, answer in zip(calls, answers, strict=True):
                if not again:  # the answers of calls that ran
                    answered.setdefault(_call_key(call), result_text(answer))
                    if not answer.error:
                        succeeded.add(call.name)
                        worked.append(_call_key(call))
            rounds += 1
            turns: list[dict[str, str]] = [{"role": "assistant", "content": held or ""}]
            turns += [{"role": "tool", "content": result_text(answer)} for answer in answers]
            prompt = self.prompts.follow(conversation, prompt, turns)
            if len(prompt.tokens) > self.engine.n_ctx - sampling.max_tokens:
                raise PromptTooLong(
                    f"the tools' answers do not fit the context ({len(prompt.tokens)} tokens, "
                    f"llm.n_ctx={self.engine.n_ctx}); raise llm.n_ctx or ask for less"
                )
        if result.finish_reason == "length":
            text = cut_unfinished_sentence(text)
        if request.conversation_id is not None:
            self._record_reply(request.conversation_id, conversation, prompt, text, result.tokens)
        if key and self._cache and result.finish_reason != "cancelled" and not (used or described):
            self._cache.put(
                key,
                CachedReply(
                    text=text,
                    prompt_tokens=len(prompt.tokens),
                    completion_tokens=len(result.tokens),
                    finish_reason=result.finish_reason,
                    created=time.time(),
                ),
            )
        summary = Generation(len(prompt.tokens), evaluated, all_tokens, result.finish_reason)
        done = self._done(
            request, said + text, summary, started, emit.first, cached=False, speed=speed
        )
        return msgspec.structs.replace(done, tools_used=used) if used else done

    def _generate_round(
        self,
        request: LLMRequest,
        prompt: Prompt,
        sampling: Sampling,
        emit: Callable[[str], None],
        gate: CallGate | None,
    ) -> tuple[Generation, str, str | None, float]:
        """One generation: streams clean text to `emit` (through `gate` when tools are
        offered). Returns what ran, the streamed text, the held text of a reply that starts
        like a tool call (None otherwise), and the tokens per second."""
        self._switch_kv(request.conversation_id, prompt.tokens)
        result = Generation(prompt_tokens=len(prompt.tokens))
        stream = self.engine.stream(
            prompt.tokens,
            sampling,
            lambda: self._should_stop(request),
            result,
            lambda: self._board.speaking(request),
        )
        text, held, speed = _pump(stream, result, emit, gate, sampling.stop)
        self._counts["draft_tokens"] += result.drafted
        self._counts["draft_tokens_accepted"] += result.draft_accepted
        self._counts["written_ahead_used"] += result.written_ahead
        step(request.turn_id, "llm", "reply written", prompt_read=result.prompt_eval_tokens,
             tokens=len(result.tokens), guessed=result.drafted,
             guesses_kept=result.draft_accepted, written_ahead=result.written_ahead)  # fmt: skip
        return result, text, held, speed

    def _stream(
        self,
        request: LLMRequest,
        pieces: Generator[str, None, None],
        result: Generation,
        stops: tuple[str, ...],
    ) -> Streamed:
        """Another engine's text pieces (the remote one's), sanitised and sent on as
        `LLMToken`s as the local engine's are; `result` says how the engine finished."""
        emit = _Tokens(self, request)
        text, _held, speed = _pump(pieces, result, emit, None, stops)
        if result.finish_reason == "length":
            text = cut_unfinished_sentence(text)
        return Streamed(text=text, first_token=emit.first, speed=speed)

    def _read_calls(self, held: str, offered: Offered | None) -> list[FunctionCall] | None:
        """The calls in a held reply. A malformed call to the owners' tools becomes a call
        of no tool, whose error the model reads; to the caller's, the request fails."""
        try:
            return parse_calls(held)
        except MalformedCall as error:
            if offered is not None and not offered.owners:
                raise BadRequest(f"the model wrote a malformed tool call: {error}") from None
            return [FunctionCall(name="", arguments={"error": str(error)})]

    def _call_tools(
        self, request: LLMRequest, calls: list[FunctionCall], offered: Offered
    ) -> list[ToolResult] | None:
        """Each call's answer, from the actor that owns the tool; None if the request was
        cancelled while waiting."""
        answers = []
        for call in calls:
            owner = offered.owners.get(call.name)
            if owner is None:
                problem = call.arguments.get("error") if not call.name else None
                known = ", ".join(offered.owners)
                if problem:
                    content = f"{problem}. The tools are: {known}."
                else:
                    # Usually the model reaching for an action no tool does: say so plainly.
                    content = (
                        f"there is no tool {call.name!r} (the tools are: {known}), so this "
                        "can't be done. Tell the user you can't do that."
                    )
                answer = ToolResult(
                    call_id=call.call_id, name=call.name, content=content, error=True
                )
            else:
                self.log.info("tool call", tool=call.name, owner=owner)
                timeout = self.settings.tool_timeout
                called = call_tool(owner, call, request.prompt, request.room, timeout,
                                   lambda: self._should_stop(request))  # fmt: skip
                if called is None:
                    return None
                answer = called
            self._counts["tool_calls"] += 1
            answers.append(answer)
        return answers

    def _replay(
        self,
        request: LLMRequest,
        conversation: Conversation,
        draft: Draft,
        room: int,
        cached: CachedReply,
        started: float,
    ) -> LLMDone:
        first_token = None
        if cached.text:
            first_token = now()
            self._deliver(
                request,
                LLMToken(
                    request_id=request.request_id,
                    text=cached.text,
                    index=0,
                    turn_id=request.turn_id,
                ),
            )
        if request.conversation_id is not None:
            # Only a conversation needs the tokens (to splice the next turn onto).
            prompt = self.prompts.fit(conversation, draft, room)
            self._record_reply(request.conversation_id, conversation, prompt, cached.text, [])
        result = Generation(
            prompt_tokens=cached.prompt_tokens,
            finish_reason=cached.finish_reason,
            tokens=[0] * cached.completion_tokens,  # only the count is reported
        )
        return self._done(request, cached.text, result, started, first_token, cached=True)

    def _done(
        self,
        request: LLMRequest,
        text: str,
        result: Generation,
        started: float,
        first_token: float | None,
        *,
        cached: bool,
        speed: float = 0.0,
    ) -> LLMDone:
        first = first_token if first_token is not None else now()
        times = request.times
        if times is not None and first_token is not None:
            times = msgspec.structs.replace(times, first_token=first_token)
        return LLMDone(
            request_id=request.request_id,
            text=text,
            prompt_tokens=result.prompt_tokens,
            prompt_eval_tokens=result.prompt_eval_tokens,
            completion_tokens=len(result.tokens),
            tokens_per_second=speed,
            time_to_first_token=first - started,
            finish_reason=result.finish_reason,
            cached=cached,
            turn_id=request.turn_id,
            times=times,
        )

    def _sampling(self, request: LLMRequest | None) -> Sampling:
        settings = self.settings
        temperature, top_p, seed = settings.temperature, settings.top_p, settings.seed
        max_tokens = settings.max_tokens
        stop: tuple[str, ...] = ()
        if request is not None:
            if request.temperature is not None:
                if not request.temperature >= 0:
                    raise BadRequest(f"temperature must be >= 0, got {request.temperature}")
                temperature = request.temperature
            if request.max_tokens is not None:
                max_tokens = request.max_tokens
            if request.top_p is not None:
                if not 0 < request.top_p <= 1:
                    raise BadRequest(f"top_p must be > 0 and <= 1, got {request.top_p}")
                top_p = request.top_p
            if request.seed is not None:
                seed = request.seed
            if any(not text for text in request.stop):
                raise BadRequest("stop strings must not be empty")
            stop = request.stop
        n_ctx = self.engine.n_ctx if self.local_loaded else settings.n_ctx
        if not 0 < max_tokens < n_ctx:
            raise BadRequest(
                f"max_tokens must be between 1 and {n_ctx - 1} "
                f"(llm.n_ctx leaves the rest for the prompt), got {max_tokens}"
            )
        return Sampling(
            temperature=temperature,
            top_p=top_p,
            top_k=settings.top_k,
            repeat_penalty=settings.repeat_penalty,
            seed=seed,
            max_tokens=max_tokens,
            stop=stop,
            draft_tokens=settings.draft_tokens,
        )

    def _cache_key(self, draft: Draft, sampling: Sampling) -> str | None:
        if self._cache is None or not sampling.repeatable:
            return None
        # The untrimmed prompt plus what decides its trimming determine the model's input.
        return cache_key(
            self._model_digest,
            self.prompts.template.digest,
            draft.text,
            self.engine.n_ctx,
            self.settings.history_fill,
            sampling,
        )

    # -- conversations and the KV cache --------------------------------------------------

    def _conversation(
        self,
        conversation_id: str | None,
        system: str | None,
        history: tuple[ChatMessage, ...] = (),
        offered: Offered | None = None,
    ) -> Conversation:
        """The kept conversation with `system` (None: configured) and the `offered` tools;
        an unknown one starts new, with `history` as its earlier turns."""
        prompt = self.settings.system_prompt if system is None else system
        tools: ToolList | None = [*offered.entries] if offered is not None else None
        known = self._conversations.get(conversation_id) if conversation_id is not None else None
        hint = self.settings.tools_prompt if offered is not None and offered.owners else ""
        if known is None:
            turns = turns_of(history)
            return Conversation(system=prompt, turns=turns, tools=tools, tools_hint=hint)
        known.tools_hint = hint  # the tools decide it: a change comes with a new tool list
        if (system is not None and system != known.system) or tools != known.tools:
            # A new system prompt or tool list changes the prompt's first tokens: nothing to
            # splice onto.
            known.system = prompt if system is not None else known.system
            known.tools, known.text, known.tokens = tools, "", []
        return known

    def _record_reply(
        self,
        conversation_id: str,
        conversation: Conversation,
        prompt: Prompt,
        reply: str,
        reply_tokens: list[int],
    ) -> None:
        """Record a local reply in its conversation (a reply that declined leaves nothing:
        solo_actors/declines.py), and have the conversation trimmed ahead of its next turn
        if that would not fit (`trim_ahead`, next in the mailbox)."""
        if self._left_out(reply):
            self.prompts.leave_out(conversation, prompt)
        else:
            self.prompts.close(conversation, prompt, reply, reply_tokens)
        self._keep(conversation_id, conversation)
        self.actor_ref.tell(TrimAhead(conversation_id=conversation_id))

    def _left_out(self, reply: str) -> bool:
        """Whether `reply` declined (`llm.declines`), and so stays out of its conversation's
        history; counted in ``declines_left_out``."""
        declined = self._declines(reply)
        self._counts["declines_left_out"] += declined
        return declined

    def _keep(self, conversation_id: str, conversation: Conversation) -> None:
        self._conversations[conversation_id] = conversation
        self._conversations.move_to_end(conversation_id)
        while len(self._conversations) > self.settings.conversations:
            dropped, _ = self._conversations.popitem(last=False)
            self._snapshots.pop(dropped)

    def _switch_kv(self, conversation_id: str | None, tokens: list[int]) -> None:
        """Before generating for `conversation_id`: park the KV cache of the conversation
        that owns it and bring this one's back, when that saves evaluating tokens."""
        if conversation_id == self._kv_owner:
            return
        if self._kv_owner is not None and self._snapshots.budget:
            self._snapshots.put(self._kv_owner, self.engine.snapshot())
        snapshot = self._snapshots.pop(conversation_id) if conversation_id else None
        if snapshot is not None:
            wanted = np.asarray(tokens, dtype=np.intc)
            if common_prefix(snapshot.tokens, wanted) > common_prefix(
                self.engine.live_tokens, wanted
            ):
                self.engine.restore(snapshot)
                self._counts["kv_restores"] += 1
        self._kv_owner = conversation_id

    # -- cancellation --------------------------------------------------------------------

    def _is_cancelled(self, request: LLMRequest) -> bool:
        return self._board.cancelled(request, self._interrupts_at_start)

    def _should_stop(self, request: LLMRequest) -> bool:
        """Asked once per generated token: cancelled, or the supervisor wants us to exit."""
        self.receive_urgent()
        return self._is_cancelled(request) or self.actor_ref.lifecycle.exit_request is not None

    # -- output --------------------------------------------------------------------------

    def _deliver(self, request: LLMRequest, event: LLMEvent) -> None:
        if request.reply_to is not None:
            # A receiver that is down (maybe restarting) is its supervisor's business.
            outcome = cast(request.reply_to, event)
            if outcome != "ok":
                self.log.debug("reply not delivered", reply_to=request.reply_to, why=outcome)

    def _publish(self, reply: LLMDone | LLMError) -> None:
        self._counts["requests"] += 1
        if isinstance(reply, LLMError):
            self._counts["errors"] += 1
            self.publish_figures(**self._counts)
            return
        if reply.finish_reason == "cancelled":
            self._counts["cancelled"] += 1
        self.publish_figures(
            **self._counts,
            conversations=len(self._conversations),
            prompt_tokens=reply.prompt_tokens,
            prompt_eval_tokens=reply.prompt_eval_tokens,
            completion_tokens=reply.completion_tokens,
            time_to_first_token_ms=round(reply.time_to_first_token * 1000, 2),
            **({} if reply.cached else {"tokens_per_second": round(reply.tokens_per_second, 2)}),
        )


def _pump(
    pieces: Generator[str, None, None],
    result: Generation,
    emit: Callable[[str], None],
    gate: CallGate | None,
    stops: tuple[str, ...],
) -> tuple[str, str | None, float]:
    """Sanitise an engine's text pieces into `emit` (through `gate` when tools are offered),
    ending at the request's own `stops` as at the templates', or at a tool's name
    (`CallGate.talked_of`). Returns the text, the held
    text of a reply that starts like a tool call (None otherwise), and the tokens per
    second; `result` says how the engine finished and how many tokens it wrote."""
    sanitizer = StreamSanitizer((*ALL_STOPS, *stops))
    first_piece = last_piece = None
    with contextlib.closing(pieces):
        for piece in pieces:
            last_piece = now()
            if first_piece is None:
                first_piece = last_piece
            clean = sanitizer.feed(piece)
            emit(gate.feed(clean) if gate else clean)
            if sanitizer.stopped or (gate is not None and gate.talked_of is not None):
                break  # a tool named: what follows is its description, never streamed
    if result.finish_reason != "cancelled":
        # Held text (trailing whitespace, a maybe-marker) belongs to a finished reply;
        # a cancelled one sends nothing more after the cancel.
        tail = sanitizer.finish()
        emit(gate.feed(tail) + gate.finish() if gate else tail)
    speed = 0.0
    if first_piece is not None and last_piece is not None and last_piece > first_piece:
        speed = (len(result.tokens) - 1) / (last_piece - first_piece)
    held = gate.held if gate is not None and gate.holding else None
    if held is not None:
        return "", held, speed
    if gate is not None and gate.talked_of is not None:
        return gate.streamed, None, speed  # the reply up to the tool's name
    return sanitizer.text, None, speed


class _Tokens:
    """A request's streamed text, sent on as numbered `LLMToken`s to its ``reply_to``;
    remembers when the first one went out."""

    def __init__(self, actor: LLMActor, request: LLMRequest) -> None:
        self.actor, self.request = actor, request
        self.first: float | None = None
        self.index = 0

    def __call__(self, text: str) -> None:
        if not text:
            return
        request = self.request
        if self.first is None:
            self.first = now()
            step(request.turn_id, "llm", "first token")
        token = LLMToken(request_id=request.request_id, text=text, index=self.index,
                         turn_id=request.turn_id)  # fmt: skip
        self.actor._deliver(request, token)
        self.index += 1
