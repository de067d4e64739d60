"""The grid the household hangs on: phase voltages and frequency.

Both are mean-reverting random walks (Ornstein-Uhlenbeck processes), the
simplest model that wanders like the real thing instead of jittering around a
constant:

- frequency: centre 50 Hz, sigma 0.025 Hz, reverting over minutes, so it stays
  within 49.9-50.1 Hz nearly always, as in a large interconnected grid;
- voltage: a common level that drifts by a couple of volts over an hour (the
  local transformer's load), a small fixed offset per phase (unequal loads in
  the street), a faster per-phase wander and a little measurement noise.

The voltage drop caused by the household's own current is added later, by the
household, which knows the current. The knots carry four channels: the
no-load voltage of L1-L3 (V) and the frequency (Hz).
"""

from collections.abc import Iterator
from dataclasses import dataclass
import math
import random

from .track import Knot

STEP_S = 5.0


@dataclass(slots=True)
class _MeanReverting:
    """One Ornstein-Uhlenbeck process, stepped exactly (no discretisation drift)."""

    mean: float
    sigma: float
    tau_s: float
    value: float

    def step(self, rng: random.Random, dt: float) -> float:
        """Advance by `dt` seconds and return the new value."""
        keep = math.exp(-dt / self.tau_s)
        spread = self.sigma * math.sqrt(1.0 - keep * keep)
        self.value = (
            self.mean + (self.value - self.mean) * keep + spread * rng.gauss(0.0, 1.0)
        )
        return self.value


def grid_knots(seed: int, nominal_v: float = 230.0) -> Iterator[Knot]:
    """Endless knots every few seconds: no-load voltage L1-L3 and frequency."""
    rng = random.Random(f"grid-{seed}")
    level = rng.uniform(nominal_v - 1.0, nominal_v + 3.0)
    common = _MeanReverting(mean=level, sigma=2.0, tau_s=1800.0, value=level)
    offsets = [rng.gauss(0.0, 1.0) for _ in range(3)]
    phases = [
        _MeanReverting(mean=0.0, sigma=0.5, tau_s=60.0, value=0.0) for _ in range(3)
    ]
    frequency = _MeanReverting(
        mean=50.0, sigma=0.025, tau_s=300.0, value=rng.gauss(50.0, 0.02)
    )
    t = 0.0
    while True:
        base = common.step(rng, STEP_S)
        volts = [
            base + offset + phase.step(rng, STEP_S) + rng.gauss(0.0, 0.1)
            for offset, phase in zip(offsets, phases, strict=True)
        ]
        hz = min(max(frequency.step(rng, STEP_S), 49.8), 50.2)
        yield Knot(t, (volts[0], volts[1], volts[2], hz))
        t += STEP_S
