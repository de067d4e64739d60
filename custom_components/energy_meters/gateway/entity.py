"""The base every meter entity shares: device, unique id and availability."""

from typing import override

from homeassistant.config_entries import ConfigSubentry
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from ..const import DOMAIN
from ..meterlib.model import Profile
from .coordinator import GatewayCoordinator, MeterStatus


def gateway_identifier(entry_id: str) -> tuple[str, str]:
    """Device registry identifier of a gateway."""
    return (DOMAIN, entry_id)


def meter_identifier(entry_id: str, subentry_id: str) -> tuple[str, str]:
    """Device registry identifier of a meter.

    Built from the config entry and subentry ids, which never change, so a
    meter keeps its device and history through a reconfigure of its unit id,
    profile or the gateway's address.
    """
    return (DOMAIN, f"{entry_id}_{subentry_id}")


class MeterEntity(CoordinatorEntity[GatewayCoordinator]):
    """An entity of one meter behind a gateway."""

    _attr_has_entity_name = True

    def __init__(
        self,
        coordinator: GatewayCoordinator,
        subentry: ConfigSubentry,
        profile: Profile,
        key: str,
    ) -> None:
        """Attach the entity to its meter's device, below the gateway device."""
        super().__init__(coordinator)
        entry_id = coordinator.config_entry.entry_id
        self.subentry_id = subentry.subentry_id
        self._attr_unique_id = f"{entry_id}_{subentry.subentry_id}_{key}"
        self._attr_device_info = DeviceInfo(
            identifiers={meter_identifier(entry_id, subentry.subentry_id)},
            name=subentry.title,
            manufacturer=profile.manufacturer,
            model=profile.model,
            via_device_id=coordinator.gateway_device_id,
        )

    @property
    def status(self) -> MeterStatus:
        """This meter's status after the latest poll."""
        return self.coordinator.statuses[self.subentry_id]

    @property
    def available(self) -> bool:
        """Unavailable only after several failed polls, not on a single blip."""
        return self.status.available


class GatewayEntity(CoordinatorEntity[GatewayCoordinator]):
    """An entity of the gateway itself, on the gateway's device.

    Always available: what it tells (disconnected, an idle bus) is the news
    while the gateway is gone, not something to hide.
    """

    _attr_has_entity_name = True

    def __init__(self, coordinator: GatewayCoordinator, key: str) -> None:
        """Attach to the gateway's device."""
        super().__init__(coordinator)
        entry_id = coordinator.config_entry.entry_id
        self._attr_unique_id = f"{entry_id}_{key}"
        self._attr_device_info = DeviceInfo(identifiers={gateway_identifier(entry_id)})

    @property
    @override
    def available(self) -> bool:
        """Shown whatever the gateway does."""
        return True
