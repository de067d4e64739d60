"""The "Import history" button of a gateway: the same import as the action, as a form.

A subentry flow of the gateway, so the gateway's entry shows *Import history*
beside *Add meter*; it never creates a subentry (an import is something that
happens, not something that stays), it ends by starting the import and
saying that a notification will follow. Steps: which meter and where the old
readings are; the preview per month; then the import runs in the
background, with its progress and its summary as a notification, so closing
the dialog does not stop it.
"""

from typing import Any, Final

from homeassistant.config_entries import ConfigSubentryFlow, SubentryFlowResult
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.selector import (
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectOptionDict,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)
import probatio as vol

from .importer import PreparedSeries
from .request import (
    ATTR_DATABASE,
    ATTR_DEVICE_ID,
    ATTR_SELECTOR,
    ATTR_SOURCE,
    ATTR_STEP,
    ATTR_TAGS,
    ATTR_URL,
    DEFAULT_STEP_S,
    SOURCE_INFLUXDB,
    SOURCE_PROMETHEUS,
    ImportPlan,
    build_plan,
)
from .run import async_import, async_preview
from .targets import SeriesKind, device_targets

ATTR_METER: Final = "meter"
# Months shown in the preview: the table stays readable in the dialog.
PREVIEW_MONTHS: Final = 14


def preview_table(prepared: list[PreparedSeries]) -> str:
    """Per month, as Markdown: energy of the meter's total, hours without data, resets, glitches."""
    energy = [s for s in prepared if s.request.target.old.kind is SeriesKind.ENERGY]
    if not energy:
        return ""
    main = energy[0]
    unit = main.metadata["unit_of_measurement"] or ""
    lines = [f"| | {unit} | ∅ h | ↺ | ⚡ |", "|---|---:|---:|---:|---:|"]
    months = sorted({key for series in energy for key in series.months})
    for key in months[-PREVIEW_MONTHS:]:
        month = main.months.get(key)
        resets = sum(s.months[key].resets for s in energy if key in s.months)
        glitches = sum(s.months[key].glitches for s in energy if key in s.months)
        lines.append(
            f"| {key} | {month.energy if month else 0:.1f} | "
            f"{month.hours_without_data if month else 0} | {resets} | {glitches} |"
        )
    return "\n".join(lines)


class HistorySubentryFlow(ConfigSubentryFlow):
    """Import a meter's history from Prometheus or InfluxDB 1.x."""

    _plan: ImportPlan | None = None
    _prepared: list[PreparedSeries] | None = None

    def _meters(self) -> list[SelectOptionDict]:
        """The gateway's meters that have sensors the old exporter had."""
        registry = dr.async_get(self.hass)
        entry = self._get_entry()
        return [
            SelectOptionDict(
                value=device.id, label=device.name_by_user or device.name or device.id
            )
            for device in dr.async_entries_for_config_entry(registry, entry.entry_id)
            if device.config_entries_subentries.get(entry.entry_id, {None}) != {None}
            and device_targets(self.hass, device.id)
        ]

    async def async_step_user(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Which meter, and where its old readings are."""
        meters = self._meters()
        if not meters:
            return self.async_abort(reason="no_meters")
        errors: dict[str, str] = {}
        if user_input is not None:
            data = {**user_input, ATTR_DEVICE_ID: user_input[ATTR_METER]}
            try:
                self._plan = build_plan(self.hass, data)
                self._prepared = await async_preview(self.hass, self._plan)
            except ServiceValidationError as err:
                errors["base"] = _ERRORS.get(err.translation_key or "", "invalid_input")
            except HomeAssistantError as err:
                errors["base"] = _ERRORS.get(err.translation_key or "", "cannot_read")
            else:
                return await self.async_step_preview()
        schema = vol.Schema(
            {
                vol.Required(ATTR_METER, default=meters[0]["value"]): SelectSelector(
                    SelectSelectorConfig(
                        options=meters, mode=SelectSelectorMode.DROPDOWN
                    )
                ),
                vol.Required(ATTR_SOURCE, default=SOURCE_PROMETHEUS): SelectSelector(
                    SelectSelectorConfig(
                        options=[SOURCE_PROMETHEUS, SOURCE_INFLUXDB],
                        translation_key="history_source",
                    )
                ),
                vol.Required(ATTR_URL): TextSelector(
                    TextSelectorConfig(type=TextSelectorType.URL)
                ),
                vol.Optional(ATTR_SELECTOR): TextSelector(),
                vol.Optional(ATTR_DATABASE): TextSelector(),
                vol.Optional(ATTR_TAGS): TextSelector(),
                vol.Required(ATTR_STEP, default=DEFAULT_STEP_S): NumberSelector(
                    NumberSelectorConfig(
                        min=1,
                        max=3600,
                        unit_of_measurement="s",
                        mode=NumberSelectorMode.BOX,
                    )
                ),
            }
        )
        return self.async_show_form(
            step_id="user",
            data_schema=self.add_suggested_values_to_schema(schema, user_input or {}),
            errors=errors,
        )

    async def async_step_preview(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """What would be written, per month; submitting starts the import."""
        if self._plan is None or self._prepared is None:
            return await self.async_step_user()
        if user_input is not None:
            plan, prepared = self._plan, self._prepared
            self.hass.async_create_background_task(
                _import_quietly(self.hass, plan, prepared),
                f"energy_meters history import {plan.title}",
            )
            return self.async_abort(reason="import_started")
        hours = sum(len(series.rows) for series in self._prepared)
        return self.async_show_form(
            step_id="preview",
            data_schema=vol.Schema({}),
            description_placeholders={
                "meter": self._plan.title,
                "sensors": str(sum(1 for s in self._prepared if s.rows)),
                "hours": str(hours),
                "table": preview_table(self._prepared),
            },
        )


_ERRORS: Final = {
    "history_no_sensors": "no_sensors",
    "history_bad_url": "invalid_url",
    "history_bad_tags": "invalid_tags",
    "history_database_required": "database_required",
    "history_unreachable": "cannot_connect",
    "history_refused": "refused",
    "history_bad_answer": "cannot_read",
    "history_ambiguous": "ambiguous",
    "history_bad_query": "cannot_read",
    "history_running": "already_running",
}


async def _import_quietly(
    hass: Any, plan: ImportPlan, prepared: list[PreparedSeries]
) -> None:
    """The import the flow started: its outcome is the notification, not an error."""
    try:
        await async_import(hass, plan, prepared)
    except HomeAssistantError:
        # Already running, or the recorder refused: the notification of the
        # running import stays; nothing else to tell from a background task.
        return
