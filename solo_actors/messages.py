"""Every message that crosses an actor boundary in Solo, in one module.

Messages are frozen, tagged msgspec Structs: immutable (safe to share between threads),
cheap to build, and encodable as JSON or MessagePack without extra code, so the same types can
later cross a process pipe or a NATS subject. A voice turn carries a ``turn_id`` and the
monotonic timestamps of each stage, so the latency of every turn can be stored and shown.

Flow: AudioFrame -> wake -> WakeDetected -> VAD -> Utterance -> stt -> Transcript -> llm ->
LLMToken... LLMDone -> tts (sentence by sentence) -> AudioOut... ; Interrupt cancels
generation and playback (barge-in).
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from solo_actors.runtime.clock import now, wall_clock
from solo_actors.runtime.ids import new_id


class Message(msgspec.Struct, frozen=True, tag=True, kw_only=True):
    """Base of all messages; the tag is the class name."""


class StageTimes(msgspec.Struct, frozen=True, kw_only=True):
    """Monotonic timestamps of one voice turn's stages; None until the stage happens."""

    wake: float | None = None
    speech_end: float | None = None
    transcript: float | None = None
    first_token: float | None = None
    first_audio: float | None = None
    done: float | None = None


# --- audio in -----------------------------------------------------------------------------


class AudioFrame(Message, frozen=True):
    """A fixed-size block of 16 kHz mono int16 PCM from the microphone or a file."""

    pcm: bytes
    sample_rate: int
    sequence: int
    captured_at: float = msgspec.field(default_factory=now)


class WakeDetected(Message, frozen=True):
    turn_id: str
    keyword: str
    score: float
    at: float = msgspec.field(default_factory=now)
    room: str | None = None
    """Heard by a room's satellite (told to skills: it silences what rings there); None:
    Solo's own microphone."""


class TurnAbandoned(Message, frozen=True):
    """vad to the turn watch: listening for ``turn_id`` ended with no question (no speech
    in time, or a newer wake word took over), so no `TurnDone` will come for it."""

    turn_id: str


class TurnHeard(Message, frozen=True):
    """vad to the turn watch: the question of ``turn_id`` is heard and on its way to stt."""

    turn_id: str


class TurnMailLost(Message, frozen=True):
    """A stage to the turn watch: ``turn_id``'s ``message`` could not be told to
    ``receiver`` (not running just then: being restarted, or its mailbox full), and without
    it the turn cannot go on. The turn watch fails the turn at once."""

    turn_id: str
    receiver: str
    message: str


class Utterance(Message, frozen=True):
    """The speech between the wake word and the end of speech, ready for STT."""

    turn_id: str
    pcm: bytes
    sample_rate: int
    times: StageTimes


class SpeechSoFar(Message, frozen=True):
    """vad at a pause in the user's speech: the `Utterance` it would send if the user said
    nothing more, so stt transcribes it while vad waits out the silence timeout. With
    ``speaking``, sent while the user is still speaking (every ``voice.vad.partial_every``
    seconds): the words so far, which no utterance will match."""

    turn_id: str
    pcm: bytes
    sample_rate: int
    speaking: bool = False
    conversation_id: str | None = None
    """The conversation the words will be a turn of (a room's, for a satellite's stream,
    whose ``turn_id`` is its stream id); None: Solo's own."""


class FollowUp(Message, frozen=True):
    """speaker to vad: the spoken reply to ``after_turn`` has finished playing; listen
    ``voice.vad.follow_up`` seconds for a follow-up question without the wake word."""

    after_turn: str


TurnEndVerdict = Literal["complete", "incomplete"]


class TurnEnd(Message, frozen=True):
    """stt to vad, after transcribing the `SpeechSoFar` of a pause: the words so far are a
    finished question (end the turn now) or stop mid-phrase (wait longer); see
    voice/turn_end.py. ``pcm_bytes`` is that speech's length, so vad can tell whether the
    user has spoken again since, which makes the verdict stale."""

    turn_id: str
    pcm_bytes: int
    verdict: TurnEndVerdict


class Transcript(Message, frozen=True):
    turn_id: str
    text: str
    times: StageTimes


class TranscribeAudio(Message, frozen=True):
    """Ask the stt actor: the words of a recording, 16 kHz mono int16 ``pcm`` (->
    `AudioTranscribed`, or `VoiceRequestFailed` saying why). Nothing is sent on to the
    dialogue: the asker (the API's /v1/audio/transcriptions) gets the text."""

    pcm: bytes


class AudioTranscribed(Message, frozen=True):
    text: str
    seconds: float
    """The recording's length."""
    language: str


class VoiceRequestFailed(Message, frozen=True):
    """An stt or tts request that could not be served; ``message`` says why and the fix."""

    message: str
    unavailable: bool = False
    """The engine failed, not the request (a remote service that is down, no fallback)."""


# --- language model, and its tools: function calling -----------------------------------------
# A tool belongs to an actor (its "owner": "skills", an MCP server's actor). The llm asks
# each owner named in ``llm.tool_owners`` for its `Tools` (`ListTools`), offers them to a
# model whose chat template supports function calling, and runs a call the model writes as a
# `CallTool` ask to the owner, with a timeout; the `ToolResult` goes back into the prompt.
# Every owner answers `ListTools` and `CallTool`, never raising: a failure is a ToolResult
# with ``error`` set, in words the model (and a person) can act on.

JsonObject = dict[str, object]


class ToolDefinition(msgspec.Struct, frozen=True, kw_only=True):
    """One tool as a model is shown it: a name, what it does, and its arguments' JSON
    Schema (an object schema, as OpenAI's ``function.parameters``)."""

    name: str
    description: str = ""
    parameters: JsonObject = msgspec.field(default_factory=lambda: {"type": "object"})


