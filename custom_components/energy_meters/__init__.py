"""The Energy Meters integration: energy meters, and the services around them.

An entry is one of several kinds (`kinds.py`): a Modbus gateway, with each
meter behind it a config subentry (`gateway/`); a companion service, a heat
pump or a thermostat (`companions/`); a meter that is not on Modbus, over
MQTT or HTTP or guarding another sensor (`single_meters/`); and the Site,
which sums them all (`site/`). Each function here looks the entry's kind up
once and does what the kind's row says.
"""

from homeassistant.core import HomeAssistant
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers.typing import ConfigType

from .const import DOMAIN
from .gateway.services import async_setup_services
from .history.services import async_setup_history_services
from .kinds import EnergyMetersConfigEntry, kind_of

# Everything is set up in the UI; YAML only holds what other integrations need.
CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Register the actions: once per start, whatever entries exist."""
    async_setup_services(hass)
    async_setup_history_services(hass)
    return True


async def async_setup_entry(
    hass: HomeAssistant, entry: EnergyMetersConfigEntry
) -> bool:
    """Start the entry's runtime object (a first reading), then its entities."""
    kind = kind_of(entry)
    entry.runtime_data = await kind.start(hass, entry)
    await hass.config_entries.async_forward_entry_setups(entry, kind.platforms)
    kind.async_started(hass, entry)
    return True


async def async_unload_entry(
    hass: HomeAssistant, entry: EnergyMetersConfigEntry
) -> bool:
    """Remove the entities, then stop the runtime object (close connections)."""
    kind = kind_of(entry)
    unloaded = await hass.config_entries.async_unload_platforms(entry, kind.platforms)
    if unloaded:
        await kind.async_stop(entry)
    return unloaded


async def async_remove_entry(
    hass: HomeAssistant, entry: EnergyMetersConfigEntry
) -> None:
    """A deleted entry leaves no counter state behind."""
    await kind_of(entry).async_remove(hass, entry)
