"""One Modbus connection per gateway, shared by every meter behind it.

An RS-485 bus carries one conversation at a time and many gateways accept
only one client, so all meters of a gateway share this transport, and a lock
makes their requests take turns. Errors are sorted into what the user can act
on: the gateway cannot be reached, a unit id does not answer, or the meter
refused the request.

A "gateway" is either a network box (Modbus TCP, or RTU frames over TCP from
a transparent converter) or an RS-485 adapter on a local serial port
(`SerialTransport`); both behave the same from the meters' point of view.
"""

import asyncio
from dataclasses import dataclass
from enum import StrEnum
import logging
import os
from typing import Any, override

from pymodbus import FramerType
from pymodbus.client import AsyncModbusSerialClient, AsyncModbusTcpClient
from pymodbus.client.base import ModbusBaseClient
from pymodbus.exceptions import ConnectionException, ModbusException
from pymodbus.pdu import ExceptionResponse

from .model import FunctionCode
from .quiet import quiet_library_logs

_LOGGER = logging.getLogger(__name__)


class Framing(StrEnum):
    """How Modbus frames reach the bus: over TCP, or from a local serial port."""

    TCP = "tcp"
    RTU_OVER_TCP = "rtu_over_tcp"
    SERIAL = "serial"


class Parity(StrEnum):
    """Serial parity, as pyserial and the meters' manuals name it."""

    NONE = "N"
    EVEN = "E"
    ODD = "O"


@dataclass(frozen=True, slots=True)
class SerialSettings:
    """An RS-485 adapter's port and the line settings of the bus behind it.

    The defaults are the usual meter factory setting, 9600 8N1. Manuals
    disagree even for one model (WAGO 879-30x0: 8E1 or 8N1 depending on the
    manual's edition), so parity is the user's to set, never guessed.
    """

    device: str
    baudrate: int = 9600
    parity: Parity = Parity.NONE
    stopbits: int = 1
    bytesize: int = 8


class TransportError(Exception):
    """A read that did not produce registers."""


class GatewayUnreachableError(TransportError):
    """The TCP connection to the gateway could not be made or was lost."""


class NoResponseError(TransportError):
    """The gateway is there but the unit id did not answer in time."""


class ModbusExceptionError(TransportError):
    """The meter answered with a Modbus exception (e.g. 2, illegal address)."""

    def __init__(self, code: int, function: int, address: int, count: int) -> None:
        """Keep the code: exception 2 means 'not here', the others mean trouble."""
        super().__init__(
            f"exception {code} for function {function} at {address} (+{count})"
        )
        self.code = code
        self.address = address


class GatewayPathError(NoResponseError):
    """The gateway has no path to the unit (exception 10): its serial side is off."""


ILLEGAL_ADDRESS = 2
SERVER_DEVICE_FAILURE = 4  # the meter itself failed to answer the request
GATEWAY_PATH_UNAVAILABLE = 10  # 0x0A: the gateway cannot reach its serial side
GATEWAY_TARGET_FAILED = 11  # 0x0B: the gateway got no answer from the unit
# After an RTU timeout: answers to one request until two in a row agree.
CONFIRMING_READS = 4


