"""The electrical load of a small air-to-water heat pump, phase by phase.

What a meter in front of such a machine sees, and what this model produces:

- standby (≈6 W): the controller on L1 and the inverter's auxiliary supply on
  L2/L3, through small switch-mode supplies, so a poor power factor (≈0.5);
- circulation (≈46 W): standby plus the circulation pump on L1 (an EC motor
  without power-factor correction, PF ≈0.6), before and after every
  compressor run and now and then alone, to sample the water temperature;
- compressor (1-2.5 kW): an inverter-driven compressor spread over the three
  phases with a small fixed imbalance, soft-started over a few minutes,
  modulating slowly, plus the outdoor fan on L2; runs last tens of minutes,
  longer and harder when it is cold;
- defrost (≈0.9 kW for a few minutes): the cycle runs reversed with the fan
  stopped, at a lower, steadier power than heating.

How hard the machine works follows the hour of the day (coldest around 05:00,
mildest around 17:00), so a simulated day shows short mild-afternoon cycles
and long cold-morning ones.

The model emits knots for a `Track` with six channels: active power L1-L3 (W)
and reactive power L1-L3 (var). Interpolating P and Q linearly (rather than P
and the power factor) keeps the reactive energy an exact integral too.
"""

from collections.abc import Callable, Generator
from enum import StrEnum
import math
import random

from .track import Knot

type PhaseLoad = tuple[float, float, float, float, float, float]
"""Active power L1, L2, L3 (W), then reactive power L1, L2, L3 (var)."""

type Level = Callable[[float], PhaseLoad]
"""The load `seconds` after a segment started."""

type Knots = Generator[Knot, None, float]
"""Knots of one stretch of time; the generator returns the time it ends at."""

_ELECTRONICS_W = (4.0, 1.0, 1.0)
_ELECTRONICS_PF = 0.5
_PUMP_W = 40.0
_PUMP_PF = 0.6
_FAN_PF = 0.85
_DEFROST_PF = 0.9
_MIN_COMPRESSOR_W = 1250.0
_MAX_COMPRESSOR_W = 2400.0
_SOFT_START_SHARE = 0.8  # of the target power, at the first knot of a run
_TRANSITION_S = 1.0  # a relay or an inverter step takes about a second
_SAMPLING_CHANCE = 0.15  # of a standby period that includes a water-sampling run
_DEFROST_CHANCE = 0.4  # of a heating run on a cold hour that needs a defrost
_DEFROST_DEMAND = 0.55  # demand above which the evaporator can ice up


class LoadState(StrEnum):
    """What the heat pump is doing."""

    STANDBY = "standby"
    CIRCULATION = "circulation"
    COMPRESSOR = "compressor"
    DEFROST = "defrost"


def demand_at(hour_of_day: float) -> float:
    """Return the heating demand, 0.1 (mild afternoon) to 0.9 (cold early morning)."""
    return 0.5 + 0.4 * math.cos(2 * math.pi * (hour_of_day - 5.0) / 24.0)


def _reactive(active_w: float, power_factor: float) -> float:
    """Return the reactive power of an inductive load with this P and PF."""
    return active_w * math.sqrt(1.0 - power_factor**2) / power_factor


def _load(p: tuple[float, float, float], power_factor: float) -> PhaseLoad:
    """Describe a three-phase component that has one power factor."""
    q = tuple(_reactive(w, power_factor) for w in p)
    return (p[0], p[1], p[2], q[0], q[1], q[2])


def _add(*loads: PhaseLoad) -> PhaseLoad:
    """Add loads on the same phases, P with P and Q with Q."""
    s = [sum(channel) for channel in zip(*loads, strict=True)]
    return (s[0], s[1], s[2], s[3], s[4], s[5])


def _scale(load: PhaseLoad, factor: float) -> PhaseLoad:
    """Scale a load a little up or down (ripple, measurement noise)."""
    f = factor
    return (
        load[0] * f,
        load[1] * f,
        load[2] * f,
        load[3] * f,
        load[4] * f,
        load[5] * f,
    )


_STANDBY = _load(_ELECTRONICS_W, _ELECTRONICS_PF)
_CIRCULATION = _add(_STANDBY, _load((_PUMP_W, 0.0, 0.0), _PUMP_PF))

# Knot spacing (s) and relative noise per state: a compressor moves faster and
# further than an idle controller, and more knots show it.
_STEP_AND_NOISE: dict[LoadState, tuple[float, float]] = {
    LoadState.STANDBY: (60.0, 0.03),
    LoadState.CIRCULATION: (20.0, 0.015),
    LoadState.COMPRESSOR: (10.0, 0.01),
    LoadState.DEFROST: (10.0, 0.01),
}


def _standby(_: float) -> PhaseLoad:
    return _STANDBY


def _circulation(_: float) -> PhaseLoad:
    return _CIRCULATION


