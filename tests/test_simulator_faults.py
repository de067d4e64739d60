"""The simulator's fault injection: what goes on the wire, how often, and the CLI."""

import asyncio
from collections import Counter
from collections.abc import AsyncGenerator
import math
import signal

from pymodbus.client import AsyncModbusTcpClient, ModbusTcpClient
from pymodbus.framer import FramerType
import pytest

from custom_components.energy_meters.meterlib.decode import decode
from custom_components.energy_meters.meterlib.model import Quantity
from custom_components.energy_meters.meterlib.plan import plan_reads
from custom_components.energy_meters.meterlib.profiles import builtin_profiles
from simulator.faults import (
    LINK_FAULTS,
    RANDOM_FAULTS,
    Fault,
    FaultInjector,
    link_ticket,
    parse_faults,
)
from simulator.server import ModbusSimulator

from .helpers import running_module, wago_meter

WAGO = builtin_profiles()["wago_879_30xx"]
MEASUREMENTS, ENERGIES = plan_reads(WAGO.registers, WAGO.max_registers_per_request)
DEVICE_FAILURE = 4


async def _read(sim: ModbusSimulator, address: int, count: int) -> list[int]:
    """One read of unit 1 over a fresh connection; raises on no answer."""
    client = AsyncModbusTcpClient(
        "127.0.0.1", port=sim.port, framer=FramerType.SOCKET, timeout=0.3, retries=0
    )
    assert await client.connect()
    try:
        response = await client.read_holding_registers(
            address, count=count, device_id=1
        )
    finally:
        client.close()
    if response.isError():
        return [-int(response.exception_code)]
    return list(response.registers)


def _value(quantity: Quantity, block_address: int, registers: list[int]) -> float:
    spec = WAGO.spec(quantity)
    assert spec is not None
    start = spec.address - block_address
    decoded = decode(spec, registers[start : start + spec.count])
    return math.nan if decoded is None else decoded


@pytest.fixture
async def sim(socket_enabled: None) -> AsyncGenerator[ModbusSimulator]:
    """One frozen WAGO meter, unit 1."""
    simulator = ModbusSimulator([wago_meter(1)], host="127.0.0.1", port=0)
    await simulator.start()
    yield simulator
    await simulator.stop()


@pytest.mark.parametrize(
    ("fault", "quantity", "check"),
    [
        (Fault.SPIKE, Quantity.POWER_TOTAL, lambda true, got: abs(got - true) >= 5000),
        (Fault.SPIKE, Quantity.VOLTAGE_L1, lambda true, got: abs(got - true) >= 60),
        (Fault.SPIKE, Quantity.FREQUENCY, lambda true, got: abs(got - true) >= 2),
        (Fault.ZERO, Quantity.VOLTAGE_L2, lambda _true, got: got == 0.0),
        (Fault.NAN, Quantity.CURRENT_L1, lambda _true, got: math.isnan(got)),
        (Fault.SWAP, Quantity.VOLTAGE_L3, lambda true, got: abs(got - true) > 1),
        (
            Fault.COUNTER_DROP,
            Quantity.ENERGY_IMPORT_TOTAL,
            lambda true, got: 0 <= got <= 0.9 * true,
        ),
        (
            Fault.COUNTER_JUMP,
            Quantity.ENERGY_IMPORT_L1,
            lambda true, got: got >= true + 999,
        ),
    ],
)
async def test_value_fault_goes_on_the_wire_once(
    sim: ModbusSimulator, fault: Fault, quantity: Quantity, check: object
) -> None:
    """The next read carrying the quantity is wrong there, and only there; then right."""
    meter = sim.meter(1)
    block = (
        MEASUREMENTS
        if quantity in {s.quantity for s in MEASUREMENTS.specs}
        else ENERGIES
    )
    true = meter.served_values()
    meter.faults.inject(fault, quantity=quantity)
    wrong = await _read(sim, block.address, block.count)
    assert callable(check)
    assert check(true[quantity], _value(quantity, block.address, wrong))
    for spec in block.specs:
        if spec.quantity is not quantity:
            assert _value(spec.quantity, block.address, wrong) == true[spec.quantity]
    right = await _read(sim, block.address, block.count)
    assert _value(quantity, block.address, right) == true[quantity]
    assert meter.served_values() == true  # the healthy view is unchanged
    assert meter.faults.injected == Counter({fault: 1})
    (record,) = meter.faults.log
    assert record.quantity is quantity
    assert record.true_value == pytest.approx(true[quantity], rel=1e-6)


async def test_targeted_fault_waits_for_its_quantity(sim: ModbusSimulator) -> None:
    """An energy fault ordered while measurements are read hits the energy read."""
    meter = sim.meter(1)
    meter.faults.inject(Fault.ZERO, quantity=Quantity.ENERGY_IMPORT_TOTAL, count=2)
    await _read(sim, MEASUREMENTS.address, MEASUREMENTS.count)
    assert meter.faults.pending == 1
    for _ in range(2):
        wrong = await _read(sim, ENERGIES.address, ENERGIES.count)
        assert _value(Quantity.ENERGY_IMPORT_TOTAL, ENERGIES.address, wrong) == 0.0
    assert meter.faults.pending == 0
    right = await _read(sim, ENERGIES.address, ENERGIES.count)
    assert _value(Quantity.ENERGY_IMPORT_TOTAL, ENERGIES.address, right) > 0


