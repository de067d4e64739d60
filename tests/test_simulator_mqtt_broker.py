"""The demo's MQTT broker, spoken to byte by byte over a real socket on 127.0.0.1.

The end-to-end test has Home Assistant's own MQTT client (paho) use it; here
each packet type is checked on its own.
"""

import asyncio
from collections.abc import AsyncGenerator

import pytest

from simulator.mqtt_broker import (
    CONNACK,
    CONNECT,
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
    encode_string,
    packet,
    read_packet,
    topic_matches,
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


async def test_other_protocol_versions_are_refused(broker: MqttBroker) -> None:
    """An MQTT 5 client is told "unacceptable protocol version" (code 1) and let go."""
    reader, writer = await asyncio.open_connection("127.0.0.1", broker.port)
    writer.write(_connect_packet("v5", level=5))
    assert await _next(reader) == (CONNACK, 0, b"\x00\x01")
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
