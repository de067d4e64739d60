"""The gateway's flow: a gateway entry, with each meter behind it as a subentry.

Every step tests before it saves: the gateway step opens the connection, the
meter step reads the meter with the chosen profile and checks that what came
back makes physical sense. Each failure is reported on the field the user has
to change, with what was read, so a wrong unit id or word order is found in
the dialog rather than in a graph a week later.
"""

from collections.abc import Mapping
from typing import Any, Final

from homeassistant.config_entries import (
    ConfigEntry,
    ConfigFlow,
    ConfigFlowResult,
    ConfigSubentryData,
    ConfigSubentryFlow,
    OptionsFlow,
    SubentryFlowResult,
)
from homeassistant.const import CONF_DEVICE, CONF_HOST, CONF_NAME, CONF_PORT
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import AbortFlow
from homeassistant.helpers.selector import (
    SelectOptionDict,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TextSelector,
)
import probatio as vol

from ..const import (
    CONF_CONFIRMATIONS,
    CONF_FRAMING,
    CONF_MAX_POWER_KW,
    CONF_PROFILE,
    CONF_SCAN_INTERVAL,
    CONF_TIMEOUT,
    CONF_UNIT_ID,
    DEFAULT_CONFIRMATIONS,
    DEFAULT_MAX_POWER_KW,
    DEFAULT_PORT,
    DEFAULT_SCAN_INTERVAL,
    DEFAULT_TIMEOUT,
    MAX_SCAN_INTERVAL,
    MIN_SCAN_INTERVAL,
    SECTION_DATA_QUALITY,
    SUBENTRY_METER,
)
from ..form_fields import PORT, TIMEOUT, UNIT_ID, Bounds, clean_name, could_resolve
from ..meterlib.model import Profile
from ..meterlib.profiles import DEFAULT_PROFILE_ID
from ..meterlib.reader import MeterReader, implausible_values
from ..meterlib.transport import (
    SERVER_DEVICE_FAILURE,
    Framing,
    GatewayPathError,
    GatewayUnreachableError,
    ModbusExceptionError,
    ModbusTransport,
    NoResponseError,
)
from ..quality_section import data_quality_section, quality_data, quality_errors
from ..roles import CONF_ROLE, DEFAULT_ROLE, meter_role, role_selector
from ..signals import (
    SECTION_SIGNALS,
    signal_data,
    signal_errors,
    signal_suggestions,
    signals_section,
)
from ..translated import async_default_meter_name
from .link import (
    LinkInUseError,
    async_link_conflict,
    async_temporary_transport,
    shared_link_up,
    transport_for,
)
from .network import async_resolve_host
from .profiles import async_load_profiles
from .read_rates import (
    SECTION_READ_RATES,
    read_rates_data,
    read_rates_errors,
    read_rates_section,
)
from .serial_gateway import (
    async_serial_schema,
    is_serial,
    serial_data,
    serial_errors,
    suggested_values,
)
from .setup_reads import remember_test_read

GATEWAY_SCHEMA = vol.Schema(
    {
        vol.Required(CONF_HOST): TextSelector(),
        vol.Required(CONF_PORT, default=DEFAULT_PORT): PORT.selector(),
        vol.Required(CONF_FRAMING, default=Framing.TCP.value): SelectSelector(
            SelectSelectorConfig(
                options=[
                    framing.value
                    for framing in Framing
                    if framing is not Framing.SERIAL
                ],
                translation_key=CONF_FRAMING,
                mode=SelectSelectorMode.LIST,
            )
        ),
        vol.Required(CONF_TIMEOUT, default=DEFAULT_TIMEOUT): TIMEOUT.selector(),
    }
)

SCAN_INTERVAL: Final = Bounds(
    MIN_SCAN_INTERVAL, MAX_SCAN_INTERVAL, unit="s", whole=True
)


