"""Every fault a bus produces, against the simulator: what Home Assistant shows.

Each test makes the simulated meters misbehave through their fault injector
(`simulator.faults`) and checks Home Assistant's state machine, which is what
the recorder and the Energy dashboard take: values are never wrong, energy
never goes backwards, entities go unavailable only after several failed
polls, a silent meter does not slow its neighbour down, and everything
recovers by itself.
"""

from collections.abc import AsyncGenerator, Iterable
import logging
import math

from homeassistant.config_entries import ConfigEntry, ConfigSubentryData
from homeassistant.const import (
    EVENT_STATE_CHANGED,
    STATE_UNAVAILABLE,
    STATE_UNKNOWN,
)
from homeassistant.core import Event, EventStateChangedData, HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.energy_meters.const import (
    DOMAIN,
    FAILED_POLLS_BEFORE_UNAVAILABLE,
    MAX_POLLS_TO_SKIP,
    SUBENTRY_METER,
)
from custom_components.energy_meters.gateway.coordinator import GatewayCoordinator
from custom_components.energy_meters.meterlib.model import Quantity
from custom_components.energy_meters.repairs import counter_reset_issue_id
from simulator.faults import Fault
from simulator.meter import SimulatedMeter
from simulator.server import ModbusSimulator
from tests.helpers import WallClock, wago_meter

TIMEOUT_S = 0.3
LATE_S = 0.45  # the answer comes after the client has given up
LEFT_POWER = "sensor.left_power"
LEFT_ENERGY = "sensor.left_energy_import"
RIGHT_POWER = "sensor.right_power"
WATCHED = (LEFT_POWER, LEFT_ENERGY, RIGHT_POWER, "sensor.right_energy_import")
REQUESTS_PER_POLL = 2  # the WAGO read plan: measurements, then energies


class StateHistory:
    """Every state an entity took, as the recorder would store them."""

    def __init__(self, hass: HomeAssistant, entity_ids: Iterable[str]) -> None:
        """Listen to state changes of `entity_ids`, starting with the current states."""
        self.states: dict[str, list[str]] = {}
        for entity_id in entity_ids:
            state = hass.states.get(entity_id)
            self.states[entity_id] = [state.state] if state else []
        hass.bus.async_listen(EVENT_STATE_CHANGED, self._changed)

    @callback
    def _changed(self, event: Event[EventStateChangedData]) -> None:
        new = event.data["new_state"]
        if new is not None and new.entity_id in self.states:
            self.states[new.entity_id].append(new.state)

    def numbers(self, entity_id: str) -> list[float]:
        """The numeric states, in order (unavailable and unknown left out)."""
        return [
            float(state)
            for state in self.states[entity_id]
            if state not in {STATE_UNAVAILABLE, STATE_UNKNOWN}
        ]

    def ever_unavailable(self, entity_id: str) -> bool:
        """Whether the entity was shown unavailable at any time."""
        return STATE_UNAVAILABLE in self.states[entity_id]


def value(hass: HomeAssistant, entity_id: str) -> float:
    """The numeric state of an entity."""
    state = hass.states.get(entity_id)
    assert state is not None
    return float(state.state)


def available(hass: HomeAssistant, entity_id: str) -> bool:
    """Whether the entity shows a value."""
    state = hass.states.get(entity_id)
    assert state is not None
    return state.state != STATE_UNAVAILABLE


async def poll(hass: HomeAssistant, entry: ConfigEntry) -> None:
    """One poll of the gateway, with the state machine settled."""
    coordinator: GatewayCoordinator = entry.runtime_data
    await coordinator.async_refresh()
    await hass.async_block_till_done()


