"""The simulated MQTT meter: its topics, payloads, availability and publish loop.

Expected values come from the household's own `values()`, so a wrong topic,
unit or quantity fails; no broker is involved.
"""

import asyncio
import json

import pytest

from custom_components.energy_meters.meterlib.model import Quantity
from simulator.household import Household
from simulator.mqtt_meter import MqttMeterPublisher, MqttMode, _plain_number

from .helpers import fixture_household, mean_voltage  # noqa: F401


def test_plain_mode_one_topic_per_quantity(household: Household) -> None:
    """Bare numbers in W, kWh, V (mean), A (L1), PF and Hz, one topic each."""
    publisher = MqttMeterPublisher(household, prefix="home/meter")
    values = household.values()
    messages = publisher.messages()
    assert [topic for topic, _ in messages] == [
        "home/meter/power",
        "home/meter/energy",
        "home/meter/voltage",
        "home/meter/current",
        "home/meter/power_factor",
        "home/meter/frequency",
    ]
    payloads = dict(messages)
    assert float(payloads["home/meter/power"]) == values[Quantity.POWER_TOTAL]
    assert (
        float(payloads["home/meter/energy"]) == (values[Quantity.ENERGY_IMPORT_TOTAL])
    )
    assert float(payloads["home/meter/voltage"]) == pytest.approx(mean_voltage(values))
    assert float(payloads["home/meter/current"]) == values[Quantity.CURRENT_L1]
    assert float(payloads["home/meter/power_factor"]) == (values[Quantity.POWER_FACTOR])
    assert float(payloads["home/meter/frequency"]) == values[Quantity.FREQUENCY]
    for payload in payloads.values():
        assert "e" not in payload.lower()
        assert payload == payload.strip()


def test_json_mode_one_state_topic(household: Household) -> None:
    """One `{prefix}/state` document, power in kW."""
    publisher = MqttMeterPublisher(household, mode="json")
    values = household.values()
    [(topic, payload)] = publisher.messages()
    assert topic == "sim/meter/state"
    assert json.loads(payload) == {
        "power_kw": pytest.approx(values[Quantity.POWER_TOTAL] / 1000),
        "energy_kwh": pytest.approx(values[Quantity.ENERGY_IMPORT_TOTAL]),
        "voltage": pytest.approx(mean_voltage(values)),
        "current": pytest.approx(values[Quantity.CURRENT_L1]),
        "power_factor": pytest.approx(values[Quantity.POWER_FACTOR]),
        "frequency": pytest.approx(values[Quantity.FREQUENCY]),
    }


def test_messages_follow_the_household(household: Household) -> None:
    """Each call reads the household anew: the energy counter moves on."""
    publisher = MqttMeterPublisher(household)
    before = float(dict(publisher.messages())["sim/meter/energy"])
    household.advance(600)
    after = float(dict(publisher.messages())["sim/meter/energy"])
    assert after > before
    assert after == household.values()[Quantity.ENERGY_IMPORT_TOTAL]


def test_availability(household: Household) -> None:
    """`{prefix}/status` carries "online" or "offline"."""
    publisher = MqttMeterPublisher(household, prefix="meters/heat_pump/")
    assert publisher.availability_topic == "meters/heat_pump/status"
    assert (publisher.online(), publisher.offline()) == ("online", "offline")


def test_plain_numbers_never_use_exponents() -> None:
    """Tiny and large values are written out in full, and exactly."""
    assert _plain_number(0.00001) == "0.00001"
    assert _plain_number(-0.0) == "0.0"
    assert _plain_number(1.5e16) == "15000000000000000"
    assert float(_plain_number(1234.5678901234)) == 1234.5678901234


def test_bad_arguments(household: Household) -> None:
    """Unknown modes and wildcard or empty prefixes are refused."""
    with pytest.raises(ValueError, match="mode"):
        MqttMeterPublisher(household, mode="xml")
    for prefix in ("", "/", "sim/#", "sim/+/meter"):
        with pytest.raises(ValueError, match="prefix"):
            MqttMeterPublisher(household, prefix=prefix)
    assert MqttMeterPublisher(household, mode=MqttMode.JSON).mode is MqttMode.JSON


async def test_run_publishes_rounds_until_stopped(household: Household) -> None:
    """Online first, a round of readings per interval, offline when stopped."""
    publisher = MqttMeterPublisher(household)
    stop = asyncio.Event()
    sent: list[tuple[str, str]] = []
    per_round = len(publisher.messages())

    def publish(topic: str, payload: str) -> None:
        sent.append((topic, payload))
        if len(sent) == 1 + 3 * per_round:
            stop.set()

    async with asyncio.timeout(5):
        rounds = await publisher.run(publish, 0.01, stop)
    assert rounds == 3
    assert sent[0] == ("sim/meter/status", "online")
    assert sent[-1] == ("sim/meter/status", "offline")
    readings = sent[1:-1]
    assert len(readings) == 3 * per_round
    assert readings[:per_round] == publisher.messages()


async def test_run_awaits_an_async_publish(household: Household) -> None:
    """A coroutine publish is awaited; stopping cuts a long interval short."""
    publisher = MqttMeterPublisher(household, mode="json")
    stop = asyncio.Event()
    sent: list[tuple[str, str]] = []

    async def publish(topic: str, payload: str) -> None:
        await asyncio.sleep(0)
        sent.append((topic, payload))
        if topic.endswith("/state"):
            stop.set()

    async with asyncio.timeout(2):
        rounds = await publisher.run(publish, 60.0, stop, availability=False)
    assert rounds == 1
    assert sent == publisher.messages()


async def test_run_with_stop_already_set(household: Household) -> None:
    """A stop set beforehand: no readings, only the availability pair."""
    publisher = MqttMeterPublisher(household)
    stop = asyncio.Event()
    stop.set()
    sent: list[tuple[str, str]] = []
    rounds = await publisher.run(lambda t, p: sent.append((t, p)), 1.0, stop)
    assert rounds == 0
    assert sent == [("sim/meter/status", "online"), ("sim/meter/status", "offline")]
    with pytest.raises(ValueError, match="interval"):
        await publisher.run(lambda *_: None, 0.0, stop)
