"""The stopwatch: "start the stopwatch", "how long has the stopwatch been running?", "stop
the stopwatch", "resume the stopwatch", "reset the stopwatch" (the ``stopwatch.*`` intents of
``config/skills/stopwatch.toml``).

One stopwatch for the whole assistant, as a kitchen has one, counted in the epoch seconds each
request is answered at (`builtin.SkillBook` passes them in, so a test fixes them). It counts
up and never rings, so nothing is scheduled for it. It is held in memory by the skills actor's
book: a restart of that actor ends it, where timers, alarms and reminders are in the store.
"""

from __future__ import annotations

from dataclasses import dataclass

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
