"""`python run.py --text` and `--input` as people and scripts run them, each in a child.

At a terminal (stdin and stdout on a pseudo-terminal) `--text` is a conversation: prompts,
the reply streamed as it is written, warnings only. Piped, or with `--json`, each turn is a
JSON line. A file with no wake word ends with a message and exit code 3; `--no-wake` takes
the whole file as the question; a failed turn says why in every mode. The test profile's
tiny model answers (badly, and that is not the point).
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from solo_actors.config import REPO_ROOT, load_config
from solo_actors.voice.audio import SAMPLE_RATE, write_wav
from solo_actors.voice.console import PROMPT, REPLY, banner
from tests.conftest import config_environment
from tests.voice.conftest import TEST_THREADS, Speech

RUN_PY = str(REPO_ROOT / "run.py")
TIMEOUT = 120.0
EXIT_NOTHING_ASKED = 3


def environment(tmp_path: Path, **overrides: object) -> dict[str, str]:
    """The test profile in a temporary var/, without the API (nothing here uses it)."""
    settings = {**TEST_THREADS, "api.enabled": False, **overrides}
    environ = {k: v for k, v in os.environ.items() if not k.startswith("SOLO")}
    return {**environ, "SOLO_PROFILE": "test", **config_environment(tmp_path / "var", settings)}


def run_piped(
    tmp_path: Path, *args: str, stdin: str = "", **overrides: object
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, RUN_PY, *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        env=environment(tmp_path, **overrides),
        cwd=REPO_ROOT,
        check=False,
    )


class Terminal:
    """`run.py ARGS` with stdin, stdout and stderr on one pseudo-terminal, as a person at a
    terminal runs it; what it shows is kept with the time each piece was read."""

    def __init__(self, tmp_path: Path, *args: str, **overrides: object) -> None:
        self.master, slave = os.openpty()
        self.process = subprocess.Popen(
            [sys.executable, RUN_PY, *args],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=environment(tmp_path, **overrides),
            cwd=REPO_ROOT,
            start_new_session=True,
        )
        os.close(slave)
        self.reads: list[tuple[float, str]] = []

    @property
    def screen(self) -> str:
        """Everything shown so far, with the terminal's CR LF as plain newlines."""
        return "".join(text for _, text in self.reads).replace("\r\n", "\n")

    def read_until(self, wanted: str, start: int = 0) -> int:
        """Read until `wanted` shows at or after `start` in `screen`; where it ends."""
        deadline = time.monotonic() + TIMEOUT
        while (found := self.screen.find(wanted, start)) < 0:
            remaining = deadline - time.monotonic()
            assert remaining > 0, f"{wanted!r} never shown; the screen:\n{self.screen}"
            if not self.read(remaining):
                raise AssertionError(f"ended before {wanted!r}; the screen:\n{self.screen}")
        return found + len(wanted)

    def read(self, timeout: float) -> bool:
        """One read of what is waiting; False at the end (the child closed the terminal)."""
        ready, _, _ = select.select([self.master], [], [], timeout)
        if not ready:
            return True
        try:
            data = os.read(self.master, 4096)
        except OSError:  # EIO: every process holding the terminal's other side is gone
            return False
        self.reads.append((time.monotonic(), data.decode("utf-8", "replace")))
        return bool(data)

    def type(self, keys: str) -> None:
        os.write(self.master, keys.encode())

    def finish(self) -> int:
        """Read to the end and return the exit code."""
        while self.read(TIMEOUT):
            pass
        code = self.process.wait(timeout=TIMEOUT)
        os.close(self.master)
        return code

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def test_text_at_a_terminal_is_a_conversation_streamed_as_it_is_written(
    tmp_path: Path,
) -> None:
    terminal = Terminal(tmp_path, "--text", "--output-dir", str(tmp_path / "out"))
    try:
        asked = terminal.read_until("you> ")
        terminal.type("Tell me about the city of Paris.\n")
        reply_start = terminal.read_until("solo> ", asked)
        reply_end = terminal.read_until("\n", reply_start)
        terminal.read_until("you> ", reply_end)
        terminal.type("\x04")  # Ctrl-D: the end of the input
        assert terminal.finish() == 0, terminal.screen
    finally:
        terminal.close()
    screen = terminal.screen
    reply = screen[reply_start : reply_end - 1]
    assert len(reply.split()) >= 3, screen
    assert screen.startswith(banner("smollm2-135m-instruct-q4_1") + "\n"), screen
    assert "you> Tell me about the city of Paris.\n" in screen
    assert screen[reply_start - len("\nsolo> ") : reply_start] == "\nsolo> "
    # Streamed: the reply reached the terminal in several pieces, as the model wrote them.
    pieces = [text for _, text in terminal.reads if text.strip() and text.strip() in reply]
    assert len(pieces) >= 2, terminal.reads
    # For a person: no JSON turn lines, no log below a warning, and readable ones at that.
    lines = screen.splitlines()
    assert not [line for line in lines if line.startswith("{") or "[info" in line], screen
    # Nor warnings that are no news to the user (each turn used to bring two).
    assert "unknown message ignored" not in screen and "Deprecation" not in screen, screen
    assert len(list((tmp_path / "out").glob("*.wav"))) == 1  # and it was spoken too


