"""A small MQTT 3.1.1 and 5.0 broker, so the demo can show an MQTT meter without installing one.

Home Assistant's MQTT integration needs a broker; a household has one
(Mosquitto, usually), the demo machine does not. This broker speaks just what
a meter's messages need, on asyncio and with no dependency, in both versions
of the protocol, chosen per connection by the CONNECT's protocol level (4:
MQTT 3.1.1, 5: MQTT 5.0). Both are needed: Home Assistant migrates every MQTT
connection to MQTT 5 on its own (and raises a repair issue, "MQTT protocol
migration failed", where the broker refuses it), while meters and older
clients speak 3.1.1. A message travels between the two: each subscriber gets
it encoded for its own version.

- CONNECT/CONNACK (no authentication, so it binds to 127.0.0.1 unless told
  otherwise), PINGREQ/PINGRESP, DISCONNECT;
- SUBSCRIBE/SUBACK and UNSUBSCRIBE/UNSUBACK with the `+` and `#` wildcards;
  3.1.1 subscriptions are granted QoS 0, as they always were here; MQTT 5 ones
  the QoS asked for, up to 1, with their No Local, Retain As Published and
  Retain Handling options and their Subscription Identifier (which Home
  Assistant's MQTT 5 client uses to tell its subscriptions apart);
- PUBLISH at QoS 0 and 1 (acknowledged with PUBACK), delivered at the lower
  of the message's and the subscription's QoS, retained messages kept per
  topic and sent to new subscribers; a QoS 1 delivery waits for the
  subscriber's PUBACK within its Receive Maximum;
- MQTT 5's message properties (content type, response topic, user properties,
  message expiry, ...) forwarded to MQTT 5 subscribers, and an expired message
  neither delivered nor kept;
- `publish()` from the same process, which is how the simulated MQTT meter
  (`simulator.mqtt_meter`) feeds it.

What it leaves out (sessions kept across connections, QoS 2, wills, shared
subscriptions, topic aliases, enhanced authentication) no meter in the demo
uses. An MQTT 5 client is told so in the CONNACK, as the specification wants
(Maximum QoS 1, Shared Subscription Available 0, a Session Expiry Interval of
0 where it asked for a session to be kept); other protocol levels are refused
with the "unsupported protocol version" code of the version they look like.
"""

import asyncio
from collections import deque
import contextlib
import dataclasses
from dataclasses import dataclass, field
import itertools
import logging
import math
import time
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
AUTH: Final = 15

_PROTOCOL_LEVEL_311: Final = 4
_PROTOCOL_LEVEL_5: Final = 5
_REFUSED_PROTOCOL: Final = 1  # MQTT 3.1.1's CONNACK return code
_MAX_LENGTH: Final = 268_435_455  # the largest remaining length MQTT can encode
_MAX_LENGTH_SHIFT: Final = 21  # four bytes of seven bits
_MAXIMUM_QOS: Final = 1  # QoS 2 is not supported
_DEFAULT_RECEIVE_MAXIMUM: Final = 65_535

# MQTT 5 reason codes (OASIS MQTT 5.0, 2.4).
RC_SUCCESS: Final = 0x00
RC_NO_SUBSCRIPTION_EXISTED: Final = 0x11
RC_MALFORMED_PACKET: Final = 0x81
RC_PROTOCOL_ERROR: Final = 0x82
RC_UNSUPPORTED_PROTOCOL_VERSION: Final = 0x84
RC_SERVER_SHUTTING_DOWN: Final = 0x8B
RC_BAD_AUTHENTICATION_METHOD: Final = 0x8C
RC_TOPIC_FILTER_INVALID: Final = 0x8F
RC_TOPIC_NAME_INVALID: Final = 0x90
RC_TOPIC_ALIAS_INVALID: Final = 0x94
RC_QOS_NOT_SUPPORTED: Final = 0x9B
RC_SHARED_SUBSCRIPTIONS_NOT_SUPPORTED: Final = 0x9E

