"""The fake companion services reproduce the real ones, traps included."""

import asyncio
from collections.abc import AsyncGenerator
from datetime import UTC, datetime, timedelta
import json
import re
import signal
from typing import Any

import aiohttp
import pytest

from simulator.services import (
    BluSensor,
    CompanionServices,
    FaultKind,
    HeatPumpService,
    HeatPumpState,
    ThermostatService,
    start_services,
)
from simulator.services.thermostat import DEFAULT_CONFIG
from tests.helpers import running_module


@pytest.fixture
async def services(socket_enabled: None) -> AsyncGenerator[CompanionServices]:
    """Both fakes, static, on any free ports of 127.0.0.1."""
    running = await start_services("127.0.0.1", 0, 0, live=False, poll_interval=None)
    running.heatpump.write_time = 0.0
    running.heatpump.failed_try_time = 0.01
    yield running
    await running.stop()


@pytest.fixture
async def http(socket_enabled: None) -> AsyncGenerator[aiohttp.ClientSession]:
    """A plain HTTP client."""
    async with aiohttp.ClientSession() as session:
        yield session


async def _call(
    http: aiohttp.ClientSession, method: str, url: str, body: Any = None, **kwargs: Any
) -> tuple[int, Any]:
    async with http.request(method, url, json=body, **kwargs) as response:
        return response.status, await response.json(content_type=None)


async def test_status_500_until_the_first_poll(
    socket_enabled: None, http: aiohttp.ClientSession
) -> None:
    """The real service has nothing to serve before it read the pump once.

    500 with the KeyError's text as detail; without a status file, 503.
    """
    service = HeatPumpService(polled=False, poll_interval=None)
    await service.start()
    try:
        status, body = await _call(http, "GET", f"{service.url}/status")
        assert (status, body) == (500, {"detail": "'op_mode'"})
        status, body = await _call(http, "GET", f"{service.url}/health")
        assert status == 503
        assert "status_age_seconds" not in body
        service.poll()
        status, body = await _call(http, "GET", f"{service.url}/status")
        assert status == 200
        assert body["op_mode"] == 3
        service.remove_status_file()
        for path in ("/status", "/health"):
            status, body = await _call(http, "GET", f"{service.url}{path}")
            assert (status, body) == (503, {"detail": "Status file not available"})
    finally:
        await service.stop()


async def test_health_turns_503_when_stale(
    services: CompanionServices, http: aiohttp.ClientSession
) -> None:
    """Older than 30 s: 503, the age only in the detail text; /status still serves."""
    url = services.heatpump.url
    assert (await _call(http, "GET", f"{url}/health"))[0] == 200
    assert (await _call(http, "POST", f"{url}/_sim/stale", {"age": 31}))[0] == 200
    status, body = await _call(http, "GET", f"{url}/health")
    assert status == 503
    assert list(body) == ["detail"]
    assert re.fullmatch(r"Status data is stale \(3\d\.\ds old\)", body["detail"])
    assert (await _call(http, "GET", f"{url}/status"))[0] == 200
    await _call(http, "DELETE", f"{url}/_sim/stale")
    assert (await _call(http, "GET", f"{url}/health"))[0] == 200


async def test_power_on_writes_heat_mode(
    services: CompanionServices, http: aiohttp.ClientSession
) -> None:
    """The documented trap: power on switches Auto (3) to Heat (4)."""
    url = services.heatpump.url
    await _call(http, "POST", f"{url}/_sim/state", {"is_on": False, "op_mode": 3})
    assert await _call(http, "POST", f"{url}/power", {"power_on": True}) == (
        200,
        {"status": "success", "power_on": True},
    )
    # /status is the cached file: the write shows only after the next poll.
    _, body = await _call(http, "GET", f"{url}/status")
    assert (body["is_on"], body["op_mode"]) == (False, 3)
    await _call(http, "POST", f"{url}/_sim/poll")
    _, body = await _call(http, "GET", f"{url}/status")
    assert (body["is_on"], body["op_mode"], body["mode_setting"]) == (True, 4, "Heat")
    assert [register for register, _ in services.heatpump.modbus_writes][-3:] == [
        "is_on",
        "op_mode",
        "heat_setpoint",
    ]


