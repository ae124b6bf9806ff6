"""How fast Solo speaks, changed by voice and kept across a restart: "speak slower" to a
running ``run.py --wyoming``, through the ``wyoming`` library's own client (a conversation
turn, as Home Assistant's Assist sends it), and Solo's synthesised speech timed before and
after, by the same client."""

from __future__ import annotations

from pathlib import Path

import pytest
from wyoming.asr import Transcript
from wyoming.handle import Handled

from tests.wyoming.conftest import (
    SoloServer,
    exchange,
    run_async,
    start_solo,
    stop_solo,
    synthesize,
)

SENTENCE = "The quick brown fox jumps over the lazy dog, and then it runs away."


def said_back(server: SoloServer, text: str) -> str:
    """Solo's answer to ``text``, a turn of its own conversation."""

    async def ask() -> str:
        async with server.client() as client:
            event = Transcript(text=text, context={"conversation_id": "speed"}).event()
            events = await exchange(client, [event], {"handled", "not-handled", "error"})
        assert events[-1].type == "handled", events[-1]
        return Handled.from_event(events[-1]).text or ""

    return run_async(ask())


def seconds_said(server: SoloServer) -> float:
    pcm, rate = run_async(synthesize(server, SENTENCE))
    return len(pcm) / 2 / rate


def test_speak_slower_slows_every_sentence_and_is_kept_across_a_restart(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    var_dir: Path = tmp_path_factory.mktemp("speaking-rate") / "var"
    server = start_solo(var_dir)
    try:
        normal = seconds_said(server)
        assert said_back(server, "Speak slower, please.") == (
            "I'm speaking at 80 percent of my normal speed."
        )
        slower = seconds_said(server)
        # Piper's length scale goes from 1 to 1.25; the pauses scale with it.
        assert 1.15 < slower / normal < 1.35, (normal, slower)
        assert said_back(server, "Slow down.").endswith("60 percent of my normal speed.")
        assert said_back(server, "Slow down.") == (
            "That's as slow as I go: 60 percent of my normal speed."
        )
    finally:
        stop_solo(server)
    server = start_solo(var_dir)
    try:
        assert said_back(server, "How fast are you speaking?") == (
            "I'm speaking at 60 percent of my normal speed."
        )
        assert seconds_said(server) / normal > 1.4, "the rate was not kept"
        assert said_back(server, "Speak normally.") == "I'm speaking at my normal speed."
        again = seconds_said(server)
        assert 0.9 < again / normal < 1.1, (normal, again)
    finally:
        stop_solo(server)
