"""The HTTP meter, set up through the real flow against a simulated endpoint on 127.0.0.1."""

import logging
from typing import Any

from homeassistant.components.sensor import ATTR_STATE_CLASS, SensorStateClass
from homeassistant.config_entries import (
    SOURCE_RECONFIGURE,
    ConfigEntry,
    ConfigEntryState,
)
from homeassistant.const import (
    ATTR_DEVICE_CLASS,
    ATTR_UNIT_OF_MEASUREMENT,
    STATE_UNAVAILABLE,
)
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.energy_meters.const import DOMAIN
from custom_components.energy_meters.diagnostics import (
    async_get_config_entry_diagnostics,
)
from simulator.http_meter import HttpMeter
from tests.companions_fixtures import fixture_fast_timeout  # noqa: F401
from tests.helpers import free_port
from tests.single_meter_fixtures import (  # noqa: F401
    EXACT,
    async_add_http_meter,
    fixture_http_meter,
    http_form,
    start_http_flow,
)

POWER = "sensor.garage_meter_power"
ENERGY = "sensor.garage_meter_energy"


def _state(hass: HomeAssistant, entity_id: str) -> Any:
    state = hass.states.get(entity_id)
    assert state is not None, entity_id
    return state


async def _poll(hass: HomeAssistant, entry: ConfigEntry, times: int = 1) -> None:
    for _ in range(times):
        await entry.runtime_data.async_refresh()
        await hass.async_block_till_done()


async def test_every_value_reaches_its_entity_with_its_unit(
    hass: HomeAssistant, http_meter: HttpMeter
) -> None:
    """power_kw becomes W; energy is a total_increasing kWh sensor for the dashboard."""
    entry = await async_add_http_meter(hass, http_meter.url)
    assert not entry.supports_options  # changed through Reconfigure
    power = _state(hass, POWER)
    assert float(power.state) == 1500.0
    assert power.attributes[ATTR_UNIT_OF_MEASUREMENT] == "W"
    energy = _state(hass, ENERGY)
    assert float(energy.state) == 100.25
    assert energy.attributes[ATTR_UNIT_OF_MEASUREMENT] == "kWh"
    assert energy.attributes[ATTR_DEVICE_CLASS] == "energy"
    assert energy.attributes[ATTR_STATE_CLASS] == SensorStateClass.TOTAL_INCREASING
    assert float(_state(hass, "sensor.garage_meter_voltage").state) == 230.1
    assert float(_state(hass, "sensor.garage_meter_current").state) == 6.5
    assert float(_state(hass, "sensor.garage_meter_power_factor").state) == 0.95
    assert float(_state(hass, "sensor.garage_meter_frequency").state) == 50.01
    assert http_meter.last_method == "GET"


async def test_alternate_names_in_the_chosen_units(
    hass: HomeAssistant, socket_enabled: None
) -> None:
    """ActivePower and totalEnergy, bare, are read in the units the user chose."""
    meter = HttpMeter(host="127.0.0.1", port=0, shape="alternate")
    meter.override = {"activePower": 2.2, "totalEnergy": 4321.0, "voltage": 229.0}
    await meter.start()
    try:
        await async_add_http_meter(
            hass, meter.url, power_unit="kW", energy_unit="Wh", method="POST"
        )
        assert float(_state(hass, POWER).state) == 2200.0
        assert float(_state(hass, ENERGY).state) == 4.321
        assert meter.last_method == "POST"
        # Fields the endpoint never sends are unknown, not 0.
        assert _state(hass, "sensor.garage_meter_frequency").state == "unknown"
    finally:
        await meter.stop()


