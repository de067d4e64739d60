"""One Modbus link per gateway, shared by every meter behind it, and by others.

An RS-485 bus carries one conversation at a time and many gateways accept
only one client, so all meters of a gateway read over one link, whose lock
makes their requests take turns. In Home Assistant that link is the `modbus`
integration's shared connection: another integration reading a device on
the same gateway takes its turns on the same lock instead of opening a
second connection that fights ours for the bus.

The library reads through `ModbusUnitLink`, a seam it defines: the part of
`modbus_connection.ModbusUnit` it needs. Home Assistant hands in the units
(`async_get_unit`); outside it (tests, benchmarks, the simulator's tools)
the transport opens a `modbus_connection` link of its own. Errors are sorted
into what the user can act on: the gateway cannot be reached, a unit id does
not answer, or the meter refused the request.

A "gateway" is either a network box (Modbus TCP, or RTU frames over TCP from
a transparent converter) or an RS-485 adapter on a local serial port
(`SerialTransport`); both behave the same from the meters' point of view.
"""

import asyncio
from collections.abc import Callable, Mapping
import contextlib
from dataclasses import dataclass
from enum import StrEnum
import logging
import os
from typing import Final, Literal, Protocol, override

from modbus_connection import (
    GatewayPathUnavailableError,
    GatewayTargetError,
    ModbusConnectionError,
    ModbusDesyncError,
    ModbusError,
    ModbusExceptionError as LinkExceptionError,
    ModbusProtocolError,
    ModbusSerialParams,
    ModbusTcpParams,
    ModbusTimeoutError,
)
from modbus_connection.tmodbus import ModbusConnection

from .model import FunctionCode

_LOGGER = logging.getLogger(__name__)


class Framing(StrEnum):
    """How Modbus frames reach the bus: over TCP, or from a local serial port."""

    TCP = "tcp"
    RTU_OVER_TCP = "rtu_over_tcp"
    SERIAL = "serial"


class Parity(StrEnum):
    """Serial parity, as the meters' manuals (and pyserial) name it."""

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


class ModbusUnitLink(Protocol):
    """One unit on a Modbus link: what the library needs of `ModbusUnit`.

    Structural, so `modbus_connection`'s units (Home Assistant's shared ones
    included) fit without the library depending on who made them.
    """

    @property
    def connected(self) -> bool:
        """Whether the link under the unit is up."""
        ...

    async def read_holding_registers(self, address: int, count: int) -> list[int]:
        """Function 3."""
        ...

    async def read_input_registers(self, address: int, count: int) -> list[int]:
        """Function 4."""
        ...

    def require_timeout(self, seconds: float | None) -> None:
        """Ask the link for a per-request timeout of at least `seconds`."""

    async def disconnect(self) -> None:
        """Drop the link; the next request opens a new one."""


type UnitSource = Callable[[int], ModbusUnitLink]
"""Hands out the unit for a unit id (Home Assistant: `async_get_unit`)."""

type LinkParams = ModbusTcpParams | ModbusSerialParams


# The line speed modbus-connection (and Home Assistant's `modbus`) gives a
# serial framing carried over a socket. Naming the same one here makes our
# RTU-over-TCP link equal to what another integration asks for with
# `ModbusTcpParams(framer="rtu")`, so the two share one connection.
SOCKET_BAUDRATE = 115200


def socket_device(host: str, port: int) -> str:
    """The serial device URL of a socket carrying RTU frames (IPv6 bracketed)."""
    address = f"[{host}]" if ":" in host else host
    return f"socket://{address}:{port}"


def network_params(host: str, port: int, framing: Framing) -> LinkParams:
    """The link parameters of a network gateway.

    RTU over TCP is a serial line on a socket transport; it is spelled as the
    serial params `modbus-connection` builds it from, so it never warns and
    names the same connection whichever spelling another integration used.
    """
    if framing is Framing.RTU_OVER_TCP:
        return ModbusSerialParams(
            device=socket_device(host, port), framer="rtu", baudrate=SOCKET_BAUDRATE
        )
    return ModbusTcpParams(host=host, port=port)


_BYTESIZES: Final[Mapping[int, Literal[7, 8]]] = {7: 7, 8: 8}
_STOPBITS: Final[Mapping[int, Literal[1, 2]]] = {1: 1, 2: 2}
_PARITIES: Final[Mapping[Parity, Literal["N", "E", "O"]]] = {
    Parity.NONE: "N",
    Parity.EVEN: "E",
    Parity.ODD: "O",
}


def serial_params(settings: SerialSettings) -> ModbusSerialParams:
    """The link parameters of a local RS-485 adapter (Modbus RTU is 8 data bits)."""
    return ModbusSerialParams(
        device=settings.device,
        baudrate=settings.baudrate,
        bytesize=_BYTESIZES.get(settings.bytesize, 8),
        parity=_PARITIES[settings.parity],
        stopbits=_STOPBITS.get(settings.stopbits, 1),
        framer="rtu",
    )


