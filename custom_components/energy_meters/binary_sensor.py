"""Binary sensors: the heat pump's states, and each meter's grid-quality problems.

A heat pump has power, compressor, circulation pump and error; a meter has
"frequency out of range" and "low power factor" (gateway/signal_entities.py);
a gateway has its connectivity (gateway/device.py).
"""

from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .kinds import EnergyMetersConfigEntry, kind_of

# Every value comes from the entry's coordinator; entities never poll.
PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant,
    entry: EnergyMetersConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the entry's binary sensor entities, as its kind has them."""
    await kind_of(entry).async_setup_entities(
        Platform.BINARY_SENSOR, entry, async_add_entities
    )
