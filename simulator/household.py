"""A household's heat pump as a three-phase meter sees it.

`Household` joins the heat-pump load (`heatpump`) and the grid (`grid`) into
every quantity a meter publishes, in canonical units, all consistent with one
another the way a real meter's are:

- per phase, S = √(P² + Q²), PF = P / S and I = S / V;
- totals: P and Q add up; S is the arithmetic sum of the phase apparent
  powers (as the WAGO and most meters compute it), and PF = P / S;
- voltage sags a little under load (a 0.25 Ω line), so voltage and current
  move together as on a real service connection;
- line-to-line voltages from the phase voltages, assuming 120° between phases;
- energy counters are the exact integrals of the active and reactive power
  (see `track`), from realistic non-zero starting values; this load never
  feeds back, so the export counters keep their starting value.

Time comes from an injectable clock (`clock`), so tests step a `ManualClock`
through a simulated day in milliseconds while the demo follows the wall clock.
Given the same seed, start hour and times, every value is the same.
"""

import math

from custom_components.energy_meters.meterlib.model import Quantity

from .clock import Clock, ManualClock, WallClock
from .grid import grid_knots
from .heatpump import HeatPumpLoad, LoadState
from .track import Track

_JOULES_PER_KWH = 3_600_000.0
_IMPORT_SHARES = (0.36, 0.33, 0.31)  # how the starting import splits over L1-L3
_REACTIVE_SHARE = 0.25  # starting reactive energy as a share of the active energy

type PerPhase = tuple[float, float, float]


def _line_voltage(a: float, b: float) -> float:
    """|Va - Vb| for two phasors 120° apart: √(a² + b² + ab)."""
    return math.sqrt(a * a + b * b + a * b)


def _mean(values: PerPhase) -> float:
    return sum(values) / 3.0