class FunctionCall(msgspec.Struct, frozen=True, kw_only=True):
    """A call of a tool written by the model: ``arguments`` is the parsed JSON object."""

    call_id: str = msgspec.field(default_factory=lambda: "call_" + new_id())
    name: str
    arguments: JsonObject = msgspec.field(default_factory=dict)


class ChatMessage(msgspec.Struct, frozen=True, kw_only=True):
    """One message of a chat history. An assistant message may carry the calls it made
    (``tool_calls``, OpenAI's first leg of function calling); a "tool" message is the answer
    to the call ``tool_call_id``."""

    role: str
    content: str
    tool_calls: tuple[FunctionCall, ...] = ()
    tool_call_id: str | None = None


class ListTools(Message, frozen=True):
    """Ask a tool owner: the tools it offers (-> `Tools`)."""


class Tools(Message, frozen=True):
    items: list[ToolDefinition]
    error: str | None = None
    """Why the list is empty or stale (an MCP server not connected), in words."""


class CallTool(Message, frozen=True, kw_only=True):
    """Ask a tool owner: run one tool (-> `ToolResult`)."""

    name: str
    arguments: JsonObject = msgspec.field(default_factory=dict)
    call_id: str = msgspec.field(default_factory=new_id)
    said: str | None = None
    """The user's words the call answers (the turn's message), for an owner that acts only
    on what was said (skills: a length or time the user never said is refused, not guessed);
    None when the caller has no user (agents, MCP clients)."""
    room: str | None = None
    """The room (a ``[[satellites]]`` name) whose user asked: what the call sets rings
    there; None: Solo's own speaker."""


class ToolResult(Message, frozen=True, kw_only=True):
    """What a tool answered, as text for the model; ``error`` when it did not run."""

    call_id: str
    name: str
    content: str
    error: bool = False


class LLMRequest(Message, frozen=True, kw_only=True):
    """Ask the llm actor for a reply; tokens stream to ``reply_to`` (a registered name).

    With a ``conversation_id`` the actor keeps the history and the prompt is the next user
    turn; without one the request stands alone. ``system`` overrides the configured system
    prompt; ``temperature``, ``max_tokens``, ``top_p`` and ``seed`` override the configured
    sampling for this request only. ``times`` comes back in `LLMDone` with ``first_token``
    filled in.
    """

    request_id: str = msgspec.field(default_factory=new_id)
    conversation_id: str | None = None
    prompt: str
    system: str | None = None
    history: tuple[ChatMessage, ...] = ()
    """Messages before ``prompt`` (user, assistant, tool), oldest first, as an OpenAI client
    sends them: a request without a conversation takes them as its whole context; they
    start a conversation the actor does not hold yet; one it holds keeps its own history."""
    reply_to: str | None = None
    turn_id: str | None = None
    temperature: float | None = None
    max_tokens: int | None = None
    top_p: float | None = None
    stop: tuple[str, ...] = ()
    """Strings that end the reply where the model writes them (they are not part of it)."""
    seed: int | None = None
    times: StageTimes | None = None
    room: str | None = None
    """The room (a ``[[satellites]]`` name) whose user the reply answers: a tool call acts
    for it (a timer it sets rings there)."""
    use_tools: bool = False
    """Offer the tools of ``llm.tool_owners`` (when the model's template supports function
    calling) and run the calls the model makes, up to ``llm.tool_rounds`` rounds."""
    tools: list[ToolDefinition] | None = None
    """The caller's own tools (an OpenAI ``tools`` list): offered instead of the owners'; a
    call is not run but returned in `LLMDone.tool_calls` (finish_reason "tool_calls")."""
    force_tool: str | None = None
    """With ``tools``: the reply must be a call, of the tool of this name, or of any of
    them with "*" (OpenAI's ``tool_choice`` "required" or a named function)."""
    tool_round: tuple[ChatMessage, ...] = ()
    """The caller's tool round after ``prompt`` (an OpenAI client's second leg): the
    assistant's message with its ``tool_calls`` and the "tool" messages answering them. The
    reply continues after them."""


class LLMPrefill(Message, frozen=True, kw_only=True):
    """Read the prompt that a coming `LLMRequest` will have into the KV cache, and answer
    nothing: the request then evaluates only what differs (one token if nothing does).
    Finished words (not `unfinished`) also have their reply begun (``llm.write_ahead``),
    which a request with the same prompt takes up. Fields as in `LLMRequest`."""

    conversation_id: str | None = None
    prompt: str
    system: str | None = None
    use_tools: bool = False
    turn_id: str | None = None
    """The voice turn it reads ahead for (its trace, ``log.trace``)."""
    unfinished: bool = False
    """The prompt ends with the words of a user who is still speaking: read only up to them,
    not the template's end of their message nor the punctuation Whisper put after the last
    word so far, so the next words continue what was read instead of replacing its end."""


class LLMToken(Message, frozen=True):
    """One streamed piece of a reply; the pieces of a request concatenate to its text."""

    request_id: str
    text: str
    index: int
    turn_id: str | None = None


class LLMDone(Message, frozen=True):
    """The end of a reply. ``finish_reason``: "stop" (end of turn), "length" (max_tokens;
    an unfinished last sentence is cut from ``text``), "cancelled" (partial text), or
    "tool_calls" (the model called the request's own ``tools``: see ``tool_calls``).
    ``prompt_eval_tokens`` counts the prompt tokens actually evaluated; the rest of
    ``prompt_tokens`` were reused from the KV cache. Seconds are wall-clock durations."""

    request_id: str
    text: str
    prompt_tokens: int
    prompt_eval_tokens: int
    completion_tokens: int
    tokens_per_second: float
    time_to_first_token: float
    finish_reason: str
    cached: bool = False
    turn_id: str | None = None
    times: StageTimes | None = None
    tool_calls: list[FunctionCall] = msgspec.field(default_factory=list)
    """The calls of the request's own tools, for the caller to run (not run here)."""
    tools_used: list[str] = msgspec.field(default_factory=list)
    """The owners' tools the llm ran for this reply, in order."""

    @classmethod
    def whole_text(
        cls,
        request_id: str,
        text: str,
        *,
        turn_id: str | None = None,
        times: StageTimes | None = None,
    ) -> LLMDone:
        """The end of a reply that was not generated here token by token (an agents run's
        result, a fixed text): no token counts, no speed."""
        return cls(
            request_id=request_id,
            text=text,
            prompt_tokens=0,
            prompt_eval_tokens=0,
            completion_tokens=0,
            tokens_per_second=0.0,
            time_to_first_token=0.0,
            finish_reason="stop",
            turn_id=turn_id,
            times=times,
        )


