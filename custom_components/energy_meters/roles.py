"""Where a meter sits in the site, which decides what the Site device adds up.

A role is a property of the meter subentry, chosen in the meter form:

- grid: at a grid connection point; measures what the site draws from the
  grid (import positive, export negative), so solar behind it is already
  netted out.
- building: the whole consumption of a building (or part of a site) that no
  grid meter sees, for instance a second building behind another gateway.
- solar: a PV inverter's feed; its production, whichever way round the meter
  is mounted.
- zone and heat_pump: sub-meters behind one of the above. The Site device
  never adds them: they are already inside a grid or building meter, and
  adding them again would count the same watts twice. The heat-pump role only
  labels the meter (for dashboards and the heat pump's COP).

The default is zone. It is the one role that changes no site total, so a
meter added without thinking about roles, and every meter configured before
roles existed, leaves the site's figures as they were: a default of grid or
building would silently double-count as soon as a second meter is added.
"""

from collections.abc import Mapping
from enum import StrEnum
from typing import Any, Final

from homeassistant.helpers.selector import (
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
)

CONF_ROLE: Final = "role"


class MeterRole(StrEnum):
    """The place of a meter in the site's wiring."""

    GRID = "grid"
    BUILDING = "building"
    SOLAR = "solar"
    ZONE = "zone"
    HEAT_PUMP = "heat_pump"


DEFAULT_ROLE: Final = MeterRole.ZONE

# The roles the Site device reads; zones and heat pumps are inside them.
SITE_ROLES: Final = frozenset({MeterRole.GRID, MeterRole.BUILDING, MeterRole.SOLAR})


def meter_role(data: Mapping[str, Any]) -> MeterRole:
    """The role in a meter subentry's data; zone when it has none (older entries)."""
    try:
        return MeterRole(str(data.get(CONF_ROLE, DEFAULT_ROLE)))
    except ValueError:
        return DEFAULT_ROLE


def role_selector() -> SelectSelector:
    """The role dropdown of the meter form, with translated options."""
    return SelectSelector(
        SelectSelectorConfig(
            options=[role.value for role in MeterRole],
            translation_key=CONF_ROLE,
            mode=SelectSelectorMode.DROPDOWN,
        )
    )
