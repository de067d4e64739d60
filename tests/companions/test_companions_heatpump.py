"""The heat-pump device against the fake heat-pump service on 127.0.0.1."""

import json
import logging
import time

from homeassistant.components.number import ATTR_VALUE, SERVICE_SET_VALUE
from homeassistant.components.select import ATTR_OPTION, SERVICE_SELECT_OPTION
from homeassistant.config_entries import SOURCE_REAUTH, ConfigEntry, ConfigEntryState
from homeassistant.const import (
    ATTR_ENTITY_ID,
    SERVICE_TURN_OFF,
    SERVICE_TURN_ON,
    STATE_OFF,
    STATE_ON,
    STATE_UNAVAILABLE,
    STATE_UNKNOWN,
)
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import device_registry as dr
import pytest

from custom_components.energy_meters.companions.coordinator import HeatPumpCoordinator
from custom_components.energy_meters.const import DOMAIN
from custom_components.energy_meters.diagnostics import (
    async_get_config_entry_diagnostics,
)
from simulator.services import FaultKind, HeatPumpService
from tests.companions_fixtures import (
    async_add_service,
    entity_id,
    error_lines,
    fixture_fast_timeout,  # noqa: F401  (fixture)
    fixture_heatpump_service,  # noqa: F401  (fixture)
    state_of,
)


async def _add(
    hass: HomeAssistant, service: HeatPumpService, **extra: str
) -> ConfigEntry:
    return await async_add_service(hass, "heat_pump", service.url, **extra)


def _coordinator(entry: ConfigEntry) -> HeatPumpCoordinator:
    coordinator = entry.runtime_data
    assert isinstance(coordinator, HeatPumpCoordinator)
    return coordinator


async def test_every_sensor_shows_what_the_service_serves(
    hass: HomeAssistant, heatpump_service: HeatPumpService
) -> None:
    """Each measurement equals the field the service reports."""
    state = heatpump_service.state
    state.flow_temperature, state.return_temperature = 41.5, 36.0
    state.outdoor_temperature, state.flow_rate = -3.2, 11.0
    state.water_pressure, state.error_code = 1.7, 0
    state.operating_mode = "Heating"
    state.op_mode = 4
    heatpump_service.poll()
    entry = await _add(hass, heatpump_service)
    served = state.status()

    assert float(state_of(hass, entry, "sensor", "flow_temperature")) == 41.5
    assert float(state_of(hass, entry, "sensor", "return_temperature")) == 36.0
    assert float(state_of(hass, entry, "sensor", "outdoor_temperature")) == -3.2
    assert (
        float(state_of(hass, entry, "sensor", "target_temperature"))
        == (served["target_temperature"])
    )
    assert float(state_of(hass, entry, "sensor", "temperature_delta")) == 5.5
    assert float(state_of(hass, entry, "sensor", "flow_rate")) == 11.0
    assert float(state_of(hass, entry, "sensor", "water_pressure")) == 1.7
    assert state_of(hass, entry, "sensor", "error_code") == "0"
    assert state_of(hass, entry, "sensor", "operating_state") == "heating"
    assert state_of(hass, entry, "binary_sensor", "power") == STATE_ON
    assert state_of(hass, entry, "binary_sensor", "compressor") == STATE_ON
    assert state_of(hass, entry, "binary_sensor", "circulation_pump") == STATE_ON
    assert state_of(hass, entry, "binary_sensor", "error") == STATE_OFF
    assert state_of(hass, entry, "switch", "power_switch") == STATE_ON
    assert state_of(hass, entry, "select", "mode") == "heat"
    assert float(state_of(hass, entry, "number", "auto_mode_offset")) == 1
    flow_unit = hass.states.get(entity_id(hass, entry, "sensor", "flow_rate"))
    assert flow_unit is not None
    assert flow_unit.attributes["unit_of_measurement"] == "L/min"


