"""Per-turn traces: one timeline of every actor's steps in a voice turn (``log.trace``).

A turn passes through five or more actors, some in their own processes, and its latency is
the sum of their steps and of the waits between them. With ``log.trace = true`` each step
(`step`: the wake word, a pause, a transcript, a prompt read, the first token, a chunk
synthesised, the first sample played ...) is one JSON line in ``<var_dir>/trace.jsonl``:
``{"t": monotonic seconds, "turn": id, "actor": name, "step": what, ...details}``.
``solo trace`` prints a turn's steps in order, each with the time since the turn's first
step and since the step before it.

Every process of the tree appends to the same file: ``CLOCK_MONOTONIC`` is one clock for all
of a machine's processes, and each line is a single ``write`` to a file opened with
``O_APPEND``, so lines of concurrent processes never mix. Off, a step costs one check.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import msgspec

from solo_actors.config import Config
from solo_actors.runtime.clock import now

TRACE_FILE = "trace.jsonl"

_file: int | None = None
"""The trace file's descriptor in this process; None: tracing is off."""


def trace_path(config: Config) -> Path:
    return config.solo.var_path(TRACE_FILE)


def configure_tracing(config: Config) -> None:
    """Trace this process's steps if ``log.trace`` says so (once per process, as logging)."""
    global _file
    if _file is not None:
        os.close(_file)
        _file = None
    if config.log.trace:
        path = trace_path(config)
        path.parent.mkdir(parents=True, exist_ok=True)
        _file = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)


def step(turn_id: str | None, actor: str, name: str, **details: Any) -> None:
    """Record that `actor` did `name` for turn `turn_id` now (nothing when tracing is off,
    or for work that belongs to no turn)."""
    if _file is None or turn_id is None:
        return
    line = {"t": now(), "turn": turn_id, "actor": actor, "step": name, **details}
    os.write(_file, msgspec.json.encode(line) + b"\n")
