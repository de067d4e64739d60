"""The MQTT meter, through Home Assistant's MQTT integration (its test harness's broker).

pytest-homeassistant-custom-component's `mqtt_mock` sets up the real MQTT
integration with the network client replaced; `async_fire_mqtt_message`
delivers a message as the broker would.
"""

import logging
from typing import Any

from homeassistant.components.sensor import ATTR_STATE_CLASS, SensorStateClass
from homeassistant.config_entries import SOURCE_RECONFIGURE, ConfigEntryState
from homeassistant.const import ATTR_UNIT_OF_MEASUREMENT, STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_mqtt_message,
)
from pytest_homeassistant_custom_component.typing import MqttMockHAClient

from custom_components.energy_meters.const import DOMAIN
from custom_components.energy_meters.meterlib.model import Quantity
from simulator.clock import ManualClock
from simulator.household import Household
from simulator.mqtt_meter import MqttMeterPublisher
from tests.single_meter_fixtures import (  # noqa: F401
    async_add_mqtt_meter,
    fixture_mqtt,
    mqtt_form,
    start_mqtt_flow,
)

POWER = "sensor.shelly_em_power"
ENERGY = "sensor.shelly_em_energy"
VOLTAGE = "sensor.shelly_em_voltage"


def _value(hass: HomeAssistant, entity_id: str) -> str:
    state = hass.states.get(entity_id)
    assert state is not None, entity_id
    return state.state


async def _send(hass: HomeAssistant, topic: str, payload: str) -> None:
    async_fire_mqtt_message(hass, topic, payload)
    await hass.async_block_till_done()


async def test_without_mqtt_the_flow_says_so(hass: HomeAssistant) -> None:
    """Without mqtt the flow says so."""
    result = await start_mqtt_flow(hass)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "mqtt_not_configured"


async def test_plain_numbers_one_topic_each(
    hass: HomeAssistant, mqtt: MqttMockHAClient
) -> None:
    """Bare numbers in the chosen units; entities update as messages arrive."""
    await async_add_mqtt_meter(
        hass,
        power_topic="home/em/power",
        energy_topic="home/em/energy",
        power_unit="kW",
        energy_unit="Wh",
    )
    assert _value(hass, POWER) == "unknown"  # nothing has arrived yet
    await _send(hass, "home/em/power", "1.234")
    await _send(hass, "home/em/energy", "5500")
    assert float(_value(hass, POWER)) == 1234.0
    assert float(_value(hass, ENERGY)) == 5.5
    energy = hass.states.get(ENERGY)
    assert energy is not None
    assert energy.attributes[ATTR_UNIT_OF_MEASUREMENT] == "kWh"
    assert energy.attributes[ATTR_STATE_CLASS] == SensorStateClass.TOTAL_INCREASING
    await _send(hass, "home/em/power", "1.240")
    assert float(_value(hass, POWER)) == 1240.0


async def test_one_json_topic_for_several_values(
    hass: HomeAssistant, mqtt: MqttMockHAClient
) -> None:
    """One json topic for several values."""
    await async_add_mqtt_meter(
        hass,
        power_topic="home/em/state",
        voltage_topic="home/em/state",
        energy_topic="home/em/state",
    )
    await _send(hass, "home/em/state", '{"power_kw": 25.5, "voltage": 230.2}')
    assert float(_value(hass, POWER)) == 25500.0
    assert float(_value(hass, VOLTAGE)) == 230.2
    assert _value(hass, ENERGY) == "unknown"  # not in this message
    await _send(hass, "home/em/state", '{"activePower": 25400, "totalEnergy": 7.5}')
    assert float(_value(hass, POWER)) == 25400.0
    assert float(_value(hass, ENERGY)) == 7.5
    assert float(_value(hass, VOLTAGE)) == 230.2  # kept


