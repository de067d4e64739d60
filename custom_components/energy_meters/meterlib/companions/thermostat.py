"""Client and models for the Shelly BLU H&T temperature and thermostat service.

The trap this client exists to avoid: a config POST replaces the WHOLE
config, and every field left out falls back to its default. So a change is
always read-modify-write: read the current config, change the fields asked
for, send everything back, including fields this library does not know
(a newer service version may have added some). A lock keeps two changes from
this client from interleaving and undoing each other.

Readings are finite numbers within a physical range or None (a NaN from a
sensor must not reach an entity). A sensor may come without an id; it is
then known by its name (`SensorReading.key`).
"""

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from .errors import MalformedPayloadError
from .http import CompanionClient
from .parsing import Fields, json_list

MIN_TEMPERATURE = 18.0
MAX_TEMPERATURE = 24.0
MIN_HYSTERESIS = 0.1
MAX_HYSTERESIS = 2.0
MIN_ON_OFF_TIME = 1
MAX_ON_OFF_TIME = 120
MIN_SAMPLE_COUNT = 1
MAX_SAMPLE_COUNT = 10
MIN_CONTROL_INTERVAL = 60
MAX_CONTROL_INTERVAL = 600
AIR_TEMPERATURE_RANGE = (-50.0, 100.0)
"""°C; a buffer-tank sensor reads up to 90."""
PERCENT_RANGE = (0.0, 100.0)


class ThermostatMode(StrEnum):
    """How the thermostat drives its switch (the service wants upper case)."""

    AUTO = "AUTO"
    """Regulate to `target_temp`."""
    ECO = "ECO"
    """Regulate to `eco_temp`."""
    ON = "ON"
    """Force the switch on."""
    OFF = "OFF"
    """Force the switch off."""


@dataclass(frozen=True, slots=True)
class ThermostatConfig:
    """The thermostat's whole configuration, as the service stores it."""

    target_temp: float
    eco_temp: float
    mode: ThermostatMode
    hysteresis: float
    min_on_time: int
    min_off_time: int
    temp_sample_count: int
    control_interval: int
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)
    """Every field as received, unknown ones included, to send them back unchanged."""

    @classmethod
    def from_payload(cls, payload: object) -> ThermostatConfig:
        """Parse a config object; raise `MalformedPayloadError` if it is not one."""
        fields = Fields(payload, "thermostat config")
        mode = fields.text("mode")
        if mode not in ThermostatMode:
            raise MalformedPayloadError(
                f"thermostat config: field 'mode' is {mode!r}, "
                "expected one of AUTO, ECO, ON, OFF"
            )
        return cls(
            target_temp=fields.number("target_temp"),
            eco_temp=fields.number("eco_temp"),
            mode=ThermostatMode(mode),
            hysteresis=fields.number("hysteresis"),
            min_on_time=fields.integer("min_on_time"),
            min_off_time=fields.integer("min_off_time"),
            temp_sample_count=fields.integer("temp_sample_count"),
            control_interval=fields.integer("control_interval"),
            raw=dict(fields.raw),
        )

    def to_payload(self) -> dict[str, Any]:
        """Every field for a POST: unknown ones as received, known ones as set here."""
        return {
            **self.raw,
            "target_temp": self.target_temp,
            "eco_temp": self.eco_temp,
            "mode": self.mode.value,
            "hysteresis": self.hysteresis,
            "min_on_time": self.min_on_time,
            "min_off_time": self.min_off_time,
            "temp_sample_count": self.temp_sample_count,
            "control_interval": self.control_interval,
        }


@dataclass(frozen=True, slots=True)
class ThermostatStatus:
    """What the thermostat's control loop last decided, and from what."""

    config: ThermostatConfig
    current_temp: float | None
    all_temps: Mapping[str, float | None]
    switch_state: bool
    active_target: float | None
    heating_needed: bool | None
    reason: str | None
    switch_locked_until: datetime | None = None
    """Until when the minimum on/off time keeps the switch as it is."""

    @classmethod
    def from_payload(cls, payload: object) -> ThermostatStatus:
        """Parse `/api/v1/thermostat/status`."""
        fields = Fields(payload, "thermostat status")
        temps = fields.optional_child("all_temps")
        return cls(
            config=ThermostatConfig.from_payload(fields.raw.get("config")),
            current_temp=fields.measurement("current_temp", *AIR_TEMPERATURE_RANGE),
            all_temps={
                name: temps.measurement(name, *AIR_TEMPERATURE_RANGE)
                for name in temps.raw
            }
            if temps
            else {},
            switch_locked_until=fields.optional_timestamp("switch_locked_until"),
            switch_state=fields.flag("switch_state"),
            active_target=fields.optional_number("active_target"),
            heating_needed=fields.optional_flag("heating_needed"),
            reason=fields.optional_text("reason"),
        )


