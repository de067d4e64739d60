"""A gateway's diagnostics: what was configured, planned and read.

The gateway's host is redacted: it is often a public address or a name that
identifies the household. Raw registers are kept, since they are what a
profile problem is diagnosed from.
"""

from dataclasses import asdict
from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.const import CONF_HOST

from ..meterlib.schedule import IntervalFigures, IntervalLog, plan_fit
from ..redaction import redact_text, secrets_of
from .coordinator import GatewayConfigEntry, GatewayCoordinator

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
            "read_rates": _read_rates(coordinator, subentry_id),
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
        "bus": {
            "utilisation": round(coordinator.arbiter.usage.share(), 4),
            "fast_interval_s": _figures(coordinator.fast.log),
            "full_interval_s": _figures(coordinator.full_log),
            "fit": asdict(plan_fit(coordinator.loads())),
        },
        "meters": meters,
    }


def _figures(log: IntervalLog, meter: str | None = None) -> dict[str, Any] | None:
    """A group's achieved intervals over the last minute, or None before two reads."""
    figures: IntervalFigures | None = log.figures(meter)
    return None if figures is None else asdict(figures)


def _read_rates(coordinator: GatewayCoordinator, subentry_id: str) -> dict[str, Any]:
    """A meter's fast group, what its reads cost and the intervals they achieve."""
    reader = coordinator.readers[subentry_id]
    fast = coordinator.fast.meters.get(subentry_id)
    return {
        "fast_quantities": sorted(str(q) for q in reader.fast_quantities),
        "fast_interval_s": fast.interval_s if fast else None,
        "fast_plan": [
            {"function": int(r.function), "address": r.address, "count": r.count}
            for r in reader.fast_plan
        ],
        "fast_read_bus_s": fast.cost.seconds if fast else None,
        "full_read_bus_s": coordinator.full_costs[subentry_id].seconds,
        "achieved_fast_interval_s": _figures(coordinator.fast.log, subentry_id),
        "achieved_full_interval_s": _figures(coordinator.full_log, subentry_id),
    }
