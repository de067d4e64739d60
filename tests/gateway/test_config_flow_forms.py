"""The meter forms as the frontend fills them: defaults accepted, values kept.

The frontend fills a form from the schema the flow sends and refuses to submit
while a required field is empty (tests/frontend_form.py ports both from its
code). A section sent with a `default` of its own hides the defaults inside it:
then a user who only types the host cannot add a meter. Each test here submits
exactly what the frontend would, never data the test made up; the browser suite
(tests/browser) does the same in the real frontend.
"""

from typing import Any

from homeassistant.config_entries import SOURCE_RECONFIGURE, SOURCE_USER
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
import pytest

from custom_components.energy_meters.const import DOMAIN, SUBENTRY_METER
from custom_components.energy_meters.single_meters.flow import (
    GUARD_SCHEMA,
    HTTP_SCHEMA,
    MQTT_SCHEMA,
)
from simulator.server import ModbusSimulator
from tests.frontend_form import all_required_filled, initial_data, serialized
from tests.helpers import async_add_gateway

DOCUMENTED_DEFAULTS = {
    "max_power_kw": 50.0,
    "confirmations": 2,
    "load_idle_w": 50.0,
    "load_medium_kw": 1.0,
    "load_high_kw": 2.0,
    "frequency_min": 49.8,
    "frequency_max": 50.2,
    "power_factor_min": 0.85,
    "fast_group": "by_role",
    "fast_interval": 1,
}


def _as_frontend_fills(result: Any, **typed: Any) -> dict[str, Any]:
    """The form's data after the user typed `typed` into it.

    Fails if the frontend would refuse to submit it.
    """
    fields = serialized(result["data_schema"])
    data = {**initial_data(fields), **typed}
    assert all_required_filled(fields, data), data
    return data


async def _first_meter_form(hass: HomeAssistant, port: int, wait: float = 1) -> Any:
    result: Any = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "gateway"}
    )
    gateway = _as_frontend_fills(result, host="127.0.0.1", port=port, timeout=wait)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], gateway)
    assert result["step_id"] == "meter"
    return result


async def test_first_meter_with_every_default(
    hass: HomeAssistant, simulator: ModbusSimulator
) -> None:
    """Host and port typed, everything else as the form comes: the documented defaults."""
    result = await _first_meter_form(hass, simulator.port)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], _as_frontend_fills(result)
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY, result
    await hass.async_block_till_done()
    (subentry,) = result["result"].subentries.values()
    assert subentry.title == "Energy meter"
    assert dict(subentry.data) == {
        "unit_id": 1,
        "profile": "wago_879_30xx",
        "role": "zone",
        **DOCUMENTED_DEFAULTS,
    }


async def test_add_meter_with_every_default(
    hass: HomeAssistant, simulator: ModbusSimulator
) -> None:
    """The "Add meter" form with only the unit id changed."""
    entry = await async_add_gateway(hass, simulator)
    result: Any = await hass.config_entries.subentries.async_init(
        (entry.entry_id, SUBENTRY_METER), context={"source": SOURCE_USER}
    )
    data = _as_frontend_fills(result)
    data["unit_id"] = 2
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], data
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY, result
    await hass.async_block_till_done()


async def test_an_error_keeps_what_was_typed(
    hass: HomeAssistant, simulator: ModbusSimulator
) -> None:
    """A silent unit id: the form comes back with every typed value, sections too."""
    result = await _first_meter_form(hass, simulator.port, wait=0.5)
    typed = _as_frontend_fills(result)
    typed.update(unit_id=9, name="Workshop")
    typed["signals"] = {**typed["signals"], "load_high_kw": 7.5}
    typed["data_quality"] = {**typed["data_quality"], "max_power_kw": 11.0}
    result = await hass.config_entries.flow.async_configure(result["flow_id"], typed)
    assert result["errors"] == {"unit_id": "no_response"}
    assert _as_frontend_fills(result) == typed


async def test_reconfigure_shows_the_current_values(
    hass: HomeAssistant, simulator: ModbusSimulator
) -> None:
    """The meter's own thresholds, not the defaults, fill the reconfigure form."""
    entry = await async_add_gateway(hass, simulator)
    (subentry,) = entry.subentries.values()
    changed = {
        "unit_id": 1,
        "profile": "wago_879_30xx",
        "name": "Heat pump meter",
        "role": "heat_pump",
        "signals": {
            "load_idle_w": 20.0,
            "load_medium_kw": 1.5,
            "load_high_kw": 4.0,
            "frequency_min": 49.9,
            "frequency_max": 50.1,
            "power_factor_min": 0.9,
        },
        "data_quality": {"max_power_kw": 11.0, "confirmations": 3},
        "read_rates": {"fast_group": "power", "fast_interval": 2},
    }

    async def reconfigure() -> Any:
        return await hass.config_entries.subentries.async_init(
            (entry.entry_id, SUBENTRY_METER),
            context={"source": SOURCE_RECONFIGURE, "subentry_id": subentry.subentry_id},
        )

    result = await reconfigure()
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], changed
    )
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()
    assert _as_frontend_fills(await reconfigure()) == changed


@pytest.mark.parametrize(
    ("schema", "typed"),
    [
        (MQTT_SCHEMA, {"power_topic": "meter/power"}),
        (HTTP_SCHEMA, {"url": "http://127.0.0.1:8003/"}),
        (GUARD_SCHEMA, {"source_entity_id": "sensor.solar_power"}),
    ],
)
def test_other_meter_forms_submit_with_their_defaults(
    schema: Any, typed: dict[str, Any]
) -> None:
    """The MQTT, HTTP and guard forms have sections too: their defaults must show."""
    data = _as_frontend_fills({"data_schema": schema}, **typed)
    assert data["data_quality"] == {"max_power_kw": 50.0, "confirmations": 2}


async def test_german_default_name(
    hass: HomeAssistant, simulator: ModbusSimulator
) -> None:
    """The default name is a value, so it is made in Home Assistant's language."""
    hass.config.language = "de"
    result = await _first_meter_form(hass, simulator.port)
    data = _as_frontend_fills(result)
    assert data["name"] == "Energiezähler"
    (profile,) = (
        field
        for field in serialized(result["data_schema"])
        if field["name"] == "profile"
    )
    assert profile["selector"]["select"]["translation_key"] == "profile"
