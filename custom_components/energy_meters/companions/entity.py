"""The base of every companion-service entity: device, unique id, availability.

A service entry is one device (the heat pump, or the thermostat service);
the thermostat's BLU sensors are devices of their own below it. Unique ids
are built from the config entry id, which survives a reconfigure of the URL.

Availability follows what feeds an entity: a heat-pump measurement needs
`/status` (`HeatPumpStatusEntity`), while a control stays available and
shows unknown (`CompanionControlEntity`), so that a call always reaches the
service or fails with a reason.
"""

from typing import Any

from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from ..const import DOMAIN
from ..meterlib.companions import HeatPumpStatus
from .coordinator import CompanionCoordinator, HeatPumpCoordinator


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


class CompanionControlEntity[CoordinatorT: CompanionCoordinator[Any]](
    CompanionEntity[CoordinatorT]
):
    """A control (switch, number, select, climate) of a companion service.

    Controls stay available while the service's status is missing: their
    state is then unknown, but a call still reaches the service (its write
    endpoints may well work) or raises an error that says why not. Home
    Assistant skips unavailable entities in a service call without a word,
    so an unavailable control would make a call succeed and do nothing.
    """

    @property
    def available(self) -> bool:
        """Always: see the class."""
        return True


class HeatPumpStatusEntity(CompanionEntity[HeatPumpCoordinator]):
    """An entity fed by `/status`: unavailable while there is none to show."""

    @property
    def available(self) -> bool:
        """Available while the poll succeeded and brought a status."""
        return super().available and self.coordinator.data.status is not None

    @property
    def _status(self) -> HeatPumpStatus:
        status = self.coordinator.data.status
        assert status is not None  # noqa: S101 (only read while available)
        return status
