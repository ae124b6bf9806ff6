"""The two clocks of Solo: monotonic seconds for stage times, ordered epoch seconds for rows.

A voice turn's stages (wake, speech end, transcript, first token, first audio) are stamped
with `now`, so latencies never jump with the wall clock. Rows written to the store are
stamped with `wall_clock`, which never repeats within the process.
"""

from __future__ import annotations

import threading
import time


def now() -> float:
    """Monotonic seconds: the clock every stage timestamp uses."""
    return time.monotonic()


WALL_CLOCK_STEP = 2e-6
"""Seconds between two wall-clock readings at least: above the databases' microsecond
resolution, so two rows never share a time once stored."""

_wall_clock_lock = threading.Lock()
_last_wall_clock = 0.0


def wall_clock() -> float:
    """Epoch seconds, strictly increasing within the process: the clock stored rows use
    (monotonic stage times are kept as well). Rows written in one burst would otherwise
    share a time and come back from "newest first" reads in no particular order."""
    global _last_wall_clock
    with _wall_clock_lock:
        _last_wall_clock = max(time.time(), _last_wall_clock + WALL_CLOCK_STEP)
        return _last_wall_clock