async def test_other_shapes_need_paths_and_the_form_shows_the_answer(
    hass: HomeAssistant, socket_enabled: None
) -> None:
    """Other shapes need paths and the form shows the answer."""
    meter = HttpMeter(host="127.0.0.1", port=0, shape="nested")
    meter.override = {"p": 640.0, "e": 98765.0}
    await meter.start()
    try:
        result = await start_http_flow(hass)
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], http_form(meter.url)
        )
        assert result["type"] is FlowResultType.FORM
        assert result["errors"] == {"base": "no_values"}
        # The user sees what came back, to write the paths from.
        assert (
            '"readings": {"p": 640.0' in result["description_placeholders"]["response"]
        )
        paths = {
            "power_path": "data.meters[0].readings.p",
            "energy_path": "$.data.meters[0].readings.e",
        }
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"],
            http_form(meter.url, energy_unit="Wh", json_paths=paths),
        )
        assert result["type"] is FlowResultType.CREATE_ENTRY, result
        await hass.async_block_till_done()
        assert float(_state(hass, POWER).state) == 640.0
        assert float(_state(hass, ENERGY).state) == 98.765
        # Only the fields with a path are entities.
        assert hass.states.get("sensor.garage_meter_voltage") is None
    finally:
        await meter.stop()


async def test_token_and_headers_are_sent(
    hass: HomeAssistant, socket_enabled: None
) -> None:
    """Token and headers are sent."""
    meter = HttpMeter(host="127.0.0.1", port=0, token="s3cret")
    meter.override = dict(EXACT)
    await meter.start()
    try:
        result = await start_http_flow(hass)
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], http_form(meter.url)
        )
        assert result["errors"] == {"base": "invalid_auth"}
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"],
            http_form(meter.url, access_token="s3cret", headers="X-Api-Key: k-42"),
        )
        assert result["type"] is FlowResultType.CREATE_ENTRY, result
        await hass.async_block_till_done()
        assert meter.last_headers is not None
        assert meter.last_headers["Authorization"] == "Bearer s3cret"
        assert meter.last_headers["X-Api-Key"] == "k-42"
        diagnostics = await async_get_config_entry_diagnostics(hass, result["result"])
        assert diagnostics["entry"]["data"]["access_token"] == "**REDACTED**"
        assert diagnostics["entry"]["data"]["url"] == "**REDACTED**"
        assert diagnostics["published"]["power_total"] == 1500.0
    finally:
        await meter.stop()


@pytest.mark.usefixtures("fast_timeout")
@pytest.mark.parametrize(
    ("fault", "error", "shown"),
    [
        ("status_500", "http_error", "meter offline"),
        ("html", "http_invalid_response", "<"),
        ("truncated", "http_invalid_response", '{"power_kw"'),
        ("not_a_number", "no_values", "n/a"),
        ("silence", "http_unreachable", ""),
    ],
)
async def test_each_broken_answer_has_its_error(
    hass: HomeAssistant, http_meter: HttpMeter, fault: str, error: str, shown: str
) -> None:
    """The flow stays open with a clear error; nothing is created."""
    http_meter.fail(fault, delay=2.0)
    result = await start_http_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], http_form(http_meter.url)
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": error}
    placeholders = result["description_placeholders"]
    assert shown in placeholders["response"] + placeholders["error"]
    assert not hass.config_entries.async_entries(DOMAIN)
    # Healed, the same form goes through.
    http_meter.clear()
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], http_form(http_meter.url)
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY


@pytest.mark.parametrize(
    ("extra", "errors"),
    [
        ({"url": "ftp://example"}, {"url": "invalid_url"}),
        ({"headers": "no colon"}, {"headers": "invalid_headers"}),
        ({"json_paths": {"power_path": "a..b"}}, {"json_paths": "invalid_path"}),
    ],
)
async def test_form_mistakes_are_named_before_anything_is_sent(
    hass: HomeAssistant, http_meter: HttpMeter, extra: dict[str, Any], errors: Any
) -> None:
    """Form mistakes are named before anything is sent."""
    result = await start_http_flow(hass)
    form = http_form(http_meter.url)
    form.update(extra)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], form)
    assert result["errors"] == errors
    assert http_meter.requests == 0


async def test_nothing_listening(hass: HomeAssistant, socket_enabled: None) -> None:
    """Nothing listening."""
    result = await start_http_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], http_form(f"http://127.0.0.1:{free_port()}/meter")
    )
    assert result["errors"] == {"base": "http_unreachable"}
    assert "cannot reach" in result["description_placeholders"]["error"]


async def test_same_endpoint_twice_is_refused(
    hass: HomeAssistant, http_meter: HttpMeter
) -> None:
    """Same endpoint twice is refused."""
    await async_add_http_meter(hass, http_meter.url)
    result = await start_http_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], http_form(http_meter.url)
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "meter_already_configured"


