"""A small MQTT 3.1.1 broker, so the demo can show an MQTT meter without installing one.

Home Assistant's MQTT integration needs a broker; a household has one
(Mosquitto, usually), the demo machine does not. This broker speaks just what
a meter's messages need, on asyncio and with no dependency:

- CONNECT/CONNACK (protocol level 4, MQTT 3.1.1; no authentication, so it
  binds to 127.0.0.1 unless told otherwise), PINGREQ/PINGRESP, DISCONNECT;
- SUBSCRIBE/SUBACK and UNSUBSCRIBE/UNSUBACK with the `+` and `#` wildcards,
  every subscription granted QoS 0;
- PUBLISH at QoS 0 and 1 (acknowledged with PUBACK), delivered at QoS 0,
  retained messages kept per topic and sent to new subscribers;
- `publish()` from the same process, which is how the simulated MQTT meter
  (`simulator.mqtt_meter`) feeds it.

What it leaves out (sessions kept across connections, QoS 2, wills, MQTT 5)
no meter in the demo uses; a client that asks for MQTT 5 is refused with the
"unacceptable protocol version" return code, as a 3.1.1 broker must.
"""

import asyncio
import contextlib
from dataclasses import dataclass, field
import logging
from typing import Final

_LOGGER = logging.getLogger(__name__)

CONNECT: Final = 1
CONNACK: Final = 2
PUBLISH: Final = 3
PUBACK: Final = 4
SUBSCRIBE: Final = 8
SUBACK: Final = 9
UNSUBSCRIBE: Final = 10
UNSUBACK: Final = 11
PINGREQ: Final = 12
PINGRESP: Final = 13
DISCONNECT: Final = 14

_PROTOCOL_LEVEL_311: Final = 4
_REFUSED_PROTOCOL: Final = 1
_MAX_LENGTH: Final = 268_435_455  # the largest remaining length MQTT can encode
_MAX_LENGTH_SHIFT: Final = 21  # four bytes of seven bits


class ProtocolError(Exception):
    """A packet this broker cannot make sense of: the connection is closed."""


def encode_length(length: int) -> bytes:
    """MQTT's variable-length integer: 7 bits a byte, low bits first."""
    if not 0 <= length <= _MAX_LENGTH:
        raise ValueError(f"length {length} out of range")
    out = bytearray()
    while True:
        byte, length = length % 128, length // 128
        out.append(byte | (0x80 if length else 0))
        if not length:
            return bytes(out)


def encode_string(text: str) -> bytes:
    """A UTF-8 string with its two-byte length in front."""
    raw = text.encode()
    return len(raw).to_bytes(2, "big") + raw


def packet(kind: int, flags: int, body: bytes) -> bytes:
    """A whole packet: fixed header (type, flags, length) and body."""
    return bytes([(kind << 4) | flags]) + encode_length(len(body)) + body


def publish_packet(topic: str, payload: bytes, *, retain: bool = False) -> bytes:
    """A QoS 0 PUBLISH."""
    return packet(PUBLISH, 1 if retain else 0, encode_string(topic) + payload)


async def read_packet(reader: asyncio.StreamReader) -> tuple[int, int, bytes]:
    """One packet: (type, flags, body); IncompleteReadError at the end of the stream."""
    first = (await reader.readexactly(1))[0]
    length, shift = 0, 0
    while True:
        byte = (await reader.readexactly(1))[0]
        length |= (byte & 0x7F) << shift
        if not byte & 0x80:
            break
        shift += 7
        if shift > _MAX_LENGTH_SHIFT:
            raise ProtocolError("remaining length longer than four bytes")
    return first >> 4, first & 0x0F, await reader.readexactly(length)


def _string(body: bytes, at: int) -> tuple[str, int]:
    """The string at `at` in a body, and where the next field starts."""
    if at + 2 > len(body):
        raise ProtocolError("string length beyond the packet")
    size = int.from_bytes(body[at : at + 2], "big")
    end = at + 2 + size
    if end > len(body):
        raise ProtocolError("string beyond the packet")
    return body[at + 2 : end].decode(errors="replace"), end


def topic_matches(topic_filter: str, topic: str) -> bool:
    """Whether a topic falls under a filter with `+` (one level) and `#` (the rest)."""
    filter_levels = topic_filter.split("/")
    levels = topic.split("/")
    for index, wanted in enumerate(filter_levels):
        if wanted == "#":
            return True
        if index >= len(levels):
            return False
        if wanted not in ("+", levels[index]):
            return False
    return len(levels) == len(filter_levels)


