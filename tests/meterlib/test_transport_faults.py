"""The transport against answers that come late, from elsewhere or not at all.

In RTU framing over TCP an answer carries nothing but the unit id, the
function code and its length to tie it to a request; pymodbus checks the
unit only. These tests show the hazard with a plain pymodbus client, then
that the integration's transport never takes a stale or foreign answer.
"""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
import struct
from typing import Any, Self

from pymodbus.client import AsyncModbusTcpClient
from pymodbus.framer import FramerRTU, FramerType
import pytest

from custom_components.energy_meters.meterlib.model import FunctionCode, Quantity
from custom_components.energy_meters.meterlib.profiles import builtin_profiles
from custom_components.energy_meters.meterlib.reader import MeterReader
from custom_components.energy_meters.meterlib.transport import (
    Framing,
    GatewayUnreachableError,
    ModbusTransport,
    NoResponseError,
)
from simulator.faults import Fault
from simulator.meter import SimulatedMeter
from simulator.server import ModbusSimulator
from tests.helpers import wago_meter

pytestmark = pytest.mark.usefixtures("socket_enabled")

TIMEOUT_S = 0.3
LATE_S = 0.45
VOLTAGE = 0x5000  # two registers each, both function 3: same shape of answer
POWER = 0x5012


@asynccontextmanager
async def _gateway(framing: str) -> AsyncIterator[ModbusSimulator]:
    meters = [wago_meter(1, seed=1), wago_meter(2, seed=2)]
    for meter in meters:
        meter.faults.late_delay_s = LATE_S
    sim = ModbusSimulator(meters, host="127.0.0.1", port=0, framing=framing)  # type: ignore[arg-type]
    await sim.start()
    try:
        yield sim
    finally:
        await sim.stop()


def _words(sim: ModbusSimulator, unit: int, address: int) -> list[int]:
    """The two registers the meter serves at `address` now."""
    meter = sim.meter(unit)
    for spec in meter.profile.registers:
        if spec.address == address:
            return meter._encode(spec, meter.current_values())
    raise AssertionError(address)


@asynccontextmanager
async def _plain_rtu_client(
    sim: ModbusSimulator,
) -> AsyncIterator[AsyncModbusTcpClient]:
    """Pymodbus's own client in RTU framing, without this integration's checks."""
    client = AsyncModbusTcpClient(
        "127.0.0.1",
        port=sim.port,
        framer=FramerType.RTU,
        timeout=TIMEOUT_S,
        retries=0,
        reconnect_delay=0,
    )
    assert await client.connect()
    try:
        yield client
    finally:
        client.close()


async def test_plain_pymodbus_takes_a_late_rtu_answer_for_the_next_one() -> None:
    """The hazard: the voltage's late answer is returned as the power's."""
    async with _gateway("rtu") as sim, _plain_rtu_client(sim) as client:
        sim.meter(1).faults.inject(Fault.LATE)
        with pytest.raises(Exception, match="No response"):
            await client.read_holding_registers(VOLTAGE, count=2, device_id=1)
        answer = await client.read_holding_registers(POWER, count=2, device_id=1)
        assert answer.registers == _words(sim, 1, VOLTAGE)
        assert answer.registers != _words(sim, 1, POWER)


async def test_plain_pymodbus_skips_a_late_answer_from_another_unit() -> None:
    """The plain client does check the unit: unit 2's late answer is not unit 1's."""
    async with _gateway("rtu") as sim, _plain_rtu_client(sim) as client:
        sim.meter(2).faults.inject(Fault.LATE)
        with pytest.raises(Exception, match="No response"):
            await client.read_holding_registers(VOLTAGE, count=2, device_id=2)
        answer = await client.read_holding_registers(VOLTAGE, count=2, device_id=1)
        assert answer.dev_id == 1
        assert answer.registers == _words(sim, 1, VOLTAGE)


@pytest.mark.parametrize("framing", ["rtu", "tcp"])
async def test_transport_never_takes_a_late_answer(framing: str) -> None:
    """After a timeout the next read gets its own answer, in either framing.

    RTU: the transport starts a new connection, so the late answer dies with
    the old one. Modbus TCP: pymodbus tells the answers apart by transaction
    id, and the connection is kept.
    """
    async with _gateway(framing) as sim:
        transport = ModbusTransport(
            "127.0.0.1",
            sim.port,
            Framing.RTU_OVER_TCP if framing == "rtu" else Framing.TCP,
            TIMEOUT_S,
        )
        try:
            await transport.check_connection()
            first = transport._client
            sim.meter(1).faults.inject(Fault.LATE)
            with pytest.raises(NoResponseError):
                await transport.read(FunctionCode.HOLDING, VOLTAGE, 2, 1)
            power = await transport.read(FunctionCode.HOLDING, POWER, 2, 1)
            assert power == _words(sim, 1, POWER)
            await asyncio.sleep(LATE_S)  # the late answer has come and gone
            voltage = await transport.read(FunctionCode.HOLDING, VOLTAGE, 2, 1)
            assert voltage == _words(sim, 1, VOLTAGE)
            assert (transport._client is first) is (framing == "tcp")
        finally:
            await transport.close()


