"""Fixtures and flow helpers for the meters that are not on Modbus.

The HTTP meter's endpoint is the simulator's, on 127.0.0.1; MQTT is Home
Assistant's own integration with its network client replaced by the test
harness (`mqtt_mock`), so messages arrive through the real subscription path.
"""

from collections.abc import AsyncGenerator
from datetime import timedelta
from typing import Any

from homeassistant.config_entries import SOURCE_USER, ConfigEntry, ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import async_fire_time_changed
from pytest_homeassistant_custom_component.typing import MqttMockHAClient

from custom_components.energy_meters.const import DOMAIN
from simulator.http_meter import HttpMeter

EXACT = {
    "power_kw": 1.5,
    "energy_kwh": 100.25,
    "voltage": 230.1,
    "current": 6.5,
    "power_factor": 0.95,
    "frequency": 50.01,
}


@pytest.fixture(name="http_meter")
async def fixture_http_meter(
    hass: HomeAssistant, socket_enabled: None
) -> AsyncGenerator[HttpMeter]:
    """A flat-JSON meter on 127.0.0.1 serving exact numbers."""
    meter = HttpMeter(host="127.0.0.1", port=0)
    meter.override = dict(EXACT)
    await meter.start()
    yield meter
    await meter.stop()


def http_form(url: str, **extra: Any) -> dict[str, Any]:
    """The HTTP meter form as a user fills it in, with `extra` changed."""
    return {
        "name": "Garage meter",
        "role": "zone",
        "url": url,
        "method": "GET",
        "verify_ssl": True,
        "scan_interval": 30,
        "power_unit": "W",
        "energy_unit": "kWh",
        **extra,
    }


async def start_http_flow(hass: HomeAssistant) -> Any:
    """Open the integration's menu and pick the HTTP meter; the empty form."""
    result: Any = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    assert "http_meter" in result["menu_options"]
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "http_meter"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "http_meter"
    return result


async def async_add_http_meter(
    hass: HomeAssistant, url: str, **extra: Any
) -> ConfigEntry:
    """Run the flow to the end; return the entry."""
    result = await start_http_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], http_form(url, **extra)
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY, result
    await hass.async_block_till_done()
    entry: ConfigEntry = result["result"]
    assert entry.state is ConfigEntryState.LOADED
    return entry


@pytest.fixture(name="mqtt")
async def fixture_mqtt(
    hass: HomeAssistant, mqtt_mock: MqttMockHAClient
) -> AsyncGenerator[MqttMockHAClient]:
    """MQTT set up; at the end our meters and MQTT are unloaded.

    The MQTT client unsubscribes after a cooldown and keeps a periodic timer:
    time is moved on so both run, or they would outlive the test.
    """
    yield mqtt_mock
    for domain in (DOMAIN, "mqtt"):
        for entry in hass.config_entries.async_entries(domain):
            await hass.config_entries.async_unload(entry.entry_id)
        async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=30))
        await hass.async_block_till_done()


def mqtt_form(**extra: Any) -> dict[str, Any]:
    """The MQTT meter form as a user fills it in, with `extra` changed."""
    return {
        "name": "Shelly EM",
        "role": "zone",
        "power_unit": "W",
        "energy_unit": "kWh",
        **extra,
    }


async def start_mqtt_flow(hass: HomeAssistant) -> Any:
    """Open the integration's menu and pick the MQTT meter (form or abort)."""
    result: Any = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    assert "mqtt_meter" in result["menu_options"]
    return await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "mqtt_meter"}
    )


async def async_add_mqtt_meter(hass: HomeAssistant, **extra: Any) -> ConfigEntry:
    """Run the flow to the end; return the entry."""
    result = await start_mqtt_flow(hass)
    assert result["type"] is FlowResultType.FORM, result
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], mqtt_form(**extra)
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY, result
    await hass.async_block_till_done()
    entry: ConfigEntry = result["result"]
    return entry
