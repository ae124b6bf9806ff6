"""Structured logging for the whole process.

Every line is a structlog event bound to the emitting actor's path in the supervision tree
(``actor="solo/voice/stt"``), rendered as JSON lines or as coloured console text by profile.
Levels are per actor: the longest ``[log.levels]`` prefix that matches the actor path wins,
else ``log.level``. Standard-library logging (pykka, aiohttp, libraries) is routed through the
same renderer so one process never writes two log formats.

No secret reaches a line: tracebacks are rendered without local variables (a request
handler's locals hold its bearer token), and every formatted line, of every format and
every library, has API tokens and ``Bearer`` credentials masked before it is written.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Mapping, MutableMapping
from typing import Any, TextIO

import structlog
from msgspec.structs import replace

from solo_actors.config.schema import LogConfig, LogLevel

_LEVELS = {"debug": 10, "info": 20, "warning": 30, "error": 40, "critical": 50}


class ActorLevelFilter:
    """Drops events below the level configured for their actor path."""

    def __init__(self, default: str, per_actor: Mapping[str, str]) -> None:
        self.default = _LEVELS[default]
        # Longest prefix first, so "solo/voice/stt" beats "solo/voice".
        self.per_actor = sorted(
            ((path.rstrip("/"), _LEVELS[level]) for path, level in per_actor.items()),
            key=lambda item: len(item[0]),
            reverse=True,
        )

    def threshold(self, actor: str | None) -> int:
        if actor:
            for prefix, level in self.per_actor:
                if actor == prefix or actor.startswith(f"{prefix}/"):
                    return level
        return self.default

    def __call__(
        self, _logger: Any, method: str, event: MutableMapping[str, Any]
    ) -> MutableMapping[str, Any]:
        level = _LEVELS.get(method, _LEVELS.get(str(event.get("level", "")).lower(), 20))
        if level < self.threshold(event.get("actor")):
            raise structlog.DropEvent
        return event


def for_people(config: LogConfig, floor: LogLevel = "warning") -> LogConfig:
    """`config` as a person chatting at a terminal wants it beside the conversation:
    readable lines, and no actor below `floor` (whatever its ``[log.levels]`` entry)."""

    def raised(level: LogLevel) -> LogLevel:
        return level if _LEVELS[level] >= _LEVELS[floor] else floor

    levels = {path: raised(level) for path, level in config.levels.items()}
    return replace(config, format="console", level=raised(config.level), levels=levels)


def actor_of_foreign_record(
    _logger: Any, _method: str, event: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """Library records get their logger's name as actor, so `[log.levels] pykka = "info"`
    works like an actor path."""
    record = event.get("_record")
    if "actor" not in event and record is not None:
        event["actor"] = record.name
    return event


def actor_of_report(_logger: Any, _method: str, event: dict[str, Any]) -> dict[str, Any]:
    """A supervisor report is about a child: file it under that child's tree path."""
    if "actor" not in event and "supervisor" in event:
        child = event.get("child_id")
        event["actor"] = f"{event['supervisor']}/{child}" if child else event["supervisor"]
    return event


SECRETS = re.compile(r"(?i)(bearer\s+)[^\s'\",;]+|solo_[A-Za-z0-9_-]{40,}")
"""An ``Authorization: Bearer`` credential, or an API token (``solo_`` + 43 characters) by
its shape: other ``solo_`` words (``solo_actors``, metric names) are far shorter."""
MASK = "[masked]"


def mask_secrets(text: str) -> str:
    """``text`` with every API token and bearer credential replaced by a mark."""
    return SECRETS.sub(lambda match: (match[1] or "") + MASK, text)


class MaskingFormatter(structlog.stdlib.ProcessorFormatter):
    """The shared formatter, masking secrets in the finished line: whatever a library put in
    its message or its traceback (aiohttp logs a bad request's raw header line)."""

    def format(self, record: logging.LogRecord) -> str:
        return mask_secrets(super().format(record))


def configure_logging(config: LogConfig, stream: TextIO | None = None) -> None:
    """Set up structlog and the stdlib root logger; safe to call again (e.g. on reload)."""
    stream = stream or sys.stderr
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if config.format == "json"
        else structlog.dev.ConsoleRenderer(
            colors=stream.isatty(),
            exception_formatter=structlog.dev.RichTracebackFormatter(show_locals=False),
        )
    )
    level_filter = ActorLevelFilter(config.level, config.levels)
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        actor_of_report,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    structlog.configure(
        processors=[
            *shared,
            level_filter,
            structlog.processors.format_exc_info
            if config.format == "json"
            else structlog.dev.set_exc_info,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    handler = logging.StreamHandler(stream)
    handler.setFormatter(
        MaskingFormatter(
            foreign_pre_chain=[structlog.stdlib.ExtraAdder(), actor_of_foreign_record, *shared],
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
        )
    )
    # Library records are filtered here, before formatting: structlog's DropEvent only works
    # inside structlog's own chain. Structlog's records (msg is its event dict) passed already.
    handler.addFilter(
        lambda record: (
            isinstance(record.msg, dict) or record.levelno >= level_filter.threshold(record.name)
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    # Records below every configured threshold are never built, which keeps chatty
    # libraries' debug logging off the hot path.
    root.setLevel(min(_LEVELS[level] for level in (config.level, *config.levels.values())))


def get_logger(actor: str, **context: Any) -> structlog.stdlib.BoundLogger:
    """A logger bound to an actor's tree path (and any extra context). It takes the logging
    configuration in force when it logs, not when it was made: a module-level logger made
    at import, before `configure_logging`, would otherwise keep structlog's defaults (stdout,
    tracebacks with local variables, no masking) for good."""
    return structlog.get_logger("solo", actor=actor, **context)
