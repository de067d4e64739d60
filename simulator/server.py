"""A Modbus TCP server with simulated meters behind it, as a gateway presents them.

One `ModbusSimulator` is one gateway: a TCP port with one or more meters (unit
ids) behind it. Framing "tcp" is Modbus TCP (MBAP header), what a gateway in
"Modbus TCP to RTU" mode speaks; framing "rtu" is RTU frames over TCP (CRC, no
header), what a transparent RS-485 gateway passes through.

A unit id with no meter behind it gets no answer by default, as on a real bus
where nobody has that address, so the client times out; a gateway that
reports the silence instead can be simulated with
`unknown_unit="gateway_exception"` (exception 0x0B, gateway target device
failed to respond). pymodbus 3.13.1 does not do either by itself for
simulator devices: its `SimCore` raises `KeyError` for an unknown id, which
the request handler turns into exception 4 plus an error log, and
`ignore_missing_devices` only reacts to `NoSuchIdException`. `_Bus` raises
that exception, and the server flag then picks silence or 0x0B.

Each connection lets the meters' link faults (`simulator.faults`: silence,
late answers, dropped connections) decide how it answers; see
`simulator.link`.
"""

import asyncio
import contextlib
from types import TracebackType
from typing import Literal, Self, override

from pymodbus.constants import ExcCodes
from pymodbus.exceptions import NoSuchIdException
from pymodbus.framer import FramerType
from pymodbus.server import ModbusTcpServer
from pymodbus.server.base import ModbusBaseServer
from pymodbus.simulator import SimDevice
from pymodbus.simulator.simcore import SimCore

from .link import FaultAwareTcpServer
from .meter import SimulatedMeter
from .rs485 import Rs485Line

type Framing = Literal["tcp", "rtu"]
type UnknownUnit = Literal["silent", "gateway_exception"]

_FRAMERS: dict[str, FramerType] = {"tcp": FramerType.SOCKET, "rtu": FramerType.RTU}
_CLOSE_TIMEOUT_S = 5.0


class _Bus(SimCore):
    """The simulator's devices, with unknown unit ids reported as pymodbus expects."""

    line: Rs485Line | None = None  # RS-485 timing, when the simulator has a line

    @override
    async def async_getValues(
        self, device_id: int, func_code: int, address: int, count: int = 1
    ) -> list[int] | list[bool] | ExcCodes:
        """Read from the device with this id; nobody else answers."""
        self._check(device_id)
        result = await super().async_getValues(device_id, func_code, address, count)
        if self.line is not None:
            await self.line.read(count, refused=isinstance(result, ExcCodes))
        return result

    @override
    async def async_setValues(
        self,
        device_id: int,
        func_code: int,
        address: int,
        values: list[int] | list[bool],
    ) -> ExcCodes | None:
        """Write to the device with this id; nobody else answers."""
        self._check(device_id)
        return await super().async_setValues(device_id, func_code, address, values)

    def _check(self, device_id: int) -> None:
        if device_id not in self.devices:
            msg = f"no meter with unit id {device_id}"
            raise NoSuchIdException(msg)  # type: ignore[no-untyped-call]  # untyped upstream


async def _shutdown(server: ModbusTcpServer) -> None:
    """Stop pymodbus's listener and its connections (the method is untyped upstream)."""
    await server.shutdown()  # type: ignore[no-untyped-call]


class ModbusSimulator:
    """A gateway on a TCP port with simulated meters behind it."""

    def __init__(
        self,
        meters: list[SimulatedMeter],
        host: str = "127.0.0.1",
        port: int = 0,
        framing: Framing = "tcp",
        *,
        unknown_unit: UnknownUnit = "silent",
        line: Rs485Line | None = None,
    ) -> None:
        """Describe the gateway; nothing listens until `start`.

        `port=0` lets the operating system pick a free port; `port` holds the
        real one once started. With a `line`, every read takes the time it
        would take on that RS-485 bus (see `simulator.rs485`).
        """
        if not meters:
            msg = "a simulator needs at least one meter"
            raise ValueError(msg)
        unit_ids = [meter.unit_id for meter in meters]
        if len(set(unit_ids)) != len(unit_ids):
            msg = f"two meters share a unit id: {unit_ids}"
            raise ValueError(msg)
        if framing not in _FRAMERS:
            msg = f"framing must be 'tcp' or 'rtu', got {framing!r}"
            raise ValueError(msg)
        self.meters = list(meters)
        self.host = host
        self.port = port
        self.framing: Framing = framing
        self.unknown_unit: UnknownUnit = unknown_unit
        self.line = line
        self._server: ModbusTcpServer | None = None
        self._listener: asyncio.Server | None = None

    def meter(self, unit_id: int) -> SimulatedMeter:
        """Return the meter behind `unit_id`."""
        for meter in self.meters:
            if meter.unit_id == unit_id:
                return meter
        msg = f"no meter with unit id {unit_id}"
        raise KeyError(msg)

    @property
    def running(self) -> bool:
        """Tell whether the server is listening."""
        return self._server is not None

    async def start(self) -> int:
        """Listen, and return the port actually bound.

        Raises OSError when the address cannot be bound (port in use).
        """
        if self._server is not None:
            return self.port
        devices: list[SimDevice] = [meter.device() for meter in self.meters]
        server = FaultAwareTcpServer(
            devices,
            framer=_FRAMERS[self.framing],
            address=(self.host, self.port),
            ignore_missing_devices=self.unknown_unit == "silent",
        )
        bus = _Bus(devices)
        bus.line = self.line
        server.context = bus
        try:
            await server.serve_forever(background=True)
        except RuntimeError as err:  # pymodbus reports a failed bind this way
            await _shutdown(server)
            msg = f"cannot listen on {self.host}:{self.port}"
            raise OSError(msg) from err
        listener = server.transport
        if not isinstance(
            listener, asyncio.Server
        ):  # pragma: no cover - pymodbus contract
            await _shutdown(server)
            msg = "pymodbus did not open a TCP listener"
            raise TypeError(msg)
        self._server = server
        self._listener = listener
        self.port = int(listener.sockets[0].getsockname()[1])
        return self.port

    async def stop(self) -> None:
        """Close the listener and every client connection; safe to call twice.

        Waits until asyncio has really closed the sockets and lets the request
        handlers pymodbus scheduled run out, so nothing is left behind.
        """
        server, listener = self._server, self._listener
        self._server = self._listener = None
        if server is None:
            return
        if self.line is not None:
            await self.line.drained()
        await _shutdown(server)
        if listener is not None:
            listener.close_clients()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(listener.wait_closed(), _CLOSE_TIMEOUT_S)
        if ModbusBaseServer.active_server is server:
            ModbusBaseServer.active_server = None  # pymodbus keeps the last one alive
        # Request handlers are scheduled with call_soon; give them their turn.
        for _ in range(3):
            await asyncio.sleep(0)

    async def __aenter__(self) -> Self:
        """Start on entering the block."""
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Stop on leaving it, whatever happened inside."""
        await self.stop()
