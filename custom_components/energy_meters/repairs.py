"""Repair issues: things the user should know about and confirm.

A counter that restarted from a new level is accepted automatically (so the
Energy dashboard keeps counting), but the user is told what happened, with the
numbers, and confirms it: a replaced meter is expected, a reset nobody did is
worth a look at the meter.
"""

from homeassistant.components.repairs import ConfirmRepairFlow, RepairsFlow
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir

from .const import DOMAIN
from .meterlib.model import Quantity
from .meterlib.quality import CounterEvent


def counter_reset_issue_id(subentry_id: str, quantity: Quantity) -> str:
    """One issue per meter and counter: a second reset updates the first."""
    return f"counter_reset_{subentry_id}_{quantity}"


@callback
def async_report_counter_reset(
    hass: HomeAssistant,
    entry: ConfigEntry,
    subentry_id: str,
    quantity: Quantity,
    event: CounterEvent,
    *,
    meter_name: str | None = None,
) -> None:
    """Tell the user a counter restarted from a new level and was continued.

    `subentry_id` names the meter: a Modbus meter's subentry, or the entry
    itself for a meter that is an entry of its own (`meter_name` then).
    """
    subentry = entry.subentries.get(subentry_id)
    ir.async_create_issue(
        hass,
        DOMAIN,
        counter_reset_issue_id(subentry_id, quantity),
        is_fixable=True,
        is_persistent=True,
        severity=ir.IssueSeverity.WARNING,
        translation_key="counter_reset",
        translation_placeholders={
            "meter": subentry.title if subentry else (meter_name or subentry_id),
            "quantity": str(quantity),
            "previous": f"{event.previous_raw:.3f}",
            "new": f"{event.new_raw:.3f}",
            "published": f"{event.published:.3f}",
        },
    )


async def async_create_fix_flow(
    hass: HomeAssistant, issue_id: str, data: dict[str, str | int | float | None] | None
) -> RepairsFlow:
    """Counter resets need only the user's acknowledgement."""
    return ConfirmRepairFlow()
