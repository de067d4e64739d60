"""The household load model: plausible, self-consistent, exactly integrated, reproducible."""

from collections.abc import Iterator
import math

import pytest

from custom_components.energy_meters.meterlib.model import Quantity
from simulator.clock import ManualClock, WallClock
from simulator.heatpump import LoadState
from simulator.household import Household

DAY_S = 86_400
PHASES = (
    (Quantity.POWER_L1, Quantity.REACTIVE_POWER_L1, Quantity.APPARENT_POWER_L1),
    (Quantity.POWER_L2, Quantity.REACTIVE_POWER_L2, Quantity.APPARENT_POWER_L2),
    (Quantity.POWER_L3, Quantity.REACTIVE_POWER_L3, Quantity.APPARENT_POWER_L3),
)
ENERGY_COUNTERS = (
    Quantity.ENERGY_TOTAL,
    Quantity.ENERGY_IMPORT_TOTAL,
    Quantity.ENERGY_IMPORT_L1,
    Quantity.ENERGY_IMPORT_L2,
    Quantity.ENERGY_IMPORT_L3,
    Quantity.ENERGY_EXPORT_TOTAL,
    Quantity.REACTIVE_ENERGY_IMPORT,
    Quantity.REACTIVE_ENERGY_TOTAL,
)


def _walk(
    household: Household, clock: ManualClock, seconds: int, step: float
) -> Iterator[tuple[LoadState, dict[Quantity, float]]]:
    """Yield (state, values) every `step` simulated seconds."""
    for _ in range(int(seconds / step)):
        yield household.state, household.values()
        clock.advance(step)


def _household(seed: int = 1, **kwargs: float) -> tuple[Household, ManualClock]:
    clock = ManualClock()
    return Household(seed=seed, clock=clock, **kwargs), clock


def test_same_seed_same_values_different_seed_different() -> None:
    """Two households with one seed agree value for value; another seed does not."""
    first, first_clock = _household(seed=7)
    second, second_clock = _household(seed=7)
    other, other_clock = _household(seed=8)
    differs = False
    for _ in range(200):
        assert first.values() == second.values()
        differs |= first.values() != other.values()
        for clock in (first_clock, second_clock, other_clock):
            clock.advance(37.5)
    assert differs


def test_values_do_not_depend_on_how_often_they_are_read() -> None:
    """Reading every second or once an hour gives the same numbers at the hour."""
    often, often_clock = _household(seed=3)
    rarely, rarely_clock = _household(seed=3)
    for _ in range(3600):
        often.values()
        often_clock.advance(1)
    rarely_clock.advance(3600)
    assert often.values() == pytest.approx(rarely.values(), rel=1e-12)


def test_counters_start_at_realistic_values() -> None:
    """Counters start where a meter a few years old would be, not at zero."""
    household, _ = _household(start_energy_kwh=1234.5)
    values = household.values()
    assert values[Quantity.ENERGY_IMPORT_TOTAL] == pytest.approx(1234.5)
    assert values[Quantity.ENERGY_TOTAL] == pytest.approx(1234.5)
    assert values[Quantity.ENERGY_EXPORT_TOTAL] == 0.0
    assert values[Quantity.REACTIVE_ENERGY_IMPORT] > 0
    per_phase = sum(
        values[q]
        for q in (
            Quantity.ENERGY_IMPORT_L1,
            Quantity.ENERGY_IMPORT_L2,
            Quantity.ENERGY_IMPORT_L3,
        )
    )
    assert per_phase == pytest.approx(1234.5)


