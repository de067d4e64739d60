"""The Site: consumption, solar production and spare grid capacity over all meters.

Meters that are not on Modbus (MQTT and HTTP meters, guarded sensors, see
`single_meters`) take roles too, and count exactly like a gateway's meters.

A site spans gateways (a house and a garage, each with its own bus), so it
cannot belong to any one gateway entry. It is an entry of its own, added from
the integration's menu ("Site"), at most once. Its one setting, the grid
connection's capacity in kW, is its option: a property of the site, not of a
meter or a gateway, and changed without touching either.

The site reads the meters' filtered values straight from their coordinators
(through the power sources the other kinds offer, see `meter_power`), not
from their entities: a renamed or disabled power sensor must not change the
site's figures. It listens to every running meter's coordinator, so a site
figure changes in the same moment as the meter sensor it comes from, and to
config entry changes, so a gateway that is added, reloaded (a meter's role
changed) or removed is picked up at once.

How the figures are made, with the roles of `roles.py` (G: grid meters,
B: building meters, S: solar production, C: capacity):

- consumption = G + B, plus S when there are grid meters. A grid meter
  measures the site's exchange with the grid, with the solar production
  behind it already netted out; the building's own consumption is that plus
  the solar production. A building meter measures consumption directly.
- available capacity = C + S - consumption, which is the capacity minus what
  the site draws from the grid now: what an EV charger may add before the
  connection is overloaded.

A figure is only published when every meter it needs has a current reading.
A sum with a meter missing would understate consumption and overstate the
spare capacity, the one mistake a load-shedding automation must never be
fed; the figure goes unavailable instead.
"""

from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Final

from homeassistant.config_entries import (
    SIGNAL_CONFIG_ENTRY_CHANGED,
    ConfigEntry,
    ConfigEntryChange,
)
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers.dispatcher import async_dispatcher_connect

from ..const import CONF_KIND, DOMAIN, KIND_SITE
from ..meter_power import MeterPower, PowerSource
from ..roles import SITE_ROLES, MeterRole

CONF_CAPACITY_KW: Final = "capacity_kw"

type SiteConfigEntry = ConfigEntry[SiteTracker]


def is_site(entry: ConfigEntry) -> bool:
    """Whether an entry is the Site (not a gateway or a companion service)."""
    return entry.data.get(CONF_KIND) == KIND_SITE


@dataclass(frozen=True, slots=True)
class SiteTotals:
    """The site's figures; None where a meter they need has no reading."""

    consumption_w: float | None = None
    solar_w: float | None = None
    available_kw: float | None = None
    missing: tuple[str, ...] = ()


def _sum(meters: list[MeterPower]) -> float | None:
    """The meters' total, or None as soon as one of them has no reading."""
    total = 0.0
    for meter in meters:
        if meter.power_w is None:
            return None
        total += meter.power_w
    return total


def site_totals(meters: Iterable[MeterPower], capacity_kw: float) -> SiteTotals:
    """Consumption, solar production and spare capacity from the site's meters.

    Solar production is the size of the solar meters' power: an inverter's
    meter is as often mounted to count its feed as export as as import.
    """
    by_role: dict[MeterRole, list[MeterPower]] = {role: [] for role in SITE_ROLES}
    for meter in meters:
        if meter.role in by_role:
            by_role[meter.role].append(meter)
    solar_meters = [
        MeterPower(m.name, m.role, None if m.power_w is None else abs(m.power_w))
        for m in by_role[MeterRole.SOLAR]
    ]
    solar = _sum(solar_meters)
    grid = _sum(by_role[MeterRole.GRID])
    building = _sum(by_role[MeterRole.BUILDING])
    consumption: float | None = None
    if by_role[MeterRole.GRID] or by_role[MeterRole.BUILDING]:
        netted_solar = solar if by_role[MeterRole.GRID] else 0.0
        if grid is not None and building is not None and netted_solar is not None:
            consumption = grid + building + netted_solar
    available = (
        None
        if consumption is None or solar is None
        else capacity_kw + (solar - consumption) / 1000
    )
    missing = tuple(
        sorted(
            meter.name
            for role_meters in by_role.values()
            for meter in role_meters
            if meter.power_w is None
        )
    )
    return SiteTotals(consumption, solar, available, missing)