async def test_malformed_messages_lose_nothing_and_log_once(
    hass: HomeAssistant, mqtt: MqttMockHAClient, caplog: pytest.LogCaptureFixture
) -> None:
    """Malformed messages lose nothing and log once."""
    entry = await async_add_mqtt_meter(
        hass, power_topic="home/em/power", energy_topic="home/em/energy"
    )
    await _send(hass, "home/em/power", "800")
    await _send(hass, "home/em/energy", "12.5")
    with caplog.at_level(logging.WARNING):
        for payload in ("abc", "", "<html>", '{"power": "n/a"}', "NaN"):
            await _send(hass, "home/em/power", payload)
        await _send(hass, "home/em/energy", "{truncated")
    assert float(_value(hass, POWER)) == 800.0
    assert float(_value(hass, ENERGY)) == 12.5
    warnings = [
        r for r in caplog.records if "keeping the last values" in r.getMessage()
    ]
    assert len(warnings) == 1
    assert "home/em/power" in warnings[0].getMessage()
    assert entry.runtime_data.status.rejected_total == 6


async def test_energy_never_goes_down(
    hass: HomeAssistant, mqtt: MqttMockHAClient
) -> None:
    """Energy never goes down."""
    await async_add_mqtt_meter(hass, energy_topic="home/em/energy")
    await _send(hass, "home/em/energy", "100")
    await _send(hass, "home/em/energy", "0")  # a rebooting plug says 0
    await _send(hass, "home/em/energy", "-5")
    assert float(_value(hass, ENERGY)) == 100.0
    await _send(hass, "home/em/energy", "100.01")
    assert float(_value(hass, ENERGY)) == 100.01


async def test_a_power_spike_is_held_back(
    hass: HomeAssistant, mqtt: MqttMockHAClient
) -> None:
    """A power spike is held back."""
    await async_add_mqtt_meter(hass, power_topic="home/em/power")
    await _send(hass, "home/em/power", "450")
    await _send(hass, "home/em/power", "40000")  # one glitch
    assert float(_value(hass, POWER)) == 450.0
    await _send(hass, "home/em/power", "460")
    assert float(_value(hass, POWER)) == 460.0
    await _send(hass, "home/em/power", "3000")  # a real change, confirmed once
    await _send(hass, "home/em/power", "3010")
    assert float(_value(hass, POWER)) == 3010.0


async def test_the_availability_topic(
    hass: HomeAssistant, mqtt: MqttMockHAClient
) -> None:
    """The availability topic."""
    await async_add_mqtt_meter(
        hass, power_topic="home/em/power", availability_topic="home/em/status"
    )
    await _send(hass, "home/em/power", "100")
    assert _value(hass, POWER) == STATE_UNAVAILABLE  # not said online yet
    await _send(hass, "home/em/status", "online")
    assert float(_value(hass, POWER)) == 100.0
    await _send(hass, "home/em/status", "offline")
    assert _value(hass, POWER) == STATE_UNAVAILABLE
    await _send(hass, "home/em/status", "whatever")
    assert _value(hass, POWER) == STATE_UNAVAILABLE


async def test_the_simulated_publisher_reaches_the_entities(
    hass: HomeAssistant, mqtt: MqttMockHAClient
) -> None:
    """The simulator's messages, plain and JSON, show the household's values."""
    household = Household(seed=5, clock=ManualClock(0.0), start_hour=12.0)
    truth = household.values()
    for mode, prefix in (("plain", "sim/a"), ("json", "sim/b")):
        publisher = MqttMeterPublisher(household, prefix=prefix, mode=mode)
        topic = f"{prefix}/state" if mode == "json" else None
        await async_add_mqtt_meter(
            hass,
            name=f"Sim {mode}",
            power_topic=topic or f"{prefix}/power",
            energy_topic=topic or f"{prefix}/energy",
            voltage_topic=topic or f"{prefix}/voltage",
        )
        for message_topic, payload in publisher.messages():
            await _send(hass, message_topic, payload)
        name = f"sensor.sim_{mode}"
        assert float(_value(hass, f"{name}_power")) == pytest.approx(
            truth[Quantity.POWER_TOTAL], abs=0.05
        )
        assert float(_value(hass, f"{name}_energy")) == pytest.approx(
            truth[Quantity.ENERGY_IMPORT_TOTAL], abs=0.0005
        )
        mean_voltage = (
            sum(
                truth[q]
                for q in (Quantity.VOLTAGE_L1, Quantity.VOLTAGE_L2, Quantity.VOLTAGE_L3)
            )
            / 3
        )
        assert float(_value(hass, f"{name}_voltage")) == pytest.approx(
            mean_voltage, abs=0.005
        )


