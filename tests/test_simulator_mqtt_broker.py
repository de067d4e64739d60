"""The demo's MQTT broker, spoken to byte by byte over a real socket on 127.0.0.1.

The end-to-end test has Home Assistant's own MQTT client (paho) use it; here
each packet type is checked on its own, in MQTT 3.1.1 and in MQTT 5 (which
Home Assistant migrates its connection to), and paho clients of both versions
exchange messages through it.
"""

import asyncio
from collections.abc import AsyncGenerator, Callable
import dataclasses
import queue
import threading
import time

from paho.mqtt.client import Client, ConnectFlags, DisconnectFlags, MQTTMessage
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties as PahoProperties
from paho.mqtt.reasoncodes import ReasonCode
from paho.mqtt.subscribeoptions import SubscribeOptions
import pytest

from simulator.mqtt_broker import (
    CONNACK,
    CONNECT,
    DISCONNECT,
    PINGREQ,
    PINGRESP,
    PUBACK,
    PUBLISH,
    SUBACK,
    SUBSCRIBE,
    UNSUBACK,
    UNSUBSCRIBE,
    MqttBroker,
    encode_length,
    encode_properties,
    encode_string,
    packet,
    publish_packet,
    read_packet,
    topic_matches,
    valid_filter,
)

type Connection = tuple[asyncio.StreamReader, asyncio.StreamWriter]


@pytest.fixture(name="broker")
async def fixture_broker(socket_enabled: None) -> AsyncGenerator[MqttBroker]:
    """A broker on a free port of 127.0.0.1, stopped at the end."""
    broker = MqttBroker("127.0.0.1", 0)
    await broker.start()
    yield broker
    await broker.stop()


def _connect_packet(client_id: str, level: int = 4) -> bytes:
    body = encode_string("MQTT") + bytes([level, 0x02]) + (60).to_bytes(2, "big")
    return packet(CONNECT, 0, body + encode_string(client_id))


async def _client(broker: MqttBroker, client_id: str = "c1") -> Connection:
    reader, writer = await asyncio.open_connection("127.0.0.1", broker.port)
    writer.write(_connect_packet(client_id))
    assert await _next(reader) == (CONNACK, 0, b"\x00\x00")
    return reader, writer


async def _next(reader: asyncio.StreamReader) -> tuple[int, int, bytes]:
    return await asyncio.wait_for(read_packet(reader), 2)


async def _subscribe(connection: Connection, *filters: str) -> None:
    reader, writer = connection
    body = b"\x00\x07" + b"".join(encode_string(f) + b"\x01" for f in filters)
    writer.write(packet(SUBSCRIBE, 2, body))
    assert await _next(reader) == (SUBACK, 0, b"\x00\x07" + bytes(len(filters)))


async def _close(*connections: Connection) -> None:
    for _, writer in connections:
        writer.close()
        await writer.wait_closed()


def _published(body: bytes) -> tuple[str, bytes]:
    size = int.from_bytes(body[:2], "big")
    return body[2 : 2 + size].decode(), body[2 + size :]


@pytest.mark.parametrize(
    ("topic_filter", "topic", "matches"),
    [
        ("demo/garage/state", "demo/garage/state", True),
        ("demo/+/state", "demo/garage/state", True),
        ("demo/#", "demo/garage/state", True),
        ("#", "anything/at/all", True),
        ("demo/+", "demo/garage/state", False),
        ("demo/garage", "demo/garage/state", False),
        ("demo/garage/state/more", "demo/garage/state", False),
        ("demo/+/status", "demo/garage/state", False),
    ],
)
def test_topic_filters(topic_filter: str, topic: str, matches: bool) -> None:
    """Wildcards: + is one level, # all that follow."""
    assert topic_matches(topic_filter, topic) is matches


def test_lengths_take_seven_bits_a_byte() -> None:
    """The remaining-length encoding of the MQTT specification's examples."""
    assert encode_length(0) == b"\x00"
    assert encode_length(127) == b"\x7f"
    assert encode_length(128) == b"\x80\x01"
    assert encode_length(16_383) == b"\xff\x7f"
    assert encode_length(2_097_152) == b"\x80\x80\x80\x01"
    with pytest.raises(ValueError, match="out of range"):
        encode_length(268_435_456)