async def test_exception_and_silence(sim: ModbusSimulator) -> None:
    """Exception 4 answers; silence does not answer at all, until cleared."""
    meter = sim.meter(1)
    meter.faults.inject(Fault.EXCEPTION)
    assert await _read(sim, MEASUREMENTS.address, 2) == [-DEVICE_FAILURE]
    meter.faults.inject(Fault.SILENCE, count=None)
    for _ in range(2):
        with pytest.raises(Exception, match="No response"):
            await _read(sim, MEASUREMENTS.address, 2)
    meter.faults.clear()
    assert len(await _read(sim, MEASUREMENTS.address, 2)) == 2
    assert [record.fault for record in meter.requests][-4:] == [
        Fault.EXCEPTION,
        Fault.SILENCE,
        Fault.SILENCE,
        None,
    ]


async def test_stopping_with_a_late_answer_queued_leaves_nothing_behind(
    sim: ModbusSimulator,
) -> None:
    """A late answer still queued when the simulator stops is dropped, not sent."""
    meter = sim.meter(1)
    meter.faults.late_delay_s = 30.0
    meter.faults.inject(Fault.LATE)
    client = AsyncModbusTcpClient(
        "127.0.0.1", port=sim.port, framer=FramerType.SOCKET, timeout=0.2, retries=0
    )
    assert await client.connect()
    try:
        with pytest.raises(Exception, match="No response"):
            await client.read_holding_registers(MEASUREMENTS.address, count=2)
        await sim.stop()
    finally:
        client.close()
    await asyncio.sleep(0)


def test_replacement_restarts_every_counter_and_nothing_else() -> None:
    """After `replace`, counters start from the start value; the rest is untouched."""
    meter = wago_meter(1)
    before = meter.current_values()
    meter.faults.replacement_start_kwh = 2.5
    meter.faults.inject(Fault.REPLACE)
    assert meter.faults.draw(3, 0x6000, 2, [], before) is not None
    after = meter.current_values()
    for quantity, value in before.items():
        if quantity.value.startswith(("energy_", "reactive_energy_")):
            assert after[quantity] == pytest.approx(2.5)
        else:
            assert after[quantity] == value
    meter.set_value(
        Quantity.ENERGY_IMPORT_TOTAL, before[Quantity.ENERGY_IMPORT_TOTAL] + 1
    )
    assert meter.current_values()[Quantity.ENERGY_IMPORT_TOTAL] == pytest.approx(3.5)


def _draws(injector: FaultInjector, reads: int, link: bool) -> Counter[Fault]:
    current = wago_meter(1).current_values()
    made: Counter[Fault] = Counter()
    for index in range(reads):
        block = (MEASUREMENTS, ENERGIES)[index % 2]
        if link:
            with link_ticket():
                decision = injector.draw(
                    3, block.address, block.count, block.specs, current
                )
        else:
            decision = injector.draw(
                3, block.address, block.count, block.specs, current
            )
        if decision is not None:
            made[decision.fault] += 1
    return made


def test_random_faults_are_seeded_and_come_at_the_rate() -> None:
    """The same seed, the same faults; about `rate` of reads; every kind as often."""
    first, second = FaultInjector(), FaultInjector()
    first.randomize(0.2, seed=7)
    second.randomize(0.2, seed=7)
    made = _draws(first, 5000, link=True)
    assert made == _draws(second, 5000, link=True)
    assert 900 < sum(made.values()) < 1100
    assert set(made) == RANDOM_FAULTS
    # Every kind equally often, counter faults too though half the reads
    # carry no counter: they wait for the next read that does.
    assert max(made.values()) < 1.5 * min(made.values())
    assert first.injected == made


def test_link_faults_need_a_server_that_can_show_them() -> None:
    """Without a ticket (no cooperating server), silence and late are never drawn."""
    injector = FaultInjector()
    injector.randomize(0.5, seed=1)
    made = _draws(injector, 1000, link=False)
    assert made
    assert not set(made) & LINK_FAULTS


def test_parse_faults() -> None:
    """Names, "all", and a clear error for a typo."""
    assert parse_faults("spike, ZERO") == {Fault.SPIKE, Fault.ZERO}
    assert parse_faults("all,replace") == frozenset(Fault)
    with pytest.raises(ValueError, match="unknown fault 'spikes'; known: all, spike"):
        parse_faults("spikes")
    with pytest.raises(ValueError, match="no fault kinds"):
        parse_faults(" , ")


def test_inject_rejects_nonsense() -> None:
    """A count below one and a rate outside 0..1 are mistakes."""
    injector = FaultInjector()
    with pytest.raises(ValueError, match="count"):
        injector.inject(Fault.ZERO, count=0)
    with pytest.raises(ValueError, match="rate"):
        injector.randomize(1.5)


@pytest.mark.usefixtures("socket_enabled")
def test_cli_corrupts_reads_and_counts_them() -> None:
    """`--fault-rate 1 --faults exception`: every read refused; counts printed at the end."""
    with running_module(
        "simulator",
        *("--port", "0", "--fault-rate", "1"),
        *("--faults", "exception", "--fault-seed", "3"),
    ) as process:
        assert process.stdout is not None
        listening = process.stdout.readline()
        port = int(listening.split(":")[1].split()[0])
        assert process.stdout.readline().strip() == (
            "Corrupting 100.00% of reads with: exception"
        )
        client = ModbusTcpClient("127.0.0.1", port=port, timeout=2, retries=0)
        try:
            assert client.connect()  # type: ignore[no-untyped-call]
            for _ in range(3):
                response = client.read_holding_registers(0x5000, count=2, device_id=1)
                assert response.isError()
                assert response.exception_code == DEVICE_FAILURE
        finally:
            client.close()  # type: ignore[no-untyped-call]
        process.send_signal(signal.SIGTERM)
        out, _ = process.communicate(timeout=10)
        assert process.returncode == 0
        assert out.strip().splitlines()[-1] == "Faults injected: exception 3"
