"""The gateway coordinator against the simulator: polling, failures, recovery."""

import asyncio
import logging
from typing import Any

from homeassistant.config_entries import ConfigEntryState, ConfigSubentryData
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.energy_meters.const import DOMAIN, SUBENTRY_METER
from simulator.rs485 import LineSettings, Rs485Line
from simulator.server import ModbusSimulator
from tests.helpers import async_add_gateway, free_port, wago_meter


def _entry(port: int, meters: list[tuple[int, str, str]]) -> MockConfigEntry:
    """A gateway entry with meter subentries, as the flow would store it."""
    return MockConfigEntry(
        domain=DOMAIN,
        title=f"127.0.0.1:{port}",
        unique_id=f"127.0.0.1:{port}",
        data={"host": "127.0.0.1", "port": port, "framing": "tcp", "timeout": 0.5},
        options={"scan_interval": 10},
        subentries_data=[
            ConfigSubentryData(
                data={"unit_id": unit, "profile": profile},
                subentry_type=SUBENTRY_METER,
                title=title,
                unique_id=str(unit),
            )
            for unit, profile, title in meters
        ],
    )


async def test_gateway_down_at_start_retries(
    hass: HomeAssistant, socket_enabled: None
) -> None:
    """Nothing answers: setup is retried later instead of creating dead entities."""
    entry = _entry(free_port(), [(1, "wago_879_30xx", "Meter")])
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is ConfigEntryState.SETUP_RETRY


async def test_unavailable_only_after_several_failed_polls(
    hass: HomeAssistant, simulator: ModbusSimulator, caplog: pytest.LogCaptureFixture
) -> None:
    """Two lost polls keep the last values; the third turns them unavailable; it recovers."""
    entry = await async_add_gateway(hass, simulator, name="Heat pump")
    coordinator = entry.runtime_data
    before = hass.states.get("sensor.heat_pump_power")
    assert before is not None
    port = simulator.port
    await simulator.stop()
    caplog.set_level(logging.INFO)
    for _ in range(2):
        await coordinator.async_refresh()
        await hass.async_block_till_done()
        state = hass.states.get("sensor.heat_pump_power")
        assert state is not None
        assert state.state == before.state
    await coordinator.async_refresh()
    await hass.async_block_till_done()
    state = hass.states.get("sensor.heat_pump_power")
    assert state is not None
    assert state.state == STATE_UNAVAILABLE
    await coordinator.async_refresh()
    assert caplog.text.count("did not answer 3 polls in a row") == 1

    restarted = ModbusSimulator([wago_meter(1)], host="127.0.0.1", port=port)
    await restarted.start()
    try:
        await coordinator.async_refresh()
        await hass.async_block_till_done()
        state = hass.states.get("sensor.heat_pump_power")
        assert state is not None
        assert state.state != STATE_UNAVAILABLE
        assert caplog.text.count("is answering again") == 1
    finally:
        await hass.config_entries.async_unload(entry.entry_id)
        await restarted.stop()


async def test_silent_meter_does_not_blank_its_neighbour(
    hass: HomeAssistant, simulator: ModbusSimulator
) -> None:
    """Unit 9 never answers; unit 1 behind the same gateway keeps updating."""
    entry = _entry(
        simulator.port, [(1, "wago_879_30xx", "Alive"), (9, "wago_879_30xx", "Ghost")]
    )
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    alive = hass.states.get("sensor.alive_power")
    assert alive is not None
    assert alive.state != STATE_UNAVAILABLE
    ghost = hass.states.get("sensor.ghost_power")
    assert ghost is not None
    assert ghost.state == STATE_UNAVAILABLE
    await entry.runtime_data.async_refresh()
    assert hass.states.get("sensor.alive_power").state != STATE_UNAVAILABLE  # type: ignore[union-attr]


async def test_unknown_profile_skips_only_that_meter(
    hass: HomeAssistant, simulator: ModbusSimulator
) -> None:
    """A meter whose profile file was removed gets no entities; the rest work."""
    entry = _entry(
        simulator.port, [(1, "wago_879_30xx", "Known"), (2, "deleted_profile", "Lost")]
    )
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert hass.states.get("sensor.known_power") is not None
    assert hass.states.get("sensor.lost_power") is None
    assert entry.runtime_data.missing_profiles == {
        next(
            s.subentry_id for s in entry.subentries.values() if s.title == "Lost"
        ): "deleted_profile"
    }


async def test_unload_closes_the_connection(
    hass: HomeAssistant, simulator: ModbusSimulator
) -> None:
    """Unloading leaves no connection and no entities behind."""
    entry = await async_add_gateway(hass, simulator)
    transport = entry.runtime_data.transport
    assert transport._client is not None
    assert await hass.config_entries.async_unload(entry.entry_id)
    assert entry.state is ConfigEntryState.NOT_LOADED
    assert transport._client is None
    state = hass.states.get("sensor.heat_pump_meter_power")
    assert state is not None
    assert state.state == STATE_UNAVAILABLE


async def test_removing_the_gateway_forgets_its_counters(
    hass: HomeAssistant, simulator: ModbusSimulator, hass_storage: dict[str, Any]
) -> None:
    """Counter state is saved on unload and deleted with the entry."""
    entry = await async_add_gateway(hass, simulator)
    key = f"{DOMAIN}.{entry.entry_id}.counters"
    assert await hass.config_entries.async_unload(entry.entry_id)
    (subentry_id,) = entry.subentries
    saved = hass_storage[key]["data"][subentry_id]
    assert saved["energy_import_total"]["published"] > 0
    assert await hass.config_entries.async_remove(entry.entry_id)
    await hass.async_block_till_done()
    assert key not in hass_storage


async def test_a_round_stops_between_meters_when_home_assistant_stops(
    hass: HomeAssistant, socket_enabled: None
) -> None:
    """Shutdown does not wait for a whole round over a slow bus.

    Eight WAGO meters on a simulated 9600-baud line take about 2.5 s a round;
    a round under way when the coordinator shuts down reads the meter it is
    at and no further, so shutdown waits a fraction of a second.
    """
    line = Rs485Line(LineSettings(baud=9600))
    meters = [wago_meter(unit, seed=unit) for unit in range(1, 9)]
    async with ModbusSimulator(meters, host="127.0.0.1", line=line) as simulator:
        entry = _entry(
            simulator.port,
            [(unit, "wago_879_30xx", f"Meter {unit}") for unit in range(1, 9)],
        )
        entry.add_to_hass(hass)
        assert await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
        coordinator = entry.runtime_data
        for meter in meters:
            meter.requests.clear()
        refresh = hass.async_create_task(coordinator.async_refresh())
        # The simulator has no event for "a request served"; its log is polled.
        while not any(meter.requests for meter in meters):  # noqa: ASYNC110
            await asyncio.sleep(0.01)
        await coordinator.async_shutdown()
        await refresh
        read = [meter.unit_id for meter in meters if meter.requests]
        assert 1 <= len(read) <= 2, read
        assert await hass.config_entries.async_unload(entry.entry_id)
