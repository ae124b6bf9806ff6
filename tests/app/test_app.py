"""The assistant as a whole: `python run.py` starts the tree, answers, and stops in order."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import msgspec
import pytest

import supervisors
from solo_actors.config import REPO_ROOT, Config
from solo_actors.dialogue import converse
from solo_actors.messages import LLMToken, Message
from solo_actors.names import ROOT_NAME
from solo_actors.reports import read_reports
from solo_actors.runtime.app import start_tree
from solo_actors.runtime.tree import root_children
from tests.conftest import ConfigFactory, config_environment, wait_for


def start_run(var_dir: Path, *args: str, **overrides: object) -> subprocess.Popen[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("SOLO")}
    environ.update(config_environment(var_dir, overrides))
    return subprocess.Popen(
        [sys.executable, str(REPO_ROOT / "run.py"), "--profile", "test", *args],
        env=environ,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def root_reports(var_dir: Path, kind: str) -> list[str]:
    """Child ids of the root supervisor's reports of ``kind``, in file order."""
    directory = var_dir / "log"
    if not directory.exists():
        return []
    reports = read_reports(directory)
    return [r.child_id or "" for r in reports if r.kind == kind and r.supervisor == ROOT_NAME]


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_run_stops_in_reverse_order_and_exits_0(
    tmp_path: Path, signum: signal.Signals, make_config: ConfigFactory
) -> None:
    var_dir = tmp_path / "var"
    expected = [spec.id for spec in root_children(make_config())]
    process = start_run(var_dir)
    try:
        wait_for(
            lambda: root_reports(var_dir, "start") == expected, "the tree to start", timeout=90
        )
        process.send_signal(signum)
        _, stderr = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 0, stderr
    assert root_reports(var_dir, "shutdown") == list(reversed(expected))


def test_a_child_that_cannot_start_stops_solo_with_exit_1(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.gguf"
    process = start_run(tmp_path / "var", **{"llm.model": str(missing)})
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 1
    assert "could not start" in stderr and "llm" in stderr and str(missing) in stderr
    assert root_reports(tmp_path / "var", "start_error") == ["llm"]


@pytest.fixture
def tree(make_config: ConfigFactory) -> Iterator[supervisors.SupervisorRef]:
    config: Config = make_config(**{"dialogue.turn_timeout": 30})
    root = start_tree(config)
    yield root
    root.stop()


def test_a_turn_streams_tokens_and_ends_with_turn_done(tree: supervisors.SupervisorRef) -> None:
    streamed: list[Message] = []
    done = converse("Say hello in one short sentence.", "conv-1", on_message=streamed.append)
    tokens = [m for m in streamed if isinstance(m, LLMToken)]
    assert done.error is None, done.error
    assert done.reply.strip() and tokens
    assert "".join(token.text for token in tokens).strip() == done.reply.strip()
    assert done.times.first_token is not None and done.times.done is not None
    assert done.times.done >= done.times.first_token
    assert msgspec.json.decode(msgspec.json.encode(done), type=type(done)) == done


def test_a_turn_while_the_llm_is_down_fails_clearly(tree: supervisors.SupervisorRef) -> None:
    tree.terminate_child("llm")
    done = converse("Hello?", "conv-2", timeout=10)
    assert done.error is not None and "not running" in done.error
    assert done.reply == "Sorry, I couldn't answer that just now."
    tree.restart_child("llm")
    assert converse("Hello again.", "conv-2", timeout=60).error is None