async def test_messages_reach_matching_subscribers_only(broker: MqttBroker) -> None:
    """A publish from one client reaches the wildcard subscriber, acknowledged at QoS 1."""
    subscriber = await _client(broker, "ha")
    await _subscribe(subscriber, "demo/+/state")
    publisher = await _client(broker, "meter")
    reader, writer = publisher
    body = encode_string("demo/garage/state") + b"\x00\x2a" + b'{"power_w": 5}'
    writer.write(packet(PUBLISH, 0x02, body))  # QoS 1
    assert await _next(reader) == (PUBACK, 0, b"\x00\x2a")
    writer.write(packet(PUBLISH, 0, encode_string("demo/garage/other") + b"no"))
    writer.write(packet(PUBLISH, 0, encode_string("demo/shed/state") + b"7"))
    kind, _, received = await _next(subscriber[0])
    assert kind == PUBLISH
    assert _published(received) == ("demo/garage/state", b'{"power_w": 5}')
    kind, _, received = await _next(subscriber[0])
    assert _published(received) == ("demo/shed/state", b"7")
    assert broker.clients == 2
    await _close(subscriber, publisher)


async def test_retained_messages_greet_new_subscribers(broker: MqttBroker) -> None:
    """The last retained value per topic, sent at subscribe; an empty one clears it."""
    broker.publish("demo/garage/status", "offline", retain=True)
    broker.publish("demo/garage/status", "online", retain=True)
    broker.publish("demo/garage/state", "1", retain=True)
    broker.publish("demo/garage/state", "", retain=True)
    broker.publish("demo/garage/power", "not kept")
    connection = await _client(broker)
    await _subscribe(connection, "demo/garage/#")
    kind, flags, body = await _next(connection[0])
    assert (kind, flags) == (PUBLISH, 1)  # the retain flag is set
    assert _published(body) == ("demo/garage/status", b"online")
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(read_packet(connection[0]), 0.2)
    await _close(connection)


async def test_ping_and_unsubscribe(broker: MqttBroker) -> None:
    """Keep-alive answered; an unsubscribed filter gets nothing more."""
    connection = await _client(broker)
    reader, writer = connection
    writer.write(packet(PINGREQ, 0, b""))
    assert await _next(reader) == (PINGRESP, 0, b"")
    await _subscribe(connection, "a/b")
    writer.write(packet(UNSUBSCRIBE, 2, b"\x00\x09" + encode_string("a/b")))
    assert await _next(reader) == (UNSUBACK, 0, b"\x00\x09")
    broker.publish("a/b", "x")
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(read_packet(reader), 0.2)
    await _close(connection)


@pytest.mark.parametrize(
    ("name", "level", "refusal"),
    [
        ("MQIsdp", 3, b"\x00\x01"),  # MQTT 3.1: 3.1.1's return code 1
        ("MQTT", 3, b"\x00\x01"),
        ("MQTT", 6, b"\x00\x84\x00"),  # after MQTT 5: its reason code 0x84
    ],
)
async def test_other_protocol_versions_are_refused(
    broker: MqttBroker, name: str, level: int, refusal: bytes
) -> None:
    """A version other than 3.1.1 and 5 is told "unsupported protocol version", let go."""
    reader, writer = await asyncio.open_connection("127.0.0.1", broker.port)
    body = encode_string(name) + bytes([level, 0x02]) + (60).to_bytes(2, "big")
    writer.write(packet(CONNECT, 0, body + encode_string("other")))
    assert await _next(reader) == (CONNACK, 0, refusal)
    assert await asyncio.wait_for(reader.read(), 2) == b""  # closed
    assert broker.clients == 0
    await _close((reader, writer))


async def test_garbage_closes_only_that_connection(broker: MqttBroker) -> None:
    """A broken packet ends its connection; the others carry on."""
    good = await _client(broker, "good")
    await _subscribe(good, "t")
    reader, writer = await _client(broker, "bad")
    writer.write(packet(PUBLISH, 0, b"\xff\xff"))  # a topic longer than the packet
    assert await asyncio.wait_for(reader.read(), 2) == b""
    broker.publish("t", "still here")
    _, _, body = await _next(good[0])
    assert _published(body) == ("t", b"still here")
    await _close(good, (reader, writer))


