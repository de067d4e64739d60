"""What Home Assistant shows when the meter's readings go wrong."""

from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from homeassistant.setup import async_setup_component
import pytest

from custom_components.energy_meters.const import DOMAIN
from custom_components.energy_meters.meterlib.model import Quantity
from custom_components.energy_meters.repairs import counter_reset_issue_id
from simulator.server import ModbusSimulator
from tests.helpers import WallClock, async_add_gateway

POWER = "sensor.heat_pump_power"
ENERGY = "sensor.heat_pump_energy_import"


def value(hass: HomeAssistant, entity_id: str) -> float:
    """The numeric state of an entity."""
    state = hass.states.get(entity_id)
    assert state is not None
    return float(state.state)


async def poll(hass: HomeAssistant, entry: ConfigEntry, clock: WallClock) -> None:
    """One poll of the gateway, 10 s after the last, with the state machine settled."""
    clock.tick(10)
    await entry.runtime_data.async_refresh()
    await hass.async_block_till_done()


@pytest.fixture
async def entry(hass: HomeAssistant, simulator: ModbusSimulator) -> ConfigEntry:
    """A configured WAGO meter named Heat pump."""
    return await async_add_gateway(hass, simulator, name="Heat pump")


@pytest.mark.parametrize("glitch", [0.0, 40_000.0, -45_000.0, float("nan"), 1e12])
async def test_single_power_glitch_never_shows(
    hass: HomeAssistant,
    simulator: ModbusSimulator,
    entry: ConfigEntry,
    glitch: float,
    clock: WallClock,
) -> None:
    """A zero, a spike, a NaN or an impossible value between two good reads is never published."""
    meter = simulator.meters[0]
    meter.set_value(Quantity.POWER_TOTAL, 1800.0)
    await poll(hass, entry, clock)
    await poll(hass, entry, clock)
    assert value(hass, POWER) == pytest.approx(1800.0, abs=0.1)
    meter.set_value(Quantity.POWER_TOTAL, glitch)
    await poll(hass, entry, clock)
    assert value(hass, POWER) == pytest.approx(1800.0, abs=0.1)
    meter.set_value(Quantity.POWER_TOTAL, 1810.0)
    await poll(hass, entry, clock)
    assert value(hass, POWER) == pytest.approx(1810.0, abs=0.1)


async def test_frequency_out_of_band_is_dropped(
    hass: HomeAssistant,
    simulator: ModbusSimulator,
    entry: ConfigEntry,
    clock: WallClock,
) -> None:
    """A 1.2e-38 Hz or 70 Hz read (swapped words, garbage) never reaches HA."""
    before = value(hass, "sensor.heat_pump_frequency")
    for garbage in (1.2e-38, 70.0, 44.0):
        simulator.meters[0].set_value(Quantity.FREQUENCY, garbage)
        await poll(hass, entry, clock)
        assert value(hass, "sensor.heat_pump_frequency") == before


async def test_energy_never_decreases_on_a_bad_read(
    hass: HomeAssistant,
    simulator: ModbusSimulator,
    entry: ConfigEntry,
    clock: WallClock,
) -> None:
    """A zero, a dip and a huge jump of the counter are held; good reads continue."""
    meter = simulator.meters[0]
    start = value(hass, ENERGY)
    published = [start]
    for raw in (0.0, start - 5, start + 90_000, start + 0.01, start + 0.02):
        meter.set_value(Quantity.ENERGY_IMPORT_TOTAL, raw)
        await poll(hass, entry, clock)
        published.append(value(hass, ENERGY))
    assert published == sorted(published)
    assert published[-1] == pytest.approx(start + 0.02, abs=0.002)
    assert max(published) < start + 1


async def test_replaced_meter_continues_and_raises_a_repair(
    hass: HomeAssistant,
    simulator: ModbusSimulator,
    entry: ConfigEntry,
    clock: WallClock,
) -> None:
    """A new meter counting from 3 kWh: publishing carries on, the user is told."""
    meter = simulator.meters[0]
    before = value(hass, ENERGY)
    # The last rise (50 Wh in 10 s) is more than the measured power explains:
    # it is published once the next reading confirms it.
    for raw in (3.0, 3.0, 3.0, 3.05, 3.05):
        meter.set_value(Quantity.ENERGY_IMPORT_TOTAL, raw)
        await poll(hass, entry, clock)
        assert value(hass, ENERGY) >= before
    assert value(hass, ENERGY) == pytest.approx(before + 0.05, abs=0.002)
    (subentry_id,) = entry.subentries
    issue = ir.async_get(hass).async_get_issue(
        DOMAIN, counter_reset_issue_id(subentry_id, Quantity.ENERGY_IMPORT_TOTAL)
    )
    assert issue is not None
    assert issue.is_fixable
    placeholders: Any = issue.translation_placeholders
    assert placeholders["meter"] == "Heat pump"
    assert placeholders["new"] == "3.000"


async def test_counter_reset_repair_is_confirmed(
    hass: HomeAssistant,
    simulator: ModbusSimulator,
    entry: ConfigEntry,
    hass_client: Any,
    clock: WallClock,
) -> None:
    """The repair's confirm step removes the issue."""
    assert await async_setup_component(hass, "repairs", {})
    for raw in (1.0, 1.0, 1.0):
        simulator.meters[0].set_value(Quantity.ENERGY_IMPORT_TOTAL, raw)
        await poll(hass, entry, clock)
    (subentry_id,) = entry.subentries
    issue_id = counter_reset_issue_id(subentry_id, Quantity.ENERGY_IMPORT_TOTAL)
    client = await hass_client()
    response = await client.post(
        "/api/repairs/issues/fix", json={"handler": DOMAIN, "issue_id": issue_id}
    )
    assert response.status == 200
    flow = await response.json()
    assert flow["step_id"] == "confirm"
    response = await client.post(f"/api/repairs/issues/fix/{flow['flow_id']}", json={})
    assert response.status == 200
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is None


async def test_restart_restores_the_counter(
    hass: HomeAssistant, simulator: ModbusSimulator, entry: ConfigEntry
) -> None:
    """Stop, the meter moves on, start: the first value continues the restored one.

    The offset of a replaced meter survives too, so the first value after the
    restart is restored value + what the meter counted meanwhile, not the raw
    counter (which would be a huge drop) and not re-learnt from scratch.
    """
    meter = simulator.meters[0]
    for raw in (3.0, 3.0, 3.0):  # a replaced meter: offset now in play
        meter.set_value(Quantity.ENERGY_IMPORT_TOTAL, raw)
        await entry.runtime_data.async_refresh()
        await hass.async_block_till_done()
    before_stop = value(hass, ENERGY)
    assert await hass.config_entries.async_unload(entry.entry_id)
    # (Real time, not a frozen clock: reconnecting waits on the event loop.
    # 5 Wh is within what any meter can count between two polls.)
    meter.set_value(Quantity.ENERGY_IMPORT_TOTAL, 3.005)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert value(hass, ENERGY) == pytest.approx(before_stop + 0.005, abs=0.0005)


async def test_restart_ignores_a_garbage_first_read(
    hass: HomeAssistant, simulator: ModbusSimulator, entry: ConfigEntry
) -> None:
    """After a restart a zero first read publishes the restored value, not 0."""
    before_stop = value(hass, ENERGY)
    assert await hass.config_entries.async_unload(entry.entry_id)
    simulator.meters[0].set_value(Quantity.ENERGY_IMPORT_TOTAL, 0.0)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert value(hass, ENERGY) == before_stop
