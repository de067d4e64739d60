"""Fakes of the two companion REST services, for tests and the demo.

- `HeatPumpService`: the LG R290 heat-pump controller (`/status`, `/health`,
  `/power`, `/setpoint`, `/auto-mode-offset`, `/lg-mode`);
- `ThermostatService`: the Shelly BLU H&T sensors and thermostat
  (`/api/v1/...`, `/health`);
- `start_services`: both at once, live, as the demo runs them.

Each fake reproduces the real service's documented behaviour and its traps,
and has a control API under `/_sim/` (and the same controls as Python
methods) to inject failures: HTTP 500, an HTML page, truncated JSON, a slow
answer, a required bearer token, stale data.
"""

from dataclasses import dataclass

from .faults import FaultInjector, FaultKind
from .heatpump import DEFAULT_POLL_INTERVAL_S, HeatPumpService, HeatPumpState
from .thermostat import BluSensor, ThermostatService


@dataclass(slots=True)
class CompanionServices:
    """Both fakes, running."""

    heatpump: HeatPumpService
    thermostat: ThermostatService

    async def stop(self) -> None:
        """Stop both."""
        await self.heatpump.stop()
        await self.thermostat.stop()


async def start_services(
    host: str = "127.0.0.1",
    heatpump_port: int = 8002,
    thermostat_port: int = 8001,
    *,
    live: bool = True,
    token: str | None = None,
    poll_interval: float | None = DEFAULT_POLL_INTERVAL_S,
    control_period: float | None = None,
) -> CompanionServices:
    """Start both fakes on the given ports (0: any free port) and return them.

    Live by default: the heat pump cycles and the room warms and cools, so a
    dashboard shows movement. With `token`, both demand that bearer token.
    `poll_interval` is the heat-pump service's own poll of the pump (20 s as
    the real one is deployed; None: only when asked), `control_period` the
    thermostat's control loop (None: its configured `control_interval`).
    """
    heatpump = HeatPumpService(
        host=host, port=heatpump_port, live=live, poll_interval=poll_interval
    )
    thermostat = ThermostatService(
        host=host, port=thermostat_port, live=live, control_period=control_period
    )
    heatpump.faults.token = token
    thermostat.faults.token = token
    await heatpump.start()
    try:
        await thermostat.start()
    except BaseException:
        await heatpump.stop()
        raise
    return CompanionServices(heatpump, thermostat)


__all__ = [
    "DEFAULT_POLL_INTERVAL_S",
    "BluSensor",
    "CompanionServices",
    "FaultInjector",
    "FaultKind",
    "HeatPumpService",
    "HeatPumpState",
    "ThermostatService",
    "start_services",
]
