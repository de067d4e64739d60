"""The base of every companion-service entity: device, unique id, availability.

A service entry is one device (the heat pump, or the thermostat service);
the thermostat's BLU sensors are devices of their own below it. Unique ids
are built from the config entry id, which survives a reconfigure of the URL.
"""

from typing import Any

from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from .companion_coordinator import CompanionCoordinator
from .const import DOMAIN


def service_identifier(entry_id: str) -> tuple[str, str]:
    """Device registry identifier of a companion service's device."""
    return (DOMAIN, entry_id)


def blu_sensor_identifier(entry_id: str, sensor_id: str) -> tuple[str, str]:
    """Device registry identifier of a BLU sensor behind a thermostat service."""
    return (DOMAIN, f"{entry_id}_{sensor_id}")


class CompanionEntity[CoordinatorT: CompanionCoordinator[Any]](
    CoordinatorEntity[CoordinatorT]
):
    """An entity of a companion service's own device."""

    _attr_has_entity_name = True

    def __init__(self, coordinator: CoordinatorT, key: str) -> None:
        """Attach to the service's device; the unique id is entry id + key."""
        super().__init__(coordinator)
        entry_id = coordinator.config_entry.entry_id
        self._attr_unique_id = f"{entry_id}_{key}"
        self._attr_device_info = DeviceInfo(identifiers={service_identifier(entry_id)})
