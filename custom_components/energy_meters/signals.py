"""Load and grid-quality signals: thresholds per meter, and what they say.

The old Grafana panels coloured power, frequency and power factor by fixed
bands; automations had to repeat those bands in templates. Here each meter
turns its readings into states an automation can use directly: a load level
(idle, low, medium, high) and two problems (frequency out of range, low power
factor).

The thresholds belong to the meter (its subentry, in a collapsed section of
the meter form), because they do: a heat pump at 1.5 kW is working normally,
a bedroom circuit at 1.5 kW is not. The defaults are the Grafana bands:

- power: green below 1 kW, yellow up to 2 kW, red above, so "low" ends at
  1 kW and "high" starts at 2 kW. Below 50 W a circuit is "idle": that is
  what controllers, routers and a heat pump in standby draw, so nothing an
  automation cares about is running.
- frequency: green from 49.8 to 50.2 Hz; outside that band the grid is under
  stress (the edges themselves count as in range).
- power factor: green from 0.85; below it the load draws notably more
  current than its power needs.

Load is judged on the size of the power, whichever its sign: an exporting
grid connection at 3 kW carries as much current as an importing one. A low
power factor is only reported while the meter is not idle, because the power
factor of a few watts of standby electronics is always poor and means
nothing.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final

from homeassistant.data_entry_flow import section
import probatio as vol

from .form_fields import Bounds
from .meterlib.model import Quantity

SECTION_SIGNALS: Final = "signals"

CONF_LOAD_IDLE_W: Final = "load_idle_w"
CONF_LOAD_MEDIUM_KW: Final = "load_medium_kw"
CONF_LOAD_HIGH_KW: Final = "load_high_kw"
CONF_FREQUENCY_MIN: Final = "frequency_min"
CONF_FREQUENCY_MAX: Final = "frequency_max"
CONF_POWER_FACTOR_MIN: Final = "power_factor_min"

DEFAULT_LOAD_IDLE_W: Final = 50.0
DEFAULT_LOAD_MEDIUM_KW: Final = 1.0
DEFAULT_LOAD_HIGH_KW: Final = 2.0
DEFAULT_FREQUENCY_MIN: Final = 49.8
DEFAULT_FREQUENCY_MAX: Final = 50.2
DEFAULT_POWER_FACTOR_MIN: Final = 0.85

_DEFAULTS: Final[Mapping[str, float]] = {
    CONF_LOAD_IDLE_W: DEFAULT_LOAD_IDLE_W,
    CONF_LOAD_MEDIUM_KW: DEFAULT_LOAD_MEDIUM_KW,
    CONF_LOAD_HIGH_KW: DEFAULT_LOAD_HIGH_KW,
    CONF_FREQUENCY_MIN: DEFAULT_FREQUENCY_MIN,
    CONF_FREQUENCY_MAX: DEFAULT_FREQUENCY_MAX,
    CONF_POWER_FACTOR_MIN: DEFAULT_POWER_FACTOR_MIN,
}

_PHASES = (Quantity.POWER_L1, Quantity.POWER_L2, Quantity.POWER_L3)


class LoadLevel(StrEnum):
    """How hard a meter's circuit is working, in the Grafana panel's bands."""

    IDLE = "idle"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


@dataclass(frozen=True, slots=True)
class SignalThresholds:
    """One meter's bands, in W, Hz and as a plain power factor."""

    idle_w: float = DEFAULT_LOAD_IDLE_W
    medium_w: float = DEFAULT_LOAD_MEDIUM_KW * 1000
    high_w: float = DEFAULT_LOAD_HIGH_KW * 1000
    frequency_min: float = DEFAULT_FREQUENCY_MIN
    frequency_max: float = DEFAULT_FREQUENCY_MAX
    power_factor_min: float = DEFAULT_POWER_FACTOR_MIN

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> SignalThresholds:
        """The thresholds in a meter subentry, defaults for those it lacks."""
        value = {
            key: float(data.get(key, default)) for key, default in _DEFAULTS.items()
        }
        return cls(
            idle_w=value[CONF_LOAD_IDLE_W],
            medium_w=value[CONF_LOAD_MEDIUM_KW] * 1000,
            high_w=value[CONF_LOAD_HIGH_KW] * 1000,
            frequency_min=value[CONF_FREQUENCY_MIN],
            frequency_max=value[CONF_FREQUENCY_MAX],
            power_factor_min=value[CONF_POWER_FACTOR_MIN],
        )

    def load_level(self, power_w: float | None) -> LoadLevel | None:
        """The band the power falls in; None while the power is unknown."""
        if power_w is None:
            return None
        load = abs(power_w)
        if load < self.idle_w:
            return LoadLevel.IDLE
        if load < self.medium_w:
            return LoadLevel.LOW
        if load < self.high_w:
            return LoadLevel.MEDIUM
        return LoadLevel.HIGH

    def frequency_out_of_range(self, frequency_hz: float | None) -> bool | None:
        """Whether the frequency left the band; None while it is unknown."""
        if frequency_hz is None:
            return None
        return not self.frequency_min <= frequency_hz <= self.frequency_max

    def low_power_factor(
        self, power_factor: float | None, power_w: float | None
    ) -> bool | None:
        """Whether a working load has a poor power factor (never while idle)."""
        if power_w is not None and abs(power_w) < self.idle_w:
            return False
        if power_factor is None:
            return None
        return abs(power_factor) < self.power_factor_min


