"""A voice turn's trace (``log.trace``): every actor's steps, in order, and ``solo trace``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from solo_actors.cli import main
from solo_actors.cli.trace_cmd import read_steps
from solo_actors.runtime.trace import configure_tracing, trace_path
from tests.voice.conftest import Speech, VoiceRun, voice_config
from tests.voice.test_voice_turns import feed

TIMEOUT = 90.0
CAUSAL_CHAINS = [
    # Each step follows the one before it in its chain; the chains run side by side (fed
    # faster than real time, vad may end the turn before stt has transcribed the pause).
    [("wake", "wake word"), ("vad", "pause"), ("stt", "pause transcribed"),
     ("stt", "judged the words")],
    [("vad", "end of turn"), ("stt", "transcript"), ("dialogue", "reply asked"),
     ("llm", "request taken"), ("llm", "first token"), ("tts", "synthesising"),
     ("tts", "synthesised"), ("speaker", "first sample played")],
]  # fmt: skip


def test_a_turns_trace_holds_every_actors_steps_in_order(
    voice_tree: Callable[..., VoiceRun],
    speech: Speech,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = voice_config(tmp_path, log__trace=True)
    configure_tracing(config)  # as the tree's start does, in each of its processes
    try:
        run = voice_tree(config)
        feed(speech.clip(0.3, "Jarvis.", 0.25, "What is the capital of France?", 1.0, steady=True))
        [turn] = run.wait_turns(1, TIMEOUT)
    finally:
        configure_tracing(voice_config(tmp_path))  # off again for the other tests
    steps = [one for one in read_steps(trace_path(config)) if one["turn"] == turn["turn_id"]]
    seen = [(one["actor"], one["step"]) for one in steps]
    for chain in CAUSAL_CHAINS:
        missing = [expected for expected in chain if expected not in seen]
        assert not missing, seen
        times = [steps[seen.index(expected)]["t"] for expected in chain]
        assert times == sorted(times), seen
    transcript = steps[seen.index(("stt", "pause transcribed"))]
    assert "capital of france" in transcript["text"].lower()

    monkeypatch.setenv("SOLO__SOLO__VAR_DIR", str(tmp_path / "var"))
    capsys.readouterr()
    assert main(["trace", "--profile", "test", "--since", "end of turn"]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert printed[0] == f'turn {turn["turn_id"]} (from "end of turn")'
    assert any("llm       first token" in line for line in printed), printed
    end_of_turn = next(line for line in printed[1:] if "vad       end of turn" in line)
    assert end_of_turn.split()[0] == "+0.000"


def test_solo_trace_says_how_to_record_a_trace_when_there_is_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SOLO__SOLO__VAR_DIR", str(tmp_path / "var"))
    assert main(["trace", "--profile", "test"]) == 1
    assert "log.trace = true" in capsys.readouterr().err
