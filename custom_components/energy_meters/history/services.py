"""The `import_history` action: the old stack's readings into the sensors' statistics.

With `preview: true` it writes nothing and answers with what an import
would write, per sensor and month; without, it imports and answers with the
same figures once the recorder has them. Automations can so run a preview
first and import only when it looks right.
"""

from typing import Any, Final

from homeassistant.core import (
    HomeAssistant,
    ServiceCall,
    ServiceResponse,
    SupportsResponse,
    callback,
)
from homeassistant.helpers import config_validation as cv
import probatio as vol

from ..const import DOMAIN
from .request import (
    ATTR_DATABASE,
    ATTR_DEVICE_ID,
    ATTR_END,
    ATTR_ENTITY_ID,
    ATTR_FIELD,
    ATTR_MAX_POWER,
    ATTR_METRIC,
    ATTR_PASSWORD,
    ATTR_PREVIEW,
    ATTR_SELECTOR,
    ATTR_SOURCE,
    ATTR_START,
    ATTR_STEP,
    ATTR_TAGS,
    ATTR_UNIT,
    ATTR_URL,
    ATTR_USERNAME,
    SOURCE_INFLUXDB,
    SOURCE_PROMETHEUS,
    build_plan,
)
from .run import async_import, async_preview

SERVICE_IMPORT_HISTORY: Final = "import_history"

IMPORT_HISTORY_SCHEMA: Final = vol.Schema(
    {
        vol.Exclusive(ATTR_DEVICE_ID, "target"): cv.string,
        vol.Exclusive(ATTR_ENTITY_ID, "target"): cv.entity_id,
        vol.Optional(ATTR_SOURCE, default=SOURCE_PROMETHEUS): vol.In(
            [SOURCE_PROMETHEUS, SOURCE_INFLUXDB]
        ),
        vol.Required(ATTR_URL): cv.string,
        vol.Optional(ATTR_METRIC): cv.string,
        vol.Optional(ATTR_SELECTOR): cv.string,
        vol.Optional(ATTR_DATABASE): cv.string,
        vol.Optional(ATTR_FIELD): cv.string,
        vol.Optional(ATTR_TAGS): vol.Any(cv.string, {cv.string: cv.string}),
        vol.Optional(ATTR_USERNAME): cv.string,
        vol.Optional(ATTR_PASSWORD): cv.string,
        vol.Optional(ATTR_UNIT): cv.string,
        vol.Optional(ATTR_START): cv.datetime,
        vol.Optional(ATTR_END): cv.datetime,
        vol.Optional(ATTR_STEP): vol.All(vol.Coerce(int), vol.Range(min=1, max=3600)),
        vol.Optional(ATTR_MAX_POWER): vol.All(
            vol.Coerce(float), vol.Range(min=0.1, max=10000)
        ),
        vol.Optional(ATTR_PREVIEW, default=False): cv.boolean,
    }
)


async def _async_import_history(call: ServiceCall) -> ServiceResponse:
    """Preview or run an import, answering with its figures."""
    plan = build_plan(call.hass, call.data)
    if call.data[ATTR_PREVIEW]:
        prepared = await async_preview(call.hass, plan)
    else:
        prepared = await async_import(call.hass, plan)
    series: list[Any] = [item.as_dict() for item in prepared]
    return {"preview": bool(call.data[ATTR_PREVIEW]), "series": series}


@callback
def async_setup_history_services(hass: HomeAssistant) -> None:
    """Register the action (once, when the integration loads)."""
    hass.services.async_register(
        DOMAIN,
        SERVICE_IMPORT_HISTORY,
        _async_import_history,
        schema=IMPORT_HISTORY_SCHEMA,
        supports_response=SupportsResponse.OPTIONAL,
    )
