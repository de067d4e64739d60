"""Entity states compared with what the simulator serves."""

from homeassistant.const import ATTR_DEVICE_CLASS, ATTR_UNIT_OF_MEASUREMENT
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er
import pytest

from custom_components.energy_meters.const import DOMAIN
from custom_components.energy_meters.meter_descriptions import DESCRIPTIONS
from custom_components.energy_meters.meterlib.model import Quantity
from simulator.server import ModbusSimulator
from tests.helpers import async_add_gateway


async def test_states_match_served_values(
    hass: HomeAssistant, simulator: ModbusSimulator
) -> None:
    """Every enabled sensor shows the served value, in canonical units."""
    entry = await async_add_gateway(hass, simulator, name="Heat pump")
    served = simulator.meters[0].served_values()
    registry = er.async_get(hass)
    checked = 0
    for description in DESCRIPTIONS:
        entity_id = registry.async_get_entity_id(
            "sensor",
            DOMAIN,
            f"{entry.entry_id}_{next(iter(entry.subentries))}_{description.key}",
        )
        assert entity_id is not None, description.key
        if not description.entity_registry_enabled_default:
            assert (
                registry.async_get(entity_id).disabled_by
                is er.RegistryEntryDisabler.INTEGRATION
            )  # type: ignore[union-attr]
            continue
        state = hass.states.get(entity_id)
        assert state is not None
        expected = served[description.quantity]
        assert float(state.state) == round(expected, description.digits), (
            description.key
        )
        checked += 1
    assert checked == 14  # the WAGO map's default-enabled quantities


async def test_units_and_classes(
    hass: HomeAssistant, simulator: ModbusSimulator
) -> None:
    """Power in W (the WAGO sends kW), energy in kWh ready for the Energy dashboard."""
    await async_add_gateway(hass, simulator, name="Heat pump")
    power = hass.states.get("sensor.heat_pump_power")
    energy = hass.states.get("sensor.heat_pump_energy_import")
    frequency = hass.states.get("sensor.heat_pump_frequency")
    assert power is not None
    assert energy is not None
    assert frequency is not None
    assert power.attributes[ATTR_UNIT_OF_MEASUREMENT] == "W"
    assert energy.attributes[ATTR_UNIT_OF_MEASUREMENT] == "kWh"
    assert energy.attributes[ATTR_DEVICE_CLASS] == "energy"
    assert energy.attributes["state_class"] == "total_increasing"
    assert frequency.attributes[ATTR_UNIT_OF_MEASUREMENT] == "Hz"
    assert 45 <= float(frequency.state) <= 65
    served_kw = simulator.meters[0].served_values()[Quantity.POWER_TOTAL] / 1000
    assert float(power.state) == round(served_kw * 1000, 1)


async def test_values_follow_the_meter(
    hass: HomeAssistant, simulator: ModbusSimulator
) -> None:
    """A jump shows once a second reading confirms it: one poll late, never a spike."""
    entry = await async_add_gateway(hass, simulator, name="Heat pump")
    before = hass.states.get("sensor.heat_pump_power")
    assert before is not None
    simulator.meters[0].set_value(Quantity.POWER_TOTAL, 2345.5)
    await entry.runtime_data.async_refresh()
    await hass.async_block_till_done()
    held = hass.states.get("sensor.heat_pump_power")
    assert held is not None
    assert held.state == before.state
    await entry.runtime_data.async_refresh()
    await hass.async_block_till_done()
    state = hass.states.get("sensor.heat_pump_power")
    assert state is not None
    assert float(state.state) == pytest.approx(2345.5, abs=0.01)


async def test_devices_hang_below_the_gateway(
    hass: HomeAssistant, simulator: ModbusSimulator
) -> None:
    """One device per meter, connected via the gateway's device."""
    entry = await async_add_gateway(hass, simulator, name="Heat pump")
    devices = dr.async_get(hass)
    gateway = devices.async_get_device_by_identifier(
        (DOMAIN, entry.entry_id), entry.entry_id
    )
    assert gateway is not None
    (subentry_id,) = entry.subentries
    meter = devices.async_get_device_by_identifier(
        (DOMAIN, f"{entry.entry_id}_{subentry_id}"), entry.entry_id
    )
    assert meter is not None
    assert meter.via_device_id == gateway.id
    assert meter.name == "Heat pump"
    assert meter.manufacturer == "WAGO"
    assert meter.config_subentry_id == subentry_id
