"""The MQTT and HTTP meters and guarded sensors as a power source for the Site.

They take site roles too, and count exactly like a gateway's meters.
"""

from collections.abc import Iterator

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant

from ..const import DOMAIN
from ..meter_power import AddListener, MeterPower, PowerSource, current_power_w
from ..roles import SITE_ROLES, meter_role
from .meter import SingleMeter, is_single_meter
from .setup import reports_power


def running_single_meters(hass: HomeAssistant) -> list[SingleMeter]:
    """The running MQTT and HTTP meters and guarded sensors."""
    return [
        entry.runtime_data
        for entry in hass.config_entries.async_entries(
            DOMAIN, include_ignore=False, include_disabled=False
        )
        if is_single_meter(entry)
        and entry.state is ConfigEntryState.LOADED
        and isinstance(getattr(entry, "runtime_data", None), SingleMeter)
    ]


def single_meter_powers(hass: HomeAssistant) -> Iterator[MeterPower]:
    """The power of every MQTT meter, HTTP meter and guarded sensor with a site role.

    Those that report no power at all (a guarded energy sensor) are left out.

    One that is configured but not running (its broker or endpoint is not
    there yet) counts as a meter without a reading, as a gateway's does.
    """
    running = {
        meter.config_entry.entry_id: meter for meter in running_single_meters(hass)
    }
    for entry in hass.config_entries.async_entries(
        DOMAIN, include_ignore=False, include_disabled=False
    ):
        if not is_single_meter(entry) or not reports_power(entry.data):
            continue
        role = meter_role(entry.data)
        if role not in SITE_ROLES:
            continue
        meter = running.get(entry.entry_id)
        power = (
            None
            if meter is None
            else current_power_w(meter.status.published, meter.available)
        )
        yield MeterPower(entry.title, role, power)


def single_meter_listeners(hass: HomeAssistant) -> Iterator[AddListener]:
    """Every running single meter: each new value may change a site figure."""
    for meter in running_single_meters(hass):
        yield meter.async_add_listener


SINGLE_METER_POWER = PowerSource(
    meters=single_meter_powers, listeners=single_meter_listeners
)
