"""An old energy counter's samples turned into hourly consumption (pure, no Home Assistant).

The old stacks stored what their exporter published, flaws included: the
exporter's counter started again from 0 after a restart, and a single bad
reading (a 0, or a huge garbage value) either showed up for a scrape or froze
the counter. Prometheus' `increase()` books every drop as a reset, so a zero
glitch (1000 → 0 → 1000) becomes 1000 kWh of consumption. Here a change that
the meter's rated power cannot explain is only a *suspect*: if the counter
comes back to where it was, the suspects were glitches and nothing is booked
for them; if it stays at the new level for `confirm_s`, a drop is a reset
(the value after it is consumption since the reset, as `increase()` counts
it) and a jump is a new level (nothing booked for the jump itself).

The accepted consumption is a cumulative curve over the sample times; the
consumption of an hour is that curve's rise between the hour's boundaries,
interpolated linearly, so consumption between two samples is split over the
hours it falls in and a gap is spread over the hours it covers (the preview
lists gaps, so the user sees where that happened).
"""

from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
import math
from typing import Final

from ..meterlib.quality import CounterRule

HOUR: Final = 3600
# A drop or jump has to last this long to be taken as a reset or new level:
# longer than any glitch of the old exporter (one scrape), short enough that
# a real reset is found in the same hour.
CONFIRM_S: Final = 900.0
# Samples further apart than this leave a gap, which the preview reports.
GAP_S: Final = 900.0


@dataclass(slots=True)
class CounterFindings:
    """What the samples held besides consumption: resets, glitches, gaps (epoch s)."""

    resets: list[float] = field(default_factory=list)
    glitches: list[float] = field(default_factory=list)
    gaps: list[tuple[float, float]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Curve:
    """Accepted consumption (kWh) since the first sample, at each sample time."""

    times: Sequence[float]
    energy: Sequence[float]


def clean(samples: Iterable[tuple[float, float]]) -> list[tuple[float, float]]:
    """Finite values in time order, one per timestamp (the last one wins)."""
    by_time = {t: v for t, v in samples if math.isfinite(v) and math.isfinite(t)}
    return sorted(by_time.items())


def accepted_curve(
    samples: Sequence[tuple[float, float]],
    rule: CounterRule,
    *,
    confirm_s: float = CONFIRM_S,
    gap_s: float = GAP_S,
) -> tuple[Curve, CounterFindings]:
    """The consumption the samples account for, and what was not consumption.

    `samples` are (epoch seconds, counter kWh) in time order (see `clean`).
    """
    findings = CounterFindings()
    times: list[float] = []
    energy: list[float] = []
    if not samples:
        return Curve(times, energy), findings
    for (t0, _), (t1, _) in pairwise(samples):
        if t1 - t0 > gap_s:
            findings.gaps.append((t0, t1))
    pending = deque(samples)
    ref_t, ref_v = pending.popleft()
    total = 0.0
    times.append(ref_t)
    energy.append(total)
    suspects: list[tuple[float, float]] = []
    while pending:
        t, v = pending.popleft()
        rise = v - ref_v
        plausible = -_noise(rule, ref_v) <= rise <= rule.max_increase(t - ref_t)
        if suspects and not plausible:
            if t - suspects[0][0] < confirm_s:
                suspects.append((t, v))
                continue
            # The new level held: a reset (drop) or a new level (jump).
            first_t, first_v = suspects[0]
            if first_v < ref_v:
                findings.resets.append(first_t)
                if 0 <= first_v <= rule.max_increase(first_t - ref_t):
                    total += first_v
            else:
                findings.glitches.append(first_t)
            ref_t, ref_v = first_t, first_v
            times.append(ref_t)
            energy.append(total)
            pending.extendleft(reversed([*suspects[1:], (t, v)]))
            suspects.clear()
            continue
        if suspects:  # back where it was: the suspects were glitches
            findings.glitches.append(suspects[0][0])
            suspects.clear()
        if not plausible:
            suspects.append((t, v))
            continue
        if rise > 0:
            total += rise
            ref_v = v
        ref_t = t
        times.append(t)
        energy.append(total)
    return Curve(times, energy), findings


def _noise(rule: CounterRule, value: float) -> float:
    """A drop this small is the counter's resolution, not a reset."""
    return rule.resolution_kwh + abs(value) * 1e-7


def hourly_consumption(curve: Curve) -> dict[int, float]:
    """KWh per hour (by the hour's start, epoch s) for every hour the curve spans.

    Only whole hours: the partial hours at either end have no boundary value.
    """
    times, energy = curve.times, curve.energy
    if len(times) < 2:  # noqa: PLR2004 (two points make a curve)
        return {}
    first = math.ceil(times[0] / HOUR) * HOUR
    last = math.floor(times[-1] / HOUR) * HOUR
    result: dict[int, float] = {}
    index = 0
    previous: float | None = None
    for boundary in range(int(first), int(last) + 1, HOUR):
        while times[index + 1] < boundary:
            index += 1
        t0, t1 = times[index], times[index + 1]
        e0, e1 = energy[index], energy[index + 1]
        value = e0 if t1 == t0 else e0 + (e1 - e0) * (boundary - t0) / (t1 - t0)
        if previous is not None:
            result[boundary - HOUR] = value - previous
        previous = value
    return result


def hours_without_samples(gaps: Iterable[tuple[float, float]]) -> list[int]:
    """The hours (by their start) that lie wholly inside a gap."""
    hours: list[int] = []
    for start, end in gaps:
        hour = math.ceil(start / HOUR) * HOUR
        while hour + HOUR <= end:
            hours.append(int(hour))
            hour += HOUR
    return hours