class LLMError(Message, frozen=True):
    """A request the llm actor could not serve; ``message`` says why and what to do."""

    request_id: str
    message: str
    turn_id: str | None = None
    code: str | None = None
    """What kind of refusal, for a caller that maps it (the API, to OpenAI's error codes):
    "context_length_exceeded", "tools_not_supported"; None for any other."""


class LLMCancel(Message, frozen=True):
    """Stop one request (running or still queued); its `LLMDone` says "cancelled"."""

    request_id: str


class SpeechStarted(Message, frozen=True):
    """tts to the llm, urgent: the reply of ``turn_id`` is being spoken from now on, so its
    generation leaves tts a core (`solo_actors.llm.engine.thread_counts`)."""

    turn_id: str


class LLMDescribe(Message, frozen=True):
    """Ask the llm actor: which model, template and default sampling (-> `LLMDescription`)."""


class LLMDescription(Message, frozen=True, kw_only=True):
    """The llm actor's model, for people (``solo chat /params``)."""

    model: str
    path: str
    template: str
    n_ctx: int
    temperature: float
    top_p: float
    top_k: int
    repeat_penalty: float
    seed: int
    max_tokens: int
    draft_tokens: int = 0
    """Tokens guessed by prompt lookup after each one (``llm.draft_tokens``)."""
    engine: str = "llama.cpp"
    """Who writes the replies: "llama.cpp" (here) or "openai" (a remote server, `path` its
    URL)."""
    serving: str = ""
    """With the remote engine: which engine serves the next turn ("openai" or "llama.cpp")."""
    fallback: str = ""


class LLMGetHistory(Message, frozen=True):
    """Ask the llm actor: a conversation as the model sees it now (-> `LLMHistory`)."""

    conversation_id: str


class LLMHistory(Message, frozen=True):
    """The system prompt, then the kept turns; empty for a conversation the actor lacks."""

    conversation_id: str
    messages: list[ChatMessage]


class LLMAppend(Message, frozen=True):
    """Tell the llm actor: an exchange of a conversation that another actor answered (a
    skill's), to join the conversation's history, so that the model's next turn there reads
    it ("explain it" after a joke, "and times 3" after a sum). A reply that declined is left
    out, as the model's own are (solo_actors/declines.py)."""

    conversation_id: str
    said: str
    reply: str


class LLMForget(Message, frozen=True):
    """Tell (or ask, -> None) the llm actor: drop a conversation's history and KV snapshot."""

    conversation_id: str


# --- dialogue: one user turn, whatever its source ----------------------------------------


TurnSource = Literal["voice", "text", "api", "agents", "skills", "wyoming", "satellite"]
"""Where a turn came from; "skills" is a timer, alarm or reminder announcing itself;
"wyoming" a Wyoming client (Home Assistant's conversation agent); "satellite" a room's
Wyoming satellite."""


class UserTurn(Message, frozen=True, kw_only=True):
    """Text from the user for the dialogue actor to answer.

    The dialogue actor recalls memories, asks the llm, streams the reply's `LLMToken`s and
    then its `LLMDone` (or an `LLMError`) to ``reply_to`` (a registered name, e.g. "tts"),
    and finally records the turn and tells ``reply_to`` a `TurnDone`.
    """

    turn_id: str = msgspec.field(default_factory=new_id)
    conversation_id: str
    text: str
    source: TurnSource
    reply_to: str | None = None
    times: StageTimes = msgspec.field(default_factory=StageTimes)
    room: str | None = None
    """The room (a ``[[satellites]]`` name) whose satellite heard the turn; None: Solo's own
    microphone, text or the API. A timer, alarm or reminder it sets rings in that room."""


class TurnAhead(Message, frozen=True, kw_only=True):
    """stt at a pause: the words so far, the text of `turn_id` if the user says nothing
    more. The dialogue actor gets the reply ready (memories recalled, the prompt read into
    the llm's KV cache) while vad waits out the silence timeout; a turn that ends with other
    words just does not use what was prepared."""

    turn_id: str
    conversation_id: str
    text: str
    speaking: bool = False
    """The user is still speaking: the text is the start of the turn's, at best. The llm
    reads it, with the memories it recalls, so the turn's prompt, which starts the same
    when the whole text recalls the same memories, has only its end left to read."""


class TurnDone(Message, frozen=True, kw_only=True):
    """A finished turn: what was said, what was answered, and how long each stage took.
    ``error`` is set (and ``reply`` is what the user was told instead) when a stage failed."""

    turn_id: str
    conversation_id: str
    source: TurnSource
    text: str
    reply: str
    times: StageTimes
    model: str | None = None
    tokens_per_second: float | None = None
    memories_used: int = 0
    error: str | None = None


# --- audio out and control ----------------------------------------------------------------


class AudioOut(Message, frozen=True):
    turn_id: str
    pcm: bytes
    sample_rate: int
    sentence_index: int
    opened: float
    """When the user opened the turn (its first stage time): the speaker drops the audio of
    a turn opened before the latest barge-in's wake word."""


