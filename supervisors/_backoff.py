"""Restart backoff: how long to wait before restarting a failing child.

An extension to OTP, whose supervisors restart at once and rely on the
intensity limit alone. With a backoff, the n-th consecutive restart of a child
waits ``min * 2**n`` seconds, capped at ``max``, spread by ``jitter``. A child
that ran for at least ``max`` seconds before exiting starts counting again
from n = 0.
"""

from __future__ import annotations

import random
from collections.abc import Callable

import msgspec

__all__ = ["Backoff"]


class Backoff(msgspec.Struct, frozen=True):
    """Exponential restart delay: ``min``..``max`` seconds, +-``jitter``."""

    min: float
    max: float
    jitter: float = 0.1
    """Fraction of the delay added or removed at random (0 = exact)."""

    def __post_init__(self) -> None:
        if not 0 < self.min <= self.max:
            raise ValueError(f"backoff needs 0 < min <= max, got {self.min}, {self.max}")
        if not 0 <= self.jitter < 1:
            raise ValueError(f"backoff jitter must be in [0, 1), got {self.jitter}")

    def delay(self, attempt: int, rand: Callable[[], float] = random.random) -> float:
        """Seconds to wait before restart number ``attempt`` (from 0)."""
        # Cap the exponent so a long failing streak cannot overflow a float.
        base = min(self.max, self.min * 2.0 ** min(attempt, 64))
        return base * (1 + self.jitter * (2 * rand() - 1))