@dataclass(eq=False)
class _Client:
    """One connected client: where to write, and what it listens to."""

    writer: asyncio.StreamWriter
    client_id: str = ""
    filters: set[str] = field(default_factory=set)

    def send(self, data: bytes) -> None:
        if not self.writer.is_closing():
            self.writer.write(data)


class MqttBroker:
    """The broker: `start`, `publish`, `stop`; clients connect over TCP."""

    def __init__(self, host: str = "127.0.0.1", port: int = 1883) -> None:
        """Listen on `host`:`port` (0: any free port) once started."""
        self.host = host
        self.port = port
        self.retained: dict[str, bytes] = {}
        self.published = 0  # messages delivered to at least one subscriber, or kept
        self._clients: set[_Client] = set()
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def clients(self) -> int:
        """Clients connected now."""
        return len(self._clients)

    async def start(self) -> None:
        """Open the listening socket."""
        self._server = await asyncio.start_server(self._serve, self.host, self.port)
        self.port = int(self._server.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        """Close every connection and the listening socket."""
        if self._server is not None:
            self._server.close()
        for client in list(self._clients):
            client.writer.close()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None

    def publish(
        self, topic: str, payload: str | bytes, *, retain: bool = False
    ) -> None:
        """Deliver a message to every matching subscription (and keep it, if retained)."""
        data = payload.encode() if isinstance(payload, str) else payload
        if retain:
            if data:
                self.retained[topic] = data
            else:  # an empty retained message clears the topic
                self.retained.pop(topic, None)
        message = publish_packet(topic, data)
        for client in list(self._clients):
            if any(topic_matches(f, topic) for f in client.filters):
                client.send(message)
        self.published += 1

    async def _serve(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        """One connection, from CONNECT to its end; a broken packet closes it."""
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        client = _Client(writer)
        try:
            kind, _, body = await read_packet(reader)
            if kind != CONNECT or not self._connected(client, body):
                return
            self._clients.add(client)
            while True:
                kind, flags, body = await read_packet(reader)
                if kind == DISCONNECT:
                    return
                self._handle(client, kind, flags, body)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, ProtocolError) as err:
            _LOGGER.debug("client %s gone: %r", client.client_id or "?", err)
        finally:
            self._clients.discard(client)
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()
            if task is not None:
                self._tasks.discard(task)

    def _connected(self, client: _Client, body: bytes) -> bool:
        """Answer a CONNECT: accepted for MQTT 3.1.1, refused for other versions."""
        name, at = _string(body, 0)
        if name != "MQTT" or at >= len(body) or body[at] != _PROTOCOL_LEVEL_311:
            client.send(packet(CONNACK, 0, bytes([0, _REFUSED_PROTOCOL])))
            return False
        client.client_id, _ = _string(body, at + 4)  # after level, flags, keepalive
        client.send(packet(CONNACK, 0, bytes([0, 0])))
        return True

    def _handle(self, client: _Client, kind: int, flags: int, body: bytes) -> None:
        """One packet of a connected client."""
        if kind == PUBLISH:
            topic, at = _string(body, 0)
            qos = (flags >> 1) & 0x03
            if qos:
                packet_id, at = body[at : at + 2], at + 2
                client.send(packet(PUBACK, 0, packet_id))
            self.publish(topic, body[at:], retain=bool(flags & 0x01))
        elif kind == SUBSCRIBE:
            self._subscribe(client, body)
        elif kind == UNSUBSCRIBE:
            at = 2
            while at < len(body):
                topic_filter, at = _string(body, at)
                client.filters.discard(topic_filter)
            client.send(packet(UNSUBACK, 0, body[:2]))
        elif kind == PINGREQ:
            client.send(packet(PINGRESP, 0, b""))
        else:
            raise ProtocolError(f"packet type {kind} not supported")

    def _subscribe(self, client: _Client, body: bytes) -> None:
        """Grant every filter at QoS 0, then send the retained messages under them."""
        at, filters = 2, []
        while at < len(body):
            topic_filter, at = _string(body, at)
            at += 1  # the requested QoS: granted 0 whatever it was
            filters.append(topic_filter)
        client.filters.update(filters)
        client.send(packet(SUBACK, 0, body[:2] + bytes(len(filters))))
        for topic, data in self.retained.items():
            if any(topic_matches(f, topic) for f in filters):
                client.send(packet(PUBLISH, 1, encode_string(topic) + data))