async def test_one_device_with_translated_entity_names(
    hass: HomeAssistant, heatpump_service: HeatPumpService
) -> None:
    """The entry is one device; names come from translation keys."""
    entry = await _add(hass, heatpump_service)
    device = dr.async_get(hass).async_get_device_by_identifier(
        (DOMAIN, entry.entry_id), entry.entry_id
    )
    assert device is not None
    assert device.manufacturer == "LG"
    assert device.name == f"Heat pump 127.0.0.1:{heatpump_service.port}"
    state = hass.states.get(entity_id(hass, entry, "sensor", "flow_temperature"))
    assert state is not None
    assert state.name == f"{device.name} Flow temperature"


async def test_error_code_and_problem(
    hass: HomeAssistant, heatpump_service: HeatPumpService
) -> None:
    """A non-zero error code turns the problem sensor on."""
    heatpump_service.state.error_code = 17
    heatpump_service.poll()
    entry = await _add(hass, heatpump_service)
    assert state_of(hass, entry, "sensor", "error_code") == "17"
    assert state_of(hass, entry, "binary_sensor", "error") == STATE_ON


async def _switch(hass: HomeAssistant, entry: ConfigEntry, service: str) -> None:
    await hass.services.async_call(
        "switch",
        service,
        {ATTR_ENTITY_ID: entity_id(hass, entry, "switch", "power_switch")},
        blocking=True,
    )


async def _poll_later(
    hass: HomeAssistant,
    service: HeatPumpService,
    coordinator: HeatPumpCoordinator,
    seconds: float = 10.0,
) -> None:
    """The service polls the pump, then HA polls the service `seconds` later.

    The coordinator's clock is stepped, so a reading taken after a write is
    recognised as such without waiting.
    """
    service.poll()
    offset = coordinator.clock() - time.monotonic() + seconds
    coordinator.clock = lambda: time.monotonic() + offset
    await coordinator.async_refresh()
    await hass.async_block_till_done()


async def test_power_on_shows_heat_mode_at_once_and_keeps_it(
    hass: HomeAssistant, heatpump_service: HeatPumpService
) -> None:
    """Powering on an Auto unit: on and Heat show at once, and stay when confirmed."""
    heatpump_service.state.is_on = False
    heatpump_service.poll()
    entry = await _add(hass, heatpump_service)
    coordinator = _coordinator(entry)
    assert state_of(hass, entry, "switch", "power_switch") == STATE_OFF
    assert state_of(hass, entry, "select", "mode") == "auto"

    await _switch(hass, entry, SERVICE_TURN_ON)
    assert heatpump_service.state.is_on
    assert heatpump_service.state.op_mode == 4
    assert heatpump_service.served_status is not None
    assert heatpump_service.served_status["is_on"] is False  # not polled yet
    assert state_of(hass, entry, "switch", "power_switch") == STATE_ON
    assert state_of(hass, entry, "select", "mode") == "heat"

    await _poll_later(hass, heatpump_service, coordinator)
    assert state_of(hass, entry, "switch", "power_switch") == STATE_ON
    assert state_of(hass, entry, "binary_sensor", "power") == STATE_ON
    assert state_of(hass, entry, "select", "mode") == "heat"
    assert not coordinator.pending

    await _switch(hass, entry, SERVICE_TURN_OFF)
    assert not heatpump_service.state.is_on
    assert state_of(hass, entry, "switch", "power_switch") == STATE_OFF


async def test_control_undone_by_the_service_shows_the_service_state(
    hass: HomeAssistant, heatpump_service: HeatPumpService
) -> None:
    """The power manager switches it off again: once a poll shows it, HA shows off."""
    heatpump_service.state.is_on = False
    heatpump_service.pin(is_on=False)
    heatpump_service.poll()
    entry = await _add(hass, heatpump_service)
    await _switch(hass, entry, SERVICE_TURN_ON)
    assert ("POST", "/power") in heatpump_service.faults.requests
    assert state_of(hass, entry, "switch", "power_switch") == STATE_ON  # as written
    await _poll_later(hass, heatpump_service, _coordinator(entry))
    assert state_of(hass, entry, "switch", "power_switch") == STATE_OFF
    # ...but the mode change that came with it stuck, and is shown.
    assert state_of(hass, entry, "select", "mode") == "heat"