async def test_controls_and_their_validation(
    services: CompanionServices, http: aiohttp.ClientSession
) -> None:
    """Each control answers like the real one; bad values get FastAPI's 422."""
    url = services.heatpump.url
    assert (await _call(http, "POST", f"{url}/setpoint", {"temperature": 35.5}))[1] == {
        "status": "success",
        "target_temperature": 35.5,
    }
    assert (await _call(http, "POST", f"{url}/auto-mode-offset", {"offset": -3}))[1][
        "auto_mode_offset"
    ] == -3
    assert (await _call(http, "POST", f"{url}/lg-mode", {"mode": 4}))[1] == {
        "status": "success",
        "mode": 4,
        "mode_name": "Heating",
        "default_temperature": 40.0,
    }
    assert (
        "default_temperature"
        not in (await _call(http, "POST", f"{url}/lg-mode", {"mode": 3}))[1]
    )
    for path, body in [
        ("/setpoint", {"temperature": 19.5}),
        ("/setpoint", {}),
        ("/auto-mode-offset", {"offset": 1.5}),
        ("/auto-mode-offset", {"offset": "2"}),
        ("/lg-mode", {"mode": 0}),
        ("/power", {"power_on": "on"}),
        ("/power", [True]),
    ]:
        status, answer = await _call(http, "POST", f"{url}{path}", body)
        assert status == 422, (path, body)
        assert answer["detail"][0]["loc"][0] == "body"
    async with http.post(f"{url}/power", data=b"{not json") as response:
        assert response.status == 422
    services.heatpump.link_up = False
    for path, body, what in [
        ("/power", {"power_on": False}, "power"),
        ("/setpoint", {"temperature": 30}, "setpoint"),
        ("/auto-mode-offset", {"offset": 0}, "auto mode offset"),
        ("/lg-mode", {"mode": 3}, "LG mode"),
    ]:
        assert await _call(http, "POST", f"{url}{path}", body) == (
            500,
            {"detail": f"Failed to set {what}"},
        )


async def test_automations_undo_controls(
    services: CompanionServices, http: aiohttp.ClientSession
) -> None:
    """Pinned fields come back after every control, as the power manager does."""
    url = services.heatpump.url
    await _call(http, "POST", f"{url}/_sim/pin", {"is_on": False})
    await _call(http, "POST", f"{url}/power", {"power_on": True})
    _, state = await _call(http, "GET", f"{url}/_sim/state")
    assert state["is_on"] is False
    assert state["pinned"] == {"is_on": False}
    assert (await _call(http, "POST", f"{url}/_sim/pin", {"colour": 1}))[0] == 422
    await _call(http, "DELETE", f"{url}/_sim/pin")
    await _call(http, "POST", f"{url}/power", {"power_on": True})
    await _call(http, "POST", f"{url}/_sim/poll")
    assert (await _call(http, "GET", f"{url}/status"))[1]["is_on"] is True
    assert (await _call(http, "POST", f"{url}/_sim/state", {"colour": 1}))[0] == 422


