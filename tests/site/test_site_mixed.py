"""A site of three protocols: a Modbus grid meter, an MQTT solar meter, an HTTP building.

Each meter is real on its own path: the grid meter is a simulated WAGO on a
Modbus server on 127.0.0.1, the building an HTTP endpoint on 127.0.0.1, the
solar inverter MQTT messages through Home Assistant's MQTT integration.
"""

from datetime import timedelta
from typing import Any

from homeassistant.config_entries import SOURCE_USER, ConfigEntry
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    async_fire_mqtt_message,
    async_fire_time_changed,
)
from pytest_homeassistant_custom_component.typing import MqttMockHAClient

from custom_components.energy_meters.const import DOMAIN
from custom_components.energy_meters.meterlib.model import Quantity
from simulator.http_meter import HttpMeter
from simulator.server import ModbusSimulator
from tests.helpers import async_add_gateway
from tests.single_meter_fixtures import (  # noqa: F401
    async_add_http_meter,
    async_add_mqtt_meter,
    fixture_http_meter,
    fixture_mqtt,
)

CONSUMPTION = "sensor.site_building_consumption"
SOLAR = "sensor.site_solar_production"
AVAILABLE = "sensor.site_available_capacity"
CAPACITY_KW = 17.0


def _value(hass: HomeAssistant, entity_id: str) -> float:
    state = hass.states.get(entity_id)
    assert state is not None, entity_id
    return float(state.state)


async def _add_site(hass: HomeAssistant) -> ConfigEntry:
    result: Any = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "site"}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"capacity_kw": CAPACITY_KW}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    entry: ConfigEntry = result["result"]
    return entry


@pytest.fixture(name="mixed_site")
async def fixture_mixed_site(
    hass: HomeAssistant,
    simulator: ModbusSimulator,
    http_meter: HttpMeter,
    mqtt: MqttMockHAClient,
) -> tuple[ConfigEntry, ConfigEntry]:
    """The site with grid (Modbus, 2.5 kW drawn), solar (MQTT) and building (HTTP).

    Returns the grid's gateway entry and the HTTP meter's entry.
    """
    simulator.meter(1).set_value(Quantity.POWER_TOTAL, 2500.0)
    http_meter.override["power_kw"] = 1.2
    await _add_site(hass)
    gateway = await async_add_gateway(hass, simulator, name="Grid")
    result: Any = await hass.config_entries.subentries.async_init(
        (gateway.entry_id, "meter"),
        context={
            "source": "reconfigure",
            "subentry_id": next(iter(gateway.subentries)),
        },
    )
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"],
        {"unit_id": 1, "profile": "wago_879_30xx", "name": "Grid", "role": "grid"},
    )
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()
    await async_add_mqtt_meter(
        hass, name="Roof PV", role="solar", power_topic="pv/power"
    )
    building = await async_add_http_meter(
        hass, http_meter.url, name="Workshop", role="building"
    )
    return gateway, building


async def test_consumption_and_capacity_over_three_protocols(
    hass: HomeAssistant, mixed_site: tuple[ConfigEntry, ConfigEntry]
) -> None:
    """Grid 2.5 kW + workshop 1.2 kW + solar 4 kW behind the grid meter.

    The house uses what it draws plus what the roof makes: 2.5 + 4 = 6.5 kW,
    and the workshop (no grid meter sees it) 1.2 kW, 7.7 kW in all. Spare
    capacity: 17 + 4 - 7.7 = 13.3 kW, the connection less the 3.7 kW drawn.
    """
    # Until the solar meter has said anything, the site says nothing.
    assert hass.states.get(CONSUMPTION).state == STATE_UNAVAILABLE  # type: ignore[union-attr]
    # The inverter's meter counts its feed as export: negative.
    async_fire_mqtt_message(hass, "pv/power", "-4000")
    await hass.async_block_till_done()
    assert _value(hass, SOLAR) == pytest.approx(4000.0, abs=0.1)
    assert _value(hass, CONSUMPTION) == pytest.approx(7700.0, abs=0.1)
    assert _value(hass, AVAILABLE) == pytest.approx(13.3, abs=0.001)
    # A new MQTT reading moves the site at once (confirmed, as a meter's is).
    for payload in ("-1000", "-1010"):
        async_fire_mqtt_message(hass, "pv/power", payload)
        await hass.async_block_till_done()
    assert _value(hass, CONSUMPTION) == pytest.approx(2500 + 1200 + 1010, abs=0.1)
    assert _value(hass, AVAILABLE) == pytest.approx(17 - 3.7, abs=0.001)


async def test_a_failing_http_meter_makes_the_site_unavailable_not_wrong(
    hass: HomeAssistant,
    http_meter: HttpMeter,
    mixed_site: tuple[ConfigEntry, ConfigEntry],
) -> None:
    """Without the workshop the sum would understate consumption: it goes unavailable."""
    _, building = mixed_site
    async_fire_mqtt_message(hass, "pv/power", "-4000")
    await hass.async_block_till_done()
    http_meter.fail("status_500")
    for _ in range(3):
        await building.runtime_data.async_refresh()
        await hass.async_block_till_done()
    assert hass.states.get(CONSUMPTION).state == STATE_UNAVAILABLE  # type: ignore[union-attr]
    assert hass.states.get(AVAILABLE).state == STATE_UNAVAILABLE  # type: ignore[union-attr]
    http_meter.clear()
    await building.runtime_data.async_refresh()
    await hass.async_block_till_done()
    assert _value(hass, CONSUMPTION) == pytest.approx(7700.0, abs=0.1)


async def test_an_http_meter_polls_by_itself(
    hass: HomeAssistant,
    http_meter: HttpMeter,
    mixed_site: tuple[ConfigEntry, ConfigEntry],
) -> None:
    """No manual refresh: the 30 s interval brings the new building power to the site."""
    async_fire_mqtt_message(hass, "pv/power", "-4000")
    await hass.async_block_till_done()
    http_meter.override["power_kw"] = 1.25
    before = http_meter.requests
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=31))
    await hass.async_block_till_done(wait_background_tasks=True)
    assert http_meter.requests == before + 1
    assert _value(hass, CONSUMPTION) == pytest.approx(7750.0, abs=0.1)
