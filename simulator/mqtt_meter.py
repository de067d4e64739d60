"""A simulated meter that reports over MQTT, without a broker or an MQTT library.

Meters flashed with Tasmota or ESPHome, and bridges such as a Shelly or a
Modbus-to-MQTT gateway, publish their readings to a broker instead of being
polled. The integration's MQTT meter subscribes to such topics. This module
turns one `Household`'s readings into the (topic, payload) pairs such a device
publishes, in the two layouts users meet:

- ``plain``: one topic per quantity, the payload a bare number:
  ``{prefix}/power`` (W), ``{prefix}/energy`` (kWh), ``{prefix}/voltage`` (V,
  mean of L1-L3), ``{prefix}/current`` (A, L1), ``{prefix}/power_factor`` and
  ``{prefix}/frequency`` (Hz);
- ``json``: a single ``{prefix}/state`` topic with ``{"power_kw", "energy_kwh",
  "voltage", "current", "power_factor", "frequency"}``, power in kW.

It stays free of any broker dependency: tests check the messages directly, or
let `run` publish through Home Assistant's test harness (a function calling
`async_fire_mqtt_message`); any real client's publish function fits `run` as
well. Values are unrounded, so a test can compare them with
`Household.values()` exactly.
"""

import asyncio
from collections.abc import Awaitable, Callable
import contextlib
from decimal import Decimal
from enum import StrEnum
import json

from .household import Household
from .single_meter import flat_document, single_meter_view

PAYLOAD_ONLINE = "online"
PAYLOAD_OFFLINE = "offline"

type Publish = Callable[[str, str], Awaitable[None] | None]
"""Publishes one message: sync or async, the loop awaits what it returns."""


class MqttMode(StrEnum):
    """How the readings are laid out over topics (see the module docstring)."""

    PLAIN = "plain"
    JSON = "json"


def _plain_number(value: float) -> str:
    """The shortest exact decimal for a float, never in exponent notation.

    `str(0.00001)` is ``1e-05``; a device publishes ``0.00001``, and a client
    must not depend on its float parser accepting exponents.
    """
    if value == 0:
        value = 0.0  # not "-0.0"
    return format(Decimal(repr(value)), "f")


class MqttMeterPublisher:
    """A household's meter as the MQTT messages a device would publish."""

    def __init__(
        self,
        household: Household | None = None,
        *,
        prefix: str = "sim/meter",
        mode: MqttMode | str = MqttMode.PLAIN,
    ) -> None:
        """Choose the topic prefix and layout; nothing is published yet.

        Without a household it follows a default one on the wall clock (the
        demo); tests pass one on a `ManualClock`.
        """
        prefix = prefix.rstrip("/")
        if not prefix or any(char in prefix for char in "#+"):
            raise ValueError(f"not a topic prefix: {prefix!r}")
        self.household = household if household is not None else Household()
        self.prefix = prefix
        try:
            self.mode = MqttMode(mode)
        except ValueError:
            raise ValueError(f"unknown mode {mode!r}: choose plain or json") from None

    @property
    def availability_topic(self) -> str:
        """Where the device says whether it is online (``{prefix}/status``)."""
        return f"{self.prefix}/status"

    @staticmethod
    def online() -> str:
        """The availability payload of a device that is up."""
        return PAYLOAD_ONLINE

    @staticmethod
    def offline() -> str:
        """The availability payload a device's last will publishes when it drops."""
        return PAYLOAD_OFFLINE

    def messages(self) -> list[tuple[str, str]]:
        """The (topic, payload) pairs describing the household now."""
        view = single_meter_view(self.household)
        if self.mode is MqttMode.JSON:
            return [(f"{self.prefix}/state", json.dumps(flat_document(view)))]
        plain = view
        return [
            (f"{self.prefix}/{name}", _plain_number(value))
            for name, value in plain.items()
        ]

    async def run(
        self,
        publish: Publish,
        interval: float,
        stop: asyncio.Event,
        *,
        availability: bool = True,
    ) -> int:
        """Publish `messages()` every `interval` seconds until `stop` is set.

        The first round goes out at once; setting `stop` ends the wait for the
        next one at once too, so the loop never outlives its test. With
        `availability` the loop publishes "online" on the availability topic
        first and "offline" when it ends, as a device and its last will do.
        Returns how many rounds of readings it published.
        """
        if interval <= 0:
            raise ValueError(f"interval must be positive, got {interval}")

        async def send(topic: str, payload: str) -> None:
            result = publish(topic, payload)
            if result is not None:
                await result

        rounds = 0
        if availability:
            await send(self.availability_topic, self.online())
        try:
            while not stop.is_set():
                for topic, payload in self.messages():
                    await send(topic, payload)
                rounds += 1
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), interval)
        finally:
            if availability:
                await send(self.availability_topic, self.offline())
        return rounds
