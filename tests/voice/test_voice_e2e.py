"""The main jobs end to end, each in a child process: `python run.py --input question.wav
--output-dir out/` and `python run.py --text --output-dir out/`.

The whole assistant runs on its default models (the default LLM knows its capitals), exits by
itself once the input is answered, and leaves the spoken answers in out/ with one JSON line
per turn on stdout; the recorded question's answer, transcribed back through Whisper, says
Paris.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import wave
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

from solo_actors.config import REPO_ROOT
from tests.conftest import config_environment
from tests.voice.conftest import TEST_THREADS

STAGES = ("wake", "speech_end", "transcript", "first_token", "first_audio", "done")
RUN_TIMEOUT = 240
"""Seconds a run may take: the default models (and their standby spares) loaded in several
processes, then the turns; a typed-lines run took over 100 s on a busy 2-core machine."""


class Finished(NamedTuple):
    turns: list[dict[str, Any]]
    """The JSON turn lines printed on stdout."""
    log: str
    """Everything written to stderr: the log, at the profile's level."""


def run_solo(tmp_path: Path, *args: str, stdin: str | None = None, **overrides: object) -> Finished:
    """Run `run.py ARGS` to its end, exit 0 asserted.
    `overrides` are dotted config keys, as `config_environment` takes them. The API listens
    on a free port: the default profile's fixed one may be held by another Solo (another
    test run on the machine), which would stop this one at its start."""
    settings = {**TEST_THREADS, "api.port": 0, **overrides}
    environ = {**os.environ, **config_environment(tmp_path / "var", settings)}
    result = subprocess.run(
        [sys.executable, str(REPO_ROOT / "run.py"), *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
        env=environ,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    turns = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    return Finished(turns, result.stderr)


def test_a_recorded_question_gets_a_spoken_answer(
    question_wav: Path, tmp_path: Path, hear: Callable[[Path], str]
) -> None:
    out = tmp_path / "out"
    [turn], log = run_solo(tmp_path, "--input", str(question_wav), "--output-dir", str(out))
    assert "capital of france" in turn["text"].lower()
    # At info the log says a turn was heard and answered, never the words of either.
    assert '"transcript"' in log and '"turn done"' in log, log[-3000:]
    assert "france" not in log.lower() and "paris" not in log.lower(), log[-3000:]
    assert turn["error"] is None
    reply_file = Path(turn["file"])
    assert reply_file.parent == out and reply_file.exists()
    assert list(out.glob("*.wav")) == [reply_file]
    assert "paris" in hear(reply_file).lower()
    stages = turn["seconds_after_speech_end"]
    for stage in STAGES:
        assert stages[stage] is not None, stage
    assert stages["wake"] <= 0 <= stages["transcript"] <= stages["first_audio"] <= stages["done"]


def test_typed_lines_are_turns_answered_aloud(tmp_path: Path) -> None:
    out = tmp_path / "out"
    lines = ["What is the capital of France?", "", "Thank you."]
    typed = "\n".join(lines) + "\n"
    turns = run_solo(
        tmp_path, "--text", "--output-dir", str(out), stdin=typed, **{"llm.max_tokens": 32}
    ).turns
    assert [turn["text"] for turn in turns] == [lines[0], lines[2]]  # the empty line is no turn
    assert "paris" in turns[0]["reply"].lower()
    assert len({turn["turn_id"] for turn in turns}) == 2
    for turn in turns:
        assert turn["source"] == "text" and turn["error"] is None and turn["reply"]
        with wave.open(turn["file"]) as reply:  # spoken, not only written
            assert reply.getnframes() / reply.getframerate() > 0.5
        stages = turn["seconds_after_speech_end"]
        assert stages["wake"] is None  # no wake word on the keyboard
        assert 0 <= stages["first_token"] <= stages["first_audio"] <= stages["done"]
    assert sorted(out.glob("*.wav")) == sorted(Path(turn["file"]) for turn in turns)


def test_typed_lines_are_asked_one_after_another(tmp_path: Path) -> None:
    """Piped lines are one conversation: the time skill's instant reply does not overtake
    the model's, because its line is only asked once the model's reply is out."""
    lines = ["What is the capital of France?", "What time is it?"]
    typed = "\n".join(lines) + "\n"
    turns = run_solo(tmp_path, "--text", stdin=typed, **{"llm.max_tokens": 16}).turns
    assert [turn["text"] for turn in turns] == lines, "a later line's reply came first"
    assert all(turn["error"] is None and turn["reply"] for turn in turns), turns
