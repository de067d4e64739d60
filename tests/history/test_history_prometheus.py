"""A year of the old exporter in a real Prometheus, imported into a meter's statistics.

The meter is a real gateway meter on the simulator, recorded by a real
recorder; Prometheus is Debian's, filled through promtool with a synthetic
year whose true consumption is known exactly (`devtools.old_stack`), a
counter reset and a zero glitch in it. What the Energy dashboard reads,
`recorder/statistics_during_period`, is compared with that truth.
"""

from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import Any

from homeassistant.components.recorder import Recorder
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
    do_adhoc_statistics,
)
from pytest_homeassistant_custom_component.typing import WebSocketGenerator

from custom_components.energy_meters.const import DOMAIN
from devtools.old_stack import PHASES, OldYear, Store, power_kw, true_energy
from simulator.server import ModbusSimulator
from tests.helpers import async_add_gateway

ENERGY = "sensor.heat_pump_meter_energy_import"
ENERGY_L1 = "sensor.heat_pump_meter_energy_import_l1"
POWER = "sensor.heat_pump_meter_power"
HOUR = 3600


async def _statistics(
    ws: Any,
    statistic_id: str,
    span: tuple[float, float],
    period: str = "hour",
    types: tuple[str, ...] = ("sum",),
) -> list[dict[str, Any]]:
    start, end = span
    await ws.send_json_auto_id(
        {
            "type": "recorder/statistics_during_period",
            "start_time": datetime.fromtimestamp(start, UTC).isoformat(),
            "end_time": datetime.fromtimestamp(end, UTC).isoformat(),
            "statistic_ids": [statistic_id],
            "period": period,
            "types": list(types),
        }
    )
    response = await ws.receive_json()
    assert response["success"], response
    rows: list[dict[str, Any]] = response["result"].get(statistic_id, [])
    return rows


async def _compile_live_hour(hass: HomeAssistant, hour: datetime) -> None:
    """Let the recorder compile the hour's 5-minute statistics and the hour itself."""
    for minute in range(0, 60, 5):
        do_adhoc_statistics(hass, start=hour + timedelta(minutes=minute))
    await async_wait_recording_done(hass)


def _local_midnights(first: float, last: float) -> list[float]:
    zone = dt_util.get_default_time_zone()
    day = datetime.fromtimestamp(first, zone).date() + timedelta(days=1)
    midnights = []
    while (
        moment := datetime.combine(day, datetime.min.time(), zone)
    ).timestamp() <= last:
        midnights.append(moment.timestamp())
        day += timedelta(days=1)
    return midnights


async def _import(
    hass: HomeAssistant, call: dict[str, Any], *, preview: bool = False
) -> dict[str, Any]:
    response = await hass.services.async_call(
        DOMAIN,
        "import_history",
        {**call, "preview": preview},
        blocking=True,
        return_response=True,
    )
    await async_wait_recording_done(hass)
    assert isinstance(response, dict)
    return {item["entity_id"]: item for item in response["series"]}


async def _check_days(ws: Any, year: OldYear, seam: float) -> float:
    """Every whole local day of the year against the truth; the worst deviation."""
    midnights = _local_midnights(year.start + HOUR, seam)
    span = (midnights[0], midnights[-1])
    days = await _statistics(ws, ENERGY, span, "day", ("change",))
    change = {row["start"] / 1000: row["change"] for row in days}
    worst = 0.0
    for start, end in pairwise(midnights):
        truth = true_energy(end) - true_energy(start)
        worst = max(worst, abs(change[start] - truth) / truth)
    # The reset's and the glitch's days are among them; booked, either would
    # have been a day of 12,000 kWh.
    for moment in (year.reset_at, year.glitch_at):
        assert moment is not None
        day = max(m for m in midnights if m <= moment)
        following = min(m for m in midnights if m > moment)
        truth = true_energy(following) - true_energy(day)
        assert change[day] == pytest.approx(truth, rel=0.001)
    l1 = await _statistics(ws, ENERGY_L1, span, "day", ("change",))
    truth = (true_energy(midnights[1]) - true_energy(midnights[0])) * PHASES["L1"]
    assert l1[0]["change"] == pytest.approx(truth, rel=0.001)
    return worst


