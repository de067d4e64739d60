"""A gateway's diagnostics: what was configured, planned and read.

The gateway's host is redacted: it is often a public address or a name that
identifies the household. Raw registers are kept, since they are what a
profile problem is diagnosed from.
"""

from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.const import CONF_HOST

from ..redaction import redact_text, secrets_of
from .coordinator import GatewayConfigEntry

TO_REDACT = {CONF_HOST}


def gateway_diagnostics(entry: GatewayConfigEntry) -> dict[str, Any]:
    """The gateway, its meters, their read plans and their latest readings."""
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
