"""Structured logging: JSON or console by profile, actor paths, per-actor levels."""

from __future__ import annotations

import io
import json
import logging

import pytest
import structlog

from solo_actors.config.schema import LogConfig
from solo_actors.runtime.logs import configure_logging, get_logger


@pytest.fixture
def stream() -> io.StringIO:
    return io.StringIO()


def lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_json_lines_carry_the_actor_path(stream: io.StringIO) -> None:
    configure_logging(LogConfig(format="json", level="info", levels={}), stream)
    get_logger("solo/voice/stt").info("transcribed", words=7)
    (event,) = lines(stream)
    assert event["actor"] == "solo/voice/stt"
    assert event["event"] == "transcribed" and event["words"] == 7
    assert event["level"] == "info" and "timestamp" in event


def test_per_actor_level_longest_prefix_wins(stream: io.StringIO) -> None:
    levels = {"solo/voice": "debug", "solo/voice/tts": "error"}
    configure_logging(LogConfig(format="json", level="warning", levels=levels), stream)
    get_logger("solo/voice/stt").debug("kept: solo/voice is at debug")
    get_logger("solo/voice/tts").warning("dropped: tts is at error")
    get_logger("solo/store").info("dropped: default is warning")
    get_logger("solo/voicemail").debug("dropped: a prefix is a whole path segment")
    assert [event["event"] for event in lines(stream)] == ["kept: solo/voice is at debug"]


def test_stdlib_logging_goes_through_the_same_renderer(stream: io.StringIO) -> None:
    configure_logging(LogConfig(format="json", level="info", levels={}), stream)
    logging.getLogger("pykka").error("an actor failed")
    (event,) = lines(stream)
    assert event["event"] == "an actor failed" and event["level"] == "error"


def test_library_loggers_have_levels_like_actors(stream: io.StringIO) -> None:
    configure_logging(LogConfig(format="json", level="debug", levels={"pykka": "info"}), stream)
    logging.getLogger("pykka").debug("dropped: pykka is at info")
    logging.getLogger("pykka").info("kept")
    assert [(event["event"], event["actor"]) for event in lines(stream)] == [("kept", "pykka")]


def test_supervisor_reports_are_filed_under_the_child(stream: io.StringIO) -> None:
    configure_logging(LogConfig(format="json", level="info", levels={}), stream)
    structlog.get_logger("supervisors").info("supervisor.start", supervisor="solo", child_id="llm")
    (event,) = lines(stream)
    assert event["actor"] == "solo/llm"


def test_console_format_is_not_json(stream: io.StringIO) -> None:
    configure_logging(LogConfig(format="console", level="info", levels={}), stream)
    get_logger("solo/api").info("listening", port=8765)
    text = stream.getvalue()
    assert "listening" in text and "port=8765" in text and "solo/api" in text
    with pytest.raises(json.JSONDecodeError):
        json.loads(text)
