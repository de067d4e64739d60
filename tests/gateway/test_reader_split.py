"""Exception 2: a refused block is split, the rest of the meter keeps working.

Each test runs the real reader over a real TCP connection against the
simulator, configured to refuse a register (`SimulatedMeter.refuse`) or to be
strict about unused addresses (`fill_gaps=False`). Requests are counted where
they arrive: the meter's request log, or a transport that counts what it
sends when pymodbus refuses a read before the meter sees it.
"""

from collections.abc import AsyncGenerator

from homeassistant.core import HomeAssistant
import pytest

from custom_components.energy_meters.meterlib.model import FunctionCode, Quantity
from custom_components.energy_meters.meterlib.plan import ReadRequest
from custom_components.energy_meters.meterlib.profiles import builtin_profiles
from custom_components.energy_meters.meterlib.reader import MeterReader
from custom_components.energy_meters.meterlib.refusals import (
    REFUSALS_BEFORE_AN_ANSWER,
)
from custom_components.energy_meters.meterlib.transport import (
    Framing,
    ModbusExceptionError,
    ModbusTransport,
)
from simulator.meter import SimulatedMeter
from simulator.server import ModbusSimulator
from tests.helpers import async_add_gateway

WAGO = builtin_profiles()["wago_879_30xx"]
POWER_L1 = 0x5014  # inside the 0x5000 block of 56 registers


class CountingTransport(ModbusTransport):
    """A real transport that also counts what it sends."""

    def __init__(self, port: int) -> None:
        """Connect to the simulator on 127.0.0.1."""
        super().__init__("127.0.0.1", port, Framing.TCP, timeout=1.0)
        self.sent: list[tuple[int, int]] = []

    async def read(
        self, function: FunctionCode, address: int, count: int, unit_id: int
    ) -> list[int]:
        """Record the request, then read."""
        self.sent.append((address, count))
        return await super().read(function, address, count, unit_id)


async def _serve(meter: SimulatedMeter) -> AsyncGenerator[CountingTransport]:
    """A simulator with `meter` and a counting transport to it."""
    async with ModbusSimulator([meter], host="127.0.0.1") as sim:
        transport = CountingTransport(sim.port)
        try:
            yield transport
        finally:
            await transport.close()


@pytest.fixture
def meter() -> SimulatedMeter:
    """A frozen WAGO meter on unit 1."""
    simulated = SimulatedMeter(WAGO, unit_id=1, seed=1)
    simulated.freeze()
    return simulated


@pytest.fixture
async def transport(
    socket_enabled: None, meter: SimulatedMeter
) -> AsyncGenerator[CountingTransport]:
    """A counting transport to a simulator serving `meter`."""
    async for served in _serve(meter):
        yield served


def _covers(request: ReadRequest, address: int) -> bool:
    return request.address <= address < request.address + request.count


async def test_refused_register_is_none_and_the_rest_reads(
    meter: SimulatedMeter, transport: CountingTransport
) -> None:
    """One refused value: it is None, every other value is what the meter served."""
    meter.refuse([POWER_L1])
    reader = MeterReader(transport, 1, WAGO)
    reading = await reader.read()
    served = meter.served_values()
    assert reading.values[Quantity.POWER_L1] is None
    assert set(reading.values) == WAGO.quantities
    for quantity, value in reading.values.items():
        if quantity is not Quantity.POWER_L1:
            assert value == served[quantity], quantity


async def test_split_is_remembered(
    meter: SimulatedMeter, transport: CountingTransport
) -> None:
    """After the poll that finds the gap, each poll is the new plan and nothing is refused."""
    meter.refuse([POWER_L1])
    reader = MeterReader(transport, 1, WAGO)
    first = await reader.read()
    # Halving finds the value in a few requests (about 2·log2 of the block's
    # 28 values, plus reading the new plan once), not one per value.
    assert first.requests <= 16
    assert reader.refusals.absent == {Quantity.POWER_L1}
    # The block is read around the absent value: before it and after it.
    assert [(r.address, r.count) for r in reader.plan] == [
        (0x5000, 0x14),
        (0x5016, 0x5038 - 0x5016),
        (0x6000, 62),
    ]
    assert not any(_covers(r, POWER_L1) for r in reader.plan)

    meter.requests.clear()
    for _ in range(3):
        reading = await reader.read()
        assert reading.requests == len(reader.plan)
        assert reading.values[Quantity.POWER_L1] is None
        assert reading.values[Quantity.POWER_L2] is not None
    assert len(meter.requests) == 3 * len(reader.plan)
    assert not any(record.refused for record in meter.requests)


async def test_value_at_the_edge_of_a_block(
    meter: SimulatedMeter, transport: CountingTransport
) -> None:
    """The first value of a block refused: the rest of the block stays one request."""
    meter.refuse([0x6000])
    reader = MeterReader(transport, 1, WAGO)
    reading = await reader.read()
    assert reading.values[Quantity.ENERGY_TOTAL] is None
    assert reading.values[Quantity.ENERGY_IMPORT_TOTAL] is not None
    assert [(r.address, r.count) for r in reader.plan] == [
        (0x5000, 56),
        (0x600C, 0x603E - 0x600C),
    ]


