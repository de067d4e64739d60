"""Diagnostics download: what was configured and last read, credentials redacted.

Each kind says what its diagnostics hold (`kinds.py`): a gateway its read
plans and readings, a service its last status, the Site its sums.
"""

from typing import Any

from homeassistant.core import HomeAssistant

from .kinds import EnergyMetersConfigEntry, kind_of


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: EnergyMetersConfigEntry
) -> dict[str, Any]:
    """The entry's diagnostics, as its kind makes them."""
    return kind_of(entry).diagnostics_of(entry)