# MQTT 5 property identifiers (OASIS MQTT 5.0, 2.2.2.2) this broker looks at.
PROP_PAYLOAD_FORMAT_INDICATOR: Final = 0x01
PROP_MESSAGE_EXPIRY_INTERVAL: Final = 0x02
PROP_CONTENT_TYPE: Final = 0x03
PROP_RESPONSE_TOPIC: Final = 0x08
PROP_CORRELATION_DATA: Final = 0x09
PROP_SUBSCRIPTION_IDENTIFIER: Final = 0x0B
PROP_SESSION_EXPIRY_INTERVAL: Final = 0x11
PROP_ASSIGNED_CLIENT_IDENTIFIER: Final = 0x12
PROP_AUTHENTICATION_METHOD: Final = 0x15
PROP_RECEIVE_MAXIMUM: Final = 0x21
PROP_TOPIC_ALIAS: Final = 0x23
PROP_MAXIMUM_QOS: Final = 0x24
PROP_USER_PROPERTY: Final = 0x26
PROP_MAXIMUM_PACKET_SIZE: Final = 0x27
PROP_SHARED_SUBSCRIPTION_AVAILABLE: Final = 0x2A

# How each property's value is encoded: a fixed number of bytes (1, 2, 4),
# "varint", "string"/"binary" (two-byte length in front) or "pair" (two strings).
_PROPERTY_ENCODING: Final[dict[int, int | str]] = {
    0x01: 1,  # payload format indicator
    0x02: 4,  # message expiry interval
    0x03: "string",  # content type
    0x08: "string",  # response topic
    0x09: "binary",  # correlation data
    0x0B: "varint",  # subscription identifier
    0x11: 4,  # session expiry interval
    0x12: "string",  # assigned client identifier
    0x13: 2,  # server keep alive
    0x15: "string",  # authentication method
    0x16: "binary",  # authentication data
    0x17: 1,  # request problem information
    0x18: 4,  # will delay interval
    0x19: 1,  # request response information
    0x1A: "string",  # response information
    0x1C: "string",  # server reference
    0x1F: "string",  # reason string
    0x21: 2,  # receive maximum
    0x22: 2,  # topic alias maximum
    0x23: 2,  # topic alias
    0x24: 1,  # maximum qos
    0x25: 1,  # retain available
    0x26: "pair",  # user property
    0x27: 4,  # maximum packet size
    0x28: 1,  # wildcard subscription available
    0x29: 1,  # subscription identifiers available
    0x2A: 1,  # shared subscription available
}

# The properties of a PUBLISH the server passes on to subscribers unaltered
# (OASIS MQTT 5.0, 3.3.2.3); the message expiry is passed on counted down.
_FORWARDED_PROPERTIES: Final = frozenset(
    {
        PROP_PAYLOAD_FORMAT_INDICATOR,
        PROP_CONTENT_TYPE,
        PROP_RESPONSE_TOPIC,
        PROP_CORRELATION_DATA,
        PROP_USER_PROPERTY,
    }
)

# What an MQTT 5 client is told in every CONNACK: where this broker falls
# short of what a client may assume when a property is missing (3.2.2.3).
_CONNACK_PROPERTIES: Final = bytes(
    [PROP_MAXIMUM_QOS, _MAXIMUM_QOS, PROP_SHARED_SUBSCRIPTION_AVAILABLE, 0]
)


class ProtocolError(Exception):
    """A packet this broker cannot make sense of: the connection is closed.

    `reason` is the MQTT 5 reason code an MQTT 5 client is sent in the
    DISCONNECT (or the CONNACK) before the connection closes.
    """

    def __init__(self, message: str, reason: int = RC_MALFORMED_PACKET) -> None:
        """A message for the log, and the reason code for the client."""
        super().__init__(message)
        self.reason = reason


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


def encode_properties(properties: bytes) -> bytes:
    """An MQTT 5 property block: its length, then the encoded properties."""
    return encode_length(len(properties)) + properties


def packet(kind: int, flags: int, body: bytes) -> bytes:
    """A whole packet: fixed header (type, flags, length) and body."""
    return bytes([(kind << 4) | flags]) + encode_length(len(body)) + body


def publish_packet(
    topic: str,
    payload: bytes,
    *,
    retain: bool = False,
    qos: int = 0,
    packet_id: int = 0,
    properties: bytes | None = None,
) -> bytes:
    """A PUBLISH: MQTT 3.1.1 without `properties`, MQTT 5 with them (b"": none)."""
    body = encode_string(topic)
    if qos:
        body += packet_id.to_bytes(2, "big")
    if properties is not None:
        body += encode_properties(properties)
    return packet(PUBLISH, (qos << 1) | (1 if retain else 0), body + payload)


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


