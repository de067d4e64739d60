"""Which sensor each old series goes into, pre-filled with the old exporter's names.

The exporter published `wago_energy_total_kwh`, `wago_energy_L1_kwh`… and
`wago_power_total_kw`… (kWh and kW). A meter's sensors are found in the
entity registry by their translation key, which every kind of meter shares
(`meter_descriptions.py`), so this package needs no kind's code. In InfluxDB
the same names are the measurements, with the field `value`, which is how
Prometheus' remote write and Telegraf store Prometheus metrics there.
"""

from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from homeassistant.const import UnitOfEnergy, UnitOfPower
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er

from ..const import DOMAIN


class SeriesKind(StrEnum):
    """An energy counter (hourly sums) or a power measurement (hourly mean/min/max)."""

    ENERGY = "energy"
    POWER = "power"


@dataclass(frozen=True, slots=True)
class OldName:
    """A sensor's series in the old stack: its name there, kind and unit."""

    metric: str
    kind: SeriesKind
    unit: str


_KWH = UnitOfEnergy.KILO_WATT_HOUR
_KW = UnitOfPower.KILO_WATT
OLD_EXPORTER: Final[dict[str, OldName]] = {
    "energy_import": OldName("wago_energy_total_kwh", SeriesKind.ENERGY, _KWH),
    "energy_import_l1": OldName("wago_energy_L1_kwh", SeriesKind.ENERGY, _KWH),
    "energy_import_l2": OldName("wago_energy_L2_kwh", SeriesKind.ENERGY, _KWH),
    "energy_import_l3": OldName("wago_energy_L3_kwh", SeriesKind.ENERGY, _KWH),
    "power": OldName("wago_power_total_kw", SeriesKind.POWER, _KW),
    "power_l1": OldName("wago_power_L1_kw", SeriesKind.POWER, _KW),
    "power_l2": OldName("wago_power_L2_kw", SeriesKind.POWER, _KW),
    "power_l3": OldName("wago_power_L3_kw", SeriesKind.POWER, _KW),
}
_KIND_BY_UNIT: Final = {
    **{unit.value: SeriesKind.ENERGY for unit in UnitOfEnergy},
    **{unit.value: SeriesKind.POWER for unit in UnitOfPower},
}


@dataclass(frozen=True, slots=True)
class Target:
    """One sensor to import into, and its series' name and unit in the old stack."""

    entity_id: str
    old: OldName


def device_targets(hass: HomeAssistant, device_id: str) -> list[Target]:
    """The meter's energy and power sensors the old exporter had, in table order."""
    registry = er.async_get(hass)
    by_key = {
        entry.translation_key: entry.entity_id
        for entry in er.async_entries_for_device(registry, device_id)
        if entry.platform == DOMAIN and entry.translation_key in OLD_EXPORTER
    }
    return [
        Target(by_key[key], old) for key, old in OLD_EXPORTER.items() if key in by_key
    ]


def entity_target(
    hass: HomeAssistant, entity_id: str, metric: str | None, unit: str | None
) -> Target | None:
    """One of our energy or power sensors, with the series the user named.

    None when the entity is not one of this integration's energy or power
    sensors: statistics of other entities are not ours to rewrite.
    """
    entry = er.async_get(hass).async_get(entity_id)
    if entry is None or entry.platform != DOMAIN:
        return None
    default = OLD_EXPORTER.get(entry.translation_key or "")
    kind = (
        default.kind if default else _KIND_BY_UNIT.get(entry.unit_of_measurement or "")
    )
    if kind is None:
        return None
    old_unit = unit or (
        default.unit if default else (_KWH if kind is SeriesKind.ENERGY else _KW)
    )
    old_metric = metric or (default.metric if default else "")
    return Target(entity_id, OldName(old_metric, kind, old_unit))
