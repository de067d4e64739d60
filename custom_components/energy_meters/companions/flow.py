"""Config, reconfigure, reauth and options flows for the companion services.

`CompanionConfigFlow` holds the steps; the integration's config flow inherits
them, so the user menu offers "Heat-pump service" and "Thermostat service"
next to "Modbus gateway". Every step tests before it saves: it calls the
service and maps each way that can fail to a message the user can act on
(unreachable, wrong credentials, not that service, an HTML page or broken
JSON, an error answer), with what was seen. A service is configured once per
base URL.
"""

from collections.abc import Mapping
from typing import Any, Final

from homeassistant.components.sensor import SensorDeviceClass
from homeassistant.config_entries import (
    ConfigFlow,
    ConfigFlowResult,
    OptionsFlowWithReload,
)
from homeassistant.const import (
    ATTR_UNIT_OF_MEASUREMENT,
    CONF_ACCESS_TOKEN,
    CONF_URL,
    CONF_VERIFY_SSL,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers.selector import (
    BooleanSelector,
    EntitySelector,
    EntitySelectorConfig,
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)
from homeassistant.util.unit_conversion import PowerConverter
import probatio as vol
from yarl import URL

from ..const import (
    CONF_KIND,
    CONF_POWER_ENTITY,
    CONF_SCAN_INTERVAL,
    DEFAULT_COMPANION_SCAN_INTERVAL,
    KIND_HEAT_PUMP,
    KIND_THERMOSTAT,
    MAX_SCAN_INTERVAL,
    MIN_COMPANION_SCAN_INTERVAL,
)
from ..form_fields import Bounds, has_control_characters, sendable_url
from ..meterlib.companions import (
    CompanionAuthError,
    CompanionConnectionError,
    CompanionError,
    CompanionHttpError,
    CompanionResponseError,
    MalformedPayloadError,
    normalize_base_url,
)
from .coordinator import heat_pump_client, thermostat_client
from .setup import entry_kind

_TITLES = {KIND_HEAT_PUMP: "Heat pump", KIND_THERMOSTAT: "Thermostat"}
_NOT_THERE = {404, 405}  # no such endpoint: another service or web server
_SEEN_LIMIT = 120  # characters of a broken answer shown in the form
SCAN_INTERVAL: Final = Bounds(
    MIN_COMPANION_SCAN_INTERVAL, MAX_SCAN_INTERVAL, unit="s", whole=True
)

SERVICE_SCHEMA = vol.Schema(
    {
        vol.Required(CONF_URL): TextSelector(
            TextSelectorConfig(type=TextSelectorType.URL)
        ),
        vol.Optional(CONF_ACCESS_TOKEN): TextSelector(
            TextSelectorConfig(type=TextSelectorType.PASSWORD)
        ),
        vol.Required(CONF_VERIFY_SSL, default=True): BooleanSelector(),
        vol.Required(
            CONF_SCAN_INTERVAL, default=DEFAULT_COMPANION_SCAN_INTERVAL
        ): SCAN_INTERVAL.selector(),
    }
)

REAUTH_SCHEMA = vol.Schema(
    {
        vol.Optional(CONF_ACCESS_TOKEN): TextSelector(
            TextSelectorConfig(type=TextSelectorType.PASSWORD)
        )
    }
)


def service_unique_id(url: str) -> str:
    """Return one id per service: the base URL, scheme and host lower-cased."""
    parsed = URL(normalize_base_url(url))
    return str(
        parsed.with_scheme(parsed.scheme.lower()).with_host((parsed.host or "").lower())
    )


def service_title(kind: str, url: str) -> str:
    """Return "Heat pump 192.168.1.5:8002", or the like."""
    parsed = URL(url)
    return f"{_TITLES[kind]} {parsed.host}:{parsed.port}"


def _service_url(text: str) -> URL | None:
    """The base URL when a request can be sent to it (see `sendable_url`)."""
    return sendable_url(normalize_base_url(text))


def _service_errors(user_input: Mapping[str, Any]) -> dict[str, str]:
    """What is wrong with the form itself, each on its field, before any call.

    aiohttp refuses, with a ValueError in the middle of the request, a URL
    with a user and password when a token is given too, and a token with a
    line break; the step would answer HTTP 500 and keep the unique id it had
    claimed. A poll interval of 5.5 s is refused rather than cut to 5.
    """
    errors: dict[str, str] = {}
    url = _service_url(str(user_input.get(CONF_URL, "")))
    token = str(user_input.get(CONF_ACCESS_TOKEN) or "").strip()
    if url is None:
        errors[CONF_URL] = "invalid_url"
    if has_control_characters(token):
        errors[CONF_ACCESS_TOKEN] = "invalid_token"
    elif token and url is not None and (url.user, url.password) != (None, None):
        errors[CONF_ACCESS_TOKEN] = "credentials_twice"
    interval = user_input.get(CONF_SCAN_INTERVAL, DEFAULT_COMPANION_SCAN_INTERVAL)
    if SCAN_INTERVAL.read(interval) is None:
        errors[CONF_SCAN_INTERVAL] = "invalid_scan_interval"
    return errors


def _service_data(kind: str, user_input: Mapping[str, Any]) -> dict[str, Any]:
    """Entry data from the form: the URL normalised, an empty token dropped."""
    data: dict[str, Any] = {
        CONF_KIND: kind,
        CONF_URL: normalize_base_url(str(user_input[CONF_URL])),
        CONF_VERIFY_SSL: bool(user_input.get(CONF_VERIFY_SSL, True)),
        CONF_SCAN_INTERVAL: SCAN_INTERVAL.whole_value(
            user_input.get(CONF_SCAN_INTERVAL, DEFAULT_COMPANION_SCAN_INTERVAL)
        ),
    }
    token = str(user_input.get(CONF_ACCESS_TOKEN) or "").strip()
    if token:
        data[CONF_ACCESS_TOKEN] = token
    return data


def _probe_error(err: CompanionError) -> str:
    """Return the translated error key for a failed test call."""
    if isinstance(err, CompanionAuthError):
        return "invalid_auth"
    if isinstance(err, CompanionConnectionError):
        return "service_unreachable"
    if isinstance(err, MalformedPayloadError):
        return "wrong_service"
    if isinstance(err, CompanionResponseError):
        return "invalid_response"
    if isinstance(err, CompanionHttpError) and err.status in _NOT_THERE:
        return "wrong_service"
    return "service_error"


async def async_probe_service(
    hass: HomeAssistant, data: Mapping[str, Any]
) -> tuple[dict[str, str], dict[str, str]]:
    """Call the service once; return errors and the placeholders explaining them.

    The heat pump is asked for `/status` and the thermostat for its config:
    only the right service answers either with the right JSON. (A heat-pump
    service that has not read its pump yet answers 500; the message says so.)
    """
    try:
        if data[CONF_KIND] == KIND_HEAT_PUMP:
            await heat_pump_client(hass, data).status()
        else:
            await thermostat_client(hass, data).config()
    except CompanionError as err:
        return {"base": _probe_error(err)}, {"error": _seen(err)}
    return {}, {}


def _seen(err: CompanionError) -> str:
    """The error, and for an HTML or broken answer the start of what came back.

    "Malformed JSON" alone does not tell a login page from a proxy's error:
    the first characters do. Angle brackets are replaced, so the form shows
    the page's text rather than rendering it.
    """
    text = str(err)
    if isinstance(err, CompanionResponseError) and err.body:
        seen = err.body[:_SEEN_LIMIT].replace("<", "\u2039").replace(">", "\u203a")
        text += f'; the answer began: "{seen}"'
    return text


def _placeholders(extra: Mapping[str, str]) -> dict[str, str]:
    """Every placeholder the translated errors may use, so none renders raw."""
    return {"error": "", **extra}


class CompanionConfigFlow(ConfigFlow):
    """The companion services' steps, inherited by the integration's flow."""

    async def async_step_heat_pump(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Add a heat-pump controller service."""
        return await self._async_step_service(KIND_HEAT_PUMP, user_input)

    async def async_step_thermostat(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Add a thermostat (Shelly BLU) service."""
        return await self._async_step_service(KIND_THERMOSTAT, user_input)

    async def _async_step_service(
        self, kind: str, user_input: dict[str, Any] | None
    ) -> ConfigFlowResult:
        """Where the service is and how to talk to it; tested before saving."""
        errors: dict[str, str] = {}
        placeholders: dict[str, str] = {}
        if user_input is not None:
            errors = _service_errors(user_input)
            if not errors:
                data = _service_data(kind, user_input)
                # Probe first: the other service's URL is "not this service",
                # not "already configured" (the unique id is the URL alone).
                errors, placeholders = await async_probe_service(self.hass, data)
                if not errors:
                    await self.async_set_unique_id(service_unique_id(data[CONF_URL]))
                    self._abort_if_unique_id_configured(
                        error="service_already_configured"
                    )
                    return self.async_create_entry(
                        title=service_title(kind, data[CONF_URL]), data=data
                    )
        return self.async_show_form(
            step_id=kind,
            data_schema=self.add_suggested_values_to_schema(SERVICE_SCHEMA, user_input),
            errors=errors,
            description_placeholders=_placeholders(placeholders),
        )

    async def async_step_reconfigure_service(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change a service's URL, token, TLS check or poll interval; history stays."""
        entry = self._get_reconfigure_entry()
        kind = entry_kind(entry)
        errors: dict[str, str] = {}
        placeholders: dict[str, str] = {}
        if user_input is not None:
            errors = _service_errors(user_input)
            if not errors:
                data = _service_data(kind, user_input)
                unique_id = service_unique_id(data[CONF_URL])
                if unique_id != entry.unique_id:
                    await self.async_set_unique_id(unique_id)
                    self._abort_if_unique_id_configured(
                        error="service_already_configured"
                    )
                errors, placeholders = await async_probe_service(self.hass, data)
                if not errors:
                    return self.async_update_reload_and_abort(
                        entry,
                        unique_id=unique_id,
                        title=service_title(kind, data[CONF_URL]),
                        data=data,
                    )
        return self.async_show_form(
            step_id="reconfigure_service",
            data_schema=self.add_suggested_values_to_schema(
                SERVICE_SCHEMA, user_input or dict(entry.data)
            ),
            errors=errors,
            description_placeholders=_placeholders(placeholders),
        )

    async def async_step_reauth(
        self, entry_data: Mapping[str, Any]
    ) -> ConfigFlowResult:
        """The service refused the token: ask for a new one."""
        return await self.async_step_reauth_confirm()

    async def async_step_reauth_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """A new bearer token (or none), tested before it is saved."""
        entry = self._get_reauth_entry()
        errors: dict[str, str] = {}
        placeholders: dict[str, str] = {}
        if user_input is not None:
            data = {
                key: value
                for key, value in entry.data.items()
                if key != CONF_ACCESS_TOKEN
            }
            token = str(user_input.get(CONF_ACCESS_TOKEN) or "").strip()
            if token:
                data[CONF_ACCESS_TOKEN] = token
            errors = _service_errors(data)
            if not errors:
                errors, placeholders = await async_probe_service(self.hass, data)
            if not errors:
                return self.async_update_reload_and_abort(entry, data=data)
        return self.async_show_form(
            step_id="reauth_confirm",
            data_schema=REAUTH_SCHEMA,
            errors=errors,
            description_placeholders={
                **_placeholders(placeholders),
                "name": entry.title,
            },
        )


class HeatPumpOptionsFlow(OptionsFlowWithReload):
    """Link the meter power sensor in front of the heat pump, for the COP."""

    async def async_step_init(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Go to the one options step."""
        return await self.async_step_power_link(user_input)

    async def async_step_power_link(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Choose the power sensor, or clear it to stop publishing the COP."""
        errors: dict[str, str] = {}
        if user_input is not None:
            entity_id = str(user_input.get(CONF_POWER_ENTITY) or "")
            if entity_id and not _is_power_sensor(self.hass, entity_id):
                errors[CONF_POWER_ENTITY] = "not_power"
            else:
                return self.async_create_entry(
                    data={CONF_POWER_ENTITY: entity_id} if entity_id else {}
                )
        schema = vol.Schema(
            {
                vol.Optional(CONF_POWER_ENTITY): EntitySelector(
                    EntitySelectorConfig(
                        domain="sensor", device_class=SensorDeviceClass.POWER
                    )
                )
            }
        )
        return self.async_show_form(
            step_id="power_link",
            data_schema=self.add_suggested_values_to_schema(
                schema, user_input or dict(self.config_entry.options)
            ),
            errors=errors,
        )


def _is_power_sensor(hass: HomeAssistant, entity_id: str) -> bool:
    """Whether the entity reports a power unit (W, kW…), when it reports one yet."""
    state = hass.states.get(entity_id)
    if state is None:
        return True  # not loaded yet: trust the selector's device-class filter
    unit = state.attributes.get(ATTR_UNIT_OF_MEASUREMENT)
    return unit in PowerConverter.VALID_UNITS
