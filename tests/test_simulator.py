"""The Modbus simulator, read over real TCP with a real pymodbus client."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
import socket

from pymodbus.client import AsyncModbusTcpClient
from pymodbus.exceptions import ModbusIOException
from pymodbus.framer import FramerType
import pytest

from custom_components.energy_meters.meterlib.decode import decode
from custom_components.energy_meters.meterlib.model import Quantity
from custom_components.energy_meters.meterlib.plan import plan_reads
from custom_components.energy_meters.meterlib.profiles import builtin_profiles
from simulator.clock import ManualClock
from simulator.household import Household
from simulator.meter import ReadRecord, SimulatedMeter
from simulator.server import ModbusSimulator

WAGO = builtin_profiles()["wago_879_30xx"]
ILLEGAL_ADDRESS = 2
GATEWAY_NO_RESPONSE = 0x0B
FRAMERS = {"tcp": FramerType.SOCKET, "rtu": FramerType.RTU}

pytestmark = pytest.mark.usefixtures("socket_enabled")


@asynccontextmanager
async def _client(
    sim: ModbusSimulator, reply_timeout: float = 2.0
) -> AsyncIterator[AsyncModbusTcpClient]:
    client = AsyncModbusTcpClient(
        "127.0.0.1",
        port=sim.port,
        framer=FRAMERS[sim.framing],
        timeout=reply_timeout,
        retries=0,
    )
    assert await client.connect()
    try:
        yield client
    finally:
        client.close()


async def _read_all(client: AsyncModbusTcpClient, unit: int) -> dict[Quantity, float]:
    """Read a meter the way the integration does: its read plan, then decode."""
    values: dict[Quantity, float] = {}
    for request in plan_reads(WAGO.registers, WAGO.max_registers_per_request):
        response = await client.read_holding_registers(
            request.address, count=request.count, device_id=unit
        )
        assert not response.isError(), response
        for spec in request.specs:
            value = decode(spec, request.slice_for(spec, response.registers))
            assert value is not None
            values[spec.quantity] = value
    return values


def _meter(unit: int, seed: int, clock: ManualClock | None = None) -> SimulatedMeter:
    source = Household(seed=seed, clock=clock or ManualClock())
    return SimulatedMeter(WAGO, unit, source)


@pytest.mark.parametrize("framing", ["tcp", "rtu"])
async def test_registers_decode_to_the_model(framing: str) -> None:
    """Every value read over the wire is the model's, within float32 precision."""
    meter = _meter(1, seed=1)
    meter.freeze()
    async with (
        ModbusSimulator([meter], framing="rtu" if framing == "rtu" else "tcp") as sim,
        _client(sim) as client,
    ):
        read = await _read_all(client, 1)
    assert read == meter.served_values()
    model = meter.current_values()
    assert read == pytest.approx(model, rel=1e-6, abs=1e-9)
    assert [(r.address, r.count) for r in meter.requests] == [
        (0x5000, 56),
        (0x6000, 62),
    ]


async def test_energy_follows_power_as_time_passes() -> None:
    """Counters read over the wire never drop and grow by the power read meanwhile."""
    clock = ManualClock(start=5 * 3600)  # a busy early-morning hour
    meter = _meter(1, seed=2, clock=clock)
    async with ModbusSimulator([meter]) as sim, _client(sim) as client:
        previous = await _read_all(client, 1)
        first = previous
        expected_kwh = 0.0
        for _ in range(120):
            clock.advance(30)
            now = await _read_all(client, 1)
            for counter in (Quantity.ENERGY_IMPORT_TOTAL, Quantity.ENERGY_TOTAL):
                assert now[counter] >= previous[counter]
            mean_w = (previous[Quantity.POWER_TOTAL] + now[Quantity.POWER_TOTAL]) / 2
            expected_kwh += mean_w * 30 / 3.6e6
            previous = now
    grown = previous[Quantity.ENERGY_IMPORT_TOTAL] - first[Quantity.ENERGY_IMPORT_TOTAL]
    assert grown > 0.5
    # Sampling every 30 s misses some of the ripple; float32 rounds at ~0.1 Wh.
    assert grown == pytest.approx(expected_kwh, rel=0.03)


async def test_two_units_answer_independently() -> None:
    """Each unit id serves its own meter; pinning one leaves the other alone."""
    one, two = _meter(1, seed=1), _meter(2, seed=2)
    async with ModbusSimulator([one, two]) as sim, _client(sim) as client:
        first = await _read_all(client, 1)
        second = await _read_all(client, 2)
        assert first != second
        assert first == one.served_values()
        assert second == two.served_values()
        two.set_value(Quantity.POWER_TOTAL, 1500.25)
        pinned = (await _read_all(client, 2))[Quantity.POWER_TOTAL]
        assert pinned == pytest.approx(1500.25, abs=1e-3)  # kW in float32
        assert pinned == two.served_values()[Quantity.POWER_TOTAL]
        assert (await _read_all(client, 1))[Quantity.POWER_TOTAL] == pytest.approx(
            one.current_values()[Quantity.POWER_TOTAL], rel=1e-6
        )
    assert sim.meter(2) is two
    with pytest.raises(KeyError):
        sim.meter(3)


