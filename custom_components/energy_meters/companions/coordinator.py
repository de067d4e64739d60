"""Coordinators for the companion services: one per service entry.

Each poll asks the service for everything its entities show, endpoint by
endpoint, and an endpoint that fails blanks only the entities it feeds: with
the thermostat's Shelly relay unreachable, its status endpoint answers 503
while the BLU sensors' readings are still current, and they stay shown. Only
when every endpoint fails does the whole device go unavailable. Failures are
sorted the way the user has to act on them: refused credentials start a
reauthentication flow; anything else (unreachable, HTTP 500, an HTML page,
truncated JSON, a timeout) marks the entities concerned unavailable. Each
endpoint's failure and recovery is logged once, as is the whole device's
(by Home Assistant's coordinator).

Controls go through the coordinator too, with Home Assistant's optimistic
pattern: the value written shows at once and is held until the service's
status confirms it, until a status taken after the write says otherwise (the
service's own automations undid it), or until `COMPANION_OPTIMISTIC_HOLD_S`
passes; then the entity follows the service again. This is needed because
the heat-pump service shows a write in `/status` only after its next poll
of the pump (5-18 s later): re-reading it at once returns the old value,
and the entity would jump back and forth. A refused or failed write rolls
the value back and raises a translated error.
"""

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, replace
import time
from typing import Any, ClassVar, override

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import CONF_ACCESS_TOKEN, CONF_URL, CONF_VERIFY_SSL
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ConfigEntryAuthFailed, HomeAssistantError
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed

from .. import const
from ..const import (
    CONF_SCAN_INTERVAL,
    DEFAULT_COMPANION_SCAN_INTERVAL,
    DOMAIN,
    LOGGER as _LOGGER,
    scan_interval,
)
from ..meterlib.companions import (
    CompanionAuthError,
    CompanionError,
    HeatPumpClient,
    HeatPumpHealth,
    HeatPumpStatus,
    SensorInfo,
    SensorReading,
    ThermostatClient,
    ThermostatConfig,
    ThermostatStatus,
)

HEALTH_STALE_AFTER_S = 30.0
"""The heat-pump service's own limit: /health answers 503 beyond it."""


def heat_pump_client(hass: HomeAssistant, data: Mapping[str, Any]) -> HeatPumpClient:
    """A heat-pump client for an entry's data, on Home Assistant's shared session."""
    return HeatPumpClient(
        async_get_clientsession(hass, verify_ssl=bool(data.get(CONF_VERIFY_SSL, True))),
        str(data[CONF_URL]),
        token=data.get(CONF_ACCESS_TOKEN) or None,
        timeout=const.COMPANION_REQUEST_TIMEOUT,
        write_timeout=const.COMPANION_WRITE_TIMEOUT,
    )


def thermostat_client(hass: HomeAssistant, data: Mapping[str, Any]) -> ThermostatClient:
    """A thermostat client for an entry's data, on Home Assistant's shared session."""
    return ThermostatClient(
        async_get_clientsession(hass, verify_ssl=bool(data.get(CONF_VERIFY_SSL, True))),
        str(data[CONF_URL]),
        token=data.get(CONF_ACCESS_TOKEN) or None,
        timeout=const.COMPANION_REQUEST_TIMEOUT,
        write_timeout=const.COMPANION_WRITE_TIMEOUT,
    )


class StaleDataError(CompanionError):
    """The service answers, but its own reading of the device is too old to show."""


@dataclass(slots=True)
class PendingValue[DataT]:
    """A value written and shown before the service's status confirms it."""

    value: Any
    reported: Callable[[DataT], Any]
    """What the service reports for it in a poll (None: nothing)."""
    written_at: float | None = None
    """Monotonic seconds when the write was acknowledged; None while in flight."""
    deadline: float = float("inf")