async def test_fault_and_token_control_api(
    services: CompanionServices, http: aiohttp.ClientSession
) -> None:
    """Faults and a token switched over HTTP; the control API stays reachable."""
    url = services.thermostat.url
    assert (await _call(http, "POST", f"{url}/_sim/fault", {"kind": "server_error"}))[
        0
    ] == 200
    assert (await _call(http, "GET", f"{url}/health"))[0] == 500
    await _call(http, "DELETE", f"{url}/_sim/fault")
    assert (await _call(http, "POST", f"{url}/_sim/fault", {"kind": "nonsense"}))[
        0
    ] == 422
    await _call(
        http,
        "POST",
        f"{url}/_sim/fault",
        {"kind": "html", "paths": ["/health"], "count": 1},
    )
    async with http.get(f"{url}/health") as response:
        assert response.content_type == "text/html"
    assert (await _call(http, "GET", f"{url}/health"))[0] == 200
    await _call(http, "POST", f"{url}/_sim/token", {"token": "t"})
    assert (await _call(http, "GET", f"{url}/health"))[0] == 401
    headers = {"Authorization": "Bearer t"}
    assert (await _call(http, "GET", f"{url}/health", headers=headers))[0] == 200
    await _call(http, "POST", f"{url}/_sim/token", {"token": None})
    assert (await _call(http, "GET", f"{url}/health"))[0] == 200
    services.thermostat.faults.inject(FaultKind.TRUNCATED)
    async with http.get(f"{url}/api/v1/thermostat/config") as response:
        text = await response.text()
    with pytest.raises(json.JSONDecodeError):
        json.loads(text)


async def test_config_post_replaces_the_whole_config(
    services: CompanionServices, http: aiohttp.ClientSession
) -> None:
    """The trap: fields left out of a POST fall back to their defaults."""
    url = f"{services.thermostat.url}/api/v1/thermostat/config"
    full = {**DEFAULT_CONFIG, "hysteresis": 1.0, "min_on_time": 60, "mode": "AUTO"}
    assert (await _call(http, "POST", url, full))[0] == 200
    assert (await _call(http, "GET", url))[1] == full
    status, body = await _call(http, "POST", url, {"mode": "ECO"})
    assert status == 200
    assert body == {**DEFAULT_CONFIG, "mode": "ECO"}  # the flat config
    # Without a mode, the POST means AUTO (not the OFF the service starts with).
    assert (await _call(http, "POST", url, {"target_temp": 21}))[1] == {
        **DEFAULT_CONFIG,
        "target_temp": 21.0,
        "mode": "AUTO",
    }
    # Lenient like pydantic: "22" for a number, 30.0 for a whole number.
    lenient = {"target_temp": "22", "min_on_time": 30.0, "mode": "ECO"}
    assert (await _call(http, "POST", url, lenient))[1] == {
        **DEFAULT_CONFIG,
        "target_temp": 22.0,
        "min_on_time": 30,
        "mode": "ECO",
    }
    status, body = await _call(http, "POST", url, {"eco_temp": 23, "target_temp": 22})
    assert status == 422
    assert body["detail"][0]["msg"] == "eco_temp must be <= target_temp"
    for bad in [
        {"mode": "eco"},
        {"target_temp": 25},
        {"hysteresis": 0.05},
        {"target_temp": "warm"},
        {"control_interval": 61.5},
    ]:
        assert (await _call(http, "POST", url, bad))[0] == 422, bad
    assert (await _call(http, "GET", url))[1] == {**DEFAULT_CONFIG, "mode": "ECO"}


async def test_thermostat_status_switch_and_outages(
    services: CompanionServices, http: aiohttp.ClientSession
) -> None:
    """Status as documented; a manual switch lasts until the next control run."""
    thermostat = services.thermostat
    url = thermostat.url
    status, body = await _call(http, "GET", f"{url}/api/v1/thermostat/status")
    assert status == 200
    assert body["all_temps"] == {
        "temp_indoor": 21.2,
        "temp_outdoor": 5.3,
        "temp_buffer": 33.1,
    }
    assert body["switch_state"] is False
    status, body = await _call(
        http, "POST", f"{url}/api/v1/thermostat/switch?turn_on=true"
    )
    assert (status, body["switch_on"], body["shelly_response"]) == (
        200,
        True,
        {"was_on": False},
    )
    assert (await _call(http, "POST", f"{url}/api/v1/thermostat/switch?turn_on=maybe"))[
        0
    ] == 422
    thermostat.control()  # mode OFF: the loop switches it off again
    assert not thermostat.switch_on
    await _call(http, "POST", f"{url}/_sim/outage", {"shelly_connected": False})
    assert (await _call(http, "GET", f"{url}/api/v1/thermostat/status"))[0] == 503
    assert (await _call(http, "GET", f"{url}/health"))[1]["status"] == "unhealthy"
    await _call(http, "POST", f"{url}/_sim/outage", {"database_up": False})
    for path in ["/api/v1/thermostat/status", "/api/v1/latest", "/api/v1/sensors"]:
        assert (await _call(http, "GET", f"{url}{path}"))[0] == 500
    await _call(http, "POST", f"{url}/_sim/outage", {})
    assert (await _call(http, "GET", f"{url}/health"))[1]["status"] == "healthy"


