"""The sensor platform's entry point for companion-service entries."""

from typing import cast

from homeassistant.config_entries import ConfigEntry
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .companion import entry_kind
from .companion_coordinator import HeatPumpConfigEntry, ThermostatConfigEntry
from .const import KIND_HEAT_PUMP
from .heatpump_entities import async_setup_heat_pump_sensors
from .thermostat_entities import async_setup_thermostat_sensors


async def async_setup_companion_sensors(
    entry: ConfigEntry, async_add_entities: AddConfigEntryEntitiesCallback
) -> None:
    """Add the sensors of a heat-pump or thermostat entry."""
    if entry_kind(entry) == KIND_HEAT_PUMP:
        await async_setup_heat_pump_sensors(
            cast("HeatPumpConfigEntry", entry), async_add_entities
        )
    else:
        await async_setup_thermostat_sensors(
            cast("ThermostatConfigEntry", entry), async_add_entities
        )
