"""A fake of the heat-pump controller service (LG R290 over Modbus, FastAPI).

What it reproduces from the real service, traps and timing included
(measured on the real service, docs: /work/shared/reference, section 4):

- `/status` serves a cached status file that the service's poller rewrites
  every `poll_interval` seconds (20 s in its compose file, 30 s in its code),
  each rewrite after a pump read that itself takes `read_time`. A write goes
  to the pump at once, but `/status` shows it only after the next poll: read
  right after a write, it returns the OLD value.
- `/health` answers 503 once the file is older than 30 s, the age only inside
  the `detail` text. At a 30 s poll that happens regularly, just before each
  rewrite (poll interval plus read time). `make_stale` stops the polls.
- Before the first pump read `/status` answers 500 with detail `'op_mode'`;
  without a status file at all (`remove_status_file`), 503 "Status file not
  available".
- Writes go over Modbus: each takes `write_time`, a failed try
  `failed_try_time`, up to three tries each. With the link down
  (`link_up = False`) a write answers 500 "Failed to set ..." after three
  failed tries; `flaky_tries` makes each write fail that often before it
  succeeds (a slow link). A power-on is three writes (power, op_mode 4,
  the Heat setpoint), so it can take 19 s on a slow link.
- `POST /power` with `power_on: true` also writes op_mode 4: a unit in Auto
  comes back on in Heat mode.
- `POST /setpoint` writes the Heat-mode flow temperature register; in Auto
  mode the unit ignores it, but `/status` still reports that register as
  `target_temperature`.
- `POST /lg-mode` with mode 4 also writes a default flow temperature (40 °C).
- On start the service writes Auto mode itself (`startup_writes`).
- The service's own automations (power manager, scheduler) may undo a
  control: `pin` fields and every control (and every automation run) is
  followed by them putting the pinned values back.
- Validation errors answer 422 in FastAPI's shape.

With `live=True` the pump's registers follow a simple thermal model
(compressor runs, water warming up and cooling down), for the demo; tests
leave it static, set the registers and call `poll()` (with `poll_interval`
None the poller does not run on its own).
"""

import asyncio
from collections.abc import Callable
import contextlib
from dataclasses import asdict, dataclass, fields
import json
import math
import time
from typing import Any

from aiohttp import web

from .faults import SIM_PREFIX, FaultInjector
from .server import ServiceServer
from .validation import InvalidFieldError, flag, json_body, number

STALE_AFTER_S = 30.0
DEFAULT_HEAT_TEMPERATURE = 40.0
DEFAULT_POLL_INTERVAL_S = 20.0
"""The service's POLL_INTERVAL in its compose file (its code defaults to 30 s)."""
DEFAULT_READ_TIME_S = 1.5
DEFAULT_WRITE_TIME_S = 0.3
DEFAULT_FAILED_TRY_TIME_S = 2.0
MODBUS_TRIES = 3
_MODE_NAMES = {0: "Cool", 3: "Auto", 4: "Heat"}
_MODE_CHANGE_NAMES = {3: "Auto", 4: "Heating"}
_RUNNING_MODES = {"Heating", "Cooling"}
_NOMINAL_FLOW_RATE = 12.5  # L/min with the circulation pump running
_NOMINAL_DELTA_K = 5.0  # flow minus return while heating
_WATER_TIME_CONSTANT_S = 600.0  # how fast the water follows its target
_CYCLE_S = 900.0  # one compressor run plus the pause after it
_RUN_SHARE = 0.6  # of a cycle the compressor runs
_IDLE_WATER_C = 25.0  # water temperature the loop settles to when idle
_AUTOMATION_INTERVAL_S = 60.0  # the scheduler's period (the power manager: 300 s)


@dataclass(slots=True)
class HeatPumpState:
    """The pump's registers, as the service's next poll will read them."""

    is_on: bool = True
    operating_mode: str = "Standby"
    op_mode: int = 3
    heat_setpoint: float = 45.0
    """Flow temperature register for Heat mode (what /setpoint writes)."""
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
        """The `/status` document.

        `target_temperature` is the Heat-mode setpoint register in every mode,
        as the real service reports it, although Auto mode ignores it.
        """
        running = self.operating_mode in _RUNNING_MODES
        return {
            "is_on": self.is_on,
            "water_pump_running": running,
            "compressor_running": running,
            "operating_mode": self.operating_mode,
            "mode_setting": _MODE_NAMES.get(self.op_mode, "Unknown"),
            "op_mode": self.op_mode,
            "target_temperature": self.heat_setpoint,
            "auto_mode_offset": self.auto_mode_offset,
            "flow_temperature": _rounded(self.flow_temperature, 1),
            "return_temperature": _rounded(self.return_temperature, 1),
            "flow_rate": _rounded(self.flow_rate, 1),
            "outdoor_temperature": _rounded(self.outdoor_temperature, 1),
            "water_pressure": _rounded(self.water_pressure, 2),
            "error_code": self.error_code,
            "has_error": self.error_code != 0,
        }


