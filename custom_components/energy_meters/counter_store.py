"""Energy counter state that survives restarts.

What a counter last published, the raw reading behind it and the offset from a
replaced meter must come back after a restart exactly as they were: a counter
re-learnt from the first read after start would accept a garbage first reading
as the truth, or forget that a replaced meter restarted from zero.
"""

from collections.abc import Callable
from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.helpers.storage import Store

from .const import DOMAIN

STORAGE_VERSION = 1
# Counters move every poll; writing the file that often would wear SD cards.
# Home Assistant writes pending data on shutdown, so only a crash loses up
# to this much, and the counters then resume from slightly older state.
SAVE_DELAY_S = 30

type CounterState = dict[str, dict[str, dict[str, Any]]]


class CounterStore:
    """The persisted counter state of one gateway's meters, by subentry id."""

    def __init__(self, hass: HomeAssistant, entry_id: str) -> None:
        """One file per gateway entry."""
        self._store: Store[CounterState] = Store(
            hass, STORAGE_VERSION, f"{DOMAIN}.{entry_id}.counters"
        )

    async def async_load(self) -> CounterState:
        """The saved state, or nothing when there is none or it is unreadable."""
        data = await self._store.async_load()
        if not isinstance(data, dict):
            return {}
        return {
            subentry_id: counters
            for subentry_id, counters in data.items()
            if isinstance(counters, dict)
        }

    def async_schedule_save(self, provider: Callable[[], CounterState]) -> None:
        """Save soon (and at shutdown at the latest)."""
        self._store.async_delay_save(provider, SAVE_DELAY_S)

    async def async_save(self, data: CounterState) -> None:
        """Save now."""
        await self._store.async_save(data)

    async def async_remove(self) -> None:
        """Forget everything (the gateway entry was deleted)."""
        await self._store.async_remove()


async def async_remove_counters(hass: HomeAssistant, entry: ConfigEntry) -> None:
    """A deleted entry leaves no counter state behind."""
    await CounterStore(hass, entry.entry_id).async_remove()
