"""Reading the old stack's stores: Prometheus' HTTP API and InfluxDB 1.x's InfluxQL.

Both are asked in slices of time, so a year never arrives as one answer
too big to hold (Prometheus refuses more than 11,000 points per series and
query anyway). Counters come as samples (Prometheus `query_range` at the
chosen step; InfluxDB's raw points); power as hourly mean, minimum and
maximum computed by the store itself (`avg_over_time`/… over the hour, or
InfluxQL's `GROUP BY time(1h)`), which is what the recorder keeps of a
measurement and saves moving every sample. Hours are UTC hours, as the
recorder's.

The answers are parsed off the event loop (`parse` is handed to an executor
by the caller): a slice is a few hundred kilobytes of JSON.
"""

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
import json
import re
from typing import Any, Final

import aiohttp

from .counter import HOUR

# Points per query and series: below Prometheus' limit of 11,000.
MAX_POINTS: Final = 10_000
INFLUX_SLICE_S: Final = 7 * 24 * HOUR
_TIMEOUT: Final = aiohttp.ClientTimeout(total=120)
_NAME = re.compile(r"^[A-Za-z_:][A-Za-z0-9_:]*$")


class SourceError(Exception):
    """The store could not be asked or did not answer as expected."""

    def __init__(self, reason: str, detail: str) -> None:
        """`reason` is a translation key's suffix; `detail` what the store said."""
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True, slots=True)
class HourlyMean:
    """A measurement's hour: mean, minimum and maximum (source unit)."""

    start: int
    mean: float
    minimum: float
    maximum: float


type Parse = Callable[[str], Any]
type Run = Callable[[Parse, str], Awaitable[Any]]
"""Runs a parser on an answer's text off the event loop."""


@dataclass(frozen=True, slots=True, kw_only=True)
class PrometheusSeries:
    """One series in Prometheus: a metric name and a label selector."""

    url: str
    metric: str
    selector: str = ""
    step_s: int = 60

    def expression(self) -> str:
        """The series as PromQL, e.g. `wago_energy_total_kwh{instance="wago"}`."""
        if not _NAME.match(self.metric):
            raise SourceError("bad_query", self.metric)
        selector = self.selector.strip()
        if selector and not (selector.startswith("{") and selector.endswith("}")):
            selector = "{" + selector + "}"
        return self.metric + selector


@dataclass(frozen=True, slots=True, kw_only=True)
class InfluxSeries:
    """One series in InfluxDB 1.x: database, measurement, field and tag values."""

    url: str
    database: str
    measurement: str
    field: str = "value"
    tags: tuple[tuple[str, str], ...] = ()
    username: str | None = None
    password: str | None = None

    def where(self, start: int, end: int) -> str:
        """The InfluxQL condition for the tags and a time slice [start, end)."""
        terms = [f"{_ident(key)} = {_string(value)}" for key, value in self.tags]
        terms += [f"time >= {start}s", f"time < {end}s"]
        return " AND ".join(terms)