def test_ctrl_c_at_the_prompt_leaves_at_once(tmp_path: Path) -> None:
    terminal = Terminal(tmp_path, "--text", "--output-dir", str(tmp_path / "out"))
    try:
        terminal.read_until("you> ")
        started = time.monotonic()
        terminal.process.send_signal(signal.SIGINT)  # what Ctrl-C sends the foreground job
        assert terminal.finish() == 0, terminal.screen
    finally:
        terminal.close()
    # Not held up by the read from the terminal that nothing can interrupt.
    assert time.monotonic() - started < 5.0
    assert terminal.screen.endswith("you> \n")  # the shell's prompt on a line of its own


def test_json_forces_turn_lines_at_a_terminal(tmp_path: Path) -> None:
    terminal = Terminal(tmp_path, "--text", "--json", "--output-dir", str(tmp_path / "out"))
    try:
        terminal.type("What is the capital of France?\n")
        terminal.read_until('"seconds_after_speech_end"')
        terminal.type("\x04")
        assert terminal.finish() == 0, terminal.screen
    finally:
        terminal.close()
    [line] = [line for line in terminal.screen.splitlines() if line.startswith("{")]
    turn = json.loads(line)
    assert turn["text"] == "What is the capital of France?"
    assert turn["error"] is None and turn["reply"].strip()
    assert "you> " not in terminal.screen


def test_a_failed_turn_says_why_at_a_terminal_and_in_json(tmp_path: Path) -> None:
    timeout = {"dialogue.turn_timeout": 0.001}  # no model answers that fast
    terminal = Terminal(tmp_path, "--text", "--output-dir", str(tmp_path / "out"), **timeout)
    try:
        terminal.read_until("you> ")
        terminal.type("What is the capital of France?\n")
        said = terminal.read_until("solo: turn failed: no reply from the language model")
        terminal.read_until("you> ", said)
        terminal.type("\x04")
        assert terminal.finish() == 0, terminal.screen
    finally:
        terminal.close()
    apology = load_config("test", environ={}).dialogue.error_reply
    assert f"solo> {apology}\n" in terminal.screen

    piped = run_piped(tmp_path, "--text", stdin="What is the capital of France?\n", **timeout)
    assert piped.returncode == 0, piped.stderr[-3000:]
    [turn] = [json.loads(line) for line in piped.stdout.splitlines()]
    assert turn["reply"] == apology
    assert turn["error"].startswith("no reply from the language model within")


def silence_wav(tmp_path: Path) -> Path:
    path = tmp_path / "silence.wav"
    write_wav(path, np.zeros(SAMPLE_RATE, np.int16), SAMPLE_RATE)
    return path


def spoken_wav(tmp_path: Path, name: str, *parts: str | float) -> Path:
    """A WAV file of `parts` (texts and pauses in seconds) in the catalog's Piper voice."""
    speech = Speech(load_config("test", environ={}), tmp_path)
    return speech.wav(name, lambda: speech.clip(*parts, steady=True))


def question_wav(tmp_path: Path) -> Path:
    """ "What is the capital of France?", without the wake word before it."""
    return spoken_wav(tmp_path, "question", 0.5, "What is the capital of France?", 1.0)


def test_a_file_with_no_wake_word_says_so_and_exits_3(tmp_path: Path) -> None:
    for path in (silence_wav(tmp_path), question_wav(tmp_path)):
        result = run_piped(tmp_path, "--input", str(path), "--output-dir", str(tmp_path / "out"))
        assert result.returncode == EXIT_NOTHING_ASKED, result.stderr[-3000:]
        assert result.stdout == ""
        assert f"solo: no wake word heard in {path} (listened for 'jarvis' (porcupine))" in (
            result.stderr
        )
        assert "--no-wake" in result.stderr


def test_a_wake_word_with_no_question_after_it_says_so_and_exits_3(tmp_path: Path) -> None:
    path = spoken_wav(tmp_path, "wake-only", 0.5, "Jarvis.", 2.5)
    result = run_piped(tmp_path, "--input", str(path), **{"voice.vad.listen_timeout": 1.0})
    assert result.returncode == EXIT_NOTHING_ASKED, result.stderr[-3000:]
    assert result.stdout == ""
    assert f"solo: the wake word was heard in {path} but no question after it; ask within 1 s" in (
        result.stderr
    )


def test_no_wake_takes_the_whole_file_as_the_question(tmp_path: Path) -> None:
    path = question_wav(tmp_path)
    out = tmp_path / "out"
    result = run_piped(tmp_path, "--input", str(path), "--no-wake", "--output-dir", str(out))
    assert result.returncode == 0, result.stderr[-3000:]
    turns: list[dict[str, Any]] = [json.loads(line) for line in result.stdout.splitlines()]
    [turn] = turns
    assert "capital of france" in turn["text"].lower()
    assert turn["error"] is None and turn["reply"].strip()
    assert Path(turn["file"]).exists()


def test_no_wake_needs_an_input_file(tmp_path: Path) -> None:
    result = run_piped(tmp_path, "--text", "--no-wake")
    assert result.returncode == 2
    assert "--no-wake needs --input FILE" in result.stderr


def test_the_readme_opens_with_a_conversation_as_it_looks() -> None:
    """The README's first screen shows `--text` at a terminal with today's prompts."""
    first_screen = (REPO_ROOT / "README.md").read_text(encoding="utf-8").splitlines()[:24]
    shown = [line.strip() for line in first_screen if line.startswith("    ")]
    start = shown.index("$ python run.py --text")
    model = load_config("headless", environ={}).llm.model  # what `python run.py` runs
    assert shown[start + 1] == banner(model)
    turns = shown[start + 2 :]
    assert turns[0].startswith(PROMPT) and turns[1].startswith(REPLY.strip()), turns