async def test_target_flow_temperature_in_heat_and_auto_mode(
    hass: HomeAssistant, heatpump_service: HeatPumpService
) -> None:
    """The number is the Heat setpoint; the target sensor is unknown in Auto mode."""
    heatpump_service.state.op_mode = 4
    heatpump_service.poll()
    entry = await _add(hass, heatpump_service)
    assert float(state_of(hass, entry, "sensor", "target_temperature")) == 45.0
    number = entity_id(hass, entry, "number", "target_flow_temperature")
    await hass.services.async_call(
        "number",
        SERVICE_SET_VALUE,
        {ATTR_ENTITY_ID: number, ATTR_VALUE: 50.5},
        blocking=True,
    )
    assert heatpump_service.state.heat_setpoint == 50.5
    assert float(state_of(hass, entry, "number", "target_flow_temperature")) == 50.5

    heatpump_service.state.op_mode = 3
    await _poll_later(hass, heatpump_service, _coordinator(entry))
    # Auto: /status still reports the setpoint register, which Auto ignores.
    assert heatpump_service.served_status is not None
    assert heatpump_service.served_status["target_temperature"] == 50.5
    assert state_of(hass, entry, "sensor", "target_temperature") == STATE_UNKNOWN
    assert float(state_of(hass, entry, "number", "target_flow_temperature")) == 50.5


async def test_auto_mode_offset(
    hass: HomeAssistant, heatpump_service: HeatPumpService
) -> None:
    """The offset number writes a whole number of kelvin."""
    entry = await _add(hass, heatpump_service)
    await hass.services.async_call(
        "number",
        SERVICE_SET_VALUE,
        {
            ATTR_ENTITY_ID: entity_id(hass, entry, "number", "auto_mode_offset"),
            ATTR_VALUE: -3,
        },
        blocking=True,
    )
    assert heatpump_service.state.auto_mode_offset == -3
    assert float(state_of(hass, entry, "number", "auto_mode_offset")) == -3


async def test_mode_select(
    hass: HomeAssistant, heatpump_service: HeatPumpService
) -> None:
    """Heat writes op_mode 4 and the service's default flow temperature; Auto writes 3.

    Both show at once, before the service's next poll.
    """
    entry = await _add(hass, heatpump_service)
    select = entity_id(hass, entry, "select", "mode")
    await hass.services.async_call(
        "select",
        SERVICE_SELECT_OPTION,
        {ATTR_ENTITY_ID: select, ATTR_OPTION: "heat"},
        blocking=True,
    )
    assert heatpump_service.state.op_mode == 4
    assert state_of(hass, entry, "select", "mode") == "heat"
    assert float(state_of(hass, entry, "number", "target_flow_temperature")) == 40.0
    await hass.services.async_call(
        "select",
        SERVICE_SELECT_OPTION,
        {ATTR_ENTITY_ID: select, ATTR_OPTION: "auto"},
        blocking=True,
    )
    assert heatpump_service.state.op_mode == 3
    assert state_of(hass, entry, "select", "mode") == "auto"


async def test_cool_mode_is_shown_as_unknown(
    hass: HomeAssistant, heatpump_service: HeatPumpService
) -> None:
    """Cool (op_mode 0) is not offered: the select shows no option."""
    heatpump_service.state.op_mode = 0
    heatpump_service.poll()
    entry = await _add(hass, heatpump_service)
    assert state_of(hass, entry, "select", "mode") == "unknown"


