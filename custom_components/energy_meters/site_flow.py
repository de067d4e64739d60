"""Adding the Site, and changing its grid connection capacity.

`SiteConfigFlow` holds the steps; the integration's config flow inherits them,
so the user menu offers "Site" next to the gateways and services. There is
one site per Home Assistant: it sums every gateway, so a second one could
only repeat the first.

The capacity is an option of the site entry (see `site.py` for why). The
reconfigure step edits the same value, because Home Assistant offers
"Reconfigure" on every entry of the integration and a site has nothing else
to reconfigure.
"""

from typing import Any

from homeassistant.config_entries import (
    ConfigEntry,
    ConfigFlow,
    ConfigFlowResult,
    OptionsFlowWithReload,
)
from homeassistant.helpers.selector import (
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
)
import probatio as vol

from .const import CONF_KIND, KIND_SITE
from .site import CONF_CAPACITY_KW, is_site

SITE_TITLE = "Site"

# A household connection is 3 x 25 A to 3 x 63 A (17 to 43 kW); the upper
# limit leaves room for small businesses and farms.
CAPACITY_SCHEMA = vol.Schema(
    {
        vol.Required(CONF_CAPACITY_KW): vol.All(
            NumberSelector(
                NumberSelectorConfig(
                    min=0.1,
                    max=10000,
                    step=0.1,
                    unit_of_measurement="kW",
                    mode=NumberSelectorMode.BOX,
                )
            ),
            vol.Coerce(float),
        )
    }
)


def _capacity(user_input: dict[str, Any]) -> dict[str, float]:
    return {CONF_CAPACITY_KW: float(user_input[CONF_CAPACITY_KW])}


class SiteConfigFlow(ConfigFlow):
    """The site's steps, inherited by the integration's flow."""

    async def async_step_site(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Add the site, with its grid connection capacity (no default: it is the user's)."""
        if any(is_site(entry) for entry in self._async_current_entries()):
            return self.async_abort(reason="site_already_configured")
        if user_input is not None:
            await self.async_set_unique_id(KIND_SITE)
            self._abort_if_unique_id_configured(error="site_already_configured")
            return self.async_create_entry(
                title=SITE_TITLE,
                data={CONF_KIND: KIND_SITE},
                options=_capacity(user_input),
            )
        return self.async_show_form(step_id="site", data_schema=CAPACITY_SCHEMA)

    async def async_step_reconfigure_site(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change the site's capacity from the entry's "Reconfigure"."""
        entry = self._get_reconfigure_entry()
        if user_input is not None:
            return self.async_update_reload_and_abort(
                entry, options=_capacity(user_input), reason="site_reconfigured"
            )
        return self.async_show_form(
            step_id="reconfigure_site",
            data_schema=self.add_suggested_values_to_schema(
                CAPACITY_SCHEMA, dict(entry.options)
            ),
        )


class SiteOptionsFlow(OptionsFlowWithReload):
    """The site's grid connection capacity."""

    async def async_step_init(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Go to the one options step."""
        return await self.async_step_site_capacity(user_input)

    async def async_step_site_capacity(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """The capacity in kW; the site reloads with it."""
        if user_input is not None:
            return self.async_create_entry(data=_capacity(user_input))
        return self.async_show_form(
            step_id="site_capacity",
            data_schema=self.add_suggested_values_to_schema(
                CAPACITY_SCHEMA, dict(self.config_entry.options)
            ),
        )


def site_options_flow(config_entry: ConfigEntry) -> SiteOptionsFlow | None:
    """Return the options flow of the site entry; None for other kinds."""
    return SiteOptionsFlow() if is_site(config_entry) else None
