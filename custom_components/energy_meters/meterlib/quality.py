"""Numbers you can trust: spike filtering and counters that never go backwards.

Both filters are pure and deterministic: they see a reading and a timestamp
and answer what to publish. No clock, no I/O, so every rule here is tested on
its own, and the simulator and the soak run use the very same code.

Why hold back rather than smooth: a smoothed spike is still a wrong number in
the history. A held-back reading publishes nothing new until a second reading
agrees with it, so a real change appears one poll late and a single glitch
never appears at all.
"""

from dataclasses import dataclass, field
import math
from typing import Any, Self


@dataclass(frozen=True, slots=True)
class SpikeRule:
    """What counts as impossible and what counts as a jump, for one quantity.

    A reading outside [minimum, maximum] is impossible and dropped outright.
    A reading that differs from the published value by more than
    max(absolute_step, relative_step * |published|) is a jump, held back until
    `confirmations` consecutive readings agree with each other. So is a
    reading inside the zero band (|value| <= zero_band) after one outside it,
    and the other way round, and a change of sign, however small the step:
    an isolated zero, or words swapped into a denormal or a small negative
    number, is the classic glitch, and 46 W shown as 0 W for one poll is as
    wrong as a 40 kW spike.
    """

    minimum: float
    maximum: float
    absolute_step: float
    relative_step: float = 0.5
    confirmations: int = 2
    zero_band: float = 0.0

    def plausible(self, value: float) -> bool:
        """Whether a value can physically be true."""
        return math.isfinite(value) and self.minimum <= value <= self.maximum

    def close(self, first: float, second: float) -> bool:
        """Whether two readings agree, within the jump tolerance."""
        first_zero = abs(first) <= self.zero_band
        if first_zero != (abs(second) <= self.zero_band):
            return False
        if not first_zero and (first < 0) != (second < 0):
            return False
        tolerance = max(self.absolute_step, self.relative_step * abs(first))
        return abs(second - first) <= tolerance


class Verdict:
    """Why a reading was or was not published (counted for diagnostics)."""

    PUBLISHED = "published"
    IMPOSSIBLE = "impossible"
    HELD = "held"


@dataclass(slots=True)
class SpikeFilter:
    """Publishes instantaneous values (power, voltage, …) without glitches."""

    rule: SpikeRule
    published: float | None = None
    pending: list[float] = field(default_factory=list)
    held_back: int = 0
    dropped: int = 0
    # The published value is from before an outage: it still tells a glitch
    # (far from it) from a steady value, but must not be shown again.
    stale: bool = False

    def update(self, value: float | None) -> tuple[float | None, str]:
        """Feed one reading; return what to publish and why.

        None (a register the meter does not have, or not this time) is no
        reading at all: it is not counted as held back.
        """
        if value is None:
            return self._shown(), Verdict.IMPOSSIBLE
        if not self.rule.plausible(value):
            self.dropped += 1
            return self._shown(), Verdict.IMPOSSIBLE
        if self.published is None or self.rule.close(self.published, value):
            self.pending.clear()
            self.published = value
            self.stale = False
            return value, Verdict.PUBLISHED
        if self.pending and not self.rule.close(self.pending[-1], value):
            self.pending.clear()
        self.pending.append(value)
        if len(self.pending) >= self.rule.confirmations:
            self.pending.clear()
            self.published = value
            self.stale = False
            return value, Verdict.PUBLISHED
        self.held_back += 1
        return self._shown(), Verdict.HELD

    def go_stale(self) -> None:
        """The meter was unavailable: what was published is as old as the outage.

        It stays the reference, so a glitch on the first reading back is held
        like any other (unknown until a second reading agrees), while a value
        close to it is shown at once.
        """
        self.pending.clear()
        self.stale = self.published is not None

    def _shown(self) -> float | None:
        """What to show while a reading is held: nothing older than an outage."""
        return None if self.stale else self.published


@dataclass(frozen=True, slots=True)
class CounterRule:
    """Limits for an energy counter (kWh).

    The counter may rise by at most max_power_w * elapsed time * margin, plus
    a small allowance for the counter's own resolution. Where the meter also
    measures the power the counter integrates, a rise is expected to match
    it: a rise the power cannot explain waits for the next reading.

    A drop smaller than `reset_min_kwh` is never a new meter: it is the
    counter coming back from a glitch that was published, or noise.
    """

    max_power_w: float
    margin: float = 1.5
    resolution_kwh: float = 0.01
    confirmations: int = 3
    reset_min_kwh: float = 1.0
    # A meter polled over a shared bus answers its first poll with whatever
    # the gateway has (zeros after a reboot): its first reading waits for a
    # second. A meter that pushes its own values (MQTT, HTTP) is taken at once.
    confirm_first: bool = True

    def max_increase(self, elapsed_s: float) -> float:
        """The largest rise (kWh) physically possible in `elapsed_s` seconds."""
        return self._bound(self.max_power_w, elapsed_s)

    def explained_by_power(self, rise: float, elapsed_s: float, power_w: float) -> bool:
        """Whether a rise fits the power measured around it (`power_w`, the larger).

        The power is seen only at the polls, so the margin is generous; a rise
        that does not fit is only held for a reading, not refused.
        """
        return rise <= self._bound(abs(power_w) * 2, elapsed_s) + self.resolution_kwh

    def _bound(self, power_w: float, elapsed_s: float) -> float:
        hours = max(elapsed_s, 0.0) / 3600
        return power_w / 1000 * hours * self.margin + self.resolution_kwh


