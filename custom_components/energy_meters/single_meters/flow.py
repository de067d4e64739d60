"""Adding and changing the meters that are not on Modbus.

`SingleMeterConfigFlow` holds the steps; the integration's config flow
inherits them, so the user menu offers "MQTT meter", "HTTP meter" and
"Guard an existing sensor" next to the gateways and services. As everywhere
in this integration, a step tests before it saves where there is something
to test: the HTTP meter is read once, and when its answer cannot be read the
form shows the answer itself, so the user can see which JSON path to set.
An MQTT meter cannot be tested that way (a topic may stay silent for
minutes); the step checks that MQTT is set up and that the topics are valid.
"""

from collections.abc import Mapping
import re
from typing import Any, Final

from homeassistant.config_entries import ConfigFlow, ConfigFlowResult
from homeassistant.const import (
    ATTR_FRIENDLY_NAME,
    CONF_ACCESS_TOKEN,
    CONF_NAME,
    CONF_URL,
    CONF_VERIFY_SSL,
)
from homeassistant.data_entry_flow import section
from homeassistant.helpers.selector import (
    BooleanSelector,
    EntitySelector,
    EntitySelectorConfig,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)
import probatio as vol
from yarl import URL

from ..const import (
    CONF_KIND,
    CONF_SCAN_INTERVAL,
    KIND_GUARD,
    KIND_HTTP_METER,
    KIND_MQTT_METER,
    MAX_SCAN_INTERVAL,
    SECTION_DATA_QUALITY,
)
from ..form_fields import (
    Bounds,
    clean_name,
    has_control_characters,
    sendable_url,
)
from ..meterlib.companions import (
    CompanionAuthError,
    CompanionConnectionError,
    CompanionError,
    CompanionHttpError,
    CompanionResponseError,
)
from ..meterlib.http_meter import METHODS, HttpPayloadError, parse_headers
from ..meterlib.payload import EnergyUnit, Field, PowerUnit, valid_path
from ..quality_section import data_quality_section, quality_data, quality_errors
from ..roles import CONF_ROLE, DEFAULT_ROLE, meter_role, role_selector
from .guard import CONF_GUARDED, CONF_SOURCE, guarded_field
from .http_source import (
    CONF_HEADERS,
    CONF_METHOD,
    DEFAULT_HTTP_SCAN_INTERVAL,
    MIN_HTTP_SCAN_INTERVAL,
    http_client,
)
from .meter import CONF_ENERGY_UNIT, CONF_POWER_UNIT, PATH_KEYS
from .mqtt_source import (
    CONF_AVAILABILITY_TOPIC,
    TOPIC_KEYS,
    async_mqtt_available,
    topics,
    valid_topic,
)

SECTION_JSON_PATHS: Final = "json_paths"
_PLACEHOLDERS: Final = {"error": "", "response": ""}
HTTP_SCAN_INTERVAL: Final = Bounds(
    MIN_HTTP_SCAN_INTERVAL, MAX_SCAN_INTERVAL, unit="s", whole=True
)
# RFC 9110's token: what a header name may be made of.
_HEADER_NAME: Final = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")


def _text(kind: TextSelectorType = TextSelectorType.TEXT) -> TextSelector:
    return TextSelector(TextSelectorConfig(type=kind))


def _units() -> dict[vol.Marker, Any]:
    """The unit dropdowns: what bare numbers (no unit in their name) are in."""
    return {
        vol.Required(CONF_POWER_UNIT, default=PowerUnit.W.value): SelectSelector(
            SelectSelectorConfig(
                options=[unit.value for unit in PowerUnit],
                mode=SelectSelectorMode.LIST,
            )
        ),
        vol.Required(CONF_ENERGY_UNIT, default=EnergyUnit.KWH.value): SelectSelector(
            SelectSelectorConfig(
                options=[unit.value for unit in EnergyUnit],
                mode=SelectSelectorMode.LIST,
            )
        ),
    }


def _common(default_name: str) -> dict[vol.Marker, Any]:
    return {
        vol.Required(CONF_NAME, default=default_name): _text(),
        vol.Required(CONF_ROLE, default=DEFAULT_ROLE.value): role_selector(),
    }


