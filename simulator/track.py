"""Piecewise-linear signals with exact running integrals.

A simulated meter must count energy as the exact integral of the power it
shows, whatever the moments it is read at. So every moving quantity is a
*track*: a stream of knots (time, one value per channel) joined by straight
lines. The integral of a straight line is exact (the trapezoid), so the energy
at any time is a sum over knots plus one partial trapezoid, and it does not
depend on when or how often anybody looked.

Knots come from a generator that draws from a seeded random source in time
order; a track only pulls the knots it needs and forgets the ones behind it,
so a month-long soak run keeps constant memory. The price is that a track only
moves forward.
"""

from collections.abc import Iterator
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Knot:
    """The value of every channel at one instant, and what the device was doing."""

    t: float
    values: tuple[float, ...]
    label: str = ""


class Track:
    """A forward-only piecewise-linear signal over several channels."""

    def __init__(self, knots: Iterator[Knot]) -> None:
        """Take the first two knots; the signal starts at the first one."""
        self._knots = knots
        self._left = next(knots)
        self._right = self._next_knot()
        self._integral_at_left = tuple(0.0 for _ in self._left.values)

    @property
    def start(self) -> float:
        """Return the earliest time the track can still be asked about."""
        return self._left.t

    def _next_knot(self) -> Knot:
        """Take the next knot, checking that time increases and channels match."""
        knot = next(self._knots)
        if knot.t <= self._left.t or len(knot.values) != len(self._left.values):
            msg = f"knot at {knot.t} does not follow the one at {self._left.t}"
            raise ValueError(msg)
        return knot

    def _seek(self, t: float) -> None:
        """Make `t` fall between the two current knots, integrating what is passed."""
        if t < self._left.t:
            msg = f"track is at {self._left.t} s, cannot go back to {t} s"
            raise ValueError(msg)
        while self._right.t <= t:
            width = self._right.t - self._left.t
            self._integral_at_left = tuple(
                total + width * (a + b) / 2
                for total, a, b in zip(
                    self._integral_at_left,
                    self._left.values,
                    self._right.values,
                    strict=True,
                )
            )
            self._left = self._right
            self._right = self._next_knot()

    def value_at(self, t: float) -> tuple[float, ...]:
        """Return every channel at time `t`, on the line between its knots."""
        self._seek(t)
        share = (t - self._left.t) / (self._right.t - self._left.t)
        return tuple(
            a + (b - a) * share
            for a, b in zip(self._left.values, self._right.values, strict=True)
        )

    def integral_to(self, t: float) -> tuple[float, ...]:
        """Return every channel integrated from the first knot to `t` (value·s)."""
        now = self.value_at(t)
        width = t - self._left.t
        return tuple(
            total + width * (a + b) / 2
            for total, a, b in zip(
                self._integral_at_left, self._left.values, now, strict=True
            )
        )

    def label_at(self, t: float) -> str:
        """Return the label of the knot at or before `t` (what the device did)."""
        self._seek(t)
        return self._left.label