async def _async_meter_schema(
    hass: HomeAssistant, profiles: Mapping[str, Profile]
) -> vol.Schema:
    """The meter form, offering every known profile in a dropdown.

    The default name is the translated "Energy meter" of Home Assistant's
    language (a default is a value, which the frontend does not translate);
    built-in profiles' names are translated by the selector, user profiles
    show the name their file gives.

    The role defaults to zone, the role that changes no site total (see
    roles.py); the load and grid thresholds sit in a collapsed section with
    the Grafana panels' bands as defaults (see signals.py).
    """
    options = [
        SelectOptionDict(value=profile.id, label=profile.name)
        for profile in sorted(profiles.values(), key=lambda p: p.name.lower())
    ]
    return vol.Schema(
        {
            vol.Required(CONF_UNIT_ID, default=1): UNIT_ID.selector(),
            vol.Required(CONF_PROFILE, default=DEFAULT_PROFILE_ID): SelectSelector(
                SelectSelectorConfig(
                    options=options,
                    mode=SelectSelectorMode.DROPDOWN,
                    translation_key=CONF_PROFILE,
                )
            ),
            vol.Required(
                CONF_NAME, default=await async_default_meter_name(hass)
            ): TextSelector(),
            vol.Required(CONF_ROLE, default=DEFAULT_ROLE.value): role_selector(),
            vol.Optional(SECTION_SIGNALS): signals_section(),
            vol.Optional(SECTION_DATA_QUALITY): data_quality_section(),
            vol.Optional(SECTION_READ_RATES): read_rates_section(),
        }
    )


def _host(user_input: Mapping[str, Any]) -> str:
    """The host as it is saved: host names are case-insensitive."""
    return str(user_input[CONF_HOST]).strip().lower()


def _gateway_errors(user_input: Mapping[str, Any]) -> dict[str, str]:
    """What is wrong with the gateway form itself, before anything is asked.

    A host no resolver could take is refused here, so it never reaches the
    resolver or the Modbus link (which raise more than OSError for such names).
    """
    errors: dict[str, str] = {}
    host = _host(user_input)
    if not host:
        errors[CONF_HOST] = "invalid_host"
    elif not could_resolve(host):
        errors[CONF_HOST] = "unknown_host"
    if PORT.read(user_input.get(CONF_PORT)) is None:
        errors[CONF_PORT] = "invalid_port"
    if TIMEOUT.read(user_input.get(CONF_TIMEOUT)) is None:
        errors[CONF_TIMEOUT] = "invalid_timeout"
    return errors


def _gateway_data(user_input: Mapping[str, Any]) -> dict[str, Any]:
    """Normalise the gateway form (checked by `_gateway_errors`) into entry data."""
    return {
        CONF_HOST: _host(user_input),
        CONF_PORT: PORT.whole_value(user_input[CONF_PORT]),
        CONF_FRAMING: str(user_input[CONF_FRAMING]),
        CONF_TIMEOUT: TIMEOUT.value(user_input[CONF_TIMEOUT]),
    }


def _gateway_title(data: Mapping[str, Any]) -> str:
    """The entry's name in the list: the endpoint as the user wrote it."""
    if is_serial(data):
        return str(data[CONF_DEVICE])
    return f"{data[CONF_HOST]}:{data[CONF_PORT]}"


async def _async_gateway_unique_id(
    hass: HomeAssistant, data: Mapping[str, Any]
) -> str | None:
    """One entry per gateway, by what it is, not how its host was spelled.

    Two entries for one endpoint would poll one bus twice and the Site would
    count its meters twice, so `localhost`, `127.0.0.1` and a host name must
    all lead to the same id: the resolved address (IPv4 first, as the
    connection prefers it) and the port. A serial gateway is its device path.
    None when the host does not resolve.
    """
    if is_serial(data):
        return str(data[CONF_DEVICE])
    addresses = await async_resolve_host(hass, str(data[CONF_HOST]))
    if not addresses:
        return None
    return f"{addresses[0]}:{data[CONF_PORT]}"


def _is_network_gateway(data: Mapping[str, Any]) -> bool:
    """Whether an entry's data is a TCP gateway (not serial, not another kind)."""
    return CONF_FRAMING in data and CONF_HOST in data and not is_serial(data)


def _meter_unique_id(unit_id: int) -> str:
    """One subentry per unit id on a gateway: a bus address answers once."""
    return str(unit_id)