def test_energy_is_the_integral_of_power() -> None:
    """Over two busy hours, each counter grows by the integral of its power."""
    household, clock = _household(seed=2)
    clock.advance(4 * 3600)  # early morning: the compressor runs
    start = household.values()
    step = 0.5
    integral = dict.fromkeys(
        (Quantity.POWER_L1, Quantity.POWER_L2, Quantity.POWER_L3), 0.0
    )
    reactive = 0.0
    previous = start
    for _ in range(int(2 * 3600 / step)):
        clock.advance(step)
        now = household.values()
        for quantity in integral:
            integral[quantity] += step * (previous[quantity] + now[quantity]) / 2
        reactive += (
            step
            * (
                previous[Quantity.REACTIVE_POWER_TOTAL]
                + now[Quantity.REACTIVE_POWER_TOTAL]
            )
            / 2
        )
        previous = now
    end = previous
    pairs = (
        (Quantity.ENERGY_IMPORT_L1, Quantity.POWER_L1),
        (Quantity.ENERGY_IMPORT_L2, Quantity.POWER_L2),
        (Quantity.ENERGY_IMPORT_L3, Quantity.POWER_L3),
    )
    for counter, power in pairs:
        grown_kwh = end[counter] - start[counter]
        assert grown_kwh == pytest.approx(integral[power] / 3.6e6, rel=1e-3)
    total_kwh = sum(integral.values()) / 3.6e6
    assert total_kwh > 1.0  # it really was busy
    grown_total = (
        end[Quantity.ENERGY_IMPORT_TOTAL] - start[Quantity.ENERGY_IMPORT_TOTAL]
    )
    assert grown_total == pytest.approx(total_kwh, rel=1e-3)
    grown_reactive = (
        end[Quantity.REACTIVE_ENERGY_IMPORT] - start[Quantity.REACTIVE_ENERGY_IMPORT]
    )
    assert grown_reactive == pytest.approx(reactive / 3.6e6, rel=1e-3)


