"""CrewAI offline: the environment it must see before its first import, and its storage.

CrewAI phones home unless told not to: telemetry (OpenTelemetry exporters), trace upload
and a PyPI version check, each of which blocks on DNS on a machine without a network.
Importing this module sets the switches (process-wide, before anything imports crewai):
`solo_actors.agents` imports it first, and `crew.py`, the only module that imports crewai,
imports it before crewai.

CrewAI 1.15 writes ``latest_kickoff_task_outputs.db`` (SQLite, the last kickoff's task
outputs) and ``.crewai_user.json`` under ``crewai_core.paths.db_storage_path()``, which is
``appdirs.user_data_dir($CREWAI_STORAGE_DIR)``; an absolute CREWAI_STORAGE_DIR makes that
exactly the folder given, so `use_storage` points it under Solo's ``var_dir``. (Importing
crewai also creates two empty folders, ``~/.config/crewai`` and
``~/.local/share/crewai/credentials``, from hard-coded home paths; nothing is written there.)
"""

from __future__ import annotations

import os
from pathlib import Path

OFFLINE_ENVIRONMENT = {
    "CREWAI_DISABLE_TELEMETRY": "true",
    "OTEL_SDK_DISABLED": "true",
    "CREWAI_TRACING_ENABLED": "false",
    "CREWAI_DISABLE_VERSION_CHECK": "true",
}
STORAGE_VARIABLE = "CREWAI_STORAGE_DIR"


def go_offline() -> None:
    """Set CrewAI's offline switches (overriding any inherited values)."""
    os.environ.update(OFFLINE_ENVIRONMENT)


def use_storage(directory: Path) -> Path:
    """Make CrewAI keep its files in ``directory`` (created; made absolute)."""
    directory = directory.resolve()
    directory.mkdir(parents=True, exist_ok=True)
    os.environ[STORAGE_VARIABLE] = str(directory)
    return directory


go_offline()
