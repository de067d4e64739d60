"""Meters that are not on a Modbus bus: MQTT and HTTP meters, and guarded sensors.

Each is a config entry of its own (no gateway, no bus to share), with the
same guarantees as a Modbus meter: every value goes through the meter
library's filters (`MeterQuality`), so a spike is held back and an energy
counter never goes down; counter state is kept across restarts in the same
kind of store; a counter reset raises the same repair issue; and the meter's
role puts it into the Site's sums.

`SingleMeter` is what the three share: the filters, what was published,
whether the meter is available now. How values arrive is theirs:
`mqtt_source` subscribes to topics, `http_source` polls a URL and `guard`
follows another entity's state. It is a DataUpdateCoordinator so that
entities and the Site listen to all meters, Modbus or not, the same way; the
push kinds have no update interval and tell their listeners themselves.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Final, override

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.config_entries import ConfigEntry
from homeassistant.const import CONF_ACCESS_TOKEN, CONF_URL
from homeassistant.core import HomeAssistant
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator
from homeassistant.util import dt as dt_util

from ..const import (
    CONF_KIND,
    KIND_GUARD,
    KIND_HTTP_METER,
    KIND_MQTT_METER,
    LOGGER as _LOGGER,
)
from ..counter_store import CounterStore
from ..meterlib.filtering import MeterQuality
from ..meterlib.model import Quantity
from ..meterlib.payload import (
    FIELD_QUANTITY,
    EnergyUnit,
    Field,
    PayloadFormat,
    PowerUnit,
)
from ..quality_section import quality_settings
from ..redaction import redact_text, secrets_of
from ..repairs import async_report_counter_reset
from ..roles import MeterRole, meter_role

SINGLE_METER_KINDS: Final = frozenset({KIND_MQTT_METER, KIND_HTTP_METER, KIND_GUARD})
# The key under which the one meter's counters sit in its entry's store.
_STORE_KEY: Final = "meter"
TO_REDACT: Final = {CONF_URL, CONF_ACCESS_TOKEN, "headers"}
# What bare numbers are in, for MQTT and HTTP meters (see `meterlib.payload`).
CONF_POWER_UNIT: Final = "power_unit"
CONF_ENERGY_UNIT: Final = "energy_unit"
# The JSON path of each field, as stored in the entry's data (optional).
PATH_KEYS: Final[Mapping[Field, str]] = {f: f"{f.value}_path" for f in Field}

type SingleMeterConfigEntry = ConfigEntry[SingleMeter]


def is_single_meter(entry: ConfigEntry) -> bool:
    """Whether an entry is an MQTT meter, an HTTP meter or a guarded sensor."""
    return entry.data.get(CONF_KIND) in SINGLE_METER_KINDS


def payload_format(data: Mapping[str, Any]) -> PayloadFormat:
    """How an MQTT or HTTP meter's payloads are read: bare units and JSON paths."""
    return PayloadFormat(
        power_unit=PowerUnit(data.get(CONF_POWER_UNIT, PowerUnit.W)),
        energy_unit=EnergyUnit(data.get(CONF_ENERGY_UNIT, EnergyUnit.KWH)),
        paths={f: str(data[key]) for f, key in PATH_KEYS.items() if data.get(key)},
    )


@dataclass(slots=True)
class SingleMeterStatus:
    """What the meter published last, and how reading it has gone."""

    published: dict[Quantity, float | None] = field(default_factory=dict)
    online: bool = True
    last_update: datetime | None = None
    last_error: str | None = None
    rejected_total: int = 0


class SingleMeter(DataUpdateCoordinator[None]):
    """One non-Modbus meter: its filters, its published values, its availability."""

    config_entry: SingleMeterConfigEntry

    def __init__(
        self,
        hass: HomeAssistant,
        entry: SingleMeterConfigEntry,
        fields: frozenset[Field],
        *,
        update_interval_s: float | None = None,
    ) -> None:
        """Filters for `fields`, settings from the entry's data."""
        super().__init__(
            hass,
            _LOGGER,
            config_entry=entry,
            name=entry.title,
            update_interval=None
            if update_interval_s is None
            else timedelta(seconds=update_interval_s),
        )
        self.fields = fields
        self.quantities = frozenset(FIELD_QUANTITY[f] for f in fields)
        # Not on a shared bus: no gateway's stale zeros to hold the first value for.
        settings = replace(quality_settings(entry.data), confirm_first_reading=False)
        self.quality = MeterQuality(settings, self.quantities)
        self.status = SingleMeterStatus()
        self.store = CounterStore(hass, entry.entry_id)

    @property
    def role(self) -> MeterRole:
        """Where the meter sits in the site (zone unless the user said otherwise)."""
        return meter_role(self.config_entry.data)

    @property
    def available(self) -> bool:
        """Whether entities should show the published values."""
        return self.status.online

    async def async_restore(self) -> None:
        """Continue the counters from where the last run left them."""
        saved = await self.store.async_load()
        self.quality.restore_counters(saved.get(_STORE_KEY, {}))

    def ingest(self, values: Mapping[Field, float | None]) -> int:
        """Filter one set of values (a message, an answer, a state) and keep it.

        Fields not in `values` keep what they published: an MQTT message on
        the voltage topic says nothing about power. Returns how many values
        the filters held back or dropped.
        """
        filtered = self.quality.apply(
            {FIELD_QUANTITY[f]: v for f, v in values.items() if f in self.fields},
            dt_util.utcnow().timestamp(),
        )
        self.status.published = {**self.status.published, **filtered.values}
        self.status.last_update = dt_util.utcnow()
        self.status.last_error = None
        for quantity, event in filtered.events.items():
            async_report_counter_reset(
                self.hass,
                self.config_entry,
                self.config_entry.entry_id,
                quantity,
                event,
                meter_name=self.config_entry.title,
            )
        if filtered.values.keys() & self.quality.counters.keys():
            self.store.async_schedule_save(self._counters_state)
        return filtered.held_back

    def reject(self, reason: str) -> None:
        """Count a payload that could not be read; log it once until one can be."""
        self.status.rejected_total += 1
        if self.status.last_error is None:
            _LOGGER.warning("%s: %s; keeping the last values", self.name, reason)
        self.status.last_error = reason

    def _counters_state(self) -> dict[str, dict[str, dict[str, Any]]]:
        return {_STORE_KEY: self.quality.counters_state()}

    @override
    async def async_shutdown(self) -> None:
        """Stop, and keep the counters."""
        await super().async_shutdown()
        await self.store.async_save(self._counters_state())

    def diagnostics(self) -> dict[str, Any]:
        """Settings (credentials redacted), what was published and the filter state."""
        entry = self.config_entry
        return {
            "entry": {
                "kind": entry.data.get(CONF_KIND),
                "data": async_redact_data(dict(entry.data), TO_REDACT),
                "title": "**REDACTED**",
            },
            "available": self.available,
            "published": {str(q): v for q, v in self.status.published.items()},
            "last_error": redact_text(
                self.status.last_error, secrets_of(entry.data, TO_REDACT)
            ),
            "rejected_total": self.status.rejected_total,
            "held_back_total": self.quality.held_back_total,
            "counters": self.quality.counters_state(),
            **self.extra_diagnostics(),
        }

    def extra_diagnostics(self) -> dict[str, Any]:
        """What a kind of meter adds to its diagnostics."""
        return {}
