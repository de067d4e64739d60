"""Readings in a real InfluxDB 1.x, imported into a sensor whose live statistics began earlier.

InfluxDB is Debian's `influxdb` (1.x), written through its HTTP line
protocol as the stacks writing to it do (measurement = the old metric name,
field `value`, the exporter's instance as a tag). Here the old data overlaps
the live statistics: the hours the recorder has are left alone, and the
first live hour's bar is that whole hour's consumption.
"""

from datetime import UTC, datetime
from typing import Any

from homeassistant.components.recorder import Recorder
from homeassistant.components.recorder.models import (
    StatisticData,
    StatisticMeanType,
    StatisticMetaData,
)
from homeassistant.components.recorder.statistics import async_import_statistics
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import entity_registry as er
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
    statistics_during_period,
)

from custom_components.energy_meters.const import DOMAIN
from devtools.old_stack import DAY, OldYear, Store, influx_write, true_energy
from simulator.server import ModbusSimulator
from tests.helpers import async_add_gateway

ENERGY = "sensor.heat_pump_meter_energy_import"
POWER = "sensor.heat_pump_meter_power"
HOUR = 3600


def _live_rows(first: int, hours: int) -> list[StatisticData]:
    """What the recorder would hold had the meter run since half past `first`."""
    start = first + HOUR // 2
    return [
        StatisticData(
            start=datetime.fromtimestamp(first + i * HOUR, UTC),
            sum=true_energy(first + (i + 1) * HOUR) - true_energy(start),
        )
        for i in range(hours)
    ]


async def _hourly(
    hass: HomeAssistant, start: float, end: float
) -> list[dict[str, Any]]:
    rows = await hass.async_add_executor_job(
        statistics_during_period,
        hass,
        datetime.fromtimestamp(start, UTC),
        datetime.fromtimestamp(end, UTC),
        {ENERGY},
        "hour",
        None,
        {"sum"},
    )
    return [dict(row) for row in rows.get(ENERGY, [])]


async def test_influxdb_fills_the_hours_before_the_live_ones(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    simulator: ModbusSimulator,
    influxdb: Store,
) -> None:
    """Ten days from InfluxDB: the live hours untouched, the seam's bar a whole hour."""
    await async_add_gateway(hass, simulator)
    now = int(dt_util.utcnow().timestamp()) // HOUR * HOUR
    old = OldYear(start=now - 10 * DAY, end=now, step_s=60, phases=("total",))
    await hass.async_add_executor_job(
        influx_write, influxdb.url, "energy", old.line_protocol()
    )
    first_live = now - 5 * HOUR
    metadata = StatisticMetaData(
        mean_type=StatisticMeanType.NONE,
        has_sum=True,
        name=None,
        source="recorder",
        statistic_id=ENERGY,
        unit_class="energy",
        unit_of_measurement="kWh",
    )
    async_import_statistics(hass, metadata, _live_rows(first_live, 4))
    await async_wait_recording_done(hass)
    live = await _hourly(hass, first_live, now)

    call = {
        "entity_id": ENERGY,
        "source": "influxdb",
        "url": influxdb.url,
        "database": "energy",
        "metric": "wago_energy_total_kwh",
        "tags": "instance=wago",
        "start": datetime.fromtimestamp(now - 10 * DAY, UTC),
    }
    response = await hass.services.async_call(
        DOMAIN, "import_history", call, blocking=True, return_response=True
    )
    await async_wait_recording_done(hass)
    assert isinstance(response, dict)
    (series,) = response["series"]  # type: ignore[misc]
    assert series["hours_already_recorded"] == 5  # type: ignore[index, call-overload]

    rows = await _hourly(hass, now - 10 * DAY, now)
    assert rows[-4:] == live
    by_start = {row["start"]: row["sum"] for row in rows}
    assert max(by_start) == first_live + 3 * HOUR
    seam_bar = by_start[first_live] - by_start[first_live - HOUR]
    whole_hour = true_energy(first_live + HOUR) - true_energy(first_live)
    assert seam_bar == pytest.approx(whole_hour, rel=1e-3)
    day = now - 3 * DAY
    assert by_start[day] - by_start[day - DAY] == pytest.approx(
        true_energy(day + HOUR) - true_energy(day + HOUR - DAY), rel=1e-3
    )

    power = {**call, "entity_id": POWER, "metric": "wago_power_total_kw"}
    response = await hass.services.async_call(
        DOMAIN, "import_history", power, blocking=True, return_response=True
    )
    assert isinstance(response, dict)
    assert response["series"][0]["unit"] == "W"  # type: ignore[index, call-overload]


async def test_bad_input_is_refused_in_words(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    simulator: ModbusSimulator,
    influxdb: Store,
) -> None:
    """No database, an unknown sensor, a store that is not there: translated errors."""
    await async_add_gateway(hass, simulator)
    base = {"entity_id": ENERGY, "source": "influxdb", "url": influxdb.url}
    with pytest.raises(ServiceValidationError) as refused:
        await hass.services.async_call(DOMAIN, "import_history", base, blocking=True)
    assert refused.value.translation_key == "history_database_required"
    er.async_get(hass).async_get_or_create(
        "sensor", "other", "x", suggested_object_id="other"
    )
    with pytest.raises(ServiceValidationError) as refused:
        await hass.services.async_call(
            DOMAIN,
            "import_history",
            {**base, "entity_id": "sensor.other", "database": "energy"},
            blocking=True,
        )
    assert refused.value.translation_key == "history_not_our_sensor"
    with pytest.raises(HomeAssistantError) as failed:
        await hass.services.async_call(
            DOMAIN,
            "import_history",
            {**base, "url": "http://127.0.0.1:9", "database": "energy"},
            blocking=True,
        )
    assert failed.value.translation_key == "history_unreachable"
    with pytest.raises(HomeAssistantError) as failed:
        await hass.services.async_call(
            DOMAIN,
            "import_history",
            {**base, "database": "missing", "preview": True},
            blocking=True,
        )
    assert failed.value.translation_key == "history_refused"
