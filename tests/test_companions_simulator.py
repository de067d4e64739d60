"""The fake companion services reproduce the real ones, traps included."""

import asyncio
from collections.abc import AsyncGenerator
from datetime import UTC, datetime
import json
import re
import signal
from typing import Any

import aiohttp
import pytest

from simulator.services import (
    CompanionServices,
    FaultKind,
    HeatPumpService,
    HeatPumpState,
    ThermostatService,
    start_services,
)
from simulator.services.thermostat import DEFAULT_CONFIG

from .helpers import running_module


@pytest.fixture
async def services(socket_enabled: None) -> AsyncGenerator[CompanionServices]:
    """Both fakes, static, on any free ports of 127.0.0.1."""
    running = await start_services("127.0.0.1", 0, 0, live=False)
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
    """The real service has nothing to serve before it read the pump once."""
    service = HeatPumpService(polled=False)
    await service.start()
    try:
        status, body = await _call(http, "GET", f"{service.url}/status")
        assert status == 500
        assert "detail" in body
        status, body = await _call(http, "GET", f"{service.url}/health")
        assert (status, body["status_age_seconds"]) == (503, None)
        service.poll()
        status, body = await _call(http, "GET", f"{service.url}/status")
        assert status == 200
        assert body["op_mode"] == 3
    finally:
        await service.stop()


async def test_health_turns_503_when_stale(
    services: CompanionServices, http: aiohttp.ClientSession
) -> None:
    """Older than 30 s: 503, while /status keeps serving the old reading."""
    url = services.heatpump.url
    assert (await _call(http, "GET", f"{url}/health"))[0] == 200
    assert (await _call(http, "POST", f"{url}/_sim/stale", {"age": 31}))[0] == 200
    status, body = await _call(http, "GET", f"{url}/health")
    assert status == 503
    assert body["status_age_seconds"] >= 31
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
    _, body = await _call(http, "GET", f"{url}/status")
    assert (body["is_on"], body["op_mode"], body["mode_setting"]) == (True, 4, "Heat")


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
    for path, body in [
        ("/power", {"power_on": False}),
        ("/setpoint", {"temperature": 30}),
        ("/auto-mode-offset", {"offset": 0}),
        ("/lg-mode", {"mode": 3}),
    ]:
        assert (await _call(http, "POST", f"{url}{path}", body))[0] == 503


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
    assert body["config"] == {**DEFAULT_CONFIG, "mode": "ECO"}
    for bad in [
        {"mode": "eco"},
        {"target_temp": 25},
        {"eco_temp": 23, "target_temp": 22},
        {"hysteresis": 0.05},
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
    service = ThermostatService(
        config={"mode": "AUTO", "target_temp": 22.0, "hysteresis": 0.5}
    )
    for temperature, switch in [
        (21.4, True),
        (21.8, True),
        (22.6, False),
        (22.2, False),
    ]:
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