class ModbusTransport:
    """A lazily connected, lock-guarded Modbus client for one gateway."""

    def __init__(self, host: str, port: int, framing: Framing, timeout: float) -> None:
        """Remember the endpoint; the connection is opened on first use."""
        self.host = host
        self.port = port
        self.framing = framing
        self.timeout = timeout
        self._lock = asyncio.Lock()
        self._client: ModbusBaseClient | None = None
        # Failed connection attempts in a row: while > 0 the gateway itself
        # is gone, and the poller stops asking its other meters.
        self.connect_failures = 0
        # A timeout in RTU framing: the next answer may be the late one.
        self._confirm_next = False

    @property
    def endpoint(self) -> str:
        """Where the gateway is, for messages."""
        return f"{self.host}:{self.port}"

    def _new_client(self) -> ModbusBaseClient:
        """A client with no retries and no background reconnects.

        Retries and reconnects are decided by the poller, which knows how long
        the bus can wait; a library retry would hold the bus for a dead meter.
        """
        framer = (
            FramerType.RTU
            if self.framing is Framing.RTU_OVER_TCP
            else FramerType.SOCKET
        )
        return AsyncModbusTcpClient(
            self.host,
            port=self.port,
            framer=framer,
            timeout=self.timeout,
            retries=0,
            reconnect_delay=0,
        )

    def _connect_failure(self) -> str:
        """Why the last connection attempt failed, for the user."""
        return f"cannot connect to {self.endpoint}"

    async def _ensure_connected(self) -> ModbusBaseClient:
        """The open client, connecting first when needed."""
        if self._client is not None and self._client.connected:
            return self._client
        if self._client is not None:
            self._client.close()
        self._client = self._new_client()
        try:
            connected = await self._client.connect()
        except (OSError, ModbusException) as err:
            connected = False
            _LOGGER.debug("Connect to %s failed: %s", self.endpoint, err)
        if not connected:
            self._client.close()
            self._client = None
            self.connect_failures += 1
            raise GatewayUnreachableError(self._connect_failure())
        self.connect_failures = 0
        return self._client

    async def check_connection(self) -> None:
        """Open the connection now; raises GatewayUnreachableError if it cannot."""
        async with self._lock:
            with quiet_library_logs():
                await self._ensure_connected()

    async def read(
        self, function: FunctionCode, address: int, count: int, unit_id: int
    ) -> list[int]:
        """Read `count` registers; raises a TransportError subclass on failure.

        After a timeout in RTU framing the next answer is confirmed by asking
        again: a transparent converter keeps the late answer on its serial
        side and hands it to the next connection as the next request goes out,
        where it passes every check an RTU answer allows (unit, function,
        length). The late answer and the true one differ; two answers in a
        row that agree are the true one. It costs one request after a timeout,
        none otherwise.
        """
        async with self._lock:
            if not self._confirm_next:
                return await self._read_locked(function, address, count, unit_id)
            previous = await self._read_locked(function, address, count, unit_id)
            for attempt in range(CONFIRMING_READS - 1):
                current = await self._read_locked(function, address, count, unit_id)
                if current == previous:
                    self._confirm_next = False
                    if attempt:
                        # A late answer was in the line, so each answer came
                        # one request late, and the answer to the last
                        # request is still on its way: let it arrive while no
                        # request waits (pymodbus drops it), not as the
                        # answer to the next one.
                        await asyncio.sleep(self.timeout)
                    return current
                previous = current
            self._drop()
            msg = (
                f"unit {unit_id}: {CONFIRMING_READS} answers in a row after a "
                "timeout did not agree (late answers in the line)"
            )
            raise NoResponseError(msg)

    async def _read_locked(
        self, function: FunctionCode, address: int, count: int, unit_id: int
    ) -> list[int]:
        """One request and its answer, with the lock held."""
        client = await self._ensure_connected()
        reader: Any = (
            client.read_holding_registers
            if function is FunctionCode.HOLDING
            else client.read_input_registers
        )
        try:
            with quiet_library_logs():
                response = await reader(address, count=count, device_id=unit_id)
        except ConnectionException as err:
            self._drop()
            raise GatewayUnreachableError(str(err)) from err
        except ModbusException as err:
            # No answer in time. In RTU framing nothing but the unit id
            # ties an answer to its request (pymodbus checks no more), so
            # a late answer would be taken for the answer to the next
            # request: start afresh on a new connection, and the late
            # bytes die with the old one. A connection that closed while
            # waiting is the gateway's doing, not the meter's.
            lost = not client.connected
            if lost or self.framing is not Framing.TCP:
                self._drop()
            if self.framing is not Framing.TCP:
                self._confirm_next = True
            if lost:
                msg = f"connection to {self.endpoint} lost"
                raise GatewayUnreachableError(msg) from err
            msg = f"unit {unit_id} did not answer: {err}"
            raise NoResponseError(msg) from err
        mismatch = _mismatch(response, function, count, unit_id)
        if mismatch is not None:
            # Not the answer to this request: a stale one or a garbled
            # stream, and whatever follows it in the pipe is suspect too.
            self._drop()
            if self.framing is not Framing.TCP:
                self._confirm_next = True
            msg = f"unit {unit_id}: {mismatch}"
            raise NoResponseError(msg)
        if isinstance(response, ExceptionResponse) or response.isError():
            code = int(getattr(response, "exception_code", 0))
            if code == GATEWAY_TARGET_FAILED:
                msg = f"gateway reports no answer from unit {unit_id}"
                raise NoResponseError(msg)
            if code == GATEWAY_PATH_UNAVAILABLE:
                msg = f"gateway reports no path to unit {unit_id}"
                raise GatewayPathError(msg)
            raise ModbusExceptionError(code, int(function), address, count)
        return list(response.registers)

    def _drop(self) -> None:
        """Forget the current connection so the next read reconnects."""
        if self._client is not None:
            self._client.close()
            self._client = None

    async def close(self) -> None:
        """Close the connection (waits for a read in progress)."""
        async with self._lock:
            self._drop()


def _mismatch(
    response: Any, function: FunctionCode, count: int, unit_id: int
) -> str | None:
    """Why `response` cannot be the answer to this read, or None if it can be.

    Unit, function code (an exception answer carries it with 0x80 added) and
    register count are all an answer says about its request; pymodbus checks
    only the unit (and, in Modbus TCP, the transaction id).
    """
    if response.dev_id != unit_id:
        return f"answer from unit {response.dev_id}"
    answered = int(response.function_code) & 0x7F
    if answered != int(function):
        return f"answer to function {answered}, asked function {int(function)}"
    if not response.isError() and len(response.registers) != count:
        return f"asked for {count} registers, got {len(response.registers)}"
    return None


class SerialTransport(ModbusTransport):
    """An RS-485 adapter on a local serial port (USB stick, HAT, …).

    The port speaks RTU framing, like a transparent gateway. `device` may
    also be a pyserial URL (`socket://host:port`, `rfc2217://…`) for serial
    servers on the network.
    """

    def __init__(self, settings: SerialSettings, timeout: float) -> None:
        """Remember the port; it is opened on first use."""
        super().__init__(settings.device, 0, Framing.SERIAL, timeout)
        self.settings = settings

    @property
    @override
    def endpoint(self) -> str:
        """The serial port's path."""
        return self.settings.device

    @override
    def _new_client(self) -> ModbusBaseClient:
        """A serial client with no retries, like the TCP one."""
        return AsyncModbusSerialClient(
            self.settings.device,
            framer=FramerType.RTU,
            baudrate=self.settings.baudrate,
            bytesize=self.settings.bytesize,
            parity=self.settings.parity.value,
            stopbits=self.settings.stopbits,
            timeout=self.timeout,
            retries=0,
            reconnect_delay=0,
        )

    @override
    def _connect_failure(self) -> str:
        """Tell a missing device from one that may not or cannot be opened.

        pymodbus only logs why opening failed; these are the causes a user
        can fix, each in a different place.
        """
        device = self.settings.device
        if "://" in device:
            return f"cannot open {device}"
        if not os.path.exists(device):  # noqa: PTH110 (a device path, not a file)
            return f"{device} does not exist"
        if not os.access(device, os.R_OK | os.W_OK):
            return f"no permission to open {device}"
        return f"cannot open {device} (in use by another program?)"
