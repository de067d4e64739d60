"""RS-485 timing: what each request costs on a real half-duplex bus.

On the wire every character is 11 bits (start, 8 data, parity or a second
stop bit, stop), so at 9600 baud a byte takes 1.15 ms and a read of 56
registers (8 request bytes, 117 response bytes) holds the bus for 143 ms. The
bus carries one frame at a time: while one meter answers, every other
request waits. Over loopback TCP none of this shows, so a benchmark of read
plans would measure nothing; `Rs485Line` puts it back.

Attach one line to a `ModbusSimulator` (`line=`) and every read it answers
is held back by the time its request and response frames would occupy the
bus, plus a configurable turnaround (the meter's response latency and the
RTU inter-frame silences), one exchange at a time across all meters on the
line. Frame sizes are those of RTU framing whatever the TCP framing of the
simulator, since RTU is what runs on the RS-485 pair behind a gateway.
"""

import asyncio
import contextlib
from dataclasses import dataclass

# RTU read request: unit, function, start address (2), count (2), CRC (2).
READ_REQUEST_BYTES = 8
# RTU read response without its registers: unit, function, byte count, CRC (2).
READ_RESPONSE_OVERHEAD_BYTES = 5
# RTU exception response: unit, function | 0x80, exception code, CRC (2).
EXCEPTION_RESPONSE_BYTES = 5
BITS_PER_CHARACTER = 11


@dataclass(frozen=True, slots=True)
class LineSettings:
    """The speed of the bus and what each exchange costs beyond its bytes."""

    baud: int = 9600
    turnaround_s: float = 0.0
    bits_per_character: int = BITS_PER_CHARACTER

    def wire_seconds(self, byte_count: int) -> float:
        """Time `byte_count` bytes occupy the wire."""
        return byte_count * self.bits_per_character / self.baud

    def exchange_seconds(self, request_bytes: int, response_bytes: int) -> float:
        """Time one request and its answer hold the bus."""
        return self.wire_seconds(request_bytes + response_bytes) + self.turnaround_s

    @property
    def rtu_silence_s(self) -> float:
        """The 3.5-character silence RTU framing needs between two frames.

        Fixed at 1.75 ms above 19200 baud, as the Modbus serial line
        specification says.
        """
        if self.baud > 19200:  # noqa: PLR2004 (the specification's threshold)
            return 0.00175
        return 3.5 * self.bits_per_character / self.baud


def read_frame_bytes(count: int, refused: bool = False) -> tuple[int, int]:
    """Request and response bytes of one RTU read of `count` registers."""
    if refused:
        return READ_REQUEST_BYTES, EXCEPTION_RESPONSE_BYTES
    return READ_REQUEST_BYTES, READ_RESPONSE_OVERHEAD_BYTES + 2 * count


class Rs485Line:
    """One half-duplex bus: exchanges take turns and take their time.

    Also counts what went over it, so a benchmark can report bytes and bus
    time next to what the client measured.
    """

    def __init__(self, settings: LineSettings | None = None) -> None:
        """A quiet bus with the given settings (9600 baud, no turnaround)."""
        self.settings = settings or LineSettings()
        self._lock = asyncio.Lock()
        self.exchanges = 0
        self.bytes = 0
        self.busy_s = 0.0
        # Requests at the gateway at once: on a real bus a second master
        # would talk over the first; the model makes it wait, and counts it.
        self._in_flight = 0
        self.max_in_flight = 0
        self._idle = asyncio.Event()
        self._idle.set()

    def reset_counters(self) -> None:
        """Start counting afresh."""
        self.exchanges = 0
        self.bytes = 0
        self.busy_s = 0.0
        self.max_in_flight = 0

    @property
    def overlapped(self) -> bool:
        """Whether a request arrived while another was still on the bus."""
        return self.max_in_flight > 1

    async def exchange(self, request_bytes: int, response_bytes: int) -> None:
        """Hold the bus for one request and its answer, after any in progress."""
        duration = self.settings.exchange_seconds(request_bytes, response_bytes)
        self._in_flight += 1
        self._idle.clear()
        self.max_in_flight = max(self.max_in_flight, self._in_flight)
        try:
            async with self._lock:
                await asyncio.sleep(duration)
                self.exchanges += 1
                self.bytes += request_bytes + response_bytes
                self.busy_s += duration
        finally:
            self._in_flight -= 1
            if not self._in_flight:
                self._idle.set()

    async def drained(self, timeout_s: float = 5.0) -> None:
        """Wait until no exchange is on or waiting for the bus (at most `timeout_s`).

        A client that gave up on its requests (an integration unloading) has
        left them on the bus; a simulator that stops waits for them to run
        out, so no request handler is left behind.
        """
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._idle.wait(), timeout_s)

    async def read(self, count: int, refused: bool = False) -> None:
        """Hold the bus for one RTU read of `count` registers."""
        await self.exchange(*read_frame_bytes(count, refused))
