"""Words of this integration's translations that the code needs as values.

A form field's default is a value, not a label: the frontend shows it as it
is, so a German user would be offered "Energy meter" as the name of a new
meter. The translations hold the word (as the name of the meter device,
`device.meter.name`, which hassfest knows); this reads it in Home Assistant's
language, which is also the language the entity names are made in.
"""

from typing import Final

from homeassistant.core import HomeAssistant
from homeassistant.helpers.translation import async_get_translations

from .const import DOMAIN

# What a new meter is called when no translation is found (English).
FALLBACK_METER_NAME: Final = "Energy meter"


async def async_default_meter_name(hass: HomeAssistant) -> str:
    """The name "Energy meter" in Home Assistant's language."""
    translations = await async_get_translations(
        hass, hass.config.language, "device", {DOMAIN}
    )
    return translations.get(
        f"component.{DOMAIN}.device.meter.name", FALLBACK_METER_NAME
    )
