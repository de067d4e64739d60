"""Binary sensors: the heat pump's states, and each meter's grid-quality problems.

A heat pump has power, compressor, circulation pump and error; a meter has
"frequency out of range" and "low power factor" (signal_entities.py); a
gateway has its connectivity (gateway_entities.py).
"""

from typing import cast

from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .companion import entry_kind
from .companion_coordinator import HeatPumpConfigEntry
from .const import KIND_GATEWAY, KIND_HEAT_PUMP
from .coordinator import EnergyMetersConfigEntry
from .gateway_entities import async_setup_gateway_binary_sensors
from .heatpump_entities import async_setup_heat_pump_binary_sensors
from .signal_entities import async_setup_grid_signal_binary_sensors

# Every value comes from the entry's coordinator; entities never poll.
PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant,
    entry: EnergyMetersConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the binary sensors of a heat-pump entry, or of a gateway's meters."""
    if entry_kind(entry) == KIND_HEAT_PUMP:
        await async_setup_heat_pump_binary_sensors(
            cast("HeatPumpConfigEntry", entry), async_add_entities
        )
    elif entry_kind(entry) == KIND_GATEWAY:
        async_setup_gateway_binary_sensors(entry, async_add_entities)
        async_setup_grid_signal_binary_sensors(entry, async_add_entities)
