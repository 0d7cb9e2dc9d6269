"""A transfer's rate and time left, from the bytes done so far (the progress that the
API, the CLI and the UI show). Pure: the caller passes the clock."""

from __future__ import annotations

from collections import deque

__all__ = ["Meter"]


class Meter:
    """Transfer rate (bytes/s) over a sliding window and time left (s). Pure: the
    caller passes the clock (``now``, seconds, monotonic)."""

    def __init__(self, window: float = 3.0) -> None:
        self.window = window
        self._samples: deque[tuple[float, int]] = deque()

    def add(self, now: float, done: int) -> None:
        self._samples.append((now, done))
        while len(self._samples) > 2 and now - self._samples[0][0] > self.window:
            self._samples.popleft()

    @property
    def rate(self) -> float | None:
        """Bytes per second over the window; None before two samples."""
        if len(self._samples) < 2:
            return None
        (t0, b0), (t1, b1) = self._samples[0], self._samples[-1]
        return (b1 - b0) / (t1 - t0) if t1 > t0 else None

    def eta(self, done: int, total: int | None) -> float | None:
        """Seconds left at the current rate; None if unknown."""
        rate = self.rate
        if total is None or not rate or rate <= 0:
            return None
        return max(0.0, (total - done) / rate)
