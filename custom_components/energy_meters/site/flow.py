"""Adding the Site, and changing its grid connection capacity.

`SiteConfigFlow` holds the steps; the integration's config flow inherits them,
so the user menu offers "Site" next to the gateways and services. There is
one site per Home Assistant: it sums every gateway, so a second one could
only repeat the first.

The capacity is an option of the site entry (see `tracker.py` for why). The
reconfigure step edits the same value, because Home Assistant offers
"Reconfigure" on every entry of the integration and a site has nothing else
to reconfigure.
"""

from collections.abc import Mapping
from typing import Any, Final

from homeassistant.config_entries import (
    ConfigFlow,
    ConfigFlowResult,
    OptionsFlowWithReload,
)
import probatio as vol

from ..const import CONF_KIND, KIND_SITE
from ..form_fields import Bounds
from .tracker import CONF_CAPACITY_KW, is_site

SITE_TITLE = "Site"

# A household connection is 3 x 25 A to 3 x 63 A (17 to 43 kW); the upper
# limit leaves room for small businesses and farms.
CAPACITY: Final = Bounds(0.1, 10000, step=0.1, unit="kW")
CAPACITY_SCHEMA = vol.Schema({vol.Required(CONF_CAPACITY_KW): CAPACITY.selector()})


def _capacity_errors(user_input: Mapping[str, Any]) -> dict[str, str]:
    """A capacity that is no number in range ("nan" would make every total unknown)."""
    errors: dict[str, str] = {}
    if CAPACITY.read(user_input.get(CONF_CAPACITY_KW)) is None:
        errors[CONF_CAPACITY_KW] = "invalid_capacity"
    return errors


def _capacity(user_input: Mapping[str, Any]) -> dict[str, float]:
    return {CONF_CAPACITY_KW: CAPACITY.value(user_input[CONF_CAPACITY_KW])}


class SiteConfigFlow(ConfigFlow):
    """The site's steps, inherited by the integration's flow."""

    async def async_step_site(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Add the site, with its grid connection capacity (no default: it is the user's)."""
        if any(is_site(entry) for entry in self._async_current_entries()):
            return self.async_abort(reason="site_already_configured")
        errors: dict[str, str] = {}
        if user_input is not None:
            errors = _capacity_errors(user_input)
        if user_input is not None and not errors:
            await self.async_set_unique_id(KIND_SITE)
            self._abort_if_unique_id_configured(error="site_already_configured")
            return self.async_create_entry(
                title=SITE_TITLE,
                data={CONF_KIND: KIND_SITE},
                options=_capacity(user_input),
            )
        return self.async_show_form(
            step_id="site",
            data_schema=self.add_suggested_values_to_schema(
                CAPACITY_SCHEMA, user_input
            ),
            errors=errors,
        )

    async def async_step_reconfigure_site(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change the site's capacity from the entry's "Reconfigure"."""
        entry = self._get_reconfigure_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            errors = _capacity_errors(user_input)
        if user_input is not None and not errors:
            return self.async_update_reload_and_abort(
                entry, options=_capacity(user_input), reason="site_reconfigured"
            )
        return self.async_show_form(
            step_id="reconfigure_site",
            data_schema=self.add_suggested_values_to_schema(
                CAPACITY_SCHEMA, user_input or dict(entry.options)
            ),
            errors=errors,
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
        errors: dict[str, str] = {}
        if user_input is not None:
            errors = _capacity_errors(user_input)
        if user_input is not None and not errors:
            return self.async_create_entry(data=_capacity(user_input))
        return self.async_show_form(
            step_id="site_capacity",
            data_schema=self.add_suggested_values_to_schema(
                CAPACITY_SCHEMA, user_input or dict(self.config_entry.options)
            ),
            errors=errors,
        )