class SynthesizeSpeech(Message, frozen=True, kw_only=True):
    """Ask the tts actor: ``text`` as audio, returned rather than played (->
    `SpeechSynthesized`, or `VoiceRequestFailed`). ``voice``: a catalog id or .onnx path
    (None: ``voice.tts.voice``); ``speed`` > 1 speaks faster."""

    text: str
    voice: str | None = None
    speed: float = 1.0


class SpeechSynthesized(Message, frozen=True):
    pcm: bytes
    """Mono int16 samples."""
    sample_rate: int
    voice: str


class Interrupt(Message, frozen=True):
    """Barge-in: cancel generation and playback of the given turn (or all if None)."""

    turn_id: str | None = None
    reason: str = "barge-in"


class InputEnded(Message, frozen=True):
    """A finite input (a WAV file, stdin) is used up. It travels down the voice pipeline
    behind the last frame or line, each stage passing it on once its own turns are done,
    so the speaker knows when everything the input asked for has been answered."""

    source: str
    turns: int = 0
    """Turns of the input that were answered, set by the speaker as it passes this on."""
    problem: str | None = None
    wake_words: int | None = None
    """Wake words heard in the input, set by the wake actor as it passes this on; None when
    no wake word was listened for (typed lines, ``--no-wake``)."""


class ReplyShown(Message, frozen=True):
    """To the mic: the reply to the typed turn ``turn_id`` is shown whole (printed at the
    terminal by the console actor, or its JSON line written by the speaker), so the next
    typed line may be asked."""

    turn_id: str


class ChangeVolume(Message, frozen=True, kw_only=True):
    """Ask the speaker, or a room's satellite actor, to set the loudness of what it plays
    (-> `VolumeIs`): ``level`` sets it, ``step`` moves it up (> 0) or down; neither asks
    what it is. Levels are 1 to 10 (`solo_actors.voice.volume`); one outside is taken to
    the nearest end, which `VolumeIs.limited` says."""

    level: int | None = None
    step: int = 0


class VolumeIs(Message, frozen=True, kw_only=True):
    level: int
    before: int
    limited: bool = False
    """The level asked for was past an end (the loudest or quietest) and was kept there."""


class ChangeSpeakingRate(Message, frozen=True, kw_only=True):
    """Ask tts to set how fast Solo speaks (-> `SpeakingRateIs`): ``percent`` of the voice's
    normal speed sets it, ``step`` moves it by that many percent, faster (> 0) or slower;
    neither asks what it is. The rate is 60 to 140 percent (`solo_actors.voice.speaking_rate`);
    one outside is taken to the nearest end, which `SpeakingRateIs.limited` says."""

    percent: int | None = None
    step: int = 0


class SpeakingRateIs(Message, frozen=True, kw_only=True):
    percent: int
    before: int
    limited: bool = False
    """The rate asked for was past an end (the slowest or fastest) and was kept there."""
    remote: bool = False
    """Solo's voice is a remote service's, which speaks at its own speed: the rate applies
    only to the local voice that stands in for it."""


# --- storage and memory -------------------------------------------------------------------
# Writes are tells to "store" (buffered, flushed every store.flush_interval_ms or
# store.flush_rows rows); `Flush` is the ask that returns once everything told before it is
# durable. Reads are asks answered with `Rows` / `StoreStats`, or `StoreFailure` (never an
# exception) when the database is unreachable. Times are wall-clock epoch seconds.
# The "memory" actor takes `Remember` (tell), `Recall` (ask -> `Memories`), `Forget` (ask ->
# `Forgotten`); `Recall` never raises either: on failure `Memories.error` says why.


JsonValue = str | int | float | bool | None


class RecordTurn(Message, frozen=True):
    """One finished exchange of a conversation; re-recording a ``turn_id`` replaces it."""

    turn_id: str
    conversation_id: str
    user_text: str
    reply_text: str
    model: str | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    tokens_per_second: float | None = None
    time_to_first_token: float | None = None
    finish_reason: str | None = None
    times: StageTimes | None = None
    user_id: str | None = None
    at: float = msgspec.field(default_factory=wall_clock)


class RecordEvent(Message, frozen=True):
    kind: str
    source: str
    data: dict[str, JsonValue] = msgspec.field(default_factory=dict)
    at: float = msgspec.field(default_factory=wall_clock)


class RecordEvents(Message, frozen=True):
    """Many events in one message: the cheap way to log at high rates."""

    events: list[RecordEvent]


class RecordMetric(Message, frozen=True):
    name: str
    value: float
    labels: dict[str, str] = msgspec.field(default_factory=dict)
    at: float = msgspec.field(default_factory=wall_clock)


class SaveUser(Message, frozen=True):
    """Create or replace a user."""

    user_id: str
    name: str
    role: str = "user"
    at: float = msgspec.field(default_factory=wall_clock)


class SaveApiToken(Message, frozen=True):
    """Create or replace an API token; only its hash is stored (`store.hash_token`)."""

    token_hash: str
    user_id: str
    label: str | None = None
    expires_at: float | None = None
    revoked: bool = False
    at: float = msgspec.field(default_factory=wall_clock)


class DeleteUser(Message, frozen=True):
    """Ask: delete a user with their API tokens and sessions, and (unless
    ``keep_conversations``) their conversations with every turn -> `UserDeleted`. Buffered
    writes are flushed first, so none of them brings a deleted row back."""

    user_id: str
    keep_conversations: bool = False


class UserDeleted(Message, frozen=True):
    user_id: str
    rows: dict[str, int]
    """Rows deleted per table (0 everywhere: there was no such user)."""


class RevokeApiTokens(Message, frozen=True):
    """Ask: mark API tokens revoked, one by its hash or all of a user's -> `TokensRevoked`."""

    token_hash: str | None = None
    user_id: str | None = None


class TokensRevoked(Message, frozen=True):
    count: int
    """Tokens newly revoked (already revoked ones are not counted)."""


