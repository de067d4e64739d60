"""A fake of the heat-pump controller service (LG R290 over Modbus, FastAPI).

What it reproduces from the real service, traps included:

- `/status` serves a cached reading taken by a periodic poll of the pump;
  before the first poll it answers HTTP 500, and it never says how old the
  reading is. `/health` does: 200 with the age, or 503 once it is older than
  30 s (`make_stale` stops the polls to show that).
- `POST /power` with `power_on: true` also writes op_mode 4: a unit in Auto
  comes back on in Heat mode.
- `POST /setpoint` writes the Heat-mode flow temperature; in Auto mode the
  unit ignores it and keeps following its heating curve (shifted by the auto
  mode offset), which is what `target_temperature` then reports.
- `POST /lg-mode` with mode 4 also writes a default flow temperature (40 °C).
- The service's own automations (power manager, scheduler) may undo a
  control: `pin` fields and every control is followed by them putting the
  pinned values back.
- Validation errors answer 422 in FastAPI's shape; with the Modbus link down
  (`link_up = False`) controls answer 503.

With `live=True` the fake polls a simple thermal model every few seconds
(compressor runs, water warming up and cooling down), for the demo; tests
leave it static and set the state themselves.
"""

import asyncio
from collections.abc import Callable
import contextlib
from dataclasses import asdict, dataclass, fields
import math
import time
from typing import Any

from aiohttp import web

from .faults import SIM_PREFIX, FaultInjector
from .server import ServiceServer
from .validation import InvalidFieldError, flag, json_body, number

STALE_AFTER_S = 30.0
DEFAULT_HEAT_TEMPERATURE = 40.0
_MODE_NAMES = {0: "Cool", 3: "Auto", 4: "Heat"}
_MODE_CHANGE_NAMES = {3: "Auto", 4: "Heating"}
_RUNNING_MODES = {"Heating", "Cooling"}
_NOMINAL_FLOW_RATE = 12.5  # L/min with the circulation pump running
_NOMINAL_DELTA_K = 5.0  # flow minus return while heating
_WATER_TIME_CONSTANT_S = 600.0  # how fast the water follows its target
_CYCLE_S = 900.0  # one compressor run plus the pause after it
_RUN_SHARE = 0.6  # of a cycle the compressor runs
_IDLE_WATER_C = 25.0  # water temperature the loop settles to when idle


@dataclass(slots=True)
class HeatPumpState:
    """What the service last read from the pump (the `/status` fields, mostly)."""

    is_on: bool = True
    operating_mode: str = "Standby"
    op_mode: int = 3
    heat_setpoint: float = 45.0
    """Flow temperature for Heat mode (what /setpoint writes)."""
    auto_mode_offset: int = 1
    flow_temperature: float = 45.0
    return_temperature: float = 30.0
    flow_rate: float = 12.5
    outdoor_temperature: float = 5.0
    water_pressure: float = 1.5
    error_code: int = 0

    @property
    def auto_target(self) -> float:
        """The heating curve's flow temperature for Auto mode, with the offset."""
        curve = 40.0 - 0.6 * self.outdoor_temperature
        return round(min(max(curve + self.auto_mode_offset, 20.0), 60.0), 1)

    @property
    def target_temperature(self) -> float:
        """What the unit aims for: the setpoint in Heat mode, the curve otherwise."""
        return self.heat_setpoint if self.op_mode == 4 else self.auto_target  # noqa: PLR2004

    def status(self) -> dict[str, Any]:
        """The `/status` document."""
        running = self.operating_mode in _RUNNING_MODES
        return {
            "is_on": self.is_on,
            "water_pump_running": running,
            "compressor_running": running,
            "operating_mode": self.operating_mode,
            "mode_setting": _MODE_NAMES.get(self.op_mode, "Unknown"),
            "op_mode": self.op_mode,
            "target_temperature": self.target_temperature,
            "auto_mode_offset": self.auto_mode_offset,
            "flow_temperature": round(self.flow_temperature, 1),
            "return_temperature": round(self.return_temperature, 1),
            "flow_rate": round(self.flow_rate, 1),
            "outdoor_temperature": round(self.outdoor_temperature, 1),
            "water_pressure": round(self.water_pressure, 2),
            "error_code": self.error_code,
            "has_error": self.error_code != 0,
        }


_STATE_FIELDS = {item.name for item in fields(HeatPumpState)}


