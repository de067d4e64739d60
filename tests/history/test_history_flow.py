"""The gateway's "Import history": form, preview per month, import in the background."""

from typing import Any

from homeassistant.components import persistent_notification
from homeassistant.components.recorder import Recorder
from homeassistant.config_entries import SOURCE_USER
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
)

from devtools.old_stack import OldYear, Store
from simulator.server import ModbusSimulator
from tests.helpers import async_add_gateway

ENERGY = "sensor.heat_pump_meter_energy_import"


async def test_import_history_from_the_gateway_entry(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    simulator: ModbusSimulator,
    prometheus: Store,
    year: OldYear,
) -> None:
    """Wrong address first (said on the form), then a preview, then the import."""
    entry = await async_add_gateway(hass, simulator)
    device = er.async_get(hass).async_get(ENERGY)
    assert device is not None
    result: Any = await hass.config_entries.subentries.async_init(
        (entry.entry_id, "history"), context={"source": SOURCE_USER}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "user"
    form = {
        "meter": device.device_id,
        "source": "prometheus",
        "url": "http://127.0.0.1:9",
        "step": 300,
    }
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], form
    )
    assert result["errors"] == {"base": "cannot_connect"}

    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {**form, "url": prometheus.url}
    )
    assert result["step_id"] == "preview"
    table = result["description_placeholders"]["table"]
    assert table.count("\n") >= 13  # header, rule and the months
    # The reset's month, then the glitch's: one of each per counter (total, L1).
    assert "| 0 | 2 | 0 |" in table
    assert "| 0 | 0 | 2 |" in table

    result = await hass.config_entries.subentries.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "import_started"
    await hass.async_block_till_done(wait_background_tasks=True)
    await async_wait_recording_done(hass)
    notifications = persistent_notification._async_get_or_create_notifications(hass)
    (notice,) = notifications.values()
    assert "History imported" in notice["title"]
    assert ENERGY in notice["message"]
    assert not entry.subentries.keys() - {
        sub.subentry_id
        for sub in entry.subentries.values()
        if sub.subentry_type == "meter"
    }