async def test_stop_closes_every_connection(socket_enabled: None) -> None:
    """Nothing outlives the broker: clients see the end of the stream."""
    broker = MqttBroker("127.0.0.1", 0)
    await broker.start()
    reader, writer = await _client(broker)
    await broker.stop()
    assert await asyncio.wait_for(reader.read(), 2) == b""
    await _close((reader, writer))


# MQTT 5, byte by byte.

# What every MQTT 5 CONNACK says: Maximum QoS 1, no shared subscriptions.
_LIMITS = b"\x24\x01\x2a\x00"


def _connect_v5(client_id: str, properties: bytes = b"") -> bytes:
    body = encode_string("MQTT") + bytes([5, 0x02]) + (60).to_bytes(2, "big")
    body += encode_properties(properties)
    return packet(CONNECT, 0, body + encode_string(client_id))


async def _client_v5(
    broker: MqttBroker, client_id: str = "v5", properties: bytes = b""
) -> Connection:
    reader, writer = await asyncio.open_connection("127.0.0.1", broker.port)
    writer.write(_connect_v5(client_id, properties))
    assert await _next(reader) == (CONNACK, 0, b"\x00\x00" + encode_properties(_LIMITS))
    return reader, writer


async def _subscribe_v5(
    connection: Connection, topic_filter: str, options: int, properties: bytes = b""
) -> bytes:
    """One filter subscribed to; the SUBACK's reason code."""
    reader, writer = connection
    body = b"\x00\x05" + encode_properties(properties)
    writer.write(
        packet(SUBSCRIBE, 2, body + encode_string(topic_filter) + bytes([options]))
    )
    kind, _, answer = await _next(reader)
    assert kind == SUBACK
    assert answer[:3] == b"\x00\x05\x00"  # the packet id, no properties
    return answer[3:]


def _published_v5(body: bytes, qos: int = 0) -> tuple[str, bytes, bytes]:
    """Topic, properties, payload of an MQTT 5 PUBLISH (its packet id skipped)."""
    size = int.from_bytes(body[:2], "big")
    at = 2 + size + (2 if qos else 0)
    length = body[at]  # the tests' property blocks are shorter than 128 bytes
    return (
        body[2 : 2 + size].decode(),
        body[at + 1 : at + 1 + length],
        body[at + 1 + length :],
    )


async def _silence(reader: asyncio.StreamReader) -> None:
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(read_packet(reader), 0.2)


def test_valid_filters() -> None:
    """Wildcards only as whole levels, `#` only last: others get reason code 0x8F."""
    assert valid_filter("a/+/c")
    assert valid_filter("#")
    assert valid_filter("a/#")
    assert not valid_filter("")
    assert not valid_filter("a/#/c")
    assert not valid_filter("a/b#")
    assert not valid_filter("a+/b")


async def test_v5_connack_says_what_is_not_supported(broker: MqttBroker) -> None:
    """Maximum QoS 1, no shared subscriptions, no session kept, an id where none was given."""
    reader, writer = await asyncio.open_connection("127.0.0.1", broker.port)
    session_expiry = b"\x11" + (3600).to_bytes(4, "big")
    writer.write(_connect_v5("", session_expiry + b"\x21\x00\x0a"))  # receive max 10
    assigned = b"\x12" + encode_string("energy-meters-demo-1")
    no_session = b"\x11\x00\x00\x00\x00"
    expected = b"\x00\x00" + encode_properties(_LIMITS + assigned + no_session)
    assert await _next(reader) == (CONNACK, 0, expected)
    writer.write(packet(PINGREQ, 0, b""))
    assert await _next(reader) == (PINGRESP, 0, b"")
    assert broker.clients == 1
    await _close((reader, writer))


