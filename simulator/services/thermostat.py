"""A fake of the Shelly BLU H&T sensor and thermostat service (FastAPI).

What it reproduces from the real service, traps included:

- `POST /api/v1/thermostat/config` REPLACES the whole config: every field the
  body leaves out falls back to its default, and a body without `mode` means
  AUTO (the trap a client must avoid by always sending all fields). Ranges
  and eco ≤ target are checked (422, "eco_temp must be <= target_temp"); the
  answer is the flat config. Requests are lenient as pydantic's are: "22" and
  30.0 are accepted for numbers and whole numbers.
- The relay follows a config change only at the control loop's next run
  (every `control_interval` seconds, 88 s after a change measured), never
  inside the POST. AUTO regulates to target_temp, ECO to eco_temp, with a
  hysteresis band round(target ± hysteresis, 1); ON and OFF force the switch.
  In AUTO and ECO the switch keeps its state for the minimum on/off time
  after a change (`switch_locked_until`). Temperatures older than 5 minutes
  are ignored. `POST /api/v1/thermostat/switch?turn_on=…` switches at once,
  until the loop's next run overrides it.
- `/api/v1/latest` lists sensors heard in the last hour (a reading may lack a
  key, a sensor may have a null `sensor_id`), `/api/v1/sensors` those of the
  last seven days.
- `/api/v1/thermostat/status` answers 503 when the Shelly is unreachable and
  500 when the database is down, while `/latest` and `/sensors` keep
  answering with current readings unless the database is down; `/health`
  always answers 200 and says so in its body.

With `live=True` the room warms while the switch is on and cools while it is
off, and the control loop runs every `control_interval` seconds (or every
`control_period`, when given: the demo and tests shorten it); static fakes run
it only when `control()` is called.
"""

import asyncio
from collections.abc import Callable, Mapping
import contextlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
import math
from typing import Any

from aiohttp import web

from .faults import SIM_PREFIX, FaultInjector
from .server import ServiceServer
from .validation import InvalidFieldError, json_body, lenient_number

DEFAULT_CONFIG: Mapping[str, Any] = {
    "target_temp": 22.0,
    "eco_temp": 18.0,
    "mode": "OFF",
    "hysteresis": 0.5,
    "min_on_time": 30,
    "min_off_time": 10,
    "temp_sample_count": 3,
    "control_interval": 180,
}
MODES = ("AUTO", "ECO", "ON", "OFF")
INDOOR_SENSOR = "temp_indoor"
GATEWAY_ID = "shellypro2-8813bfddbfe8"
_LATEST_WINDOW = timedelta(hours=1)
CONTROL_WINDOW = timedelta(minutes=5)
"""Readings older than this are ignored for control."""
_SENSORS_WINDOW = timedelta(days=7)
_WARMING_K_PER_H = 1.0
_COOLING_K_PER_H = 0.5


@dataclass(slots=True)
class BluSensor:
    """One Shelly BLU H&T as the service last heard it."""

    sensor_id: str | None
    """None for a sensor the gateway reported without an address."""
    sensor_name: str
    device_id: str
    temperature: float | None
    humidity: float | None
    battery: int | None
    last_seen: datetime

    @property
    def key(self) -> str:
        """How the fake files it: its id, or its name when it has none."""
        return self.sensor_id or self.sensor_name

    def readings(self) -> dict[str, float | int]:
        """The readings it sent; keys it did not send are absent."""
        values = {
            "temperature": self.temperature,
            "humidity": self.humidity,
            "battery": self.battery,
        }
        return {
            key: round(value, 2) for key, value in values.items() if value is not None
        }


def default_sensors(now: datetime) -> list[BluSensor]:
    """Indoor, outdoor and buffer-tank sensors; the buffer one has no humidity."""
    return [
        BluSensor("94:b2:16:0b:88:01", "temp_indoor", "201", 21.2, 45.0, 98, now),
        BluSensor("94:b2:16:0b:88:02", "temp_outdoor", "202", 5.3, 80.0, 90, now),
        BluSensor("94:b2:16:0b:88:03", "temp_buffer", "203", 33.1, None, 76, now),
    ]