async def add_entry(
    hass: HomeAssistant, sim: ModbusSimulator, units: Iterable[tuple[int, str]]
) -> MockConfigEntry:
    """Set up a gateway entry for `sim` with a WAGO meter per (unit, title)."""
    framing = "rtu_over_tcp" if sim.framing == "rtu" else "tcp"
    entry = MockConfigEntry(
        domain=DOMAIN,
        title=f"127.0.0.1:{sim.port}",
        unique_id=f"127.0.0.1:{sim.port}",
        data={
            "host": "127.0.0.1",
            "port": sim.port,
            "framing": framing,
            "timeout": TIMEOUT_S,
        },
        options={"scan_interval": 10},
        subentries_data=[
            ConfigSubentryData(
                data={"unit_id": unit, "profile": "wago_879_30xx"},
                subentry_type=SUBENTRY_METER,
                title=title,
                unique_id=str(unit),
            )
            for unit, title in units
        ],
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry


def subentry_id(entry: ConfigEntry, title: str) -> str:
    """The id of the meter subentry with this title."""
    return next(s.subentry_id for s in entry.subentries.values() if s.title == title)


def requests_since(meter: SimulatedMeter, before: int) -> int:
    """Requests the meter received since its log held `before` records."""
    return len(meter.requests) - before


@pytest.fixture
def framing() -> str:
    """Modbus TCP unless a test asks for RTU over TCP."""
    return "tcp"


@pytest.fixture
async def sim(socket_enabled: None, framing: str) -> AsyncGenerator[ModbusSimulator]:
    """A gateway with two frozen WAGO meters (units 1 and 2) on 127.0.0.1."""
    meters = [wago_meter(1, seed=1), wago_meter(2, seed=2)]
    for meter in meters:
        meter.faults.late_delay_s = LATE_S
    simulator = ModbusSimulator(meters, host="127.0.0.1", port=0, framing=framing)  # type: ignore[arg-type]
    await simulator.start()
    yield simulator
    await simulator.stop()


@pytest.fixture
async def entry(
    hass: HomeAssistant, sim: ModbusSimulator
) -> AsyncGenerator[MockConfigEntry]:
    """Meters "Left" (unit 1) and "Right" (unit 2) set up in Home Assistant."""
    entry = await add_entry(hass, sim, [(1, "Left"), (2, "Right")])
    # Set up from saved data, without the setup dialog's test read: the
    # counters' first reading waits for a second one (meterlib/quality.py).
    await poll(hass, entry)
    yield entry
    await hass.config_entries.async_unload(entry.entry_id)


# --- wrong values ------------------------------------------------------------


@pytest.mark.parametrize("fault", [Fault.SPIKE, Fault.ZERO, Fault.NAN, Fault.SWAP])
@pytest.mark.parametrize("level", [1800.0, 46.0])  # compressor, circulation pump
async def test_wrong_power_value_never_shows(
    hass: HomeAssistant,
    sim: ModbusSimulator,
    entry: ConfigEntry,
    fault: Fault,
    level: float,
) -> None:
    """A spike, a zero, a NaN or swapped words in the power: HA keeps the last value.

    Also at 46 W, where a zero is a small step but still a wrong number. A
    real change right after it is shown at once.
    """
    left = sim.meter(1)
    left.set_value(Quantity.POWER_TOTAL, level)
    await poll(hass, entry)
    await poll(hass, entry)
    history = StateHistory(hass, [LEFT_POWER])
    left.faults.inject(fault, quantity=Quantity.POWER_TOTAL)
    await poll(hass, entry)
    (record,) = left.faults.log
    assert record.quantity is Quantity.POWER_TOTAL
    served = record.served_value
    assert served is None or not abs(served - level) <= level / 2  # NaN is not <=
    assert value(hass, LEFT_POWER) == level
    left.set_value(Quantity.POWER_TOTAL, level + 4)
    await poll(hass, entry)
    assert history.numbers(LEFT_POWER) == [level, level + 4]


@pytest.mark.parametrize(
    "fault",
    [Fault.ZERO, Fault.NAN, Fault.SWAP, Fault.COUNTER_DROP, Fault.COUNTER_JUMP],
)
async def test_wrong_counter_value_never_shows(
    hass: HomeAssistant, sim: ModbusSimulator, entry: ConfigEntry, fault: Fault
) -> None:
    """A counter that reads 0, NaN, garbage, too low or far too high: energy holds still.

    No reset is booked (no repair issue) and counting goes on afterwards.
    """
    left = sim.meter(1)
    start = left.served_values()[Quantity.ENERGY_IMPORT_TOTAL]
    history = StateHistory(hass, [LEFT_ENERGY])
    left.faults.inject(fault, quantity=Quantity.ENERGY_IMPORT_TOTAL)
    await poll(hass, entry)
    (record,) = left.faults.log
    served = record.served_value
    assert served is None or not abs(served - start) <= 1  # NaN is not <=
    left.set_value(Quantity.ENERGY_IMPORT_TOTAL, start + 0.005)
    await poll(hass, entry)
    published = history.numbers(LEFT_ENERGY)
    assert published == sorted(published)
    assert all(start - 0.001 <= shown <= start + 0.006 for shown in published)
    assert published[-1] == pytest.approx(start + 0.005, abs=0.001)
    assert not ir.async_get(hass).issues


async def test_replaced_meter_continues_from_the_last_value(
    hass: HomeAssistant, sim: ModbusSimulator, entry: ConfigEntry, clock: WallClock
) -> None:
    """A new meter counting from 0: energy holds, then continues; the user is told.

    The polls are 10 s apart on Home Assistant's clock: 40 Wh within the few
    milliseconds between polls in real time would be a rise no meter can count.
    """
    left = sim.meter(1)
    before = value(hass, LEFT_ENERGY)
    true_before = left.current_values()[Quantity.ENERGY_IMPORT_TOTAL]
    history = StateHistory(hass, [LEFT_ENERGY])
    left.faults.inject(Fault.REPLACE)
    for _ in range(4):  # the new level is confirmed over several polls
        clock.tick(10)
        await poll(hass, entry)
    assert left.served_values()[Quantity.ENERGY_IMPORT_TOTAL] == 0.0
    # Counts 40 Wh: a state is written when its shown value (2 decimals) changes.
    left.set_value(Quantity.ENERGY_IMPORT_TOTAL, true_before + 0.04)
    for _ in range(2):  # a rise beyond the measured power waits for a second
        clock.tick(10)
        await poll(hass, entry)
    published = history.numbers(LEFT_ENERGY)
    assert published == sorted(published)
    assert published[-1] == pytest.approx(before + 0.04, abs=0.0005)
    issue = ir.async_get(hass).async_get_issue(
        DOMAIN,
        counter_reset_issue_id(
            subentry_id(entry, "Left"), Quantity.ENERGY_IMPORT_TOTAL
        ),
    )
    assert issue is not None
    assert issue.translation_placeholders is not None
    assert issue.translation_placeholders["new"] == "0.000"


# --- wrong answers and no answers ----------------------------------------------


async def test_exception_answer_is_one_failed_poll(
    hass: HomeAssistant, sim: ModbusSimulator, entry: ConfigEntry
) -> None:
    """Exception 4 from one meter: its values stay, its poll stops, the other is read."""
    left, right = sim.meter(1), sim.meter(2)
    power = value(hass, LEFT_POWER)
    asked_left, asked_right = len(left.requests), len(right.requests)
    left.faults.inject(Fault.EXCEPTION)
    await poll(hass, entry)
    assert requests_since(left, asked_left) == 1  # no second request after a failure
    assert requests_since(right, asked_right) == REQUESTS_PER_POLL
    status = entry.runtime_data.statuses[subentry_id(entry, "Left")]
    assert status.failed_polls_total == 1
    assert status.polls_to_skip == 0  # the meter answered: nothing to back off from
    assert value(hass, LEFT_POWER) == power
    await poll(hass, entry)
    assert status.consecutive_failures == 0


@pytest.mark.parametrize("framing", ["tcp", "rtu"])
async def test_silent_meter_is_backed_off_while_its_neighbour_keeps_its_interval(
    hass: HomeAssistant,
    sim: ModbusSimulator,
    entry: ConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Right stops answering: Left is read on every poll, Right less and less.

    Right costs at most one timeout per poll (its poll stops at the first
    unanswered request), keeps its last values through two failed polls and
    goes unavailable on the third, with one log line; one line again when it
    is back, which takes at most the longest backoff.
    """
    caplog.set_level(logging.INFO)
    left, right = sim.meter(1), sim.meter(2)
    right.faults.inject(Fault.SILENCE, count=None)
    asked_left: list[int] = []
    asked_right: list[int] = []
    shown: list[bool] = []
    for _ in range(10):
        before_left, before_right = len(left.requests), len(right.requests)
        await poll(hass, entry)
        asked_left.append(requests_since(left, before_left))
        asked_right.append(requests_since(right, before_right))
        shown.append(available(hass, RIGHT_POWER))
    assert asked_left == [REQUESTS_PER_POLL] * 10
    # Failures 1 and 2 are retried at once, then after 1, 3 and 6 skipped polls.
    assert asked_right == [1, 1, 0, 1, 0, 0, 0, 1, 0, 0]
    # Unavailable from the third failed poll (the fourth poll: one was skipped).
    assert shown == [True] * 3 + [False] * 7
    assert available(hass, LEFT_POWER)
    assert caplog.text.count("did not answer 3 polls in a row") == 1
    right.faults.clear()
    waited = 0
    while not available(hass, RIGHT_POWER):
        waited += 1
        assert waited <= MAX_POLLS_TO_SKIP + 1, "not back after the longest backoff"
        await poll(hass, entry)
    assert caplog.text.count("is answering again") == 1


@pytest.mark.parametrize("framing", ["rtu"])
async def test_late_rtu_answer_is_never_published(
    hass: HomeAssistant, sim: ModbusSimulator
) -> None:
    """RTU over TCP: an answer after the timeout never stands in for the next one.

    The late answer has the same unit, function code and length as the next
    request's, so only starting a new connection after the timeout keeps it
    out: the 1400 W it carries, true when it was asked for, must never stand
    for the 1010 W measured by the next request.
    """
    entry = await add_entry(hass, sim, [(1, "Left")])
    left = sim.meter(1)
    left.set_value(Quantity.POWER_TOTAL, 1000.0)
    await poll(hass, entry)
    await poll(hass, entry)
    assert value(hass, LEFT_POWER) == 1000.0
    history = StateHistory(hass, [LEFT_POWER])
    left.set_value(Quantity.POWER_TOTAL, 1400.0)
    left.faults.inject(Fault.LATE, quantity=Quantity.POWER_TOTAL)
    await poll(hass, entry)  # times out; the answer is on its way
    assert left.faults.injected[Fault.LATE] == 1
    left.set_value(Quantity.POWER_TOTAL, 1010.0)
    await poll(hass, entry)  # asks again while the late answer arrives
    await poll(hass, entry)
    assert history.numbers(LEFT_POWER) == [1000.0, 1010.0]
    assert not history.ever_unavailable(LEFT_POWER)
    await hass.config_entries.async_unload(entry.entry_id)


async def test_dropped_connection_costs_one_poll_of_one_meter(
    hass: HomeAssistant, sim: ModbusSimulator, entry: ConfigEntry
) -> None:
    """The gateway hangs up on Left: Right is read over a new connection at once."""
    left, right = sim.meter(1), sim.meter(2)
    history = StateHistory(hass, WATCHED)
    asked_right = len(right.requests)
    left.faults.inject(Fault.DISCONNECT)
    await poll(hass, entry)
    assert requests_since(right, asked_right) == REQUESTS_PER_POLL
    status = entry.runtime_data.statuses[subentry_id(entry, "Left")]
    assert status.consecutive_failures == 1
    assert "lost" in (status.last_error or "")
    assert status.polls_to_skip == 0  # the gateway's doing: Left is not backed off
    asked_left = len(left.requests)
    await poll(hass, entry)
    assert requests_since(left, asked_left) == REQUESTS_PER_POLL
    assert status.consecutive_failures == 0
    assert not any(history.ever_unavailable(entity) for entity in WATCHED)


@pytest.mark.parametrize("outage", [(4, 1), (5, 2)], ids=["4-down", "5-down"])
async def test_gateway_outage_recovers_within_two_polls(
    hass: HomeAssistant,
    sim: ModbusSimulator,
    entry: ConfigEntry,
    outage: tuple[int, int],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The gateway goes away and comes back: both meters are back within two polls.

    While it is gone, one connection attempt per poll serves both meters,
    and after three failed ones only every other poll tries: a gateway that
    returns just after an attempt waits one skipped poll, never more.
    """
    down_polls, recovery_polls = outage
    caplog.set_level(logging.INFO)
    coordinator: GatewayCoordinator = entry.runtime_data
    history = StateHistory(hass, WATCHED)
    energy_before = value(hass, LEFT_ENERGY)
    await sim.stop()
    for _ in range(down_polls):
        await poll(hass, entry)
    attempts = FAILED_POLLS_BEFORE_UNAVAILABLE + (down_polls - 3) // 2
    assert coordinator.transport.connect_failures == attempts
    assert not available(hass, LEFT_POWER)
    assert not available(hass, RIGHT_POWER)
    await sim.start()
    polls = 0
    while not (available(hass, LEFT_POWER) and available(hass, RIGHT_POWER)):
        polls += 1
        assert polls <= 2, "not recovered within two polls"
        await poll(hass, entry)
    assert polls == recovery_polls
    assert value(hass, LEFT_ENERGY) == energy_before
    assert caplog.text.count("is answering again") == 2
    for entity in WATCHED:
        assert all(math.isfinite(number) for number in history.numbers(entity))
    assert set(history.numbers(LEFT_ENERGY)) == {energy_before}


async def test_first_value_after_an_outage_is_current(
    hass: HomeAssistant, sim: ModbusSimulator, entry: ConfigEntry
) -> None:
    """1800 W before the gateway went away, 50 W when it is back: 50 W shows.

    The stale 1800 W never comes back on screen. The first reading back is far
    from it, so it waits for a second that agrees (a glitch on a gateway's
    first answer must not show): the reconnecting poll, the first reading
    (unknown), the second (50 W).
    """
    left = sim.meter(1)
    left.set_value(Quantity.POWER_TOTAL, 1800.0)
    await poll(hass, entry)
    await poll(hass, entry)
    history = StateHistory(hass, [LEFT_POWER])
    await sim.stop()
    for _ in range(FAILED_POLLS_BEFORE_UNAVAILABLE):
        await poll(hass, entry)
    assert not available(hass, LEFT_POWER)
    left.set_value(Quantity.POWER_TOTAL, 50.0)
    await sim.start()
    for _ in range(3):
        await poll(hass, entry)
    assert history.numbers(LEFT_POWER) == [1800.0, 50.0]
