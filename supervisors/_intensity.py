"""The restart intensity limit: at most ``intensity`` restarts in ``period`` s.

OTP's rule: a supervisor keeps the times of its recent restarts; if a restart
makes more than ``intensity`` of them fall within the last ``period`` seconds,
the supervisor gives up (stops its children and exits ``shutdown``) instead of
restarting, so the problem escalates to its own supervisor.
"""

from __future__ import annotations

from collections import deque

__all__ = ["RestartIntensity"]


class RestartIntensity:
    """Sliding window of restart times."""

    def __init__(self, intensity: int, period: float) -> None:
        self._intensity = intensity
        self._period = period
        self._times: deque[float] = deque()

    def add(self, now: float) -> bool:
        """Record a restart at ``now``; False if that exceeds the limit."""
        times = self._times
        times.append(now)
        threshold = now - self._period
        while times[0] < threshold:
            times.popleft()
        return len(times) <= self._intensity