class HeatPumpService:
    """The fake heat-pump service, with its test controls."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        state: HeatPumpState | None = None,
        polled: bool = True,
        live: bool = False,
        poll_interval: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
        compressor: Callable[[], bool] | None = None,
    ) -> None:
        """Build the service; it listens after `start`.

        `polled=False` starts it as the real one starts: no reading yet.
        `compressor`, when given, decides whether the compressor runs (e.g. a
        simulated household's load state), so the heat pump and a simulated
        meter in the same process tell the same story.
        """
        self.state = state if state is not None else HeatPumpState()
        self.faults = FaultInjector()
        self.link_up = True
        self.live = live
        self.poll_interval = poll_interval
        self._clock = clock
        self._compressor = compressor
        self._started = clock()
        self._last_poll: float | None = None
        self._polling_paused = False
        self._pinned: dict[str, Any] = {}
        self._task: asyncio.Task[None] | None = None
        app = web.Application(middlewares=[self.faults.middleware])
        app.add_routes(
            [
                web.get("/status", self._get_status),
                web.get("/health", self._get_health),
                web.post("/power", self._post_power),
                web.post("/setpoint", self._post_setpoint),
                web.post("/auto-mode-offset", self._post_offset),
                web.post("/lg-mode", self._post_mode),
                web.get(f"{SIM_PREFIX}state", self._get_sim_state),
                web.post(f"{SIM_PREFIX}state", self._post_sim_state),
                web.post(f"{SIM_PREFIX}stale", self._post_sim_stale),
                web.delete(f"{SIM_PREFIX}stale", self._delete_sim_stale),
                web.post(f"{SIM_PREFIX}pin", self._post_sim_pin),
                web.delete(f"{SIM_PREFIX}pin", self._delete_sim_pin),
                *self.faults.routes(),
            ]
        )
        self.server = ServiceServer(app, host, port)
        if polled:
            self.poll()

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
        """Listen, and start polling the model when live."""
        await self.server.start()
        if self.live:
            self._task = asyncio.create_task(self._poll_loop())

    async def stop(self) -> None:
        """Stop polling and listening."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        self.faults.release()
        await self.server.stop()

    # --- the service's poll of the pump ---------------------------------------

    def poll(self) -> None:
        """Take a reading now, as the service's poll of the pump does."""
        now = self._clock()
        if self.live and self._last_poll is not None:
            self._step(now - self._last_poll, now)
        self._last_poll = now

    @property
    def status_age(self) -> float | None:
        """Seconds since the last reading; None before the first."""
        if self._last_poll is None:
            return None
        return self._clock() - self._last_poll

    def make_stale(self, age: float = STALE_AFTER_S + 30.0) -> None:
        """Pretend the pump stopped answering `age` seconds ago; polls stop."""
        self._polling_paused = True
        self._last_poll = self._clock() - age

    def heal(self) -> None:
        """The pump answers again: polls resume and a fresh reading is taken."""
        self._polling_paused = False
        self.poll()

    async def _poll_loop(self) -> None:
        while True:
            await asyncio.sleep(self.poll_interval)
            if not self._polling_paused:
                self.poll()

    def _step(self, seconds: float, now: float) -> None:
        """Advance the thermal model by `seconds` (live mode only)."""
        state = self.state
        elapsed = now - self._started
        state.outdoor_temperature = 5.0 + 3.0 * math.sin(2 * math.pi * elapsed / 7200)
        if self._compressor is not None:
            running = self._compressor()
        else:
            running = (elapsed % _CYCLE_S) < _RUN_SHARE * _CYCLE_S
        running = running and state.is_on and state.op_mode in {3, 4}
        state.operating_mode = "Heating" if running else "Standby"
        follow = 1.0 - math.exp(-seconds / _WATER_TIME_CONSTANT_S)
        if running:
            state.flow_rate = _NOMINAL_FLOW_RATE
            state.flow_temperature += (
                state.target_temperature - state.flow_temperature
            ) * follow
            wanted_return = state.flow_temperature - _NOMINAL_DELTA_K
        else:
            state.flow_rate = 0.0
            state.flow_temperature += (
                (_IDLE_WATER_C - state.flow_temperature) * follow / 4
            )
            wanted_return = state.flow_temperature - 0.5
        state.return_temperature += (
            (wanted_return - state.return_temperature) * follow * 4
        )

    # --- the service's own automations -------------------------------------

    def pin(self, **values: Any) -> None:
        """Let the service's automations hold these fields, undoing any control."""
        unknown = set(values) - _STATE_FIELDS
        if unknown:
            raise ValueError(f"unknown state fields: {sorted(unknown)}")
        self._pinned.update(values)

    def unpin(self) -> None:
        """Automations stop interfering."""
        self._pinned.clear()

    def _after_control(self) -> None:
        """Run the automations that react to a change (power manager, scheduler)."""
        for name, value in self._pinned.items():
            setattr(self.state, name, value)

    # --- the API ----------------------------------------------------------------

    async def _get_status(self, _request: web.Request) -> web.Response:
        if self._last_poll is None:
            return web.json_response(
                {"detail": "No status data available yet"}, status=500
            )
        return web.json_response(self.state.status())

    async def _get_health(self, _request: web.Request) -> web.Response:
        age = self.status_age
        if age is None or age > STALE_AFTER_S:
            return web.json_response(
                {
                    "status": "unhealthy",
                    "status_age_seconds": None if age is None else round(age, 2),
                    "detail": "Status data is stale or missing",
                },
                status=503,
            )
        return web.json_response(
            {"status": "healthy", "status_age_seconds": round(age, 2)}
        )

    def _link_down(self) -> web.Response | None:
        if self.link_up:
            return None
        return web.json_response(
            {"detail": "Modbus connection unavailable"}, status=503
        )

    async def _post_power(self, request: web.Request) -> web.Response:
        try:
            power_on = flag(await json_body(request), "power_on")
        except InvalidFieldError as err:
            return err.response()
        if (down := self._link_down()) is not None:
            return down
        self.state.is_on = power_on
        if power_on:
            # The documented trap: powering on writes Heat mode (op_mode 4).
            self.state.op_mode = 4
        else:
            self.state.operating_mode = "Standby"
        self._after_control()
        return web.json_response({"status": "success", "power_on": power_on})

    async def _post_setpoint(self, request: web.Request) -> web.Response:
        try:
            temperature = number(await json_body(request), "temperature", 20, 60)
        except InvalidFieldError as err:
            return err.response()
        if (down := self._link_down()) is not None:
            return down
        self.state.heat_setpoint = temperature
        self._after_control()
        return web.json_response(
            {"status": "success", "target_temperature": temperature}
        )

    async def _post_offset(self, request: web.Request) -> web.Response:
        try:
            offset = int(number(await json_body(request), "offset", -5, 5, whole=True))
        except InvalidFieldError as err:
            return err.response()
        if (down := self._link_down()) is not None:
            return down
        self.state.auto_mode_offset = offset
        self._after_control()
        return web.json_response({"status": "success", "auto_mode_offset": offset})

    async def _post_mode(self, request: web.Request) -> web.Response:
        try:
            mode = int(number(await json_body(request), "mode", 3, 4, whole=True))
        except InvalidFieldError as err:
            return err.response()
        if (down := self._link_down()) is not None:
            return down
        self.state.op_mode = mode
        reply: dict[str, Any] = {
            "status": "success",
            "mode": mode,
            "mode_name": _MODE_CHANGE_NAMES[mode],
        }
        if mode == 4:  # noqa: PLR2004
            self.state.heat_setpoint = DEFAULT_HEAT_TEMPERATURE
            reply["default_temperature"] = DEFAULT_HEAT_TEMPERATURE
        self._after_control()
        return web.json_response(reply)

    # --- the control API (tests, demo) -----------------------------------------

    async def _get_sim_state(self, _request: web.Request) -> web.Response:
        return web.json_response(
            {
                **asdict(self.state),
                "status_age": self.status_age,
                "pinned": self._pinned,
            }
        )

    async def _post_sim_state(self, request: web.Request) -> web.Response:
        body = await request.json()
        unknown = set(body) - _STATE_FIELDS
        if unknown:
            return web.json_response(
                {"detail": f"unknown fields {sorted(unknown)}"}, status=422
            )
        for name, value in body.items():
            setattr(self.state, name, value)
        self.poll()
        return web.json_response(asdict(self.state))

    async def _post_sim_stale(self, request: web.Request) -> web.Response:
        body = await request.json() if request.can_read_body else {}
        self.make_stale(float(body.get("age", STALE_AFTER_S + 30.0)))
        return web.json_response({"status_age": self.status_age})

    async def _delete_sim_stale(self, _request: web.Request) -> web.Response:
        self.heal()
        return web.json_response({"status_age": self.status_age})

    async def _post_sim_pin(self, request: web.Request) -> web.Response:
        try:
            self.pin(**(await request.json()))
        except ValueError as err:
            return web.json_response({"detail": str(err)}, status=422)
        return web.json_response({"pinned": self._pinned})

    async def _delete_sim_pin(self, _request: web.Request) -> web.Response:
        self.unpin()
        return web.json_response({"pinned": {}})