async def test_lost_connection_is_the_gateway_and_the_next_read_reconnects() -> None:
    """The gateway hangs up mid-request: GatewayUnreachableError, then a fresh start."""
    async with _gateway("tcp") as sim:
        transport = ModbusTransport("127.0.0.1", sim.port, Framing.TCP, TIMEOUT_S)
        try:
            sim.meter(1).faults.inject(Fault.DISCONNECT)
            with pytest.raises(GatewayUnreachableError, match="lost"):
                await transport.read(FunctionCode.HOLDING, POWER, 2, 1)
            assert transport.connect_failures == 0  # the gateway is still there
            assert await transport.read(FunctionCode.HOLDING, POWER, 2, 1) == _words(
                sim, 1, POWER
            )
        finally:
            await transport.close()


async def test_failed_connects_are_counted_until_one_succeeds() -> None:
    """`connect_failures` tells the poller the gateway itself is gone."""
    async with _gateway("tcp") as sim:
        port = sim.port
        await sim.stop()
        transport = ModbusTransport("127.0.0.1", port, Framing.TCP, TIMEOUT_S)
        for attempt in (1, 2):
            with pytest.raises(GatewayUnreachableError):
                await transport.read(FunctionCode.HOLDING, POWER, 2, 1)
            assert transport.connect_failures == attempt
        await sim.start()
        await transport.read(FunctionCode.HOLDING, POWER, 2, 1)
        assert transport.connect_failures == 0
        await transport.close()


async def test_silent_meter_costs_one_request_per_poll() -> None:
    """The reader stops a meter's poll at its first unanswered request."""
    async with _gateway("tcp") as sim:
        transport = ModbusTransport("127.0.0.1", sim.port, Framing.TCP, TIMEOUT_S)
        meter = sim.meter(1)
        reader = MeterReader(transport, 1, meter.profile)
        meter.faults.inject(Fault.SILENCE, count=None)
        try:
            before = len(meter.requests)
            with pytest.raises(NoResponseError):
                await reader.read()
            assert len(meter.requests) - before == 1
            assert len(reader.plan) > 1
        finally:
            await transport.close()


# --- answers that cannot belong to the request -----------------------------------


def _rtu(unit: int, function: int, registers: list[int]) -> bytes:
    """An RTU read answer frame, CRC included."""
    body = bytes([unit, function, 2 * len(registers)])
    body += b"".join(struct.pack(">H", r) for r in registers)
    return body + FramerRTU.compute_CRC(body).to_bytes(2, "big")


class _Liar:
    """A TCP server that answers every RTU request with the same wrong frame."""

    def __init__(self, answer: bytes) -> None:
        self.answer = answer
        self.connections = 0
        self.server: asyncio.Server | None = None

    async def __aenter__(self) -> int:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return int(self.server.sockets[0].getsockname()[1])

    async def __aexit__(self, *_: object) -> None:
        assert self.server is not None
        self.server.close()
        self.server.close_clients()
        await self.server.wait_closed()

    async def _serve(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        self.connections += 1
        try:
            while await reader.readexactly(8):  # an RTU read request
                writer.write(self.answer)
                await writer.drain()
        except asyncio.IncompleteReadError, ConnectionError:
            pass
        finally:
            writer.close()


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (_rtu(1, 3, [0x4366, 0x0000]), "answer to function 3, asked function 4"),
        (_rtu(1, 4, [0x4366, 0x0000, 0, 0]), "asked for 2 registers, got 4"),
    ],
)
async def test_answer_to_another_request_is_refused(
    answer: bytes, message: str
) -> None:
    """A wrong function code or register count: rejected, and a new connection."""
    liar = _Liar(answer)
    async with liar as port:
        transport = ModbusTransport("127.0.0.1", port, Framing.RTU_OVER_TCP, 1.0)
        try:
            for expected_connections in (1, 2):
                with pytest.raises(NoResponseError, match=message):
                    await transport.read(FunctionCode.INPUT, 0, 2, 1)
                assert liar.connections == expected_connections
        finally:
            await transport.close()


