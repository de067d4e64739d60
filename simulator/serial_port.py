"""A serial port with simulated meters on its bus, without an adapter.

`VirtualSerialPort` opens a pseudo-terminal and relays every byte between it
and a `ModbusSimulator` serving RTU frames over TCP. A program that opens the
terminal's path (`device`) with pyserial sees what it would see on a USB
RS-485 adapter: RTU frames, CRC and all, answered by the meters behind it.
It is what a transparent RS-485 gateway does, folded back onto this machine,
so the integration's serial transport and its config flow can be tested end
to end with the real serial stack (pyserial, termios, pymodbus's serial
transport) on Linux.

A pseudo-terminal takes any baud rate but, on current Linux kernels, refuses
parity (EINVAL from tcsetattr): open it with parity N.
"""

import asyncio
import contextlib
import os
import tty
from types import TracebackType
from typing import Self

_CHUNK = 4096


class VirtualSerialPort:
    """A pseudo-terminal wired to an RTU-over-TCP simulator."""

    def __init__(self, host: str, port: int) -> None:
        """Name the simulator to relay to; nothing opens until `start`."""
        self.host = host
        self.port = port
        self.device = ""
        self._master: int | None = None
        self._slave: int | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._pump: asyncio.Task[None] | None = None

    async def start(self) -> str:
        """Open the terminal and the TCP connection; return the port's path."""
        master, slave = os.openpty()
        # Raw mode at once: with the default line discipline the terminal
        # would echo every answer back into the relay before a client opens
        # it. Holding the slave end open keeps the master readable.
        tty.setraw(slave)
        os.set_blocking(master, False)
        self._master, self._slave = master, slave
        self.device = os.ttyname(slave)
        try:
            reader, self._writer = await asyncio.open_connection(self.host, self.port)
        except OSError:
            self._close_terminal()
            raise
        loop = asyncio.get_running_loop()
        loop.add_reader(master, self._from_terminal)
        self._pump = asyncio.create_task(self._to_terminal(reader))
        return self.device

    def _from_terminal(self) -> None:
        """Bytes the client wrote to the port go to the bus (the simulator)."""
        if self._master is None or self._writer is None:
            return
        try:
            data = os.read(self._master, _CHUNK)
        except BlockingIOError:
            return
        except OSError:  # the terminal is gone
            return
        self._writer.write(data)

    async def _to_terminal(self, reader: asyncio.StreamReader) -> None:
        """The meters' answers go to the client, as if they came off the wire."""
        while data := await reader.read(_CHUNK):
            if self._master is None:
                return
            with contextlib.suppress(BlockingIOError):
                os.write(self._master, data)

    async def stop(self) -> None:
        """Close the terminal and the connection; safe to call twice."""
        if self._master is not None:
            asyncio.get_running_loop().remove_reader(self._master)
        if self._pump is not None:
            self._pump.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._pump
            self._pump = None
        if self._writer is not None:
            self._writer.close()
            with contextlib.suppress(OSError):
                await self._writer.wait_closed()
            self._writer = None
        self._close_terminal()

    def _close_terminal(self) -> None:
        for fd in (self._master, self._slave):
            if fd is not None:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self._master = self._slave = None

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
        """Stop on leaving it."""
        await self.stop()