class SaveSession(Message, frozen=True):
    session_id: str
    user_id: str
    expires_at: float
    data: dict[str, JsonValue] = msgspec.field(default_factory=dict)
    at: float = msgspec.field(default_factory=wall_clock)


class Flush(Message, frozen=True):
    """Ask: write everything buffered now; the reply says whether it is durable."""


class Flushed(Message, frozen=True):
    durable: bool
    """True when every write told before the `Flush` is in the database."""
    buffered: int
    error: str | None = None


class ReadRows(Message, frozen=True):
    """Ask: rows of one store table, newest first, filtered by equal columns and a time range."""

    table: str
    equals: dict[str, JsonValue] = msgspec.field(default_factory=dict)
    since: float | None = None
    until: float | None = None
    limit: int = 100


class Rows(Message, frozen=True):
    table: str
    columns: list[str]
    rows: list[list[JsonValue]]


class GetStoreStats(Message, frozen=True):
    """Ask: rows, sizes, partitions and the writer's health."""


class StoreStats(Message, frozen=True):
    backend: str
    schema_version: int
    rows: dict[str, int]
    size_bytes: int
    partitions: list[str]
    buffered: int = 0
    dropped: int = 0
    backend_up: bool = True
    last_error: str | None = None


class BackupStore(Message, frozen=True):
    """Ask: back up the store and the memories to ``out`` (a default path when None) while
    the assistant runs; the writer is paused for the copy."""

    out: str | None = None


class BackupDone(Message, frozen=True):
    path: str
    size_bytes: int


class StoreFailure(Message, frozen=True):
    """A store or memory request that could not be served; ``message`` says why and the fix."""

    message: str


class MemoryFilter(msgspec.Struct, frozen=True, kw_only=True):
    """Which memories a recall or forget considers; None matches anything."""

    user_id: str | None = None
    conversation_id: str | None = None
    kind: str | None = None
    exclude_conversation_id: str | None = None


class Remember(Message, frozen=True):
    text: str
    kind: str = "exchange"
    user_id: str | None = None
    conversation_id: str | None = None
    meta: dict[str, JsonValue] = msgspec.field(default_factory=dict)
    memory_id: str = msgspec.field(default_factory=new_id)
    at: float = msgspec.field(default_factory=wall_clock)


class Recall(Message, frozen=True):
    """Ask: the ``k`` memories nearest in meaning to ``query`` with similarity at least
    ``min_similarity`` (config defaults when None)."""

    query: str
    k: int | None = None
    filter: MemoryFilter = msgspec.field(default_factory=MemoryFilter)
    min_similarity: float | None = None


class MemoryItem(msgspec.Struct, frozen=True, kw_only=True):
    memory_id: str
    text: str
    similarity: float | None = None
    """Cosine similarity to the recall's query; None for a memory listed (`ListMemories`)."""
    kind: str
    user_id: str | None
    conversation_id: str | None
    meta: dict[str, JsonValue]
    at: float


class Memories(Message, frozen=True):
    items: list[MemoryItem]
    error: str | None = None


class ListMemories(Message, frozen=True):
    """Ask: the memories passing ``filter``, newest first, ``limit`` of them from ``offset``
    (-> `MemoryList`). What the user can read back of what Solo keeps about them."""

    filter: MemoryFilter = msgspec.field(default_factory=MemoryFilter)
    limit: int = 50
    offset: int = 0


class MemoryList(Message, frozen=True):
    items: list[MemoryItem]
    total: int
    """How many memories pass the filter, all pages together."""
    error: str | None = None


class Forget(Message, frozen=True):
    """Ask: delete memories by id, or every memory matching ``filter``, or, with
    ``everything``, every memory there is (exactly one of the three)."""

    memory_ids: list[str] = msgspec.field(default_factory=list)
    filter: MemoryFilter | None = None
    everything: bool = False


class Forgotten(Message, frozen=True):
    count: int
    error: str | None = None


FORGOTTEN_WORDS = "(forgotten)"
"""What a transcript keeps in place of words the user had Solo forget."""


class ForgetMentions(Message, frozen=True):
    """Tell, from the memory actor, to whoever keeps the user's words besides it: forget
    every exchange whose user words contain one of ``texts`` (the words of memories just
    forgotten; spaces compared as one). A memory the user had Solo forget must not live on
    elsewhere. The llm drops those exchanges from every conversation it holds (where the
    fact was told, and prompts it was recalled into) and its cached replies; the store
    blanks those turns' words in its transcript (`FORGOTTEN_WORDS`)."""

    texts: list[str]


class EmbedTexts(Message, frozen=True):
    """Ask the memory actor: the embedder's vectors of ``texts`` (-> `TextsEmbedded`, or
    `StoreFailure` when memory is disabled)."""

    texts: list[str]


class TextsEmbedded(Message, frozen=True):
    vectors: bytes
    """float32 little-endian, one row of ``dimensions`` per text, in the texts' order."""
    dimensions: int
    tokens: int
    """Tokens the embedder read (after truncation to ``memory.max_tokens`` per text)."""
    model: str


class GetMemoryStatus(Message, frozen=True):
    """Ask: is the memory ready, how many memories, how many remembers wait or were lost."""


class MemoryStatus(Message, frozen=True):
    ready: bool
    memories: int
    pending: int
    dropped: int
    last_error: str | None = None
    maintenance_runs: int = 0
    """Maintenance passes (compaction, index checks) done since the actor started."""
    indexing: bool = False
    """An index build is running (remembers wait for it; recalls go on)."""
    layout: dict[str, int] = msgspec.field(default_factory=dict)
    """The index's storage shape, e.g. LanceDB ``versions`` and ``fragments``."""


