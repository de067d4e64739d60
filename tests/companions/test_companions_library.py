"""The companion clients (pure library) against the fakes and broken servers.

No Home Assistant here: the library gets a plain aiohttp session, as any
other program using it would.
"""

import asyncio
from collections.abc import AsyncGenerator
from datetime import UTC, datetime
import json
from typing import Any

import aiohttp
import pytest

from custom_components.energy_meters.meterlib.companions import (
    CompanionAuthError,
    CompanionConnectionError,
    CompanionHttpError,
    CompanionResponseError,
    CompanionTimeoutError,
    Estimate,
    HeatIntegrator,
    HeatPumpClient,
    HeatPumpHealth,
    HeatPumpStatus,
    MalformedPayloadError,
    ModeSetting,
    OperatingMode,
    Reason,
    SensorInfo,
    SensorReading,
    ThermostatClient,
    ThermostatConfig,
    ThermostatMode,
    ThermostatStatus,
    coefficient_of_performance,
    cop,
    normalize_base_url,
    thermal_power,
    thermal_power_w,
)
from simulator.services import FaultKind, HeatPumpService, ThermostatService
from tests.helpers import free_port


@pytest.fixture
async def services(
    socket_enabled: None,
) -> AsyncGenerator[tuple[HeatPumpService, ThermostatService]]:
    """Both fakes, static, on 127.0.0.1."""
    heatpump = HeatPumpService(poll_interval=None, write_time=0.0)
    thermostat = ThermostatService()
    await heatpump.start()
    await thermostat.start()
    yield heatpump, thermostat
    await heatpump.stop()
    await thermostat.stop()


@pytest.fixture
async def session(socket_enabled: None) -> AsyncGenerator[aiohttp.ClientSession]:
    """The caller's session (the library never opens one)."""
    async with aiohttp.ClientSession() as client_session:
        yield client_session


STATUS: dict[str, Any] = {
    "is_on": True,
    "water_pump_running": False,
    "compressor_running": False,
    "operating_mode": "Standby",
    "mode_setting": "Auto",
    "op_mode": 3,
    "target_temperature": 45.0,
    "auto_mode_offset": 1,
    "flow_temperature": 45.0,
    "return_temperature": 30.0,
    "flow_rate": 12.5,
    "outdoor_temperature": 5.0,
    "water_pressure": 1.5,
    "error_code": 0,
    "has_error": False,
}


def test_status_from_the_documented_payload() -> None:
    """The reference's example parses into typed fields."""
    status = HeatPumpStatus.from_payload(STATUS)
    assert status.operating_mode is OperatingMode.STANDBY
    assert status.mode_setting is ModeSetting.AUTO
    assert status.temperature_delta == 15.0
    assert status.auto_mode_offset == 1


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"flow_temperature": "hot"}, "'flow_temperature' is 'hot', expected a number"),
        ({"is_on": "yes"}, "'is_on' is 'yes', expected true or false"),
        ({"flow_rate": True}, "'flow_rate' is True, expected a number"),
        ({"error_code": 1.5}, "'error_code' is 1.5, expected a whole number"),
        ({"operating_mode": 3}, "'operating_mode' is 3, expected a string"),
    ],
)
def test_malformed_status_names_the_field(change: dict[str, Any], message: str) -> None:
    """A wrong field is a library error naming it, never a KeyError or TypeError."""
    with pytest.raises(MalformedPayloadError, match=message):
        HeatPumpStatus.from_payload({**STATUS, **change})


def test_missing_field_and_wrong_container() -> None:
    """A missing field, or a list where an object belongs, is named as such."""
    payload = dict(STATUS)
    del payload["is_on"]
    with pytest.raises(MalformedPayloadError, match="'is_on' is missing"):
        HeatPumpStatus.from_payload(payload)
    with pytest.raises(MalformedPayloadError, match="expected a JSON object, got list"):
        HeatPumpStatus.from_payload([STATUS])


def test_unknown_states_are_kept_unknown() -> None:
    """A newer firmware's state or mode does not throw the whole reading away."""
    status = HeatPumpStatus.from_payload(
        {**STATUS, "operating_mode": "Defrost", "op_mode": 7.0}
    )
    assert status.operating_mode is None
    assert status.mode_setting is None


