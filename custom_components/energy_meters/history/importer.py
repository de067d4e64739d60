"""One import: fetch each series, work out its hours, preview them, write them.

`async_prepare` asks the old store and computes every row, writing nothing,
so the preview shows exactly what `async_commit` will write: per month the
energy to be imported, the hours without data, the hours the recorder
already has (left alone), and the resets and glitches that were not booked.
The computation runs in an executor: a year of 30-second samples is a
million values per counter.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Any

import aiohttp
from homeassistant.components.recorder.models import StatisticData, StatisticMetaData
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util

from ..meterlib.quality import CounterRule
from .counter import (
    HOUR,
    CounterFindings,
    accepted_curve,
    clean,
    hourly_consumption,
    hours_without_samples,
)
from .recorded import (
    LiveStarts,
    async_live_sum,
    async_metadata,
    async_write,
    conversion,
    energy_rows,
    power_rows,
)
from .sources import (
    HourlyMean,
    InfluxSeries,
    Parse,
    PrometheusSeries,
    describe,
    influx_hourly,
    influx_samples,
    prometheus_hourly,
    prometheus_samples,
)
from .targets import SeriesKind, Target

type Series = PrometheusSeries | InfluxSeries
_MARGIN_S = 900
type Progress = Callable[[float, str], None]
"""Called with the share done (0…1) and the entity being worked on."""


@dataclass(frozen=True, slots=True, kw_only=True)
class SeriesRequest:
    """One sensor, the series to fill it from, and its plausibility limit."""

    target: Target
    series: Series
    max_power_kw: float


@dataclass(slots=True)
class Month:
    """One month of one series in the preview (months in Home Assistant's time zone)."""

    month: str
    energy: float = 0.0
    hours: int = 0
    hours_without_data: int = 0
    hours_already_recorded: int = 0
    resets: int = 0
    glitches: int = 0

    def as_dict(self) -> dict[str, Any]:
        """For the action's response and the preview."""
        return {
            "month": self.month,
            "energy": round(self.energy, 3),
            "hours": self.hours,
            "hours_without_data": self.hours_without_data,
            "hours_already_recorded": self.hours_already_recorded,
            "resets": self.resets,
            "glitches": self.glitches,
        }


@dataclass(slots=True)
class PreparedSeries:
    """Everything one series will write, worked out before anything is."""

    request: SeriesRequest
    metadata: StatisticMetaData
    rows: list[StatisticData]
    months: dict[str, Month] = field(default_factory=dict)

    @property
    def entity_id(self) -> str:
        """The sensor the rows are for."""
        return self.request.target.entity_id

    def as_dict(self) -> dict[str, Any]:
        """For the action's response and the preview."""
        return {
            "entity_id": self.entity_id,
            "series": describe(self.request.series),
            "kind": self.request.target.old.kind.value,
            "unit": self.metadata["unit_of_measurement"],
            "hours": len(self.rows),
            "energy": round(sum(m.energy for m in self.months.values()), 3),
            "resets": sum(m.resets for m in self.months.values()),
            "glitches": sum(m.glitches for m in self.months.values()),
            "hours_without_data": sum(
                m.hours_without_data for m in self.months.values()
            ),
            "hours_already_recorded": sum(
                m.hours_already_recorded for m in self.months.values()
            ),
            "months": [month.as_dict() for month in self.months.values()],
        }


@dataclass(frozen=True, slots=True)
class _Window:
    start: int
    end: int
    live_start: int
    zone: tzinfo

    def month(self, hour: float) -> str:
        return datetime.fromtimestamp(hour, self.zone).strftime("%Y-%m")


def hour_floor(moment: datetime) -> int:
    """The start of the UTC hour `moment` is in (epoch s)."""
    return int(moment.timestamp()) // HOUR * HOUR


@dataclass(frozen=True, slots=True, kw_only=True)
class _Job:
    """One series being prepared: where to ask, and how its rows are to be made."""

    hass: HomeAssistant
    session: aiohttp.ClientSession
    request: SeriesRequest
    window: _Window
    metadata: StatisticMetaData
    factor: float

    async def run(self, parse: Parse, text: str) -> Any:
        """Parse an answer off the event loop."""
        return await self.hass.async_add_executor_job(parse, text)


async def async_prepare(
    hass: HomeAssistant,
    session: aiohttp.ClientSession,
    requests: Sequence[SeriesRequest],
    span: tuple[datetime, datetime],
    progress: Progress,
) -> list[PreparedSeries]:
    """Fetch every series in the `span` and compute its rows; nothing is written."""
    live_starts = LiveStarts(hass)
    now = hour_floor(dt_util.utcnow())
    first, last = hour_floor(span[0]), min(hour_floor(span[1]), now)
    zone = dt_util.get_default_time_zone()
    prepared: list[PreparedSeries] = []
    for index, request in enumerate(requests):
        target = request.target
        progress(index / len(requests), target.entity_id)
        kind = target.old.kind
        live_start = await live_starts.async_get(target.entity_id, kind, now)
        metadata = await async_metadata(
            hass, target.entity_id, kind, _statistics_unit(hass, target)
        )
        job = _Job(
            hass=hass,
            session=session,
            request=request,
            window=_Window(first, min(last, live_start), live_start, zone),
            metadata=metadata,
            factor=conversion(kind, target.old.unit, metadata["unit_of_measurement"]),
        )
        if kind is SeriesKind.ENERGY:
            series = await _prepare_energy(job)
        else:
            series = await _prepare_power(job)
        _already_recorded(series, job.window, last)
        prepared.append(series)
    progress(1.0, "")
    return prepared


def _statistics_unit(hass: HomeAssistant, target: Target) -> str:
    state = hass.states.get(target.entity_id)
    unit = state.attributes.get("unit_of_measurement") if state else None
    if isinstance(unit, str):
        return unit
    return "kWh" if target.old.kind is SeriesKind.ENERGY else "W"


async def _prepare_energy(job: _Job) -> PreparedSeries:
    request, window = job.request, job.window
    series = request.series
    # The first live hour too (its consumption sets the seam), and a margin
    # either side: an hour's value needs a sample at or beyond each boundary.
    span = (window.start - _MARGIN_S, max(window.start, window.end) + HOUR + _MARGIN_S)
    if isinstance(series, PrometheusSeries):
        samples = await prometheus_samples(job.session, series, span, job.run)
    else:
        samples = await influx_samples(job.session, series, span, job.run)
    to_kwh = conversion(SeriesKind.ENERGY, request.target.old.unit, "kWh")
    rule = CounterRule(max_power_w=request.max_power_kw * 1000)
    hours, findings = await job.hass.async_add_executor_job(
        _energy_hours, samples, to_kwh, rule
    )
    live_sum = await async_live_sum(
        job.hass, request.target.entity_id, window.live_start
    )
    seam = hours.get(window.live_start)
    anchor = 0.0
    if live_sum is not None and seam is not None:
        anchor = live_sum - seam * job.factor
    importable = {
        hour: kwh * job.factor
        for hour, kwh in hours.items()
        if window.start <= hour < window.end
    }
    prepared = PreparedSeries(request, job.metadata, energy_rows(importable, anchor))
    _summarise(prepared, window, set(importable), findings)
    for hour, value in importable.items():
        prepared.months[window.month(hour)].energy += value
    return prepared


def _energy_hours(
    samples: list[tuple[float, float]], to_kwh: float, rule: CounterRule
) -> tuple[dict[int, float], CounterFindings]:
    kwh = [(t, v * to_kwh) for t, v in clean(samples)]
    curve, findings = accepted_curve(kwh, rule)
    return hourly_consumption(curve), findings


async def _prepare_power(job: _Job) -> PreparedSeries:
    series, window = job.request.series, job.window
    hourly: list[HourlyMean]
    span = (window.start, window.end)
    if window.end <= window.start:
        hourly = []
    elif isinstance(series, PrometheusSeries):
        hourly = await prometheus_hourly(job.session, series, span, job.run)
    else:
        hourly = await influx_hourly(job.session, series, span, job.run)
    hourly = [hour for hour in hourly if window.start <= hour.start < window.end]
    prepared = PreparedSeries(job.request, job.metadata, power_rows(hourly, job.factor))
    _summarise(prepared, window, {hour.start for hour in hourly}, CounterFindings())
    return prepared


def _summarise(
    prepared: PreparedSeries,
    window: _Window,
    written: set[int],
    findings: CounterFindings,
) -> None:
    """Per month: hours written, without data, already recorded; resets, glitches."""
    months = prepared.months
    spread = set(hours_without_samples(findings.gaps))

    def month(hour: float) -> Month:
        key = window.month(hour)
        if key not in months:
            months[key] = Month(key)
        return months[key]

    for hour in range(window.start, window.end, HOUR):
        if hour in written:
            month(hour).hours += 1
            if hour in spread:
                month(hour).hours_without_data += 1
        else:
            month(hour).hours_without_data += 1
    for moment in findings.resets:
        if window.start <= moment < window.end:
            month(moment).resets += 1
    for moment in findings.glitches:
        if window.start <= moment < window.end:
            month(moment).glitches += 1


def _already_recorded(prepared: PreparedSeries, window: _Window, last: int) -> None:
    """Count the asked hours the recorder already has (none of them is written)."""
    for hour in range(max(window.start, window.live_start), last, HOUR):
        key = window.month(hour)
        prepared.months.setdefault(key, Month(key)).hours_already_recorded += 1


async def async_commit(
    hass: HomeAssistant, prepared: Sequence[PreparedSeries], progress: Progress
) -> None:
    """Write every prepared series into the recorder."""
    for index, series in enumerate(prepared):
        progress(index / max(len(prepared), 1), series.entity_id)
        await async_write(hass, series.metadata, series.rows)
    progress(1.0, "")