class CompanionCoordinator[DataT](DataUpdateCoordinator[DataT]):
    """Polls one companion service and turns its failures into HA's terms."""

    config_entry: ConfigEntry
    refresh_after_write: ClassVar[bool] = True
    """Poll right after a write: only useful where the service shows it at once."""
    read_margin_s: ClassVar[float] = 0.0
    """How much older than its stamp a status may be (the service's read time)."""

    def __init__(self, hass: HomeAssistant, entry: ConfigEntry, device_id: str) -> None:
        """Poll at the entry's interval; `device_id` is the service's device."""
        super().__init__(
            hass,
            _LOGGER,
            config_entry=entry,
            name=f"{DOMAIN} {entry.title}",
            update_interval=scan_interval(
                entry.data.get(CONF_SCAN_INTERVAL, DEFAULT_COMPANION_SCAN_INTERVAL)
            ),
        )
        self.device_id = device_id
        self.clock: Callable[[], float] = time.monotonic
        """Stamps polls and writes (tests step it)."""
        self.pending: dict[str, PendingValue[DataT]] = {}
        self.part_errors: dict[str, str] = {}
        """Endpoints failing now, with why: logged once, shown in diagnostics."""
        self._round_errors: dict[str, str] = {}

    async def _async_fetch(self) -> DataT:
        """Read everything the entities show."""
        raise NotImplementedError

    def _read_at(self, data: DataT) -> float:
        """Monotonic seconds when the service took the data it served."""
        raise NotImplementedError

    @override
    async def _async_update_data(self) -> DataT:
        """Fetch, with every library error mapped to reauth or unavailability."""
        try:
            data = await self._async_fetch()
        except CompanionAuthError as err:
            raise ConfigEntryAuthFailed(
                translation_domain=DOMAIN,
                translation_key="companion_auth_failed",
                translation_placeholders={"error": str(err)},
            ) from err
        except CompanionError as err:
            raise UpdateFailed(
                str(err),
                translation_domain=DOMAIN,
                translation_key="companion_update_failed",
                translation_placeholders={"error": str(err)},
            ) from err
        self._settle_pending(data)
        return data

    async def _part[T](self, name: str, read: Awaitable[T]) -> T | None:
        """One endpoint's answer, or None (noted for `_settle_parts`) when it fails.

        Refused credentials are not one endpoint's problem: they propagate.
        """
        try:
            value = await read
        except CompanionAuthError:
            raise
        except CompanionError as err:
            self._round_errors[name] = str(err)
            return None
        self._round_errors.pop(name, None)
        return value

    def _settle_parts(self, parts: Mapping[str, object | None]) -> None:
        """Log each endpoint's failure once when it starts and once when it ends.

        When no endpoint answered, the whole device is unavailable: this
        raises, and Home Assistant's coordinator logs that one line instead.
        """
        errors, self._round_errors = self._round_errors, {}
        if all(value is None for value in parts.values()):
            self.part_errors = {name: errors.get(name, "no answer") for name in parts}
            raise CompanionError(
                "; ".join(
                    f"{name}: {error}" for name, error in self.part_errors.items()
                )
            )
        failed = {name: errors[name] for name in parts if name in errors}
        for name in parts:
            if name not in failed and self.part_errors.pop(name, None) is not None:
                _LOGGER.info("%s: %s answers again", self.name, name)
        new = {
            name: error
            for name, error in failed.items()
            if name not in self.part_errors
        }
        if new:
            # One line for what failed together (a database down fails three).
            causes = set(new.values())
            _LOGGER.warning(
                "%s: %s failed, the entities they feed are unavailable: %s",
                self.name,
                ", ".join(new),
                causes.pop()
                if len(causes) == 1
                else "; ".join(f"{name}: {error}" for name, error in new.items()),
            )
        self.part_errors.update(failed)

    # --- controls ----------------------------------------------------------------

    def shown[T](self, key: str, reported: T) -> T:
        """The value an entity shows: a pending write's, else the service's."""
        pending = self.pending.get(key)
        return reported if pending is None else pending.value

    def hold(self, key: str, value: Any, reported: Callable[[DataT], Any]) -> None:
        """Show `value` for `key` now, as written and acknowledged (see the module)."""
        now = self.clock()
        self.pending[key] = PendingValue(
            value, reported, now, now + const.COMPANION_OPTIMISTIC_HOLD_S
        )

    def _settle_pending(self, data: DataT) -> None:
        """Drop the pending values the service confirmed, overrode, or outlived."""
        if not self.pending:
            return
        now = self.clock()
        read_at = self._read_at(data)
        for key, pending in list(self.pending.items()):
            if pending.written_at is None:
                continue  # the write is still in flight
            reported = pending.reported(data)
            taken_after = read_at >= pending.written_at + self.read_margin_s
            if (
                reported == pending.value
                or now >= pending.deadline
                or (taken_after and reported is not None)
            ):
                del self.pending[key]

    async def async_control[T](
        self,
        write: Awaitable[T],
        optimistic: Mapping[str, tuple[Any, Callable[[DataT], Any]]] | None = None,
    ) -> T:
        """Run a control, showing `optimistic` values (key: value, reported) at once.

        A refused or failed write rolls them back and raises a translated
        error for the UI. The write is sent even while the last poll failed:
        a status endpoint in trouble does not mean the controls are, and the
        call either reaches the service or says clearly why it did not.
        """
        optimistic = optimistic or {}
        previous = {key: self.pending.get(key) for key in optimistic}
        for key, (value, reported) in optimistic.items():
            self.pending[key] = PendingValue(value, reported)
        if optimistic and self.data is not None:
            self.async_update_listeners()
        try:
            result = await write
        except CompanionError as err:
            for key, old in previous.items():
                if old is None:
                    self.pending.pop(key, None)
                else:
                    self.pending[key] = old
            # The poll also notices refused credentials and starts reauth.
            await self.async_refresh()
            key = (
                "companion_auth_failed"
                if isinstance(err, CompanionAuthError)
                else "companion_control_failed"
            )
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key=key,
                translation_placeholders={"error": str(err)},
            ) from err
        done = self.clock()
        for key in optimistic:
            if (pending := self.pending.get(key)) is not None:
                pending.written_at = done
                pending.deadline = done + const.COMPANION_OPTIMISTIC_HOLD_S
        if self.refresh_after_write:
            await self.async_refresh()
        elif self.data is not None:
            self.async_update_listeners()
        return result


