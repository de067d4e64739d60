"""An MQTT meter: values arrive as messages, through Home Assistant's MQTT integration.

This integration opens no broker connection of its own: the user's MQTT
integration already holds one (with its credentials, TLS and reconnects),
and a second client would mean a second set of settings to keep right.
`homeassistant.components.mqtt` is imported only where it is used, because
its client library is installed only once the user has set MQTT up.

A topic may carry one plain number (one topic per quantity) or a JSON object
with several quantities; several fields may share a topic. Each message is
read, filtered and published at once: the meter is event-driven, with no
poll interval. A message that cannot be read is logged (once until one can
be) and changes nothing; the optional availability topic switches the
entities to unavailable and back ("online"/"offline", as Home Assistant's
own MQTT entities expect by default).
"""

from collections.abc import Mapping
from typing import Any, Final

from homeassistant.core import HomeAssistant, callback

from ..const import LOGGER as _LOGGER
from ..meterlib.payload import Field, PayloadError, parse
from .meter import SingleMeter, SingleMeterConfigEntry, payload_format

CONF_AVAILABILITY_TOPIC: Final = "availability_topic"
# The topic of each field, as stored in the entry's data.
TOPIC_KEYS: Final[Mapping[Field, str]] = {f: f"{f.value}_topic" for f in Field}

_ONLINE: Final = frozenset({"online", "on", "true", "1", "connected"})
_OFFLINE: Final = frozenset({"offline", "off", "false", "0", "disconnected"})


def topics(data: Mapping[str, Any]) -> dict[Field, str]:
    """The configured topic of each field that has one."""
    return {f: str(data[key]) for f, key in TOPIC_KEYS.items() if data.get(key)}


def _text(payload: str | bytes | bytearray) -> str:
    if isinstance(payload, bytes | bytearray):
        return payload.decode("utf-8", errors="replace")
    return payload


class MqttMeter(SingleMeter):
    """A meter whose values are MQTT messages."""

    def __init__(self, hass: HomeAssistant, entry: SingleMeterConfigEntry) -> None:
        """Fields from the configured topics; offline until told, if it has a status topic."""
        self.topics = topics(entry.data)
        super().__init__(hass, entry, frozenset(self.topics))
        self.fmt = payload_format(entry.data)
        self.availability_topic: str | None = entry.data.get(CONF_AVAILABILITY_TOPIC)
        # As Home Assistant's MQTT entities: with a status topic, unavailable
        # until it says "online" (brokers keep that message for new clients).
        self.status.online = not self.availability_topic
        self.by_topic: dict[str, frozenset[Field]] = {}
        for which, topic in self.topics.items():
            self.by_topic[topic] = self.by_topic.get(topic, frozenset()) | {which}

    async def async_start(self) -> None:
        """Subscribe to every topic; unsubscribed when the entry unloads."""
        from homeassistant.components import mqtt  # noqa: PLC0415 (see module doc)

        for topic, fields in self.by_topic.items():
            self.config_entry.async_on_unload(
                await mqtt.async_subscribe(
                    self.hass, topic, self._message_handler(fields)
                )
            )
        if self.availability_topic:
            self.config_entry.async_on_unload(
                await mqtt.async_subscribe(
                    self.hass, self.availability_topic, self._availability
                )
            )

    def _message_handler(self, fields: frozenset[Field]) -> Any:
        """The callback for one topic, which carries `fields`."""

        @callback
        def handle(message: Any) -> None:
            try:
                values = parse(_text(message.payload), fields, self.fmt)
            except PayloadError as err:
                self.reject(f"message on {message.topic}: {err}")
            else:
                self.ingest(values)
            self.async_update_listeners()

        return handle

    @callback
    def _availability(self, message: Any) -> None:
        """Online or offline, as the meter (or its last will) says."""
        said = _text(message.payload).strip().lower()
        if said in _ONLINE:
            online = True
        elif said in _OFFLINE:
            online = False
        else:
            _LOGGER.debug("%s: availability payload %r ignored", self.name, said)
            return
        if online != self.status.online:
            _LOGGER.info("%s is %s", self.name, "online" if online else "offline")
        self.status.online = online
        self.async_update_listeners()


async def async_mqtt_available(hass: HomeAssistant) -> bool:
    """Whether Home Assistant's MQTT integration is set up (and so can be used)."""
    if "mqtt" not in hass.config.components and not hass.config_entries.async_entries(
        "mqtt"
    ):
        return False
    from homeassistant.components import mqtt  # noqa: PLC0415 (see module doc)

    return await mqtt.async_wait_for_mqtt_client(hass)


def valid_topic(topic: str) -> bool:
    """Whether a topic can be subscribed to as one meter's (no wildcards)."""
    from homeassistant.components import mqtt  # noqa: PLC0415 (see module doc)
    import probatio as vol  # noqa: PLC0415

    try:
        mqtt.valid_publish_topic(topic)
    except vol.Invalid:
        return False
    return True