# --- skills: local intents before the llm ---------------------------------------------------
# The dialogue actor tells the "skills" actor a `SkillTurn` for a turn whose text fits a
# sentence template; the skills actor answers it like a reply (`LLMToken`, `LLMDone`,
# `TurnDone` to the turn's ``reply_to``). Timers, alarms and reminders are `SkillItem`s, kept
# in the store (`SaveSkillItem`, table ``skill_items``); one that falls due is a `SkillFired`
# on the events hub (topic "skills") and a `TurnDone` (source "skills") told to
# ``skills.announce_to``, which speaks or prints it; one set in a room (`UserTurn.room`) is a
# `SayInRoom` to that room's actor instead, and a room's timers are `RoomTimer` events there.
# Rooms tell skills `RoomLink` (connected or not). The API and CLI ask `ListSkillItems`,
# `CreateSkillItem`, `CancelSkillItem` and `Announce`. Times are wall-clock epoch seconds.

SkillKind = Literal["timer", "alarm", "reminder"]
SkillState = Literal["pending", "paused", "fired", "cancelled"]
"""A paused timer is still the book's: it does not fall due until it is resumed."""
SkillRepeat = Annotated[
    str,
    msgspec.Meta(
        pattern=r"^(?:daily|weekdays|weekends|monday|tuesday|wednesday|thursday|friday"
        r"|saturday|sunday|monthly-(?:[1-9]|[12][0-9]|3[01]))$",
        examples=["daily", "weekdays", "monday", "monthly-1"],
    ),
]
"""When an alarm or reminder comes again at its time of day: every day, Monday to Friday,
Saturday and Sunday, one day each week, or one day each month ("monthly-15"; in a month
without that day, its last)."""


class SkillItem(msgspec.Struct, frozen=True, kw_only=True):
    """A timer, alarm or reminder: what is due when, and whether it still is."""

    item_id: str = msgspec.field(default_factory=new_id)
    kind: SkillKind
    label: str
    """The timer's name, the alarm's time as said, the reminder's task."""
    due_at: float
    length: float = 0.0
    """A timer's whole length in seconds (0 for alarms and reminders)."""
    state: SkillState = "pending"
    created_at: float = msgspec.field(default_factory=wall_clock)
    fired_at: float | None = None
    room: str | None = None
    """The room it was set from, where it rings; None: Solo's own speaker."""
    repeats: SkillRepeat | None = None
    """An alarm or reminder that comes again: fired, it is followed by a new pending item at
    the next such day, same time of day. None: once."""
    paused_left: float | None = None
    """A paused timer's seconds left ("pause the timer"); resumed, it is due that long after.
    None unless paused."""

    def seconds_left(self, now: float) -> float:
        """Seconds until it is due: counting down, or held while it is paused."""
        return self.paused_left if self.paused_left is not None else self.due_at - now


class SaveSkillItem(Message, frozen=True):
    """Create or replace a timer, alarm or reminder in the store."""

    item: SkillItem


ListState = Literal["open", "removed"]


class ListItem(msgspec.Struct, frozen=True, kw_only=True):
    """One thing on one of the user's lists ("milk" on the shopping list)."""

    item_id: str = msgspec.field(default_factory=new_id)
    list_name: str
    """The list's name as Solo says it: "shopping", "to-do", "packing"."""
    text: str
    state: ListState = "open"
    created_at: float = msgspec.field(default_factory=wall_clock)
    changed_at: float | None = None
    """When it was crossed off (or its list cleared); None while it is open."""


class SaveListItem(Message, frozen=True):
    """Create or replace a list item in the store."""

    item: ListItem


class ListItems(Message, frozen=True):
    """The skills actor's answer to `GetLists`: every open item, oldest first."""

    items: list[ListItem]


class GetLists(Message, frozen=True):
    """API to skills (ask): the open items of every list, or of ``list_name`` alone (named
    as in the API's path or query: the skills actor reads it as a spoken name, aliases
    included, so "todo" is the to-do list)."""

    list_name: str | None = None


class AddToList(Message, frozen=True):
    """API to skills (ask): put ``items`` on list ``list_name`` (made by naming it, read as
    `GetLists` reads it); answered with `ListChanged` once durable, or `SkillRefused` (no
    list named, the list full, the store down)."""

    list_name: str
    items: list[str]


class CrossOffList(Message, frozen=True):
    """API to skills (ask): take the open item ``item_id`` off list ``list_name`` (None:
    every open item, clearing it); answered with `ListChanged` once durable, or
    `SkillRefused` (``not_found``: no such open item)."""

    list_name: str
    item_id: str | None = None


class ListChanged(Message, frozen=True):
    """The items added or crossed off, and the ones asked for that were on the list already."""

    items: list[ListItem]
    already: list[str] = []


class Exchange(msgspec.Struct, frozen=True):
    """One turn of a conversation: what the user said and what Solo replied."""

    said: str
    reply: str
    at: float = 0.0
    """When Solo replied (`runtime.clock.now`, monotonic: a step of the wall clock cannot
    reorder it): a line said since, where the user is (a timer ringing), is what "say that
    again" repeats instead."""
    model: str = ""
    """Who replied: the llm's model, or "skills:<intent>" (`TurnDone.model`)."""


class SkillTurn(Message, frozen=True):
    """A user turn whose text fits a skill's template, for the skills actor to answer."""

    turn: UserTurn
    text: str | None = None
    """The text to answer when it is not the turn's own: the turn answered a skill's
    question, and this is the request it completes ("set a timer for 5 minutes")."""
    last: Exchange | None = None
    """The conversation's turn before this one ("say that again", "what did I say?")."""


class SkillDeclined(Message, frozen=True):
    """The skills actor leaves a `SkillTurn`'s turn to the llm (a memory near "What's my
    favourite colour?", which the llm reads with it): the dialogue actor asks the llm."""

    turn: UserTurn
    memories: list[MemoryItem] = msgspec.field(default_factory=list)
    """What the skill found for the turn (the memories near the question, this
    conversation's too): the llm reads these instead of the dialogue actor's recall."""


