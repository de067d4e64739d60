"""Setting up and unloading the meters that are entries of their own.

An HTTP meter must answer once before its entities exist (a failed first
poll means Home Assistant retries the setup, as for a gateway); an MQTT
meter and a guarded sensor only subscribe, and show "unknown" until their
first value arrives. All three restore their counters before the first
value is filtered, so a restart never re-learns a counter from a glitch.
"""

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ConfigEntryNotReady

from .const import CONF_KIND, DOMAIN, KIND_GUARD, KIND_HTTP_METER
from .guard import GuardedSensor
from .http_source import HttpMeter
from .mqtt_source import MqttMeter, async_mqtt_available
from .standalone import STANDALONE_PLATFORMS, StandaloneConfigEntry, StandaloneMeter


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
