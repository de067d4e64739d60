"""Starting and stopping a gateway entry: its device, coordinator and connection.

Setting up the entry starts the gateway's coordinator; any change to the entry
or its subentries reloads it, so the read plans always match the configured
meters. Changes that come while a reload is still waiting to start share that
one reload: a person adding 32 meters back to back would otherwise queue 32
reloads, each reading every meter again, for minutes after the last one.
"""

from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.util.hass_dict import HassKey

from ..repairs import async_clear_read_rates
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
    # From here on this setup sees every change made so far; a later one needs
    # a reload of its own.
    _pending_reloads(hass).pop(entry.entry_id, None)
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
        async_schedule_gateway_reload(hass, entry)
    # The entities listen now: the fast groups' reads may begin.
    entry.runtime_data.fast.start()


async def async_stop_gateway(coordinator: GatewayCoordinator) -> None:
    """Close the gateway connection (its entities are gone)."""
    async_clear_read_rates(coordinator.hass, coordinator.config_entry)
    await coordinator.fast.async_stop()
    await coordinator.transport.close()


async def _async_reload_on_change(
    hass: HomeAssistant, entry: GatewayConfigEntry
) -> None:
    """A meter added, changed or removed, or new options: rebuild the read plans."""
    async_schedule_gateway_reload(hass, entry)


_PENDING_RELOADS: HassKey[dict[str, object]] = HassKey("energy_meters_pending_reloads")


def _pending_reloads(hass: HomeAssistant) -> dict[str, object]:
    """Gateways whose reload is scheduled but whose setup has not begun.

    Each maps to a token of its reload, so a reload ending late does not clear
    the flag of the next one.
    """
    return hass.data.setdefault(_PENDING_RELOADS, {})


def async_schedule_gateway_reload(
    hass: HomeAssistant, entry: GatewayConfigEntry
) -> None:
    """Reload the gateway, unless a reload that will see this change is queued.

    The flag is cleared when the setup of that reload begins (it reads the
    subentries after that), or when the reload ends without a setup (unload
    failed, entry disabled), so no change is ever left without a reload.
    """
    pending = _pending_reloads(hass)
    if entry.entry_id in pending:
        return
    token = pending[entry.entry_id] = object()
    entry.async_cancel_retry_setup()

    async def _async_reload() -> None:
        try:
            await hass.config_entries.async_reload(entry.entry_id)
        finally:
            if pending.get(entry.entry_id) is token:
                del pending[entry.entry_id]

    hass.async_create_task(
        _async_reload(), f"energy_meters gateway reload {entry.entry_id}"
    )