@dataclass(slots=True)
class CounterEvent:
    """A persistent new counter level was accepted (meter replaced or reset)."""

    previous_raw: float
    new_raw: float
    published: float


@dataclass(slots=True)
class MonotonicCounter:
    """Publishes an energy counter that never decreases.

    published = raw + offset. A drop, or a rise faster than the meter's
    rated power allows, is held back. When the new level persists over
    `confirmations` readings that agree with each other, it is a replaced or
    reset meter: the offset is adjusted so publishing continues from the last
    published value, and an event is returned for the user to confirm.
    """

    rule: CounterRule
    published: float | None = None
    last_raw: float | None = None
    last_time: float | None = None
    offset: float = 0.0
    pending: list[tuple[float, float]] = field(default_factory=list)
    rise_candidate: tuple[float, float] | None = None
    held_back: int = 0
    dropped: int = 0

    def update(  # noqa: PLR0911 (one answer per case of the rules above)
        self, raw: float | None, now: float, power_w: float | None = None
    ) -> tuple[float | None, CounterEvent | None]:
        """Feed one reading taken at `now` (seconds); return what to publish.

        `power_w` is the power this counter integrates, as measured at this
        poll and the one before (the larger of the two), when the meter has it.
        """
        if raw is None:
            return self.published, None  # not read: nothing to hold back
        if not math.isfinite(raw) or raw < 0:
            self.dropped += 1
            return self.published, None
        if self.last_raw is None or self.last_time is None or self.published is None:
            if not self.rule.confirm_first:
                return self._accept(raw, now), None
            return self._first(raw, now), None
        rise = raw - self.last_raw
        elapsed = now - self.last_time
        if 0 <= rise <= self.rule.max_increase(elapsed):
            if power_w is None or self.rule.explained_by_power(rise, elapsed, power_w):
                self.pending.clear()
                self.rise_candidate = None
                return self._accept(raw, now), None
            return self._confirm_rise(raw, now), None
        return self._hold(raw, now)

    def seed(self, raw: float, when: float) -> None:
        """A reading taken before the first poll (the setup dialog's test read).

        It is not published: it is a candidate the first poll's reading can
        agree with, so a meter read correctly in the dialog shows its counter
        from the first poll on, and a glitch in either is never a baseline.
        """
        if self.last_raw is None and math.isfinite(raw) and raw >= 0:
            self.pending.append((raw, when))

    def _first(self, raw: float, now: float) -> float | None:
        """The first reading without a history: published once a second agrees.

        A gateway that answers zeros after a reboot, or a garbled first block,
        must not become the baseline: the true counter that follows would look
        like a replaced meter, and the glitch would stay as an offset.
        """
        for earlier, when in self.pending:
            if 0 <= raw - earlier <= self.rule.max_increase(now - when):
                self.pending.clear()
                return self._accept(raw, now)
        self.pending = [*self.pending, (raw, now)][-self.rule.confirmations :]
        self.held_back += 1
        return self.published

    def _confirm_rise(self, raw: float, now: float) -> float | None:
        """A rise the measured power cannot explain: publish it once confirmed.

        Confirmed by the next reading being at least as high and consistent
        with it; a next reading back at the old level shows the rise was a
        glitch, which was then never published.
        """
        candidate = self.rise_candidate
        if candidate is not None:
            earlier, when = candidate
            if 0 <= raw - earlier <= self.rule.max_increase(now - when):
                self.rise_candidate = None
                self.pending.clear()
                return self._accept(raw, now)
        self.rise_candidate = (raw, now)
        self.held_back += 1
        return self.published

    def _accept(self, raw: float, now: float) -> float:
        """Take a reading consistent with the last one."""
        value = raw + self.offset
        if self.published is not None:
            value = max(value, self.published)
        self.published = value
        self.last_raw = raw
        self.last_time = now
        return value

    def _hold(self, raw: float, now: float) -> tuple[float | None, CounterEvent | None]:
        """Keep an inconsistent reading aside until it proves to be a new level."""
        if self.pending:
            last_raw, last_time = self.pending[-1]
            if not 0 <= raw - last_raw <= self.rule.max_increase(now - last_time):
                self.pending.clear()
        self.pending.append((raw, now))
        if len(self.pending) < self.rule.confirmations:
            self.held_back += 1
            return self.published, None
        if self.published is None or self.last_raw is None:  # pragma: no cover
            return self.published, None  # _hold is only reached with a history
        previous = self.last_raw
        first_raw = self.pending[0][0]
        if 0 < previous - first_raw < self.rule.reset_min_kwh:
            # Back a little below the last reading, for good: the counter is
            # returning from a glitch that was published. Follow it from
            # here; what was published stays until it is passed again.
            self.pending.clear()
            self.last_raw = first_raw
            return self._accept(raw, now), None
        # Continue from the last published value: the new level's first
        # reading counts as no consumption, the rest as real consumption.
        self.offset = self.published - first_raw
        self.pending.clear()
        self.last_raw = first_raw
        published = self._accept(raw, now)
        return published, CounterEvent(
            previous_raw=previous, new_raw=first_raw, published=published
        )

    def as_dict(self) -> dict[str, Any]:
        """The state to persist across restarts."""
        return {
            "published": self.published,
            "last_raw": self.last_raw,
            "last_time": self.last_time,
            "offset": self.offset,
        }

    @classmethod
    def from_dict(cls, rule: CounterRule, data: dict[str, Any]) -> Self:
        """A counter that continues from persisted state."""
        return cls(
            rule=rule,
            published=data.get("published"),
            last_raw=data.get("last_raw"),
            last_time=data.get("last_time"),
            offset=float(data.get("offset") or 0.0),
        )
