"""Heat delivered by the heating water, and what it cost in electricity.

Thermal power is what the water carries away from the heat pump:
P = ṁ · c · ΔT, with the mass flow ṁ from the volume flow (water ≈ 1 kg/L in
the 20-60 °C range, within 2 %), c = 4.186 kJ/(kg·K) and ΔT = flow - return.

Every figure here is checked for physical sense before it is published,
because the inputs come from sensors over Modbus and a single garbage value
(a flow rate of 1e9 L/min) would otherwise publish a thermal power of
348 GW and add 484,410 kWh to the heat energy, forever. So:

- thermal power is unknown when an input is missing or it exceeds what the
  heat pump can deliver (`MAX_THERMAL_W`, from its 7 kW rating);
- the coefficient of performance divides it by the electrical power the
  meter in front of the heat pump measures, and means something only while
  the compressor runs AND draws real power: the service keeps reporting the
  compressor running for a while after the meter has dropped to standby
  (6 W), and 3.6 kW over 6 W is a COP of 600. It is unknown unless the
  electrical power is above `MIN_ELECTRICAL_W` and the ratio within
  `MAX_COP`;
- each "unknown" comes with a reason, for an attribute the user can read.
"""

from dataclasses import dataclass
from enum import StrEnum
import math

WATER_HEAT_CAPACITY_J_PER_KG_K = 4186.0
WATER_DENSITY_KG_PER_L = 1.0
RATED_THERMAL_W = 7000.0
"""The LG R290's nominal heating capacity."""
MAX_THERMAL_W = 1.5 * RATED_THERMAL_W
"""More than the unit can deliver in any condition (a mild day exceeds the rating)."""
MIN_ELECTRICAL_W = 100.0
"""Below this the meter sees standby (pumps, electronics), not a compressor."""
MAX_COP = 10.0
"""Air-to-water heat pumps stay well below this; a higher ratio is a bad input."""
_SECONDS_PER_MINUTE = 60.0
_JOULES_PER_KWH = 3_600_000.0


class Reason(StrEnum):
    """Why a derived figure is what it is (the value of a `reason` attribute)."""

    OK = "ok"
    MISSING_READING = "missing_reading"
    """Flow rate or a temperature is missing or was not a plausible number."""
    ABOVE_RATING = "above_rating"
    """More thermal power than the heat pump can deliver: a bad reading."""
    COMPRESSOR_OFF = "compressor_off"
    NO_ELECTRICAL_POWER = "no_electrical_power"
    """The linked meter has no current value."""
    STANDBY_POWER = "standby_power"
    """The meter sees standby power only, although the compressor is reported on."""
    NO_HEAT = "no_heat"
    """The water takes heat from the house (defrost): no meaningful ratio."""
    IMPLAUSIBLE = "implausible"
    """The ratio is beyond what a heat pump achieves."""


@dataclass(frozen=True, slots=True)
class Estimate:
    """A derived figure, or None, and why."""

    value: float | None
    reason: Reason


def thermal_power_w(flow_rate_l_per_min: float, delta_k: float) -> float:
    """Heat carried by the water (W); negative when it takes heat (cooling, defrost)."""
    mass_flow_kg_per_s = (
        flow_rate_l_per_min / _SECONDS_PER_MINUTE * WATER_DENSITY_KG_PER_L
    )
    return mass_flow_kg_per_s * WATER_HEAT_CAPACITY_J_PER_KG_K * delta_k


def thermal_power(
    flow_rate_l_per_min: float | None,
    delta_k: float | None,
    max_w: float = MAX_THERMAL_W,
) -> Estimate:
    """Thermal power, or None when an input is missing or the result impossible."""
    if flow_rate_l_per_min is None or delta_k is None:
        return Estimate(None, Reason.MISSING_READING)
    watts = thermal_power_w(flow_rate_l_per_min, delta_k)
    if not math.isfinite(watts) or abs(watts) > max_w:
        return Estimate(None, Reason.ABOVE_RATING)
    return Estimate(watts, Reason.OK)


def cop(
    thermal_w: float | None, electrical_w: float | None, compressor_running: bool
) -> Estimate:
    """Thermal over electrical power, when it means something (see the module)."""
    refusal = _cop_refusal(thermal_w, electrical_w, compressor_running)
    if refusal is not None:
        return Estimate(None, refusal)
    assert thermal_w is not None  # noqa: S101 (narrowed by _cop_refusal)
    assert electrical_w is not None  # noqa: S101
    ratio = thermal_w / electrical_w
    if ratio > MAX_COP:
        return Estimate(None, Reason.IMPLAUSIBLE)
    return Estimate(ratio, Reason.OK)


def _cop_refusal(
    thermal_w: float | None, electrical_w: float | None, compressor_running: bool
) -> Reason | None:
    """Why no COP can be computed from these inputs; None when one can."""
    if not compressor_running:
        return Reason.COMPRESSOR_OFF
    if electrical_w is None or not math.isfinite(electrical_w):
        return Reason.NO_ELECTRICAL_POWER
    if electrical_w < MIN_ELECTRICAL_W:
        return Reason.STANDBY_POWER
    if thermal_w is None:
        return Reason.MISSING_READING
    if thermal_w < 0:
        return Reason.NO_HEAT
    return None


def coefficient_of_performance(
    thermal_w: float | None, electrical_w: float | None, compressor_running: bool
) -> float | None:
    """The COP alone (see `cop` for the reason it may be None)."""
    return cop(thermal_w, electrical_w, compressor_running).value


@dataclass(slots=True)
class HeatIntegrator:
    """Heat energy (kWh) as the integral of thermal power over time.

    Each new sample closes the interval since the previous one with the
    trapezoid rule. Only heat delivered counts (negative power, a defrost
    taking heat back, adds nothing), so the total never goes down as the
    Energy dashboard requires. A missing or implausible sample (None, NaN,
    above `max_power_w`) is a gap: the intervals on both sides of it are
    skipped rather than guessed, as is an interval longer than `max_gap_s`
    (the service was unreachable, Home Assistant was stopped).
    """

    total_kwh: float = 0.0
    max_gap_s: float = 300.0
    max_power_w: float = MAX_THERMAL_W
    _last_time: float | None = None
    _last_power_w: float = 0.0

    def add(self, power_w: float | None, at: float) -> float:
        """Take a sample (W at monotonic seconds `at`); return the new total."""
        if power_w is None or not math.isfinite(power_w) or power_w > self.max_power_w:
            self.interrupt()
            return self.total_kwh
        power_w = max(power_w, 0.0)
        if self._last_time is not None:
            elapsed = at - self._last_time
            if 0 < elapsed <= self.max_gap_s:
                mean_w = (self._last_power_w + power_w) / 2
                self.total_kwh += mean_w * elapsed / _JOULES_PER_KWH
        self._last_time = at
        self._last_power_w = power_w
        return self.total_kwh

    def restore(self, total_kwh: object) -> bool:
        """Continue from a saved total; refuse one that is not a finite, positive number.

        Only ever raises the total: a restore never makes it go backwards.
        """
        if isinstance(total_kwh, bool) or not isinstance(total_kwh, int | float):
            return False
        if not math.isfinite(total_kwh) or total_kwh < 0:
            return False
        self.total_kwh = max(self.total_kwh, float(total_kwh))
        return True

    def interrupt(self) -> None:
        """Forget the last sample: the next interval starts afresh (data was lost)."""
        self._last_time = None