async def test_failures_keep_the_values_then_unavailable_then_recover(
    hass: HomeAssistant, http_meter: HttpMeter, caplog: pytest.LogCaptureFixture
) -> None:
    """Two failed polls change nothing on screen; the third blanks it; one log line each way."""
    entry = await async_add_http_meter(hass, http_meter.url)
    http_meter.fail("status_500")
    with caplog.at_level(logging.INFO):
        await _poll(hass, entry, 2)
        assert float(_state(hass, POWER).state) == 1500.0
        await _poll(hass, entry)
        assert _state(hass, POWER).state == STATE_UNAVAILABLE
        await _poll(hass, entry, 2)
        http_meter.clear()
        http_meter.override["power_kw"] = 1.6
        await _poll(hass, entry)
    assert float(_state(hass, POWER).state) == 1600.0
    lost = [r for r in caplog.records if "did not answer 3 polls" in r.getMessage()]
    back = [r for r in caplog.records if "is answering again" in r.getMessage()]
    assert len(lost) == 1
    assert "HTTP 500" in lost[0].getMessage()
    assert len(back) == 1


@pytest.mark.usefixtures("fast_timeout")
async def test_garbage_answers_change_nothing(
    hass: HomeAssistant, http_meter: HttpMeter
) -> None:
    """HTML, a cut body, "n/a", a timeout or a 500 is a failed poll, never a 0."""
    entry = await async_add_http_meter(hass, http_meter.url)
    for fault in ("html", "truncated", "not_a_number", "silence", "status_500"):
        http_meter.fail(fault, count=1, delay=2.0)
        http_meter.override["power_kw"] = 1.55
        await _poll(hass, entry)
        assert float(_state(hass, POWER).state) == 1500.0
        assert float(_state(hass, ENERGY).state) == 100.25
        http_meter.override["power_kw"] = 1.5
        await _poll(hass, entry)  # a good answer between two bad ones
    assert entry.runtime_data.status.rejected_total == 5


async def test_energy_never_goes_down(
    hass: HomeAssistant, http_meter: HttpMeter
) -> None:
    """Energy never goes down."""
    entry = await async_add_http_meter(hass, http_meter.url)
    http_meter.override["energy_kwh"] = 3.0  # a glitch, or a meter swapped
    await _poll(hass, entry)
    assert float(_state(hass, ENERGY).state) == 100.25
    http_meter.override["energy_kwh"] = 100.26
    await _poll(hass, entry)
    assert float(_state(hass, ENERGY).state) == 100.26


async def test_down_at_start_retries_and_recovers(
    hass: HomeAssistant, http_meter: HttpMeter
) -> None:
    """Down at start retries and recovers."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Garage meter",
        data={"kind": "http_meter", "url": http_meter.url, "method": "GET"},
    )
    entry.add_to_hass(hass)
    http_meter.fail("status_500")
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.SETUP_RETRY
    assert "HTTP 500" in str(entry.reason)
    http_meter.clear()
    await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert float(_state(hass, POWER).state) == 1500.0


async def test_reconfigure_keeps_the_entities(
    hass: HomeAssistant, http_meter: HttpMeter, socket_enabled: None
) -> None:
    """Reconfigure keeps the entities."""
    entry = await async_add_http_meter(hass, http_meter.url)
    other = HttpMeter(host="127.0.0.1", port=0)
    other.override = {**EXACT, "power_kw": 0.7}
    await other.start()
    try:
        result: Any = await hass.config_entries.flow.async_init(
            DOMAIN, context={"source": SOURCE_RECONFIGURE, "entry_id": entry.entry_id}
        )
        assert result["step_id"] == "reconfigure_http"
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], http_form(other.url, scan_interval=60)
        )
        assert result["type"] is FlowResultType.ABORT
        assert result["reason"] == "standalone_reconfigured"
        await hass.async_block_till_done()
        assert entry.data["url"] == other.url
        assert entry.data["scan_interval"] == 60
        assert float(_state(hass, POWER).state) == 700.0
    finally:
        await other.stop()
