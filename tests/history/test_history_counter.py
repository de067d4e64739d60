"""The counter logic: hourly consumption from an old counter's samples, flaws left out."""

import ast
from pathlib import Path

import pytest

from custom_components.energy_meters.history.counter import (
    HOUR,
    accepted_curve,
    clean,
    hourly_consumption,
    hours_without_samples,
)
from custom_components.energy_meters.meterlib.quality import CounterRule

RULE = CounterRule(max_power_w=20_000)
STEP = 30


def _steady(
    start: float, hours: int, kw: float, first: float = 1000.0
) -> list[tuple[float, float]]:
    """A counter rising at `kw`, sampled every 30 s."""
    return [
        (start + i * STEP, first + kw * i * STEP / HOUR)
        for i in range(hours * HOUR // STEP + 1)
    ]


def _hours(samples: list[tuple[float, float]]) -> dict[int, float]:
    curve, _ = accepted_curve(clean(samples), RULE)
    return hourly_consumption(curve)


def test_hours_are_the_counter_rise_between_utc_hour_boundaries() -> None:
    """Samples off the hour: the rise across a boundary is split by time."""
    samples = _steady(10 * HOUR + 15, 3, 2.0)
    hours = _hours(samples)
    assert list(hours) == [11 * HOUR, 12 * HOUR]
    assert hours[11 * HOUR] == pytest.approx(2.0)


def test_a_zero_glitch_books_nothing() -> None:
    """1000 → 0 → 1000: Prometheus' increase() would book 1000 kWh."""
    samples = _steady(0, 2, 1.0)
    samples[100] = (samples[100][0], 0.0)
    curve, findings = accepted_curve(clean(samples), RULE)
    assert sum(hourly_consumption(curve).values()) == pytest.approx(2.0)
    assert len(findings.glitches) == 1
    assert findings.resets == []


def test_a_garbage_spike_books_nothing() -> None:
    """One huge value the exporter would have frozen on."""
    samples = _steady(0, 2, 1.0)
    samples[50] = (samples[50][0], 9.9e9)
    curve, findings = accepted_curve(clean(samples), RULE)
    assert sum(hourly_consumption(curve).values()) == pytest.approx(2.0)
    assert len(findings.glitches) == 1


def test_a_reset_counts_what_came_after_it() -> None:
    """The counter restarts at 0: the rise since the restart is consumption."""
    before = _steady(0, 1, 1.0)
    # Every 30 s after the restart, from 0 at 1 kW.
    after = [(HOUR + i * STEP, i * STEP / HOUR) for i in range(1, 2 * HOUR // STEP + 1)]
    curve, findings = accepted_curve(clean(before + after), RULE)
    assert sum(hourly_consumption(curve).values()) == pytest.approx(3.0)
    assert findings.resets == [HOUR + STEP]


def test_a_jump_to_a_new_level_books_nothing_for_the_jump() -> None:
    """A counter that stays at a level no load explains (a meter swapped in)."""
    low = _steady(0, 1, 1.0)
    high = [(t + HOUR, v + 50_000) for t, v in _steady(0, 1, 1.0, first=1001.0)][1:]
    curve, findings = accepted_curve(clean(low + high), RULE)
    total = sum(hourly_consumption(curve).values())
    assert total == pytest.approx(2.0, abs=0.01)
    assert len(findings.glitches) == 1


def test_a_gap_is_spread_and_reported() -> None:
    """Three hours without samples: the rise across them is spread, and listed."""
    samples = [
        *_steady(0, 1, 1.0),
        *[(t + 4 * HOUR, v + 4.0) for t, v in _steady(0, 1, 1.0)],
    ]
    curve, findings = accepted_curve(clean(samples), RULE)
    hours = hourly_consumption(curve)
    assert sum(hours.values()) == pytest.approx(5.0)
    assert hours_without_samples(findings.gaps) == [HOUR, 2 * HOUR, 3 * HOUR]


def test_not_a_number_and_duplicates_are_dropped() -> None:
    """NaN readings and a repeated timestamp do not break the curve."""
    assert clean([(2.0, 1.0), (1.0, float("nan")), (2.0, 3.0), (0.0, 0.5)]) == [
        (0.0, 0.5),
        (2.0, 3.0),
    ]


def test_the_counter_logic_needs_no_home_assistant() -> None:
    """Pure, like the device library: testable and reusable without Home Assistant."""
    path = (
        Path(__file__).parents[2] / "custom_components/energy_meters/history/counter.py"
    )
    tree = ast.parse(path.read_text(encoding="utf-8"))
    imported = {
        node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
    } | {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    }
    assert not any(name.startswith("homeassistant") for name in imported)
