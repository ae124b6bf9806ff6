"""The command line: help at every level, `config show`, and exit code 2 on a bad config."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from solo_actors.config import REPO_ROOT


def solo(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("SOLO")}
    environ.update(env or {})
    return subprocess.run(
        [sys.executable, str(REPO_ROOT / "run.py"), *args],
        capture_output=True,
        text=True,
        env=environ,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    "args", [["--help"], ["run", "--help"], ["config", "--help"], ["config", "show", "--help"]]
)
def test_help_at_every_level(args: list[str]) -> None:
    result = solo(*args)
    assert result.returncode == 0, result.stderr
    assert "usage: solo" in result.stdout


def test_config_show_names_the_source_of_each_value() -> None:
    result = solo("config", "show", "--profile", "dev", env={"SOLO__SUPERVISOR__PERIOD": "9.5"})
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert any(
        line.startswith('log.level = "debug"') and "config/profiles/dev.toml" in line
        for line in lines
    )
    assert any(
        line.startswith("supervisor.period = 9.5")
        and "environment SOLO__SUPERVISOR__PERIOD" in line
        for line in lines
    )
    assert any(
        line.startswith("supervisor.intensity") and "config/default.toml" in line for line in lines
    )


def test_profile_option_works_before_and_after_the_command() -> None:
    before = solo("--profile", "dev", "config", "show", "--json")
    after = solo("config", "show", "--json", "--profile", "dev")
    assert before.returncode == after.returncode == 0
    assert json.loads(before.stdout) == json.loads(after.stdout)
    assert json.loads(after.stdout)["profile"] == {"value": "dev", "source": "--profile"}


def test_bad_config_exits_2_with_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[supervisor]\nintensity = -3\n")
    result = solo("--config", str(bad), "config", "show")
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert "bad.toml: supervisor.intensity: expected `int` >= 0, got -3" in result.stderr


def test_bad_profile_stops_run_before_anything_starts() -> None:
    result = solo("run", "--profile", "nosuch")
    assert result.returncode == 2
    assert "profile 'nosuch' not found" in result.stderr


def test_set_overrides_one_setting_at_either_level_and_wins_over_the_environment() -> None:
    result = solo("--set", "supervisor.period=7.5", "config", "show", "--json",
                  "--set", "log.level=error", env={"SOLO__LOG__LEVEL": "debug"})  # fmt: skip
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout)
    assert shown["supervisor.period"] == {"value": 7.5, "source": "--set supervisor.period=7.5"}
    assert shown["log.level"] == {"value": "error", "source": "--set log.level=error"}


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ("llm", "--set llm: expected SECTION.KEY=VALUE, e.g. --set llm.n_threads=4"),
        ("llm.nope=1", "--set llm.nope=1: llm.nope: unknown setting"),
        ("llm.n_threads=lots", "--set llm.n_threads=lots: llm.n_threads: expected `int`, got "
                               "`str`: 'lots'"),
    ],
)  # fmt: skip
def test_a_bad_set_exits_2_and_names_it(setting: str, message: str) -> None:
    result = solo("run", "--set", setting)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and message in result.stderr, result.stderr
