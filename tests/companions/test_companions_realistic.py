"""The heat pump and the thermostat as the real services behave (issue 16).

Each test names the defect it guards against; all of them failed against the
integration as it was before, run against the corrected fakes (a cached
`/status` that shows a write only after the service's next poll, a `/health`
that goes stale for a moment at every few polls, slow Modbus writes, a relay
that follows only at the control loop's next run, readings that stay while
the relay is gone, NaN and absurd readings from broken sensors).
"""

import logging
import math
import time
from typing import Any

from homeassistant.components.number import ATTR_VALUE, SERVICE_SET_VALUE
from homeassistant.components.select import ATTR_OPTION, SERVICE_SELECT_OPTION
from homeassistant.config_entries import ConfigEntry
from homeassistant.const import (
    ATTR_ENTITY_ID,
    SERVICE_TURN_OFF,
    SERVICE_TURN_ON,
    STATE_OFF,
    STATE_ON,
    STATE_UNAVAILABLE,
    STATE_UNKNOWN,
)
from homeassistant.core import HomeAssistant, State
from homeassistant.exceptions import HomeAssistantError
import pytest
from pytest_homeassistant_custom_component.common import (
    mock_restore_cache_with_extra_data,
)

from custom_components.energy_meters import const
from custom_components.energy_meters.companions.coordinator import (
    HeatPumpCoordinator,
    ThermostatCoordinator,
)
from custom_components.energy_meters.diagnostics import (
    async_get_config_entry_diagnostics,
)
from simulator.services import BluSensor, FaultKind, HeatPumpService, ThermostatService
from tests.companions_fixtures import (
    async_add_service,
    entity_id,
    error_lines,
    fixture_heatpump_service,  # noqa: F401  (fixture)
    fixture_thermostat_service,  # noqa: F401  (fixture)
    state_of,
)


def _heat_pump(entry: ConfigEntry) -> HeatPumpCoordinator:
    coordinator = entry.runtime_data
    assert isinstance(coordinator, HeatPumpCoordinator)
    return coordinator


def _step_clock(
    coordinator: Any, seconds: float, service: HeatPumpService | None = None
) -> None:
    """Move the coordinator's clock on (and the service's), so no test has to wait."""
    for owner in (coordinator, service):
        if owner is None:
            continue
        offset = owner.clock() - time.monotonic() + seconds
        owner.clock = lambda offset=offset: time.monotonic() + offset


async def _refresh(hass: HomeAssistant, coordinator: Any) -> None:
    await coordinator.async_refresh()
    await hass.async_block_till_done()


async def _call(
    hass: HomeAssistant, domain: str, service: str, target: str, **data: Any
) -> None:
    await hass.services.async_call(
        domain, service, {ATTR_ENTITY_ID: target, **data}, blocking=True
    )


# --- 1. controls that stick ------------------------------------------------------


async def test_heat_pump_controls_show_the_written_value_at_once_and_keep_it(
    hass: HomeAssistant, heatpump_service: HeatPumpService
) -> None:
    """Defect 1: HA showed the old value again until the service's next poll.

    Switch, number and select: the new value shows as the call returns, stays
    through HA's polls of the still-cached `/status`, and is confirmed once
    the service has polled the pump.
    """
    heatpump_service.state.is_on = False
    heatpump_service.poll()
    entry = await async_add_service(hass, "heat_pump", heatpump_service.url)
    coordinator = _heat_pump(entry)
    switch = entity_id(hass, entry, "switch", "power_switch")
    offset = entity_id(hass, entry, "number", "auto_mode_offset")
    mode = entity_id(hass, entry, "select", "mode")

    await _call(hass, "switch", SERVICE_TURN_ON, switch)
    await _call(hass, "number", SERVICE_SET_VALUE, offset, **{ATTR_VALUE: -3})
    await _call(hass, "select", SERVICE_SELECT_OPTION, mode, **{ATTR_OPTION: "auto"})
    assert heatpump_service.served_status is not None
    assert heatpump_service.served_status["is_on"] is False  # still the old file
    expected = {switch: STATE_ON, offset: "-3", mode: "auto"}
    assert {key: hass.states.get(key).state for key in expected} == expected  # type: ignore[union-attr]

    for _ in range(2):  # HA's polls 12 s apart, the service's file unchanged
        _step_clock(coordinator, 12, heatpump_service)
        await _refresh(hass, coordinator)
        assert {key: hass.states.get(key).state for key in expected} == expected  # type: ignore[union-attr]

    heatpump_service.poll()
    _step_clock(coordinator, 5, heatpump_service)
    await _refresh(hass, coordinator)
    assert {key: hass.states.get(key).state for key in expected} == expected  # type: ignore[union-attr]
    assert not coordinator.pending  # confirmed: the service's values again


