"""Switches: the heat pump's power."""

from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .kinds import EnergyMetersConfigEntry, kind_of

# One control at a time per service: each write is followed by a poll.
PARALLEL_UPDATES = 1


async def async_setup_entry(
    hass: HomeAssistant,
    entry: EnergyMetersConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the entry's switch entities, as its kind has them."""
    await kind_of(entry).async_setup_entities(
        Platform.SWITCH, entry, async_add_entities
    )
