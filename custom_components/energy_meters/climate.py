"""Climate: the thermostat service's thermostat."""

from typing import cast

from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .companion import entry_kind
from .companion_coordinator import ThermostatConfigEntry
from .const import KIND_THERMOSTAT
from .coordinator import EnergyMetersConfigEntry
from .thermostat_entities import async_setup_thermostat_climate

# One control at a time per service: each write is a read-modify-write.
PARALLEL_UPDATES = 1


async def async_setup_entry(
    hass: HomeAssistant,
    entry: EnergyMetersConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the climate entity of a thermostat entry."""
    if entry_kind(entry) == KIND_THERMOSTAT:
        await async_setup_thermostat_climate(
            cast("ThermostatConfigEntry", entry), async_add_entities
        )