@pytest.mark.parametrize(
    ("properties", "reason"),
    [
        (b"\x15" + encode_string("SCRAM-SHA-1"), 0x8C),  # bad authentication method
        (b"\x21\x00\x00", 0x82),  # receive maximum 0: protocol error
        (b"\x7f\x00", 0x81),  # no such property: malformed
    ],
)
async def test_v5_connect_refused_with_a_reason(
    broker: MqttBroker, properties: bytes, reason: int
) -> None:
    """A CONNECT the broker cannot take gets a CONNACK with the reason, then the end."""
    reader, writer = await asyncio.open_connection("127.0.0.1", broker.port)
    writer.write(_connect_v5("v5", properties))
    assert await _next(reader) == (CONNACK, 0, bytes([0, reason, 0]))
    assert await asyncio.wait_for(reader.read(), 2) == b""
    assert broker.clients == 0
    await _close((reader, writer))


async def test_v5_subscribe_grants_up_to_qos_1(broker: MqttBroker) -> None:
    """QoS 0 and 1 granted, 2 lowered to 1; shared and invalid filters refused."""
    connection = await _client_v5(broker)
    assert await _subscribe_v5(connection, "a/0", 0x00) == b"\x00"
    assert await _subscribe_v5(connection, "a/1", 0x01) == b"\x01"
    assert await _subscribe_v5(connection, "a/2", 0x02) == b"\x01"
    assert await _subscribe_v5(connection, "$share/g/a", 0x00) == b"\x9e"
    assert await _subscribe_v5(connection, "a/#/b", 0x00) == b"\x8f"
    reader, writer = connection
    body = b"\x00\x06\x00" + encode_string("a/1") + encode_string("nothing")
    writer.write(packet(UNSUBSCRIBE, 2, body))
    assert await _next(reader) == (UNSUBACK, 0, b"\x00\x06\x00\x00\x11")
    await _close(connection)


async def test_v5_messages_keep_their_properties(broker: MqttBroker) -> None:
    """MQTT 5 subscribers get a message's properties, 3.1.1 ones none.

    The MQTT 5 subscriber also gets its subscription's identifier.
    """
    v5 = await _client_v5(broker, "ha")
    subscription_id = b"\x0b\x07"
    assert await _subscribe_v5(v5, "demo/+/state", 0x01, subscription_id) == b"\x01"
    v311 = await _client(broker, "old")
    await _subscribe(v311, "demo/#")
    publisher = await _client_v5(broker, "meter")
    reader, writer = publisher
    content_type = b"\x03" + encode_string("application/json")
    user = b"\x26" + encode_string("unit") + encode_string("W")
    properties = content_type + user
    data = publish_packet(
        "demo/garage/state", b"5", qos=1, packet_id=42, properties=properties
    )
    writer.write(data)
    assert await _next(reader) == (PUBACK, 0, b"\x00\x2a")

    kind, flags, body = await _next(v5[0])
    assert (kind, flags) == (PUBLISH, 0x02)  # QoS 1, as granted and published
    assert _published_v5(body, qos=1) == (
        "demo/garage/state",
        properties + subscription_id,
        b"5",
    )
    v5[1].write(packet(PUBACK, 0, body[19:21] + b"\x00\x00"))  # reason, properties

    kind, flags, body = await _next(v311[0])
    assert (kind, flags) == (PUBLISH, 0)  # 3.1.1: granted QoS 0, no properties
    assert _published(body) == ("demo/garage/state", b"5")
    await _close(v5, v311, publisher)


async def test_v5_subscriber_gets_3_1_1_messages(broker: MqttBroker) -> None:
    """A 3.1.1 client's QoS 1 messages reach an MQTT 5 subscriber at QoS 1.

    Each has an empty property block; the second waits for the first's PUBACK
    (the subscriber's Receive Maximum is 1).
    """
    v5 = await _client_v5(broker, "ha", b"\x21\x00\x01")
    assert await _subscribe_v5(v5, "t", 0x01) == b"\x01"
    reader, writer = await _client(broker, "meter")
    for packet_id, payload in ((1, b"first"), (2, b"second")):
        writer.write(publish_packet("t", payload, qos=1, packet_id=packet_id))
        assert await _next(reader) == (PUBACK, 0, packet_id.to_bytes(2, "big"))
    kind, flags, body = await _next(v5[0])
    assert (kind, flags) == (PUBLISH, 0x02)
    assert _published_v5(body, qos=1) == ("t", b"", b"first")
    await _silence(v5[0])  # the second waits
    v5[1].write(packet(PUBACK, 0, body[3:5]))  # the short form: success
    kind, flags, body = await _next(v5[0])
    assert _published_v5(body, qos=1) == ("t", b"", b"second")
    await _close(v5, (reader, writer))