async def test_sensor_lists(
    services: CompanionServices, http: aiohttp.ClientSession
) -> None:
    """latest: the last hour, keys only for values sent; sensors: the last week."""
    url = services.thermostat.url
    assert (
        await _call(
            http,
            "POST",
            f"{url}/_sim/sensor",
            {"sensor_name": "temp_indoor", "temperature": 20.0},
        )
    )[0] == 200
    assert (await _call(http, "POST", f"{url}/_sim/sensor", {"sensor_name": "nobody"}))[
        0
    ] == 422
    assert (
        await _call(
            http,
            "POST",
            f"{url}/_sim/sensor",
            {"sensor_name": "temp_indoor", "pressure": 1},
        )
    )[0] == 422
    _, latest = await _call(http, "GET", f"{url}/api/v1/latest")
    by_name = {item["sensor_name"]: item for item in latest}
    assert by_name["temp_indoor"]["readings"]["temperature"] == 20.0
    assert "humidity" not in by_name["temp_buffer"]["readings"]
    services.thermostat.sensors["94:b2:16:0b:88:02"].last_seen = datetime(
        2020, 1, 1, tzinfo=UTC
    )
    _, latest = await _call(http, "GET", f"{url}/api/v1/latest")
    _, sensors = await _call(http, "GET", f"{url}/api/v1/sensors")
    assert len(latest) == len(sensors) == 2
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", sensors[0]["last_seen"])


def test_control_loop_band() -> None:
    """AUTO: on below target - hysteresis, off above target + hysteresis, else hold."""
    clock = [datetime(2026, 11, 22, 5, 0, tzinfo=UTC)]
    service = ThermostatService(
        config={"mode": "AUTO", "target_temp": 22.0, "hysteresis": 0.5},
        now=lambda: clock[0],
    )
    for temperature, switch in [
        (21.4, True),
        (21.8, True),
        (22.6, False),
        (22.2, False),
    ]:
        clock[0] += timedelta(hours=2)  # past the minimum on/off times
        service.set_reading("temp_indoor", temperature=temperature)
        service.control()
        assert service.switch_on is switch, temperature
    service.set_reading("temp_indoor", temperature=None)
    service.control()
    assert service.reason == "No temperature data available"
    service.config["mode"] = "ECO"
    assert service.active_target == 18.0
    for sensor in service.sensors.values():
        sensor.sensor_name = "renamed"
    assert service.current_temp is None


def test_live_heat_pump_model() -> None:
    """Live: a compressor run heats the water towards the target, then it rests."""
    now = [0.0]
    service = HeatPumpService(
        live=True,
        clock=lambda: now[0],
        state=HeatPumpState(op_mode=4, heat_setpoint=45.0, flow_temperature=30.0),
    )
    now[0] = 300.0
    service.poll()
    state = service.state
    assert state.operating_mode == "Heating"
    assert state.flow_rate == 12.5
    assert 30.0 < state.flow_temperature < 45.0
    assert state.return_temperature < state.flow_temperature
    now[0] = 800.0  # past the run share of the cycle
    service.poll()
    assert state.operating_mode == "Standby"
    assert state.flow_rate == 0.0
    following = HeatPumpService(
        live=True, clock=lambda: now[0], compressor=lambda: True
    )
    following.state.is_on = False
    now[0] += 10
    following.poll()
    assert following.state.operating_mode == "Standby"  # off: no run, whatever the load