async def test_two_absent_values_in_one_block(
    meter: SimulatedMeter, transport: CountingTransport
) -> None:
    """Two refused values: both None, each neighbour still read."""
    meter.refuse([0x5008, 0x5030])  # frequency, power factor L3
    reader = MeterReader(transport, 1, WAGO)
    reading = await reader.read()
    assert reading.values[Quantity.FREQUENCY] is None
    assert reading.values[Quantity.POWER_FACTOR_L3] is None
    served = meter.served_values()
    assert reading.values[Quantity.VOLTAGE_L3] == served[Quantity.VOLTAGE_L3]
    assert reading.values[Quantity.CURRENT_AVG] == served[Quantity.CURRENT_AVG]
    assert reading.values[Quantity.VOLTAGE_L1_L2] == served[Quantity.VOLTAGE_L1_L2]
    meter.requests.clear()
    await reader.read()
    assert not any(record.refused for record in meter.requests)
    assert len(meter.requests) == len(reader.plan) == 4


async def test_meter_that_refuses_everything_fails(
    meter: SimulatedMeter, transport: CountingTransport
) -> None:
    """Nothing readable is the wrong profile: the read fails and nothing is remembered."""
    meter.refuse(range(0x5000, 0x6040))
    reader = MeterReader(transport, 1, WAGO)
    planned = reader.plan
    with pytest.raises(ModbusExceptionError) as caught:
        await reader.read()
    assert caught.value.code == 2
    assert reader.plan == planned
    assert not reader.refusals.absent
    # Recognised in a bounded number of requests, not by halving every
    # block down to single values (78 requests for the WAGO map).
    assert len(transport.sent) == REFUSALS_BEFORE_AN_ANSWER, transport.sent


async def test_strict_meter_refusing_gaps(socket_enabled: None) -> None:
    """A meter that refuses unused addresses: every value still read, gaps cut.

    The WAGO energy block has unused registers between its counters; the
    planner reads across them, which a strict meter refuses. pymodbus refuses
    those reads before the meter sees them, so the transport counts.
    """
    strict = SimulatedMeter(WAGO, unit_id=1, seed=3, fill_gaps=False)
    strict.freeze()
    async for transport in _serve(strict):
        reader = MeterReader(transport, 1, WAGO)
        first = await reader.read()
        served = strict.served_values()
        assert first.values == served
        assert not reader.refusals.absent
        assert reader.refusals.cuts
        transport.sent.clear()
        second = await reader.read()
        assert second.values == served
        assert transport.sent == [(r.address, r.count) for r in reader.plan]
        assert len(reader.plan) < len(WAGO.registers)


async def test_entity_of_refused_register_is_unavailable(
    hass: HomeAssistant, simulator: ModbusSimulator
) -> None:
    """In Home Assistant: the refused quantity is unavailable, its neighbours show values.

    Unavailable, not unknown: the meter does not have the register, as
    docs/profiles.md says; "unknown" would be a value still to come.
    """
    meter = simulator.meter(1)
    meter.refuse([POWER_L1])
    entry = await async_add_gateway(hass, simulator, name="Heat pump")
    power_l1 = hass.states.get("sensor.heat_pump_power_l1")
    assert power_l1 is not None
    assert power_l1.state == "unavailable"
    served = meter.served_values()
    for entity_id, quantity in (
        ("sensor.heat_pump_power_l2", Quantity.POWER_L2),
        ("sensor.heat_pump_power", Quantity.POWER_TOTAL),
        ("sensor.heat_pump_energy_import", Quantity.ENERGY_IMPORT_TOTAL),
    ):
        state = hass.states.get(entity_id)
        assert state is not None
        assert float(state.state) == pytest.approx(served[quantity], abs=0.1)
    meter.requests.clear()
    await entry.runtime_data.async_refresh()
    await hass.async_block_till_done()
    assert meter.requests
    assert not any(record.refused for record in meter.requests)
    state = hass.states.get("sensor.heat_pump_power_l1")
    assert state is not None
    assert state.state == "unavailable"
    await hass.config_entries.async_unload(entry.entry_id)


async def test_lessons_survive_a_reload(
    hass: HomeAssistant, simulator: ModbusSimulator
) -> None:
    """After a reload the meter is read with the plan it taught: no re-learning.

    The count is the reader's own (requests sent in the poll): some refusals
    are answered by pymodbus before the simulated meter sees them.
    """
    simulator.meters[0].refuse([POWER_L1])
    entry = await async_add_gateway(hass, simulator)
    await entry.runtime_data.async_refresh()
    await hass.async_block_till_done()
    (subentry_id,) = entry.runtime_data.readers
    steady = entry.runtime_data.statuses[subentry_id].reading
    assert steady is not None
    await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    first = entry.runtime_data.statuses[subentry_id].reading
    assert first is not None
    assert first.requests == steady.requests
    assert entry.runtime_data.readers[subentry_id].refusals.absent == {
        Quantity.POWER_L1
    }
