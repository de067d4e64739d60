"""The gateways' meters as a power source for the Site.

The Site reads the meters' filtered values straight from the coordinators,
not from their entities: a renamed or disabled power sensor must not change
the site's figures.
"""

from collections.abc import Iterator

from homeassistant.config_entries import ConfigEntry, ConfigEntryState
from homeassistant.core import HomeAssistant

from ..const import DOMAIN, KIND_GATEWAY, stored_kind
from ..meter_power import AddListener, MeterPower, PowerSource, current_power_w
from ..roles import SITE_ROLES, meter_role
from .coordinator import GatewayCoordinator, meter_subentries


def gateway_entries(hass: HomeAssistant) -> list[ConfigEntry]:
    """Every enabled gateway entry of the integration, loaded or not."""
    return [
        entry
        for entry in hass.config_entries.async_entries(
            DOMAIN, include_ignore=False, include_disabled=False
        )
        if stored_kind(entry.data) == KIND_GATEWAY
    ]


def _coordinator(entry: ConfigEntry) -> GatewayCoordinator | None:
    """The gateway's running coordinator, None while it is not set up."""
    if entry.state is not ConfigEntryState.LOADED:
        return None
    coordinator = getattr(entry, "runtime_data", None)
    return coordinator if isinstance(coordinator, GatewayCoordinator) else None


def gateway_meter_powers(hass: HomeAssistant) -> Iterator[MeterPower]:
    """The power of every meter with a site role, over all gateways.

    A meter behind a gateway that is not set up (unreachable at start, or
    failing) counts as a meter without a reading, not as an absent one.
    """
    for entry in gateway_entries(hass):
        coordinator = _coordinator(entry)
        for subentry in meter_subentries(entry):
            role = meter_role(subentry.data)
            if role not in SITE_ROLES:
                continue
            status = (
                coordinator.statuses.get(subentry.subentry_id) if coordinator else None
            )
            power = (
                None
                if status is None
                else current_power_w(status.published, status.available)
            )
            yield MeterPower(subentry.title, role, power)


def gateway_listeners(hass: HomeAssistant) -> Iterator[AddListener]:
    """Every running gateway coordinator: each poll of it may change a site figure."""
    for entry in gateway_entries(hass):
        coordinator = _coordinator(entry)
        if coordinator is not None:
            yield coordinator.async_add_listener


GATEWAY_POWER = PowerSource(meters=gateway_meter_powers, listeners=gateway_listeners)
