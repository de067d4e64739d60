"""Read rates on a timed bus: power every second, the full maps at ten.

The meters sit behind the simulator's RS-485 line at 9600 baud, so every
request holds the bus for as long as its frames would on the wire: a WAGO's
power block about 30 ms, its full map about 300 ms. Their households run a
heat pump's compressor, so power and energy change from one read to the next
and every read shows as a state update. Timings are taken when Home
Assistant writes a state (changed or reported), as an automation would see
them.
"""

import asyncio
from collections import defaultdict
from collections.abc import AsyncIterator, Callable
import contextlib
import itertools
from typing import Any

from homeassistant.config_entries import ConfigSubentryData
from homeassistant.const import EVENT_STATE_CHANGED, EVENT_STATE_REPORTED
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.helpers import entity_registry as er, issue_registry as ir
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.energy_meters.const import DOMAIN, SUBENTRY_METER
from custom_components.energy_meters.repairs import read_rates_issue_id
from simulator.household import running_household
from simulator.meter import SimulatedMeter
from simulator.rs485 import LineSettings, Rs485Line
from simulator.server import ModbusSimulator
from tests.helpers import builtin_profiles

FAST_S = 1.0
FAST_TOLERANCE_S = 0.3
FULL_S = 10.0


def _entry(
    port: int, units: range, *, framing: str = "tcp", fast_group: str = "power"
) -> MockConfigEntry:
    """A gateway with WAGO meters on `units`; meter 1 a grid meter (fast by role)."""
    return MockConfigEntry(
        domain=DOMAIN,
        title=f"127.0.0.1:{port}",
        unique_id=f"127.0.0.1:{port}",
        data={"host": "127.0.0.1", "port": port, "framing": framing, "timeout": 1.0},
        options={"scan_interval": int(FULL_S)},
        subentries_data=[
            ConfigSubentryData(
                data={
                    "unit_id": unit,
                    "profile": "wago_879_30xx",
                    "role": "grid" if unit == 1 else "zone",
                    "fast_group": "by_role" if unit == 1 else fast_group,
                    "fast_interval": int(FAST_S),
                },
                subentry_type=SUBENTRY_METER,
                title=f"Meter {unit}",
                unique_id=str(unit),
            )
            for unit in units
        ],
    )


@contextlib.asynccontextmanager
async def _gateway(
    hass: HomeAssistant, units: range, framing: str = "tcp"
) -> AsyncIterator[MockConfigEntry]:
    """The gateway set up against `units` running meters on a 9600-baud line."""
    profile = builtin_profiles()["wago_879_30xx"]
    meters = [
        SimulatedMeter(profile, unit, source=running_household(unit, lasting_s=120.0))
        for unit in units
    ]
    line = Rs485Line(LineSettings(baud=9600))
    async with ModbusSimulator(
        meters,
        host="127.0.0.1",
        line=line,
        framing="rtu" if framing == "rtu_over_tcp" else "tcp",
    ) as simulator:
        entry = _entry(simulator.port, units, framing=framing)
        entry.add_to_hass(hass)
        assert await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
        try:
            yield entry
        finally:
            assert await hass.config_entries.async_unload(entry.entry_id)
            await hass.async_block_till_done()
        # Fast and full reads took turns: never two requests on the bus.
        assert not line.overlapped, line.max_in_flight


def _entity_ids(hass: HomeAssistant, entry: MockConfigEntry, key: str) -> list[str]:
    """Each meter's entity of description `key`, found by unique id."""
    registry = er.async_get(hass)
    found = []
    for subentry_id in entry.subentries:
        entity_id = registry.async_get_entity_id(
            "sensor", DOMAIN, f"{entry.entry_id}_{subentry_id}_{key}"
        )
        assert entity_id is not None, key
        found.append(entity_id)
    return found


@contextlib.contextmanager
def _writes(hass: HomeAssistant) -> Any:
    """Record when each entity's state is written (loop time), changed or not."""
    times: dict[str, list[float]] = defaultdict(list)

    @callback
    def _written(event: Event[Any]) -> None:
        times[event.data["entity_id"]].append(hass.loop.time())

    removers: list[Callable[[], None]] = [
        hass.bus.async_listen(EVENT_STATE_CHANGED, _written),
        hass.bus.async_listen(
            EVENT_STATE_REPORTED, _written, event_filter=callback(lambda _: True)
        ),
    ]
    try:
        yield times
    finally:
        for remove in removers:
            remove()


