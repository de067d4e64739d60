"""The "data quality" section of a meter's form: rated power and confirmations.

Every kind of meter (Modbus, MQTT, HTTP, a guarded sensor) is filtered by the
same rules, tuned by the same two settings, so every form offers them the same
way: collapsed, with defaults that suit a household connection. The settings
they store are read back here too (`quality_settings`), for every kind.
"""

from collections.abc import Mapping
from typing import Any, Final

from homeassistant.data_entry_flow import section
import probatio as vol

from .const import (
    CONF_CONFIRMATIONS,
    CONF_MAX_POWER_KW,
    DEFAULT_CONFIRMATIONS,
    DEFAULT_MAX_POWER_KW,
    SECTION_DATA_QUALITY,
)
from .form_fields import Bounds
from .meterlib.filtering import QualitySettings

# A reading above the rated power is a glitch; "nan" here once made every
# reading one (no comparison with NaN is true), so power and current stayed
# unknown for good.
MAX_POWER_KW: Final = Bounds(0.1, 10000, step=0.1, unit="kW")
CONFIRMATIONS: Final = Bounds(1, 10, whole=True)


def data_quality_section() -> section:
    """The collapsed section with the meter's rated power and the confirmations."""
    return section(
        vol.Schema(
            {
                vol.Required(
                    CONF_MAX_POWER_KW, default=DEFAULT_MAX_POWER_KW
                ): MAX_POWER_KW.selector(),
                vol.Required(
                    CONF_CONFIRMATIONS, default=DEFAULT_CONFIRMATIONS
                ): CONFIRMATIONS.selector(),
            }
        ),
        {"collapsed": True},
    )


def quality_errors(user_input: Mapping[str, Any]) -> dict[str, str]:
    """A form's section values that are no number in range, keyed by the section.

    The error sits on the section: the frontend shows it above the section,
    where it is seen even while the section is collapsed.
    """
    quality = user_input.get(SECTION_DATA_QUALITY) or {}
    errors: dict[str, str] = {}
    if MAX_POWER_KW.read(quality.get(CONF_MAX_POWER_KW, DEFAULT_MAX_POWER_KW)) is None:
        errors[SECTION_DATA_QUALITY] = "invalid_max_power"
    elif (
        CONFIRMATIONS.read(quality.get(CONF_CONFIRMATIONS, DEFAULT_CONFIRMATIONS))
        is None
    ):
        errors[SECTION_DATA_QUALITY] = "invalid_confirmations"
    return errors


def quality_data(quality: Mapping[str, Any] | None) -> dict[str, Any]:
    """The section's values as flat entry data, defaults filled in.

    Form values are checked first (`quality_errors`); a stored value that is
    no longer valid (saved before the check) reads as the default, so the
    reconfigure form offers a value it accepts.
    """
    quality = quality or {}
    max_power = MAX_POWER_KW.read(quality.get(CONF_MAX_POWER_KW, DEFAULT_MAX_POWER_KW))
    confirmations = CONFIRMATIONS.read(
        quality.get(CONF_CONFIRMATIONS, DEFAULT_CONFIRMATIONS)
    )
    return {
        CONF_MAX_POWER_KW: DEFAULT_MAX_POWER_KW if max_power is None else max_power,
        CONF_CONFIRMATIONS: (
            DEFAULT_CONFIRMATIONS if confirmations is None else int(confirmations)
        ),
    }


def quality_settings(data: Mapping[str, Any]) -> QualitySettings:
    """The filter settings of a meter subentry, with defaults for older entries."""
    return QualitySettings(
        max_power_w=float(data.get(CONF_MAX_POWER_KW, DEFAULT_MAX_POWER_KW)) * 1000,
        confirmations=int(data.get(CONF_CONFIRMATIONS, DEFAULT_CONFIRMATIONS)),
    )