async def _async_check_gateway(
    hass: HomeAssistant, data: Mapping[str, Any], exclude: str | None = None
) -> tuple[dict[str, str], dict[str, str]]:
    """Check the gateway answers; errors keyed by field, and their placeholders.

    Held by someone else with other link settings: say who. Held and up:
    it answers, and no second connection is opened beside the shared one.
    Otherwise a connection is opened (and closed) to test it.
    """
    holder = await async_link_conflict(hass, data, exclude)
    if holder is not None:
        return {"base": "link_in_use"}, {"holder": holder}
    if shared_link_up(hass, data):
        return {}, {}
    transport = transport_for(data)
    try:
        await transport.check_connection()
    except GatewayUnreachableError as err:
        if is_serial(data):
            return {CONF_DEVICE: "cannot_open_serial"}, {"error": str(err)}
        return {"base": "cannot_connect"}, {}
    finally:
        await transport.close()
    return {}, {}


async def _async_probe_unit(
    hass: HomeAssistant, data: Mapping[str, Any], unit_id: int, profile: Profile
) -> tuple[dict[str, str], dict[str, str]]:
    """Read the meter over a unit held for the flow on the shared connection."""
    try:
        async with async_temporary_transport(hass, data, unit_id) as transport:
            return await _async_probe_meter(hass, transport, unit_id, profile)
    except LinkInUseError as err:
        return {"base": "link_in_use"}, {"holder": err.holder}


async def _async_probe_meter(
    hass: HomeAssistant, transport: ModbusTransport, unit_id: int, profile: Profile
) -> tuple[dict[str, str], dict[str, str]]:
    """Read the meter once; return errors (by field) and placeholders to explain them.

    A good read is kept for the meter's first poll (setup_reads.py).
    """
    try:
        reading = await MeterReader(transport, unit_id, profile).read()
    except GatewayUnreachableError:
        return {"base": "cannot_connect"}, {}
    except GatewayPathError:
        return {CONF_UNIT_ID: "gateway_path"}, {}
    except NoResponseError:
        return {CONF_UNIT_ID: "no_response"}, {
            "unit_id": str(unit_id),
            "timeout": f"{transport.timeout:g}",
        }
    except ModbusExceptionError as err:
        return _refusal_error(err)
    wrong = implausible_values(profile, reading.values)
    if wrong:
        readings = ", ".join(
            f"{item.quantity} = {item.value:g}"
            if item.value is not None
            else f"{item.quantity} = n/a"
            for item in wrong
        )
        expected = ", ".join(
            f"{item.quantity} {item.expected.minimum:g}…{item.expected.maximum:g}"
            for item in wrong
        )
        return {CONF_PROFILE: "implausible"}, {
            "readings": readings,
            "expected": expected,
        }
    remember_test_read(hass, transport.endpoint, unit_id, dict(reading.values))
    return {}, {}


def _refusal_error(err: ModbusExceptionError) -> tuple[dict[str, str], dict[str, str]]:
    """A Modbus exception, on the field the user has to change.

    Exception 2 and 3 (no such register, bad value) mean the profile asks for
    registers this meter does not have; 4 is the meter's own failure, which no
    profile fixes. The link library's text is for developers: the form names the code
    and the register instead.
    """
    placeholders = {"code": str(err.code), "address": str(err.address)}
    if err.code == SERVER_DEVICE_FAILURE:
        return {CONF_UNIT_ID: "device_failure"}, placeholders
    return {CONF_PROFILE: "modbus_exception"}, placeholders


def _placeholders(extra: Mapping[str, str]) -> dict[str, str]:
    """Every placeholder the translated errors may use, so none renders raw."""
    return {
        "error": "",
        "readings": "",
        "expected": "",
        "unit_id": "",
        "timeout": "",
        "code": "",
        "address": "",
        "holder": "",
        **extra,
    }