def test_counters_never_decrease_over_a_day() -> None:
    """No counter ever goes down, and a winter day costs a plausible 5-40 kWh."""
    household, clock = _household(seed=5)
    previous = household.values()
    first = previous
    for _, values in _walk(household, clock, DAY_S, 30):
        for counter in ENERGY_COUNTERS:
            assert values[counter] >= previous[counter], counter
        previous = values
    used = previous[Quantity.ENERGY_IMPORT_TOTAL] - first[Quantity.ENERGY_IMPORT_TOTAL]
    assert 5 < used < 40


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_day_of_plausible_readings(seed: int) -> None:
    """Grid and load stay in the ranges a real service connection shows."""
    household, clock = _household(seed=seed)
    seen: dict[LoadState, list[dict[Quantity, float]]] = {
        state: [] for state in LoadState
    }
    for state, values in _walk(household, clock, DAY_S, 7):
        seen[state].append(values)
        assert 49.85 <= values[Quantity.FREQUENCY] <= 50.15
        for voltage in (Quantity.VOLTAGE_L1, Quantity.VOLTAGE_L2, Quantity.VOLTAGE_L3):
            assert 218 <= values[voltage] <= 242
        assert 0.4 <= values[Quantity.POWER_FACTOR] <= 1.0
        assert 0 < values[Quantity.POWER_TOTAL] < 2700
    assert all(seen[state] for state in LoadState), {s: len(v) for s, v in seen.items()}

    def median(state: LoadState, quantity: Quantity) -> float:
        ordered = sorted(v[quantity] for v in seen[state])
        return ordered[len(ordered) // 2]

    assert median(LoadState.STANDBY, Quantity.POWER_TOTAL) == pytest.approx(6, abs=0.5)
    assert median(LoadState.CIRCULATION, Quantity.POWER_TOTAL) == pytest.approx(
        46, abs=3
    )
    assert 1000 <= median(LoadState.COMPRESSOR, Quantity.POWER_TOTAL) <= 2500
    assert 800 <= median(LoadState.DEFROST, Quantity.POWER_TOTAL) <= 1100
    assert 0.85 <= median(LoadState.COMPRESSOR, Quantity.POWER_FACTOR) <= 0.99
    assert median(LoadState.STANDBY, Quantity.POWER_FACTOR) < 0.7
    frequencies = [v[Quantity.FREQUENCY] for vs in seen.values() for v in vs]
    assert max(frequencies) - min(frequencies) > 0.05  # it wanders


def test_compressor_cycles_last_tens_of_minutes() -> None:
    """Heating runs are neither seconds nor hours long."""
    household, clock = _household(seed=4)
    runs: list[float] = []
    running_since: float | None = None
    for state, _ in _walk(household, clock, DAY_S, 10):
        heating = state in {LoadState.COMPRESSOR, LoadState.DEFROST}
        if heating and running_since is None:
            running_since = household.now
        elif not heating and running_since is not None:
            runs.append(household.now - running_since)
            running_since = None
    assert len(runs) >= 10
    assert all(10 * 60 <= run <= 70 * 60 for run in runs), runs


def test_quantities_are_consistent_with_each_other() -> None:
    """S² = P² + Q², PF = P/S, I = S/V per phase; totals add up; line voltages fit."""
    household, clock = _household(seed=6)
    for _, values in _walk(household, clock, 6 * 3600, 97):
        currents = (Quantity.CURRENT_L1, Quantity.CURRENT_L2, Quantity.CURRENT_L3)
        voltages = (Quantity.VOLTAGE_L1, Quantity.VOLTAGE_L2, Quantity.VOLTAGE_L3)
        factors = (
            Quantity.POWER_FACTOR_L1,
            Quantity.POWER_FACTOR_L2,
            Quantity.POWER_FACTOR_L3,
        )
        for (p, q, s), i, v, pf in zip(
            PHASES, currents, voltages, factors, strict=True
        ):
            assert values[s] == pytest.approx(math.hypot(values[p], values[q]))
            assert values[pf] == pytest.approx(values[p] / values[s])
            assert values[i] == pytest.approx(values[p] / (values[v] * values[pf]))
        for total, parts in (
            (Quantity.POWER_TOTAL, [p for p, _, _ in PHASES]),
            (Quantity.REACTIVE_POWER_TOTAL, [q for _, q, _ in PHASES]),
            (Quantity.APPARENT_POWER_TOTAL, [s for _, _, s in PHASES]),
        ):
            assert values[total] == pytest.approx(sum(values[x] for x in parts))
        assert values[Quantity.POWER_FACTOR] == pytest.approx(
            values[Quantity.POWER_TOTAL] / values[Quantity.APPARENT_POWER_TOTAL]
        )
        assert values[Quantity.CURRENT_AVG] == pytest.approx(
            sum(values[c] for c in currents) / 3
        )
        assert values[Quantity.VOLTAGE_L1_L2] == pytest.approx(
            math.sqrt(3) * values[Quantity.VOLTAGE_AVG], rel=0.02
        )
        assert values[Quantity.ENERGY_TOTAL] == pytest.approx(
            values[Quantity.ENERGY_IMPORT_TOTAL] + values[Quantity.ENERGY_EXPORT_TOTAL]
        )


def test_every_quantity_is_modelled() -> None:
    """Any profile can be served: the model has a value for every quantity."""
    household, _ = _household()
    assert set(household.values()) == set(Quantity)


def test_time_only_moves_forward() -> None:
    """Time steps forward with advance() and at(); going back is refused."""
    household, clock = _household()
    clock.advance(100)
    household.advance(50)
    assert household.now == 150
    assert household.at(1000) is household
    assert household.now == 1000
    with pytest.raises(ValueError, match="cannot go back"):
        household.at(999)
    with pytest.raises(ValueError, match="forward"):
        household.advance(-1)
    with pytest.raises(ValueError, match="forward"):
        clock.advance(-1)


def test_wall_clock_runs_at_the_given_speed() -> None:
    """A sped-up wall clock multiplies real time; the default follows real time."""
    real = [1000.0]
    clock = WallClock(speed=60, now=lambda: real[0])
    assert clock() == 0
    real[0] += 2.5
    assert clock() == 150
    with pytest.raises(ValueError, match="positive"):
        WallClock(speed=0)
    household = Household(seed=1)
    assert 0 <= household.now < 5
