"""Thermal power, heat energy and COP, checked against hand-computed values.

The heat pump's water side comes from the fake heat-pump service, the
electrical side from a simulated WAGO meter behind the Modbus simulator,
linked through the heat pump's options flow like a user does it.
"""

from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import STATE_UNAVAILABLE, STATE_UNKNOWN
from homeassistant.core import HomeAssistant, State
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import (
    mock_restore_cache_with_extra_data,
)

from custom_components.energy_meters.companions.coordinator import HeatPumpCoordinator
from custom_components.energy_meters.const import DOMAIN
from custom_components.energy_meters.meterlib.model import Quantity
from simulator.server import ModbusSimulator
from simulator.services import HeatPumpService
from tests.companions_fixtures import (
    async_add_service,
    entity_id,
    fixture_heatpump_service,  # noqa: F401  (fixture)
    state_of,
)
from tests.helpers import async_add_gateway

# Water at 12 L/min, 40 °C flow, 35 °C return:
# 12 / 60 kg/s x 4186 J/(kg K) x 5 K = 4186 W, by hand.
HAND_THERMAL_W = 12.0 / 60 * 4186 * 5


def _heating(service: HeatPumpService) -> None:
    state = service.state
    state.flow_rate, state.flow_temperature, state.return_temperature = 12.0, 40.0, 35.0
    state.operating_mode = "Heating"
    service.poll()


async def _link(
    hass: HomeAssistant, entry: ConfigEntry, power_entity: str | None
) -> Any:
    """Run the options flow, as the UI does, and wait for the reload."""
    result: Any = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "power_link"
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"power_entity": power_entity} if power_entity else {}
    )
    await hass.async_block_till_done()
    return result


def _meter_power_entity(hass: HomeAssistant, gateway: ConfigEntry) -> str:
    subentry_id = next(iter(gateway.subentries))
    found = er.async_get(hass).async_get_entity_id(
        "sensor", DOMAIN, f"{gateway.entry_id}_{subentry_id}_power"
    )
    assert found is not None
    return found


async def test_thermal_power_and_cop_from_the_simulators(
    hass: HomeAssistant, heatpump_service: HeatPumpService, simulator: ModbusSimulator
) -> None:
    """Thermal power = 4186 W by hand; COP = that over the simulated meter's power."""
    meter = simulator.meters[0]
    meter.set_value(Quantity.POWER_TOTAL, 1500.0)
    gateway = await async_add_gateway(hass, simulator)
    power_entity = _meter_power_entity(hass, gateway)
    assert float(hass.states.get(power_entity).state) == 1500.0  # type: ignore[union-attr]
    _heating(heatpump_service)
    entry = await async_add_service(hass, "heat_pump", heatpump_service.url)
    assert float(state_of(hass, entry, "sensor", "thermal_power")) == HAND_THERMAL_W
    # No meter linked yet: no COP entity.
    assert (
        er.async_get(hass).async_get_entity_id(
            "sensor", DOMAIN, f"{entry.entry_id}_cop"
        )
        is None
    )

    result = await _link(hass, entry, power_entity)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options == {"power_entity": power_entity}
    assert float(state_of(hass, entry, "sensor", "cop")) == round(4186 / 1500, 2)
    cop = hass.states.get(entity_id(hass, entry, "sensor", "cop"))
    assert cop is not None
    assert cop.attributes["power_entity"] == power_entity

    # Compressor off: the ratio means nothing, the COP is unknown, and says why.
    heatpump_service.state.operating_mode = "Standby"
    heatpump_service.poll()
    await entry.runtime_data.async_refresh()
    await hass.async_block_till_done()
    assert state_of(hass, entry, "sensor", "cop") == STATE_UNKNOWN
    cop = hass.states.get(entity_id(hass, entry, "sensor", "cop"))
    assert cop is not None
    assert cop.attributes["reason"] == "compressor_off"
    assert float(state_of(hass, entry, "sensor", "thermal_power")) == HAND_THERMAL_W

    # Unlinking removes the COP again.
    await _link(hass, entry, None)
    assert entry.options == {}
    assert hass.states.get(entity_id(hass, entry, "sensor", "cop")) is None or (
        state_of(hass, entry, "sensor", "cop") == STATE_UNAVAILABLE
    )