class HeatPumpLoad:
    """Generates the knots of one heat pump's load, cycle after cycle.

    All randomness comes from one seeded generator drawn in time order, so the
    same seed and start hour give the same load, knot for knot.
    """

    def __init__(self, seed: int, start_hour: float = 0.0) -> None:
        """Draw the machine's fixed character (its phase imbalance) from the seed."""
        self._rng = random.Random(f"heat-pump-load-{seed}")
        self._start_hour = start_hour
        raw = [1.0 + self._rng.gauss(0.0, 0.02) for _ in range(3)]
        self.phase_shares = tuple(share / sum(raw) for share in raw)

    def _hour(self, t: float) -> float:
        """Return the hour of the day at simulated time `t`."""
        return (self._start_hour + t / 3600.0) % 24.0

    def knots(self) -> Generator[Knot]:
        """Yield knots forever: standby, then heating runs framed by circulation."""
        t = 0.0
        while True:
            t = yield from self._standby(t)
            pre_run = self._rng.uniform(60, 180)
            t = yield from self._segment(
                t, pre_run, LoadState.CIRCULATION, _circulation
            )
            t = yield from self._heating_run(t)
            post_run = self._rng.uniform(120, 300)
            t = yield from self._segment(
                t, post_run, LoadState.CIRCULATION, _circulation
            )

    def _standby(self, t: float) -> Knots:
        """Idle between runs; sometimes the pump runs a while to sample the water."""
        demand = demand_at(self._hour(t))
        duration = (10.0 + 40.0 * (1.0 - demand)) * 60.0 * self._rng.uniform(0.7, 1.3)
        if self._rng.random() < _SAMPLING_CHANCE:
            first = duration * self._rng.uniform(0.3, 0.6)
            sample = self._rng.uniform(300, 600)
            t = yield from self._segment(t, first, LoadState.STANDBY, _standby)
            t = yield from self._segment(t, sample, LoadState.CIRCULATION, _circulation)
            duration -= first
        return (yield from self._segment(t, duration, LoadState.STANDBY, _standby))

    def _heating_run(self, t: float) -> Knots:
        """Run the compressor once, with a defrost in the middle when it is cold."""
        demand = demand_at(self._hour(t))
        duration = (15.0 + 30.0 * demand) * 60.0 * self._rng.uniform(0.8, 1.2)
        target = _MIN_COMPRESSOR_W + (_MAX_COMPRESSOR_W - _MIN_COMPRESSOR_W) * demand
        target *= self._rng.uniform(0.9, 1.1)
        target = min(max(target, _MIN_COMPRESSOR_W), _MAX_COMPRESSOR_W)
        if demand > _DEFROST_DEMAND and self._rng.random() < _DEFROST_CHANCE:
            before = duration * self._rng.uniform(0.4, 0.7)
            t = yield from self._compressor(t, before, target)
            defrost = self._defrost(self._rng.uniform(800.0, 1000.0))
            length = self._rng.uniform(180, 420)
            t = yield from self._segment(
                t, length, LoadState.DEFROST, lambda _: defrost
            )
            duration -= before
        return (yield from self._compressor(t, duration, target))

    def _compressor(self, t: float, duration: float, target_w: float) -> Knots:
        """Soft-start the compressor, then let it modulate slowly around the target."""
        ramp_s = self._rng.uniform(120, 240)
        period_s = self._rng.uniform(300, 900)
        phase = self._rng.uniform(0, 2 * math.pi)

        def level(elapsed: float) -> PhaseLoad:
            soft = min(elapsed / ramp_s, 1.0)
            ramp = _SOFT_START_SHARE + (1 - _SOFT_START_SHARE) * soft
            ripple = 1.0 + 0.04 * math.sin(2 * math.pi * elapsed / period_s + phase)
            return self._heating(target_w * ramp * ripple)

        return (yield from self._segment(t, duration, LoadState.COMPRESSOR, level))

    def _split(self, compressor_w: float) -> tuple[float, float, float]:
        """Spread the compressor's power over the phases, with its imbalance."""
        share = self.phase_shares
        return (
            compressor_w * share[0],
            compressor_w * share[1],
            compressor_w * share[2],
        )

    def _heating(self, compressor_w: float) -> PhaseLoad:
        """Add compressor (PF rising with load), fan on L2, pump and electronics."""
        compressor_pf = 0.93 + 0.04 * compressor_w / _MAX_COMPRESSOR_W
        compressor = _load(self._split(compressor_w), compressor_pf)
        fan_w = 25.0 + 25.0 * compressor_w / _MAX_COMPRESSOR_W
        fan = _load((0.0, fan_w, 0.0), _FAN_PF)
        return _add(_CIRCULATION, compressor, fan)

    def _defrost(self, compressor_w: float) -> PhaseLoad:
        """Reverse the cycle: compressor steady, fan stopped, pump running."""
        return _add(_CIRCULATION, _load(self._split(compressor_w), _DEFROST_PF))

    def _segment(
        self, t: float, duration: float, state: LoadState, level: Level
    ) -> Knots:
        """Yield knots through one state, held to its end; return the end time.

        The last knot sits one second before the end, so the change to the next
        state takes a second, as a relay or an inverter step does.
        """
        step_s, noise = _STEP_AND_NOISE[state]
        end = t + duration
        elapsed = 0.0
        while t + elapsed < end - _TRANSITION_S:
            jitter = 1.0 + self._rng.gauss(0.0, noise)
            yield Knot(t + elapsed, _scale(level(elapsed), jitter), state)
            elapsed += step_s
        jitter = 1.0 + self._rng.gauss(0.0, noise)
        yield Knot(end - _TRANSITION_S, _scale(level(duration), jitter), state)
        return end