def _checked_config(body: Mapping[str, Any]) -> dict[str, Any]:
    """Validate a config body; fields it leaves out fall back to defaults.

    A body without `mode` means AUTO, the model's default, not the OFF the
    service starts with.
    """
    config = {**DEFAULT_CONFIG, "mode": "AUTO"}
    limits: dict[str, tuple[float, float, bool]] = {
        "target_temp": (18, 24, False),
        "eco_temp": (18, 24, False),
        "hysteresis": (0.1, 2.0, False),
        "min_on_time": (1, 120, True),
        "min_off_time": (1, 120, True),
        "temp_sample_count": (1, 10, True),
        "control_interval": (60, 600, True),
    }
    for name, (low, high, whole) in limits.items():
        if name in body:
            value = lenient_number(body, name, low, high, whole=whole)
            config[name] = int(value) if whole else value
    if "mode" in body:
        if body["mode"] not in MODES:
            raise InvalidFieldError(
                "mode", "Input should be 'AUTO', 'ECO', 'ON' or 'OFF'", body["mode"]
            )
        config["mode"] = body["mode"]
    if config["eco_temp"] > config["target_temp"]:
        raise InvalidFieldError(
            "eco_temp", "eco_temp must be <= target_temp", config["eco_temp"]
        )
    return config


def _rounded(value: float | None) -> float | None:
    """Return a temperature as the service serves it (two decimals)."""
    return None if value is None else round(value, 2)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


