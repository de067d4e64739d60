"""The Site device's sensors: consumption, solar production, spare capacity.

Consumption and production are in W, like every meter's power sensor, so
they can be graphed together. The spare capacity is in kW, the unit the
grid connection's capacity is given in and the one the load-shedding
blueprint's margin uses.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import override

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import UnitOfPower
from homeassistant.helpers.device_registry import DeviceEntryType, DeviceInfo
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from ..const import DOMAIN
from .tracker import SiteConfigEntry, SiteTotals, SiteTracker

# The tracker pushes every change; entities never poll.
PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class SiteSensorDescription(SensorEntityDescription):
    """A site figure, taken from the latest totals."""

    value_fn: Callable[[SiteTotals], float | None]
    digits: int


SITE_SENSORS: tuple[SiteSensorDescription, ...] = (
    SiteSensorDescription(
        key="building_consumption",
        translation_key="building_consumption",
        device_class=SensorDeviceClass.POWER,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=UnitOfPower.WATT,
        suggested_display_precision=0,
        digits=1,
        value_fn=lambda totals: totals.consumption_w,
    ),
    SiteSensorDescription(
        key="solar_production",
        translation_key="solar_production",
        device_class=SensorDeviceClass.POWER,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=UnitOfPower.WATT,
        suggested_display_precision=0,
        digits=1,
        value_fn=lambda totals: totals.solar_w,
    ),
    SiteSensorDescription(
        key="available_capacity",
        translation_key="available_capacity",
        device_class=SensorDeviceClass.POWER,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=UnitOfPower.KILO_WATT,
        suggested_display_precision=2,
        digits=3,
        value_fn=lambda totals: totals.available_kw,
    ),
)


async def async_setup_site_sensors(
    entry: SiteConfigEntry, async_add_entities: AddConfigEntryEntitiesCallback
) -> None:
    """Add the site's sensors."""
    async_add_entities(
        SiteSensor(entry.runtime_data, entry.entry_id, entry.title, description)
        for description in SITE_SENSORS
    )


class SiteSensor(SensorEntity):
    """One figure of the site, recomputed whenever a gateway reads its meters."""

    _attr_has_entity_name = True
    _attr_should_poll = False
    entity_description: SiteSensorDescription

    def __init__(
        self,
        tracker: SiteTracker,
        entry_id: str,
        title: str,
        description: SiteSensorDescription,
    ) -> None:
        """Attach to the site's device."""
        self.tracker = tracker
        self.entity_description = description
        self._attr_unique_id = f"{entry_id}_{description.key}"
        self._attr_device_info = DeviceInfo(
            identifiers={(DOMAIN, entry_id)},
            name=title,
            manufacturer="Energy Meters",
            model="Site",
            entry_type=DeviceEntryType.SERVICE,
        )

    @override
    async def async_added_to_hass(self) -> None:
        """Write a new state each time the totals change."""
        await super().async_added_to_hass()
        self.async_on_remove(self.tracker.async_add_listener(self.async_write_ha_state))

    @property
    def _value(self) -> float | None:
        return self.entity_description.value_fn(self.tracker.totals)

    @property
    def available(self) -> bool:
        """Unavailable while a meter the figure needs has no reading."""
        return self._value is not None

    @property
    def native_value(self) -> float | None:
        """The figure, rounded: the sums carry float32 noise from the meters."""
        value = self._value
        return None if value is None else round(value, self.entity_description.digits)
