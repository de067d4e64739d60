"""The gateway's link: a unit on Home Assistant's shared `modbus` connection.

Home Assistant's `modbus` integration keeps one connection per device and
hands out units on it (`async_get_unit` for a config entry,
`async_get_temporary_unit` for a config flow). Everyone reading a device on
one gateway (this integration, an inverter's, a heat pump's) thus takes
turns on one connection instead of two masters fighting over one bus, and
the link shows in Settings → Connectivity → Modbus with who uses it.

Two users asking for the same endpoint with other link settings (Modbus TCP
against RTU over TCP on one port, or another baud rate on one serial port)
cannot share it; the connection refuses the second, and this module names
the holder so the user knows which setting to change where.
"""

from collections.abc import AsyncIterator, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

from homeassistant.components.modbus import async_get_temporary_unit, async_get_unit
from homeassistant.components.modbus.connection import async_get_connection_info
from homeassistant.config_entries import ConfigEntry
from homeassistant.const import CONF_HOST, CONF_PORT
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ConfigEntryError, HomeAssistantError
from homeassistant.loader import async_get_loaded_integration

from ..const import CONF_FRAMING, CONF_TIMEOUT, DOMAIN
from ..meterlib.transport import (
    Framing,
    LinkParams,
    ModbusTransport,
    ModbusUnitLink,
    SerialTransport,
    UnitSource,
)
from .serial_gateway import is_serial, serial_settings


class LinkInUseError(Exception):
    """The gateway's endpoint is held by someone else with other link settings."""

    def __init__(self, holder: str) -> None:
        """Keep who holds it, for the message."""
        super().__init__(f"in use with other link settings by {holder}")
        self.holder = holder


def transport_for(
    data: Mapping[str, Any], units: UnitSource | None = None
) -> ModbusTransport:
    """A transport for a gateway entry's data, reading through `units`.

    Without `units`, the transport opens a link of its own (used only to
    test that a gateway answers before anything holds a unit on it).
    """
    timeout = float(str(data[CONF_TIMEOUT]))
    if is_serial(data):
        return SerialTransport(serial_settings(data), timeout, units=units)
    return ModbusTransport(
        host=str(data[CONF_HOST]),
        port=int(str(data[CONF_PORT])),
        framing=Framing(str(data[CONF_FRAMING])),
        timeout=timeout,
        units=units,
    )


def link_params(data: Mapping[str, Any]) -> LinkParams:
    """The link parameters of a gateway entry's data."""
    return transport_for(data).params


def link_holder(
    hass: HomeAssistant, params: LinkParams, exclude: str | None = None
) -> str | None:
    """Who holds the endpoint of `params` with other link settings, or None.

    Named by entry title and integration, as Settings → Connectivity → Modbus
    lists them; `exclude` leaves out an entry of ours being reconfigured.
    """
    for info in async_get_connection_info(hass):
        if info.endpoint != params.endpoint:
            continue
        names: list[str] = []
        for entry_id in info.units:
            if entry_id == exclude:
                continue
            entry = hass.config_entries.async_get_entry(entry_id)
            if entry is None:
                continue
            names.append(f"{entry.title} ({_integration_name(hass, entry)})")
        return ", ".join(names) if names else None
    return None


def _integration_name(hass: HomeAssistant, entry: ConfigEntry) -> str:
    """The integration's name as the UI shows it, or its domain."""
    try:
        return async_get_loaded_integration(hass, entry.domain).name
    except Exception:  # noqa: BLE001 (a name for a message; the domain will do)
        return entry.domain


def entry_transport(hass: HomeAssistant, entry: ConfigEntry) -> ModbusTransport:
    """The transport of a gateway entry: units on the shared connection.

    Each unit is held for the entry until it unloads (Home Assistant ties the
    release to the entry), and the connection closes behind its last holder.
    """
    params = link_params(entry.data)

    def units(unit_id: int) -> ModbusUnitLink:
        return async_get_unit(hass, entry, params, unit_id)

    return transport_for(entry.data, units)


def hold_units(
    hass: HomeAssistant,
    entry: ConfigEntry,
    transport: ModbusTransport,
    unit_ids: set[int],
) -> None:
    """Take the entry's units now; a link-settings conflict fails the setup.

    Raises a translated ConfigEntryError naming the holder: retrying cannot
    help until one side's settings change.
    """
    try:
        for unit_id in sorted(unit_ids):
            transport.unit(unit_id)
    except HomeAssistantError as err:
        holder = link_holder(hass, transport.params, exclude=entry.entry_id)
        raise ConfigEntryError(
            translation_domain=DOMAIN,
            translation_key="link_in_use",
            translation_placeholders={
                "endpoint": transport.endpoint,
                "holder": holder or "another integration",
            },
        ) from err


@asynccontextmanager
async def async_temporary_transport(
    hass: HomeAssistant, data: Mapping[str, Any], unit_id: int
) -> AsyncIterator[ModbusTransport]:
    """A transport for a config flow's test read of one unit.

    The unit is held on the shared connection for the read: a gateway that
    is already in use (by a loaded entry of ours, or another integration)
    is read over that same connection, never a second one. Raises
    LinkInUseError when the endpoint is held with other link settings.
    """
    params = link_params(data)
    async with AsyncExitStack() as stack:
        try:
            unit = await stack.enter_async_context(
                async_get_temporary_unit(hass, params, unit_id)
            )
        except HomeAssistantError as err:
            holder = link_holder(hass, params) or "another integration"
            raise LinkInUseError(holder) from err

        def units(asked: int) -> ModbusUnitLink:
            if asked != unit_id:
                msg = f"the flow holds unit {unit_id}, not {asked}"
                raise ValueError(msg)
            return unit

        yield transport_for(data, units)


async def async_link_conflict(
    hass: HomeAssistant, data: Mapping[str, Any], exclude: str | None = None
) -> str | None:
    """Who would refuse these link settings on the endpoint, or None.

    The connection compares settings only when a unit is asked for; the
    flow asks before anything is read, to put the error on the gateway form.
    A conflict with only `exclude` (the entry being reconfigured, whose
    holds go when it reloads) is none.
    """
    params = link_params(data)
    try:
        async with async_get_temporary_unit(hass, params, 1):
            return None
    except HomeAssistantError:
        holders = {
            entry_id
            for info in async_get_connection_info(hass)
            if info.endpoint == params.endpoint
            for entry_id in info.units
        }
        if exclude is not None and holders == {exclude}:
            return None
        return link_holder(hass, params, exclude=exclude) or "another integration"


def shared_link_up(hass: HomeAssistant, data: Mapping[str, Any]) -> bool:
    """Whether a shared connection to this gateway is open and up.

    Then the gateway answers, and a second connection to test it could be
    refused by a gateway that takes one client, or knock the holder off.
    """
    params = link_params(data)
    return any(
        info.endpoint == params.endpoint and info.connected
        for info in async_get_connection_info(hass)
    )