async def test_v5_subscription_options(broker: MqttBroker) -> None:
    """No Local, Retain As Published and Retain Handling are honoured."""
    broker.publish("r", "kept", retain=True)
    connection = await _client_v5(broker)
    reader, writer = connection
    assert await _subscribe_v5(connection, "r", 0x20) == b"\x00"  # 2: no retained
    await _silence(reader)
    assert await _subscribe_v5(connection, "r", 0x10) == b"\x00"  # 1: only if new
    await _silence(reader)
    assert await _subscribe_v5(connection, "r", 0x08) == b"\x00"  # 0: sent
    assert (await _next(reader))[:2] == (PUBLISH, 1)
    broker.publish("r", "again", retain=True)
    kind, flags, body = await _next(reader)
    assert (kind, flags) == (PUBLISH, 1)  # Retain As Published: the flag stays
    assert _published_v5(body) == ("r", b"", b"again")

    assert await _subscribe_v5(connection, "own", 0x04) == b"\x00"  # No Local
    writer.write(publish_packet("own", b"echo", properties=b""))
    await _silence(reader)
    await _close(connection)


async def test_v5_expired_messages_are_dropped(broker: MqttBroker) -> None:
    """The Message Expiry Interval is passed on; an expired retained message goes."""
    publisher = await _client_v5(broker, "meter")
    expiry = b"\x02" + (60).to_bytes(4, "big")
    publisher[1].write(publish_packet("x", b"1", retain=True, properties=expiry))
    connection = await _client_v5(broker)
    await _until(lambda: "x" in broker.retained)
    assert await _subscribe_v5(connection, "x", 0x00) == b"\x00"
    _, _, body = await _next(connection[0])
    topic, properties, payload = _published_v5(body)
    assert (topic, payload) == ("x", b"1")
    assert properties[0] == 0x02
    assert 0 < int.from_bytes(properties[1:], "big") <= 60
    message = broker._retained["x"]
    broker._retained["x"] = dataclasses.replace(message, expires=time.monotonic() - 1)
    assert broker.retained == {}
    assert await _subscribe_v5(connection, "x", 0x00) == b"\x00"
    await _silence(connection[0])
    assert broker._retained == {}
    await _close(publisher, connection)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (publish_packet("t", b"", qos=2, packet_id=1, properties=b""), 0x9B),
        (publish_packet("t", b"", properties=b"\x23\x00\x01"), 0x94),  # topic alias
        (publish_packet("t/#", b"", properties=b""), 0x90),
        (packet(PUBLISH, 0, encode_string("t") + b"\x05"), 0x81),  # block too long
        (packet(CONNECT, 0, b""), 0x82),  # a second CONNECT
    ],
)
async def test_v5_errors_are_explained(
    broker: MqttBroker, data: bytes, reason: int
) -> None:
    """What the broker does not take ends an MQTT 5 connection with a DISCONNECT."""
    reader, writer = await _client_v5(broker)
    writer.write(data)
    assert await _next(reader) == (DISCONNECT, 0, bytes([reason, 0]))
    assert await asyncio.wait_for(reader.read(), 2) == b""
    await _close((reader, writer))