def test_health_bodies() -> None:
    """200 is fresh; 503 is stale, with or without an age in its body."""
    assert HeatPumpHealth.from_reply(
        200, {"status": "healthy", "status_age_seconds": 4.1}
    ) == (HeatPumpHealth(fresh=True, status_age_seconds=4.1))
    assert HeatPumpHealth.from_reply(503, {"detail": "stale"}) == HeatPumpHealth(
        fresh=False, status_age_seconds=None, detail="stale"
    )
    # The real service gives the age only inside its detail text.
    assert (
        HeatPumpHealth.from_reply(
            503, {"detail": "Status data is stale (35.2s old)"}
        ).status_age_seconds
        == 35.2
    )
    assert (
        HeatPumpHealth.from_reply(
            503, {"detail": "Status file is 41 seconds old"}
        ).status_age_seconds
        == 41.0
    )
    assert (
        HeatPumpHealth.from_reply(503, {"status_age_seconds": 40}).status_age_seconds
        == 40.0
    )
    assert HeatPumpHealth.from_reply(503, None).status_age_seconds is None
    with pytest.raises(MalformedPayloadError):
        HeatPumpHealth.from_reply(200, {"uptime": 3})


def test_thermostat_payloads() -> None:
    """Config (unknown fields kept), status, readings with a key missing, sensors."""
    config = ThermostatConfig.from_payload(
        {
            "target_temp": 22.0,
            "eco_temp": 18,
            "mode": "AUTO",
            "hysteresis": 0.5,
            "min_on_time": 30,
            "min_off_time": 10,
            "temp_sample_count": 3,
            "control_interval": 180,
            "added_later": "keep me",
        }
    )
    assert config.eco_temp == 18.0
    assert config.to_payload()["added_later"] == "keep me"
    with pytest.raises(MalformedPayloadError, match="'mode' is 'auto'"):
        ThermostatConfig.from_payload({**config.to_payload(), "mode": "auto"})
    status = ThermostatStatus.from_payload(
        {
            "config": config.to_payload(),
            "current_temp": None,
            "switch_state": True,
            "active_target": 22.0,
            "heating_needed": None,
        }
    )
    assert status.current_temp is None
    assert status.all_temps == {}
    reading = SensorReading.from_payload(
        {
            "device_id": 201,
            "sensor_id": "aa",
            "sensor_name": "temp_buffer",
            "timestamp": "2026-11-22T05:11:20",
            "readings": {"temperature": 33.1},
        }
    )
    assert reading.device_id == "201"
    assert reading.humidity is None
    assert reading.timestamp == datetime(2026, 11, 22, 5, 11, 20, tzinfo=UTC)
    with pytest.raises(MalformedPayloadError, match="ISO 8601"):
        SensorReading.from_payload({**_reading_payload(), "timestamp": "yesterday"})
    with pytest.raises(MalformedPayloadError, match="device_id"):
        SensorReading.from_payload({**_reading_payload(), "device_id": [1]})
    nameless = SensorReading.from_payload({**_reading_payload(), "sensor_id": None})
    assert nameless.sensor_id is None
    assert nameless.key == "x"
    locked = ThermostatStatus.from_payload(
        {
            "config": config.to_payload(),
            "switch_state": True,
            "current_temp": float("nan"),
            "switch_locked_until": "2026-11-22T05:41:20+00:00",
        }
    )
    assert locked.current_temp is None
    assert locked.switch_locked_until == datetime(2026, 11, 22, 5, 41, 20, tzinfo=UTC)
    info = SensorInfo.from_payload({"sensor_id": "aa", "last_seen": None})
    assert info.last_seen is None
    assert info.measurements == ()


def _reading_payload() -> dict[str, Any]:
    return {
        "sensor_id": "aa",
        "sensor_name": "x",
        "timestamp": "2026-11-22T05:11:20Z",
        "readings": {},
    }


@pytest.mark.parametrize(
    "garbage", [float("nan"), float("inf"), float("-inf"), 1e9, -300.0]
)
def test_impossible_readings_are_missing(garbage: float) -> None:
    """NaN, infinity, 1e9 L/min, -300 °C: no reading, not a number to compute with."""
    status = HeatPumpStatus.from_payload(
        {**STATUS, "flow_rate": garbage, "flow_temperature": garbage}
    )
    assert status.flow_rate is None
    assert status.flow_temperature is None
    assert status.temperature_delta is None
    assert thermal_power(status.flow_rate, status.temperature_delta).value is None
    reading = SensorReading.from_payload(
        {**_reading_payload(), "readings": {"temperature": garbage, "battery": 76.0}}
    )
    assert reading.temperature is None
    assert reading.battery == 76
    assert isinstance(reading.battery, int)


def test_nan_from_the_wire_is_refused() -> None:
    """Python's JSON decoder turns a bare NaN into a float: it is caught after that."""
    payload = json.loads(json.dumps({**STATUS, "flow_rate": float("nan")}))
    assert HeatPumpStatus.from_payload(payload).flow_rate is None


