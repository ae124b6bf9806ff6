"""``solo agents run`` in a fresh process, with the store and memory it starts itself.

A memory remembered beforehand (by the real memory actor, in this process) must reach the
research workflow's recall step: the CLI starts memory because ``memory_search`` is among the
workflow's tools, waits until memory has opened its index, and the run records the tool's
answer. The store it starts records the run's ``agents.run`` event. The tiny model's wording
is never asserted: the tool's output is Solo's own text.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import supervisors
from solo_actors.config import REPO_ROOT, Config
from solo_actors.messages import GetMemoryStatus, ReadRows, Remember, Rows
from solo_actors.names import MEMORY_NAME, STORE_NAME
from solo_actors.runtime.tree import root_children
from tests.agents.conftest import TINY, tiny_config
from tests.conftest import config_environment, wait_for

FACT = "My sister Alba grows cherry tomatoes on her balcony in Lisbon."
RUN_TIMEOUT = 400
CLI_SETTINGS = {**TINY, "agents.tool_timeout": 60}
"""A loaded machine may take more than the default 10 s for memory's first recall."""


def start_services(config: Config, names: tuple[str, ...]) -> supervisors.SupervisorRef:
    """The assistant's own child specs for ``names``, under a supervisor of their own."""
    specs = [spec for spec in root_children(config) if spec.id in names]
    assert [spec.id for spec in specs] == list(names)
    return supervisors.start_supervisor(
        supervisors.SupFlags(intensity=1, period=5), specs, name="agents-cli-test"
    )


def test_solo_agents_run_research_recalls_a_memory_with_the_store_and_memory_it_starts(
    tmp_path: Path,
) -> None:
    var_dir = tmp_path / "var"
    config = tiny_config(var_dir)
    services = start_services(config, (STORE_NAME, MEMORY_NAME))
    try:
        supervisors.tell(MEMORY_NAME, Remember(text=FACT, kind="fact"))
        wait_for(
            lambda: supervisors.ask(MEMORY_NAME, GetMemoryStatus(), timeout=30).memories >= 1,
            "the memory to be stored",
            timeout=120,
        )
    finally:
        services.stop()  # the CLI's own store and memory open the same files

    environ = {k: v for k, v in os.environ.items() if not k.startswith(("SOLO", "CREWAI"))}
    environ.update(config_environment(var_dir, CLI_SETTINGS))
    process = subprocess.run(
        [sys.executable, "-m", "solo_actors", "--profile", "test", "agents", "run", "research",
         "--json", "my sister's tomatoes"],
        cwd=REPO_ROOT, env=environ, capture_output=True, text=True, timeout=RUN_TIMEOUT,
    )  # fmt: skip
    assert process.returncode == 0, process.stderr[-3000:]
    run = json.loads(process.stdout)
    assert run["status"] == "done", (run["error"], process.stderr[-3000:])
    assert [step["status"] for step in run["steps"]] == ["done", "done"]

    recalls = [call for call in run["tool_calls"] if call["tool"] == "memory_search"]
    assert recalls and recalls[0]["placeholder"] and recalls[0]["step"] == 1, run["tool_calls"]
    assert FACT in recalls[0]["output"], recalls[0]["output"]

    # Progress came live, one line as each step started and ended.
    lines = [line for line in process.stderr.splitlines() if line.startswith("step ")]
    assert [re.sub(r" in \d+\.\d s:.*", " in S", line) for line in lines] == [
        "step 1/2 recall (researcher) ...",
        "step 1/2 recall (researcher) done in S",
        "step 2/2 summary (writer) ...",
        "step 2/2 summary (writer) done in S",
    ], process.stderr[-3000:]

    services = start_services(config, (STORE_NAME,))
    try:
        events = supervisors.ask(
            STORE_NAME, ReadRows(table="events", equals={"kind": "agents.run"}), timeout=30
        )
    finally:
        services.stop()
    assert isinstance(events, Rows) and len(events.rows) == 1, events
    data = events.rows[0][events.columns.index("data")]
    recorded = json.loads(data) if isinstance(data, str) else data
    assert recorded["run_id"] == run["run_id"] and recorded["status"] == "done"


def test_solo_agents_run_says_what_is_wrong_with_a_bad_workflow_name(tmp_path: Path) -> None:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("SOLO", "CREWAI"))}
    environ.update(config_environment(tmp_path / "var", TINY))
    process = subprocess.run(
        [sys.executable, "-m", "solo_actors", "--profile", "test", "agents", "run", "nope", "x"],
        cwd=REPO_ROOT, env=environ, capture_output=True, text=True, timeout=RUN_TIMEOUT,
    )  # fmt: skip
    assert process.returncode == 2, process.stderr[-2000:]
    assert "unknown workflow 'nope'; known: critique, plan, research" in process.stderr
