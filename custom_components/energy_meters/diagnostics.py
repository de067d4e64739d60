"""Diagnostics download: what was configured, planned and read.

The gateway's host is redacted: it is often a public address or a name that
identifies the household. Raw registers are kept, since they are what a
profile problem is diagnosed from.
"""

from typing import Any, cast

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.const import CONF_HOST
from homeassistant.core import HomeAssistant

from .companion import companion_diagnostics, is_companion
from .coordinator import EnergyMetersConfigEntry
from .redaction import redact_text, secrets_of
from .site import SiteConfigEntry, is_site, site_diagnostics
from .standalone import StandaloneConfigEntry, is_standalone

TO_REDACT = {CONF_HOST}


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: EnergyMetersConfigEntry
) -> dict[str, Any]:
    """The gateway, its meters, their read plans and their latest readings."""
    if is_companion(entry):  # a heat-pump or thermostat service (URL, token redacted)
        return companion_diagnostics(entry)
    if is_site(entry):  # capacity, role and power of each site meter, totals
        return site_diagnostics(cast("SiteConfigEntry", entry))
    if is_standalone(entry):  # an MQTT or HTTP meter, a guarded sensor
        return cast("StandaloneConfigEntry", entry).runtime_data.diagnostics()
    coordinator = entry.runtime_data
    secrets = secrets_of(entry.data, TO_REDACT)
    meters: dict[str, Any] = {}
    for subentry_id, reader in coordinator.readers.items():
        status = coordinator.statuses[subentry_id]
        reading = status.reading
        meters[subentry_id] = {
            "title": entry.subentries[subentry_id].title,
            "unit_id": reader.unit_id,
            "profile": reader.profile.id,
            "plan": [
                {
                    "function": int(request.function),
                    "address": request.address,
                    "count": request.count,
                    "quantities": [str(spec.quantity) for spec in request.specs],
                }
                for request in reader.plan
            ],
            "available": status.available,
            "consecutive_failures": status.consecutive_failures,
            "failed_polls_total": status.failed_polls_total,
            "last_error": redact_text(status.last_error, secrets),
            "last_success": status.last_success.isoformat()
            if status.last_success
            else None,
            "reading": None
            if reading is None
            else {
                "values": {str(k): v for k, v in reading.values.items()},
                "raw_registers": dict(reading.raw),
                "requests": reading.requests,
                "duration_s": reading.duration_s,
            },
        }
    return {
        "entry": {
            "data": async_redact_data(dict(entry.data), TO_REDACT),
            "options": dict(entry.options),
            "title": "**REDACTED**",
        },
        "missing_profiles": dict(coordinator.missing_profiles),
        "meters": meters,
    }
