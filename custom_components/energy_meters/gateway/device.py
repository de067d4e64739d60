"""The gateway's own device and entity: what it is, and whether it answers.

A gateway is a device of its own, the parent of its meters' devices. Its make
is not known (any RS-485-to-Ethernet box will do), so the device says what it
does instead: its name is "Modbus gateway <host:port>" (translated), its model
the framing it speaks. Its connectivity sensor tells a gateway that is gone
(every meter unavailable for one reason) from a meter that does not answer
(its neighbours still fine), which the meters' own entities cannot show.
"""

from typing import Any, override

from homeassistant.components.binary_sensor import BinarySensorEntity
from homeassistant.components.binary_sensor.const import BinarySensorDeviceClass
from homeassistant.const import EntityCategory
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from ..const import CONF_FRAMING
from ..meterlib.transport import Framing
from .coordinator import GatewayConfigEntry, GatewayCoordinator
from .entity import GatewayEntity
from .signal_entities import async_setup_grid_signal_binary_sensors

# What the device page shows as the model: how the gateway frames Modbus.
_FRAMING_MODELS: dict[str, str] = {
    Framing.TCP: "Modbus TCP",
    Framing.RTU_OVER_TCP: "Modbus RTU over TCP",
    Framing.SERIAL: "Modbus RTU (RS-485)",
}


def gateway_device_info(entry: GatewayConfigEntry) -> dict[str, Any]:
    """Name, model and translation of a gateway's device, for the registry."""
    framing = str(entry.data.get(CONF_FRAMING, Framing.TCP))
    return {
        "translation_key": "serial_gateway" if framing == Framing.SERIAL else "gateway",
        "translation_placeholders": {"endpoint": entry.title},
        "name": entry.title,
        "model": _FRAMING_MODELS.get(framing, framing),
    }


async def async_setup_gateway_binary_sensors(
    entry: GatewayConfigEntry, async_add_entities: AddConfigEntryEntitiesCallback
) -> None:
    """The gateway's connectivity sensor, then each meter's grid-quality problems."""
    async_add_entities([GatewayConnectivity(entry.runtime_data)])
    async_setup_grid_signal_binary_sensors(entry, async_add_entities)


class GatewayConnectivity(GatewayEntity, BinarySensorEntity):
    """On while the latest poll reached the gateway."""

    _attr_device_class = BinarySensorDeviceClass.CONNECTIVITY
    _attr_entity_category = EntityCategory.DIAGNOSTIC

    def __init__(self, coordinator: GatewayCoordinator) -> None:
        """The gateway's connectivity: "disconnected" is the news, not "unavailable"."""
        super().__init__(coordinator, "connectivity")

    @property
    @override
    def is_on(self) -> bool | None:
        """Whether the gateway answered the latest poll; unknown before the first."""
        return self.coordinator.gateway_reachable