def _ident(name: str) -> str:
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _string(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


async def _get(session: aiohttp.ClientSession, url: str, params: dict[str, str]) -> str:
    try:
        async with session.get(url, params=params, timeout=_TIMEOUT) as response:
            text = await response.text()
            if response.status >= 400:  # noqa: PLR2004
                raise SourceError("refused", f"HTTP {response.status}: {text[:300]}")
            return text
    except (aiohttp.ClientError, TimeoutError) as err:
        raise SourceError("unreachable", f"{url}: {err!r}") from err


def parse_prometheus(text: str) -> list[tuple[float, float]]:
    """The samples of a `query_range` answer (a query that selects one series)."""
    try:
        answer = json.loads(text)
        if answer.get("status") != "success":
            raise SourceError("refused", str(answer.get("error", text[:300])))
        result = answer["data"]["result"]
    except (ValueError, KeyError, TypeError, AttributeError) as err:
        raise SourceError("bad_answer", text[:300]) from err
    if len(result) > 1:
        labels = ", ".join(json.dumps(series.get("metric", {})) for series in result)
        raise SourceError("ambiguous", labels)
    if not result:
        return []
    return [(float(t), float(v)) for t, v in result[0]["values"]]


def parse_influx(text: str) -> list[list[Any]]:
    """The rows of an InfluxQL answer (one statement, one series), epoch seconds."""
    try:
        answer = json.loads(text)
        statement = answer["results"][0]
    except (ValueError, KeyError, IndexError, TypeError) as err:
        raise SourceError("bad_answer", text[:300]) from err
    if "error" in statement:
        raise SourceError("refused", str(statement["error"]))
    series = statement.get("series", [])
    if len(series) > 1:
        raise SourceError("ambiguous", ", ".join(str(s.get("tags")) for s in series))
    return list(series[0]["values"]) if series else []


def time_slices(start: int, end: int, size: int) -> list[tuple[int, int]]:
    """[start, end) cut into slices of at most `size` seconds."""
    return [(t, min(t + size, end)) for t in range(start, end, size)]


async def prometheus_samples(
    session: aiohttp.ClientSession,
    series: PrometheusSeries,
    span: tuple[int, int],
    run: Run,
) -> list[tuple[float, float]]:
    """A counter's samples in the span [start, end], at the series' step."""
    start, end = span
    expression = series.expression()
    step = series.step_s
    samples: list[tuple[float, float]] = []
    for first, last in time_slices(start, end, step * MAX_POINTS):
        text = await _get(
            session,
            series.url.rstrip("/") + "/api/v1/query_range",
            {
                "query": expression,
                "start": str(first),
                "end": str(last),
                "step": f"{step}s",
            },
        )
        samples += await run(parse_prometheus, text)
    return samples


async def prometheus_hourly(
    session: aiohttp.ClientSession,
    series: PrometheusSeries,
    span: tuple[int, int],
    run: Run,
) -> list[HourlyMean]:
    """A measurement's hourly mean/min/max for the hours in [start, end).

    Evaluated at each hour's end over the hour before it, so the value
    stamped `start + 1 h` belongs to the hour that starts at `start`.
    """
    start, end = span
    expression = series.expression()
    columns: dict[str, dict[int, float]] = {}
    for function in ("avg_over_time", "min_over_time", "max_over_time"):
        values: dict[int, float] = {}
        for first, last in time_slices(start, end, HOUR * MAX_POINTS):
            text = await _get(
                session,
                series.url.rstrip("/") + "/api/v1/query_range",
                {
                    "query": f"{function}({expression}[1h])",
                    "start": str(first + HOUR),
                    "end": str(last),
                    "step": f"{HOUR}s",
                },
            )
            for t, v in await run(parse_prometheus, text):
                values[int(t) - HOUR] = v
        columns[function] = values
    return [
        HourlyMean(
            hour, mean, columns["min_over_time"][hour], columns["max_over_time"][hour]
        )
        for hour, mean in sorted(columns["avg_over_time"].items())
        if hour in columns["min_over_time"] and hour in columns["max_over_time"]
    ]


async def _influx(
    session: aiohttp.ClientSession, series: InfluxSeries, query: str, run: Run
) -> list[list[Any]]:
    params = {"db": series.database, "q": query, "epoch": "s"}
    if series.username:
        params["u"] = series.username
        params["p"] = series.password or ""
    text = await _get(session, series.url.rstrip("/") + "/query", params)
    rows: list[list[Any]] = await run(parse_influx, text)
    return rows


async def influx_samples(
    session: aiohttp.ClientSession,
    series: InfluxSeries,
    span: tuple[int, int],
    run: Run,
) -> list[tuple[float, float]]:
    """A counter's raw points in the span [start, end)."""
    start, end = span
    samples: list[tuple[float, float]] = []
    field = _ident(series.field)
    source = _ident(series.measurement)
    for first, last in time_slices(start, end, INFLUX_SLICE_S):
        # Identifiers and tag values are quoted and escaped (`_ident`, `_string`).
        query = f"SELECT {field} FROM {source} WHERE {series.where(first, last)}"  # noqa: S608
        rows = await _influx(session, series, query, run)
        samples += [(float(t), float(v)) for t, v in rows if v is not None]
    return samples


async def influx_hourly(
    session: aiohttp.ClientSession,
    series: InfluxSeries,
    span: tuple[int, int],
    run: Run,
) -> list[HourlyMean]:
    """A measurement's hourly mean/min/max, grouped by InfluxDB in UTC hours."""
    start, end = span
    field = _ident(series.field)
    source = _ident(series.measurement)
    # Identifiers and tag values are quoted and escaped (`_ident`, `_string`).
    where = series.where(start, end)
    query = f"SELECT mean({field}), min({field}), max({field}) FROM {source} WHERE {where} GROUP BY time(1h)"  # noqa: S608
    rows = await _influx(session, series, query, run)
    return [
        HourlyMean(int(t), float(mean), float(low), float(high))
        for t, mean, low, high in rows
        if mean is not None and low is not None and high is not None
    ]


def describe(series: PrometheusSeries | InfluxSeries) -> str:
    """The series as the user wrote it, for the preview and the summary."""
    if isinstance(series, PrometheusSeries):
        return series.expression()
    tags: Sequence[str] = [f"{k}={v}" for k, v in series.tags]
    return f"{series.measurement}.{series.field}" + (
        f" [{', '.join(tags)}]" if tags else ""
    )