class ThermostatService:
    """The fake thermostat service, with its test controls."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        config: Mapping[str, Any] | None = None,
        sensors: list[BluSensor] | None = None,
        live: bool = False,
        tick: float = 5.0,
        control_period: float | None = None,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        """Build the service; it listens after `start`."""
        self._now = now
        self.config: dict[str, Any] = {**DEFAULT_CONFIG, **(config or {})}
        self.sensors: dict[str, BluSensor] = {
            sensor.key: sensor for sensor in (sensors or default_sensors(now()))
        }
        self.switch_on = False
        self.switched_at: datetime | None = None
        """When the control loop last changed the switch: starts the lock."""
        self.control_period = control_period
        self.control_runs = 0
        self.heating_needed: bool | None = None
        self.reason = "Starting up"
        self.shelly_connected = True
        self.database_up = True
        self.config_posts: list[dict[str, Any]] = []
        """Every config body received, as sent: tests check nothing was left out."""
        self.faults = FaultInjector()
        self.live = live
        self.tick = tick
        self._task: asyncio.Task[None] | None = None
        app = web.Application(middlewares=[self.faults.middleware])
        app.add_routes(
            [
                web.get("/health", self._get_health),
                web.get("/api/v1/latest", self._get_latest),
                web.get("/api/v1/sensors", self._get_sensors),
                web.get("/api/v1/thermostat/config", self._get_config),
                web.post("/api/v1/thermostat/config", self._post_config),
                web.get("/api/v1/thermostat/status", self._get_status),
                web.post("/api/v1/thermostat/switch", self._post_switch),
                web.post(f"{SIM_PREFIX}sensor", self._post_sim_sensor),
                web.post(f"{SIM_PREFIX}outage", self._post_sim_outage),
                *self.faults.routes(),
            ]
        )
        self.server = ServiceServer(app, host, port)
        self.control()

    # --- lifecycle -------------------------------------------------------------

    @property
    def url(self) -> str:
        """Base URL of the running service."""
        return self.server.url

    @property
    def port(self) -> int:
        """The port it listens on (the real one once started)."""
        return self.server.port

    async def start(self) -> None:
        """Listen, and start the room model and control loop when live."""
        await self.server.start()
        if self.live:
            self._task = asyncio.create_task(self._live_loop())

    async def stop(self) -> None:
        """Stop the loop and listening."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        self.faults.release()
        await self.server.stop()

    # --- the thermostat ----------------------------------------------------------

    def _fresh(self, sensor: BluSensor) -> bool:
        """Heard within the control window (5 minutes)."""
        return sensor.last_seen >= self._now() - CONTROL_WINDOW

    @property
    def current_temp(self) -> float | None:
        """The room temperature it regulates on: the indoor sensor, if heard lately."""
        for sensor in self.sensors.values():
            if sensor.sensor_name == INDOOR_SENSOR and self._fresh(sensor):
                return sensor.temperature
        return None

    @property
    def switch_locked_until(self) -> datetime | None:
        """Until when the loop keeps the switch: the minimum on or off time."""
        if self.switched_at is None:
            return None
        minutes = self.config["min_on_time" if self.switch_on else "min_off_time"]
        until = self.switched_at + timedelta(minutes=float(minutes))
        return until if until > self._now() else None

    def _set_switch(self, *, on: bool) -> None:
        if on != self.switch_on:
            self.switch_on = on
            self.switched_at = self._now()

    @property
    def active_target(self) -> float:
        """The temperature the current mode regulates to."""
        key = "eco_temp" if self.config["mode"] == "ECO" else "target_temp"
        return float(self.config[key])

    def control(self) -> None:
        """One run of the control loop: decide the switch from mode and temperature."""
        self.control_runs += 1
        mode = self.config["mode"]
        if mode in {"ON", "OFF"}:
            self._set_switch(on=mode == "ON")
            self.heating_needed = None
            self.reason = f"Manual override: Switch forced {mode}"
            return
        temperature = self.current_temp
        if temperature is None:
            self.reason = "No temperature data available"
            return
        hysteresis = float(self.config["hysteresis"])
        lower = round(self.active_target - hysteresis, 1)
        upper = round(self.active_target + hysteresis, 1)
        wanted = True if temperature < lower else False if temperature > upper else None
        locked = self.switch_locked_until
        if wanted is not None and wanted != self.switch_on and locked is not None:
            self.heating_needed = wanted
            self.reason = f"Switch locked until {_iso(locked)}"
        elif wanted is True:
            self._set_switch(on=True)
            self.heating_needed = True
            self.reason = f"Temperature {temperature} below {lower}"
        elif wanted is False:
            self._set_switch(on=False)
            self.heating_needed = False
            self.reason = f"Temperature {temperature} above {upper}"
        else:
            self.heating_needed = self.switch_on
            self.reason = f"Temperature {temperature} within {lower}-{upper}"

    def set_reading(self, name: str, **readings: float | None) -> None:
        """Change a sensor's readings (by sensor name) and mark it heard now."""
        for sensor in self.sensors.values():
            if sensor.sensor_name == name:
                for key, value in readings.items():
                    if key not in {"temperature", "humidity", "battery"}:
                        raise ValueError(f"unknown reading {key}")
                    setattr(sensor, key, value)
                sensor.last_seen = self._now()
                return
        raise KeyError(name)

    async def _live_loop(self) -> None:
        since_control = 0.0
        started = self._now()
        while True:
            await asyncio.sleep(self.tick)
            now = self._now()
            rate = _WARMING_K_PER_H if self.switch_on else -_COOLING_K_PER_H
            hours = (now - started).total_seconds() / 3600
            for sensor in self.sensors.values():
                if sensor.temperature is None:
                    continue
                if sensor.sensor_name == INDOOR_SENSOR:
                    sensor.temperature += rate * self.tick / 3600
                elif sensor.sensor_name == "temp_outdoor":
                    sensor.temperature = round(
                        5.0 + 3.0 * math.sin(hours * math.pi / 12), 2
                    )
                sensor.last_seen = now
            since_control += self.tick
            period = self.control_period or float(self.config["control_interval"])
            if since_control >= period:
                since_control = 0.0
                self.control()

    # --- the API ----------------------------------------------------------------

    async def _get_health(self, _request: web.Request) -> web.Response:
        healthy = self.shelly_connected and self.database_up
        return web.json_response(
            {
                "status": "healthy" if healthy else "unhealthy",
                "timestamp": _iso(self._now()),
                "version": "3.0.0",
                "influxdb_connected": self.database_up,
                "shelly_connected": self.shelly_connected,
                "control_loop_running": True,
            }
        )

    def _database_down(self) -> web.Response | None:
        if self.database_up:
            return None
        return web.json_response({"detail": "Database unavailable"}, status=500)

    async def _get_latest(self, _request: web.Request) -> web.Response:
        if (down := self._database_down()) is not None:
            return down
        since = self._now() - _LATEST_WINDOW
        return web.json_response(
            [
                {
                    "device_id": sensor.device_id,
                    "gateway_id": GATEWAY_ID,
                    "sensor_id": sensor.sensor_id,
                    "sensor_name": sensor.sensor_name,
                    "timestamp": _iso(sensor.last_seen),
                    "readings": sensor.readings(),
                }
                for sensor in self.sensors.values()
                if sensor.last_seen >= since
            ]
        )

    async def _get_sensors(self, _request: web.Request) -> web.Response:
        if (down := self._database_down()) is not None:
            return down
        since = self._now() - _SENSORS_WINDOW
        return web.json_response(
            [
                {
                    "device_id": sensor.device_id,
                    "sensor_id": sensor.sensor_id,
                    "sensor_type": "bthome",
                    "last_seen": sensor.last_seen.astimezone(UTC).strftime(
                        "%Y-%m-%dT%H:%M:%SZ"
                    ),
                    "measurements": sorted(sensor.readings()),
                }
                for sensor in self.sensors.values()
                if sensor.last_seen >= since
            ]
        )

    async def _get_config(self, _request: web.Request) -> web.Response:
        return web.json_response(self.config)

    async def _post_config(self, request: web.Request) -> web.Response:
        try:
            body = await json_body(request)
            config = _checked_config(body)
        except InvalidFieldError as err:
            return err.response()
        self.config_posts.append(dict(body))
        # The documented trap: this REPLACES the config; omitted fields are
        # defaults. The relay follows only at the control loop's next run.
        self.config = config
        return web.json_response(self.config)

    async def _get_status(self, _request: web.Request) -> web.Response:
        if not self.shelly_connected:
            return web.json_response(
                {"detail": "Shelly device unreachable"}, status=503
            )
        if (down := self._database_down()) is not None:
            return down
        return web.json_response(
            {
                "config": self.config,
                "current_temp": _rounded(self.current_temp),
                "all_temps": {
                    sensor.sensor_name: _rounded(sensor.temperature)
                    for sensor in self.sensors.values()
                    if self._fresh(sensor)
                },
                "switch_state": self.switch_on,
                "active_target": self.active_target,
                "heating_needed": self.heating_needed,
                "reason": self.reason,
                "switch_locked_until": None
                if (locked := self.switch_locked_until) is None
                else _iso(locked),
            }
        )

    async def _post_switch(self, request: web.Request) -> web.Response:
        turn_on = request.query.get("turn_on", "").lower()
        if turn_on not in {"true", "false"}:
            return InvalidFieldError(
                "turn_on", "Input should be a valid boolean", turn_on
            ).response()
        was_on = self.switch_on
        self.switch_on = turn_on == "true"
        return web.json_response(
            {
                "success": True,
                "switch_on": self.switch_on,
                "shelly_response": {"was_on": was_on},
                "note": "Temporary: the control loop decides again on its next run",
            }
        )

    # --- the control API (tests, demo) -----------------------------------------

    async def _post_sim_sensor(self, request: web.Request) -> web.Response:
        body = dict(await request.json())
        try:
            self.set_reading(str(body.pop("sensor_name")), **body)
        except (KeyError, ValueError, TypeError) as err:
            return web.json_response({"detail": str(err)}, status=422)
        return web.json_response({"ok": True})

    async def _post_sim_outage(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.shelly_connected = bool(body.get("shelly_connected", True))
        self.database_up = bool(body.get("database_up", True))
        return web.json_response(
            {"shelly_connected": self.shelly_connected, "database_up": self.database_up}
        )