class TransportError(Exception):
    """A read that did not produce registers."""


class GatewayUnreachableError(TransportError):
    """The connection to the gateway could not be made or was lost."""


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
    """The meters' reads over one gateway's link, errors in the user's terms.

    `units` hands out the unit for a unit id; without it, the transport owns
    a `modbus_connection` link to the endpoint (outside Home Assistant).
    """

    def __init__(
        self,
        host: str,
        port: int,
        framing: Framing,
        timeout: float,
        *,
        units: UnitSource | None = None,
    ) -> None:
        """Remember the endpoint; the link is opened on first use."""
        self.host = host
        self.port = port
        self.framing = framing
        self.timeout = timeout
        self._own: ModbusConnection | None = None
        if units is None:
            self._own = ModbusConnection(self.params, timeout=timeout)
            units = self._own.for_unit
        self._unit_source = units
        self._units: dict[int, ModbusUnitLink] = {}
        # Our requests one at a time: a confirmation after a timeout is two
        # requests in a row that nothing of ours may come between.
        self._lock = asyncio.Lock()
        # Units whose request timed out in RTU framing: their next answer
        # may be the late one. Per unit: the link checks the unit id of an
        # answer, so a late answer is never taken for another unit's, and a
        # silent meter costs its neighbours no confirming request.
        self._confirm_next: set[int] = set()
        # Failed connection attempts in a row: while > 0 the gateway itself
        # is gone, and the poller stops asking its other meters.
        self.connect_failures = 0

    @property
    def params(self) -> LinkParams:
        """The link parameters the gateway is reached with."""
        return network_params(self.host, self.port, self.framing)

    @property
    def endpoint(self) -> str:
        """Where the gateway is, for messages."""
        return f"{self.host}:{self.port}"

    @property
    def connected(self) -> bool:
        """Whether the link is up (as far as any unit of ours has seen)."""
        return any(unit.connected for unit in self._units.values())

    @property
    def serial_framing(self) -> bool:
        """Whether RTU frames cross the link: nothing but shape ties an answer."""
        return self.framing is not Framing.TCP

    def unit(self, unit_id: int) -> ModbusUnitLink:
        """The unit for `unit_id`, asking the link for this gateway's timeout.

        Raises whatever the unit source raises (Home Assistant: the endpoint
        is in use with other link settings).
        """
        unit = self._units.get(unit_id)
        if unit is None:
            unit = self._unit_source(unit_id)
            unit.require_timeout(self.timeout)
            self._units[unit_id] = unit
        return unit

    def _connect_failure(self) -> str:
        """Why the last connection attempt failed, for the user."""
        return f"cannot connect to {self.endpoint}"

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
            if unit_id not in self._confirm_next:
                return await self._read_once(function, address, count, unit_id)
            previous = await self._read_once(function, address, count, unit_id)
            for attempt in range(CONFIRMING_READS - 1):
                current = await self._read_once(function, address, count, unit_id)
                if current == previous:
                    self._confirm_next.discard(unit_id)
                    if attempt:
                        # A late answer was in the line, so each answer came
                        # one request late, and the answer to the last
                        # request is still on its way: let it arrive while no
                        # request of this unit waits (the link drains it), not
                        # as the answer to the next one.
                        await asyncio.sleep(self.timeout)
                    return current
                previous = current
            await self._recycle(self.unit(unit_id))
            msg = (
                f"unit {unit_id}: {CONFIRMING_READS} answers in a row after a "
                "timeout did not agree (late answers in the line)"
            )
            raise NoResponseError(msg)

    async def _read_once(
        self, function: FunctionCode, address: int, count: int, unit_id: int
    ) -> list[int]:
        """One request and its answer, errors in the poller's terms."""
        unit = self.unit(unit_id)
        was_up = unit.connected
        try:
            if function is FunctionCode.HOLDING:
                registers = await unit.read_holding_registers(address, count)
            else:
                registers = await unit.read_input_registers(address, count)
        except LinkExceptionError as err:
            self.connect_failures = 0
            raise _exception_error(err, function, address, count, unit_id) from err
        except (ModbusConnectionError, ModbusTimeoutError) as err:
            if not unit.connected:
                raise self._unreachable(was_up=was_up) from err
            self.connect_failures = 0
            # No answer in time. In RTU framing nothing but the unit id,
            # function code and length tie an answer to its request (tmodbus
            # drains a late one only when its function code differs from the
            # request it lands on), so a late answer could be taken for the
            # next request to this unit: start afresh on a new link, and the
            # late bytes die with the old one (and the next answer is
            # confirmed, for a converter that keeps them). Modbus TCP matches
            # answers by transaction id and keeps the link.
            if self.serial_framing:
                self._confirm_next.add(unit_id)
                await self._recycle(unit)
            msg = f"unit {unit_id} did not answer: {err}"
            raise NoResponseError(msg) from err
        except ModbusProtocolError as err:
            # Not the answer to this request: a stale one or a garbled
            # stream, and whatever follows it in the pipe is suspect too
            # (a desync has already dropped the link).
            if self.serial_framing:
                self._confirm_next.add(unit_id)
            if not isinstance(err, ModbusDesyncError):
                await self._recycle(unit)
            msg = f"unit {unit_id}: {err}"
            raise NoResponseError(msg) from err
        except ModbusError as err:
            raise NoResponseError(f"unit {unit_id}: {err}") from err
        self.connect_failures = 0
        if len(registers) != count:
            if self.serial_framing:
                self._confirm_next.add(unit_id)
            await self._recycle(unit)
            msg = f"unit {unit_id}: asked for {count} registers, got {len(registers)}"
            raise NoResponseError(msg)
        return list(registers)

    def _unreachable(self, *, was_up: bool) -> GatewayUnreachableError:
        """The link is down: lost under a request, or it could not be opened."""
        if was_up:
            return GatewayUnreachableError(f"connection to {self.endpoint} lost")
        self.connect_failures += 1
        return GatewayUnreachableError(self._connect_failure())

    async def _recycle(self, unit: ModbusUnitLink) -> None:
        """Drop the link so the next request starts on a fresh one."""
        with contextlib.suppress(ModbusError):
            await unit.disconnect()

    async def check_connection(self) -> None:
        """Open the link now; raises GatewayUnreachableError if it cannot.

        Only a link of our own can be opened without a request; a shared one
        opens with the first read.
        """
        if self._own is None:
            return
        try:
            await self._own.connect()
        except ModbusError as err:
            _LOGGER.debug("Connect to %s failed: %s", self.endpoint, err)
            self.connect_failures += 1
            raise GatewayUnreachableError(self._connect_failure()) from err
        self.connect_failures = 0

    async def disconnect(self) -> None:
        """Drop the link (a half-open gateway); the next read reconnects.

        On a shared link this recycles it for every user: a link that took
        our request and never answered is no better for theirs.
        """
        if self._own is not None:
            with contextlib.suppress(ModbusError):
                await self._own.disconnect()
            return
        for unit in self._units.values():
            await self._recycle(unit)
            return

    async def close(self) -> None:
        """Done with the link: close one of our own; a shared one is released.

        The shared connection belongs to Home Assistant's `modbus`, which
        closes it when the last entry holding a unit on it unloads.
        """
        if self._own is not None:
            with contextlib.suppress(ModbusError):
                await self._own.close()
            # A closed connection refuses requests; a transport closed by a
            # config flow between two checks gets a fresh one.
            self._own = ModbusConnection(self.params, timeout=self.timeout)
            self._unit_source = self._own.for_unit
            self._units.clear()


