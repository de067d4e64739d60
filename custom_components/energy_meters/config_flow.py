"""Config flow: one flow for the integration, each kind's steps from its own package.

The user's menu offers every kind; each option is a step that the kind's flow
(`gateway/flow.py`, `companions/flow.py`, `single_meters/flow.py`,
`site/flow.py`) implements and this class inherits. What depends on an
existing entry (reconfigure, options, subentries) is looked up by the entry's
kind (`kinds.py`) in the tables below.

Every step tests before it saves: a gateway step opens the connection, a
meter step reads the meter, a service step asks the service. Each failure is
reported on the field the user has to change.
"""

from collections.abc import Callable, Coroutine, Mapping
from typing import Any, override

from homeassistant.config_entries import (
    ConfigEntry,
    ConfigFlowResult,
    ConfigSubentryFlow,
    OptionsFlow,
)
from homeassistant.core import callback

from .companions.flow import CompanionConfigFlow, HeatPumpOptionsFlow
from .const import DOMAIN, SUBENTRY_HISTORY, SUBENTRY_METER
from .gateway.flow import GatewayConfigFlow, GatewayOptionsFlow, MeterSubentryFlow
from .history.flow import HistorySubentryFlow
from .kinds import (
    GATEWAY,
    HEAT_PUMP,
    SINGLE_METER,
    SITE,
    THERMOSTAT,
    EnergyMetersConfigEntry,
    EntryKind,
    kind_of,
)
from .single_meters.flow import SingleMeterConfigFlow
from .site.flow import SiteConfigFlow, SiteOptionsFlow

type FlowStep = Callable[[dict[str, Any] | None], Coroutine[Any, Any, ConfigFlowResult]]

# Options for gateways (poll interval), heat pumps (linked meter) and the site
# (capacity). A thermostat has none; MQTT and HTTP meters and guarded sensors
# change through "Reconfigure".
_OPTIONS_FLOWS: Mapping[EntryKind[Any], Callable[[], OptionsFlow]] = {
    GATEWAY: GatewayOptionsFlow,
    HEAT_PUMP: HeatPumpOptionsFlow,
    SITE: SiteOptionsFlow,
}
# Meters are subentries of their gateway; no other kind has subentries. The
# gateway's "Import history" is a subentry flow too, one that never creates a
# subentry: it is how a button gets onto the gateway's entry.
_SUBENTRY_FLOWS: Mapping[EntryKind[Any], Mapping[str, type[ConfigSubentryFlow]]] = {
    GATEWAY: {SUBENTRY_METER: MeterSubentryFlow, SUBENTRY_HISTORY: HistorySubentryFlow},
}


class EnergyMetersConfigFlow(
    GatewayConfigFlow,
    CompanionConfigFlow,
    SiteConfigFlow,
    SingleMeterConfigFlow,
    domain=DOMAIN,
):
    """Add any kind of entry; change an existing one by its kind."""

    VERSION = 1
    MINOR_VERSION = 1

    @staticmethod
    @callback
    @override
    def async_get_options_flow(config_entry: EnergyMetersConfigEntry) -> OptionsFlow:
        """Options: poll interval (gateway), linked meter (heat pump), capacity (site)."""
        return _OPTIONS_FLOWS[kind_of(config_entry)]()

    @classmethod
    @callback
    @override
    def async_supports_options_flow(cls, config_entry: ConfigEntry) -> bool:
        """Options for gateways, heat pumps and the site."""
        return kind_of(config_entry) in _OPTIONS_FLOWS

    @classmethod
    @callback
    @override
    def async_get_supported_subentry_types(
        cls, config_entry: ConfigEntry
    ) -> dict[str, type[ConfigSubentryFlow]]:
        """Meters are subentries of their gateway; its history import is started there."""
        return dict(_SUBENTRY_FLOWS.get(kind_of(config_entry), {}))

    @override
    async def async_step_user(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Choose what to add: each option is a step of its kind's flow."""
        return self.async_show_menu(
            step_id="user",
            menu_options=[
                "gateway",
                "serial",
                "mqtt_meter",
                "http_meter",
                "guard",
                "heat_pump",
                "thermostat",
                "site",
            ],
        )

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """The entry's "Reconfigure": the step of its kind."""
        steps: Mapping[EntryKind[Any], FlowStep] = {
            GATEWAY: self.async_reconfigure_gateway,
            HEAT_PUMP: self.async_step_reconfigure_service,
            THERMOSTAT: self.async_step_reconfigure_service,
            SITE: self.async_step_reconfigure_site,
            SINGLE_METER: self.async_reconfigure_single_meter,
        }
        return await steps[kind_of(self._get_reconfigure_entry())](user_input)