async def test_form_errors(hass: HomeAssistant, mqtt: MqttMockHAClient) -> None:
    """Form errors."""
    result = await start_mqtt_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], mqtt_form()
    )
    assert result["errors"] == {"base": "no_topic"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], mqtt_form(power_topic="home/+/power")
    )
    assert result["errors"] == {"power_topic": "invalid_topic"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        mqtt_form(power_topic="home/em/power", availability_topic="a/#"),
    )
    assert result["errors"] == {"availability_topic": "invalid_topic"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], mqtt_form(power_topic="home/em/power")
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    result = await start_mqtt_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], mqtt_form(power_topic="home/em/power")
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "meter_already_configured"


async def test_reconfigure_and_restart_keep_the_counter(
    hass: HomeAssistant, mqtt: MqttMockHAClient
) -> None:
    """New topics after a reconfigure; the energy counter continues, never lower."""
    entry = await async_add_mqtt_meter(hass, energy_topic="old/energy")
    await _send(hass, "old/energy", "42.0")
    result: Any = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_RECONFIGURE, "entry_id": entry.entry_id}
    )
    assert result["step_id"] == "reconfigure_mqtt"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], mqtt_form(energy_topic="new/energy")
    )
    assert result["reason"] == "standalone_reconfigured"
    await hass.async_block_till_done()
    await _send(hass, "old/energy", "50")  # no longer listened to
    await _send(hass, "new/energy", "3.0")  # the new source starts low
    assert float(_value(hass, ENERGY)) == 42.0


async def test_an_mqtt_meter_waits_for_mqtt_at_start(hass: HomeAssistant) -> None:
    """Configured, but MQTT is gone (removed, or not set up yet): setup is retried."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Shelly EM",
        data={"kind": "mqtt_meter", "power_topic": "home/em/power"},
    )
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.SETUP_RETRY
    assert hass.states.get(POWER) is None


async def test_json_paths_read_a_nested_payload(
    hass: HomeAssistant, mqtt: MqttMockHAClient
) -> None:
    """Tasmota's SENSOR message keeps its readings under ENERGY: paths reach them."""
    await async_add_mqtt_meter(
        hass,
        power_topic="tele/plug/SENSOR",
        energy_topic="tele/plug/SENSOR",
        voltage_topic="tele/plug/SENSOR",
        json_paths={
            "power_path": "ENERGY.Power",
            "energy_path": "ENERGY.Total",
            "voltage_path": "ENERGY.Voltage",
        },
    )
    message = (
        '{"Time": "2026-12-01T21:00:00", "ENERGY": {"Total": 12.345, "Power": 450,'
        ' "Voltage": 231, "Current": 2.1}}'
    )
    await _send(hass, "tele/plug/SENSOR", message)
    assert float(_value(hass, POWER)) == 450.0
    assert float(_value(hass, ENERGY)) == 12.345
    assert float(_value(hass, VOLTAGE)) == 231.0
    # A message without the path is unreadable: nothing changes.
    await _send(hass, "tele/plug/SENSOR", '{"Time": "2026-12-01T21:01:00"}')
    assert float(_value(hass, POWER)) == 450.0


async def test_an_mqtt_json_path_is_checked(
    hass: HomeAssistant, mqtt: MqttMockHAClient
) -> None:
    """A path with an empty step is named in the form."""
    result = await start_mqtt_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        mqtt_form(power_topic="a/b", json_paths={"power_path": "ENERGY..Power"}),
    )
    assert result["errors"] == {"json_paths": "invalid_path"}