def _gaps(times: list[float]) -> list[float]:
    return [b - a for a, b in itertools.pairwise(times)]


async def _watch(seconds: float) -> None:
    """Let the gateway run for `seconds` of real time."""
    await asyncio.sleep(seconds)


@pytest.mark.parametrize("framing", ["tcp", "rtu_over_tcp"])
async def test_eight_meters_power_every_second_energy_every_ten(
    hass: HomeAssistant, socket_enabled: None, framing: str
) -> None:
    """8 WAGO meters at 9600 baud: power at 1 s ± 0.3 s, energy at least every 10 s.

    Behind a Modbus TCP gateway and a transparent one (RTU over TCP, which
    Home Assistant's shared connection frames with RTU's silences).
    """
    async with _gateway(hass, range(1, 9), framing) as entry:
        power = _entity_ids(hass, entry, "power")
        energy = _entity_ids(hass, entry, "energy_import")
        await _watch(2.0)  # the fast reads find their beat
        with _writes(hass) as times:
            await _watch(2 * FULL_S + 1.0)
        coordinator = entry.runtime_data
        utilisation = hass.states.get(
            er.async_get(hass).async_get_entity_id(
                "sensor", DOMAIN, f"{entry.entry_id}_bus_utilisation"
            )
            or ""
        )
        assert (
            ir.async_get(hass).async_get_issue(
                DOMAIN, read_rates_issue_id(entry.entry_id)
            )
            is None
        )
    power_gaps = {entity_id: _gaps(times[entity_id]) for entity_id in power}
    for entity_id, gaps in power_gaps.items():
        assert len(gaps) >= 2 * FULL_S - 1, (entity_id, gaps)
        assert all(abs(gap - FAST_S) <= FAST_TOLERANCE_S for gap in gaps), (
            entity_id,
            [round(gap, 3) for gap in gaps],
        )
    for entity_id in energy:
        writes = times[entity_id]
        assert len(writes) >= 2, (entity_id, writes)
        gaps = _gaps(writes)
        # A round starts every 10 s; where in it a meter is read moves by
        # the fast reads that come between, a few tens of milliseconds.
        assert all(gap <= FULL_S + FAST_TOLERANCE_S for gap in gaps), (
            entity_id,
            [round(gap, 3) for gap in gaps],
        )
    # Every full map read on time, by the coordinator's own account (its
    # minute includes the first round, read before the fast reads began,
    # hence the median).
    full = coordinator.full_log.figures()
    assert full is not None
    assert abs(full.median_s - FULL_S) <= 0.1, full
    fast = coordinator.fast.log.figures()
    assert fast is not None
    assert abs(fast.median_s - FAST_S) <= 0.05, fast
    # The bus sensor agrees with what the timing model says the rates need.
    assert utilisation is not None
    share = float(utilisation.state) / 100
    need = sum(load.share for load in coordinator.loads())
    assert 0.2 < share < 0.9, share
    assert abs(share - need) < 0.15, (share, need)


async def test_rates_that_do_not_fit_raise_a_repair_and_fast_reads_hold(
    hass: HomeAssistant, socket_enabled: None
) -> None:
    """16 meters fast at 1 s overfill a 9600-baud bus: the repair says what fits."""
    async with _gateway(hass, range(1, 17)) as entry:
        power = _entity_ids(hass, entry, "power")
        await _watch(2.0)
        with _writes(hass) as times:
            await _watch(FULL_S + 2.0)
        issue = ir.async_get(hass).async_get_issue(
            DOMAIN, read_rates_issue_id(entry.entry_id)
        )
        assert issue is not None
        assert issue.translation_key == "read_rates_full_behind"
        placeholders = issue.translation_placeholders or {}
        assert placeholders["fast_meters"] == "16"
        # The full maps alone need 16 x 0.3 s in 10 s; what is left of 90 %
        # holds about 10 fast meters at 1 s.
        assert 6 <= int(placeholders["max_fast_meters"]) < 16, placeholders
        assert float(placeholders["achieved_full"]) > FULL_S, placeholders
    for entity_id in power:
        gaps = _gaps(times[entity_id])
        assert len(gaps) >= FULL_S, (entity_id, gaps)
        assert all(abs(gap - FAST_S) <= FAST_TOLERANCE_S for gap in gaps), (
            entity_id,
            [round(gap, 3) for gap in gaps],
        )
    # Unloading the gateway takes its issue along.
    assert (
        ir.async_get(hass).async_get_issue(DOMAIN, read_rates_issue_id(entry.entry_id))
        is None
    )
