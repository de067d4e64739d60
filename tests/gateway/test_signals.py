"""Load level and grid-quality signals of a meter, against the simulator."""

from typing import Any

from homeassistant.config_entries import SOURCE_RECONFIGURE, ConfigEntry
from homeassistant.const import STATE_OFF, STATE_ON
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
import pytest

from custom_components.energy_meters.const import SUBENTRY_METER
from custom_components.energy_meters.meterlib.model import Quantity
from custom_components.energy_meters.signals import (
    LoadLevel,
    SignalThresholds,
    signal_errors,
    total_power_w,
)
from simulator.server import ModbusSimulator
from tests.helpers import async_add_gateway

LOAD = "sensor.heat_pump_meter_load_level"
FREQUENCY = "binary_sensor.heat_pump_meter_grid_frequency_out_of_range"
POWER_FACTOR = "binary_sensor.heat_pump_meter_low_power_factor"


def _state(hass: HomeAssistant, entity_id: str) -> str:
    state = hass.states.get(entity_id)
    assert state is not None, entity_id
    return state.state


async def _poll_twice(hass: HomeAssistant, entry: ConfigEntry) -> None:
    """Two polls: a jump is published once a second reading confirms it."""
    for _ in range(2):
        await entry.runtime_data.async_refresh()
        await hass.async_block_till_done()


async def _reconfigure(
    hass: HomeAssistant, entry: ConfigEntry, signals: dict[str, float]
) -> Any:
    """Submit the meter's reconfigure form with new signal thresholds."""
    (subentry,) = entry.subentries.values()
    result: Any = await hass.config_entries.subentries.async_init(
        (entry.entry_id, SUBENTRY_METER),
        context={"source": SOURCE_RECONFIGURE, "subentry_id": subentry.subentry_id},
    )
    assert result["type"] is FlowResultType.FORM
    return await hass.config_entries.subentries.async_configure(
        result["flow_id"],
        {
            "unit_id": 1,
            "profile": "wago_879_30xx",
            "name": "Heat pump meter",
            "signals": signals,
        },
    )


@pytest.fixture
async def meter(hass: HomeAssistant, simulator: ModbusSimulator) -> ConfigEntry:
    """A working heat pump: 1.5 kW, 50.0 Hz, power factor 0.95."""
    wago = simulator.meter(1)
    wago.set_value(Quantity.POWER_TOTAL, 1500.0)
    wago.set_value(Quantity.FREQUENCY, 50.0)
    wago.set_value(Quantity.POWER_FACTOR, 0.95)
    return await async_add_gateway(hass, simulator)


async def test_defaults_are_the_grafana_bands(
    hass: HomeAssistant, meter: ConfigEntry
) -> None:
    """1.5 kW is medium (yellow), 50.0 Hz and 0.95 are fine (green)."""
    assert _state(hass, LOAD) == "medium"
    assert _state(hass, FREQUENCY) == STATE_OFF
    assert _state(hass, POWER_FACTOR) == STATE_OFF
    state = hass.states.get(LOAD)
    assert state is not None
    assert state.attributes["options"] == ["idle", "low", "medium", "high"]
    assert hass.states.get(FREQUENCY).attributes["device_class"] == "problem"  # type: ignore[union-attr]


async def test_signals_follow_the_meter(
    hass: HomeAssistant, simulator: ModbusSimulator, meter: ConfigEntry
) -> None:
    """High load, frequency off the band, a poor power factor: all turn on."""
    wago = simulator.meter(1)
    wago.set_value(Quantity.POWER_TOTAL, 2600.0)
    wago.set_value(Quantity.FREQUENCY, 50.35)
    wago.set_value(Quantity.POWER_FACTOR, 0.7)
    await _poll_twice(hass, meter)
    assert _state(hass, LOAD) == "high"
    assert _state(hass, FREQUENCY) == STATE_ON
    assert _state(hass, POWER_FACTOR) == STATE_ON


