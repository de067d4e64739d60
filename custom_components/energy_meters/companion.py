"""Setting up, unloading and diagnosing the companion-service entries.

An entry of this integration is one of three kinds: a Modbus gateway (whose
data has no kind: it came first), a heat-pump service or a thermostat
service. `__init__`, the flows, the platforms and diagnostics ask `entry_kind`
and hand companion entries to this module.

Unlike the gateway, a companion entry has no update listener: its options
flow reloads by itself and its reconfigure and reauth flows reload the entry
explicitly.
"""

from typing import Any, cast

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.config_entries import ConfigEntry
from homeassistant.const import CONF_ACCESS_TOKEN, CONF_URL, Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr

from .companion_coordinator import (
    CompanionCoordinator,
    HeatPumpCoordinator,
    ThermostatCoordinator,
)
from .companion_entity import service_identifier
from .const import CONF_KIND, KIND_GATEWAY, KIND_HEAT_PUMP, KIND_THERMOSTAT
from .redaction import redact_text, secrets_of

COMPANION_KINDS = frozenset({KIND_HEAT_PUMP, KIND_THERMOSTAT})

PLATFORMS_BY_KIND: dict[str, list[Platform]] = {
    KIND_HEAT_PUMP: [
        Platform.BINARY_SENSOR,
        Platform.NUMBER,
        Platform.SELECT,
        Platform.SENSOR,
        Platform.SWITCH,
    ],
    KIND_THERMOSTAT: [Platform.CLIMATE, Platform.NUMBER, Platform.SENSOR],
}

_DEVICE_MODELS = {
    KIND_HEAT_PUMP: ("LG", "R290 heat pump (controller service)"),
    KIND_THERMOSTAT: ("Shelly", "BLU H&T thermostat service"),
}

TO_REDACT = {CONF_URL, CONF_ACCESS_TOKEN}


def entry_kind(entry: ConfigEntry) -> str:
    """What an entry configures: gateway, heat pump or thermostat."""
    return str(entry.data.get(CONF_KIND, KIND_GATEWAY))


def is_companion(entry: ConfigEntry) -> bool:
    """Whether an entry is a companion service (not a Modbus gateway)."""
    return entry_kind(entry) in COMPANION_KINDS


async def async_setup_companion_entry(hass: HomeAssistant, entry: ConfigEntry) -> bool:
    """Create the service's device, poll it once and set up its platforms.

    A failed first poll raises (setup is retried), refused credentials start
    a reauthentication flow: both through the coordinator.
    """
    kind = entry_kind(entry)
    manufacturer, model = _DEVICE_MODELS[kind]
    device = dr.async_get(hass).async_get_or_create(
        config_entry_id=entry.entry_id,
        identifiers={service_identifier(entry.entry_id)},
        name=entry.title,
        manufacturer=manufacturer,
        model=model,
        configuration_url=str(entry.data[CONF_URL]),
    )
    coordinator: CompanionCoordinator[Any]
    if kind == KIND_HEAT_PUMP:
        coordinator = HeatPumpCoordinator(hass, entry, device.id)
    else:
        coordinator = ThermostatCoordinator(hass, entry, device.id)
    await coordinator.async_config_entry_first_refresh()
    entry.runtime_data = coordinator
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS_BY_KIND[kind])
    return True


async def async_unload_companion_entry(hass: HomeAssistant, entry: ConfigEntry) -> bool:
    """Remove the entities; the shared HTTP session stays Home Assistant's."""
    return await hass.config_entries.async_unload_platforms(
        entry, PLATFORMS_BY_KIND[entry_kind(entry)]
    )


def companion_diagnostics(entry: ConfigEntry) -> dict[str, Any]:
    """What was configured and last read; the URL and token are redacted.

    The URL often holds a host name that identifies the household, and the
    token is a credential.
    """
    coordinator = cast("CompanionCoordinator[Any]", entry.runtime_data)
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
