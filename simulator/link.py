"""The gateway's side of each TCP connection, able to misbehave on purpose.

pymodbus's server answers every request at once, on the connection it came
in on. A meter's link faults (`simulator.faults`: silence, late answers,
dropped connections) need a say in that, so each connection here opens a
`LinkTicket` around every request it handles, lets the meter fill it in, and
then answers as the ticket says:

- silence: no answer, the client times out;
- late: the answer `delay_s` later, and every later answer on this
  connection queued behind it, in order and `FRAME_GAP_S` apart, as a
  transparent gateway passes the bus's frames on, each in its own TCP
  segment. In RTU framing, where nothing but the unit id ties an answer to
  its request, the late answer then arrives while the client waits for its
  next request's answer;
- disconnect: the connection is closed instead of answered.

Queued answers are timers on the event loop, cancelled when the connection
closes, so a stopped simulator leaves nothing scheduled behind.
"""

import asyncio
from collections import deque
from typing import Any, override

from pymodbus.pdu import ModbusPDU
from pymodbus.server import ModbusTcpServer
from pymodbus.server.requesthandler import ServerRequestHandler

from .faults import Fault, current_link_ticket, link_ticket

# Frames on an RS-485 bus are at least 3.5 characters apart (4 ms at 9600
# baud); a gateway sends each in its own TCP segment. Sent back to back they
# could arrive as one, which no real gateway does.
FRAME_GAP_S = 0.005


class FaultyConnection(ServerRequestHandler):
    """One client connection whose answers follow the meter's link faults."""

    def __init__(self, owner: ModbusTcpServer) -> None:
        """Serve one connection of `owner`, with nothing queued yet."""
        super().__init__(  # type: ignore[no-untyped-call]  # untyped upstream
            owner, owner.trace_packet, owner.trace_pdu, owner.trace_connect
        )
        self._outbox: deque[tuple[float, ModbusPDU, Any]] = deque()
        self._timer: asyncio.TimerHandle | None = None  # the next queued answer

    @override
    async def handle_request(self) -> None:
        """Handle one request as pymodbus does, with a ticket open for the meter."""
        with link_ticket():
            await super().handle_request()  # type: ignore[no-untyped-call]

    @override
    def server_send(self, pdu: ModbusPDU | None, addr: Any) -> None:
        """Send, hold back, drop or hang up, as the request's ticket says."""
        ticket = current_link_ticket()
        fault = ticket.fault if ticket is not None else None
        if pdu is None or fault is Fault.SILENCE:
            return
        if fault is Fault.DISCONNECT:
            self._forget_outbox()
            self.close()
            return
        delay = ticket.delay_s if ticket is not None and fault is Fault.LATE else 0.0
        if not self._outbox and not delay:
            super().server_send(pdu, addr)  # type: ignore[no-untyped-call]
            return
        when = self.loop.time() + delay
        if self._outbox:
            when = max(when, self._outbox[-1][0] + FRAME_GAP_S)
        self._outbox.append((when, pdu, addr))
        self._arm()

    @override
    def callback_disconnected(self, exc: Exception | None) -> None:
        """The client left (or the server stops): forget what was queued."""
        self._forget_outbox()
        super().callback_disconnected(exc)

    def _arm(self) -> None:
        """Schedule the first queued answer, unless already scheduled."""
        if self._timer is None and self._outbox:
            self._timer = self.loop.call_at(self._outbox[0][0], self._flush)

    def _flush(self) -> None:
        """Send every queued answer that is due, in order."""
        self._timer = None
        now = self.loop.time()
        while self._outbox and self._outbox[0][0] <= now:
            _, pdu, addr = self._outbox.popleft()
            if self.transport:
                super().server_send(pdu, addr)  # type: ignore[no-untyped-call]
        self._arm()

    def _forget_outbox(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._outbox.clear()


class FaultAwareTcpServer(ModbusTcpServer):
    """pymodbus's TCP server, with connections that can misbehave (see above)."""

    @override
    def callback_new_connection(self) -> FaultyConnection:
        """A connection that answers as the meters' link faults say."""
        return FaultyConnection(self)