def _varint(body: bytes, at: int) -> tuple[int, int]:
    """The variable byte integer at `at` in a body, and where the next field starts."""
    value, shift = 0, 0
    while True:
        if at >= len(body):
            raise ProtocolError("variable byte integer beyond the packet")
        byte, at = body[at], at + 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, at
        shift += 7
        if shift > _MAX_LENGTH_SHIFT:
            raise ProtocolError("variable byte integer longer than four bytes")


def _property_end(body: bytes, ident: int, at: int) -> tuple[int, int]:
    """A property's numeric value (0 for strings and binary data) and its end."""
    encoding = _PROPERTY_ENCODING.get(ident)
    if encoding is None:
        raise ProtocolError(f"unknown property {ident:#04x}")
    if isinstance(encoding, int):
        end = at + encoding
        if end > len(body):
            raise ProtocolError("property beyond the packet")
        return int.from_bytes(body[at:end], "big"), end
    if encoding == "varint":
        return _varint(body, at)
    for _ in range(2 if encoding == "pair" else 1):
        _, at = _string(body, at)  # binary data is laid out like a string
    return 0, at


@dataclass(frozen=True)
class Properties:
    """An MQTT 5 property block, decoded: each property's id, value and bytes."""

    items: tuple[tuple[int, int, bytes], ...] = ()

    @classmethod
    def decode(cls, body: bytes, at: int) -> tuple[Properties, int]:
        """The property block at `at` in a body, and where the next field starts."""
        length, at = _varint(body, at)
        end = at + length
        if end > len(body):
            raise ProtocolError("properties beyond the packet")
        items = []
        while at < end:
            start = at
            ident, at = _varint(body, at)
            value, at = _property_end(body, ident, at)
            items.append((ident, value, body[start:at]))
        if at != end:
            raise ProtocolError("a property runs past its block")
        return cls(tuple(items)), end

    def values(self, ident: int) -> list[int]:
        """Every value of a property (Subscription Identifier may come more than once)."""
        return [value for found, value, _ in self.items if found == ident]

    def value(self, ident: int, default: int) -> int:
        """A property's value, or what the specification says its absence means."""
        return next(iter(self.values(ident)), default)

    def has(self, ident: int) -> bool:
        """Whether the property is there."""
        return any(found == ident for found, _, _ in self.items)

    def encoded(self, idents: frozenset[int]) -> bytes:
        """These properties as they came, in their order (to pass them on)."""
        return b"".join(raw for found, _, raw in self.items if found in idents)


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


def valid_filter(topic_filter: str) -> bool:
    """A topic filter MQTT allows: `+` a whole level, `#` the whole last one."""
    if not topic_filter or "\0" in topic_filter:
        return False
    levels = topic_filter.split("/")
    for index, level in enumerate(levels):
        if ("#" in level and (level != "#" or index != len(levels) - 1)) or (
            "+" in level and level != "+"
        ):
            return False
    return True


@dataclass(frozen=True)
class _Message:
    """An application message on its way through the broker."""

    topic: str
    payload: bytes
    retain: bool = False
    qos: int = 0
    properties: bytes = b""  # MQTT 5 properties passed on unaltered, encoded
    expires: float | None = None  # time.monotonic() of its Message Expiry Interval
    sender: _Client | None = None  # the connection it came from (for No Local)

    def expiry_left(self) -> int | None:
        """Whole seconds left to live (0: expired), None if it does not expire."""
        if self.expires is None:
            return None
        return max(0, math.ceil(self.expires - time.monotonic()))


@dataclass(frozen=True)
class _Subscription:
    """What a client asked for with one topic filter."""

    qos: int = 0
    no_local: bool = False
    retain_as_published: bool = False
    identifier: int | None = None


@dataclass(frozen=True)
class _Delivery:
    """A message as one client gets it: its QoS, retain flag and subscriptions."""

    message: _Message
    qos: int
    retain: bool
    identifiers: tuple[int, ...] = ()