@dataclass(frozen=True, slots=True)
class SensorReading:
    """The latest reading of one BLU sensor (any of its values may be missing)."""

    sensor_id: str | None
    """None for a sensor the gateway reported without an address."""
    sensor_name: str
    device_id: str | None
    gateway_id: str | None
    timestamp: datetime
    temperature: float | None
    humidity: float | None
    battery: int | None
    """Percent; the sensor reports whole numbers."""

    @property
    def key(self) -> str:
        """What identifies the sensor: its id, or its name when it has none."""
        return self.sensor_id or self.sensor_name

    @classmethod
    def from_payload(cls, payload: object) -> SensorReading:
        """Parse one item of `/api/v1/latest`."""
        fields = Fields(payload, "sensor reading")
        readings = fields.child("readings")
        return cls(
            sensor_id=fields.optional_text("sensor_id"),
            sensor_name=fields.text("sensor_name"),
            device_id=_optional_id(fields, "device_id"),
            gateway_id=fields.optional_text("gateway_id"),
            timestamp=fields.timestamp("timestamp"),
            temperature=readings.measurement("temperature", *AIR_TEMPERATURE_RANGE),
            humidity=readings.measurement("humidity", *PERCENT_RANGE),
            battery=_battery(readings.measurement("battery", *PERCENT_RANGE)),
        )


@dataclass(frozen=True, slots=True)
class SensorInfo:
    """One BLU sensor seen in the last seven days."""

    sensor_id: str | None
    """None for a sensor without an address (it cannot be matched to a reading)."""
    device_id: str | None
    sensor_type: str | None
    last_seen: datetime | None
    measurements: tuple[str, ...]

    @classmethod
    def from_payload(cls, payload: object) -> SensorInfo:
        """Parse one item of `/api/v1/sensors`."""
        fields = Fields(payload, "sensor")
        measurements = (
            fields.array("measurements") if fields.has("measurements") else []
        )
        return cls(
            sensor_id=fields.optional_text("sensor_id"),
            device_id=_optional_id(fields, "device_id"),
            sensor_type=fields.optional_text("sensor_type"),
            last_seen=fields.optional_timestamp("last_seen"),
            measurements=tuple(str(item) for item in measurements),
        )


@dataclass(frozen=True, slots=True)
class ThermostatHealth:
    """`/health`, which always answers 200 and says in its body how things are."""

    healthy: bool
    version: str | None
    shelly_connected: bool | None
    control_loop_running: bool | None

    @classmethod
    def from_payload(cls, payload: object) -> ThermostatHealth:
        """Parse `/health`."""
        fields = Fields(payload, "thermostat health")
        return cls(
            healthy=fields.text("status") == "healthy",
            version=fields.optional_text("version"),
            shelly_connected=fields.optional_flag("shelly_connected"),
            control_loop_running=fields.optional_flag("control_loop_running"),
        )


def _battery(percent: float | None) -> int | None:
    """A battery level as the whole percent the sensor sends ("76", not "76.0")."""
    return None if percent is None else round(percent)


def _optional_id(fields: Fields, key: str) -> str | None:
    """Return an id that some versions send as a number and others as a string."""
    value = fields.raw.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        return fields.text(key)  # raises with the field named
    return str(value)


class ThermostatClient(CompanionClient):
    """Reads the BLU sensors and reads and changes the thermostat."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """Add the lock that serialises config changes."""
        super().__init__(*args, **kwargs)
        self._config_lock = asyncio.Lock()

    async def latest(self) -> list[SensorReading]:
        """Return the latest reading of every sensor heard in the last hour."""
        reply = await self.request("GET", "/api/v1/latest")
        items = json_list(reply.payload, "latest readings")
        return [SensorReading.from_payload(item) for item in items]

    async def sensors(self) -> list[SensorInfo]:
        """Every sensor heard in the last seven days."""
        reply = await self.request("GET", "/api/v1/sensors")
        items = json_list(reply.payload, "sensors")
        return [SensorInfo.from_payload(item) for item in items]

    async def status(self) -> ThermostatStatus:
        """Return the control loop's state (503: Shelly gone, 500: database down)."""
        reply = await self.request("GET", "/api/v1/thermostat/status")
        return ThermostatStatus.from_payload(reply.payload)

    async def config(self) -> ThermostatConfig:
        """Return the whole current configuration."""
        reply = await self.request("GET", "/api/v1/thermostat/config")
        return ThermostatConfig.from_payload(reply.payload)

    async def health(self) -> ThermostatHealth:
        """How the service itself is doing."""
        reply = await self.request("GET", "/health")
        return ThermostatHealth.from_payload(reply.payload)

    async def update_config(self, **changes: Any) -> ThermostatConfig:
        """Change some fields and keep all others: read, modify, write the whole config.

        Returns the config that was sent. The service may still refuse a
        combination (eco above target: HTTP 422), which raises.
        """
        async with self._config_lock:
            current = await self.config()
            wanted = replace(current, **changes)
            await self.request(
                "POST", "/api/v1/thermostat/config", body=wanted.to_payload()
            )
            return wanted

    async def switch(self, turn_on: bool) -> bool:
        """Switch the heating relay now; the control loop overrides it on its next run."""
        reply = await self.request(
            "POST",
            "/api/v1/thermostat/switch",
            params={"turn_on": "true" if turn_on else "false"},
        )
        return Fields(reply.payload, "switch reply").flag("switch_on")
