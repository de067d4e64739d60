"""The "data quality" section of a meter's form: rated power and confirmations.

Every kind of meter (Modbus, MQTT, HTTP, a guarded sensor) is filtered by the
same rules, tuned by the same two settings, so every form offers them the same
way: collapsed, with defaults that suit a household connection.
"""

from collections.abc import Mapping
from typing import Any

from homeassistant.data_entry_flow import section
from homeassistant.helpers.selector import (
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
)
import probatio as vol

from .const import (
    CONF_CONFIRMATIONS,
    CONF_MAX_POWER_KW,
    DEFAULT_CONFIRMATIONS,
    DEFAULT_MAX_POWER_KW,
)


def data_quality_section() -> section:
    """The collapsed section with the meter's rated power and the confirmations."""
    return section(
        vol.Schema(
            {
                vol.Required(CONF_MAX_POWER_KW, default=DEFAULT_MAX_POWER_KW): vol.All(
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
                ),
                vol.Required(
                    CONF_CONFIRMATIONS, default=DEFAULT_CONFIRMATIONS
                ): vol.All(
                    NumberSelector(
                        NumberSelectorConfig(
                            min=1, max=10, step=1, mode=NumberSelectorMode.BOX
                        )
                    ),
                    vol.Coerce(int),
                ),
            }
        ),
        {"collapsed": True},
    )


def quality_data(quality: Mapping[str, Any] | None) -> dict[str, Any]:
    """The section's values as flat entry data, defaults filled in."""
    quality = quality or {}
    return {
        CONF_MAX_POWER_KW: float(quality.get(CONF_MAX_POWER_KW, DEFAULT_MAX_POWER_KW)),
        CONF_CONFIRMATIONS: int(quality.get(CONF_CONFIRMATIONS, DEFAULT_CONFIRMATIONS)),
    }