async def test_v5_maximum_packet_size(broker: MqttBroker) -> None:
    """A message larger than the client takes is dropped for it, the rest still come."""
    connection = await _client_v5(broker, properties=b"\x27" + (32).to_bytes(4, "big"))
    assert await _subscribe_v5(connection, "t", 0x01) == b"\x01"
    broker.publish("t", "x" * 40)
    broker.publish("t", "small")
    _, _, body = await _next(connection[0])
    assert _published_v5(body) == ("t", b"", b"small")
    await _close(connection)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"\x00\x01\x02\x0b\x00" + encode_string("t") + b"\x00", 0x82),  # id 0
        (b"\x00\x01\x00" + encode_string("t") + b"\x03", 0x81),  # QoS 3
        (b"\x00\x01\x00" + encode_string("t") + b"\x30", 0x81),  # retain handling 3
        (b"\x00\x01\x00" + encode_string("t") + b"\x40", 0x81),  # a reserved bit
        (b"\x00\x01\x00" + encode_string("t"), 0x81),  # no options byte
        (b"\x00\x01\x05\x0b\x01", 0x81),  # properties past the packet
        (b"\x00\x01\x02\x21\x00\x01", 0x81),  # a property past its block
    ],
)
async def test_v5_malformed_subscribe(
    broker: MqttBroker, body: bytes, reason: int
) -> None:
    """A SUBSCRIBE the specification calls malformed (or an error) ends the connection."""
    reader, writer = await _client_v5(broker)
    writer.write(packet(SUBSCRIBE, 2, body))
    assert await _next(reader) == (DISCONNECT, 0, bytes([reason, 0]))
    await _close((reader, writer))


@pytest.mark.parametrize("body", [b"", b"\x00", b"\x04\x00"])
async def test_v5_disconnect_in_any_form(broker: MqttBroker, body: bytes) -> None:
    """DISCONNECT with or without a reason code and properties ends the connection."""
    reader, writer = await _client_v5(broker)
    writer.write(packet(DISCONNECT, 0, body))
    assert await asyncio.wait_for(reader.read(), 2) == b""
    assert broker.clients == 0
    await _close((reader, writer))


async def test_stop_tells_v5_clients(socket_enabled: None) -> None:
    """An MQTT 5 client learns the server is shutting down (0x8B)."""
    broker = MqttBroker("127.0.0.1", 0)
    await broker.start()
    reader, writer = await _client_v5(broker)
    await broker.stop()
    assert await _next(reader) == (DISCONNECT, 0, b"\x8b\x00")
    assert await asyncio.wait_for(reader.read(), 2) == b""
    await _close((reader, writer))


# paho-mqtt, the client Home Assistant uses, in both versions.


async def _until(condition: Callable[[], object]) -> None:
    """Wait, without blocking the broker's event loop, for a paho thread's doing."""
    async with asyncio.timeout(5):
        while not condition():  # noqa: ASYNC110  (set by paho's thread, not a task)
            await asyncio.sleep(0.01)


@dataclasses.dataclass(eq=False)
class _Paho:
    """A paho client on its own network thread, with what it received."""

    client: Client
    connack: list[tuple[ReasonCode, PahoProperties]] = dataclasses.field(
        default_factory=list
    )
    granted: list[list[ReasonCode]] = dataclasses.field(default_factory=list)
    messages: queue.SimpleQueue[MQTTMessage] = dataclasses.field(
        default_factory=queue.SimpleQueue
    )
    gone: threading.Event = dataclasses.field(default_factory=threading.Event)

    @classmethod
    async def connect(
        cls, broker: MqttBroker, protocol: MQTTProtocolVersion, client_id: str = ""
    ) -> _Paho:
        paho = cls(
            Client(
                callback_api_version=CallbackAPIVersion.VERSION2,
                client_id=client_id,
                protocol=protocol,
            )
        )
        paho.client.on_connect = paho.on_connect
        paho.client.on_subscribe = paho.on_subscribe
        paho.client.on_message = paho.on_message
        paho.client.on_disconnect = paho.on_disconnect
        paho.client.connect("127.0.0.1", broker.port)
        paho.client.loop_start()
        await _until(lambda: paho.connack)
        return paho

    def on_connect(
        self,
        client: Client,
        userdata: object,
        flags: ConnectFlags,
        reason: ReasonCode,
        properties: PahoProperties | None,
    ) -> None:
        assert properties is not None  # paho gives MQTT 3.1.1 an empty set too
        self.connack.append((reason, properties))

    def on_subscribe(
        self,
        client: Client,
        userdata: object,
        mid: int,
        reasons: list[ReasonCode],
        properties: PahoProperties,
    ) -> None:
        self.granted.append(reasons)

    def on_message(
        self, client: Client, userdata: object, message: MQTTMessage
    ) -> None:
        self.messages.put(message)

    def on_disconnect(
        self,
        client: Client,
        userdata: object,
        flags: DisconnectFlags,
        reason: ReasonCode,
        properties: PahoProperties | None,
    ) -> None:
        self.gone.set()

    async def subscribe(self, topic: str, qos: int, **kwargs: object) -> int:
        """Subscribed and acknowledged: the QoS granted."""
        before = len(self.granted)
        self.client.subscribe(topic, options=SubscribeOptions(qos=qos), **kwargs)  # type: ignore[arg-type]
        await _until(lambda: len(self.granted) > before)
        return int(self.granted[-1][0].value)

    async def publish(
        self, topic: str, payload: bytes, qos: int, **kwargs: object
    ) -> None:
        """Published, and at QoS 1 acknowledged."""
        info = self.client.publish(topic, payload, qos=qos, **kwargs)  # type: ignore[arg-type]
        await _until(info.is_published)

    async def received(self) -> MQTTMessage:
        await _until(lambda: not self.messages.empty())
        return self.messages.get()

    async def close(self) -> None:
        self.client.disconnect()
        await _until(self.gone.is_set)
        self.client.loop_stop()


