"""What the recorder already holds of a sensor, and writing imported hours into it.

Imported hours go into the sensor's own long-term statistics (source
`recorder`, the entity id as statistic id), so the Energy dashboard, the
statistics graphs and the dashboard's daily bars show them as the sensor's
past; `async_import_statistics` replaces a row of the same hour, which makes
importing twice the same as importing once.

Live statistics are never written over: hours from the sensor's first live
hour on are left to the recorder. That first live hour is found once, before
the first import, and remembered (imported rows are indistinguishable from
live ones afterwards), so a later import over the same period still knows
where the live statistics begin.

The seam: the recorder starts a new sensor's sum at 0 at its first state and
continues from its own 5-minute statistics, which an import does not touch.
Imported sums therefore run *up to* the live ones: the last imported hour
ends at the live sum minus what the old data says was consumed in the first
live hour (its whole hour, so the bar of that hour is the hour's consumption,
not the part since Home Assistant started), or at 0 when the old data does
not reach the live hour. Sums before the switch are negative then; every bar
is a difference of sums, and so is unaffected.
"""

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Final

from homeassistant.components.recorder.models import (
    StatisticData,
    StatisticMeanType,
    StatisticMetaData,
)
from homeassistant.components.recorder.statistics import (
    async_import_statistics,
    get_metadata,
    statistics_during_period,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers.recorder import get_instance
from homeassistant.helpers.storage import Store
from homeassistant.util.unit_conversion import EnergyConverter, PowerConverter

from ..const import DOMAIN
from .counter import HOUR
from .sources import HourlyMean
from .targets import SeriesKind

STORAGE_VERSION: Final = 1
# Rows per recorder job: progress can be shown between them, and one job
# never holds the recorder's queue for long.
ROWS_PER_JOB: Final = 500
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_CONVERTERS: Final = {
    SeriesKind.ENERGY: EnergyConverter,
    SeriesKind.POWER: PowerConverter,
}


def utc(epoch: float) -> datetime:
    """An epoch second as an aware UTC datetime."""
    return datetime.fromtimestamp(epoch, UTC)


class LiveStarts:
    """Where each sensor's live statistics begin (epoch s), remembered across imports."""

    def __init__(self, hass: HomeAssistant) -> None:
        """One file for the integration: a statistic id → hour map."""
        self._hass = hass
        self._store: Store[dict[str, int]] = Store(
            hass, STORAGE_VERSION, f"{DOMAIN}.history_live_starts"
        )
        self._starts: dict[str, int] | None = None

    async def async_get(self, statistic_id: str, kind: SeriesKind, now: int) -> int:
        """The first live hour; `now`'s hour for a sensor the recorder has not met."""
        if self._starts is None:
            stored = await self._store.async_load()
            self._starts = dict(stored) if isinstance(stored, dict) else {}
        if statistic_id not in self._starts:
            first = await _first_row(self._hass, statistic_id, kind)
            self._starts[statistic_id] = now if first is None else min(first, now)
            await self._store.async_save(self._starts)
        return self._starts[statistic_id]


async def _first_row(
    hass: HomeAssistant, statistic_id: str, kind: SeriesKind
) -> int | None:
    rows = await get_instance(hass).async_add_executor_job(
        statistics_during_period,
        hass,
        _EPOCH,
        None,
        {statistic_id},
        "hour",
        None,
        {"sum"} if kind is SeriesKind.ENERGY else {"mean"},
    )
    found = rows.get(statistic_id, [])
    return int(found[0]["start"]) if found else None


async def async_live_sum(
    hass: HomeAssistant, statistic_id: str, hour: int
) -> float | None:
    """The recorder's sum at the end of `hour`, if it has that hour."""
    rows = await get_instance(hass).async_add_executor_job(
        statistics_during_period,
        hass,
        utc(hour),
        utc(hour + HOUR),
        {statistic_id},
        "hour",
        None,
        {"sum"},
    )
    found = rows.get(statistic_id, [])
    value = found[0].get("sum") if found else None
    return None if value is None else float(value)


async def async_metadata(
    hass: HomeAssistant, statistic_id: str, kind: SeriesKind, unit: str
) -> StatisticMetaData:
    """The sensor's statistics metadata: the recorder's own if it has any.

    Keeping the recorder's (unit included) means an import never changes how
    the live statistics are described; a sensor not yet recorded gets what
    the recorder would give it.
    """
    found = await get_instance(hass).async_add_executor_job(
        lambda: get_metadata(hass, statistic_ids={statistic_id})
    )
    if statistic_id in found:
        return found[statistic_id][1]
    return StatisticMetaData(
        mean_type=StatisticMeanType.NONE
        if kind is SeriesKind.ENERGY
        else StatisticMeanType.ARITHMETIC,
        has_sum=kind is SeriesKind.ENERGY,
        name=None,
        source="recorder",
        statistic_id=statistic_id,
        unit_class=_CONVERTERS[kind].UNIT_CLASS,
        unit_of_measurement=unit,
    )


def conversion(kind: SeriesKind, from_unit: str, to_unit: str | None) -> float:
    """The factor from the old stack's unit to the statistics' (kW → W, Wh → kWh)."""
    if to_unit is None or from_unit == to_unit:
        return 1.0
    return float(_CONVERTERS[kind].convert(1.0, from_unit, to_unit))


def energy_rows(hours: dict[int, float], anchor: float) -> list[StatisticData]:
    """Hourly rows whose sums rise by each hour's consumption and end at `anchor`."""
    rows: list[StatisticData] = []
    total = anchor
    for hour in sorted(hours, reverse=True):
        rows.append(StatisticData(start=utc(hour), sum=total))
        total -= hours[hour]
    rows.reverse()
    return rows


def power_rows(hours: Sequence[HourlyMean], factor: float) -> list[StatisticData]:
    """Hourly mean, minimum and maximum rows, converted by `factor`."""
    return [
        StatisticData(
            start=utc(hour.start),
            mean=hour.mean * factor,
            min=hour.minimum * factor,
            max=hour.maximum * factor,
        )
        for hour in hours
    ]


async def async_write(
    hass: HomeAssistant, metadata: StatisticMetaData, rows: Sequence[StatisticData]
) -> None:
    """Hand the rows to the recorder in jobs, waiting for each to be committed."""
    instance = get_instance(hass)
    for first in range(0, len(rows), ROWS_PER_JOB):
        # A copy each time: the recorder fills in what the metadata leaves out.
        async_import_statistics(
            hass, metadata.copy(), rows[first : first + ROWS_PER_JOB]
        )
        await instance.async_block_till_done()


def describe_metadata(metadata: StatisticMetaData) -> dict[str, Any]:
    """The unit the rows are in, for the summary."""
    return {"unit": metadata["unit_of_measurement"]}