@dataclass(eq=False)
class _Client:
    """One connected client: where to write, its version, and what it listens to."""

    writer: asyncio.StreamWriter
    client_id: str = ""
    version: int = _PROTOCOL_LEVEL_311
    subscriptions: dict[str, _Subscription] = field(default_factory=dict)
    receive_maximum: int = _DEFAULT_RECEIVE_MAXIMUM
    maximum_packet_size: int | None = None
    in_flight: set[int] = field(default_factory=set)  # QoS 1 deliveries not acked
    waiting: deque[_Delivery] = field(default_factory=deque)  # beyond the window
    _last_id: int = 0

    @property
    def v5(self) -> bool:
        """Whether the client speaks MQTT 5."""
        return self.version == _PROTOCOL_LEVEL_5

    def send(self, data: bytes) -> None:
        if not self.writer.is_closing():
            self.writer.write(data)

    def delivery(self, message: _Message) -> _Delivery | None:
        """How the client gets a message, None if no subscription wants it.

        Overlapping subscriptions get one copy, at the highest QoS granted and
        with every Subscription Identifier, as MQTT 5 allows (3.3.4).
        """
        matching = [
            subscription
            for topic_filter, subscription in self.subscriptions.items()
            if topic_matches(topic_filter, message.topic)
            and not (subscription.no_local and message.sender is self)
        ]
        if not matching:
            return None
        return _Delivery(
            message,
            min(message.qos, max(s.qos for s in matching)),
            message.retain and any(s.retain_as_published for s in matching),
            tuple(s.identifier for s in matching if s.identifier is not None),
        )

    def deliver(self, delivery: _Delivery) -> None:
        """Send a message; at QoS 1 only while fewer than Receive Maximum wait for a PUBACK."""
        if delivery.qos and len(self.in_flight) >= self.receive_maximum:
            self.waiting.append(delivery)
            return
        packet_id = self._next_id() if delivery.qos else 0
        data = self._encode(delivery, packet_id)
        if data is None:
            return
        if delivery.qos:
            self.in_flight.add(packet_id)
        self.send(data)

    def acknowledged(self, packet_id: int) -> None:
        """A PUBACK from the client: the next waiting message may go."""
        self.in_flight.discard(packet_id)
        while self.waiting and len(self.in_flight) < self.receive_maximum:
            self.deliver(self.waiting.popleft())

    def _next_id(self) -> int:
        """A packet identifier no QoS 1 delivery in flight uses."""
        while True:
            self._last_id = self._last_id % 65_535 + 1
            if self._last_id not in self.in_flight:
                return self._last_id

    def _encode(self, delivery: _Delivery, packet_id: int) -> bytes | None:
        """The PUBLISH for this client's version; None if expired or too large for it."""
        message = delivery.message
        left = message.expiry_left()
        if left == 0:
            return None
        properties = None
        if self.v5:
            properties = message.properties + b"".join(
                bytes([PROP_SUBSCRIPTION_IDENTIFIER]) + encode_length(identifier)
                for identifier in delivery.identifiers
            )
            if left is not None:
                properties += bytes([PROP_MESSAGE_EXPIRY_INTERVAL])
                properties += left.to_bytes(4, "big")
        data = publish_packet(
            message.topic,
            message.payload,
            retain=delivery.retain,
            qos=delivery.qos,
            packet_id=packet_id,
            properties=properties,
        )
        if (
            self.maximum_packet_size is not None
            and len(data) > self.maximum_packet_size
        ):
            # MQTT 5 (3.1.2.11.4): dropped, as if sent.
            _LOGGER.debug("%s: %s too large, dropped", self.client_id, message.topic)
            return None
        return data


