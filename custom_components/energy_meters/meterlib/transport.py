"""One Modbus connection per gateway, shared by every meter behind it.

An RS-485 bus carries one conversation at a time and many gateways accept
only one client, so all meters of a gateway share this transport, and a lock
makes their requests take turns. Errors are sorted into what the user can act
on: the gateway cannot be reached, a unit id does not answer, or the meter
refused the request.
"""

import asyncio
import logging
from enum import StrEnum
from typing import Any

from pymodbus import FramerType
from pymodbus.client import AsyncModbusTcpClient
from pymodbus.exceptions import ConnectionException, ModbusException
from pymodbus.pdu import ExceptionResponse

from .model import FunctionCode

_LOGGER = logging.getLogger(__name__)


class Framing(StrEnum):
    """How Modbus frames travel over the TCP connection."""

    TCP = "tcp"
    RTU_OVER_TCP = "rtu_over_tcp"


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


ILLEGAL_ADDRESS = 2
GATEWAY_TARGET_FAILED = 11  # 0x0B: the gateway got no answer from the unit


class ModbusTransport:
    """A lazily connected, lock-guarded Modbus client for one gateway."""

    def __init__(
        self, host: str, port: int, framing: Framing, timeout: float
    ) -> None:
        """Remember the endpoint; the connection is opened on first use."""
        self.host = host
        self.port = port
        self.framing = framing
        self.timeout = timeout
        self._lock = asyncio.Lock()
        self._client: AsyncModbusTcpClient | None = None

    def _new_client(self) -> AsyncModbusTcpClient:
        """A client with no retries and no background reconnects.

        Retries and reconnects are decided by the poller, which knows how long
        the bus can wait; a library retry would hold the bus for a dead meter.
        """
        framer = FramerType.RTU if self.framing is Framing.RTU_OVER_TCP else FramerType.SOCKET
        return AsyncModbusTcpClient(
            self.host,
            port=self.port,
            framer=framer,
            timeout=self.timeout,
            retries=0,
            reconnect_delay=0,
        )

    async def _ensure_connected(self) -> AsyncModbusTcpClient:
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
            _LOGGER.debug("Connect to %s:%s failed: %s", self.host, self.port, err)
        if not connected:
            self._client.close()
            self._client = None
            msg = f"cannot connect to {self.host}:{self.port}"
            raise GatewayUnreachableError(msg)
        return self._client

    async def check_connection(self) -> None:
        """Open the connection now; raises GatewayUnreachableError if it cannot."""
        async with self._lock:
            await self._ensure_connected()

    async def read(
        self, function: FunctionCode, address: int, count: int, unit_id: int
    ) -> list[int]:
        """Read `count` registers; raises a TransportError subclass on failure."""
        async with self._lock:
            client = await self._ensure_connected()
            reader: Any = (
                client.read_holding_registers
                if function is FunctionCode.HOLDING
                else client.read_input_registers
            )
            try:
                response = await reader(address, count=count, device_id=unit_id)
            except ConnectionException as err:
                self._drop()
                raise GatewayUnreachableError(str(err)) from err
            except ModbusException as err:
                # No answer in time. On RTU framing a late answer could be
                # taken for the reply to the next request: start afresh.
                if self.framing is Framing.RTU_OVER_TCP or not client.connected:
                    self._drop()
                msg = f"unit {unit_id} did not answer: {err}"
                raise NoResponseError(msg) from err
        if isinstance(response, ExceptionResponse) or response.isError():
            code = int(getattr(response, "exception_code", 0))
            if code == GATEWAY_TARGET_FAILED:
                msg = f"gateway reports no answer from unit {unit_id}"
                raise NoResponseError(msg)
            raise ModbusExceptionError(code, int(function), address, count)
        registers: list[int] = list(response.registers)
        if len(registers) != count:
            msg = f"asked for {count} registers, got {len(registers)}"
            raise NoResponseError(msg)
        return registers

    def _drop(self) -> None:
        """Forget the current connection so the next read reconnects."""
        if self._client is not None:
            self._client.close()
            self._client = None

    async def close(self) -> None:
        """Close the connection (waits for a read in progress)."""
        async with self._lock:
            self._drop()
