"""Switches: the heat pump's power."""

from typing import cast

from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .companion import entry_kind
from .companion_coordinator import HeatPumpConfigEntry
from .const import KIND_HEAT_PUMP
from .coordinator import EnergyMetersConfigEntry
from .heatpump_controls import async_setup_heat_pump_switches

# One control at a time per service: each write is followed by a poll.
PARALLEL_UPDATES = 1


async def async_setup_entry(
    hass: HomeAssistant,
    entry: EnergyMetersConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the switches of a heat-pump entry."""
    if entry_kind(entry) == KIND_HEAT_PUMP:
        await async_setup_heat_pump_switches(
            cast("HeatPumpConfigEntry", entry), async_add_entities
        )
