"""The Energy Meters integration: Modbus energy meters behind gateways.

A config entry is a gateway (one connection, one bus); each meter behind it is
a config subentry. Setting up the entry starts the gateway's coordinator and
its sensors; any change to the entry or its subentries reloads it, so the read
plans always match the configured meters. Entries of the companion services
(heat-pump controller, thermostat) say so in their data's "kind" and are set
up by `companion`; so do the Site (`site`) and the meters that are entries of
their own: MQTT and HTTP meters and guarded sensors (`standalone`).
"""

from typing import cast

from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import config_validation as cv, device_registry as dr
from homeassistant.helpers.typing import ConfigType

from .companion import (
    async_setup_companion_entry,
    async_unload_companion_entry,
    is_companion,
)
from .const import DOMAIN
from .coordinator import EnergyMetersConfigEntry, GatewayCoordinator, meter_subentries
from .counter_store import CounterStore
from .entity import gateway_identifier
from .gateway_entities import gateway_device_info
from .profiles import async_load_profiles
from .services import async_setup_services
from .site import (
    SiteConfigEntry,
    async_setup_site_entry,
    async_unload_site_entry,
    is_site,
)
from .standalone import StandaloneConfigEntry, is_standalone
from .standalone_setup import (
    async_setup_standalone_entry,
    async_unload_standalone_entry,
)

PLATFORMS: list[Platform] = [Platform.BINARY_SENSOR, Platform.SENSOR]

# Everything is set up in the UI; YAML only holds what other integrations need.
CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Register the actions: once per start, whatever entries exist."""
    async_setup_services(hass)
    return True


async def async_setup_entry(
    hass: HomeAssistant, entry: EnergyMetersConfigEntry
) -> bool:
    """Connect to the gateway, take a first reading and create the entities."""
    if is_companion(entry):  # a heat-pump or thermostat service: see companion.py
        return await async_setup_companion_entry(hass, entry)
    if is_site(entry):  # sums every gateway's meters: see site.py
        return await async_setup_site_entry(hass, cast("SiteConfigEntry", entry))
    if is_standalone(entry):  # an MQTT or HTTP meter, a guarded sensor
        return await async_setup_standalone_entry(
            hass, cast("StandaloneConfigEntry", entry)
        )
    # Listen for changes before anything is awaited: a meter added while this
    # setup runs (the user adding meters back to back) must still reload it.
    entry.async_on_unload(entry.add_update_listener(_async_reload_on_change))
    profiles = await async_load_profiles(hass)
    gateway = dr.async_get(hass).async_get_or_create(
        config_entry_id=entry.entry_id,
        identifiers={gateway_identifier(entry.entry_id)},
        **gateway_device_info(entry),
    )
    coordinator = GatewayCoordinator(hass, entry, profiles.profiles, gateway.id)
    try:
        await coordinator.async_config_entry_first_refresh()
    except Exception:
        # A failed first poll means setup is retried later: leave no socket open.
        await coordinator.transport.close()
        raise
    entry.runtime_data = coordinator
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    if coordinator.meter_ids != {s.subentry_id for s in meter_subentries(entry)}:
        # The meters changed while this setup ran; the reload that change
        # scheduled may have waited for it, but not seen it: make sure.
        hass.config_entries.async_schedule_reload(entry.entry_id)
    return True


async def async_unload_entry(
    hass: HomeAssistant, entry: EnergyMetersConfigEntry
) -> bool:
    """Remove the entities and close the gateway connection."""
    if is_companion(entry):
        return await async_unload_companion_entry(hass, entry)
    if is_site(entry):
        return await async_unload_site_entry(hass, cast("SiteConfigEntry", entry))
    if is_standalone(entry):
        return await async_unload_standalone_entry(
            hass, cast("StandaloneConfigEntry", entry)
        )
    unloaded = await hass.config_entries.async_unload_platforms(entry, PLATFORMS)
    if unloaded:
        await entry.runtime_data.transport.close()
    return unloaded


async def async_remove_entry(
    hass: HomeAssistant, entry: EnergyMetersConfigEntry
) -> None:
    """A deleted gateway leaves no counter state behind."""
    if not is_companion(entry):
        await CounterStore(hass, entry.entry_id).async_remove()


async def _async_reload_on_change(
    hass: HomeAssistant, entry: EnergyMetersConfigEntry
) -> None:
    """A meter added, changed or removed, or new options: rebuild the read plans."""
    hass.config_entries.async_schedule_reload(entry.entry_id)