def test_thermal_power_within_the_rating() -> None:
    """Above 1.5 x the 7 kW rating is a bad reading: unknown, with the reason."""
    assert thermal_power(12.0, 5.0) == Estimate(pytest.approx(4186.0), Reason.OK)
    assert thermal_power(1e9, 5.0) == Estimate(None, Reason.ABOVE_RATING)
    assert thermal_power(None, 5.0) == Estimate(None, Reason.MISSING_READING)


@pytest.mark.parametrize(
    ("thermal_w", "electrical_w", "running", "reason"),
    [
        (3720.0, 6.0, True, Reason.STANDBY_POWER),  # measured: a COP of 620
        (3600.0, 1500.0, False, Reason.COMPRESSOR_OFF),
        (3600.0, None, True, Reason.NO_ELECTRICAL_POWER),
        (None, 1500.0, True, Reason.MISSING_READING),
        (-200.0, 900.0, True, Reason.NO_HEAT),
        (9000.0, 300.0, True, Reason.IMPLAUSIBLE),  # 30
    ],
)
def test_cop_only_when_it_means_something(
    thermal_w: float | None, electrical_w: float | None, running: bool, reason: Reason
) -> None:
    """Compressor on, more than standby power, a ratio below 10: else unknown, why."""
    assert cop(thermal_w, electrical_w, running) == Estimate(None, reason)


def test_thermal_power_and_cop_by_hand() -> None:
    """12.5 L/min and 15 K: 12.5/60 kg/s x 4186 J/(kg K) x 15 K = 13081.25 W."""
    assert thermal_power_w(12.5, 15.0) == pytest.approx(13081.25)
    assert thermal_power_w(12.0, -2.0) < 0
    assert coefficient_of_performance(4186.0, 1500.0, compressor_running=True) == (
        pytest.approx(2.790667, abs=1e-6)
    )
    assert coefficient_of_performance(4186.0, 1500.0, compressor_running=False) is None
    assert coefficient_of_performance(4186.0, None, compressor_running=True) is None
    assert coefficient_of_performance(4186.0, 0.0, compressor_running=True) is None
    assert coefficient_of_performance(-10.0, 900.0, compressor_running=True) is None


def test_heat_integrator() -> None:
    """Trapezoids between samples; gaps and negative power add nothing."""
    integrator = HeatIntegrator(total_kwh=1.0, max_gap_s=300)
    integrator.add(3600.0, at=0.0)
    assert integrator.add(7200.0, at=60.0) == pytest.approx(1.0 + 5400 * 60 / 3.6e6)
    total = integrator.total_kwh
    assert integrator.add(3600.0, at=1000.0) == total  # gap: skipped
    assert integrator.add(-500.0, at=1060.0) == pytest.approx(total + 1800 * 60 / 3.6e6)
    integrator.interrupt()
    before = integrator.total_kwh
    assert integrator.add(1000.0, at=1070.0) == before


def test_heat_integrator_takes_only_plausible_power() -> None:
    """NaN, None and more than the heat pump can deliver are gaps, never added."""
    integrator = HeatIntegrator(total_kwh=5.0)
    integrator.add(3000.0, at=0.0)
    for garbage in (float("nan"), None, 348_833_333_333.0):
        assert integrator.add(garbage, at=30.0) == 5.0
        assert integrator.add(3000.0, at=60.0) == 5.0  # the interval after a gap too
        integrator.add(3000.0, at=0.0)
        integrator.interrupt()
        integrator.add(3000.0, at=0.0)
    assert not integrator.restore(float("nan"))
    assert not integrator.restore("12.5")
    assert not integrator.restore(-1.0)
    assert integrator.restore(4.0)
    assert integrator.total_kwh == 5.0  # a restore never goes backwards
    assert integrator.restore(7.5)
    assert integrator.total_kwh == 7.5


def test_normalize_base_url() -> None:
    """Spaces and trailing slashes go."""
    assert normalize_base_url(" http://h:8002// ") == "http://h:8002"


