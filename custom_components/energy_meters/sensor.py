"""Sensors of every kind: meters' quantities and health, services' readings, the Site.

Which entities an entry has is its kind's business (`kinds.py`).
"""

from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .kinds import EnergyMetersConfigEntry, kind_of

# Each value is read by the entry's coordinator; entities never poll.
PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant,
    entry: EnergyMetersConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the entry's sensor entities, as its kind has them."""
    await kind_of(entry).async_setup_entities(
        Platform.SENSOR, entry, async_add_entities
    )