class SkillFired(Message, frozen=True):
    """A timer, alarm or reminder fell due; ``late_s`` > 0 when it was delivered late
    (it fell due while Solo was not running)."""

    item: SkillItem
    text: str
    late_s: float = 0.0


class ListSkillItems(Message, frozen=True):
    """Ask the skills actor: the pending items of one kind (all kinds when None), soonest
    first (-> `SkillItems`)."""

    kind: SkillKind | None = None


class SkillItems(Message, frozen=True):
    items: list[SkillItem]


class CreateSkillItem(Message, frozen=True, kw_only=True):
    """Ask the skills actor: create a timer (``due_at`` = now + ``length``), alarm or
    reminder, checked like a spoken one (-> `SkillItems` with the item, or `SkillRefused`)."""

    kind: SkillKind
    label: str = ""
    due_at: float = 0.0
    length: float = 0.0
    room: str | None = None
    """The room (a ``[[satellites]]`` name) it rings in; None: Solo's own speaker."""
    repeats: SkillRepeat | None = None
    """An alarm or reminder that comes again (`SkillItem.repeats`); ``due_at`` is its first."""


class CancelSkillItem(Message, frozen=True):
    """Ask the skills actor: cancel one pending item by id (-> `SkillItems` with it
    cancelled, or `SkillRefused` when there is no such pending item of ``kind``)."""

    item_id: str
    kind: SkillKind | None = None


class SkillRefused(Message, frozen=True):
    """A skills request refused; ``message`` says why, in words fit to be spoken.
    ``reason``: the request was wrong, named no pending item, or the store did not confirm."""

    message: str
    reason: Literal["invalid", "not_found", "unavailable"] = "invalid"


class Announce(Message, frozen=True, kw_only=True):
    """Ask the skills actor: say ``text`` in ``room`` (a ``[[satellites]]`` name), or in every
    room and on Solo's own speaker when None (-> `Announced`, or `SkillRefused` naming an
    unknown room or an empty text)."""

    text: str
    room: str | None = None


class Announced(Message, frozen=True):
    """Where an announcement was said (``"local"``: Solo's own speaker), and the rooms whose
    satellite was not connected."""

    delivered: list[str]
    unreachable: list[str]


class SayInRoom(Message, frozen=True, kw_only=True):
    """Tell a room's actor (``room-<name>``): speak ``text`` on its satellite, after a chime
    when ``alert`` (a timer, alarm or reminder, as on Solo's own speaker)."""

    text: str
    alert: bool = False


TimerChange = Literal["started", "updated", "cancelled", "finished"]


class RoomTimer(Message, frozen=True, kw_only=True):
    """Tell a room's actor: a timer set in that room changed; it sends the satellite the
    Wyoming ``timer-<change>`` event (``seconds``: the whole length when started, the
    seconds left when updated)."""

    change: TimerChange
    timer_id: str
    seconds: float = 0.0
    name: str | None = None
    active: bool = True
    """An updated timer counts down (False: it is paused)."""


class RoomLink(Message, frozen=True):
    """A room's actor tells skills whether its satellite is connected, when that changes
    (and when asked, `TellRoomLink`). What fell due in a room while it was not connected is
    said there, late, once it is."""

    room: str
    connected: bool


class TellRoomLink(Message, frozen=True):
    """Skills, restarted, asks each room's actor for a `RoomLink` (told back, not answered:
    skills never waits on a room)."""


# --- agents: CrewAI workflows over the local llm -------------------------------------------
# The "agents" actor takes `RunWorkflow` (ask -> `RunAccepted`, or `AgentsError` naming what was
# wrong), `GetRun` (ask -> `WorkflowRun` | `AgentsError`), `CancelRun` (ask -> `WorkflowRun` |
# `AgentsError`), `ListWorkflows` (ask -> `Workflows`) and `ListRuns` (ask -> `Runs`). A run's
# ``reply_to`` and the events hub (topic "agents") get a `RunProgress` as each step (one task of
# the workflow) starts and ends, then the final `WorkflowRun`. Times are monotonic seconds,
# durations seconds.

RunStatus = Literal[
    "queued", "running", "done", "failed", "cancelled", "timeout", "max_steps", "max_tokens"
]
"""A run ends "done", or with the limit that stopped it, "cancelled", or "failed" (``error``)."""

StepStatus = Literal["pending", "running", "done", "stopped"]


class RunWorkflow(Message, frozen=True, kw_only=True):
    """Ask: start ``workflow`` on ``input``. A ``turn`` (a voice or text turn routed to the
    agents) is answered like a reply: `LLMToken`, `LLMDone`, `TurnDone` to its ``reply_to``."""

    workflow: str
    input: str
    reply_to: str | None = None
    conversation_id: str | None = None
    turn: UserTurn | None = None


class RunAccepted(Message, frozen=True):
    run_id: str
    workflow: str
    steps: int


class AgentsError(Message, frozen=True):
    """A request the agents actor refused; ``message`` says what was wrong and the fix."""

    message: str


class GetRun(Message, frozen=True):
    run_id: str


class CancelRun(Message, frozen=True):
    run_id: str


class ListWorkflows(Message, frozen=True):
    """Ask: the workflows the agents actor can run (-> `Workflows`)."""


class ListRuns(Message, frozen=True):
    """Ask: the ``limit`` most recent runs kept, newest first (-> `Runs`)."""

    limit: int = 20


