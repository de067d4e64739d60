"""SunSpec: walking the model chain, resolving offsets, and scale factors on the wire.

The chain walk is tested against an in-memory device first (exact control
over what each address answers), then the whole path against the simulator
over TCP: a meter model placed where a hard-coded reader would not look for
it, scale factors that change between polls, and the "not implemented"
markers.
"""

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager

import pytest

from custom_components.energy_meters.meterlib.model import FunctionCode, Quantity
from custom_components.energy_meters.meterlib.plan import ReadRequest
from custom_components.energy_meters.meterlib.profiles import builtin_profiles
from custom_components.energy_meters.meterlib.reader import MeterReader
from custom_components.energy_meters.meterlib.sunspec import (
    ModelBlock,
    SunSpecModelNotFoundError,
    locate,
    resolve,
    walk_chain,
)
from custom_components.energy_meters.meterlib.transport import (
    ILLEGAL_ADDRESS,
    Framing,
    ModbusExceptionError,
    ModbusTransport,
)
from simulator.meter import SimulatedMeter
from simulator.server import ModbusSimulator
from simulator.sunspec_layout import COMMON, ChainModel, SunSpecMeter

PROFILES = builtin_profiles()
SUNSPEC_203 = PROFILES["sunspec_203"]
SUNSPEC_213 = PROFILES["sunspec_213"]
Q = Quantity
SUNS = [0x5375, 0x6E53]


class FakeDevice:
    """Holding registers in a dict; anything else answers exception 2."""

    def __init__(self, registers: Mapping[int, int]) -> None:
        """Keep the registers; count the requests."""
        self.registers = dict(registers)
        self.requests: list[tuple[int, int]] = []

    async def read(self, request: ReadRequest) -> list[int]:
        """Answer a read as a device would."""
        self.requests.append((request.address, request.count))
        span = range(request.address, request.address + request.count)
        if any(address not in self.registers for address in span):
            raise ModbusExceptionError(
                ILLEGAL_ADDRESS, int(request.function), request.address, request.count
            )
        return [self.registers[address] for address in span]


def _chain(
    base: int, models: list[tuple[int, int]], *, end_marker: bool = True
) -> dict[int, int]:
    """Registers of a chain: marker, then each (id, length) with zero points."""
    words = {base: SUNS[0], base + 1: SUNS[1]}
    address = base + 2
    for model, length in models:
        words[address] = model
        words[address + 1] = length
        for offset in range(length):
            words[address + 2 + offset] = 0
        address += 2 + length
    if end_marker:
        words[address] = 0xFFFF
        words[address + 1] = 0
    return words


@pytest.mark.parametrize("base", [40000, 50000, 0])
async def test_the_chain_is_found_at_every_allowed_base(base: int) -> None:
    """The marker may sit at 40000, 50000 or 0: all three are walked."""
    device = FakeDevice(_chain(base, [(1, 66), (203, 105)]))
    blocks = await walk_chain(device.read)
    assert blocks == [
        ModelBlock(1, base + 2, 66),
        ModelBlock(203, base + 70, 105),
    ]


async def test_walk_stops_at_the_wanted_model() -> None:
    """Models after the one the profile maps cost no requests."""
    device = FakeDevice(_chain(40000, [(1, 65), (213, 124), (203, 105), (120, 26)]))
    profile = await locate(SUNSPEC_203, device.read)
    voltage = profile.spec(Q.VOLTAGE_L1)
    assert voltage is not None
    block = 40000 + 2 + (2 + 65) + (2 + 124)
    assert voltage.address == block + 8
    assert voltage.scale_factor == block + 15
    assert profile.sunspec_model is None
    # marker, three model headers; nothing after model 203
    assert device.requests == [(40000, 2), (40002, 2), (40069, 2), (40195, 2)]


async def test_a_chain_without_end_marker_ends_at_the_refusal() -> None:
    """Some devices refuse the address after the last model instead of 0xFFFF."""
    device = FakeDevice(_chain(40000, [(1, 66), (101, 50)], end_marker=False))
    blocks = await walk_chain(device.read)
    assert [block.model for block in blocks] == [1, 101]


