"""Progress of long steps as ordinary log lines: ``what: 3/40 label (elapsed 12s, about 2m 40s left)``."""

from __future__ import annotations

import logging
import time


def format_seconds(s: float) -> str:
    """``42s``, ``3m 05s``, ``1h 02m``."""
    s = max(0.0, float(s))
    if s < 60:
        return f"{s:.0f}s"
    if s < 3600:
        return f"{int(s // 60)}m {int(s % 60):02d}s"
    return f"{int(s // 3600)}h {int(s % 3600 // 60):02d}m"


class Progress:
    """Counts finished units of a step of known size and logs each with the elapsed time and an estimate of
    the time left (mean time per unit so far x units left). Lines come at most every ``every`` seconds,
    plus the first and the last, so that thousands of fast units do not flood the log."""

    def __init__(self, what: str, total: int, logger: logging.Logger, every: float = 10.0):
        self.what, self.total, self.log, self.every = what, max(0, int(total)), logger, every
        self.done = 0
        self.start = time.monotonic()
        self._last = -float("inf")

    def line(self, label: str = "", now: float | None = None) -> str:
        """The progress text after the units counted so far."""
        elapsed = (time.monotonic() if now is None else now) - self.start
        text = f"{self.what}: {self.done}/{self.total}" + (f" {label}" if label else "")
        if self.done >= self.total:
            return f"{text} (done in {format_seconds(elapsed)})"
        left = elapsed / self.done * (self.total - self.done) if self.done else float("nan")
        eta = f", about {format_seconds(left)} left" if left == left else ""
        return f"{text} (elapsed {format_seconds(elapsed)}{eta})"

    def step(self, label: str = "", n: int = 1) -> None:
        """Count ``n`` finished units; log a line when due."""
        self.done += n
        now = time.monotonic()
        if self._last == -float("inf") or self.done >= self.total or now - self._last >= self.every:
            self._last = now
            self.log.info("%s", self.line(label, now))