def _json_paths_section() -> section:
    """The collapsed section with an optional JSON path per field."""
    return section(
        vol.Schema({vol.Optional(PATH_KEYS[which]): _text() for which in Field}),
        {"collapsed": True},
    )


MQTT_SCHEMA: Final = vol.Schema(
    {
        **_common("MQTT meter"),
        **{vol.Optional(TOPIC_KEYS[which]): _text() for which in Field},
        vol.Optional(CONF_AVAILABILITY_TOPIC): _text(),
        **_units(),
        vol.Optional(SECTION_JSON_PATHS): _json_paths_section(),
        vol.Optional(SECTION_DATA_QUALITY): data_quality_section(),
    }
)

HTTP_SCHEMA: Final = vol.Schema(
    {
        **_common("HTTP meter"),
        vol.Required(CONF_URL): _text(TextSelectorType.URL),
        vol.Required(CONF_METHOD, default="GET"): SelectSelector(
            SelectSelectorConfig(options=list(METHODS), mode=SelectSelectorMode.LIST)
        ),
        vol.Optional(CONF_HEADERS): TextSelector(TextSelectorConfig(multiline=True)),
        vol.Optional(CONF_ACCESS_TOKEN): _text(TextSelectorType.PASSWORD),
        vol.Required(CONF_VERIFY_SSL, default=True): BooleanSelector(),
        vol.Required(
            CONF_SCAN_INTERVAL, default=DEFAULT_HTTP_SCAN_INTERVAL
        ): HTTP_SCAN_INTERVAL.selector(),
        **_units(),
        vol.Optional(SECTION_JSON_PATHS): _json_paths_section(),
        vol.Optional(SECTION_DATA_QUALITY): data_quality_section(),
    }
)

GUARD_SETTINGS: Final = {
    vol.Optional(CONF_NAME): _text(),
    vol.Required(CONF_ROLE, default=DEFAULT_ROLE.value): role_selector(),
    vol.Optional(SECTION_DATA_QUALITY): data_quality_section(),
}
GUARD_SCHEMA: Final = vol.Schema(
    {
        vol.Required(CONF_SOURCE): EntitySelector(
            EntitySelectorConfig(domain="sensor")
        ),
        **GUARD_SETTINGS,
    }
)
# The source stays: another source is another twin, with another history.
GUARD_RECONFIGURE_SCHEMA: Final = vol.Schema(GUARD_SETTINGS)


def _clean(user_input: Mapping[str, Any], keys: Mapping[Field, str]) -> dict[str, str]:
    """The non-empty values of `keys` in a form, stripped."""
    return {
        key: str(user_input[key]).strip()
        for key in keys.values()
        if str(user_input.get(key) or "").strip()
    }


def _settings_errors(
    user_input: Mapping[str, Any], *, name_required: bool = True
) -> dict[str, str]:
    """The name and the data-quality section, which every meter's form has.

    A guarded sensor's name may be left empty (it is then named after its
    source); every other meter needs one.
    """
    errors: dict[str, str] = {}
    given = user_input.get(CONF_NAME)
    if (name_required or str(given or "").strip()) and clean_name(given) is None:
        errors[CONF_NAME] = "invalid_name"
    return {**errors, **quality_errors(user_input)}


def _title(user_input: Mapping[str, Any]) -> str:
    """The name as saved (checked by `_settings_errors`)."""
    return clean_name(user_input.get(CONF_NAME)) or ""


def _mqtt_data(user_input: Mapping[str, Any]) -> dict[str, Any]:
    data: dict[str, Any] = {
        CONF_KIND: KIND_MQTT_METER,
        CONF_ROLE: meter_role(user_input).value,
        CONF_POWER_UNIT: str(user_input[CONF_POWER_UNIT]),
        CONF_ENERGY_UNIT: str(user_input[CONF_ENERGY_UNIT]),
        **_clean(user_input, TOPIC_KEYS),
        **_clean(user_input.get(SECTION_JSON_PATHS) or {}, PATH_KEYS),
        **quality_data(user_input.get(SECTION_DATA_QUALITY)),
    }
    availability = str(user_input.get(CONF_AVAILABILITY_TOPIC) or "").strip()
    if availability:
        data[CONF_AVAILABILITY_TOPIC] = availability
    return data