@dataclass(frozen=True, slots=True)
class HeatPumpData:
    """One poll of the heat-pump service."""

    status: HeatPumpStatus | None
    """None when /status failed, or the service's reading is too old to show."""
    status_age_seconds: float | None
    stale: bool
    """/health says the reading is older than 30 s (shown, for a bounded time)."""
    fetched_at: float
    """Monotonic seconds when it was read: the clock the heat energy integrates on."""

    @property
    def read_at(self) -> float:
        """Monotonic seconds when the service read the pump (its age unknown: 30 s)."""
        age = self.status_age_seconds
        return self.fetched_at - (age if age is not None else HEALTH_STALE_AFTER_S)


class HeatPumpCoordinator(CompanionCoordinator[HeatPumpData]):
    """Polls the heat-pump service: `/health`, then `/status`.

    `/status` alone cannot tell a live reading from one cached an hour ago:
    the service keeps serving its last poll of the pump. `/health` knows. A
    reading just past the service's 30 s limit is normal (at a 30 s poll it
    happens every few minutes, just before each rewrite), so a stale reading
    is still shown, with one log line, until it is older than
    `COMPANION_STALE_LIMIT_S`; only then do the entities go unavailable.
    """

    refresh_after_write = False  # /status shows a write only after the service's poll
    read_margin_s = 5.0  # the pump read happens a little before the file is stamped

    def __init__(self, hass: HomeAssistant, entry: ConfigEntry, device_id: str) -> None:
        """Build the client from the entry."""
        super().__init__(hass, entry, device_id)
        self.client = heat_pump_client(hass, entry.data)
        self._stale_since: float | None = None

    @override
    def _read_at(self, data: HeatPumpData) -> float:
        return data.read_at

    @override
    async def _async_fetch(self) -> HeatPumpData:
        now = self.clock()
        health = await self._part("health", self.client.health())
        status = await self._part("status", self.client.status())
        age = health.status_age_seconds if health is not None else None
        stale = health is not None and not health.fresh
        if stale:
            age, status = self._stale(now, health, age, status)
        elif self._stale_since is not None:
            self._stale_since = None
            _LOGGER.info("%s: the service's reading is current again", self.name)
        self._settle_parts({"health": health, "status": status})
        if status is None and self.data is None:
            # Nothing to show but an age: setup waits for the first reading
            # (the service answers 500 until it has read the pump once).
            raise CompanionError(self.part_errors.get("status", "no status"))
        return HeatPumpData(status, age, stale, now)

    def _stale(
        self,
        now: float,
        health: HeatPumpHealth | None,
        age: float | None,
        status: HeatPumpStatus | None,
    ) -> tuple[float, HeatPumpStatus | None]:
        """Keep a stale reading for a while (one log line); drop it when too old."""
        if self._stale_since is None:
            self._stale_since = now
            _LOGGER.info(
                "%s: the service's reading of the heat pump is stale (%s); "
                "showing it for up to %g s",
                self.name,
                health.detail if health is not None else "no detail",
                const.COMPANION_STALE_LIMIT_S,
            )
        if age is None:
            age = HEALTH_STALE_AFTER_S + (now - self._stale_since)
        if age > const.COMPANION_STALE_LIMIT_S:
            self._round_errors["status"] = (
                "the service has no current reading of the heat pump "
                f"(its data is {age:.0f} s old)"
            )
            status = None
        return age, status

    async def async_write(
        self,
        write: Callable[[HeatPumpClient], Awaitable[object]],
        optimistic: Mapping[str, tuple[Any, Callable[[HeatPumpData], Any]]]
        | None = None,
    ) -> object:
        """Run a control against the client, showing `optimistic` values at once."""
        return await self.async_control(write(self.client), optimistic)


