"""Clocks that tell a simulated device what time it is.

Every model in the simulator asks a clock for "simulated seconds since start"
instead of reading the wall clock itself. Tests inject a `ManualClock` and step
it, so a simulated day passes in milliseconds and every value is reproducible;
the demo and soak runs use a `WallClock`, optionally sped up.
"""

from collections.abc import Callable
import time
from typing import Protocol


class Clock(Protocol):
    """Anything that returns the simulated time, in seconds, when called."""

    def __call__(self) -> float:
        """Return simulated seconds since the start; never going backwards."""
        ...


class WallClock:
    """Simulated time that follows the monotonic wall clock, `speed` times faster.

    Monotonic, not `time.time()`: a NTP step or a DST change must not make a
    simulated energy counter jump or run backwards.
    """

    def __init__(
        self, speed: float = 1.0, now: Callable[[], float] = time.monotonic
    ) -> None:
        """Start counting from zero at construction."""
        if speed <= 0:
            msg = f"speed must be positive, got {speed}"
            raise ValueError(msg)
        self.speed = speed
        self._now = now
        self._started = now()

    def __call__(self) -> float:
        """Return simulated seconds elapsed since construction."""
        return (self._now() - self._started) * self.speed


class ManualClock:
    """Simulated time that moves only when told to (tests, benchmarks)."""

    def __init__(self, start: float = 0.0) -> None:
        """Start at `start` simulated seconds."""
        self._t = start

    def __call__(self) -> float:
        """Return the current simulated time."""
        return self._t

    def advance(self, seconds: float) -> None:
        """Move time forward; a simulated meter cannot go back in time."""
        if seconds < 0:
            msg = f"time only moves forward, got {seconds} s"
            raise ValueError(msg)
        self._t += seconds