def _mqtt_errors(data: Mapping[str, Any]) -> dict[str, str]:
    configured = topics(data)
    if not configured:
        return {"base": "no_topic"}
    for key in [*(TOPIC_KEYS[f] for f in configured), CONF_AVAILABILITY_TOPIC]:
        if key in data and (
            has_control_characters(str(data[key])) or not valid_topic(str(data[key]))
        ):
            return {key: "invalid_topic"}
    return _path_errors(data)


def _path_errors(data: Mapping[str, Any]) -> dict[str, str]:
    """A JSON path that is not made of keys and [index] steps."""
    if any(
        has_control_characters(str(data[key])) or not valid_path(str(data[key]))
        for key in PATH_KEYS.values()
        if key in data
    ):
        return {SECTION_JSON_PATHS: "invalid_path"}
    return {}


def _http_data(user_input: Mapping[str, Any]) -> dict[str, Any]:
    data: dict[str, Any] = {
        CONF_KIND: KIND_HTTP_METER,
        CONF_ROLE: meter_role(user_input).value,
        CONF_URL: str(user_input[CONF_URL]).strip(),
        CONF_METHOD: str(user_input[CONF_METHOD]),
        CONF_HEADERS: str(user_input.get(CONF_HEADERS) or ""),
        CONF_VERIFY_SSL: bool(user_input[CONF_VERIFY_SSL]),
        CONF_SCAN_INTERVAL: HTTP_SCAN_INTERVAL.whole_value(
            user_input[CONF_SCAN_INTERVAL]
        ),
        CONF_POWER_UNIT: str(user_input[CONF_POWER_UNIT]),
        CONF_ENERGY_UNIT: str(user_input[CONF_ENERGY_UNIT]),
        **_clean(user_input.get(SECTION_JSON_PATHS) or {}, PATH_KEYS),
        **quality_data(user_input.get(SECTION_DATA_QUALITY)),
    }
    if user_input.get(CONF_ACCESS_TOKEN):
        data[CONF_ACCESS_TOKEN] = str(user_input[CONF_ACCESS_TOKEN])
    return data


def _http_form_errors(data: Mapping[str, Any]) -> dict[str, str]:
    """What is wrong with the form itself, before anything is sent.

    Credentials in the URL and a bearer token (or an Authorization header)
    are two answers to one question: aiohttp refuses to send such a request
    with a ValueError, so the form asks the user to keep one. A CR or LF in
    a token would end the header early; aiohttp refuses that too.
    """
    url = sendable_url(str(data[CONF_URL]))
    if url is None:
        return {CONF_URL: "invalid_url"}
    return _credential_errors(data, url) or _path_errors(data)


def _credential_errors(data: Mapping[str, Any], url: URL) -> dict[str, str]:
    """Headers, token and the URL's user and password (see `_http_form_errors`)."""
    try:
        headers = parse_headers(str(data[CONF_HEADERS]))
    except ValueError:
        return {CONF_HEADERS: "invalid_headers"}
    if any(
        not _HEADER_NAME.match(name) or has_control_characters(value)
        for name, value in headers.items()
    ):
        return {CONF_HEADERS: "invalid_headers"}
    token = str(data.get(CONF_ACCESS_TOKEN) or "")
    if has_control_characters(token):
        return {CONF_ACCESS_TOKEN: "invalid_token"}
    errors: dict[str, str] = {}
    if url.user is not None or url.password is not None:
        if token:
            errors[CONF_ACCESS_TOKEN] = "credentials_twice"
        elif any(name.lower() == "authorization" for name in headers):
            errors[CONF_HEADERS] = "credentials_twice"
    return errors


def _http_settings_errors(user_input: Mapping[str, Any]) -> dict[str, str]:
    """The name, the data-quality section and the poll interval of the HTTP form."""
    errors: dict[str, str] = {}
    if HTTP_SCAN_INTERVAL.read(user_input.get(CONF_SCAN_INTERVAL)) is None:
        errors[CONF_SCAN_INTERVAL] = "invalid_scan_interval"
    return {**errors, **_settings_errors(user_input)}


