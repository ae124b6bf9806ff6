"""A whole-number setting the user changes by voice, kept across restarts: a `SavedLevel`.

How loud Solo plays (`volume`) and how fast it speaks (`speaking_rate`) are such settings.
Each is owned by the actor that applies it, which reads it back from its JSON file when it
starts and saves it at every change. A level asked past an end is kept at that end, and the
caller is told so, so the reply can say "that's as loud as I go". An unreadable file is
logged and the default used: a broken file never stops the voice.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import NamedTuple

from solo_actors.runtime.logs import get_logger

log = get_logger("solo/voice/saved_level")


class LevelChange(NamedTuple):
    level: int
    before: int
    limited: bool
    """The level asked for was past an end and was kept there."""


class SavedLevel:
    """A level from ``lowest`` to ``highest`` (``default`` until changed), saved to ``path``
    (JSON) at each change."""

    def __init__(self, path: Path, lowest: int, highest: int, default: int, what: str) -> None:
        self.path = path
        self.lowest, self.highest, self.default, self.what = lowest, highest, default, what
        self.level = default
        self._read_stamp: int | None = None
        self._read()

    def _read(self) -> None:
        try:
            self._read_stamp = self.path.stat().st_mtime_ns
            saved = json.loads(self.path.read_text("utf-8"))["level"]
            if not (isinstance(saved, int) and self.lowest <= saved <= self.highest):
                raise ValueError(f"level {saved!r} is not {self.lowest} to {self.highest}")
            self.level = saved
        except FileNotFoundError:
            self._read_stamp = None  # never changed
        except (OSError, ValueError, KeyError, TypeError) as error:
            log.warning(f"{self.what} file unreadable; {self.default} until it is set again",
                        path=str(self.path), error=str(error),
                        fix=f"set the {self.what} again")  # fmt: skip

    def refresh(self) -> bool:
        """Read the level again if its file changed since it was read or written here
        (another process of the same owner set it: a hot standby's spare, started before
        the change, reads it when it takes over); whether the level changed."""
        try:
            stamp: int | None = self.path.stat().st_mtime_ns
        except OSError:
            stamp = None
        if stamp == self._read_stamp:
            return False
        before = self.level
        self._read()
        return self.level != before

    def set(self, wanted: int) -> LevelChange:
        """Make ``wanted`` the level (the nearest end, if it is past one) and save it."""
        before = self.level
        level = min(self.highest, max(self.lowest, wanted))
        if level != before:
            self.level = level
            self.save()
        return LevelChange(level, before, level != wanted)

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        partial = self.path.with_suffix(".partial")
        partial.write_text(json.dumps({"level": self.level}), "utf-8")
        os.replace(partial, self.path)  # a crash mid-write leaves the old level, not half a file
        self._read_stamp = self.path.stat().st_mtime_ns