async def test_refused_control_raises_and_shows_the_service_state(
    hass: HomeAssistant, heatpump_service: HeatPumpService
) -> None:
    """Modbus link down (500 after three tries): a translated error, rolled back."""
    entry = await _add(hass, heatpump_service)
    heatpump_service.link_up = False
    heatpump_service.state.flow_temperature = 47.0
    heatpump_service.poll()
    with pytest.raises(HomeAssistantError, match="Failed to set power"):
        await hass.services.async_call(
            "switch",
            SERVICE_TURN_OFF,
            {ATTR_ENTITY_ID: entity_id(hass, entry, "switch", "power_switch")},
            blocking=True,
        )
    assert heatpump_service.state.is_on
    assert state_of(hass, entry, "switch", "power_switch") == STATE_ON
    assert float(state_of(hass, entry, "sensor", "flow_temperature")) == 47.0


async def test_stale_data_makes_entities_unavailable_until_fresh(
    hass: HomeAssistant,
    heatpump_service: HeatPumpService,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """/health says 503 long enough (150 s): unavailable, one log line, back when fresh."""
    entry = await _add(hass, heatpump_service)
    coordinator = _coordinator(entry)
    heatpump_service.make_stale(age=150)
    caplog.clear()
    for _ in range(3):
        await coordinator.async_refresh()
    await hass.async_block_till_done()
    assert state_of(hass, entry, "sensor", "flow_temperature") == STATE_UNAVAILABLE
    assert state_of(hass, entry, "switch", "power_switch") == STATE_UNKNOWN
    assert float(state_of(hass, entry, "sensor", "status_age")) >= 150
    lines = error_lines(caplog)
    assert len(lines) == 1
    assert "150 s old" in lines[0]

    heatpump_service.heal()
    with caplog.at_level(logging.INFO):
        await coordinator.async_refresh()
    await hass.async_block_till_done()
    assert state_of(hass, entry, "sensor", "flow_temperature") == "45.0"
    assert any("answers again" in record.getMessage() for record in caplog.records)


@pytest.mark.parametrize(
    ("fault", "logged"),
    [
        (FaultKind.SERVER_ERROR, "HTTP 500"),
        (FaultKind.HTML, "HTML"),
        (FaultKind.TRUNCATED, "malformed JSON"),
        (FaultKind.SLOW, "no answer"),
    ],
)
async def test_failing_service_unavailable_one_log_line_then_recovery(  # noqa: PLR0917 (fixtures and parameters)
    hass: HomeAssistant,
    heatpump_service: HeatPumpService,
    fast_timeout: float,
    caplog: pytest.LogCaptureFixture,
    fault: FaultKind,
    logged: str,
) -> None:
    """500, HTML, truncated JSON, timeout: unavailable, logged once, then healed."""
    entry = await _add(hass, heatpump_service)
    coordinator = _coordinator(entry)
    caplog.clear()
    heatpump_service.faults.inject(fault, paths={"/status"}, delay=fast_timeout * 2)
    for _ in range(3):
        await coordinator.async_refresh()
    await hass.async_block_till_done()
    for platform, key in [
        ("sensor", "flow_temperature"),
        ("binary_sensor", "compressor"),
        ("sensor", "thermal_power"),
    ]:
        assert state_of(hass, entry, platform, key) == STATE_UNAVAILABLE, key
    # Controls stay callable, their state unknown; /health still answers.
    for platform, key in [
        ("switch", "power_switch"),
        ("number", "target_flow_temperature"),
        ("select", "mode"),
    ]:
        assert state_of(hass, entry, platform, key) == STATE_UNKNOWN, key
    assert float(state_of(hass, entry, "sensor", "status_age")) >= 0
    lines = error_lines(caplog)
    assert len(lines) == 1, lines
    assert logged in lines[0]
    assert (
        not [  # a message, not a stack trace, at warning level and above
            record
            for record in caplog.records
            if record.levelno >= logging.WARNING and record.exc_info
        ]
    )

    heatpump_service.faults.clear()
    heatpump_service.state.flow_temperature = 44.0
    heatpump_service.poll()
    await coordinator.async_refresh()
    await hass.async_block_till_done()
    assert float(state_of(hass, entry, "sensor", "flow_temperature")) == 44.0
    assert len(error_lines(caplog)) == 1


async def test_refused_token_starts_reauth(
    hass: HomeAssistant,
    heatpump_service: HeatPumpService,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A proxy starts demanding a token: unavailable, one log line, a reauth flow."""
    entry = await _add(hass, heatpump_service)
    coordinator = _coordinator(entry)
    caplog.clear()
    heatpump_service.faults.token = "s3cret"
    for _ in range(3):
        await coordinator.async_refresh()
    await hass.async_block_till_done()
    assert state_of(hass, entry, "sensor", "flow_temperature") == STATE_UNAVAILABLE
    assert len(error_lines(caplog)) == 1
    flows = [
        flow
        for flow in hass.config_entries.flow.async_progress_by_handler(DOMAIN)
        if flow["context"]["source"] == SOURCE_REAUTH
    ]
    assert len(flows) == 1

    result = await hass.config_entries.flow.async_configure(
        flows[0]["flow_id"], {"access_token": "s3cret"}
    )
    assert result["type"] == "abort"
    assert result["reason"] == "reauth_successful"
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert entry.data["access_token"] == "s3cret"
    assert state_of(hass, entry, "sensor", "flow_temperature") == "45.0"


async def test_control_refused_by_token_starts_reauth(
    hass: HomeAssistant, heatpump_service: HeatPumpService
) -> None:
    """A write answered 401: a translated error and a reauth flow."""
    entry = await _add(hass, heatpump_service)
    heatpump_service.faults.token = "new"
    with pytest.raises(HomeAssistantError, match="token"):
        await hass.services.async_call(
            "switch",
            SERVICE_TURN_OFF,
            {ATTR_ENTITY_ID: entity_id(hass, entry, "switch", "power_switch")},
            blocking=True,
        )
    await hass.async_block_till_done()
    assert any(
        flow["context"]["source"] == SOURCE_REAUTH
        for flow in hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    )


async def test_service_not_ready_retries_setup(
    hass: HomeAssistant, heatpump_service: HeatPumpService
) -> None:
    """Before its first poll the service answers 500: setup is retried, then works."""
    entry = await _add(hass, heatpump_service)
    await hass.config_entries.async_unload(entry.entry_id)
    fresh = HeatPumpService(host="127.0.0.1", port=0, polled=False)
    await fresh.start()
    try:
        hass.config_entries.async_update_entry(
            entry, data={**entry.data, "url": fresh.url}
        )
        await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
        assert entry.state is ConfigEntryState.SETUP_RETRY
        fresh.poll()
        await hass.config_entries.async_reload(entry.entry_id)
        await hass.async_block_till_done()
        assert entry.state is ConfigEntryState.LOADED
        await hass.config_entries.async_unload(entry.entry_id)
    finally:
        await fresh.stop()


async def test_unload_and_diagnostics(
    hass: HomeAssistant, heatpump_service: HeatPumpService
) -> None:
    """Diagnostics redact the URL and token; the entry unloads cleanly."""
    heatpump_service.faults.token = "Zq9-secret-token"
    entry = await _add(hass, heatpump_service, access_token="Zq9-secret-token")
    diagnostics = await async_get_config_entry_diagnostics(hass, entry)
    assert diagnostics["entry"]["data"]["url"] == "**REDACTED**"
    assert diagnostics["entry"]["data"]["access_token"] == "**REDACTED**"
    assert diagnostics["entry"]["kind"] == "heat_pump"
    assert json.loads(json.dumps(diagnostics)) == diagnostics  # plain JSON
    assert diagnostics["data"]["status"]["flow_temperature"] == 45.0
    assert "Zq9-secret-token" not in str(diagnostics)
    assert heatpump_service.url not in str(diagnostics)
    assert await hass.config_entries.async_unload(entry.entry_id)
    assert entry.state is ConfigEntryState.NOT_LOADED