def status_field(name: str) -> Callable[[HeatPumpData], Any]:
    """What a heat-pump poll reports for one status field (None without a status)."""

    def reported(data: HeatPumpData) -> Any:
        return None if data.status is None else getattr(data.status, name)

    return reported


@dataclass(frozen=True, slots=True)
class ThermostatData:
    """One poll of the thermostat service; a part is None when its endpoint failed."""

    status: ThermostatStatus | None
    config: ThermostatConfig | None
    """From the status, or from /config when the status failed."""
    readings: Mapping[str, SensorReading] | None
    """Latest reading per sensor key, for sensors heard in the last hour."""
    sensors: Mapping[str, SensorInfo] | None
    """Sensors heard in the last seven days, by sensor id."""
    fetched_at: float = 0.0

    def sensor_ids(self) -> list[str]:
        """Every sensor key either list knows, in a stable order."""
        return sorted({*(self.readings or {}), *(self.sensors or {})})


class ThermostatCoordinator(CompanionCoordinator[ThermostatData]):
    """Polls the thermostat status and the BLU sensors' readings.

    The config the status carries is current at once after a write, so a
    write is followed by a poll; the relay follows only at the service's
    next control-loop run, and the climate's action shows that when it does.
    """

    def __init__(self, hass: HomeAssistant, entry: ConfigEntry, device_id: str) -> None:
        """Build the client from the entry."""
        super().__init__(hass, entry, device_id)
        self.client = thermostat_client(hass, entry.data)

    @override
    def _read_at(self, data: ThermostatData) -> float:
        return data.fetched_at

    @override
    async def _async_fetch(self) -> ThermostatData:
        now = self.clock()
        status = await self._part("status", self.client.status())
        config = (
            status.config
            if status is not None
            else await self._part("config", self.client.config())
        )
        readings = await self._part("latest", self.client.latest())
        sensors = await self._part("sensors", self.client.sensors())
        self._settle_parts(
            {"status": status, "config": config, "latest": readings, "sensors": sensors}
        )
        return ThermostatData(
            status,
            config,
            None
            if readings is None
            else {reading.key: reading for reading in readings},
            None
            if sensors is None
            else {
                sensor.sensor_id: sensor
                for sensor in sensors
                if sensor.sensor_id is not None
            },
            now,
        )

    def shown_config(self) -> ThermostatConfig | None:
        """The config as shown: the service's, with pending writes applied."""
        if not self.last_update_success or self.data.config is None:
            return None
        config = self.data.config
        changes = {key: pending.value for key, pending in self.pending.items()}
        if not changes:
            return config
        return replace(config, **changes)

    async def async_update_config(self, **changes: Any) -> None:
        """Change config fields (read-modify-write of the whole config), shown at once."""
        await self.async_control(
            self.client.update_config(**changes),
            {key: (value, config_field(key)) for key, value in changes.items()},
        )


def config_field(name: str) -> Callable[[ThermostatData], Any]:
    """What a thermostat poll reports for one config field (None without one)."""

    def reported(data: ThermostatData) -> Any:
        return None if data.config is None else getattr(data.config, name)

    return reported


type HeatPumpConfigEntry = ConfigEntry[HeatPumpCoordinator]
type ThermostatConfigEntry = ConfigEntry[ThermostatCoordinator]
