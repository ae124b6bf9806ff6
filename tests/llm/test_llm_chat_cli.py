"""``solo chat`` with piped stdin: one prompt per line, plain output, through the actor."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from solo_actors.config import REPO_ROOT

QUESTIONS = b"What is the capital of France?\n\nAnd of Germany?\n"


def chat(
    stdin: bytes, var_dir: Path, *args: str, environ: dict[str, str] | None = None
) -> subprocess.CompletedProcess[bytes]:
    environ = {**os.environ, "SOLO__SOLO__VAR_DIR": str(var_dir), **(environ or {})}
    return subprocess.run(
        [sys.executable, "run.py", "--profile", "test", "chat", *args],
        input=stdin,
        capture_output=True,
        cwd=REPO_ROOT,
        env=environ,
        timeout=300,
        check=False,
    )


def test_piped_prompts_get_plain_streamed_replies(tmp_path: Path) -> None:
    result = chat(QUESTIONS + b"/stats\n", tmp_path / "var", "--max-tokens", "32")
    assert result.returncode == 0, result.stderr.decode()
    out = result.stdout.decode()
    assert "\x1b" not in out  # no colour codes
    assert "you>" not in out and "Solo chat" not in out  # no prompt, no banner
    replies, table_start, table = out.partition("tokens_per_second")
    assert table_start, out
    assert len([line for line in replies.splitlines() if line.strip()]) >= 2
    stats = dict(line.split(maxsplit=1) for line in table.splitlines()[1:])
    assert (stats["requests"], stats["cache_misses"], stats["conversations"]) == ("2", "2", "1")


def test_bad_lines_are_reported_and_the_chat_goes_on(tmp_path: Path) -> None:
    result = chat(
        b"\xff\xfe not utf-8\n/bogus\nSay hello.\n", tmp_path / "var", "--max-tokens", "8"
    )
    assert result.returncode == 1  # a request failed
    errors = result.stderr.decode()
    assert "error: prompt is not valid UTF-8" in errors
    assert "unknown command /bogus" in errors
    assert result.stdout.strip()  # the good line was still answered


def test_options_override_the_config(tmp_path: Path) -> None:
    result = chat(
        b"/params\n",
        tmp_path / "var",
        "--temp",
        "0.5",
        "--max-tokens",
        "7",
        "--system",
        "Be terse.",
    )
    assert result.returncode == 0, result.stderr.decode()
    params = dict(line.split(maxsplit=1) for line in result.stdout.decode().splitlines())
    assert (params["temperature"], params["max_tokens"]) == ("0.5", "7")


def test_a_bad_option_is_a_usage_error(tmp_path: Path) -> None:
    result = chat(b"", tmp_path / "var", "--temp", "-1")
    assert result.returncode == 2
    assert "bad option" in result.stderr.decode()


def test_a_missing_model_says_how_to_get_it(tmp_path: Path) -> None:
    result = chat(b"hi\n", tmp_path / "var", "--model", "no-such-model")
    assert result.returncode == 1
    assert "no-such-model" in result.stderr.decode()


def test_the_llm_runs_isolated_as_shipped_and_is_reached_by_messages(tmp_path: Path) -> None:
    """The shipped config runs the llm in its own process, where no proxy reaches it: the chat
    streams, forgets, describes and counts through messages alone."""
    environ = {**os.environ, "SOLO__SOLO__VAR_DIR": str(tmp_path / "var"),
               "SOLO__ISOLATION__LLM__MODE": '"process"'}  # fmt: skip
    with subprocess.Popen(
        [sys.executable, "run.py", "--profile", "test", "chat", "--max-tokens", "8"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        cwd=REPO_ROOT, env=environ,
    ) as chat_process:  # fmt: skip
        out, err = chat_process.communicate(b"Say hello.\n/reset\n/params\n/stats\n", 300)
    assert chat_process.returncode == 0, err.decode()
    text = out.decode()
    assert "(new conversation)" in text
    rows = dict(line.split(maxsplit=1) for line in text.splitlines() if "  " in line)
    assert int(rows["pid"]) != chat_process.pid  # the model ran in a process of its own
    assert rows["model"].startswith("smollm2")
    assert text.splitlines()[0].strip()  # the reply, streamed from the other process
