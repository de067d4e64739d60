"""Setting up and unloading the meters that are entries of their own.

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

from .const import CONF_KIND, DOMAIN, KIND_GUARD, KIND_HTTP_METER, KIND_MQTT_METER
from .guard import CONF_GUARDED, GuardedSensor
from .http_source import HttpMeter
from .meterlib.payload import Field
from .mqtt_source import MqttMeter, async_mqtt_available, topics
from .standalone import (
    STANDALONE_PLATFORMS,
    StandaloneConfigEntry,
    StandaloneMeter,
    payload_format,
)


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


async def async_setup_standalone_entry(
    hass: HomeAssistant, entry: StandaloneConfigEntry
) -> bool:
    """Start the meter and create its sensors."""
    kind = entry.data[CONF_KIND]
    meter: StandaloneMeter
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
    entry.runtime_data = meter
    await hass.config_entries.async_forward_entry_setups(entry, STANDALONE_PLATFORMS)
    return True


async def async_unload_standalone_entry(
    hass: HomeAssistant, entry: StandaloneConfigEntry
) -> bool:
    """Remove the sensors and keep the counters (subscriptions end with the entry)."""
    unloaded = await hass.config_entries.async_unload_platforms(
        entry, STANDALONE_PLATFORMS
    )
    if unloaded:
        await entry.runtime_data.async_shutdown()
    return unloaded
