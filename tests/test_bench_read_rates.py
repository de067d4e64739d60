"""The read-rates benchmark runs end to end, briefly, and its report holds up.

One meter, a 3-second window after 2 seconds of warm-up, in both modes, on
the test's own Home Assistant: enough to see the fast reads counted, the
single-interval reader without any, the bound computed and the table and
JSON printed. The benchmark's figures themselves are not judged here.
"""

import json
import math

from homeassistant.core import HomeAssistant

from benchmarks.read_rates import (
    Settings,
    as_json,
    gaps,
    measure_gateway,
    pooled_intervals,
    table,
)

SMOKE = Settings(seconds=3.0, warmup_s=2.0, baud=9600, fast_interval_s=1)


def test_intervals_are_per_entity_and_pooled() -> None:
    """No interval across two entities' writes."""
    assert gaps([1.0, 2.0, 4.5]) == [1.0, 2.5]
    assert sorted(pooled_intervals({"a": [0.0, 1.0], "b": [5.0], "c": []})) == [1.0]


async def test_one_meter_both_modes(hass: HomeAssistant, socket_enabled: None) -> None:
    """Power every second with read rates; the report has a column per run."""
    rates = await measure_gateway(hass, 1, "rates", SMOKE)
    single = await measure_gateway(hass, 1, "single", SMOKE)
    assert rates.power_intervals >= 1
    assert math.isclose(rates.power_median_s, 1.0, abs_tol=0.3)
    assert single.power_intervals == 0  # power every 10 s: not in 3 s
    assert rates.model.fits
    assert rates.model.fast_interval_s == 1.0
    assert single.model.fast_interval_s is None
    for case in (rates, single):
        assert case.repair is None
        assert not case.line_overlapped
        assert case.failed_polls == 0
    printed = table([rates, single], SMOKE)
    assert "1 rates" in printed
    assert "1 single" in printed
    report = json.loads(json.dumps(as_json([rates, single], SMOKE)))
    assert set(report["cases"]["1"]) == {"rates", "single"}
