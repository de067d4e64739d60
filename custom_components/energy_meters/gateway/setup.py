"""Starting and stopping a gateway entry: its device, coordinator and connection.

Setting up the entry starts the gateway's coordinator; any change to the entry
or its subentries reloads it, so the read plans always match the configured
meters.
"""

from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr

from .coordinator import GatewayConfigEntry, GatewayCoordinator, meter_subentries
from .device import gateway_device_info
from .entity import gateway_identifier
from .profiles import async_load_profiles


async def async_start_gateway(
    hass: HomeAssistant, entry: GatewayConfigEntry
) -> GatewayCoordinator:
    """Connect to the gateway and take a first reading of its meters."""
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
    return coordinator


def gateway_started(hass: HomeAssistant, entry: GatewayConfigEntry) -> None:
    """The entities exist: reload if the meters changed meanwhile."""
    if entry.runtime_data.meter_ids != {s.subentry_id for s in meter_subentries(entry)}:
        # The meters changed while this setup ran; the reload that change
        # scheduled may have waited for it, but not seen it: make sure.
        hass.config_entries.async_schedule_reload(entry.entry_id)


async def async_stop_gateway(coordinator: GatewayCoordinator) -> None:
    """Close the gateway connection (its entities are gone)."""
    await coordinator.transport.close()


async def _async_reload_on_change(
    hass: HomeAssistant, entry: GatewayConfigEntry
) -> None:
    """A meter added, changed or removed, or new options: rebuild the read plans."""
    hass.config_entries.async_schedule_reload(entry.entry_id)