class WorkflowInfo(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    description: str
    process: str
    agents: list[str]
    tasks: list[str]
    triggers: list[str]


class Workflows(Message, frozen=True):
    items: list[WorkflowInfo]
    problems: dict[str, str] = msgspec.field(default_factory=dict)
    """Workflow files that did not load, by name, with what is wrong."""


class StepResult(msgspec.Struct, frozen=True, kw_only=True):
    """One task of a run: who did it, what it produced, and where the time went."""

    index: int
    task: str
    agent: str
    status: StepStatus = "pending"
    output: str = ""
    started: float | None = None
    seconds: float = 0.0
    llm_seconds: float = 0.0
    """Wall time spent waiting for the llm actor (queue + generation) during this step."""
    llm_calls: int = 0
    completion_tokens: int = 0


class ToolCall(msgspec.Struct, frozen=True, kw_only=True):
    """One call of a tool during a run: by an agent, or to fill a ``{tool}`` placeholder
    before the crew starts (``placeholder``)."""

    tool: str
    arguments: dict[str, JsonValue]
    output: str
    """What the tool answered (cut to 2,000 characters)."""
    step: int | None
    """The 1-based step running when it was called."""
    placeholder: bool = False
    seconds: float = 0.0


class WorkflowRun(Message, frozen=True, kw_only=True):
    """A run as it stands: every step's output so far, and the final ``result``."""

    run_id: str
    workflow: str
    input: str
    status: RunStatus
    steps: list[StepResult]
    result: str = ""
    """The last finished step's output: the answer, or the partial result of a stopped run."""
    error: str | None = None
    """Why a run did not end "done", in words."""
    created: float = msgspec.field(default_factory=now)
    started: float | None = None
    finished: float | None = None
    seconds: float = 0.0
    llm_seconds: float = 0.0
    llm_calls: int = 0
    completion_tokens: int = 0
    tool_calls: list[ToolCall] = msgspec.field(default_factory=list)


class Runs(Message, frozen=True):
    items: list[WorkflowRun]
    """Newest first."""


class RunProgress(Message, frozen=True):
    """Step ``step`` (1-based) of ``steps`` started or ended (``output`` and ``seconds``,
    the step's duration, then set)."""

    run_id: str
    workflow: str
    step: int
    steps: int
    task: str
    agent: str
    status: StepStatus
    output: str = ""
    seconds: float = 0.0


# --- wyoming: Solo's voice services for other programs ----------------------------------------
# The wyoming actor (Solo's Wyoming server) and each room's satellite actor ask the voice
# actors for one service at a time: a tell with their own registered name as ``reply_to``,
# answered by tells carrying the same ``request_id`` (``stream_id`` for wake). They monitor
# the actor serving them (`supervisors.monitor`), so a crash there ends the request at once
# with a clear error instead of a silence. Audio is 16 kHz mono int16 PCM, as everywhere in
# the pipeline; the wyoming code converts whatever a client sends.


class Transcribe(Message, frozen=True):
    """Ask stt for the text of ``pcm`` (-> `Transcribed` to ``reply_to``)."""

    request_id: str
    pcm: bytes
    reply_to: str
    window: float = 0.0
    """Seconds of audio Whisper's encoder sees at least (see ``voice.stt.window``); 0 = that
    setting. A caller that needs the words more than the speed asks for 30."""


class Transcribed(Message, frozen=True):
    request_id: str
    text: str
    """"" when no words were recognised."""
    error: str = ""
    """Why nothing could be transcribed (a remote engine's failure); "" when it was."""


class Synthesize(Message, frozen=True):
    """Ask tts to say ``text`` (-> one `SynthesizedAudio` per sentence, then `Synthesized`)."""

    request_id: str
    text: str
    reply_to: str


class SynthesizedAudio(Message, frozen=True):
    """One sentence of a `Synthesize` request's speech: int16 mono at ``sample_rate``."""

    request_id: str
    pcm: bytes
    sample_rate: int
    index: int


class Synthesized(Message, frozen=True):
    """The end of a `Synthesize` request: ``sentences`` pieces of audio were sent."""

    request_id: str
    sentences: int
    error: str = ""
    """Why the text could not be said (a remote engine's failure); "" when it was."""


class DetectWake(Message, frozen=True):
    """A piece of one audio stream for the wake word (-> `WakeResult` to ``reply_to`` on a
    detection, and once with ``ended`` after the piece marked ``end``). Each stream has
    its own detector; ``end`` frees it."""

    stream_id: str
    pcm: bytes
    reply_to: str
    end: bool = False


class WakeResult(Message, frozen=True):
    stream_id: str
    keyword: str | None
    """The wake word heard; None in the answer to a stream's end."""
    at_s: float = 0.0
    """Seconds of the stream's audio up to the end of the wake word."""
    ended: bool = False


class DetectSpeech(Message, frozen=True):
    """A piece of one audio stream (a room's satellite) for vad to endpoint
    (-> one `SpeechEnded` to ``reply_to``). Each stream has its own detector and the same
    end of turn as Solo's microphone: at a pause stt transcribes the speech so far and its
    words may end the stream at once (`SpeechSoFar`, `TurnEnd`). A `SpeechEnded` ends the
    stream."""

    stream_id: str
    pcm: bytes
    reply_to: str
    conversation_id: str | None = None
    """The conversation its speech will be a turn of: the words heard at its pauses are
    read ahead into it (`SpeechSoFar`)."""


class SpeechEnded(Message, frozen=True):
    """The speech of a `DetectSpeech` stream, from just before it started to just after it
    ended (or was cut at ``voice.vad.max_utterance``); empty when nobody spoke within
    ``voice.vad.listen_timeout``."""

    stream_id: str
    pcm: bytes


class RecognizeIntent(Message, frozen=True):
    """Ask skills which of its intents ``text`` asks for, doing nothing
    (-> `IntentsRecognized` to ``reply_to``)."""

    request_id: str
    text: str
    reply_to: str


class RecognizedIntent(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    slots: dict[str, JsonValue]
    error: str | None = None
    """Why the skill could not do it as asked ("timers can be at most 24 hours")."""


class IntentsRecognized(Message, frozen=True):
    request_id: str
    intents: list[RecognizedIntent]
    """Empty when no skill's template fits (the llm would answer it)."""
