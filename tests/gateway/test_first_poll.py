"""The first reading after setup, reload or restart is checked like any other.

A gateway that answers zeros after a reboot, or a garbled first block, used to
become the counter's baseline: the true 1200.25 kWh that followed looked like
a replaced meter, an offset of -1200.25 was stored and the sensor stayed at 0
for good, with a repair saying the meter was swapped. Here the simulator (a
real pymodbus server) serves 0.0 on the energy counter for exactly one poll.
"""

from typing import Any

from homeassistant.config_entries import ConfigEntry, ConfigSubentryData
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.energy_meters.const import DOMAIN, SUBENTRY_METER
from custom_components.energy_meters.meterlib.model import Quantity
from simulator.server import ModbusSimulator
from tests.helpers import async_add_gateway

ENERGY = "sensor.heat_pump_energy_import"
TRUE_KWH = 1200.25


def _states(hass: HomeAssistant) -> str | None:
    state = hass.states.get(ENERGY)
    return None if state is None else state.state


async def _poll(hass: HomeAssistant, entry: ConfigEntry) -> None:
    """One poll now (the counter stays put: a rise needs no time to be plausible)."""
    await entry.runtime_data.async_refresh()
    await hass.async_block_till_done()


def _stored_counter(
    hass_storage: dict[str, Any], entry: ConfigEntry
) -> dict[str, float]:
    """The energy counter as saved in .storage (offset and last raw reading)."""
    saved = hass_storage[f"{DOMAIN}.{entry.entry_id}.counters"]["data"]
    (meter,) = saved.values()
    counter: dict[str, float] = meter[str(Quantity.ENERGY_IMPORT_TOTAL)]
    return counter


def _counter_issues(hass: HomeAssistant) -> list[str]:
    return [
        issue_id
        for (domain, issue_id) in ir.async_get(hass).issues
        if domain == DOMAIN and "counter" in issue_id
    ]


async def test_zero_on_the_very_first_poll_never_becomes_the_baseline(
    hass: HomeAssistant, simulator: ModbusSimulator, hass_storage: dict[str, Any]
) -> None:
    """A gateway entry set up from its saved data (no test read): 0.0 first, then true."""
    meter = simulator.meters[0]
    meter.set_value(Quantity.ENERGY_IMPORT_TOTAL, 0.0)
    entry = MockConfigEntry(
        domain=DOMAIN,
        title=f"127.0.0.1:{simulator.port}",
        unique_id=f"127.0.0.1:{simulator.port}",
        data={
            "host": "127.0.0.1",
            "port": simulator.port,
            "framing": "tcp",
            "timeout": 1.0,
        },
        options={"scan_interval": 10},
        subentries_data=[
            ConfigSubentryData(
                data={"unit_id": 1, "profile": "wago_879_30xx"},
                subentry_type=SUBENTRY_METER,
                title="Heat pump",
                unique_id="1",
            )
        ],
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    seen = [_states(hass)]
    meter.set_value(Quantity.ENERGY_IMPORT_TOTAL, TRUE_KWH)
    for _ in range(4):
        await _poll(hass, entry)
        seen.append(_states(hass))
    assert "0.0" not in seen, seen
    assert "0" not in seen, seen
    assert float(seen[-1] or 0) == pytest.approx(TRUE_KWH, abs=0.01), seen
    await hass.config_entries.async_unload(entry.entry_id)
    assert _stored_counter(hass_storage, entry)["offset"] == 0.0
    assert _counter_issues(hass) == []


async def test_zero_on_the_first_poll_after_a_restart(
    hass: HomeAssistant, simulator: ModbusSimulator, hass_storage: dict[str, Any]
) -> None:
    """With stored counters, a zero after a reload is a drop and is held back."""
    meter = simulator.meters[0]
    meter.set_value(Quantity.ENERGY_IMPORT_TOTAL, TRUE_KWH)
    entry = await async_add_gateway(hass, simulator, name="Heat pump")
    await _poll(hass, entry)
    assert float(_states(hass) or 0) == pytest.approx(TRUE_KWH, abs=0.01)
    meter.set_value(Quantity.ENERGY_IMPORT_TOTAL, 0.0)
    await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    seen = [_states(hass)]
    meter.set_value(Quantity.ENERGY_IMPORT_TOTAL, TRUE_KWH)
    for _ in range(4):
        await _poll(hass, entry)
        seen.append(_states(hass))
    assert all(
        state is None or float(state) >= TRUE_KWH - 0.01
        for state in seen
        if state not in ("unknown", "unavailable")
    ), seen
    assert float(seen[-1] or 0) == pytest.approx(TRUE_KWH, abs=0.01), seen
    await hass.config_entries.async_unload(entry.entry_id)
    assert _stored_counter(hass_storage, entry)["offset"] == 0.0
    assert _counter_issues(hass) == []


async def test_a_glitch_in_the_setup_dialogs_test_read_is_no_baseline(
    hass: HomeAssistant, simulator: ModbusSimulator, hass_storage: dict[str, Any]
) -> None:
    """The dialog read 0.0 (the glitch), every poll after it the true counter."""
    meter = simulator.meters[0]
    # The first poll runs right after the dialog's read, inside the same step:
    # the simulator serves the glitch once, to whichever read comes first.
    meter.faults.inject("zero", quantity=Quantity.ENERGY_IMPORT_TOTAL, count=1)
    meter.set_value(Quantity.ENERGY_IMPORT_TOTAL, TRUE_KWH)
    entry = await async_add_gateway(hass, simulator, name="Heat pump")
    seen = [_states(hass)]
    for _ in range(3):
        await _poll(hass, entry)
        seen.append(_states(hass))
    assert "0.0" not in seen, seen
    assert float(seen[-1] or 0) == pytest.approx(TRUE_KWH, abs=0.01), seen
    await hass.config_entries.async_unload(entry.entry_id)
    assert _stored_counter(hass_storage, entry)["offset"] == 0.0
    assert _counter_issues(hass) == []


async def test_the_setup_dialogs_read_lets_the_first_poll_publish(
    hass: HomeAssistant, simulator: ModbusSimulator, hass_storage: dict[str, Any]
) -> None:
    """No glitch: the first poll agrees with the dialog's read and is shown at once."""
    simulator.meters[0].set_value(Quantity.ENERGY_IMPORT_TOTAL, TRUE_KWH)
    entry = await async_add_gateway(hass, simulator, name="Heat pump")
    assert float(_states(hass) or 0) == pytest.approx(TRUE_KWH, abs=0.01)
    await hass.config_entries.async_unload(entry.entry_id)
    assert _stored_counter(hass_storage, entry)["offset"] == 0.0