async def test_live_loops_run_and_stop(socket_enabled: None) -> None:
    """The demo's background loops poll and regulate; stop ends them."""
    heatpump = HeatPumpService(live=True, poll_interval=0.01)
    thermostat = ThermostatService(live=True, tick=0.01, config={"mode": "AUTO"})
    thermostat.config["control_interval"] = 0.02  # beyond the API's limits, for speed
    thermostat.set_reading("temp_indoor", temperature=25.0)
    thermostat.switch_on = True
    thermostat.switched_at = None  # no minimum on time holding it
    await heatpump.start()
    await thermostat.start()
    try:
        before = heatpump.status_age
        await asyncio.sleep(0.1)
        assert heatpump.status_age is not None
        assert before is not None
        assert not thermostat.switch_on  # 25 °C: the loop switched the heating off
        assert thermostat.current_temp is not None
        assert thermostat.current_temp < 25.0
    finally:
        await heatpump.stop()
        await thermostat.stop()


def test_cli_runs_both_services_until_a_signal(socket_enabled: None) -> None:
    """`python -m simulator.services` prints where each listens and stops on SIGTERM."""
    args = ("--heatpump-port", "0", "--thermostat-port", "0", "--host", "127.0.0.1")
    with running_module("simulator.services", *args, "--static") as process:
        assert process.stdout is not None
        # Both lines are printed together, once both services listen.
        lines = [process.stdout.readline().strip() for _ in range(2)]
        assert re.fullmatch(
            r"heat-pump service listening on http://127\.0\.0\.1:\d+", lines[0]
        )
        assert re.fullmatch(
            r"thermostat service listening on http://127\.0\.0\.1:\d+", lines[1]
        )
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0


def test_cli_adds_the_demos_http_meter_and_mqtt_broker(socket_enabled: None) -> None:
    """With --mqtt-port and --http-meter-port the same process serves the demo's meters."""
    args = ("--heatpump-port", "0", "--thermostat-port", "0", "--static")
    extra = ("--mqtt-port", "0", "--http-meter-port", "0")
    with running_module("simulator.services", *args, *extra) as process:
        assert process.stdout is not None
        lines = [process.stdout.readline().strip() for _ in range(4)]
        assert re.fullmatch(r"MQTT broker listening on 127\.0\.0\.1:\d+", lines[2])
        assert re.fullmatch(
            r"HTTP meter listening on http://127\.0\.0\.1:\d+/meter", lines[3]
        )
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0


async def test_status_goes_stale_just_before_each_rewrite_at_a_30_s_poll(
    socket_enabled: None, http: aiohttp.ClientSession
) -> None:
    """At the code's 30 s poll plus the pump read, /health says 503 before each rewrite."""
    now = [1000.0]
    service = HeatPumpService(poll_interval=None, clock=lambda: now[0])
    await service.start()
    try:
        assert (await _call(http, "GET", f"{service.url}/health"))[0] == 200
        now[0] += 30.0 + 1.5  # the poll interval, then the pump read
        status, body = await _call(http, "GET", f"{service.url}/health")
        assert (status, body) == (503, {"detail": "Status data is stale (31.5s old)"})
        assert (await _call(http, "GET", f"{service.url}/status"))[0] == 200
        service.poll()
        assert (await _call(http, "GET", f"{service.url}/health"))[0] == 200
    finally:
        await service.stop()


async def test_the_poller_rewrites_the_status_file(socket_enabled: None) -> None:
    """With a poll interval the service polls on its own, and not before."""
    service = HeatPumpService(poll_interval=0.05, read_time=0.0)
    await service.start()
    try:
        service.state.flow_temperature = 51.0
        assert service.served_status is not None
        assert service.served_status["flow_temperature"] == 45.0
        await asyncio.sleep(0.2)
        assert service.served_status["flow_temperature"] == 51.0
    finally:
        await service.stop()