def _meter_form_errors(
    user_input: Mapping[str, Any], profiles: Mapping[str, Profile]
) -> dict[str, str]:
    """What is wrong with the meter form itself, before the meter is read.

    The profile is looked up again: a user profile can be deleted (or its
    file broken) while the form is open, and the dropdown still offered it.
    """
    errors: dict[str, str] = {}
    if UNIT_ID.read(user_input.get(CONF_UNIT_ID)) is None:
        errors[CONF_UNIT_ID] = "invalid_unit_id"
    if user_input.get(CONF_PROFILE) not in profiles:
        errors[CONF_PROFILE] = "unknown_profile"
    if clean_name(user_input.get(CONF_NAME)) is None:
        errors[CONF_NAME] = "invalid_name"
    return {
        **errors,
        **quality_errors(user_input),
        **signal_errors(user_input),
        **read_rates_errors(user_input),
    }


def _meter_title(user_input: Mapping[str, Any]) -> str:
    """The meter's name as saved (checked by `_meter_form_errors`)."""
    return clean_name(user_input.get(CONF_NAME)) or ""


def _meter_subentry_data(user_input: Mapping[str, Any]) -> dict[str, Any]:
    """Flatten the meter form into subentry data (filter settings, role, thresholds)."""
    return {
        CONF_UNIT_ID: UNIT_ID.whole_value(user_input[CONF_UNIT_ID]),
        CONF_PROFILE: str(user_input[CONF_PROFILE]),
        **quality_data(user_input.get(SECTION_DATA_QUALITY)),
        CONF_ROLE: meter_role(user_input).value,
        **signal_data(user_input),
        **read_rates_data(user_input.get(SECTION_READ_RATES)),
    }