async def _check_seam(
    ws: Any, year: OldYear, seam: float, live: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The live hour untouched, the hour before it imported, the year adding up."""
    hourly = await _statistics(ws, ENERGY, (year.start, seam + HOUR))
    assert hourly[-1]["start"] / 1000 == seam
    assert hourly[-1]["sum"] == live[0]["sum"]
    assert hourly[-2]["start"] / 1000 == seam - HOUR  # no gap
    imported = hourly[-2]["sum"] - hourly[0]["sum"]
    truth = true_energy(seam) - true_energy(hourly[0]["start"] / 1000 + HOUR)
    assert imported == pytest.approx(truth, rel=1e-4)
    # The seam's bar is the live hour's own consumption: no spike, not negative.
    assert 0 <= hourly[-1]["sum"] - hourly[-2]["sum"] < 1
    return hourly


async def _check_power(ws: Any, seam: float) -> None:
    """Hourly mean, minimum and maximum, in W."""
    span = (seam - 5 * HOUR, seam)
    power = await _statistics(ws, POWER, span, "hour", ("mean", "min", "max"))
    assert len(power) == 5
    for row in power:
        start = row["start"] / 1000
        assert row["mean"] == pytest.approx(power_kw(start + 1800) * 1000, rel=0.01)
        assert row["min"] <= row["mean"] <= row["max"]


async def test_a_year_from_prometheus_gives_the_true_daily_consumption(  # noqa: PLR0917 (fixtures)
    recorder_mock: Recorder,
    hass: HomeAssistant,
    hass_ws_client: WebSocketGenerator,
    simulator: ModbusSimulator,
    prometheus: Store,
    year: OldYear,
) -> None:
    """Daily sums within 0.1 %, reset and glitch add nothing, twice is once, live goes on."""
    await hass.config.async_update(time_zone="Europe/Berlin")
    await async_add_gateway(hass, simulator)
    live_hour = dt_util.utcnow().replace(minute=0, second=0, microsecond=0)
    await _compile_live_hour(hass, live_hour)
    ws = await hass_ws_client(hass)
    seam = live_hour.timestamp()
    live = await _statistics(ws, ENERGY, (seam, seam + HOUR))
    assert len(live) == 1

    call = {"device_id": _meter_device(hass), "url": prometheus.url, "step": 300}
    series = await _import(hass, call, preview=True)
    # The meter's eight sensors; the store holds only total and L1.
    assert len(series) == 8
    assert series["sensor.heat_pump_meter_power_l2"]["hours"] == 0
    assert series[ENERGY]["hours"] > 364 * 24
    assert (series[ENERGY]["resets"], series[ENERGY]["glitches"]) == (1, 1)
    assert await _statistics(ws, ENERGY, (year.start, seam)) == []

    await _import(hass, call)
    worst = await _check_days(ws, year, seam)
    assert worst < 0.001, worst
    hourly = await _check_seam(ws, year, seam, live)
    await _check_power(ws, seam)

    await _import(hass, call)
    assert await _statistics(ws, ENERGY, (year.start, seam + HOUR)) == hourly

    await _compile_live_hour(hass, live_hour + timedelta(hours=1))
    after = await _statistics(ws, ENERGY, (seam, seam + 2 * HOUR))
    assert [row["start"] / 1000 for row in after] == [seam, seam + HOUR]
    assert after[1]["sum"] >= after[0]["sum"]


def _meter_device(hass: HomeAssistant) -> str:
    entry = er.async_get(hass).async_get(ENERGY)
    assert entry is not None
    assert entry.device_id is not None
    return entry.device_id
