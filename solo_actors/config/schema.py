"""The typed shape of Solo's configuration.

Every setting lives in one frozen msgspec Struct per section, so a config is validated once,
at start, and then passed around as plain immutable data. ``forbid_unknown_fields`` makes a
misspelt key an error instead of a silently ignored setting. Ranges are declared with
``msgspec.Meta`` next to the field they constrain, and ``config/default.toml`` must hold a
value for every field here (a test checks this).
"""

from __future__ import annotations

import ipaddress
import re
import urllib.parse
from pathlib import Path
from typing import Annotated, Literal

import msgspec

from solo_actors.skills.places import configured_location
from supervisors import MailboxLimit

REPO_ROOT = Path(__file__).resolve().parents[2]

LogLevel = Literal["debug", "info", "warning", "error", "critical"]
Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
Seconds = Annotated[float, msgspec.Meta(gt=0)]
Port = Annotated[int, msgspec.Meta(ge=0, le=65535)]


class Section(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """Base of every config section: immutable and strict about keys."""


class SoloConfig(Section, frozen=True):
    var_dir: str
    """Folder for run-time state (databases, logs, cache); relative paths are from the repo."""

    def var_path(self, *parts: str) -> Path:
        """A run-time path: ``parts`` under ``var_dir`` (itself under the repo if relative)."""
        return REPO_ROOT.joinpath(self.var_dir, *parts)


class LogConfig(Section, frozen=True):
    format: Literal["json", "console"]
    level: LogLevel
    levels: dict[str, LogLevel]
    """Per-actor levels keyed by tree path; the longest matching path prefix wins."""
    trace: bool = False
    """Write each voice turn's steps to ``<var_dir>/trace.jsonl`` (``solo trace``)."""


class SupervisorConfig(Section, frozen=True):
    intensity: Annotated[int, msgspec.Meta(ge=0)]
    period: Seconds
    shutdown_timeout: Seconds


class MailboxesConfig(Section, frozen=True):
    """Bounds on the mailboxes that can grow, by registered name (docs/reliability.md).

    Past ``capacity`` waiting messages, ``reject`` refuses new mail with a busy error and
    ``drop_oldest`` drops the oldest waiting message; actors not named here are unbounded
    (their growth is bounded elsewhere: see docs/reliability.md).
    """

    llm: MailboxLimit
    dialogue: MailboxLimit
    agents: MailboxLimit
    vad: MailboxLimit
    stt: MailboxLimit
    tts: MailboxLimit
    speaker: MailboxLimit

    def limit_for(self, name: str) -> MailboxLimit | None:
        """The bound of the actor registered as ``name``, or None (unbounded)."""
        return getattr(self, name) if name in self.__struct_fields__ else None


class ReportsConfig(Section, frozen=True):
    dir: str
    """Folder of the supervisor report JSONL files, under ``solo.var_dir``."""
    file_max_bytes: Annotated[int, msgspec.Meta(ge=4096)]
    files_kept: Annotated[int, msgspec.Meta(ge=1, le=1000)]
    pending_max: Annotated[int, msgspec.Meta(ge=1)]


class DialogueConfig(Section, frozen=True):
    turn_timeout: Seconds
    """A turn with no reply by then is answered with ``error_reply`` and an error."""
    error_reply: str
    recall_timeout: Seconds
    """How long a turn waits for recalled memories before going on without them."""
    remember: Literal["told", "exchanges"]
    """Which finished turns become memories: what the user told, or every turn and reply."""
    remember_rules: str
    """How a turn that only asks is told from one that tells (TOML), relative to the repo."""
    creative_temperature: Annotated[float, msgspec.Meta(ge=0, le=2)]
    """The sampling temperature of a turn that asks for something made up (a story, ideas):
    asked again, it brings a new one. 0 = greedy, as every other turn."""
    creative_words: list[str]
    """A turn with one of these words (lower case) is such a request."""


class ModelsConfig(Section, frozen=True):
    dir: str
    catalog: str


class StoreConfig(Section, frozen=True):
    backend: Literal["duckdb", "postgres"]
    duckdb_file: str
    """The DuckDB file, under ``solo.var_dir``."""
    pg_dsn: str
    """PostgreSQL DSN; empty means take it from the SOLO_PG_DSN environment variable."""
    flush_interval_ms: Annotated[int, msgspec.Meta(ge=1, le=60_000)]
    """Buffered writes reach the database at most this long after they were told."""
    flush_rows: Annotated[int, msgspec.Meta(ge=1)]
    buffer_max_rows: Annotated[int, msgspec.Meta(ge=1)]
    """Rows held while the database is unreachable; newer writes past this are dropped."""
    max_text_bytes: Annotated[int, msgspec.Meta(ge=256)]
    retry_min: Seconds
    retry_max: Seconds
    connect_timeout: Seconds
    pg_pool_max: Annotated[int, msgspec.Meta(ge=1, le=100)]
    partition_interval: Literal["day", "month"]
    partitions_ahead: Annotated[int, msgspec.Meta(ge=1, le=366)]
    retention_days: Annotated[int, msgspec.Meta(ge=0)]
    """Events and metrics older than this are deleted; 0 keeps them forever."""
    maintenance_interval: Seconds
    backup_dir: str
    """Where `solo db backup` writes when given no --out, under ``solo.var_dir``."""


class MemoryConfig(Section, frozen=True):
    enabled: bool
    model: str
    """Catalog id of the ONNX sentence-embedding model (role "embeddings")."""
    lance_dir: str
    """The LanceDB folder of the embedded backend, under ``solo.var_dir``."""
    recall_k: Annotated[int, msgspec.Meta(ge=1, le=100)]
    min_similarity: Annotated[float, msgspec.Meta(ge=-1, le=1)]
    max_text_bytes: Annotated[int, msgspec.Meta(ge=64)]
    batch_size: Annotated[int, msgspec.Meta(ge=1, le=1024)]
    max_tokens: Annotated[int, msgspec.Meta(ge=8, le=512)]
    threads: Annotated[int, msgspec.Meta(ge=0)]
    """onnxruntime intra-op threads; 0 = one per core."""
    batch_tokens: Annotated[int, msgspec.Meta(ge=64)]
    """Padded tokens per onnxruntime call at most (a long text gets a small batch)."""
    spin: bool
    """Let onnxruntime's threads spin between runs (lower latency, more CPU)."""
    index_min_rows: Annotated[int, msgspec.Meta(ge=256)]
    nprobes: Annotated[int, msgspec.Meta(ge=1)]
    refine_factor: Annotated[int, msgspec.Meta(ge=1)]
    ef_search: Annotated[int, msgspec.Meta(ge=1, le=1000)]
    pending_max: Annotated[int, msgspec.Meta(ge=1)]
    maintenance_interval: Annotated[float, msgspec.Meta(gt=0)]
    """Seconds between LanceDB maintenance passes (compaction, old versions, index)."""
    version_retention: Annotated[float, msgspec.Meta(ge=0)]
    """Seconds old LanceDB versions are kept before maintenance deletes their files."""
    reindex_growth: Annotated[float, msgspec.Meta(gt=1)]
    """The LanceDB index is rebuilt once the table has grown this many times since."""


ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
"""What an environment variable's name may be (POSIX), so a pasted key is told apart."""


class RemoteLLMConfig(Section, frozen=True):
    """``[llm.remote]``: the OpenAI-compatible server that ``engine = "openai"`` uses."""

    base_url: str
    """The server's API root, ``/v1`` included (``http://gpu-box:8000/v1``); requests go to
    ``{base_url}/chat/completions``."""
    model: str
    """The model name the server expects in each request (``GET {base_url}/models``)."""
    api_key_env: str
    """The NAME of the environment variable that holds the API key ("" = send no key).
    The key itself never goes into a config file."""
    fallback: Literal["local", "none"]
    """"local": a turn the server can't answer is answered by ``llm.model`` here."""
    connect_timeout: Seconds
    """Seconds to open a connection to the server before it counts as unreachable."""
    read_timeout: Seconds
    """Seconds the server may send nothing (before the first token or between two)."""
    retry_after: Seconds
    """After a remote failure, with fallback "local", turns go to the local model for this
    long before the server is tried again."""

    def check(self) -> None:
        """The checks that matter only when the remote engine is on (see `LLMConfig`)."""
        url = urllib.parse.urlsplit(self.base_url)
        if url.scheme not in ("http", "https") or not url.hostname:
            raise ValueError(
                f"llm.remote.base_url = {self.base_url!r} is not an http(s) URL; write the "
                'server\'s API root, e.g. "http://gpu-box:8000/v1"'
            )
        if url.query or url.fragment:
            raise ValueError(
                f"llm.remote.base_url = {self.base_url!r} has a query or fragment; write only "
                'the API root, e.g. "http://gpu-box:8000/v1"'
            )
        if not self.model.strip():
            raise ValueError(
                "llm.remote.model is empty: name the model the server serves "
                f"(GET {self.base_url.rstrip('/')}/models lists them)"
            )
        if self.api_key_env and not ENV_NAME.fullmatch(self.api_key_env):
            raise ValueError(
                "llm.remote.api_key_env must be the NAME of an environment variable that "
                'holds the key (e.g. "SOLO_LLM_API_KEY"), not the key itself; got a value '
                "that is not a variable name"
            )


class LLMConfig(Section, frozen=True):
    engine: Literal["llama.cpp", "openai"]
    """"llama.cpp": the model runs here; "openai": an OpenAI-compatible server
    (``[llm.remote]``) writes the replies, with ``model`` as its local fallback."""
    model: str
    """A catalog id from models/catalog.toml, or a path to a .gguf file."""
    n_ctx: Annotated[int, msgspec.Meta(ge=64)]
    n_batch: Annotated[int, msgspec.Meta(ge=1)]
    n_threads: Annotated[int, msgspec.Meta(ge=0)]
    """0 means one thread per CPU core."""
    gpu_layers: Annotated[int, msgspec.Meta(ge=-1)]
    """Layers offloaded to the GPU of a CUDA build: 0 none (the CPU build ignores it), -1 all."""
    temperature: Annotated[float, msgspec.Meta(ge=0)]
    top_p: Annotated[float, msgspec.Meta(gt=0, le=1)]
    top_k: Annotated[int, msgspec.Meta(ge=0)]
    repeat_penalty: Annotated[float, msgspec.Meta(gt=0)]
    seed: Annotated[int, msgspec.Meta(ge=-1)]
    """-1 draws a new seed per request; any other value makes sampling repeatable."""
    max_tokens: Annotated[int, msgspec.Meta(ge=1)]
    draft_tokens: Annotated[int, msgspec.Meta(ge=0, le=8)]
    """Tokens guessed by prompt lookup after each generated one and checked in the same
    batch (solo_actors/llm/lookup.py): the same reply, sooner; 0 = off."""
    write_ahead: Annotated[int, msgspec.Meta(ge=0, le=64)]
    """Tokens of the reply written at a pause, before the turn ends, from the words read
    ahead (`LLMPrefill`); used when the turn's words are the same; 0 = off."""
    system_prompt: str
    template: str
    """"auto" (the GGUF's own template, else a library family) or a family name."""
    history_fill: Annotated[float, msgspec.Meta(gt=0, le=1)]
    declines: list[Annotated[str, msgspec.Meta(min_length=1)]]
    """Openings of a reply that declines (after any apology): such an exchange is left out
    of the conversation's history (solo_actors/declines.py)."""
    conversations: Annotated[int, msgspec.Meta(ge=1)]
    kv_snapshot_mb: Annotated[int, msgspec.Meta(ge=0)]
    cache: bool
    cache_ttl: Seconds
    cache_entries: Annotated[int, msgspec.Meta(ge=1)]
    warm_start: bool
    """The warm-up's KV cache is saved under ``<var_dir>/cache/llm/kv`` and restored at the
    next start (solo_actors/llm/warm_start.py)."""
    tool_owners: list[str]
    """Registered names of the actors whose tools a turn offers the model (function calling,
    when its template supports it); "mcp.*" stands for every ``[[mcp.servers]]`` entry."""
    tool_rounds: Annotated[int, msgspec.Meta(ge=1, le=10)]
    """Tool calls the model may make in a row for one reply before it is stopped."""
    tool_timeout: Seconds
    """Seconds a tool call waits for the actor that runs it."""
    tools_prompt: str
    """Added to the system prompt while the owners' tools are offered."""
    remote: RemoteLLMConfig

    def __post_init__(self) -> None:
        if self.engine == "openai":
            self.remote.check()

    @property
    def served_model(self) -> str:
        """The model name turns are recorded with: the remote one, or ``model``."""
        return f"openai:{self.remote.model}" if self.engine == "openai" else self.model

    def owners(self, mcp: McpConfig) -> list[str]:
        """`tool_owners` with "mcp.*" expanded to the configured MCP servers' names."""
        expanded: list[str] = []
        for owner in self.tool_owners:
            if owner == "mcp.*":
                expanded += [server.actor_name for server in mcp.servers]
            else:
                expanded.append(owner)
        return list(dict.fromkeys(expanded))


class MicConfig(Section, frozen=True):
    device: str
    """Input device: a number (sounddevice index) or part of its name; "" = system default."""
    queue_frames: Annotated[int, msgspec.Meta(ge=2)]
    """Frames buffered between the audio callback and the wake actor; newer ones are dropped."""


class WyomingEngineConfig(Section, frozen=True):
    """``[voice.stt.remote]``, ``[voice.tts.remote]``, ``[voice.wake.remote]``: the Wyoming
    service that ``engine = "wyoming"`` uses (solo_actors/voice/remote.py)."""

    uri: str
    """The service's address: ``tcp://host:port`` or ``unix:///path``."""
    fallback: Literal["local", "none"]
    """"local": what the service can't serve is served by the local engine here."""
    connect_timeout: Seconds
    """Seconds to open a connection before the service counts as unreachable."""
    read_timeout: Seconds
    """Seconds the service may send nothing while it owes an answer."""
    retry_after: Seconds
    """After a failure, with fallback "local", the local engine serves this long before the
    service is tried again."""

    def check(self, section: str) -> None:
        """The checks that matter only when the remote engine is on (`section`: where)."""
        url = urllib.parse.urlsplit(self.uri)
        try:
            tcp = url.scheme == "tcp" and bool(url.hostname) and url.port is not None
        except ValueError:  # a port that is not a number
            tcp = False
        if not (tcp or (url.scheme == "unix" and url.path)):
            raise ValueError(
                f"{section}.remote.uri = {self.uri!r} is not a Wyoming address; write "
                '"tcp://host:port" (e.g. "tcp://gpu-box:10300") or "unix:///path/to.sock"'
            )


class WakeRemoteConfig(WyomingEngineConfig, frozen=True):
    """``[voice.wake.remote]``: a Wyoming wake word service, and the local fallback's engine."""

    model: str
    """The wake word asked of the service (its ``detect`` names); "" = the service's own."""
    local_engine: Literal["porcupine", "openwakeword"]
    """The on-device engine that listens while the service cannot (fallback "local")."""


class WakeConfig(Section, frozen=True):
    engine: Literal["porcupine", "openwakeword", "wyoming"]
    """An on-device engine, or "wyoming": a remote wake word service (``remote``)."""
    keyword: str
    """Porcupine: a built-in keyword."""
    sensitivity: Annotated[float, msgspec.Meta(ge=0, le=1)]
    """Porcupine: higher wakes more easily."""
    noise_floor: Annotated[float, msgspec.Meta(le=0)]
    """Porcupine: dBFS of white noise added under every frame (0 = none); see wake_engines."""
    access_key: str
    """A Picovoice AccessKey; empty uses pvporcupine 1.9.5's keyless built-in keywords."""
    model: str
    """openWakeWord: a model its package carries (``hey_jarvis``) or a path to an .onnx."""
    threshold: Annotated[float, msgspec.Meta(gt=0, lt=1)]
    """openWakeWord: the score at which it fires."""
    ack: Literal["tone", "none"]
    remote: WakeRemoteConfig

    def __post_init__(self) -> None:
        if self.engine == "wyoming":
            self.remote.check("voice.wake")


class VadConfig(Section, frozen=True):
    threshold: Annotated[float, msgspec.Meta(gt=0, lt=1)]
    silence_timeout: Seconds
    max_utterance: Seconds
    listen_timeout: Seconds
    pre_roll: Annotated[float, msgspec.Meta(ge=0)]
    partial_every: Annotated[float, msgspec.Meta(ge=0)]
    """Seconds of speech between two transcriptions of the words so far (0 = at pauses only)."""
    end_of_turn: Literal["words", "silence"]
    """"words": the words at a pause decide too (voice/turn_end.py); "silence": timeout alone."""
    incomplete_timeout: Seconds
    """Seconds of silence waited when the words so far stop mid-phrase ("set a timer for")."""
    turn_end_rules: str
    """The endings that leave a question unfinished (TOML), relative to the repo."""
    turn_end_model: str
    follow_up: Annotated[float, msgspec.Meta(ge=0)]
    """Seconds listened for a follow-up question after a spoken reply, no wake word (0 = off)."""
    follow_up_after: Annotated[float, msgspec.Meta(ge=0)]
    """Seconds after the reply's last sample before that listening starts (the room's echo)."""
    """The llm (catalog id or GGUF path) that judges whether words end a turn; "" = rules alone."""


class SttConfig(Section, frozen=True):
    engine: Literal["local", "wyoming"]
    """"local": Whisper here; "wyoming": a remote speech-to-text service (``remote``)."""
    model: str
    language: str
    beam_size: Annotated[int, msgspec.Meta(ge=1)]
    window: Annotated[float, msgspec.Meta(ge=1, le=30)]
    """Least seconds of audio Whisper's encoder sees (a question is padded to it, not to 30)."""
    prefer_commands: bool
    """Of the beam's hypotheses, one that a skill template fits whole wins over a best one
    that fits none (`skills.hook.fits_whole`)."""
    threads: Annotated[int, msgspec.Meta(ge=0)]
    error_reply: str
    device: Literal["auto", "cpu", "cuda"]
    """Where Whisper runs: "auto" is CUDA when CTranslate2 sees a GPU, else the CPU."""
    compute_type: Literal["auto", "int8", "int8_float16", "float16", "float32"]
    """CTranslate2 compute type; "auto" is int8 on the CPU, float16 on CUDA."""
    remote: WyomingEngineConfig

    def __post_init__(self) -> None:
        if self.engine == "wyoming":
            self.remote.check("voice.stt")


class TtsConfig(Section, frozen=True):
    engine: Literal["local", "wyoming"]
    """"local": Piper here; "wyoming": a remote text-to-speech service (``remote``), whose
    audio is resampled to ``voice``'s rate."""
    voice: str
    length_scale: Annotated[float, msgspec.Meta(gt=0)]
    threads: Annotated[int, msgspec.Meta(ge=0)]
    """onnxruntime threads for Piper; 0 = one per core."""
    device: Literal["auto", "cpu", "cuda"]
    """Where Piper runs: "auto" is onnxruntime's CUDA provider when installed, else the CPU."""
    output_device: str
    """Output device: a number or part of its name; "" = system default."""
    report_to: list[str]
    """Registered names that get each finished voice `TurnDone` (absent ones are skipped)."""
    remote: WyomingEngineConfig

    def __post_init__(self) -> None:
        if self.engine == "wyoming":
            self.remote.check("voice.tts")


class VoiceConfig(Section, frozen=True):
    intensity: Annotated[int, msgspec.Meta(ge=0)]
    period: Seconds
    mic: MicConfig
    wake: WakeConfig
    vad: VadConfig
    stt: SttConfig
    tts: TtsConfig


def is_loopback(host: str) -> bool:
    """``localhost`` or a loopback address (127.0.0.0/8, ::1)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


ModelRole = Literal["llm", "stt", "tts", "embeddings"]


class OpenAIConfig(Section, frozen=True):
    """The OpenAI-compatible routes under /v1 (docs/openai.md)."""

    max_upload_bytes: Annotated[int, msgspec.Meta(ge=1024)]
    """Largest audio file /v1/audio/transcriptions takes (OpenAI's limit is 25 MB)."""
    upload_memory_bytes: Annotated[int, msgspec.Meta(ge=0)]
    """An upload is kept in memory up to this size, then spooled to a temporary file."""
    audio_timeout: Seconds
    """How long a transcription or speech request waits for stt or tts (then 503)."""
    max_speech_chars: Annotated[int, msgspec.Meta(ge=1)]
    """Longest ``input`` /v1/audio/speech takes (OpenAI's limit is 4096)."""
    voices: dict[str, str]
    """OpenAI voice name -> Solo voice (a tts catalog id or a .onnx path)."""
    model_aliases: dict[str, ModelRole]
    """Model names OpenAI clients send by default (whisper-1, tts-1, ...) -> the Solo model
    of that role that serves them."""


class ApiConfig(Section, frozen=True):
    enabled: bool
    host: str
    """Address to bind; anything but a loopback address requires ``auth = true``."""
    port: Port
    """0 picks a free port (tests); the bound address is written to ``<var_dir>/api/url``."""
    auth: bool
    """Bearer tokens required on every route but /, /health, /ready and /openapi.json."""
    allowed_hosts: list[str]
    """Host names (``name`` for any port, or ``name:port``) the server answers to besides
    the address a request came in on and ``localhost``: a reverse proxy's name, a LAN name.
    Any other Host header is refused (421), which is what defeats DNS rebinding."""
    tls_cert: str
    """PEM certificate chain for HTTPS ("" = plain HTTP); relative paths are from the repo."""
    tls_key: str
    """PEM private key of ``tls_cert``; both or neither."""
    tokens_file: str
    """Hashed tokens with their scopes (mode 0600), under ``solo.var_dir``."""
    admin_token_file: str
    """The first-run admin token in clear (mode 0600), under ``solo.var_dir``."""
    token_recheck: Seconds
    """Open /events and /ws streams re-check their token this often; a revoked one ends them."""
    rate_per_token: Annotated[float, msgspec.Meta(gt=0)]
    """Requests per second each token may make (a token bucket of ``rate_burst``)."""
    rate_per_address: Annotated[float, msgspec.Meta(gt=0)]
    """Requests per second each client address may make, with or without a token."""
    rate_burst: Annotated[int, msgspec.Meta(ge=1)]
    max_body_bytes: Annotated[int, msgspec.Meta(ge=1024)]
    ask_timeout: Seconds
    """An /ask that has no TurnDone by then is answered 504."""
    actor_timeout: Seconds
    """How long a request waits on a supervisor, the store or memory before a 503."""
    event_queue: Annotated[int, msgspec.Meta(ge=1)]
    """Events buffered per /events or /ws client; past this the oldest are dropped."""
    openai: OpenAIConfig

    def __post_init__(self) -> None:
        # Checked with the rest of the config, so a bad combination stops Solo with exit
        # code 2 before any actor starts (docs/configuration.md).
        if not self.auth and not is_loopback(self.host):
            raise ValueError(
                f"api.host = {self.host!r} is not a loopback address and api.auth is off: "
                "anyone on the network could control the assistant; set api.auth = true, or "
                'bind api.host = "127.0.0.1"'
            )
        if bool(self.tls_cert) != bool(self.tls_key):
            raise ValueError("api.tls_cert and api.tls_key go together: set both, or neither")
        for name in self.allowed_hosts:
            if not name or any(mark in name for mark in "/@ ") or name != name.strip():
                raise ValueError(
                    f"api.allowed_hosts: {name!r} is not a host name; write `name` or "
                    "`name:port` (no scheme, no path)"
                )


class AgentsConfig(Section, frozen=True):
    workflows_dir: str
    """Folder of workflow TOML files (one workflow per file), relative to the repo."""
    intents: bool
    """Route turns that start with a workflow's trigger word ("plan ...") to that workflow."""
    max_steps: Annotated[int, msgspec.Meta(ge=1)]
    """Steps (tasks) a run may finish; a longer workflow stops with status "max_steps"."""
    max_tokens: Annotated[int, msgspec.Meta(ge=1)]
    """Completion tokens a run may generate over all its llm calls ("max_tokens")."""
    step_max_tokens: Annotated[int, msgspec.Meta(ge=16)]
    """Reply tokens per llm call: the most a voice turn waits behind one crew call."""
    max_iter: Annotated[int, msgspec.Meta(ge=1, le=25)]
    """CrewAI's max_iter: llm calls (think, tool, answer) an agent may make per task."""
    timeout: Seconds
    """Wall-clock seconds a run may take before it stops with status "timeout"."""
    llm_call_timeout: Seconds
    """Seconds one llm call may wait for its reply (queue + generation) before the run fails."""
    tool_timeout: Seconds
    """Seconds a tool waits on the memory, the store or an MCP server's actor."""
    max_parallel_runs: Annotated[int, msgspec.Meta(ge=1, le=8)]
    runs_kept: Annotated[int, msgspec.Meta(ge=1)]
    """Finished runs kept for `GetRun`; the oldest are forgotten past this."""
    preload: bool
    """Import CrewAI right after start instead of on the first run."""


class SkillsConfig(Section, frozen=True):
    enabled: bool
    """Answer turns that fit a skill's sentence template locally, before the llm."""
    templates_dir: str
    """Folder of the sentence templates (``*.toml``), relative to the repo."""
    timezone: str
    """IANA time zone for times, dates, alarms and reminders ("Europe/Berlin"); "" = the
    system's."""
    location: str
    """Where the user is, for sunrise, sunset and distances: "latitude, longitude" ("45.76,
    4.84") or a city of the time zone database ("paris"); "" = the main city of the time
    zone."""
    weekend: Annotated[list[Weekday], msgspec.Meta(min_length=1, max_length=6)]
    """The days of the user's weekend ("saturday", "sunday"), for "is it the weekend"."""
    max_timer: Seconds
    """The longest timer; a longer one is refused."""
    max_ahead_days: Annotated[int, msgspec.Meta(ge=1)]
    """How far ahead an alarm or reminder may be set."""
    reminder_hour: Annotated[int, msgspec.Meta(ge=0, le=23)]
    """The hour a reminder set for a day without a time ("remind me tomorrow ...") fires."""
    late_after: Seconds
    """An item delivered this long after it was due says that it is late."""
    announce_to: list[str]
    """Registered names told a `TurnDone` (source "skills") when an item fires: tts speaks it,
    then the speaker prints its JSON line in --text/--input runs. An item set in a room rings
    in that room instead; an announcement to every room is told here too."""
    store_timeout: Seconds
    """Seconds a new timer, alarm or reminder waits for the store to make it durable."""
    ring_for: Annotated[float, msgspec.Meta(ge=0)]
    """Seconds a fired timer or alarm keeps ringing (its line said again) until "stop";
    0 = said once."""
    ring_every: Seconds
    """Seconds between two sayings of a ringing timer's or alarm's line."""
    snooze: Seconds
    """How long "snooze" puts a ringing alarm off for, when the user says no length."""
    tools_file: str
    """The skills offered to the llm as tools (function calling), relative to the repo."""
    answer_within: Seconds
    """Seconds a skill's question for a missing part ("set a timer": "For how long?") waits
    for the answer, the conversation's next turn."""

    def __post_init__(self) -> None:
        if self.location.strip():
            configured_location(self.location, self.timezone)  # a ValueError naming the forms


class McpServer(Section, frozen=True):
    """One MCP server Solo uses as a client (``[[mcp.servers]]``): stdio or streamable HTTP."""

    name: Annotated[str, msgspec.Meta(pattern=r"^[a-z0-9][a-z0-9_-]*$")]
    """Short name; its actor is registered as ``mcp.<name>``."""
    command: str = ""
    """stdio: the program to start (``python`` means Solo's own interpreter)."""
    args: list[str] = msgspec.field(default_factory=list)
    env: dict[str, str] = msgspec.field(default_factory=dict)
    """stdio: variables added to a small safe environment (PATH, HOME, LANG, ...)."""
    url: str = ""
    """streamable HTTP: the server's endpoint, e.g. http://127.0.0.1:8931/mcp."""
    headers: dict[str, str] = msgspec.field(default_factory=dict)
    tools: list[str] = msgspec.field(default_factory=list)
    """The server's tools Solo may call (an allow-list; empty = none, since a tool can act
    in the world). ["*"] allows every tool the server lists."""

    @property
    def actor_name(self) -> str:
        return f"mcp.{self.name}"

    def __post_init__(self) -> None:
        if bool(self.command) == bool(self.url):
            raise ValueError(
                f"mcp server {self.name!r}: give either command (stdio) or url (HTTP), not "
                f"{'both' if self.command else 'neither'}"
            )


class McpConfig(Section, frozen=True):
    """MCP: servers Solo uses as a client, and Solo's own MCP server (``solo mcp``, /mcp)."""

    servers: list[McpServer]
    intensity: Annotated[int, msgspec.Meta(ge=0)]
    """The mcp supervisor allows this many server restarts ..."""
    period: Seconds
    """... within this many seconds before it gives up (and the root restarts it)."""
    connect_timeout: Seconds
    """Seconds a server gets to start and answer MCP's initialize."""
    call_timeout: Seconds
    """Seconds one tool call may take on the server."""
    ping_every: Seconds
    """Seconds between pings of a connected server: a lost one is restarted."""
    ping_timeout: Seconds
    """Seconds a ping may wait for its answer before the server counts as lost: apart from
    ``ping_every``, so that frequent pings do not make a busy machine's server lost."""
    retry_every: Seconds
    """Seconds between tries to connect a server that is not up yet."""
    serve_http: bool
    """Mount Solo's own MCP server on the API server at /mcp (streamable HTTP)."""


class WyomingConfig(Section, frozen=True):
    """Solo as a Wyoming server (docs/wyoming.md)."""

    enabled: bool
    """Serve asr, tts, wake, handle and intent to Wyoming clients (``run --wyoming``)."""
    uri: str
    """Where to listen: ``tcp://HOST:PORT`` (port 0 picks a free one)."""
    allow_remote: bool
    """Wyoming has no authentication: a host beyond loopback needs this and
    ``allowed_clients``."""
    allowed_clients: list[str]
    """Client addresses or networks (``192.168.1.20``, ``192.168.1.0/24``) served when
    listening beyond loopback; every other connection is closed at once."""
    max_connections: Annotated[int, msgspec.Meta(ge=1)]
    max_event_bytes: Annotated[int, msgspec.Meta(ge=1024)]
    """One event's header, data and payload; a larger one closes its connection."""
    max_audio_seconds: Seconds
    """The longest audio stream to transcribe or listen to for the wake word."""
    reply_timeout: Seconds
    """Seconds a request waits for the actor serving it before it answers an error."""
    write_timeout: Seconds
    """A client that reads nothing of what it is sent for this long is disconnected."""
    partial_every: Seconds
    """While audio arrives, the words so far are transcribed this often (transcript-chunk)."""
    final_window: Annotated[float, msgspec.Meta(ge=1, le=30)]
    """Seconds of audio Whisper's encoder sees for the final transcript (the partials use
    ``voice.stt.window``). 30, Whisper's own, makes a point fewer word errors than the
    short window: a Wyoming client acts on the words themselves."""

    @property
    def host_port(self) -> tuple[str, int]:
        """(host, port) of ``uri``."""
        return parse_tcp_uri(self.uri, "wyoming.uri")

    def __post_init__(self) -> None:
        host, _port = self.host_port
        for client in self.allowed_clients:
            try:
                ipaddress.ip_network(client, strict=False)
            except ValueError:
                raise ValueError(
                    f"wyoming.allowed_clients: {client!r} is not an address or network; "
                    'write "192.168.1.20" or "192.168.1.0/24"'
                ) from None
        if not is_loopback(host) and not (self.allow_remote and self.allowed_clients):
            raise ValueError(
                f"wyoming.uri listens on {host!r}, beyond this machine, and Wyoming has no "
                "authentication: set wyoming.allow_remote = true and list the clients "
                "(Home Assistant's address) in wyoming.allowed_clients, or listen on "
                '"tcp://127.0.0.1:10800"'
            )


class SatelliteConfig(Section, frozen=True):
    """One room's Wyoming satellite, which Solo connects to (docs/wyoming.md)."""

    name: Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]*$")]
    """The room's id: letters, digits, - and _ (its actor is ``room-<name>``)."""
    uri: str
    """Where the satellite listens: ``tcp://HOST:PORT`` (wyoming-satellite's --uri, 10700)."""
    area: str = ""
    """The room, as people say it ("kitchen")."""

    @property
    def host_port(self) -> tuple[str, int]:
        return parse_tcp_uri(self.uri, f"satellites {self.name}: uri")

    def __post_init__(self) -> None:
        self.host_port  # noqa: B018 (checks the uri)


class RoomsConfig(Section, frozen=True):
    """How Solo keeps its satellites connected (the ``rooms`` supervisor)."""

    connect_timeout: Seconds
    """Seconds to reach a satellite before the try counts as failed."""
    backoff_min: Seconds
    """First reconnect delay after a satellite was lost ..."""
    backoff_max: Seconds
    """... doubling up to this."""
    intensity: Annotated[int, msgspec.Meta(ge=1)]
    """The rooms supervisor allows this many reconnects (all rooms) ..."""
    period: Seconds
    """... within this many seconds before it gives up and is restarted by the root."""
    reply_timeout: Seconds
    """Seconds a room's turn waits for each of Solo's actors before it fails."""
    keepalive: Annotated[int, msgspec.Meta(ge=1)]
    """Seconds of silence on a satellite's link after which TCP probes it; a link that
    answers no probe for as long again is lost (a cable pulled, Wi-Fi gone)."""


def parse_tcp_uri(uri: str, key: str) -> tuple[str, int]:
    """(host, port) of a ``tcp://HOST:PORT`` uri, or a ValueError naming ``key``."""
    prefix = "tcp://"
    host, _, port = uri.removeprefix(prefix).rpartition(":")
    host = host.strip("[]")
    if not uri.startswith(prefix) or not host or not port.isdigit() or int(port) > 65535:
        raise ValueError(f"{key} = {uri!r} is not tcp://HOST:PORT (e.g. tcp://127.0.0.1:10800)")
    return host, int(port)


class ActorIsolation(Section, frozen=True):
    """How one actor (by registered name) runs; see ``[isolation]`` in default.toml."""

    mode: Literal["thread", "process"]
    """"process": in its own OS process, so its crash, hang or leak takes nothing else
    down; "thread": in Solo's process (faster to start, nothing crosses a pipe)."""
    memory_mb: Annotated[int, msgspec.Meta(ge=0)] = 0
    """Resident-memory ceiling of its process; over it the process is killed (0 = none)."""
    cpus: list[Annotated[int, msgspec.Meta(ge=0)]] = msgspec.field(default_factory=list)
    """CPUs its process may run on (empty = all)."""
    nice: Annotated[int, msgspec.Meta(ge=0, le=19)] = 0
    """How much lower than Solo's its process's CPU priority is (a nice increment)."""
    heartbeat: Seconds = 10.0
    """Seconds its process may show no sign of life before it is killed as hung."""
    standby: bool = False
    """Keep a spare process loaded, adopted at a restart in milliseconds (hot standby)."""


class Config(Section, frozen=True):
    profile: str
    """Name of the profile this config was built from (set by the loader)."""
    solo: SoloConfig
    log: LogConfig
    supervisor: SupervisorConfig
    mailboxes: MailboxesConfig
    reports: ReportsConfig
    dialogue: DialogueConfig
    models: ModelsConfig
    store: StoreConfig
    memory: MemoryConfig
    llm: LLMConfig
    voice: VoiceConfig
    api: ApiConfig
    agents: AgentsConfig
    skills: SkillsConfig
    mcp: McpConfig
    wyoming: WyomingConfig
    satellites: list[SatelliteConfig]
    """The rooms: Wyoming satellites Solo connects to, answers and speaks through."""
    rooms: RoomsConfig
    isolation: dict[str, ActorIsolation]
    """By registered name: actors that run in their own process (absent: in-process)."""

    def __post_init__(self) -> None:
        names = [satellite.name for satellite in self.satellites]
        if len(set(names)) != len(names):
            raise ValueError(f"satellites: each needs a name of its own, got {names}")
