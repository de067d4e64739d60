"""Starting and diagnosing the Site entry.

What the Site sums is handed to it: the power sources of the other kinds
(`meter_power.PowerSource`), so this package depends on none of them.
"""

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from homeassistant.core import HomeAssistant

from ..meter_power import PowerSource
from .tracker import CONF_CAPACITY_KW, SiteConfigEntry, SiteTracker

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