def _rounded(value: float, digits: int) -> float:
    """Round as the service does; NaN and infinity pass through (fault injection)."""
    return value if not math.isfinite(value) else round(value, digits)


_STATE_FIELDS = {item.name for item in fields(HeatPumpState)}


class ModbusWriteError(Exception):
    """Every try of a Modbus write failed."""


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
        poll_interval: float | None = DEFAULT_POLL_INTERVAL_S,
        read_time: float = DEFAULT_READ_TIME_S,
        write_time: float = DEFAULT_WRITE_TIME_S,
        failed_try_time: float = DEFAULT_FAILED_TRY_TIME_S,
        startup_writes: bool = True,
        clock: Callable[[], float] = time.monotonic,
        compressor: Callable[[], bool] | None = None,
    ) -> None:
        """Build the service; it listens (and polls) after `start`.

        `polled=False` starts it as the real one starts: no pump read yet, so
        `/status` answers 500 until the first `poll()`. With `poll_interval`
        None the poller never runs on its own: tests call `poll()`.
        `compressor`, when given, decides whether the compressor runs (e.g. a
        simulated household's load state), so the heat pump and a simulated
        meter in the same process tell the same story.
        """
        self.state = state if state is not None else HeatPumpState()
        self.faults = FaultInjector()
        self.link_up = True
        self.flaky_tries = 0
        """Failed tries before each Modbus write succeeds (a slow link)."""
        self.live = live
        self.poll_interval = poll_interval
        self.read_time = read_time
        self.write_time = write_time
        self.failed_try_time = failed_try_time
        self.startup_writes = startup_writes
        self.modbus_writes: list[tuple[str, Any]] = []
        """Every register write that reached the pump: (register, value)."""
        self.clock = clock
        """The service's monotonic clock (tests step it, with Home Assistant's)."""
        self._compressor = compressor
        self._started = clock()
        self._last_poll: float | None = None
        self._file: dict[str, Any] | None = None
        self._file_exists = True
        self._polled_at_start = polled
        self._polling_paused = False
        self._pinned: dict[str, Any] = {}
        self._tasks: list[asyncio.Task[None]] = []
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
                web.post(f"{SIM_PREFIX}poll", self._post_sim_poll),
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
        """Listen; write Auto mode as the real service does on start; start polling."""
        await self.server.start()
        if self.startup_writes:
            self.state.op_mode = 3
            self.modbus_writes.append(("op_mode", 3))
        if self.poll_interval is not None:
            self._tasks.append(asyncio.create_task(self._poll_loop(self.poll_interval)))
        if self.live:
            self._tasks.append(asyncio.create_task(self._automation_loop()))

    async def stop(self) -> None:
        """Stop polling and listening."""
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        self.faults.release()
        await self.server.stop()

    # --- the service's poll of the pump ---------------------------------------

    def poll(self) -> None:
        """Read the pump now and rewrite the status file, as the service's poll does."""
        now = self.clock()
        if self.live and self._last_poll is not None:
            self._step(now - self._last_poll, now)
        self._last_poll = now
        self._file = self.state.status()
        self._file_exists = True

    def remove_status_file(self) -> None:
        """No status file at all: `/status` and `/health` answer 503."""
        self._file_exists = False
        self._file = None
        self._last_poll = None

    @property
    def status_age(self) -> float | None:
        """Seconds since the last reading; None before the first."""
        if self._last_poll is None:
            return None
        return self.clock() - self._last_poll

    @property
    def served_status(self) -> dict[str, Any] | None:
        """What `/status` serves now (the file of the last poll)."""
        return None if self._file is None else dict(self._file)

    def make_stale(self, age: float = STALE_AFTER_S + 30.0) -> None:
        """Pretend the pump stopped answering `age` seconds ago; polls stop."""
        self._polling_paused = True
        self._last_poll = self.clock() - age

    def heal(self) -> None:
        """The pump answers again: polls resume and a fresh reading is taken."""
        self._polling_paused = False
        self.poll()

    async def _poll_loop(self, interval: float) -> None:
        """Sleep the poll interval, read the pump (which takes a while), rewrite."""
        while True:
            await asyncio.sleep(interval)
            await asyncio.sleep(self.read_time)
            if not self._polling_paused:
                self.poll()

    async def _automation_loop(self) -> None:
        while True:
            await asyncio.sleep(_AUTOMATION_INTERVAL_S)
            self.run_automations()

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

    def run_automations(self) -> None:
        """One run of the power manager and scheduler: pinned registers come back."""
        for name, value in self._pinned.items():
            setattr(self.state, name, value)

    # --- Modbus writes -----------------------------------------------------------

    async def _write(self, register: str, value: Any) -> None:
        """One register write: up to three tries, each failed one costing time."""
        for attempt in range(MODBUS_TRIES):
            if self.link_up and attempt >= self.flaky_tries:
                await asyncio.sleep(self.write_time)
                setattr(self.state, register, value)
                self.modbus_writes.append((register, value))
                return
            await asyncio.sleep(self.failed_try_time)
        raise ModbusWriteError(register)

    @staticmethod
    def _failed(what: str) -> web.Response:
        return web.json_response({"detail": f"Failed to set {what}"}, status=500)

    # --- the API ----------------------------------------------------------------

    async def _get_status(self, _request: web.Request) -> web.Response:
        if not self._file_exists:
            return web.json_response(
                {"detail": "Status file not available"}, status=503
            )
        if self._file is None:
            # The file exists but the poller has not read the pump: a KeyError.
            return web.json_response({"detail": "'op_mode'"}, status=500)
        return web.Response(
            text=_json_with_nan(self._file), content_type="application/json"
        )

    async def _get_health(self, _request: web.Request) -> web.Response:
        if not self._file_exists:
            return web.json_response(
                {"detail": "Status file not available"}, status=503
            )
        age = self.status_age
        if age is None:
            return web.json_response({"detail": "No status data yet"}, status=503)
        if age > STALE_AFTER_S:
            return web.json_response(
                {"detail": f"Status data is stale ({age:.1f}s old)"}, status=503
            )
        return web.json_response(
            {"status": "healthy", "status_age_seconds": round(age, 2)}
        )

    async def _post_power(self, request: web.Request) -> web.Response:
        try:
            power_on = flag(await json_body(request), "power_on")
        except InvalidFieldError as err:
            return err.response()
        try:
            await self._write("is_on", power_on)
            if power_on:
                # The documented trap: powering on writes Heat mode (op_mode 4),
                # and the Heat setpoint along with it: three writes.
                await self._write("op_mode", 4)
                await self._write("heat_setpoint", self.state.heat_setpoint)
        except ModbusWriteError:
            return self._failed("power")
        if not power_on:
            self.state.operating_mode = "Standby"
        self.run_automations()
        return web.json_response({"status": "success", "power_on": power_on})

    async def _post_setpoint(self, request: web.Request) -> web.Response:
        try:
            temperature = number(await json_body(request), "temperature", 20, 60)
        except InvalidFieldError as err:
            return err.response()
        try:
            await self._write("heat_setpoint", temperature)
        except ModbusWriteError:
            return self._failed("setpoint")
        self.run_automations()
        return web.json_response(
            {"status": "success", "target_temperature": temperature}
        )

    async def _post_offset(self, request: web.Request) -> web.Response:
        try:
            offset = int(number(await json_body(request), "offset", -5, 5, whole=True))
        except InvalidFieldError as err:
            return err.response()
        try:
            await self._write("auto_mode_offset", offset)
        except ModbusWriteError:
            return self._failed("auto mode offset")
        self.run_automations()
        return web.json_response({"status": "success", "auto_mode_offset": offset})

    async def _post_mode(self, request: web.Request) -> web.Response:
        try:
            mode = int(number(await json_body(request), "mode", 3, 4, whole=True))
        except InvalidFieldError as err:
            return err.response()
        reply: dict[str, Any] = {
            "status": "success",
            "mode": mode,
            "mode_name": _MODE_CHANGE_NAMES[mode],
        }
        try:
            await self._write("op_mode", mode)
            if mode == 4:  # noqa: PLR2004
                await self._write("heat_setpoint", DEFAULT_HEAT_TEMPERATURE)
                reply["default_temperature"] = DEFAULT_HEAT_TEMPERATURE
        except ModbusWriteError:
            return self._failed("LG mode")
        self.run_automations()
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

    async def _post_sim_poll(self, _request: web.Request) -> web.Response:
        self.poll()
        return web.json_response({"status_age": self.status_age})

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


def _json_with_nan(document: dict[str, Any]) -> str:
    """JSON as Python's encoder writes it: NaN and Infinity as bare words.

    The real service's status file is written that way, so a broken sensor
    value reaches clients as `NaN`, which Python's decoder accepts.
    """
    return json.dumps(document)