async def test_idle_meter_has_no_power_factor_problem(
    hass: HomeAssistant, simulator: ModbusSimulator, meter: ConfigEntry
) -> None:
    """20 W of standby electronics at power factor 0.4 is normal, not a problem."""
    wago = simulator.meter(1)
    wago.set_value(Quantity.POWER_TOTAL, 20.0)
    wago.set_value(Quantity.POWER_FACTOR, 0.4)
    await _poll_twice(hass, meter)
    assert _state(hass, LOAD) == "idle"
    assert _state(hass, POWER_FACTOR) == STATE_OFF


async def test_thresholds_come_from_the_meter_settings(
    hass: HomeAssistant, simulator: ModbusSimulator, meter: ConfigEntry
) -> None:
    """A heat pump's own bands: 1.5 kW is low for it; a wider frequency band."""
    result = await _reconfigure(
        hass,
        meter,
        {
            "load_medium_kw": 1.6,
            "load_high_kw": 3,
            "frequency_min": 49,
            "frequency_max": 51,
        },
    )
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()
    (subentry,) = meter.subentries.values()
    assert subentry.data["load_medium_kw"] == 1.6
    assert subentry.data["load_idle_w"] == 50.0  # not given: the default
    assert _state(hass, LOAD) == "low"
    simulator.meter(1).set_value(Quantity.FREQUENCY, 50.8)
    await _poll_twice(hass, meter)
    assert _state(hass, FREQUENCY) == STATE_OFF


@pytest.mark.parametrize(
    ("signals", "error"),
    [
        ({"load_medium_kw": 2.5, "load_high_kw": 2}, "load_thresholds_order"),
        ({"load_idle_w": 1500, "load_medium_kw": 1}, "load_thresholds_order"),
        ({"frequency_min": 50.2, "frequency_max": 49.8}, "frequency_band_order"),
    ],
)
async def test_inverted_bands_are_refused(
    hass: HomeAssistant, meter: ConfigEntry, signals: dict[str, float], error: str
) -> None:
    """The form says what is wrong, and the saved settings stay as they were."""
    (before,) = meter.subentries.values()
    result = await _reconfigure(hass, meter, signals)
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": error}
    (after,) = meter.subentries.values()
    assert dict(after.data) == dict(before.data)


def test_band_edges() -> None:
    """Edges belong to the upper band; the frequency band includes its limits."""
    limits = SignalThresholds()
    assert limits.load_level(49.9) is LoadLevel.IDLE
    assert limits.load_level(50.0) is LoadLevel.LOW
    assert limits.load_level(999.9) is LoadLevel.LOW
    assert limits.load_level(1000.0) is LoadLevel.MEDIUM
    assert limits.load_level(2000.0) is LoadLevel.HIGH
    assert limits.load_level(-2500.0) is LoadLevel.HIGH  # exporting: same current
    assert limits.load_level(None) is None
    assert limits.frequency_out_of_range(49.8) is False
    assert limits.frequency_out_of_range(50.2) is False
    assert limits.frequency_out_of_range(49.79) is True
    assert limits.frequency_out_of_range(None) is None
    assert limits.low_power_factor(-0.9, 1500.0) is False  # sign is direction
    assert limits.low_power_factor(0.84, 1500.0) is True
    assert limits.low_power_factor(None, 1500.0) is None


def test_total_power_from_phases() -> None:
    """A meter without a total gives the sum of its phases, but only all three."""
    phases = {
        Quantity.POWER_L1: 100.0,
        Quantity.POWER_L2: 200.0,
        Quantity.POWER_L3: 300.0,
    }
    assert total_power_w(phases) == 600.0
    assert total_power_w({**phases, Quantity.POWER_L3: None}) is None
    assert total_power_w({**phases, Quantity.POWER_TOTAL: 590.0}) == 590.0


def test_no_section_means_defaults() -> None:
    """A form without the collapsed section is valid: the defaults apply."""
    assert signal_errors({}) == {}
