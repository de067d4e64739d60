"""The kinds of config entry, and what each one sets up: the integration's one table.

An entry's data says its kind ("kind"; an entry without one is a gateway, the
first kind there was). `__init__`, diagnostics, the config flow and every
platform module look the kind up here once and call what its row names:
how to start and stop the entry's runtime object, and which entities it has
on which platform. A kind without entities on a platform is absent from that
row, so the platforms an entry forwards to are exactly those it has entities
on.

Each row is an `EntryKind[T]`, `T` being the kind's runtime object (a
coordinator, the Site's tracker, ...): its functions are checked against
`ConfigEntry[T]` where the row is written, and `loaded` checks at run time
that an entry's runtime data really is a `T` before a function typed on it
gets the entry.
"""

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .companions.coordinator import HeatPumpCoordinator, ThermostatCoordinator
from .companions.heatpump_controls import (
    async_setup_heat_pump_numbers,
    async_setup_heat_pump_selects,
    async_setup_heat_pump_switches,
)
from .companions.heatpump_entities import (
    async_setup_heat_pump_binary_sensors,
    async_setup_heat_pump_sensors,
)
from .companions.setup import (
    async_start_heat_pump,
    async_start_thermostat,
    companion_diagnostics,
)
from .companions.thermostat_entities import (
    async_setup_thermostat_climate,
    async_setup_thermostat_numbers,
    async_setup_thermostat_sensors,
)
from .const import (
    KIND_GATEWAY,
    KIND_GUARD,
    KIND_HEAT_PUMP,
    KIND_HTTP_METER,
    KIND_MQTT_METER,
    KIND_SITE,
    KIND_THERMOSTAT,
    stored_kind,
)
from .counter_store import async_remove_counters
from .gateway.coordinator import GatewayCoordinator
from .gateway.device import async_setup_gateway_binary_sensors
from .gateway.diagnostics import gateway_diagnostics
from .gateway.sensor import async_setup_gateway_sensors
from .gateway.setup import async_start_gateway, async_stop_gateway, gateway_started
from .gateway.site_power import GATEWAY_POWER
from .single_meters.meter import SingleMeter
from .single_meters.sensor import async_setup_single_meter_sensors
from .single_meters.setup import (
    async_start_single_meter,
    async_stop_single_meter,
    single_meter_diagnostics,
)
from .single_meters.site_power import SINGLE_METER_POWER
from .site.sensor import async_setup_site_sensors
from .site.tracker import SiteTracker, site_diagnostics, site_start

type EntryRuntime = (
    GatewayCoordinator
    | HeatPumpCoordinator
    | ThermostatCoordinator
    | SiteTracker
    | SingleMeter
)
type EnergyMetersConfigEntry = ConfigEntry[EntryRuntime]
"""An entry of this integration, of any kind (see `kind_of`)."""

type EntitySetup[T] = Callable[
    [ConfigEntry[T], AddConfigEntryEntitiesCallback], Awaitable[None]
]