async def test_heat_pump_client_against_the_fake(
    services: tuple[HeatPumpService, ThermostatService], session: aiohttp.ClientSession
) -> None:
    """Read, then every control; the power-on trap is visible in the next status."""
    heatpump, _ = services
    client = HeatPumpClient(session, heatpump.url + "/", token=None)
    assert (await client.status()) == HeatPumpStatus.from_payload(
        heatpump.state.status()
    )
    assert (await client.health()).fresh
    heatpump.state.is_on = False
    assert await client.set_power(on=True) is True
    assert (await client.status()).mode_setting is ModeSetting.AUTO  # cached
    heatpump.poll()
    assert (await client.status()).mode_setting is ModeSetting.HEAT
    assert await client.set_target_temperature(52.5) == 52.5
    assert await client.set_auto_mode_offset(-2) == -2
    change = await client.set_mode(ModeSetting.HEAT)
    assert change.default_temperature == 40.0
    assert (await client.set_mode(ModeSetting.AUTO)).default_temperature is None
    with pytest.raises(
        CompanionHttpError, match="temperature: Input should be between 20 and 60"
    ):
        await client.set_target_temperature(61)
    heatpump.make_stale(age=45)
    health = await client.health()
    assert (health.fresh, health.status_age_seconds) == (False, 45.0)


async def test_thermostat_read_modify_write_keeps_unknown_fields(
    services: tuple[HeatPumpService, ThermostatService], session: aiohttp.ClientSession
) -> None:
    """A field this library does not know goes back to the service unchanged."""
    _, thermostat = services
    thermostat.config["added_later"] = 7
    client = ThermostatClient(session, thermostat.url)
    sent = await client.update_config(mode=ThermostatMode.ECO, hysteresis=0.7)
    assert sent.mode is ThermostatMode.ECO
    assert thermostat.config_posts[-1]["added_later"] == 7
    assert thermostat.config_posts[-1]["min_on_time"] == 30
    assert thermostat.config["hysteresis"] == 0.7
    assert (await client.health()).healthy
    assert len(await client.sensors()) == 3
    assert await client.switch(turn_on=True) is True
    assert thermostat.switch_on


@pytest.mark.parametrize(
    ("fault", "error", "message"),
    [
        (FaultKind.SERVER_ERROR, CompanionHttpError, "HTTP 500"),
        (FaultKind.HTML, CompanionResponseError, "HTML page"),
        (FaultKind.TRUNCATED, CompanionResponseError, "malformed JSON"),
        (FaultKind.SLOW, CompanionTimeoutError, "within 0.2 s"),
        (FaultKind.UNAUTHORIZED, CompanionAuthError, "HTTP 401"),
    ],
)
async def test_every_fault_is_a_library_error(
    services: tuple[HeatPumpService, ThermostatService],
    session: aiohttp.ClientSession,
    fault: FaultKind,
    error: type[Exception],
    message: str,
) -> None:
    """Each way the service can misbehave raises its own clear error."""
    heatpump, _ = services
    heatpump.faults.inject(fault, delay=0.5, count=1)
    client = HeatPumpClient(session, heatpump.url, timeout=0.2)
    with pytest.raises(error, match=message):
        await client.status()
    assert heatpump.faults.fault is None  # count=1: cleared after one request
    assert (await client.status()).is_on


async def test_html_with_a_json_content_type(
    socket_enabled: None, session: aiohttp.ClientSession
) -> None:
    """A page that starts like HTML is HTML, whatever its header claims."""
    server = await asyncio.start_server(
        _reply(b"<html>no</html>", "application/json"), "127.0.0.1", 0
    )
    port = server.sockets[0].getsockname()[1]
    try:
        with pytest.raises(CompanionResponseError, match="HTML"):
            await HeatPumpClient(session, f"http://127.0.0.1:{port}").status()
    finally:
        server.close()
        await server.wait_closed()


async def test_connection_closed_mid_body(
    socket_enabled: None, session: aiohttp.ClientSession
) -> None:
    """Fewer bytes than announced, then the connection drops: cut short."""
    server = await asyncio.start_server(
        _reply(b'{"is_on": tr', "application/json", length=100), "127.0.0.1", 0
    )
    port = server.sockets[0].getsockname()[1]
    try:
        with pytest.raises(CompanionResponseError, match="cut short"):
            await HeatPumpClient(session, f"http://127.0.0.1:{port}").status()
    finally:
        server.close()
        await server.wait_closed()


def _reply(body: bytes, content_type: str, length: int | None = None) -> Any:
    """A raw HTTP server that answers every request with this body."""

    async def handle(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        await reader.readuntil(b"\r\n\r\n")
        head = (
            f"HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\n"
            f"Content-Length: {length or len(body)}\r\nConnection: close\r\n\r\n"
        )
        writer.write(head.encode() + body)
        await writer.drain()
        writer.close()

    return handle


async def test_unreachable_is_a_connection_error(
    socket_enabled: None, session: aiohttp.ClientSession
) -> None:
    """Nothing listens: a connection error naming the URL."""
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(CompanionConnectionError, match="cannot reach"):
        await ThermostatClient(session, url).status()