async def test_a_write_the_status_never_confirms_is_held_for_a_bounded_time(
    hass: HomeAssistant, heatpump_service: HeatPumpService
) -> None:
    """The value written is held at most COMPANION_OPTIMISTIC_HOLD_S, then the service wins."""
    entry = await async_add_service(hass, "heat_pump", heatpump_service.url)
    coordinator = _heat_pump(entry)
    switch = entity_id(hass, entry, "switch", "power_switch")
    await _call(hass, "switch", SERVICE_TURN_OFF, switch)
    assert state_of(hass, entry, "switch", "power_switch") == STATE_OFF
    # The service never polls the pump again, but its reading stays fresh enough.
    _step_clock(coordinator, const.COMPANION_OPTIMISTIC_HOLD_S + 1)
    heatpump_service.state.is_on = True  # the power manager switched it back
    heatpump_service.poll()
    heatpump_service.state.is_on = False
    await _refresh(hass, coordinator)
    assert state_of(hass, entry, "switch", "power_switch") == STATE_ON


async def test_a_failed_write_rolls_back_and_raises(
    hass: HomeAssistant, heatpump_service: HeatPumpService
) -> None:
    """Modbus link down: "Failed to set power" after three tries, the old value back."""
    entry = await async_add_service(hass, "heat_pump", heatpump_service.url)
    heatpump_service.link_up = False
    with pytest.raises(HomeAssistantError, match="Failed to set power"):
        await _call(
            hass,
            "switch",
            SERVICE_TURN_OFF,
            entity_id(hass, entry, "switch", "power_switch"),
        )
    assert state_of(hass, entry, "switch", "power_switch") == STATE_ON


# --- 2. one stale /health reply ----------------------------------------------------


