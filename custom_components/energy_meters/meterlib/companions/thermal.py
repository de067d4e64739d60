"""Heat delivered by the heating water, and what it cost in electricity.

Thermal power is what the water carries away from the heat pump:
P = ṁ · c · ΔT, with the mass flow ṁ from the volume flow (water ≈ 1 kg/L in
the 20-60 °C range, within 2 %), c = 4.186 kJ/(kg·K) and ΔT = flow - return.
The coefficient of performance divides that by the electrical power the
meter in front of the heat pump measures; it means something only while the
compressor runs (with the compressor off the meter sees pumps and
electronics, and the ratio is noise), so it is None otherwise.
"""

from dataclasses import dataclass

WATER_HEAT_CAPACITY_J_PER_KG_K = 4186.0
WATER_DENSITY_KG_PER_L = 1.0
_SECONDS_PER_MINUTE = 60.0
_JOULES_PER_KWH = 3_600_000.0


def thermal_power_w(flow_rate_l_per_min: float, delta_k: float) -> float:
    """Heat carried by the water (W); negative when it takes heat (cooling, defrost)."""
    mass_flow_kg_per_s = (
        flow_rate_l_per_min / _SECONDS_PER_MINUTE * WATER_DENSITY_KG_PER_L
    )
    return mass_flow_kg_per_s * WATER_HEAT_CAPACITY_J_PER_KG_K * delta_k


def coefficient_of_performance(
    thermal_w: float, electrical_w: float | None, compressor_running: bool
) -> float | None:
    """Thermal over electrical power; None unless the compressor runs and both make sense."""
    if not compressor_running or electrical_w is None or electrical_w <= 0:
        return None
    if thermal_w < 0:
        return None
    return thermal_w / electrical_w


@dataclass(slots=True)
class HeatIntegrator:
    """Heat energy (kWh) as the integral of thermal power over time.

    Each new sample closes the interval since the previous one with the
    trapezoid rule. Only heat delivered counts (negative power, a defrost
    taking heat back, adds nothing), so the total never goes down as the
    Energy dashboard requires. An interval longer than `max_gap_s` (the
    service was unreachable, Home Assistant was stopped) is skipped rather
    than guessed.
    """

    total_kwh: float = 0.0
    max_gap_s: float = 300.0
    _last_time: float | None = None
    _last_power_w: float = 0.0

    def add(self, power_w: float, at: float) -> float:
        """Take a sample (W at monotonic seconds `at`); return the new total."""
        power_w = max(power_w, 0.0)
        if self._last_time is not None:
            elapsed = at - self._last_time
            if 0 < elapsed <= self.max_gap_s:
                mean_w = (self._last_power_w + power_w) / 2
                self.total_kwh += mean_w * elapsed / _JOULES_PER_KWH
        self._last_time = at
        self._last_power_w = power_w
        return self.total_kwh

    def interrupt(self) -> None:
        """Forget the last sample: the next interval starts afresh (data was lost)."""
        self._last_time = None