def _http_read_error(err: Exception) -> tuple[str, dict[str, str]]:
    """The translated error and its placeholders for a failed test read."""
    if isinstance(err, HttpPayloadError):
        return "no_values", {"error": str(err), "response": err.body}
    if isinstance(err, CompanionAuthError):
        return "invalid_auth", {"error": str(err)}
    if isinstance(err, CompanionConnectionError):
        return "http_unreachable", {"error": str(err)}
    if isinstance(err, CompanionHttpError):
        return "http_error", {"error": str(err), "response": err.detail}
    if isinstance(err, CompanionResponseError):
        return "http_invalid_response", {"error": str(err), "response": err.body}
    return "http_invalid_response", {"error": str(err)}


def _suggested(data: Mapping[str, Any]) -> dict[str, Any]:
    """Entry data as the form's suggested values, sections nested again."""
    return {
        **data,
        SECTION_JSON_PATHS: {k: data[k] for k in PATH_KEYS.values() if k in data},
        SECTION_DATA_QUALITY: quality_data(data),
    }


class SingleMeterConfigFlow(ConfigFlow):
    """The steps of the MQTT meter, the HTTP meter and the guarded sensor."""

    async def async_step_mqtt_meter(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Topics and units of an MQTT meter; needs the MQTT integration."""
        if not await async_mqtt_available(self.hass):
            return self.async_abort(reason="mqtt_not_configured")
        errors: dict[str, str] = {}
        if user_input is not None:
            errors = _settings_errors(user_input)
        if user_input is not None and not errors:
            data = _mqtt_data(user_input)
            errors = _mqtt_errors(data)
            if not errors:
                await self.async_set_unique_id(_mqtt_unique_id(data))
                self._abort_if_unique_id_configured(error="meter_already_configured")
                return self.async_create_entry(title=_title(user_input), data=data)
        return self.async_show_form(
            step_id="mqtt_meter",
            data_schema=self.add_suggested_values_to_schema(MQTT_SCHEMA, user_input),
            errors=errors,
        )

    async def async_step_http_meter(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """URL, request and JSON paths of an HTTP meter; read once before saving."""
        errors: dict[str, str] = {}
        placeholders: dict[str, str] = {}
        if user_input is not None:
            errors = _http_settings_errors(user_input)
        if user_input is not None and not errors:
            data = _http_data(user_input)
            # Only a form that can be sent claims the meter's unique id.
            errors = _http_form_errors(data)
            if not errors:
                await self.async_set_unique_id(_http_unique_id(data))
                self._abort_if_unique_id_configured(error="meter_already_configured")
                errors, placeholders = await self._async_check_http(data)
            if not errors:
                return self.async_create_entry(title=_title(user_input), data=data)
        return self.async_show_form(
            step_id="http_meter",
            data_schema=self.add_suggested_values_to_schema(HTTP_SCHEMA, user_input),
            errors=errors,
            description_placeholders={**_PLACEHOLDERS, **placeholders},
        )

    async def async_step_guard(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """The sensor to guard: any power or energy sensor in Home Assistant."""
        errors: dict[str, str] = {}
        if user_input is not None:
            errors = _settings_errors(user_input, name_required=False)
        if user_input is not None and not errors:
            source = str(user_input[CONF_SOURCE])
            state = self.hass.states.get(source)
            which = guarded_field(state)
            if which is None:
                errors[CONF_SOURCE] = "not_power_or_energy"
            else:
                await self.async_set_unique_id(f"guard:{source}")
                self._abort_if_unique_id_configured(error="meter_already_configured")
                name = _title(user_input) or _guard_name(
                    source, state.attributes.get(ATTR_FRIENDLY_NAME) if state else None
                )
                return self.async_create_entry(
                    title=name,
                    data={
                        CONF_KIND: KIND_GUARD,
                        CONF_SOURCE: source,
                        CONF_GUARDED: which.value,
                        CONF_ROLE: meter_role(user_input).value,
                        **quality_data(user_input.get(SECTION_DATA_QUALITY)),
                    },
                )
        return self.async_show_form(
            step_id="guard",
            data_schema=self.add_suggested_values_to_schema(GUARD_SCHEMA, user_input),
            errors=errors,
        )

    async def async_reconfigure_single_meter(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """The entry's "Reconfigure": the step of its kind."""
        kind = self._get_reconfigure_entry().data[CONF_KIND]
        if kind == KIND_GUARD:
            return await self.async_step_reconfigure_guard(user_input)
        if kind == KIND_MQTT_METER:
            return await self.async_step_reconfigure_mqtt(user_input)
        return await self.async_step_reconfigure_http(user_input)

    async def async_step_reconfigure_mqtt(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change an MQTT meter's topics or units; its history and counters stay."""
        errors: dict[str, str] = {}
        if user_input is not None:
            errors = _settings_errors(user_input)
        if user_input is not None and not errors:
            data = _mqtt_data(user_input)
            errors = _mqtt_errors(data)
            if not errors:
                return await self._async_reconfigured(
                    user_input, data, _mqtt_unique_id(data)
                )
        return self._async_reconfigure_form(
            "reconfigure_mqtt", MQTT_SCHEMA, user_input, errors, {}
        )

    async def async_step_reconfigure_http(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change an HTTP meter's endpoint or paths (read once again); history stays."""
        errors: dict[str, str] = {}
        placeholders: dict[str, str] = {}
        if user_input is not None:
            errors = _http_settings_errors(user_input)
        if user_input is not None and not errors:
            data = _http_data(user_input)
            errors, placeholders = await self._async_check_http(data)
            if not errors:
                return await self._async_reconfigured(
                    user_input, data, _http_unique_id(data)
                )
        return self._async_reconfigure_form(
            "reconfigure_http", HTTP_SCHEMA, user_input, errors, placeholders
        )

    async def _async_reconfigured(
        self, user_input: Mapping[str, Any], data: dict[str, Any], unique_id: str
    ) -> ConfigFlowResult:
        """Save the new settings; moving onto another meter's topics or URL aborts."""
        entry = self._get_reconfigure_entry()
        if unique_id != entry.unique_id:
            await self.async_set_unique_id(unique_id)
            self._abort_if_unique_id_configured(error="meter_already_configured")
        return self.async_update_reload_and_abort(
            entry,
            unique_id=unique_id,
            title=_title(user_input),
            data=data,
            reason="standalone_reconfigured",
        )

    def _async_reconfigure_form(
        self,
        step_id: str,
        schema: vol.Schema,
        user_input: Mapping[str, Any] | None,
        errors: dict[str, str],
        placeholders: dict[str, str],
    ) -> ConfigFlowResult:
        entry = self._get_reconfigure_entry()
        return self.async_show_form(
            step_id=step_id,
            data_schema=self.add_suggested_values_to_schema(
                schema, user_input or {CONF_NAME: entry.title, **_suggested(entry.data)}
            ),
            errors=errors,
            description_placeholders={**_PLACEHOLDERS, **placeholders},
        )

    async def async_step_reconfigure_guard(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change a guarded sensor's name, role and limits (the source stays)."""
        entry = self._get_reconfigure_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            errors = _settings_errors(user_input, name_required=False)
        if user_input is not None and not errors:
            return self.async_update_reload_and_abort(
                entry,
                title=_title(user_input) or entry.title,
                data={
                    **entry.data,
                    CONF_ROLE: meter_role(user_input).value,
                    **quality_data(user_input.get(SECTION_DATA_QUALITY)),
                },
                reason="standalone_reconfigured",
            )
        return self.async_show_form(
            step_id="reconfigure_guard",
            data_schema=self.add_suggested_values_to_schema(
                GUARD_RECONFIGURE_SCHEMA,
                user_input or {CONF_NAME: entry.title, **_suggested(entry.data)},
            ),
            errors=errors,
        )

    async def _async_check_http(
        self, data: Mapping[str, Any]
    ) -> tuple[dict[str, str], dict[str, str]]:
        """Validate the form, then read the meter once; errors and placeholders."""
        errors = _http_form_errors(data)
        if errors:
            return errors, {}
        try:
            await http_client(self.hass, data).read()
        except (CompanionError, HttpPayloadError) as err:
            error, placeholders = _http_read_error(err)
            return {"base": error}, placeholders
        return {}, {}


def _mqtt_unique_id(data: Mapping[str, Any]) -> str:
    """One meter per set of topics: the same topics twice would count twice."""
    return "mqtt:" + "|".join(sorted(topics(data).values()))


def _http_unique_id(data: Mapping[str, Any]) -> str:
    """One meter per endpoint and method."""
    return f"http:{data[CONF_METHOD]} {data[CONF_URL]}"


def _guard_name(source: str, friendly_name: Any) -> str:
    """Return "<source name> (guarded)", the twin's default name."""
    return f"{friendly_name or source} (guarded)"
