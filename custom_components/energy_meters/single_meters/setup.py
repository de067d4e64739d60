"""Starting and stopping the meters that are entries of their own.

An HTTP meter must answer once before its entities exist (a failed first
poll means Home Assistant retries the setup, as for a gateway); an MQTT
meter and a guarded sensor only subscribe, and show "unknown" until their
first value arrives. All three restore their counters before the first
value is filtered, so a restart never re-learns a counter from a glitch.
"""

from collections.abc import Mapping
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ConfigEntryNotReady

from ..const import CONF_KIND, DOMAIN, KIND_GUARD, KIND_HTTP_METER, KIND_MQTT_METER
from ..meterlib.payload import Field
from .guard import CONF_GUARDED, GuardedSensor
from .http_source import HttpMeter
from .meter import (
    SingleMeter,
    SingleMeterConfigEntry,
    payload_format,
)
from .mqtt_source import MqttMeter, async_mqtt_available, topics


def reports_power(data: Mapping[str, Any]) -> bool:
    """Whether a meter of this configuration can say what power it measures.

    Only such a meter counts in the Site's sums: a guarded energy sensor, or
    an MQTT meter with no power topic, has no power to add, and counting it
    as "no reading" would keep the Site's figures unavailable for good.
    """
    kind = data.get(CONF_KIND)
    if kind == KIND_GUARD:
        return data.get(CONF_GUARDED) == Field.POWER
    if kind == KIND_MQTT_METER:
        return Field.POWER in topics(data)
    paths = payload_format(data).paths
    return not paths or Field.POWER in paths


async def async_start_single_meter(
    hass: HomeAssistant, entry: SingleMeterConfigEntry
) -> SingleMeter:
    """Start the meter: restore its counters, then poll or subscribe."""
    kind = entry.data[CONF_KIND]
    meter: SingleMeter
    if kind == KIND_HTTP_METER:
        meter = HttpMeter(hass, entry)
        await meter.async_config_entry_first_refresh()
    elif kind == KIND_GUARD:
        meter = guarded = GuardedSensor(hass, entry)
        await meter.async_restore()
        await guarded.async_start()
    else:
        if not await async_mqtt_available(hass):
            raise ConfigEntryNotReady(
                translation_domain=DOMAIN, translation_key="mqtt_not_ready"
            )
        meter = mqtt_meter = MqttMeter(hass, entry)
        await meter.async_restore()
        await mqtt_meter.async_start()
    return meter


async def async_stop_single_meter(meter: SingleMeter) -> None:
    """Keep the counters (its sensors are gone; subscriptions end with the entry)."""
    await meter.async_shutdown()


def single_meter_diagnostics(entry: SingleMeterConfigEntry) -> dict[str, Any]:
    """Settings (credentials redacted), what was published and the filter state."""
    return entry.runtime_data.diagnostics()