class _TransparentConverter:
    """An RS-485-to-Ethernet converter in transparent mode, between client and meters.

    Its serial side is one line shared by every TCP connection: here, one
    upstream connection to the simulator. Bytes the line delivers while no
    client is connected wait in its buffer and go to the next client as soon
    as that client sends its first request, ahead of that request's answer.
    That is how a late answer reaches a later connection.
    """

    def __init__(self, upstream_port: int) -> None:
        self._upstream_port = upstream_port
        self._line: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
        self._client: asyncio.StreamWriter | None = None
        self._held = bytearray()
        self._tasks: set[asyncio.Task[None]] = set()
        self._server: asyncio.Server | None = None
        self.port = 0

    async def __aenter__(self) -> Self:
        self._line = await asyncio.open_connection("127.0.0.1", self._upstream_port)
        self._spawn(self._from_line())
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = int(self._server.sockets[0].getsockname()[1])
        return self

    async def __aexit__(self, *_: object) -> None:
        assert self._server is not None
        assert self._line is not None
        self._server.close()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._line[1].close()
        await self._server.wait_closed()

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)

    async def _from_line(self) -> None:
        assert self._line is not None
        while data := await self._line[0].read(256):
            if self._client is None or self._client.is_closing():
                self._held += data
            else:
                self._client.write(data)

    async def _serve(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        assert self._line is not None
        self._client = writer
        try:
            while data := await reader.read(256):
                self._line[1].write(data)
                if self._held:
                    writer.write(bytes(self._held))
                    self._held.clear()
        finally:
            writer.close()


async def test_a_late_answer_handed_to_the_next_connection_is_not_taken() -> None:
    """A transparent converter delivers the late voltage as the power's answer.

    Starting a new connection after the timeout is not enough here: the
    converter keeps the late bytes and hands them to the new connection. The
    transport confirms the first answer after a timeout by asking again, so
    the power read returns the power, and the voltage read after it the
    voltage.
    """
    async with _gateway("rtu") as sim, _TransparentConverter(sim.port) as converter:
        transport = ModbusTransport(
            "127.0.0.1", converter.port, Framing.RTU_OVER_TCP, TIMEOUT_S
        )
        try:
            sim.meter(1).faults.inject(Fault.LATE)
            with pytest.raises(NoResponseError):
                await transport.read(FunctionCode.HOLDING, VOLTAGE, 2, 1)
            await asyncio.sleep(LATE_S)  # the late answer waits in the converter
            power = await transport.read(FunctionCode.HOLDING, POWER, 2, 1)
            assert power == _words(sim, 1, POWER)
            voltage = await transport.read(FunctionCode.HOLDING, VOLTAGE, 2, 1)
            assert voltage == _words(sim, 1, VOLTAGE)
        finally:
            await transport.close()


class _HandsOverOnce(ModbusTransport):
    """A link that answers one request with the answer to another, once.

    What a late answer does wherever it gets through: the answer to the
    EM24's energy block (function 4 at 62, 10 registers) arrives as the
    answer to its current block (function 4 at 12, 10 registers).
    """

    swap: tuple[int, int] | None = None

    async def read(
        self, function: FunctionCode, address: int, count: int, unit_id: int
    ) -> list[int]:
        if self.swap is not None and address == self.swap[0]:
            address, self.swap = self.swap[1], None
        return await super().read(function, address, count, unit_id)


async def test_an_answer_that_repeats_another_block_is_not_decoded() -> None:
    """The EM24's energy answer taken for its currents: the poll fails, no value is wrong."""
    em24 = builtin_profiles()["carlo_gavazzi_em24"]
    meter = SimulatedMeter(em24, unit_id=1, seed=5)
    meter.freeze()
    async with ModbusSimulator([meter], host="127.0.0.1", framing="rtu") as sim:
        transport = _HandsOverOnce("127.0.0.1", sim.port, Framing.RTU_OVER_TCP, 1.0)
        reader = MeterReader(transport, 1, em24)
        try:
            first = await reader.read()
            assert first.values[Quantity.CURRENT_L1] == pytest.approx(
                meter.served_values()[Quantity.CURRENT_L1]
            )
            transport.swap = (12, 62)
            with pytest.raises(NoResponseError, match="repeats the last answer at 62"):
                await reader.read()
            again = await reader.read()
            assert again.values == first.values
        finally:
            await transport.close()