def total_power_w(published: Mapping[Quantity, float | None]) -> float | None:
    """A meter's total active power, or the sum of its phases when it has no total.

    None when neither is complete: a sum with a phase missing would look like
    a real, lower reading.
    """
    total = published.get(Quantity.POWER_TOTAL)
    if total is not None:
        return total
    phases = [published.get(phase) for phase in _PHASES]
    if any(value is None for value in phases):
        return None
    return sum(value for value in phases if value is not None)


def has_power(quantities: frozenset[Quantity]) -> bool:
    """Whether a profile gives a total power, directly or from its phases."""
    return Quantity.POWER_TOTAL in quantities or all(
        phase in quantities for phase in _PHASES
    )


# --- the meter form's section -------------------------------------------------


# What each threshold may be: the boxes' ranges, and what the step accepts.
_BOUNDS: Final[Mapping[str, Bounds]] = {
    CONF_LOAD_IDLE_W: Bounds(0, 100000, step=1, unit="W"),
    CONF_LOAD_MEDIUM_KW: Bounds(0.01, 10000, step=0.01, unit="kW"),
    CONF_LOAD_HIGH_KW: Bounds(0.01, 10000, step=0.01, unit="kW"),
    CONF_FREQUENCY_MIN: Bounds(40, 70, step=0.01, unit="Hz"),
    CONF_FREQUENCY_MAX: Bounds(40, 70, step=0.01, unit="Hz"),
    CONF_POWER_FACTOR_MIN: Bounds(0, 1, step=0.01),
}


def signals_section() -> section:
    """The collapsed "Load and grid signals" section of the meter form."""
    return section(
        vol.Schema(
            {
                vol.Required(key, default=_DEFAULTS[key]): bounds.selector()
                for key, bounds in _BOUNDS.items()
            }
        ),
        {"collapsed": True},
    )


def _given(user_input: Mapping[str, Any]) -> Mapping[str, Any]:
    """The section as the form sent it (nothing when it was left out)."""
    given = user_input.get(SECTION_SIGNALS)
    return given if isinstance(given, Mapping) else {}


def _section_values(user_input: Mapping[str, Any]) -> dict[str, float]:
    """The section's values from a form (checked), with defaults for what is missing."""
    given = _given(user_input)
    return {
        key: _BOUNDS[key].value(given.get(key, default))
        for key, default in _DEFAULTS.items()
    }


def signal_data(user_input: Mapping[str, Any]) -> dict[str, float]:
    """The section flattened into subentry data, like the data-quality settings."""
    return _section_values(user_input)


def signal_suggestions(data: Mapping[str, Any]) -> dict[str, float]:
    """The section's current values, to prefill the reconfigure form."""
    return {key: float(data.get(key, default)) for key, default in _DEFAULTS.items()}


def signal_errors(user_input: Mapping[str, Any]) -> dict[str, str]:
    """Bands that overlap or are upside down; errors keyed for the form.

    Checked before saving: with "high" below "medium" a load could never be
    medium, and an inverted frequency band would report a problem forever.
    First of all each must be a number in its range: "nan" would be in no
    band at all.
    """
    given = _given(user_input)
    if any(
        bounds.read(given.get(key, _DEFAULTS[key])) is None
        for key, bounds in _BOUNDS.items()
    ):
        return {SECTION_SIGNALS: "invalid_threshold"}
    values = _section_values(user_input)
    idle_kw = values[CONF_LOAD_IDLE_W] / 1000
    if not idle_kw < values[CONF_LOAD_MEDIUM_KW] < values[CONF_LOAD_HIGH_KW]:
        return {"base": "load_thresholds_order"}
    if not values[CONF_FREQUENCY_MIN] < values[CONF_FREQUENCY_MAX]:
        return {"base": "frequency_band_order"}
    return {}
