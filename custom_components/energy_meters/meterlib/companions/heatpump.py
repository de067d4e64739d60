"""Client and models for the heat-pump controller service (LG R290 over Modbus).

The service caches what it last read from the heat pump and serves it on
`/status`; how old that cache is only `/health` tells (503 once older than
30 s, and only in its `detail` text). Controls are separate POSTs. Traps
documented in the reference and kept visible here: powering on also switches
the unit from Auto to Heat; `/status` shows a write only after the service's
next poll of the pump (5-18 s later), so reading it right after a write
returns the old value; and the service's own automations may undo any
control. Writes can take long: a power-on is three Modbus writes of up to
three tries each (19 s on a slow link), so writes get their own, longer
timeout.

Every reading is parsed as a finite number within a physical range, or is
None: a NaN or a flow rate of 1e9 from a broken sensor must not reach an
entity, let alone the heat-energy integral.
"""

from dataclasses import dataclass
from enum import IntEnum, StrEnum
import re

from .http import CompanionClient
from .parsing import Fields

MIN_TARGET_TEMPERATURE = 20.0
MAX_TARGET_TEMPERATURE = 60.0
MIN_AUTO_MODE_OFFSET = -5
MAX_AUTO_MODE_OFFSET = 5
_HTTP_OK = 200
# Physical ranges: outside them a reading is a sensor or transfer fault.
WATER_TEMPERATURE_RANGE = (-20.0, 100.0)
OUTDOOR_TEMPERATURE_RANGE = (-50.0, 60.0)
SETPOINT_RANGE = (0.0, 100.0)
FLOW_RATE_RANGE = (0.0, 100.0)
"""L/min; a 7 kW unit circulates about 20."""
PRESSURE_RANGE = (0.0, 10.0)
"""Bar; a heating circuit's relief valve opens at 3."""
_AGE_IN_DETAIL = re.compile(r"(\d+(?:\.\d+)?)\s*(?:s\b|sec|seconds)")


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
    target_temperature: float | None
    """The Heat-mode setpoint register, whatever the mode (Auto ignores it)."""
    auto_mode_offset: int | None
    flow_temperature: float | None
    return_temperature: float | None
    flow_rate: float | None
    """Litres per minute."""
    outdoor_temperature: float | None
    water_pressure: float | None
    """Bar."""
    error_code: int
    has_error: bool

    @property
    def temperature_delta(self) -> float | None:
        """Flow minus return temperature (K): the heat the water carries per litre."""
        if self.flow_temperature is None or self.return_temperature is None:
            return None
        return self.flow_temperature - self.return_temperature

    @property
    def effective_target_temperature(self) -> float | None:
        """The flow temperature the unit aims for, when the service knows it.

        Only in Heat mode is that the setpoint register; in Auto the unit
        follows its heating curve, which the service does not report.
        """
        if self.mode_setting is ModeSetting.HEAT:
            return self.target_temperature
        return None

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
            target_temperature=fields.measurement(
                "target_temperature", *SETPOINT_RANGE
            ),
            auto_mode_offset=fields.whole_measurement(
                "auto_mode_offset", MIN_AUTO_MODE_OFFSET, MAX_AUTO_MODE_OFFSET
            ),
            flow_temperature=fields.measurement(
                "flow_temperature", *WATER_TEMPERATURE_RANGE
            ),
            return_temperature=fields.measurement(
                "return_temperature", *WATER_TEMPERATURE_RANGE
            ),
            flow_rate=fields.measurement("flow_rate", *FLOW_RATE_RANGE),
            outdoor_temperature=fields.measurement(
                "outdoor_temperature", *OUTDOOR_TEMPERATURE_RANGE
            ),
            water_pressure=fields.measurement("water_pressure", *PRESSURE_RANGE),
            error_code=fields.integer("error_code"),
            has_error=fields.flag("has_error"),
        )


@dataclass(frozen=True, slots=True)
class HeatPumpHealth:
    """Whether the service's cached reading is fresh enough to show."""

    fresh: bool
    status_age_seconds: float | None
    """None when the service has not read the heat pump yet (or did not say)."""
    detail: str | None = None
    """What a 503 said, for the log: "Status data is stale (35.2s old)"."""

    @classmethod
    def from_reply(cls, status: int, payload: object) -> HeatPumpHealth:
        """Parse `/health`: 200 means fresh, 503 means stale (the body may vary).

        A 503 gives the age only inside its `detail` text (the real service's
        HTTPException), so it is read from there; a field wins if present.
        """
        if status == _HTTP_OK:
            fields = Fields(payload, "heat-pump health")
            fields.text("status")
            return cls(
                fresh=True,
                status_age_seconds=fields.measurement(
                    "status_age_seconds", 0, float("inf")
                ),
            )
        raw = payload if isinstance(payload, dict) else {}
        detail = raw.get("detail")
        detail_text = str(detail) if detail is not None else None
        age = (
            Fields(raw, "heat-pump health").measurement(
                "status_age_seconds", 0, float("inf")
            )
            if isinstance(raw.get("status_age_seconds"), int | float)
            else None
        )
        if age is None and detail_text is not None:
            match = _AGE_IN_DETAIL.search(detail_text)
            age = float(match.group(1)) if match else None
        return cls(fresh=False, status_age_seconds=age, detail=detail_text)


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