def site_meters(
    hass: HomeAssistant, sources: Iterable[PowerSource]
) -> Iterator[MeterPower]:
    """The power of every meter with a site role, source after source."""
    for source in sources:
        yield from source.meters(hass)


class SiteTracker:
    """Keeps the site's totals current and tells the site's entities."""

    def __init__(
        self,
        hass: HomeAssistant,
        capacity_kw: float,
        sources: Sequence[PowerSource],
    ) -> None:
        """Nothing is watched until `async_start`."""
        self.hass = hass
        self.capacity_kw = capacity_kw
        self.sources = sources
        self.totals = SiteTotals()
        self._listeners: list[CALLBACK_TYPE] = []
        self._unsubscribe_coordinators: list[CALLBACK_TYPE] = []
        self._unsubscribe_entries: CALLBACK_TYPE | None = None

    def meters(self) -> Iterator[MeterPower]:
        """The power of every meter with a site role, of every kind."""
        return site_meters(self.hass, self.sources)

    @callback
    def async_start(self) -> None:
        """Watch the gateways' entries and coordinators."""
        self._unsubscribe_entries = async_dispatcher_connect(
            self.hass, SIGNAL_CONFIG_ENTRY_CHANGED, self._async_entry_changed
        )
        self._async_follow_gateways()

    @callback
    def async_stop(self) -> None:
        """Stop watching (the site entry unloads)."""
        if self._unsubscribe_entries is not None:
            self._unsubscribe_entries()
            self._unsubscribe_entries = None
        self._async_unfollow_coordinators()

    @callback
    def async_add_listener(self, update: CALLBACK_TYPE) -> Callable[[], None]:
        """Call `update` whenever the totals are recomputed; returns the remover."""
        self._listeners.append(update)

        def remove() -> None:
            self._listeners.remove(update)

        return remove

    @callback
    def _async_entry_changed(
        self, change: ConfigEntryChange, entry: ConfigEntry
    ) -> None:
        """A gateway came, went, was reloaded or changed: follow the new set."""
        if entry.domain == DOMAIN and not is_site(entry):
            self._async_follow_gateways()

    @callback
    def _async_unfollow_coordinators(self) -> None:
        for unsubscribe in self._unsubscribe_coordinators:
            unsubscribe()
        self._unsubscribe_coordinators = []

    @callback
    def _async_follow_gateways(self) -> None:
        """Listen to every running meter's coordinator, then recompute."""
        self._async_unfollow_coordinators()
        for source in self.sources:
            self._unsubscribe_coordinators += [
                add_listener(self._async_recompute)
                for add_listener in source.listeners(self.hass)
            ]
        self._async_recompute()

    @callback
    def _async_recompute(self) -> None:
        """Recompute the totals and let the site's entities write their states."""
        self.totals = site_totals(self.meters(), self.capacity_kw)
        for update in list(self._listeners):
            update()


type SiteStart = Callable[[HomeAssistant, SiteConfigEntry], Awaitable[SiteTracker]]


def site_start(sources: Sequence[PowerSource]) -> SiteStart:
    """How to start the Site over these meters (every kind's, in this order)."""

    async def async_start_site(
        hass: HomeAssistant, entry: SiteConfigEntry
    ) -> SiteTracker:
        """Start following the meters; the tracker stops when the entry unloads."""
        tracker = SiteTracker(hass, float(entry.options[CONF_CAPACITY_KW]), sources)
        tracker.async_start()
        entry.async_on_unload(tracker.async_stop)
        return tracker

    return async_start_site


def site_diagnostics(entry: SiteConfigEntry) -> dict[str, Any]:
    """The capacity, the meters the site reads and the latest totals."""
    tracker = entry.runtime_data
    return {
        "capacity_kw": tracker.capacity_kw,
        "meters": [
            {"role": meter.role.value, "power_w": meter.power_w}
            for meter in tracker.meters()
        ],
        "totals": {
            "consumption_w": tracker.totals.consumption_w,
            "solar_w": tracker.totals.solar_w,
            "available_kw": tracker.totals.available_kw,
            "meters_without_reading": len(tracker.totals.missing),
        },
    }
