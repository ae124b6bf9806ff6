"""How long steps report progress, without the models package depending on a terminal.

Downloading, assembling and hashing are counted in bytes through a `Reporter`; the CLI
passes one that draws rich progress bars, and library callers (the actors, the tests) get
`SILENT`, which draws nothing.
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from typing import Protocol


class Meter(Protocol):
    """One progress bar, counted in bytes."""

    def advance(self, amount: int) -> None: ...

    def update(self, completed: int, total: int) -> None:
        """Set the position outright, for steps that learn their total as they go."""
        ...


class Reporter(Protocol):
    def meter(self, description: str, total: int | None) -> AbstractContextManager[Meter]:
        """A bar for one step; `total` may be None until the step learns it."""
        ...


class _SilentMeter:
    def advance(self, amount: int) -> None:
        pass

    def update(self, completed: int, total: int) -> None:
        pass


class _SilentReporter:
    def meter(self, description: str, total: int | None) -> AbstractContextManager[Meter]:
        return nullcontext(_SilentMeter())


SILENT: Reporter = _SilentReporter()