def _exception_error(
    err: LinkExceptionError,
    function: FunctionCode,
    address: int,
    count: int,
    unit_id: int,
) -> TransportError:
    """A Modbus exception answer in the poller's terms.

    10 and 11 come from the gateway, not the meter: no path to the bus, or no
    answer from the unit; the others are the meter's own refusal.
    """
    if isinstance(err, GatewayTargetError):
        return NoResponseError(f"gateway reports no answer from unit {unit_id}")
    if isinstance(err, GatewayPathUnavailableError):
        return GatewayPathError(f"gateway reports no path to unit {unit_id}")
    return ModbusExceptionError(
        int(err.exception_code or 0), int(function), address, count
    )


class SerialTransport(ModbusTransport):
    """An RS-485 adapter on a local serial port (USB stick, HAT, …).

    The port speaks RTU framing, like a transparent gateway. `device` may
    also be a URL (`socket://host:port`) for serial servers on the network.
    """

    def __init__(
        self,
        settings: SerialSettings,
        timeout: float,
        *,
        units: UnitSource | None = None,
    ) -> None:
        """Remember the port; it is opened on first use."""
        self.settings = settings
        super().__init__(settings.device, 0, Framing.SERIAL, timeout, units=units)

    @property
    @override
    def params(self) -> LinkParams:
        """The port and its line settings."""
        return serial_params(self.settings)

    @property
    @override
    def endpoint(self) -> str:
        """The serial port's path."""
        return self.settings.device

    @override
    def _connect_failure(self) -> str:
        """Tell a missing device from one that may not or cannot be opened.

        The library only says it could not open the port; these are the
        causes a user can fix, each in a different place.
        """
        device = self.settings.device
        if "://" in device:
            return f"cannot open {device}"
        if not os.path.exists(device):  # noqa: PTH110 (a device path, not a file)
            return f"{device} does not exist"
        if not os.access(device, os.R_OK | os.W_OK):
            return f"no permission to open {device}"
        return f"cannot open {device} (in use by another program?)"
