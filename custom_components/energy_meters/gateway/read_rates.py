"""A meter's read rates: which of its values are read fast, and how fast.

Load management and the Energy dashboard's "Now" view want power within a
second or two; energy counters and voltages change meaningfully far less
often. So a meter may name a fast group, read every `fast_interval` seconds
beside its full map at the gateway's interval. By default that is the power
of the meters whose role is grid or building, the two the site's sums and
load thresholds are built on; a zone or heat-pump meter reads everything at
the gateway's interval unless its user asks for more.

The form's section stores two flat keys in the meter's subentry; a meter
saved before read rates existed has neither and gets the default.
"""

from collections.abc import Mapping
from enum import StrEnum
from typing import Any, Final

from homeassistant.data_entry_flow import section
from homeassistant.helpers.selector import (
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
)
import probatio as vol

from ..form_fields import Bounds
from ..meterlib.model import Quantity
from ..roles import MeterRole, meter_role

SECTION_READ_RATES: Final = "read_rates"
CONF_FAST_GROUP: Final = "fast_group"
CONF_FAST_INTERVAL: Final = "fast_interval"
DEFAULT_FAST_INTERVAL: Final = 1
FAST_INTERVAL: Final = Bounds(1, 10, unit="s", whole=True)


class FastGroup(StrEnum):
    """What a meter reads at its fast interval."""

    BY_ROLE = "by_role"
    POWER = "power"
    NONE = "none"


# The quantities of the "power" group: active power, total and per phase.
POWER_QUANTITIES: Final = frozenset(
    {Quantity.POWER_TOTAL, Quantity.POWER_L1, Quantity.POWER_L2, Quantity.POWER_L3}
)
# The roles whose power is read fast by default.
FAST_ROLES: Final = frozenset({MeterRole.GRID, MeterRole.BUILDING})


def read_rates_section() -> section:
    """The collapsed section with the fast group and its interval."""
    return section(
        vol.Schema(
            {
                vol.Required(
                    CONF_FAST_GROUP, default=FastGroup.BY_ROLE.value
                ): SelectSelector(
                    SelectSelectorConfig(
                        options=[group.value for group in FastGroup],
                        translation_key=CONF_FAST_GROUP,
                        mode=SelectSelectorMode.DROPDOWN,
                    )
                ),
                vol.Required(
                    CONF_FAST_INTERVAL, default=DEFAULT_FAST_INTERVAL
                ): FAST_INTERVAL.selector(),
            }
        ),
        {"collapsed": True},
    )


def read_rates_errors(user_input: Mapping[str, Any]) -> dict[str, str]:
    """A section value that is no choice or no interval in range, on the section."""
    rates = user_input.get(SECTION_READ_RATES) or {}
    if _group(rates.get(CONF_FAST_GROUP, FastGroup.BY_ROLE.value)) is None:
        return {SECTION_READ_RATES: "invalid_fast_group"}
    if FAST_INTERVAL.read(rates.get(CONF_FAST_INTERVAL, DEFAULT_FAST_INTERVAL)) is None:
        return {SECTION_READ_RATES: "invalid_fast_interval"}
    return {}


def read_rates_data(rates: Mapping[str, Any] | None) -> dict[str, Any]:
    """The section's values as flat subentry data, defaults filled in."""
    rates = rates or {}
    group = _group(rates.get(CONF_FAST_GROUP)) or FastGroup.BY_ROLE
    interval = FAST_INTERVAL.read(rates.get(CONF_FAST_INTERVAL, DEFAULT_FAST_INTERVAL))
    return {
        CONF_FAST_GROUP: group.value,
        CONF_FAST_INTERVAL: (
            DEFAULT_FAST_INTERVAL if interval is None else int(interval)
        ),
    }


def fast_quantities(data: Mapping[str, Any]) -> frozenset[Quantity]:
    """The quantities a meter subentry reads fast (its profile may lack some)."""
    group = FastGroup(read_rates_data(data)[CONF_FAST_GROUP])
    if group is FastGroup.BY_ROLE:
        group = FastGroup.POWER if meter_role(data) in FAST_ROLES else FastGroup.NONE
    return POWER_QUANTITIES if group is FastGroup.POWER else frozenset()


def fast_interval_s(data: Mapping[str, Any]) -> float:
    """A meter subentry's fast interval in seconds (the default if unreadable)."""
    return float(read_rates_data(data)[CONF_FAST_INTERVAL])


def _group(value: Any) -> FastGroup | None:
    try:
        return FastGroup(str(value))
    except ValueError:
        return None
