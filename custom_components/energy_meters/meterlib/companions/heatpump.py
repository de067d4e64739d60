"""Client and models for the heat-pump controller service (LG R290 over Modbus).

The service caches what it last read from the heat pump and serves it on
`/status`; how old that cache is only `/health` tells (503 once older than
30 s). Controls are separate POSTs. Two traps are documented in the
reference and kept visible here: powering on also switches the unit from Auto
to Heat, and the service's own automations may undo any control, so callers
must re-read the status after a write rather than trust what they wrote.
"""

from dataclasses import dataclass
from enum import IntEnum, StrEnum

from .http import CompanionClient
from .parsing import Fields

MIN_TARGET_TEMPERATURE = 20.0
MAX_TARGET_TEMPERATURE = 60.0
MIN_AUTO_MODE_OFFSET = -5
MAX_AUTO_MODE_OFFSET = 5
_HTTP_OK = 200


class OperatingMode(StrEnum):
    """What the unit is doing right now (not what it is set to)."""

    STANDBY = "Standby"
    COOLING = "Cooling"
    HEATING = "Heating"
    AUTO = "Auto"


class ModeSetting(IntEnum):
    """The configured mode, as the `op_mode` register holds it."""

    COOL = 0
    AUTO = 3
    HEAT = 4


@dataclass(frozen=True, slots=True)
class HeatPumpStatus:
    """One `/status` answer: the service's cached reading of the heat pump."""

    is_on: bool
    water_pump_running: bool
    compressor_running: bool
    operating_mode: OperatingMode | None
    """None for a state this library does not know (a newer firmware)."""
    mode_setting: ModeSetting | None
    """None for an `op_mode` value this library does not know."""
    target_temperature: float
    auto_mode_offset: int
    flow_temperature: float
    return_temperature: float
    flow_rate: float
    """Litres per minute."""
    outdoor_temperature: float
    water_pressure: float
    """Bar."""
    error_code: int
    has_error: bool

    @property
    def temperature_delta(self) -> float:
        """Flow minus return temperature (K): the heat the water carries per litre."""
        return self.flow_temperature - self.return_temperature

    @classmethod
    def from_payload(cls, payload: object) -> HeatPumpStatus:
        """Parse a `/status` body; raise `MalformedPayloadError` if it is not one."""
        fields = Fields(payload, "heat-pump status")
        operating_mode = fields.text("operating_mode")
        op_mode = fields.integer("op_mode")
        return cls(
            is_on=fields.flag("is_on"),
            water_pump_running=fields.flag("water_pump_running"),
            compressor_running=fields.flag("compressor_running"),
            operating_mode=(
                OperatingMode(operating_mode)
                if operating_mode in OperatingMode
                else None
            ),
            mode_setting=ModeSetting(op_mode) if op_mode in ModeSetting else None,
            target_temperature=fields.number("target_temperature"),
            auto_mode_offset=fields.integer("auto_mode_offset"),
            flow_temperature=fields.number("flow_temperature"),
            return_temperature=fields.number("return_temperature"),
            flow_rate=fields.number("flow_rate"),
            outdoor_temperature=fields.number("outdoor_temperature"),
            water_pressure=fields.number("water_pressure"),
            error_code=fields.integer("error_code"),
            has_error=fields.flag("has_error"),
        )


@dataclass(frozen=True, slots=True)
class HeatPumpHealth:
    """Whether the service's cached reading is fresh enough to show."""

    fresh: bool
    status_age_seconds: float | None
    """None when the service has not read the heat pump yet (or did not say)."""

    @classmethod
    def from_reply(cls, status: int, payload: object) -> HeatPumpHealth:
        """Parse `/health`: 200 means fresh, 503 means stale (the body may vary)."""
        if status == _HTTP_OK:
            fields = Fields(payload, "heat-pump health")
            fields.text("status")
            return cls(
                fresh=True,
                status_age_seconds=fields.optional_number("status_age_seconds"),
            )
        age = payload.get("status_age_seconds") if isinstance(payload, dict) else None
        return cls(
            fresh=False,
            status_age_seconds=float(age)
            if isinstance(age, int | float) and not isinstance(age, bool)
            else None,
        )


@dataclass(frozen=True, slots=True)
class ModeChange:
    """What `/lg-mode` reports after a mode change."""

    mode: int
    mode_name: str
    default_temperature: float | None
    """The flow temperature Heat mode writes along with the mode; None for Auto."""


class HeatPumpClient(CompanionClient):
    """Reads and controls one heat-pump controller service."""

    async def status(self) -> HeatPumpStatus:
        """Return the latest cached reading; HTTP 500 before the service's first poll."""
        reply = await self.request("GET", "/status")
        return HeatPumpStatus.from_payload(reply.payload)

    async def health(self) -> HeatPumpHealth:
        """Whether `/status` is fresh: the only way to know, `/status` has no age."""
        reply = await self.request("GET", "/health", accept=(200, 503))
        return HeatPumpHealth.from_reply(reply.status, reply.payload)

    async def set_power(self, on: bool) -> bool:
        """Switch the heat pump on or off; turning on also selects Heat mode."""
        reply = await self.request("POST", "/power", body={"power_on": on})
        return Fields(reply.payload, "power reply").flag("power_on")

    async def set_target_temperature(self, temperature: float) -> float:
        """Set the flow temperature for Heat mode (20-60 °C); Auto mode ignores it."""
        reply = await self.request(
            "POST", "/setpoint", body={"temperature": temperature}
        )
        return Fields(reply.payload, "setpoint reply").number("target_temperature")

    async def set_auto_mode_offset(self, offset: int) -> int:
        """Shift the Auto mode heating curve by -5…+5 K."""
        reply = await self.request("POST", "/auto-mode-offset", body={"offset": offset})
        return Fields(reply.payload, "offset reply").integer("auto_mode_offset")

    async def set_mode(self, mode: ModeSetting) -> ModeChange:
        """Select Auto (3) or Heat (4); Heat also writes a default flow temperature."""
        reply = await self.request("POST", "/lg-mode", body={"mode": int(mode)})
        fields = Fields(reply.payload, "mode reply")
        return ModeChange(
            mode=fields.integer("mode"),
            mode_name=fields.text("mode_name"),
            default_temperature=fields.optional_number("default_temperature"),
        )