async def test_one_stale_health_reply_keeps_every_entity(
    hass: HomeAssistant,
    heatpump_service: HeatPumpService,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Defect 2: a status 31.5 s old (a 30 s poll plus the read) blanked all 18."""
    state = heatpump_service.state
    state.flow_temperature, state.return_temperature = 40.0, 35.0
    heatpump_service.poll()
    entry = await async_add_service(hass, "heat_pump", heatpump_service.url)
    coordinator = _heat_pump(entry)
    caplog.clear()
    heatpump_service.make_stale(age=31.5)
    await _refresh(hass, coordinator)
    for platform, key in [
        ("sensor", "flow_temperature"),
        ("binary_sensor", "compressor"),
        ("switch", "power_switch"),
        ("sensor", "thermal_power"),
    ]:
        assert state_of(hass, entry, platform, key) not in {
            STATE_UNAVAILABLE,
            STATE_UNKNOWN,
        }, key
    age = hass.states.get(entity_id(hass, entry, "sensor", "status_age"))
    assert age is not None
    assert float(age.state) == pytest.approx(31.5, abs=1)  # from the detail text
    assert age.attributes["stale"] is True
    assert not error_lines(caplog)
    heatpump_service.heal()
    await _refresh(hass, coordinator)
    assert not error_lines(caplog)


# --- 3. a relay outage blanks only the status --------------------------------------


async def test_shelly_outage_keeps_sensors_and_climate(
    hass: HomeAssistant, thermostat_service: ThermostatService
) -> None:
    """Defect 3: the relay gone (status 503), the BLU sensors and the climate stay."""
    entry = await async_add_service(hass, "thermostat", thermostat_service.url)
    thermostat_service.shelly_connected = False
    thermostat_service.set_reading("temp_indoor", temperature=20.7)
    coordinator = entry.runtime_data
    assert isinstance(coordinator, ThermostatCoordinator)
    await _refresh(hass, coordinator)
    for sensor in thermostat_service.sensors.values():
        key = f"{sensor.sensor_id}_temperature"
        assert float(state_of(hass, entry, "sensor", key)) == sensor.temperature
    climate = hass.states.get(entity_id(hass, entry, "climate", "thermostat"))
    assert climate is not None
    assert climate.state == "off"
    assert climate.attributes["current_temperature"] == 20.7
    assert climate.attributes.get("hvac_action") is None  # the relay is unknown
    assert state_of(hass, entry, "sensor", "switch_locked_until") == STATE_UNAVAILABLE


# --- 4. write timeouts, calls while unavailable ----------------------------------


async def test_a_slow_power_on_is_not_reported_as_failed(
    hass: HomeAssistant,
    heatpump_service: HeatPumpService,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Defect 4: writes wait longer than reads (a power-on takes 19 s on a slow link).

    Scaled down: reads time out after 0.2 s, the power-on takes 0.45 s.
    """
    monkeypatch.setattr(const, "COMPANION_REQUEST_TIMEOUT", 0.2)
    heatpump_service.state.is_on = False
    heatpump_service.poll()
    entry = await async_add_service(hass, "heat_pump", heatpump_service.url)
    heatpump_service.write_time = 0.15  # x 3 writes
    await _call(
        hass,
        "switch",
        SERVICE_TURN_ON,
        entity_id(hass, entry, "switch", "power_switch"),
    )
    assert heatpump_service.state.is_on
    assert state_of(hass, entry, "switch", "power_switch") == STATE_ON
    assert getattr(const, "COMPANION_WRITE_TIMEOUT", 0) >= 30  # the real 19 s


async def test_a_call_while_the_device_is_unavailable_raises(
    hass: HomeAssistant, heatpump_service: HeatPumpService
) -> None:
    """Defect 4: with every poll failing, a call said "success" and sent nothing."""
    entry = await async_add_service(hass, "heat_pump", heatpump_service.url)
    coordinator = _heat_pump(entry)
    heatpump_service.faults.inject(FaultKind.SERVER_ERROR)
    await _refresh(hass, coordinator)
    assert not coordinator.last_update_success
    assert state_of(hass, entry, "sensor", "flow_temperature") == STATE_UNAVAILABLE
    with pytest.raises(HomeAssistantError, match="HTTP 500"):
        await _call(
            hass,
            "switch",
            SERVICE_TURN_OFF,
            entity_id(hass, entry, "switch", "power_switch"),
        )
    assert ("POST", "/power") in heatpump_service.faults.requests


# --- 5. the last preset survives a restart --------------------------------------------


async def test_turn_on_after_a_restart_brings_back_the_last_preset(
    hass: HomeAssistant, thermostat_service: ThermostatService
) -> None:
    """Defect 5: ECO, off, restart, on: ECO again (it was AUTO)."""
    name = f"climate.thermostat_127_0_0_1_{thermostat_service.port}"
    mock_restore_cache_with_extra_data(
        hass, ((State(name, "off"), {"last_preset": "eco"}),)
    )
    entry = await async_add_service(hass, "thermostat", thermostat_service.url)
    climate = entity_id(hass, entry, "climate", "thermostat")
    assert climate == name
    await _call(hass, "climate", SERVICE_TURN_ON, climate)
    assert thermostat_service.config["mode"] == "ECO"


# --- 6. the ignored setpoint in Auto mode -------------------------------------------


async def test_target_temperature_is_unknown_in_auto_mode(
    hass: HomeAssistant, heatpump_service: HeatPumpService
) -> None:
    """Defect 6: in Auto the service reports the Heat setpoint, which Auto ignores."""
    entry = await async_add_service(hass, "heat_pump", heatpump_service.url)
    assert heatpump_service.served_status is not None
    assert heatpump_service.served_status["op_mode"] == 3
    assert state_of(hass, entry, "sensor", "target_temperature") == STATE_UNKNOWN


# --- 7. COP at standby power ----------------------------------------------------------


async def test_cop_is_unknown_at_standby_power(
    hass: HomeAssistant, heatpump_service: HeatPumpService
) -> None:
    """Defect 7: 3.6 kW thermal over a 6 W standby meter published a COP of 600."""
    meter = "sensor.heat_pump_meter_power"
    hass.states.async_set(meter, "6", {"unit_of_measurement": "W"})
    state = heatpump_service.state
    state.operating_mode = "Heating"  # the service still says the compressor runs
    state.flow_rate, state.flow_temperature, state.return_temperature = 12.0, 40.0, 35.7
    heatpump_service.poll()
    entry = await async_add_service(hass, "heat_pump", heatpump_service.url)
    hass.config_entries.async_update_entry(entry, options={"power_entity": meter})
    await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert float(state_of(hass, entry, "sensor", "thermal_power")) == pytest.approx(
        3600, abs=5
    )
    cop = hass.states.get(entity_id(hass, entry, "sensor", "cop"))
    assert cop is not None
    assert (cop.state, cop.attributes["reason"]) == (STATE_UNKNOWN, "standby_power")
    hass.states.async_set(meter, "1200", {"unit_of_measurement": "W"})
    await hass.async_block_till_done()
    assert float(state_of(hass, entry, "sensor", "cop")) == pytest.approx(3.0, abs=0.01)


# --- 8. NaN and absurd readings ------------------------------------------------------


async def test_nan_and_absurd_readings_are_missing_not_published(
    hass: HomeAssistant,
    heatpump_service: HeatPumpService,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Defect 8: NaN raised in every update; 1e9 L/min added 484,410 kWh."""
    state = heatpump_service.state
    state.operating_mode = "Heating"
    state.flow_rate, state.flow_temperature, state.return_temperature = 12.0, 40.0, 35.0
    heatpump_service.poll()
    entry = await async_add_service(hass, "heat_pump", heatpump_service.url)
    coordinator = _heat_pump(entry)
    caplog.clear()
    for garbage in ({"flow_temperature": math.nan}, {"flow_rate": 1e9}):
        for name, value in garbage.items():
            setattr(state, name, value)
        heatpump_service.poll()
        before = float(state_of(hass, entry, "sensor", "heat_energy"))
        _step_clock(coordinator, 15)
        await _refresh(hass, coordinator)
        assert state_of(hass, entry, "sensor", "thermal_power") == STATE_UNKNOWN
        thermal = hass.states.get(entity_id(hass, entry, "sensor", "thermal_power"))
        assert thermal is not None
        assert thermal.attributes["reason"] in {"missing_reading", "above_rating"}
        assert float(state_of(hass, entry, "sensor", "heat_energy")) == before
        state.flow_rate, state.flow_temperature = 12.0, 40.0
    assert state_of(hass, entry, "sensor", "flow_temperature") == "40.0"
    assert not [r for r in caplog.records if "Unexpected error" in r.getMessage()]
    assert not [r for r in caplog.records if r.exc_info]


async def test_heat_energy_restores_from_the_last_state_when_the_saved_value_is_nan(
    hass: HomeAssistant, heatpump_service: HeatPumpService
) -> None:
    """Defect 8: after a NaN was saved, the heat energy started again from 0.0."""
    name = f"sensor.heat_pump_127_0_0_1_{heatpump_service.port}_heat_energy"
    mock_restore_cache_with_extra_data(
        hass,
        (
            (
                State(name, "12.5"),
                {"native_value": math.nan, "native_unit_of_measurement": "kWh"},
            ),
        ),
    )
    entry = await async_add_service(hass, "heat_pump", heatpump_service.url)
    assert float(state_of(hass, entry, "sensor", "heat_energy")) == 12.5


async def test_nan_temperature_from_a_blu_sensor_is_unknown(
    hass: HomeAssistant, thermostat_service: ThermostatService
) -> None:
    """Defect 8: the thermostat's sensors take NaN as no reading too."""
    thermostat_service.set_reading("temp_buffer", temperature=math.nan)
    entry = await async_add_service(hass, "thermostat", thermostat_service.url)
    assert (
        state_of(hass, entry, "sensor", "94:b2:16:0b:88:03_temperature")
        == STATE_UNKNOWN
    )


# --- 9. the smaller ones --------------------------------------------------------------


async def test_sensor_without_id_battery_as_whole_percent(
    hass: HomeAssistant, thermostat_service: ThermostatService
) -> None:
    """A sensor with a null id gets its device by name; battery shows "76", not "76.0"."""
    thermostat_service.sensors["cellar"] = BluSensor(
        None,
        "temp_cellar",
        "204",
        12.5,
        70.0,
        50,
        thermostat_service.sensors["94:b2:16:0b:88:01"].last_seen,
    )
    entry = await async_add_service(hass, "thermostat", thermostat_service.url)
    assert float(state_of(hass, entry, "sensor", "temp_cellar_temperature")) == 12.5
    battery = hass.states.get(
        entity_id(hass, entry, "sensor", "94:b2:16:0b:88:03_battery")
    )
    assert battery is not None
    assert battery.state == "76"


async def test_diagnostics_say_why(
    hass: HomeAssistant, heatpump_service: HeatPumpService
) -> None:
    """Diagnostics name the cause, not just UpdateFailed('companion_update_failed')."""
    entry = await async_add_service(hass, "heat_pump", heatpump_service.url)
    heatpump_service.faults.inject(FaultKind.HTML)
    await _refresh(hass, _heat_pump(entry))
    diagnostics = await async_get_config_entry_diagnostics(hass, entry)
    assert "HTML page" in diagnostics["last_exception"]
    assert "HTML page" in diagnostics["failing_parts"]["status"]


async def test_thermostat_settings_and_lock(
    hass: HomeAssistant, thermostat_service: ThermostatService
) -> None:
    """Minimum on/off time, sample count and control interval; the switch lock."""
    entry = await async_add_service(hass, "thermostat", thermostat_service.url)
    for key, value in [
        ("min_on_time", 45),
        ("min_off_time", 15),
        ("temp_sample_count", 5),
        ("control_interval", 240),
    ]:
        await _call(
            hass,
            "number",
            SERVICE_SET_VALUE,
            entity_id(hass, entry, "number", key),
            **{ATTR_VALUE: value},
        )
        assert thermostat_service.config[key] == value
        assert isinstance(thermostat_service.config[key], int)
        assert float(state_of(hass, entry, "number", key)) == value
    assert state_of(hass, entry, "sensor", "switch_locked_until") == STATE_UNKNOWN
    thermostat_service.config["mode"] = "ON"
    thermostat_service.control()
    await _refresh(hass, entry.runtime_data)
    assert state_of(hass, entry, "sensor", "switch_locked_until") not in {
        STATE_UNKNOWN,
        STATE_UNAVAILABLE,
    }


async def test_status_age_after_a_long_outage_logs_once(
    hass: HomeAssistant,
    heatpump_service: HeatPumpService,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Past the bounded time the status goes unavailable: one line, with the age."""
    entry = await async_add_service(hass, "heat_pump", heatpump_service.url)
    caplog.clear()
    with caplog.at_level(logging.INFO):
        heatpump_service.make_stale(age=const.COMPANION_STALE_LIMIT_S + 10)
        for _ in range(3):
            await _refresh(hass, _heat_pump(entry))
    lines = error_lines(caplog)
    assert len(lines) == 1, lines
    assert f"{const.COMPANION_STALE_LIMIT_S + 10:.0f} s old" in lines[0]
    assert state_of(hass, entry, "sensor", "flow_temperature") == STATE_UNAVAILABLE