class GatewayConfigFlow(ConfigFlow):
    """The gateway's steps: set up a gateway and the first meter behind it.

    Inherited by the integration's flow (config_flow.py), like the other kinds'.
    """

    def __init__(self) -> None:
        """Start with no gateway chosen."""
        self._gateway: dict[str, Any] = {}

    async def _async_claim_gateway(
        self, data: Mapping[str, Any], current: ConfigEntry | None = None
    ) -> str | None:
        """Take the gateway's unique id; abort if another entry already has it.

        Entries saved before ids were resolved carry the host as it was typed,
        so every other network gateway's address is resolved too: the check
        is by what the gateway is, whichever spelling either entry used.
        None when the host does not resolve (nothing to compare).
        """
        unique_id = await _async_gateway_unique_id(self.hass, data)
        if unique_id is None or (current and unique_id == current.unique_id):
            return unique_id
        await self.async_set_unique_id(unique_id)
        self._abort_if_unique_id_configured()
        for other in self._async_current_entries(include_ignore=False):
            if other is current or not _is_network_gateway(other.data):
                continue
            if await _async_gateway_unique_id(self.hass, other.data) == unique_id:
                raise AbortFlow("already_configured")
        return unique_id

    async def async_step_gateway(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Where the gateway is and how it frames Modbus."""
        errors: dict[str, str] = {}
        placeholders: dict[str, str] = {}
        if user_input is not None:
            errors = _gateway_errors(user_input)
        if user_input is not None and not errors:
            data = _gateway_data(user_input)
            if await self._async_claim_gateway(data) is None:
                errors = {CONF_HOST: "unknown_host"}
            else:
                errors, placeholders = await _async_check_gateway(self.hass, data)
            if not errors:
                self._gateway = data
                return await self.async_step_meter()
        return self.async_show_form(
            step_id="gateway",
            data_schema=self.add_suggested_values_to_schema(GATEWAY_SCHEMA, user_input),
            errors=errors,
            description_placeholders=_placeholders(placeholders),
        )

    async def async_step_serial(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """An RS-485 adapter on this machine: its port and line settings."""
        errors: dict[str, str] = {}
        placeholders: dict[str, str] = {}
        if user_input is not None:
            errors = serial_errors(user_input)
        if user_input is not None and not errors:
            data = serial_data(user_input)
            await self._async_claim_gateway(data)
            errors, placeholders = await _async_check_gateway(self.hass, data)
            if not errors:
                self._gateway = data
                return await self.async_step_meter()
        return self.async_show_form(
            step_id="serial",
            data_schema=self.add_suggested_values_to_schema(
                await async_serial_schema(self.hass),
                suggested_values(user_input) if user_input else None,
            ),
            errors=errors,
            description_placeholders=_placeholders(placeholders),
        )

    async def async_step_meter(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """The first meter: read it before anything is saved."""
        profiles = (await async_load_profiles(self.hass)).profiles
        errors: dict[str, str] = {}
        placeholders: dict[str, str] = {}
        if user_input is not None and CONF_UNIT_ID in user_input:
            errors = _meter_form_errors(user_input, profiles)
        if user_input is not None and CONF_UNIT_ID in user_input and not errors:
            meter = _meter_subentry_data(user_input)
            errors, placeholders = await _async_probe_unit(
                self.hass,
                self._gateway,
                meter[CONF_UNIT_ID],
                profiles[meter[CONF_PROFILE]],
            )
            if not errors:
                return self.async_create_entry(
                    title=_gateway_title(self._gateway),
                    data=self._gateway,
                    options={CONF_SCAN_INTERVAL: DEFAULT_SCAN_INTERVAL},
                    subentries=[
                        ConfigSubentryData(
                            data=meter,
                            subentry_type=SUBENTRY_METER,
                            title=_meter_title(user_input),
                            unique_id=_meter_unique_id(meter[CONF_UNIT_ID]),
                        )
                    ],
                )
        return self.async_show_form(
            step_id="meter",
            data_schema=self.add_suggested_values_to_schema(
                await _async_meter_schema(self.hass, profiles), user_input
            ),
            errors=errors,
            description_placeholders=_placeholders(placeholders),
        )

    async def async_reconfigure_gateway(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change the gateway's address, framing or timeout; meters stay."""
        entry = self._get_reconfigure_entry()
        if is_serial(entry.data):
            return await self.async_step_reconfigure_serial(user_input)
        errors: dict[str, str] = {}
        placeholders: dict[str, str] = {}
        if user_input is not None:
            errors = _gateway_errors(user_input)
        if user_input is not None and not errors:
            data = _gateway_data(user_input)
            unique_id = await self._async_claim_gateway(data, entry)
            if unique_id is None:
                errors = {CONF_HOST: "unknown_host"}
            else:
                errors, placeholders = await _async_check_gateway(
                    self.hass, data, exclude=entry.entry_id
                )
            if not errors:
                return self.async_update_and_abort(
                    entry, unique_id=unique_id, title=_gateway_title(data), data=data
                )
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=self.add_suggested_values_to_schema(
                GATEWAY_SCHEMA, user_input or dict(entry.data)
            ),
            errors=errors,
            description_placeholders=_placeholders(placeholders),
        )

    async def async_step_reconfigure_serial(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change a serial gateway's port or line settings; meters stay."""
        entry = self._get_reconfigure_entry()
        errors: dict[str, str] = {}
        placeholders: dict[str, str] = {}
        if user_input is not None:
            errors = serial_errors(user_input)
        if user_input is not None and not errors:
            data = serial_data(user_input)
            unique_id = await self._async_claim_gateway(data, entry)
            # The port the running poller holds open is not opened a second
            # time: held and up, it is there (see _async_check_gateway).
            errors, placeholders = await _async_check_gateway(
                self.hass, data, exclude=entry.entry_id
            )
            if not errors:
                return self.async_update_and_abort(
                    entry, unique_id=unique_id, title=_gateway_title(data), data=data
                )
        return self.async_show_form(
            step_id="reconfigure_serial",
            data_schema=self.add_suggested_values_to_schema(
                await async_serial_schema(self.hass),
                suggested_values(user_input or entry.data),
            ),
            errors=errors,
            description_placeholders=_placeholders(placeholders),
        )


class MeterSubentryFlow(ConfigSubentryFlow):
    """Add a meter to a gateway, or change one."""

    async def _async_probe(
        self, unit_id: int, profile: Profile
    ) -> tuple[dict[str, str], dict[str, str]]:
        """Read the meter over the shared connection to the gateway.

        Many gateways accept a single client: a second connection for the test
        read could be refused, or knock the running poller off the bus. The
        unit held for the flow is on the poller's connection when it runs.
        """
        return await _async_probe_unit(
            self.hass, self._get_entry().data, unit_id, profile
        )

    def _unit_taken(self, unit_id: int, exclude: str | None = None) -> bool:
        """Whether another meter of this gateway already uses the unit id."""
        return any(
            subentry.unique_id == _meter_unique_id(unit_id)
            and subentry.subentry_id != exclude
            for subentry in self._get_entry().subentries.values()
            if subentry.subentry_type == SUBENTRY_METER
        )

    async def async_step_user(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Add a meter behind this gateway."""
        profiles = (await async_load_profiles(self.hass)).profiles
        errors: dict[str, str] = {}
        placeholders: dict[str, str] = {}
        if user_input is not None:
            errors = _meter_form_errors(user_input, profiles)
        if user_input is not None and not errors:
            meter = _meter_subentry_data(user_input)
            if self._unit_taken(meter[CONF_UNIT_ID]):
                return self.async_abort(reason="already_configured")
            errors, placeholders = await self._async_probe(
                meter[CONF_UNIT_ID], profiles[meter[CONF_PROFILE]]
            )
            if not errors:
                return self.async_create_entry(
                    title=_meter_title(user_input),
                    data=meter,
                    unique_id=_meter_unique_id(meter[CONF_UNIT_ID]),
                )
        return self.async_show_form(
            step_id="user",
            data_schema=self.add_suggested_values_to_schema(
                await _async_meter_schema(self.hass, profiles), user_input
            ),
            errors=errors,
            description_placeholders=_placeholders(placeholders),
        )

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Change a meter's unit id, profile or name; its history stays."""
        subentry = self._get_reconfigure_subentry()
        profiles = (await async_load_profiles(self.hass)).profiles
        errors: dict[str, str] = {}
        placeholders: dict[str, str] = {}
        if user_input is not None:
            errors = _meter_form_errors(user_input, profiles)
        if user_input is not None and not errors:
            meter = _meter_subentry_data(user_input)
            unit_id = meter[CONF_UNIT_ID]
            if self._unit_taken(unit_id, exclude=subentry.subentry_id):
                return self.async_abort(reason="already_configured")
            errors, placeholders = await self._async_probe(
                unit_id, profiles[meter[CONF_PROFILE]]
            )
            if not errors:
                return self.async_update_and_abort(
                    self._get_entry(),
                    subentry,
                    title=_meter_title(user_input),
                    data=meter,
                    unique_id=_meter_unique_id(unit_id),
                )
        current = {
            CONF_UNIT_ID: subentry.data[CONF_UNIT_ID],
            CONF_PROFILE: subentry.data[CONF_PROFILE],
            CONF_NAME: subentry.title,
            CONF_ROLE: meter_role(subentry.data).value,
            SECTION_SIGNALS: signal_suggestions(subentry.data),
            SECTION_DATA_QUALITY: {
                CONF_MAX_POWER_KW: subentry.data.get(
                    CONF_MAX_POWER_KW, DEFAULT_MAX_POWER_KW
                ),
                CONF_CONFIRMATIONS: subentry.data.get(
                    CONF_CONFIRMATIONS, DEFAULT_CONFIRMATIONS
                ),
            },
            SECTION_READ_RATES: read_rates_data(subentry.data),
        }
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=self.add_suggested_values_to_schema(
                await _async_meter_schema(self.hass, profiles), user_input or current
            ),
            errors=errors,
            description_placeholders=_placeholders(placeholders),
        )


class GatewayOptionsFlow(OptionsFlow):
    """How often the gateway's meters are polled."""

    async def async_step_init(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """One setting: the poll interval in seconds."""
        errors: dict[str, str] = {}
        if user_input is not None:
            seconds = SCAN_INTERVAL.read(user_input.get(CONF_SCAN_INTERVAL))
            if seconds is not None:
                return self.async_create_entry(data={CONF_SCAN_INTERVAL: int(seconds)})
            errors[CONF_SCAN_INTERVAL] = "invalid_scan_interval"
        schema = vol.Schema(
            {
                vol.Required(
                    CONF_SCAN_INTERVAL, default=DEFAULT_SCAN_INTERVAL
                ): SCAN_INTERVAL.selector()
            }
        )
        return self.async_show_form(
            step_id="init",
            data_schema=self.add_suggested_values_to_schema(
                schema, user_input or dict(self.config_entry.options)
            ),
            errors=errors,
        )
