"""Starting and diagnosing the companion-service entries.

A companion entry is a heat-pump or a thermostat service; the kinds table
(`kinds.py`) tells them from the other kinds by the "kind" in their data and
hands them to this module.

Unlike the gateway, a companion entry has no update listener: its options
flow reloads by itself and its reconfigure and reauth flows reload the entry
explicitly.
"""

from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.config_entries import ConfigEntry
from homeassistant.const import CONF_ACCESS_TOKEN, CONF_URL
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr

from ..const import KIND_HEAT_PUMP, KIND_THERMOSTAT, stored_kind
from ..redaction import redact_text, secrets_of
from .coordinator import (
    CompanionCoordinator,
    HeatPumpConfigEntry,
    HeatPumpCoordinator,
    ThermostatConfigEntry,
    ThermostatCoordinator,
)
from .entity import service_identifier

_DEVICE_MODELS = {
    KIND_HEAT_PUMP: ("LG", "R290 heat pump (controller service)"),
    KIND_THERMOSTAT: ("Shelly", "BLU H&T thermostat service"),
}

TO_REDACT = {CONF_URL, CONF_ACCESS_TOKEN}


def entry_kind(entry: ConfigEntry) -> str:
    """What an entry configures: gateway, heat pump, thermostat, ..."""
    return stored_kind(entry.data)


def _service_device(hass: HomeAssistant, entry: ConfigEntry) -> str:
    """Create (or find) the service's device; returns its id."""
    manufacturer, model = _DEVICE_MODELS[entry_kind(entry)]
    device = dr.async_get(hass).async_get_or_create(
        config_entry_id=entry.entry_id,
        identifiers={service_identifier(entry.entry_id)},
        name=entry.title,
        manufacturer=manufacturer,
        model=model,
        configuration_url=str(entry.data[CONF_URL]),
    )
    return device.id


async def async_start_heat_pump(
    hass: HomeAssistant, entry: HeatPumpConfigEntry
) -> HeatPumpCoordinator:
    """Create the service's device and poll it once.

    A failed first poll raises (setup is retried), refused credentials start
    a reauthentication flow: both through the coordinator.
    """
    coordinator = HeatPumpCoordinator(hass, entry, _service_device(hass, entry))
    await coordinator.async_config_entry_first_refresh()
    return coordinator


async def async_start_thermostat(
    hass: HomeAssistant, entry: ThermostatConfigEntry
) -> ThermostatCoordinator:
    """Create the service's device and poll it once (as for a heat pump)."""
    coordinator = ThermostatCoordinator(hass, entry, _service_device(hass, entry))
    await coordinator.async_config_entry_first_refresh()
    return coordinator


def companion_diagnostics[C: CompanionCoordinator[Any]](
    entry: ConfigEntry[C],
) -> dict[str, Any]:
    """What was configured and last read; the URL and token are redacted.

    The URL often holds a host name that identifies the household, and the
    token is a credential.
    """
    coordinator = entry.runtime_data
    secrets = secrets_of(entry.data, TO_REDACT)
    return {
        "entry": {
            "kind": entry_kind(entry),
            "data": async_redact_data(dict(entry.data), TO_REDACT),
            "options": dict(entry.options),
            "title": "**REDACTED**",
        },
        "last_update_success": coordinator.last_update_success,
        "last_exception": redact_text(_explained(coordinator.last_exception), secrets),
        "failing_parts": {
            part: redact_text(str(error), secrets)
            for part, error in coordinator.part_errors.items()
        },
        "pending_writes": {
            key: _as_plain(pending.value)
            for key, pending in coordinator.pending.items()
        },
        "data": _as_plain(coordinator.data),
    }


def _explained(err: BaseException | None) -> str | None:
    """The failure and its cause, in words: "UpdateFailed(...)" alone says nothing."""
    if err is None:
        return None
    cause = err.__cause__
    if cause is None:
        return f"{type(err).__name__}: {err}"
    return f"{type(err).__name__}: {type(cause).__name__}: {cause}"


def _as_plain(value: Any) -> Any:
    """Dataclasses, enums, datetimes and mappings as JSON-friendly values."""
    if hasattr(value, "__dataclass_fields__"):
        return {
            name: _as_plain(getattr(value, name))
            for name in value.__dataclass_fields__
            if name != "raw"
        }
    if isinstance(value, dict):
        return {str(key): _as_plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_as_plain(item) for item in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value