async def test_unused_registers_inside_a_block_read_as_zero() -> None:
    """The planner's gap-merged reads succeed; a strict meter refuses them."""
    lenient = _meter(1, seed=1)
    strict = SimulatedMeter(
        WAGO, 2, Household(seed=2, clock=ManualClock()), fill_gaps=False
    )
    async with ModbusSimulator([lenient, strict]) as sim, _client(sim) as client:
        gap = await client.read_holding_registers(0x6002, count=10, device_id=1)
        assert gap.registers == [0] * 10
        refused = await client.read_holding_registers(0x6002, count=10, device_id=2)
        assert refused.isError()
        assert refused.exception_code == ILLEGAL_ADDRESS
        fine = await client.read_holding_registers(0x6000, count=2, device_id=2)
        assert not fine.isError()


async def test_refused_addresses_answer_exception_2() -> None:
    """refuse() makes any read touching those addresses fail; clear_refusals undoes it."""
    meter = _meter(1, seed=1)
    async with ModbusSimulator([meter]) as sim, _client(sim) as client:
        meter.refuse([0x6012])
        response = await client.read_holding_registers(0x6000, count=62, device_id=1)
        assert response.isError()
        assert response.exception_code == ILLEGAL_ADDRESS
        assert meter.requests[-1] == ReadRecord(3, 0x6000, 62, refused=True)
        assert not (
            await client.read_holding_registers(0x5000, count=56, device_id=1)
        ).isError()
        meter.clear_refusals()
        assert not (
            await client.read_holding_registers(0x6000, count=62, device_id=1)
        ).isError()


async def test_addresses_outside_the_map_and_writes_are_refused() -> None:
    """Like a real meter: unknown addresses, the wrong function code and writes fail."""
    meter = _meter(1, seed=1)
    async with ModbusSimulator([meter]) as sim, _client(sim) as client:
        for response in (
            await client.read_holding_registers(0x1000, count=2, device_id=1),
            await client.read_holding_registers(0x5030, count=20, device_id=1),
            await client.read_input_registers(0x5000, count=2, device_id=1),
            await client.write_register(0x5000, 1, device_id=1),
        ):
            assert response.isError()
            assert response.exception_code == ILLEGAL_ADDRESS


async def test_unknown_unit_gets_no_answer() -> None:
    """Nobody on the bus has unit 9: the client times out, unit 1 still answers."""
    async with (
        ModbusSimulator([_meter(1, seed=1)]) as sim,
        _client(sim, reply_timeout=0.3) as client,
    ):
        with pytest.raises(ModbusIOException):
            await client.read_holding_registers(0x5000, count=2, device_id=9)
        assert not (
            await client.read_holding_registers(0x5000, count=2, device_id=1)
        ).isError()


async def test_unknown_unit_can_get_a_gateway_exception() -> None:
    """A gateway that reports the silence answers exception 0x0B."""
    sim = ModbusSimulator([_meter(1, seed=1)], unknown_unit="gateway_exception")
    async with sim, _client(sim) as client:
        response = await client.read_holding_registers(0x5000, count=2, device_id=9)
        assert response.isError()
        assert response.exception_code == GATEWAY_NO_RESPONSE


async def test_port_zero_picks_a_free_port_and_stop_frees_it() -> None:
    """Two simulators get two ports; after stop, nothing listens and nothing lingers."""
    tasks_before = asyncio.all_tasks()
    first = ModbusSimulator([_meter(1, seed=1)])
    second = ModbusSimulator([_meter(1, seed=1)])
    port = await first.start()
    assert port == first.port != 0
    assert await first.start() == port  # already running: same port
    await second.start()
    assert second.port not in {0, port}
    async with _client(first) as client:
        assert not (
            await client.read_holding_registers(0x5000, count=2, device_id=1)
        ).isError()
        await first.stop()  # with a client still connected
        assert not first.running
    await first.stop()  # twice is fine
    await second.stop()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    assert asyncio.all_tasks() == tasks_before


async def test_restart_on_the_same_port() -> None:
    """A stopped simulator's port can be reused at once (a meter coming back)."""
    first = ModbusSimulator([_meter(1, seed=1)])
    port = await first.start()
    await first.stop()
    again = ModbusSimulator([_meter(1, seed=1)], port=port)
    async with again, _client(again) as client:
        assert again.port == port
        assert not (
            await client.read_holding_registers(0x5000, count=2, device_id=1)
        ).isError()


async def test_port_in_use_is_an_os_error() -> None:
    """Binding a taken port fails loudly instead of serving nothing."""
    async with ModbusSimulator([_meter(1, seed=1)]) as sim:
        clash = ModbusSimulator([_meter(1, seed=1)], port=sim.port)
        with pytest.raises(OSError, match="cannot listen"):
            await clash.start()
        assert not clash.running


def test_invalid_configurations_are_refused() -> None:
    """No meters, duplicate unit ids and unknown framings fail at construction."""
    with pytest.raises(ValueError, match="at least one"):
        ModbusSimulator([])
    with pytest.raises(ValueError, match="share a unit id"):
        ModbusSimulator([_meter(1, seed=1), _meter(1, seed=2)])
    with pytest.raises(ValueError, match="framing"):
        ModbusSimulator([_meter(1, seed=1)], framing="ascii")  # type: ignore[arg-type]
