"""The simulator's RS-485 timing model: frame sizes, bus time, one at a time."""

import asyncio
import time

import pytest

from custom_components.energy_meters.meterlib.model import FunctionCode
from custom_components.energy_meters.meterlib.transport import (
    Framing,
    ModbusExceptionError,
    ModbusTransport,
)
from simulator.rs485 import LineSettings, Rs485Line, read_frame_bytes
from simulator.server import ModbusSimulator

from .helpers import wago_meter

# asyncio may wake a timer up to its clock resolution early.
EARLY = 0.002


def test_frame_sizes_and_times() -> None:
    """RTU frames: 8 bytes asked, 5 + 2 per register answered, 11 bits each."""
    assert read_frame_bytes(56) == (8, 117)
    assert read_frame_bytes(56, refused=True) == (8, 5)
    settings = LineSettings(baud=9600, turnaround_s=0.004)
    assert settings.wire_seconds(96) == pytest.approx(0.11)
    assert settings.exchange_seconds(8, 117) == pytest.approx(125 * 11 / 9600 + 0.004)
    assert settings.rtu_silence_s == pytest.approx(3.5 * 11 / 9600)
    assert LineSettings(baud=115200).rtu_silence_s == 0.00175


async def test_reads_take_their_bus_time(socket_enabled: None) -> None:
    """A read is answered no sooner than its frames could cross the bus."""
    line = Rs485Line(LineSettings(baud=9600, turnaround_s=0.005))
    async with ModbusSimulator([wago_meter(1)], host="127.0.0.1", line=line) as sim:
        transport = ModbusTransport("127.0.0.1", sim.port, Framing.TCP, 2.0)
        try:
            await transport.check_connection()
            started = time.monotonic()
            await transport.read(FunctionCode.HOLDING, 0x5000, 56, 1)
            elapsed = time.monotonic() - started
        finally:
            await transport.close()
    assert line.exchanges == 1
    assert line.bytes == 125
    assert elapsed >= 125 * 11 / 9600 + 0.005 - EARLY


async def test_refused_read_costs_a_short_answer(socket_enabled: None) -> None:
    """Exception 2 is a 5-byte answer on the bus."""
    meter = wago_meter(1)
    meter.refuse([0x5014])
    line = Rs485Line()
    async with ModbusSimulator([meter], host="127.0.0.1", line=line) as sim:
        transport = ModbusTransport("127.0.0.1", sim.port, Framing.TCP, 2.0)
        try:
            with pytest.raises(ModbusExceptionError):
                await transport.read(FunctionCode.HOLDING, 0x5000, 56, 1)
        finally:
            await transport.close()
    assert (line.exchanges, line.bytes) == (1, 13)


async def test_one_exchange_at_a_time_across_meters(socket_enabled: None) -> None:
    """Two clients reading two meters at once still wait for each other."""
    line = Rs485Line(LineSettings(baud=9600))
    async with ModbusSimulator(
        [wago_meter(1), wago_meter(2)], host="127.0.0.1", line=line
    ) as sim:
        clients = [
            ModbusTransport("127.0.0.1", sim.port, Framing.TCP, 2.0) for _ in range(2)
        ]
        try:
            for client in clients:
                await client.check_connection()
            started = time.monotonic()
            await asyncio.gather(
                *(
                    client.read(FunctionCode.HOLDING, 0x5000, 56, unit)
                    for unit, client in enumerate(clients, start=1)
                )
            )
            elapsed = time.monotonic() - started
        finally:
            for client in clients:
                await client.close()
    one = 125 * 11 / 9600
    assert line.exchanges == 2
    assert elapsed >= 2 * one - EARLY
    assert line.busy_s == pytest.approx(2 * one)


async def test_requests_in_flight_are_counted() -> None:
    """One after the other: never two at once; two masters at once: overlapped."""
    line = Rs485Line(LineSettings(baud=115200))
    for _ in range(3):
        await line.read(2)
    assert line.max_in_flight == 1
    assert not line.overlapped
    await asyncio.gather(line.read(2), line.read(2))
    assert line.max_in_flight == 2
    assert line.overlapped
    line.reset_counters()
    assert not line.overlapped