class MqttBroker:
    """The broker: `start`, `publish`, `stop`; clients connect over TCP."""

    def __init__(self, host: str = "127.0.0.1", port: int = 1883) -> None:
        """Listen on `host`:`port` (0: any free port) once started."""
        self.host = host
        self.port = port
        self.published = 0  # messages delivered to at least one subscriber, or kept
        self._retained: dict[str, _Message] = {}
        self._clients: set[_Client] = set()
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._assigned_ids = itertools.count(1)

    @property
    def clients(self) -> int:
        """Clients connected now."""
        return len(self._clients)

    @property
    def retained(self) -> dict[str, bytes]:
        """The retained message per topic, those that have expired left out."""
        return {
            topic: message.payload
            for topic, message in self._retained.items()
            if message.expiry_left() != 0
        }

    async def start(self) -> None:
        """Open the listening socket."""
        self._server = await asyncio.start_server(self._serve, self.host, self.port)
        self.port = int(self._server.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        """Close every connection and the listening socket.

        An MQTT 5 client is told why ("server shutting down"); MQTT 3.1.1 has
        no DISCONNECT from the server, its clients just see the end.
        """
        if self._server is not None:
            self._server.close()
        for client in list(self._clients):
            if client.v5:
                client.send(packet(DISCONNECT, 0, bytes([RC_SERVER_SHUTTING_DOWN, 0])))
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
        self._distribute(_Message(topic, data, retain))

    def _distribute(self, message: _Message) -> None:
        """Keep a retained message, and send a message to whoever subscribed to it."""
        if message.retain:
            if message.payload:  # kept without its sender, which may go
                self._retained[message.topic] = dataclasses.replace(
                    message, sender=None
                )
            else:  # an empty retained message clears the topic
                self._retained.pop(message.topic, None)
        for client in list(self._clients):
            delivery = client.delivery(message)
            if delivery is not None:
                client.deliver(delivery)
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
        except ProtocolError as err:
            _LOGGER.debug("client %s gone: %r", client.client_id or "?", err)
            if client in self._clients and client.v5:  # 3.1.1 has no server DISCONNECT
                client.send(packet(DISCONNECT, 0, bytes([err.reason, 0])))
        except (asyncio.IncompleteReadError, ConnectionError) as err:
            _LOGGER.debug("client %s gone: %r", client.client_id or "?", err)
        finally:
            self._clients.discard(client)
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()
            if task is not None:
                self._tasks.discard(task)

    def _connected(self, client: _Client, body: bytes) -> bool:
        """Answer a CONNECT: accepted for MQTT 3.1.1 and 5, refused for other versions.

        A refusal is in the CONNACK of the version the client looks like: a
        level above 5 (a version after MQTT 5) gets MQTT 5's "unsupported
        protocol version", anything else (MQTT 3.1 is level 3, "MQIsdp")
        MQTT 3.1.1's return code 1.
        """
        name, at = _string(body, 0)
        level = body[at] if at < len(body) else 0
        if name != "MQTT" or level not in (_PROTOCOL_LEVEL_311, _PROTOCOL_LEVEL_5):
            if name == "MQTT" and level > _PROTOCOL_LEVEL_5:
                refusal = bytes([0, RC_UNSUPPORTED_PROTOCOL_VERSION, 0])
            else:
                refusal = bytes([0, _REFUSED_PROTOCOL])
            client.send(packet(CONNACK, 0, refusal))
            return False
        client.version = level
        if level == _PROTOCOL_LEVEL_5:
            return self._connected_v5(client, body, at + 1)
        client.client_id, _ = _string(body, at + 4)  # after level, flags, keepalive
        client.send(packet(CONNACK, 0, bytes([0, 0])))
        return True

    def _connected_v5(self, client: _Client, body: bytes, at: int) -> bool:
        """Answer an MQTT 5 CONNECT; `at` is where its connect flags are.

        The CONNACK tells the client what this broker does not do; a CONNECT
        it cannot accept gets a CONNACK with the reason, as MQTT 5 allows.
        """
        try:
            properties = self._connect_properties(client, body, at)
        except ProtocolError as err:
            _LOGGER.debug("CONNECT refused: %r", err)
            client.send(packet(CONNACK, 0, bytes([0, err.reason, 0])))
            return False
        answer = _CONNACK_PROPERTIES
        if not client.client_id:  # the server picks one and says which (3.2.2.3.7)
            client.client_id = f"energy-meters-demo-{next(self._assigned_ids)}"
            answer += bytes([PROP_ASSIGNED_CLIENT_IDENTIFIER])
            answer += encode_string(client.client_id)
        if properties.value(PROP_SESSION_EXPIRY_INTERVAL, 0):
            # No session outlives its connection here: the client is told so.
            answer += bytes([PROP_SESSION_EXPIRY_INTERVAL]) + bytes(4)
        client.send(
            packet(CONNACK, 0, bytes([0, RC_SUCCESS]) + encode_properties(answer))
        )
        return True

    @staticmethod
    def _connect_properties(client: _Client, body: bytes, at: int) -> Properties:
        """Read an MQTT 5 CONNECT from its connect flags on: the client's limits, its id."""
        if at >= len(body) or body[at] & 0x01:  # the reserved flag must be 0
            raise ProtocolError("reserved connect flag set")
        properties, at = Properties.decode(body, at + 3)  # after keepalive
        client.client_id, _ = _string(body, at)
        if properties.has(PROP_AUTHENTICATION_METHOD):
            raise ProtocolError(
                "no enhanced authentication", RC_BAD_AUTHENTICATION_METHOD
            )
        client.receive_maximum = properties.value(
            PROP_RECEIVE_MAXIMUM, _DEFAULT_RECEIVE_MAXIMUM
        )
        packet_size = properties.value(PROP_MAXIMUM_PACKET_SIZE, -1)
        if not client.receive_maximum or not packet_size:
            raise ProtocolError("receive maximum or packet size 0", RC_PROTOCOL_ERROR)
        client.maximum_packet_size = packet_size if packet_size > 0 else None
        return properties

    def _handle(self, client: _Client, kind: int, flags: int, body: bytes) -> None:
        """One packet of a connected client."""
        if kind == PUBLISH:
            self._received(client, flags, body)
        elif kind == PUBACK:  # any form: packet id, reason code, properties
            if len(body) < 2:  # noqa: PLR2004  (a packet identifier)
                raise ProtocolError("PUBACK without a packet identifier")
            client.acknowledged(int.from_bytes(body[:2], "big"))
        elif kind == SUBSCRIBE:
            self._subscribe(client, body)
        elif kind == UNSUBSCRIBE:
            self._unsubscribe(client, body)
        elif kind == PINGREQ:
            client.send(packet(PINGRESP, 0, b""))
        else:
            raise ProtocolError(f"packet type {kind} not supported", RC_PROTOCOL_ERROR)

    def _received(self, client: _Client, flags: int, body: bytes) -> None:
        """A PUBLISH from a client: acknowledged at QoS 1, then passed on."""
        topic, at = _string(body, 0)
        qos = (flags >> 1) & 0x03
        packet_id = b""
        if qos:
            packet_id, at = body[at : at + 2], at + 2
        forwarded, expires = b"", None
        if client.v5:
            forwarded, expires, at = self._publish_properties(topic, qos, body, at)
        if qos:
            client.send(packet(PUBACK, 0, packet_id))  # success: the short form
        message = _Message(
            topic,
            body[at:],
            retain=bool(flags & 0x01),
            qos=min(qos, _MAXIMUM_QOS),
            properties=forwarded,
            expires=expires,
            sender=client,
        )
        self._distribute(message)

    @staticmethod
    def _publish_properties(
        topic: str, qos: int, body: bytes, at: int
    ) -> tuple[bytes, float | None, int]:
        """An MQTT 5 PUBLISH's properties: those passed on, the expiry, the payload's start.

        What the CONNACK said this broker does not take (QoS 2, topic
        aliases) ends the connection with the matching reason code.
        """
        if qos > _MAXIMUM_QOS:
            raise ProtocolError(f"QoS {qos}", RC_QOS_NOT_SUPPORTED)
        properties, at = Properties.decode(body, at)
        if properties.has(PROP_TOPIC_ALIAS):
            raise ProtocolError("topic aliases not supported", RC_TOPIC_ALIAS_INVALID)
        if properties.has(PROP_SUBSCRIPTION_IDENTIFIER):
            raise ProtocolError(
                "subscription identifier in a PUBLISH", RC_PROTOCOL_ERROR
            )
        if not topic or "+" in topic or "#" in topic:
            raise ProtocolError(f"topic name {topic!r}", RC_TOPIC_NAME_INVALID)
        expires = None
        if properties.has(PROP_MESSAGE_EXPIRY_INTERVAL):
            interval = properties.value(PROP_MESSAGE_EXPIRY_INTERVAL, 0)
            expires = time.monotonic() + interval
        return properties.encoded(_FORWARDED_PROPERTIES), expires, at

    def _subscribe(self, client: _Client, body: bytes) -> None:
        """Answer a SUBSCRIBE, then send the retained messages under its filters.

        MQTT 3.1.1 filters are granted QoS 0 whatever they ask for; MQTT 5
        ones what they ask for up to QoS 1, with their options.
        """
        at, identifier = 2, None
        if client.v5:
            properties, at = Properties.decode(body, at)
            identifiers = properties.values(PROP_SUBSCRIPTION_IDENTIFIER)
            identifier = identifiers[0] if identifiers else None
            if identifier == 0:
                raise ProtocolError("subscription identifier 0", RC_PROTOCOL_ERROR)
        codes, wanting_retained = bytearray(), {}
        while at < len(body):
            topic_filter, at = _string(body, at)
            if at >= len(body):
                raise ProtocolError("subscription options missing")
            options, at = body[at], at + 1
            if client.v5:
                code, wanting = self._subscription_v5(
                    client, topic_filter, options, identifier
                )
            else:  # the requested QoS: granted 0 whatever it was
                code, wanting = 0, _Subscription()
                client.subscriptions[topic_filter] = wanting
            codes.append(code)
            if wanting is not None:
                wanting_retained[topic_filter] = wanting
        properties_block = b"\x00" if client.v5 else b""
        client.send(packet(SUBACK, 0, body[:2] + properties_block + bytes(codes)))
        self._send_retained(client, wanting_retained)

    @staticmethod
    def _subscription_v5(
        client: _Client, topic_filter: str, options: int, identifier: int | None
    ) -> tuple[int, _Subscription | None]:
        """One MQTT 5 filter: its reason code, and its subscription if retained messages are due.

        The options byte: QoS (bits 0-1), No Local (2), Retain As Published
        (3), Retain Handling (4-5: 0 send retained messages, 1 only for a new
        subscription, 2 never); bits 6-7 are reserved.
        """
        qos, retain_handling = options & 0x03, (options >> 4) & 0x03
        if qos == 3 or retain_handling == 3 or options & 0xC0:  # noqa: PLR2004
            raise ProtocolError(f"subscription options {options:#04x}")
        if topic_filter.startswith("$share/"):
            return RC_SHARED_SUBSCRIPTIONS_NOT_SUPPORTED, None
        if not valid_filter(topic_filter):
            return RC_TOPIC_FILTER_INVALID, None
        is_new = topic_filter not in client.subscriptions
        subscription = _Subscription(
            qos=min(qos, _MAXIMUM_QOS),
            no_local=bool(options & 0x04),
            retain_as_published=bool(options & 0x08),
            identifier=identifier,
        )
        client.subscriptions[topic_filter] = subscription
        send_retained = retain_handling == 0 or (retain_handling == 1 and is_new)
        return subscription.qos, subscription if send_retained else None

    def _send_retained(
        self, client: _Client, subscriptions: dict[str, _Subscription]
    ) -> None:
        """The retained messages under new subscriptions, with the retain flag set."""
        for topic, message in list(self._retained.items()):
            if message.expiry_left() == 0:
                del self._retained[topic]
                continue
            matching = [s for f, s in subscriptions.items() if topic_matches(f, topic)]
            if matching:
                client.deliver(
                    _Delivery(
                        message,
                        min(message.qos, max(s.qos for s in matching)),
                        retain=True,
                        identifiers=tuple(
                            s.identifier for s in matching if s.identifier is not None
                        ),
                    )
                )

    def _unsubscribe(self, client: _Client, body: bytes) -> None:
        """Drop filters; MQTT 5's UNSUBACK says for each whether it was there."""
        at = 2
        if client.v5:
            _, at = Properties.decode(body, at)
        codes = bytearray()
        while at < len(body):
            topic_filter, at = _string(body, at)
            existed = client.subscriptions.pop(topic_filter, None) is not None
            codes.append(RC_SUCCESS if existed else RC_NO_SUBSCRIPTION_EXISTED)
        reasons = b"\x00" + bytes(codes) if client.v5 else b""
        client.send(packet(UNSUBACK, 0, body[:2] + reasons))
