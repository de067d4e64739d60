"""Coordinators for the companion services: one per service entry.

Each poll asks the service for everything its entities show, in one go, so
all entities of a device change together and a failure blanks them together.
Failures are sorted the way the user has to act on them: refused credentials
start a reauthentication flow; anything else (unreachable, HTTP 500, an HTML
page, truncated JSON, a timeout, stale data) marks the entities unavailable.
Home Assistant's coordinator logs the first failed poll and the recovery,
one line each, and stays quiet in between.

Controls go through the coordinator too: after any write it polls at once,
because the services run automations of their own that may undo a change,
and the entities must show what the service reports, not what was asked.
"""

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
import logging
import time
from typing import Any, override

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import CONF_ACCESS_TOKEN, CONF_URL, CONF_VERIFY_SSL
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ConfigEntryAuthFailed, HomeAssistantError
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed

from . import const
from .const import (
    CONF_SCAN_INTERVAL,
    DEFAULT_COMPANION_SCAN_INTERVAL,
    DOMAIN,
    scan_interval,
)
from .meterlib.companions import (
    CompanionAuthError,
    CompanionError,
    HeatPumpClient,
    HeatPumpStatus,
    SensorInfo,
    SensorReading,
    ThermostatClient,
    ThermostatStatus,
)

_LOGGER = logging.getLogger(__package__)


def heat_pump_client(hass: HomeAssistant, data: Mapping[str, Any]) -> HeatPumpClient:
    """A heat-pump client for an entry's data, on Home Assistant's shared session."""
    return HeatPumpClient(
        async_get_clientsession(hass, verify_ssl=bool(data.get(CONF_VERIFY_SSL, True))),
        str(data[CONF_URL]),
        token=data.get(CONF_ACCESS_TOKEN) or None,
        timeout=const.COMPANION_REQUEST_TIMEOUT,
    )


def thermostat_client(hass: HomeAssistant, data: Mapping[str, Any]) -> ThermostatClient:
    """A thermostat client for an entry's data, on Home Assistant's shared session."""
    return ThermostatClient(
        async_get_clientsession(hass, verify_ssl=bool(data.get(CONF_VERIFY_SSL, True))),
        str(data[CONF_URL]),
        token=data.get(CONF_ACCESS_TOKEN) or None,
        timeout=const.COMPANION_REQUEST_TIMEOUT,
    )


class StaleDataError(CompanionError):
    """The service answers, but its own reading of the device is too old to show."""


class CompanionCoordinator[DataT](DataUpdateCoordinator[DataT]):
    """Polls one companion service and turns its failures into HA's terms."""

    config_entry: ConfigEntry

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

    async def _async_fetch(self) -> DataT:
        """Read everything the entities show."""
        raise NotImplementedError

    @override
    async def _async_update_data(self) -> DataT:
        """Fetch, with every library error mapped to reauth or unavailability."""
        try:
            return await self._async_fetch()
        except CompanionAuthError as err:
            raise ConfigEntryAuthFailed(
                translation_domain=DOMAIN,
                translation_key="companion_auth_failed",
                translation_placeholders={"error": str(err)},
            ) from err
        except CompanionError as err:
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key="companion_update_failed",
                translation_placeholders={"error": str(err)},
            ) from err

    async def async_control[T](self, write: Awaitable[T]) -> T:
        """Run a control, then poll at once so entities show what the service did.

        A refused write raises a translated error for the UI; the poll runs
        either way, so the entities never keep showing a value that was only
        wished for.
        """
        try:
            result = await write
        except CompanionError as err:
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
        await self.async_refresh()
        return result


@dataclass(frozen=True, slots=True)
class HeatPumpData:
    """One poll of the heat-pump service."""

    status: HeatPumpStatus
    status_age_seconds: float | None
    fetched_at: float
    """Monotonic seconds when it was read: the clock the heat energy integrates on."""


class HeatPumpCoordinator(CompanionCoordinator[HeatPumpData]):
    """Polls the heat-pump service: `/health` first, then `/status`.

    `/status` alone cannot tell a live reading from one cached an hour ago:
    the service keeps serving its last poll of the pump. `/health` knows, so
    stale data turns into unavailable entities rather than frozen ones.
    """

    def __init__(self, hass: HomeAssistant, entry: ConfigEntry, device_id: str) -> None:
        """Build the client from the entry."""
        super().__init__(hass, entry, device_id)
        self.client = heat_pump_client(hass, entry.data)
        self.clock: Callable[[], float] = time.monotonic
        """Stamps each poll for the heat-energy integral (tests step it)."""

    @override
    async def _async_fetch(self) -> HeatPumpData:
        health = await self.client.health()
        if not health.fresh:
            age = health.status_age_seconds
            raise StaleDataError(
                "the service has no current reading of the heat pump"
                + (f" (its data is {age:.0f} s old)" if age is not None else "")
            )
        status = await self.client.status()
        return HeatPumpData(status, health.status_age_seconds, self.clock())

    async def async_write(
        self, write: Callable[[HeatPumpClient], Awaitable[object]]
    ) -> None:
        """Run a control against the client, then show what the service reports."""
        await self.async_control(write(self.client))


@dataclass(frozen=True, slots=True)
class ThermostatData:
    """One poll of the thermostat service."""

    status: ThermostatStatus
    readings: Mapping[str, SensorReading]
    """Latest reading per sensor id, for sensors heard in the last hour."""
    sensors: Mapping[str, SensorInfo]
    """Sensors heard in the last seven days, by sensor id."""

    def sensor_ids(self) -> list[str]:
        """Every sensor id either list knows, in a stable order."""
        return sorted({*self.readings, *self.sensors})


class ThermostatCoordinator(CompanionCoordinator[ThermostatData]):
    """Polls the thermostat status and the BLU sensors' readings."""

    def __init__(self, hass: HomeAssistant, entry: ConfigEntry, device_id: str) -> None:
        """Build the client from the entry."""
        super().__init__(hass, entry, device_id)
        self.client = thermostat_client(hass, entry.data)

    @override
    async def _async_fetch(self) -> ThermostatData:
        status = await self.client.status()
        readings = await self.client.latest()
        sensors = await self.client.sensors()
        return ThermostatData(
            status,
            {reading.sensor_id: reading for reading in readings},
            {sensor.sensor_id: sensor for sensor in sensors},
        )

    async def async_update_config(self, **changes: Any) -> None:
        """Change config fields (read-modify-write of the whole config), then poll."""
        await self.async_control(self.client.update_config(**changes))


type HeatPumpConfigEntry = ConfigEntry[HeatPumpCoordinator]
type ThermostatConfigEntry = ConfigEntry[ThermostatCoordinator]