async def test_no_marker_is_a_clear_error() -> None:
    """A meter that is not SunSpec: the error says where the marker was looked for."""
    device = FakeDevice({40000: 1, 40001: 2})
    with pytest.raises(SunSpecModelNotFoundError, match="no SunSpec marker") as caught:
        await locate(SUNSPEC_203, device.read)
    assert (
        caught.value.code == ILLEGAL_ADDRESS
    )  # the flow reports it as a profile mismatch


async def test_a_missing_model_names_the_models_found() -> None:
    """A float-only device offered the int+SF profile: say what it has instead."""
    device = FakeDevice(_chain(40000, [(1, 66), (213, 124)]))
    with pytest.raises(SunSpecModelNotFoundError, match=r"model 203 .*found: 1, 213"):
        await locate(SUNSPEC_203, device.read)


def test_a_model_shorter_than_the_profile_is_refused() -> None:
    """A block too short for the mapped offsets would read another model's points."""
    with pytest.raises(SunSpecModelNotFoundError, match="has 50 registers"):
        resolve(SUNSPEC_203, ModelBlock(203, 40070, 50))


def test_resolve_shifts_values_and_scale_factors() -> None:
    """Offsets become wire addresses; the result is an ordinary profile."""
    resolved = resolve(SUNSPEC_213, ModelBlock(213, 40069, 124))
    frequency = resolved.spec(Q.FREQUENCY)
    assert frequency is not None
    assert (frequency.address, frequency.scale_factor) == (40069 + 26, None)
    assert resolved.sunspec_model is None
    assert resolved.quantities == SUNSPEC_213.quantities


async def test_a_plain_profile_is_left_alone() -> None:
    """Locating is a no-op for a profile with wire addresses: no request at all."""
    wago = PROFILES["wago_879_30xx"]
    device = FakeDevice(_chain(40000, [(1, 66), (203, 105)]))
    assert await locate(wago, device.read) is wago
    assert device.requests == []


# --- against the simulator, over TCP ------------------------------------------


class FixedSource:
    """A value source with fixed values (missing: not available)."""

    def __init__(self, values: Mapping[Quantity, float]) -> None:
        """Keep the values."""
        self._values = dict(values)

    def values(self) -> Mapping[Quantity, float]:
        """Return the fixed values."""
        return self._values


VALUES: Mapping[Quantity, float] = {
    Q.VOLTAGE_L1: 230.1,
    Q.VOLTAGE_L2: 231.2,
    Q.CURRENT_L1: 5.25,
    Q.FREQUENCY: 49.98,
    Q.POWER_TOTAL: 1750.0,
    Q.POWER_L1: 900.0,
    Q.POWER_L2: -150.0,
    Q.POWER_FACTOR: 0.95,
    Q.ENERGY_IMPORT_TOTAL: 12345.678,
    Q.ENERGY_EXPORT_TOTAL: 2345.6,
}


@asynccontextmanager
async def _reader(meter: SimulatedMeter) -> AsyncIterator[MeterReader]:
    """A real reader for the meter's SunSpec profile, over TCP to the simulator."""
    assert isinstance(meter, SunSpecMeter)
    async with ModbusSimulator([meter], host="127.0.0.1") as sim:
        transport = ModbusTransport("127.0.0.1", sim.port, Framing.TCP, timeout=1.0)
        try:
            yield MeterReader(transport, meter.unit_id, meter.sunspec_profile)
        finally:
            await transport.close()


@pytest.mark.usefixtures("socket_enabled")
async def test_reader_finds_the_model_wherever_it_sits() -> None:
    """Marker at 50000, a float meter model before the int one: still found and read."""
    meter = SunSpecMeter(
        SUNSPEC_203,
        1,
        FixedSource(VALUES),
        base=50000,
        models_before=[COMMON, ChainModel(213, 124), ChainModel(64001, 10)],
    )
    async with _reader(meter) as reader:
        reading = await reader.read()
        again = await reader.read()
    for quantity, value in VALUES.items():
        assert reading.values[quantity] == pytest.approx(value), quantity
    block = 50000 + 2 + 68 + 126 + 12
    assert reader.plan[0].function is FunctionCode.HOLDING
    assert reader.plan[0].address >= block
    # The walk is paid once: the second poll is the plan alone.
    assert again.requests == len(reader.plan) == 1