@pytest.mark.parametrize("qos", [0, 1])
async def test_paho_v5_and_v3_1_1_clients_talk(broker: MqttBroker, qos: int) -> None:
    """An MQTT 5 paho client and an MQTT 3.1.1 one exchange messages both ways."""
    v5 = await _Paho.connect(broker, MQTTProtocolVersion.MQTTv5)
    v311 = await _Paho.connect(broker, MQTTProtocolVersion.MQTTv311, "meter")
    reason, properties = v5.connack[0]
    assert not reason.is_failure
    assert properties.MaximumQoS == 1  # type: ignore[attr-defined]
    assert properties.AssignedClientIdentifier.startswith("energy-meters-demo-")  # type: ignore[attr-defined]

    assert await v5.subscribe("demo/+/state", qos) == qos
    assert await v311.subscribe("demo/#", qos) == 0  # 3.1.1: always QoS 0

    await v311.publish("demo/garage/state", b"from 3.1.1", qos)
    message = await v5.received()
    assert (message.topic, message.payload, message.qos) == (
        "demo/garage/state",
        b"from 3.1.1",
        qos,
    )
    assert (await v311.received()).payload == b"from 3.1.1"  # its own, at QoS 0

    user = PahoProperties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
    user.UserProperty = ("unit", "W")
    await v5.publish("demo/shed/state", b"from 5", qos, properties=user)
    message = await v311.received()
    assert (message.topic, message.payload, message.qos) == (
        "demo/shed/state",
        b"from 5",
        0,
    )
    message = await v5.received()  # its own: no No Local asked for
    assert message.properties.UserProperty == [("unit", "W")]  # type: ignore[union-attr]
    await v5.close()
    await v311.close()
    await _until(lambda: broker.clients == 0)


async def test_paho_v5_subscription_identifiers(broker: MqttBroker) -> None:
    """Home Assistant's MQTT 5 client tells its subscriptions apart by identifier."""
    v5 = await _Paho.connect(broker, MQTTProtocolVersion.MQTTv5, "ha")
    for identifier, topic in ((1, "demo/garage/state"), (2, "demo/+/state")):
        properties = PahoProperties(PacketTypes.SUBSCRIBE)  # type: ignore[no-untyped-call]
        properties.SubscriptionIdentifier = identifier
        assert await v5.subscribe(topic, 1, properties=properties) == 1
    broker.publish("demo/garage/state", "both")
    broker.publish("demo/shed/state", "wildcard")
    message = await v5.received()
    assert message.payload == b"both"
    assert message.properties.SubscriptionIdentifier == [1, 2]  # type: ignore[union-attr]
    message = await v5.received()
    assert message.payload == b"wildcard"
    assert message.properties.SubscriptionIdentifier == [2]  # type: ignore[union-attr]
    await v5.close()
