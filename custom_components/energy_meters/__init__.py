"""The Energy Meters integration: Modbus energy meters behind gateways.

A config entry is a gateway (one connection, one bus); each meter behind it is
a config subentry. Setting up the entry starts the gateway's coordinator and
its sensors; any change to the entry or its subentries reloads it, so the read
plans always match the configured meters.
"""

from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr

from .const import CONF_FRAMING
from .coordinator import EnergyMetersConfigEntry, GatewayCoordinator
from .entity import gateway_identifier
from .profiles import async_load_profiles

PLATFORMS: list[Platform] = [Platform.SENSOR]


async def async_setup_entry(hass: HomeAssistant, entry: EnergyMetersConfigEntry) -> bool:
    """Connect to the gateway, take a first reading and create the entities."""
    profiles = await async_load_profiles(hass)
    gateway = dr.async_get(hass).async_get_or_create(
        config_entry_id=entry.entry_id,
        identifiers={gateway_identifier(entry.entry_id)},
        name=entry.title,
        manufacturer="Modbus gateway",
        model=entry.data[CONF_FRAMING],
    )
    coordinator = GatewayCoordinator(hass, entry, profiles.profiles, gateway.id)
    try:
        await coordinator.async_config_entry_first_refresh()
    except Exception:
        # A failed first poll means setup is retried later: leave no socket open.
        await coordinator.transport.close()
        raise
    entry.runtime_data = coordinator
    entry.async_on_unload(entry.add_update_listener(_async_reload_on_change))
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    return True


async def async_unload_entry(hass: HomeAssistant, entry: EnergyMetersConfigEntry) -> bool:
    """Remove the entities and close the gateway connection."""
    unloaded = await hass.config_entries.async_unload_platforms(entry, PLATFORMS)
    if unloaded:
        await entry.runtime_data.transport.close()
    return unloaded


async def _async_reload_on_change(
    hass: HomeAssistant, entry: EnergyMetersConfigEntry
) -> None:
    """A meter added, changed or removed, or new options: rebuild the read plans."""
    hass.config_entries.async_schedule_reload(entry.entry_id)