@dataclass(frozen=True, eq=False, kw_only=True)
class EntryKind[T]:
    """What one kind of entry runs and which entities it has on which platform."""

    runtime_type: type[T]
    start: Callable[[HomeAssistant, ConfigEntry[T]], Awaitable[T]]
    """Create and start the runtime object; raises to have setup retried."""
    diagnostics: Callable[[ConfigEntry[T]], dict[str, Any]]
    entities: Mapping[Platform, EntitySetup[T]] = field(default_factory=dict)
    """Each platform's entity setup, in the order the platforms are set up."""
    started: Callable[[HomeAssistant, ConfigEntry[T]], None] | None = None
    """Called once the platforms are set up."""
    stop: Callable[[T], Awaitable[None]] | None = None
    """Called once the platforms are unloaded."""
    remove: Callable[[HomeAssistant, ConfigEntry[T]], Awaitable[None]] | None = None
    """Called when the entry is deleted."""

    @property
    def platforms(self) -> list[Platform]:
        """The platforms this kind has entities on."""
        return list(self.entities)

    def loaded(self, entry: ConfigEntry[Any]) -> ConfigEntry[T]:
        """The entry, once its runtime data is known to be this kind's object."""
        if not isinstance(entry.runtime_data, self.runtime_type):
            msg = f"{entry.entry_id} does not run a {self.runtime_type.__name__}"
            raise TypeError(msg)
        return entry

    async def async_setup_entities(
        self,
        platform: Platform,
        entry: ConfigEntry[Any],
        async_add_entities: AddConfigEntryEntitiesCallback,
    ) -> None:
        """Add the entry's entities of one platform (none if it has none there)."""
        if (setup := self.entities.get(platform)) is not None:
            await setup(self.loaded(entry), async_add_entities)

    async def async_stop(self, entry: ConfigEntry[Any]) -> None:
        """Stop the runtime object of an unloaded entry."""
        if self.stop is not None:
            await self.stop(self.loaded(entry).runtime_data)

    def async_started(self, hass: HomeAssistant, entry: ConfigEntry[Any]) -> None:
        """Let the kind act on its set-up entry."""
        if self.started is not None:
            self.started(hass, self.loaded(entry))

    async def async_remove(self, hass: HomeAssistant, entry: ConfigEntry[Any]) -> None:
        """Delete what the entry leaves behind (runtime data is gone by then)."""
        if self.remove is not None:
            await self.remove(hass, entry)

    def diagnostics_of(self, entry: ConfigEntry[Any]) -> dict[str, Any]:
        """The entry's diagnostics."""
        return self.diagnostics(self.loaded(entry))


GATEWAY = EntryKind(
    runtime_type=GatewayCoordinator,
    start=async_start_gateway,
    started=gateway_started,
    stop=async_stop_gateway,
    remove=async_remove_counters,
    diagnostics=gateway_diagnostics,
    entities={
        Platform.BINARY_SENSOR: async_setup_gateway_binary_sensors,
        Platform.SENSOR: async_setup_gateway_sensors,
    },
)
HEAT_PUMP = EntryKind(
    runtime_type=HeatPumpCoordinator,
    start=async_start_heat_pump,
    diagnostics=companion_diagnostics,
    entities={
        Platform.BINARY_SENSOR: async_setup_heat_pump_binary_sensors,
        Platform.NUMBER: async_setup_heat_pump_numbers,
        Platform.SELECT: async_setup_heat_pump_selects,
        Platform.SENSOR: async_setup_heat_pump_sensors,
        Platform.SWITCH: async_setup_heat_pump_switches,
    },
)
THERMOSTAT = EntryKind(
    runtime_type=ThermostatCoordinator,
    start=async_start_thermostat,
    diagnostics=companion_diagnostics,
    entities={
        Platform.CLIMATE: async_setup_thermostat_climate,
        Platform.NUMBER: async_setup_thermostat_numbers,
        Platform.SENSOR: async_setup_thermostat_sensors,
    },
)
SITE = EntryKind(
    runtime_type=SiteTracker,
    # Gateways' meters first, as the Site lists them.
    start=site_start((GATEWAY_POWER, SINGLE_METER_POWER)),
    remove=async_remove_counters,
    diagnostics=site_diagnostics,
    entities={Platform.SENSOR: async_setup_site_sensors},
)
SINGLE_METER = EntryKind(
    runtime_type=SingleMeter,
    start=async_start_single_meter,
    stop=async_stop_single_meter,
    remove=async_remove_counters,
    diagnostics=single_meter_diagnostics,
    entities={Platform.SENSOR: async_setup_single_meter_sensors},
)

KINDS: Mapping[str, EntryKind[Any]] = {
    KIND_GATEWAY: GATEWAY,
    KIND_HEAT_PUMP: HEAT_PUMP,
    KIND_THERMOSTAT: THERMOSTAT,
    KIND_SITE: SITE,
    KIND_MQTT_METER: SINGLE_METER,
    KIND_HTTP_METER: SINGLE_METER,
    KIND_GUARD: SINGLE_METER,
}


def kind_of(entry: ConfigEntry[Any]) -> EntryKind[Any]:
    """The kind of an entry, from its data (an unknown kind is run as a gateway)."""
    return KINDS.get(stored_kind(entry.data), GATEWAY)
