"""The main job end to end: `python run.py --input question.wav --output-dir out/`.

The whole assistant runs in a child process on a recorded question (the default 0.5B LLM,
which knows its capitals), exits by itself once the input is answered, and leaves the
spoken answer in out/; the answer, transcribed back through Whisper, says Paris.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from solo_actors.config import REPO_ROOT


def test_a_recorded_question_gets_a_spoken_answer(
    question_wav: Path, tmp_path: Path, hear: Callable[[Path], str]
) -> None:
    out = tmp_path / "out"
    environ = {**os.environ, "SOLO__SOLO__VAR_DIR": str(tmp_path / "var")}
    result = subprocess.run(
        [
            sys.executable,
            str(REPO_ROOT / "run.py"),
            "--input",
            str(question_wav),
            "--output-dir",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=180,
        env=environ,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    turns = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert len(turns) == 1, result.stdout
    turn = turns[0]
    assert "capital of france" in turn["text"].lower()
    assert turn["error"] is None
    reply_file = Path(turn["file"])
    assert reply_file.parent == out and reply_file.exists()
    assert list(out.glob("*.wav")) == [reply_file]
    assert "paris" in hear(reply_file).lower()
    stages = turn["seconds_after_speech_end"]
    for stage in ("wake", "speech_end", "transcript", "first_token", "first_audio", "done"):
        assert stages[stage] is not None, stage
    assert stages["wake"] <= 0 <= stages["transcript"] <= stages["first_audio"] <= stages["done"]