async def test_writes_take_modbus_time_and_fail_after_three_tries(
    socket_enabled: None, http: aiohttp.ClientSession
) -> None:
    """A power-on is three writes; a slow link makes each retry; a dead one fails."""
    service = HeatPumpService(poll_interval=None, write_time=0.02, failed_try_time=0.05)
    await service.start()
    loop = asyncio.get_running_loop()
    try:
        assert service.modbus_writes == [("op_mode", 3)]  # Auto, written on start
        service.flaky_tries = 2
        started = loop.time()
        assert (await _call(http, "POST", f"{service.url}/power", {"power_on": True}))[
            0
        ] == 200
        assert loop.time() - started >= 3 * (2 * 0.05 + 0.02)
        service.link_up = False
        started = loop.time()
        assert (
            await _call(http, "POST", f"{service.url}/setpoint", {"temperature": 30})
        )[0] == 500
        assert loop.time() - started >= 3 * 0.05
        assert service.state.heat_setpoint == 45.0
    finally:
        await service.stop()


async def test_thermostat_relay_follows_at_the_control_loop_only(
    services: CompanionServices, http: aiohttp.ClientSession
) -> None:
    """A config POST changes the config at once, the relay at the next loop run."""
    thermostat = services.thermostat
    url = thermostat.url
    config = {**DEFAULT_CONFIG, "mode": "ON"}
    assert (await _call(http, "POST", f"{url}/api/v1/thermostat/config", config))[
        0
    ] == 200
    _, status = await _call(http, "GET", f"{url}/api/v1/thermostat/status")
    assert status["config"]["mode"] == "ON"
    assert status["switch_state"] is False
    thermostat.control()
    _, status = await _call(http, "GET", f"{url}/api/v1/thermostat/status")
    assert status["switch_state"] is True
    # The minimum on time (30 min) now holds the switch.
    locked = datetime.fromisoformat(status["switch_locked_until"])
    assert timedelta(minutes=29) < locked - datetime.now(UTC) <= timedelta(minutes=30)


async def test_thermostat_ignores_old_temperatures_and_knows_null_ids(
    services: CompanionServices, http: aiohttp.ClientSession
) -> None:
    """Older than 5 minutes: no control temperature; a sensor may have no id."""
    thermostat = services.thermostat
    url = thermostat.url
    indoor = thermostat.sensors["94:b2:16:0b:88:01"]
    indoor.last_seen = datetime.now(UTC) - timedelta(minutes=6)
    _, status = await _call(http, "GET", f"{url}/api/v1/thermostat/status")
    assert status["current_temp"] is None
    assert "temp_indoor" not in status["all_temps"]
    thermostat.config["mode"] = "AUTO"
    thermostat.control()
    assert thermostat.reason == "No temperature data available"
    thermostat.sensors["cellar"] = BluSensor(
        None, "temp_cellar", "204", 12.0, 70.0, 50, datetime.now(UTC)
    )
    _, latest = await _call(http, "GET", f"{url}/api/v1/latest")
    assert {item["sensor_name"]: item["sensor_id"] for item in latest}[
        "temp_cellar"
    ] is None


async def test_shelly_outage_keeps_the_readings(
    services: CompanionServices, http: aiohttp.ClientSession
) -> None:
    """The relay gone: status 503, while latest and sensors answer with readings."""
    url = services.thermostat.url
    services.thermostat.shelly_connected = False
    assert (await _call(http, "GET", f"{url}/api/v1/thermostat/status"))[0] == 503
    for path in ("/api/v1/latest", "/api/v1/sensors", "/api/v1/thermostat/config"):
        status, body = await _call(http, "GET", f"{url}{path}")
        assert status == 200, path
        assert body, path
