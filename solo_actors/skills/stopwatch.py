"""The stopwatch: "start the stopwatch", "how long has the stopwatch been running?", "stop
the stopwatch", "resume the stopwatch", "reset the stopwatch" (the ``stopwatch.*`` intents of
``config/skills/stopwatch.toml``).

One stopwatch for the whole assistant, as a kitchen has one, counted in the epoch seconds each
request is answered at (`builtin.SkillBook` passes them in, so a test fixes them). It counts
up and never rings, so nothing is scheduled for it. The skills actor's book holds it, and the
actor saves it to a small JSON file at each change (`save_stopwatch`) and reads it back when
it starts (`load_stopwatch`): a stopwatch keeps counting across a restart, as the timers in
the store do. Its start is an epoch time, so the time Solo was down is counted too.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from solo_actors.models.atomic import atomic_write
from solo_actors.skills.words import spoken_duration

STOPWATCH_INTENTS = ("stopwatch.start", "stopwatch.stop", "stopwatch.resume", "stopwatch.check",
                     "stopwatch.reset")  # fmt: skip


@dataclass
class Stopwatch:
    """Seconds ``counted`` before the current run, and when that run began (``since``;
    None: stopped)."""

    counted: float = 0.0
    since: float | None = None

    @property
    def running(self) -> bool:
        return self.since is not None

    def elapsed(self, now: float) -> float:
        return self.counted + (0.0 if self.since is None else max(0.0, now - self.since))

    def answer(self, intent: str, now: float) -> str:
        """What ``intent`` ("stopwatch.start", ...) does to the stopwatch, in words."""
        running, shown = self.running, spoken_duration(self.elapsed(now))
        match intent:
            case "stopwatch.start" if running:
                return f"The stopwatch is already running: {shown}."
            case "stopwatch.start":  # a stopped one starts again from zero
                self.counted, self.since = 0.0, now
                return "Stopwatch started."
            case "stopwatch.resume" if running:
                return f"The stopwatch is already running: {shown}."
            case "stopwatch.resume":
                self.since = now
                return f"Stopwatch resumed at {shown}." if self.counted else "Stopwatch started."
            case "stopwatch.stop" if running:
                self.counted, self.since = self.elapsed(now), None
                return f"Stopped the stopwatch at {shown}."
            case "stopwatch.reset":
                was = f" It was at {shown}." if running or self.counted else ""
                self.counted, self.since = 0.0, None
                return f"Stopwatch reset.{was}"
            case _ if not running and not self.counted:  # check or stop, never started
                return "The stopwatch isn't running. Say start the stopwatch."
            case "stopwatch.stop":
                return f"The stopwatch is already stopped, at {shown}."
        return f"{shown[0].upper()}{shown[1:]} on the stopwatch{'' if running else ', stopped'}."


def load_stopwatch(path: Path) -> Stopwatch:
    """The stopwatch saved at ``path``; a new one if none was. `ValueError` names what is
    wrong with a file that is not one `save_stopwatch` wrote."""
    try:
        saved = json.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        return Stopwatch()
    except (OSError, json.JSONDecodeError) as error:
        raise ValueError(f"{path} is unreadable: {error}") from None
    if not isinstance(saved, dict):
        raise ValueError(f"{path} holds no stopwatch ({saved!r})")
    counted, since = saved.get("counted"), saved.get("since")
    if not isinstance(counted, int | float) or not isinstance(since, int | float | None):
        raise ValueError(f"{path} holds no stopwatch ({saved!r})")
    return Stopwatch(float(counted), None if since is None else float(since))


def save_stopwatch(path: Path, stopwatch: Stopwatch) -> None:
    """Write ``stopwatch`` to ``path`` whole or not at all (`OSError` if it can't be)."""
    with atomic_write(path) as stream:
        stream.write(json.dumps(asdict(stopwatch)).encode())
