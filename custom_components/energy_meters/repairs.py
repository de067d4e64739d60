"""Repair issues: things the user should know about and confirm.

A counter that restarted from a new level is accepted automatically (so the
Energy dashboard keeps counting), but the user is told what happened, with the
numbers, and confirms it: a replaced meter is expected, a reset nobody did is
worth a look at the meter.

A meter whose profile does not load (its file deleted, or broken) is not read
and its entities are unavailable; it says so with a repair of its own, since
the user may not connect a broken file to a meter that stopped. Its counters
are kept meanwhile (see the coordinator), so nothing is lost but readings.
"""

from collections.abc import Mapping, Sequence

from homeassistant.components.repairs import ConfirmRepairFlow, RepairsFlow
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir

from .const import DOMAIN
from .meterlib.model import Quantity
from .meterlib.quality import CounterEvent
from .meterlib.schedule import FIT_HYSTERESIS, USABLE_SHARE, MeterLoad, plan_fit

MISSING_PROFILE_ISSUE_PREFIX = "missing_profile_"


def missing_profile_issue_id(entry_id: str, subentry_id: str) -> str:
    """One issue per meter, named by its gateway so a gateway can clear its own."""
    return f"{MISSING_PROFILE_ISSUE_PREFIX}{entry_id}_{subentry_id}"


@callback
def async_report_missing_profiles(
    hass: HomeAssistant, entry: ConfigEntry, missing: Mapping[str, str]
) -> None:
    """Raise an issue for each meter of the gateway without its profile; drop the rest.

    `missing` maps meter subentry ids to the profile ids they ask for. The
    gateway's other issues of this kind are of meters whose profile is back,
    or that were removed: they go. Not persistent: the gateway raises them
    again each time it is set up, from what is true then.
    """
    prefix = f"{MISSING_PROFILE_ISSUE_PREFIX}{entry.entry_id}_"
    current = {
        missing_profile_issue_id(entry.entry_id, subentry_id): subentry_id
        for subentry_id in missing
    }
    registry = ir.async_get(hass)
    for domain, issue_id in list(registry.issues):
        if domain == DOMAIN and issue_id.startswith(prefix) and issue_id not in current:
            ir.async_delete_issue(hass, DOMAIN, issue_id)
    for issue_id, subentry_id in current.items():
        subentry = entry.subentries.get(subentry_id)
        ir.async_create_issue(
            hass,
            DOMAIN,
            issue_id,
            is_fixable=False,
            severity=ir.IssueSeverity.ERROR,
            translation_key="missing_profile",
            translation_placeholders={
                "meter": subentry.title if subentry else subentry_id,
                "profile": missing[subentry_id],
                "gateway": entry.title,
            },
        )


def read_rates_issue_id(entry_id: str) -> str:
    """One issue per gateway: its meters' read rates share one bus."""
    return f"read_rates_{entry_id}"


@callback
def async_report_read_rates(
    hass: HomeAssistant, entry: ConfigEntry, loads: Sequence[MeterLoad]
) -> None:
    """Say so when a gateway's read rates do not fit its bus, and what does.

    Falling behind silently is the failure this prevents: the user sees
    "at most 14 meters at 1 s" and what the rates achieve as configured.
    Once raised, the issue stays until the rates need clearly less than the
    usable share, so a bus right at the limit does not raise it on one round
    and drop it on the next.
    """
    issue_id = read_rates_issue_id(entry.entry_id)
    fit = plan_fit(loads)
    raised = ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is not None
    if not fit.fast_meters:
        # Without fast reads there are no rates to choose between: a bus
        # that cannot keep up is the coordinator's overrun warning.
        if raised:
            ir.async_delete_issue(hass, DOMAIN, issue_id)
        return
    if fit.fits and (not raised or fit.need <= USABLE_SHARE - FIT_HYSTERESIS):
        if raised:
            ir.async_delete_issue(hass, DOMAIN, issue_id)
        return
    if fit.fits:
        return
    key = (
        "read_rates_full_behind"
        if fit.achievable_fast_interval_s is None
        else "read_rates_fast_behind"
    )
    ir.async_create_issue(
        hass,
        DOMAIN,
        issue_id,
        is_fixable=False,
        severity=ir.IssueSeverity.WARNING,
        translation_key=key,
        translation_placeholders={
            "gateway": entry.title,
            "need": f"{fit.need * 100:.0f}",
            "usable": f"{USABLE_SHARE * 100:.0f}",
            "fast_meters": str(fit.fast_meters),
            "max_fast_meters": str(fit.max_fast_meters),
            "fast_interval": f"{fit.fast_interval_s or 0:g}",
            "full_interval": f"{fit.full_interval_s:g}",
            "achieved_full": f"{fit.achievable_full_interval_s or 0:.0f}",
            "achieved_fast": f"{fit.achievable_fast_interval_s or 0:.1f}",
        },
    )


@callback
def async_clear_read_rates(hass: HomeAssistant, entry: ConfigEntry) -> None:
    """A gateway that unloads takes its issue along; its next setup judges anew."""
    ir.async_delete_issue(hass, DOMAIN, read_rates_issue_id(entry.entry_id))


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