@pytest.mark.usefixtures("socket_enabled")
async def test_values_follow_a_changing_scale_factor() -> None:
    """A device that changes an exponent between polls is read right both times.

    Each value is read in the same request as its scale factor, so a poll
    can never combine a new value with an old exponent.
    """
    meter = SunSpecMeter(SUNSPEC_203, 1, FixedSource(VALUES))
    async with _reader(meter) as reader:
        first = await reader.read()
        meter.set_scale_factor(Q.POWER_TOTAL, -1)
        second = await reader.read()
        meter.set_scale_factor(Q.POWER_TOTAL, 1)
        third = await reader.read()
    assert first.values[Q.POWER_TOTAL] == pytest.approx(1750.0)
    assert second.values[Q.POWER_TOTAL] == pytest.approx(1750.0)
    assert second.values[Q.POWER_L2] == pytest.approx(-150.0)
    assert third.values[Q.POWER_TOTAL] == pytest.approx(1750.0)
    for request in reader.plan:
        for spec in request.specs:
            assert spec.scale_factor is not None
            assert (
                request.address <= spec.scale_factor < request.address + request.count
            )


@pytest.mark.usefixtures("socket_enabled")
async def test_not_implemented_markers_are_unavailable() -> None:
    """SF 0x8000 blanks its group; int16 0x8000 and acc32 0 blank their value."""
    values = dict(VALUES)
    del values[Q.VOLTAGE_L2]  # served as int16 0x8000
    del values[Q.ENERGY_EXPORT_TOTAL]  # served as acc32 0
    meter = SunSpecMeter(SUNSPEC_203, 1, FixedSource(values))
    meter.set_scale_factor(Q.POWER_TOTAL, None)  # W_SF = 0x8000
    async with _reader(meter) as reader:
        reading = await reader.read()
    for quantity in (
        Q.VOLTAGE_L2,
        Q.ENERGY_EXPORT_TOTAL,
        Q.POWER_TOTAL,
        Q.POWER_L1,
        Q.POWER_L2,
    ):
        assert reading.values[quantity] is None, quantity
    assert reading.values[Q.VOLTAGE_L1] == pytest.approx(230.1)
    assert reading.values[Q.ENERGY_IMPORT_TOTAL] == pytest.approx(12345.678)
    assert set(meter.served_values()) == set(values) - {
        Q.POWER_TOTAL,
        Q.POWER_L1,
        Q.POWER_L2,
    }


@pytest.mark.usefixtures("socket_enabled")
async def test_213_reads_floats_and_nan_is_unavailable() -> None:
    """The float model: no scale factors, NaN is "not implemented"."""
    values = dict(VALUES)
    del values[Q.POWER_L2]
    meter = SunSpecMeter(SUNSPEC_213, 1, FixedSource(values))
    async with _reader(meter) as reader:
        reading = await reader.read()
    assert reading.values[Q.POWER_L2] is None
    assert reading.values[Q.FREQUENCY] == pytest.approx(49.98)
    assert reading.values[Q.ENERGY_IMPORT_TOTAL] == pytest.approx(12345.678, rel=1e-6)


@pytest.mark.usefixtures("socket_enabled")
async def test_a_meter_that_is_not_sunspec_fails_the_read() -> None:
    """A SunSpec profile against a WAGO: the read fails as a profile mismatch."""
    wago = SimulatedMeter(PROFILES["wago_879_30xx"], 1)
    async with ModbusSimulator([wago], host="127.0.0.1") as sim:
        transport = ModbusTransport("127.0.0.1", sim.port, Framing.TCP, timeout=1.0)
        try:
            reader = MeterReader(transport, 1, SUNSPEC_213)
            with pytest.raises(ModbusExceptionError, match="no SunSpec marker"):
                await reader.read()
        finally:
            await transport.close()