async def test_cop_in_kilowatts_follows_the_meter_between_polls(
    hass: HomeAssistant, heatpump_service: HeatPumpService
) -> None:
    """A kW power sensor is converted; a new meter value updates the COP at once."""
    hass.states.async_set(
        "sensor.heat_pump_meter_power",
        "1.5",
        {"unit_of_measurement": "kW", "device_class": "power"},
    )
    _heating(heatpump_service)
    entry = await async_add_service(hass, "heat_pump", heatpump_service.url)
    await _link(hass, entry, "sensor.heat_pump_meter_power")
    assert float(state_of(hass, entry, "sensor", "cop")) == round(4186 / 1500, 2)

    hass.states.async_set(
        "sensor.heat_pump_meter_power",
        "2.0",
        {"unit_of_measurement": "kW", "device_class": "power"},
    )
    await hass.async_block_till_done()
    assert float(state_of(hass, entry, "sensor", "cop")) == round(4186 / 2000, 2)

    for value, unit in [("unavailable", "kW"), ("n/a", "kW"), ("1500", "W/m²")]:
        hass.states.async_set(
            "sensor.heat_pump_meter_power", value, {"unit_of_measurement": unit}
        )
        await hass.async_block_till_done()
        assert state_of(hass, entry, "sensor", "cop") == STATE_UNKNOWN, value


async def test_link_to_a_sensor_not_loaded_yet(
    hass: HomeAssistant, heatpump_service: HeatPumpService
) -> None:
    """A meter that loads later can be linked; the COP waits for its first value."""
    _heating(heatpump_service)
    entry = await async_add_service(hass, "heat_pump", heatpump_service.url)
    result = await _link(hass, entry, "sensor.later_meter_power")
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert state_of(hass, entry, "sensor", "cop") == STATE_UNKNOWN
    hass.states.async_set(
        "sensor.later_meter_power", "2093", {"unit_of_measurement": "W"}
    )
    await hass.async_block_till_done()
    assert float(state_of(hass, entry, "sensor", "cop")) == 2.0


async def test_options_reject_a_sensor_that_is_not_a_power(
    hass: HomeAssistant, heatpump_service: HeatPumpService
) -> None:
    """A temperature picked by mistake: a translated error on the field."""
    hass.states.async_set("sensor.room", "21", {"unit_of_measurement": "°C"})
    entry = await async_add_service(hass, "heat_pump", heatpump_service.url)
    result = await _link(hass, entry, "sensor.room")
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"power_entity": "not_power"}


async def test_heat_energy_is_the_integral_of_thermal_power(
    hass: HomeAssistant, heatpump_service: HeatPumpService
) -> None:
    """Trapezoid over 60 s between two polls; a long gap and negative power add nothing."""
    _heating(heatpump_service)
    entry = await async_add_service(hass, "heat_pump", heatpump_service.url)
    coordinator = entry.runtime_data
    assert isinstance(coordinator, HeatPumpCoordinator)
    energy = hass.states.get(entity_id(hass, entry, "sensor", "heat_energy"))
    assert energy is not None
    assert float(energy.state) == 0.0
    assert energy.attributes["state_class"] == "total_increasing"
    assert energy.attributes["unit_of_measurement"] == "kWh"

    start = coordinator.data.fetched_at
    heatpump_service.state.flow_temperature = 42.0  # delta 7 K
    heatpump_service.poll()
    second_w = 12.0 / 60 * 4186 * 7
    coordinator.clock = lambda: start + 60
    await coordinator.async_refresh()
    await hass.async_block_till_done()
    expected = (HAND_THERMAL_W + second_w) / 2 * 60 / 3_600_000
    assert float(state_of(hass, entry, "sensor", "heat_energy")) == round(expected, 4)

    # Home Assistant was away for hours: that gap is skipped, not guessed.
    coordinator.clock = lambda: start + 60 + 10_000
    await coordinator.async_refresh()
    await hass.async_block_till_done()
    assert float(state_of(hass, entry, "sensor", "heat_energy")) == round(expected, 4)

    # A defrost takes heat back (return warmer than flow): the total never drops.
    heatpump_service.state.flow_temperature = 30.0
    heatpump_service.poll()
    coordinator.clock = lambda: start + 60 + 10_060
    await coordinator.async_refresh()
    await hass.async_block_till_done()
    after_defrost = expected + second_w / 2 * 60 / 3_600_000
    assert float(state_of(hass, entry, "sensor", "heat_energy")) == round(
        after_defrost, 4
    )

    # While the service fails, the total stays shown (and the gap is skipped).
    heatpump_service.make_stale()
    coordinator.clock = lambda: start + 60 + 10_120
    await coordinator.async_refresh()
    await hass.async_block_till_done()
    assert float(state_of(hass, entry, "sensor", "heat_energy")) == round(
        after_defrost, 4
    )


async def test_heat_energy_continues_after_a_restart(
    hass: HomeAssistant, heatpump_service: HeatPumpService
) -> None:
    """The total restored from the last run is where the integral continues."""
    mock_restore_cache_with_extra_data(
        hass,
        (
            (
                State(
                    f"sensor.heat_pump_127_0_0_1_{heatpump_service.port}_heat_energy",
                    "12.5",
                ),
                {"native_value": 12.5, "native_unit_of_measurement": "kWh"},
            ),
        ),
    )
    entry = await async_add_service(hass, "heat_pump", heatpump_service.url)
    assert float(state_of(hass, entry, "sensor", "heat_energy")) == 12.5
