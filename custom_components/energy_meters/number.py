"""Numbers: the heat pump's flow temperature and offset, the thermostat's settings."""

from typing import cast

from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .companion import entry_kind
from .companion_coordinator import HeatPumpConfigEntry, ThermostatConfigEntry
from .const import KIND_HEAT_PUMP, KIND_THERMOSTAT
from .coordinator import EnergyMetersConfigEntry
from .heatpump_controls import async_setup_heat_pump_numbers
from .thermostat_entities import async_setup_thermostat_numbers

# One control at a time per service: each write is followed by a poll.
PARALLEL_UPDATES = 1


async def async_setup_entry(
    hass: HomeAssistant,
    entry: EnergyMetersConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the numbers of a heat-pump or thermostat entry."""
    kind = entry_kind(entry)
    if kind == KIND_HEAT_PUMP:
        await async_setup_heat_pump_numbers(
            cast("HeatPumpConfigEntry", entry), async_add_entities
        )
    elif kind == KIND_THERMOSTAT:
        await async_setup_thermostat_numbers(
            cast("ThermostatConfigEntry", entry), async_add_entities
        )