class Household:
    """The meter's view of a household heat pump, driven by a clock."""

    def __init__(
        self,
        seed: int = 0,
        start_energy_kwh: float = 1234.5,
        *,
        clock: Clock | None = None,
        start_hour: float = 0.0,
        start_export_kwh: float = 0.0,
        start_reactive_kvarh: float | None = None,
        line_resistance_ohm: float = 0.25,
    ) -> None:
        """Set the counters' starting values; time 0 is `start_hour` o'clock.

        Without a clock the household follows the wall clock at normal speed.
        """
        self.seed = seed
        self._clock: Clock = clock if clock is not None else WallClock()
        self._offset = 0.0
        self._load_model = HeatPumpLoad(seed, start_hour)
        self._load = Track(self._load_model.knots())
        self._grid = Track(grid_knots(seed))
        self._line_resistance = line_resistance_ohm
        self._import_start: PerPhase = (
            start_energy_kwh * _IMPORT_SHARES[0],
            start_energy_kwh * _IMPORT_SHARES[1],
            start_energy_kwh * _IMPORT_SHARES[2],
        )
        self._export_start: PerPhase = (start_export_kwh / 3.0,) * 3
        self._reactive_start = (
            start_energy_kwh * _REACTIVE_SHARE
            if start_reactive_kvarh is None
            else start_reactive_kvarh
        )

    @property
    def now(self) -> float:
        """Return simulated seconds since the start: the clock plus manual steps."""
        return self._clock() + self._offset

    def advance(self, seconds: float) -> None:
        """Step simulated time forward, on top of whatever the clock does."""
        if seconds < 0:
            msg = f"time only moves forward, got {seconds} s"
            raise ValueError(msg)
        self._offset += seconds

    def at(self, t: float) -> Household:
        """Jump to simulated time `t` (not before `now`); returns self for chaining."""
        now = self.now
        if t < now:
            msg = f"the household is at {now} s and cannot go back to {t} s"
            raise ValueError(msg)
        self._offset += t - now
        return self

    @property
    def state(self) -> LoadState:
        """Return what the heat pump is doing right now."""
        return LoadState(self._load.label_at(self.now))

    @property
    def phase_shares(self) -> tuple[float, ...]:
        """Return how this machine's compressor splits its power over L1-L3."""
        return self._load_model.phase_shares

    def values(self) -> dict[Quantity, float]:
        """Return every quantity now, in canonical units (W, var, VA, kWh, …)."""
        t = self.now
        p1, p2, p3, q1, q2, q3 = self._load.value_at(t)
        e1, e2, e3, r1, r2, r3 = self._load.integral_to(t)
        v1, v2, v3, hz = self._grid.value_at(t)
        p: PerPhase = (p1, p2, p3)
        q: PerPhase = (q1, q2, q3)
        s: PerPhase = (math.hypot(p1, q1), math.hypot(p2, q2), math.hypot(p3, q3))
        v = self._sagged((v1, v2, v3), s)
        i: PerPhase = (s[0] / v[0], s[1] / v[1], s[2] / v[2])
        pf = tuple(pw / va if va > 0 else 1.0 for pw, va in zip(p, s, strict=True))
        imports = tuple(
            start + joules / _JOULES_PER_KWH
            for start, joules in zip(self._import_start, (e1, e2, e3), strict=True)
        )
        exports = self._export_start
        reactive_import = self._reactive_start + (r1 + r2 + r3) / _JOULES_PER_KWH
        return {
            Quantity.POWER_TOTAL: sum(p),
            Quantity.POWER_L1: p1,
            Quantity.POWER_L2: p2,
            Quantity.POWER_L3: p3,
            Quantity.REACTIVE_POWER_TOTAL: sum(q),
            Quantity.REACTIVE_POWER_L1: q1,
            Quantity.REACTIVE_POWER_L2: q2,
            Quantity.REACTIVE_POWER_L3: q3,
            Quantity.APPARENT_POWER_TOTAL: sum(s),
            Quantity.APPARENT_POWER_L1: s[0],
            Quantity.APPARENT_POWER_L2: s[1],
            Quantity.APPARENT_POWER_L3: s[2],
            Quantity.POWER_FACTOR: sum(p) / sum(s) if sum(s) > 0 else 1.0,
            Quantity.POWER_FACTOR_L1: pf[0],
            Quantity.POWER_FACTOR_L2: pf[1],
            Quantity.POWER_FACTOR_L3: pf[2],
            Quantity.VOLTAGE_AVG: _mean(v),
            Quantity.VOLTAGE_L1: v[0],
            Quantity.VOLTAGE_L2: v[1],
            Quantity.VOLTAGE_L3: v[2],
            Quantity.VOLTAGE_L1_L2: _line_voltage(v[0], v[1]),
            Quantity.VOLTAGE_L1_L3: _line_voltage(v[0], v[2]),
            Quantity.VOLTAGE_L2_L3: _line_voltage(v[1], v[2]),
            Quantity.CURRENT_AVG: _mean(i),
            Quantity.CURRENT_L1: i[0],
            Quantity.CURRENT_L2: i[1],
            Quantity.CURRENT_L3: i[2],
            Quantity.FREQUENCY: hz,
            Quantity.ENERGY_IMPORT_TOTAL: sum(imports),
            Quantity.ENERGY_IMPORT_L1: imports[0],
            Quantity.ENERGY_IMPORT_L2: imports[1],
            Quantity.ENERGY_IMPORT_L3: imports[2],
            Quantity.ENERGY_EXPORT_TOTAL: sum(exports),
            Quantity.ENERGY_EXPORT_L1: exports[0],
            Quantity.ENERGY_EXPORT_L2: exports[1],
            Quantity.ENERGY_EXPORT_L3: exports[2],
            Quantity.ENERGY_TOTAL: sum(imports) + sum(exports),
            Quantity.REACTIVE_ENERGY_IMPORT: reactive_import,
            Quantity.REACTIVE_ENERGY_EXPORT: 0.0,
            Quantity.REACTIVE_ENERGY_TOTAL: reactive_import,
        }

    def _sagged(self, no_load: PerPhase, apparent: PerPhase) -> PerPhase:
        """Return the phase voltages after the drop the household's current causes."""
        r = self._line_resistance
        return (
            no_load[0] - r * apparent[0] / no_load[0],
            no_load[1] - r * apparent[1] / no_load[1],
            no_load[2] - r * apparent[2] / no_load[2],
        )


# A compressor at work: power well above the standby, energy counting on.
RUNNING_W = 1000.0
DAY_S = 86_400.0


def running_household(seed: int, lasting_s: float, step_s: float = 10.0) -> Household:
    """A household whose heat pump's compressor runs now and `lasting_s` more seconds.

    For tests and benchmarks of read rates, where every read must change the
    values (the standby's 6 W and its counter stand still). Found on a
    manual clock (the model is deterministic per seed), then set on the wall
    clock the simulator follows.
    """
    probe = Household(seed=seed, clock=ManualClock())
    t, start = 0.0, None
    while t < DAY_S:
        probe.at(t)
        if probe.values()[Quantity.POWER_TOTAL] > RUNNING_W:
            start = t if start is None else start
            if t - start >= lasting_s:
                return Household(seed=seed).at(start)
        else:
            start = None
        t += step_s
    msg = f"household {seed} never runs its compressor for {lasting_s:.0f} s"
    raise RuntimeError(msg)
