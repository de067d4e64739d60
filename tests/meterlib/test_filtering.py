"""A meter's filters on mixed read rates: power every second, counters every minute."""

import pytest

from custom_components.energy_meters.meterlib.filtering import (
    MeterQuality,
    QualitySettings,
)
from custom_components.energy_meters.meterlib.model import Quantity

P = Quantity.POWER_TOTAL
E = Quantity.ENERGY_IMPORT_TOTAL


def _quality() -> MeterQuality:
    return MeterQuality(QualitySettings(), frozenset({P, E}))


def _settled(quality: MeterQuality, power: float, energy: float) -> float:
    """Two agreeing full reads, so the counter and the power are published."""
    quality.apply({P: power, E: energy}, 0.0)
    return quality.apply({P: power, E: energy}, 1.0).values[E] or 0.0


def test_a_fast_reading_leaves_the_counters_alone() -> None:
    """A reading of power alone publishes power; the counter is not touched."""
    quality = _quality()
    _settled(quality, 10.0, 100.0)
    published = quality.apply({P: 12.0}, 2.0).values
    assert published == {P: 12.0}


def test_a_jump_read_every_second_still_needs_its_confirmations() -> None:
    """Two readings confirm a jump (the default), whatever the read rate."""
    quality = _quality()
    _settled(quality, 10.0, 100.0)
    assert quality.apply({P: 8000.0}, 2.0).values[P] == 10.0  # held back
    assert quality.apply({P: 8000.0}, 3.0).values[P] == 8000.0  # confirmed


def test_a_counter_rise_is_explained_by_the_power_read_between_its_reads() -> None:
    """A heat pump ran between two counter reads: the fast reads saw it.

    Power 10 W at both counter reads, a minute apart; the fast reads in
    between saw 8 kW for 39 s, which is what the counter rose by. Judged by
    the power at its own two reads alone, the rise would be held back as
    unexplained; with the peak the fast reads saw, it is published at once.
    """
    quality = _quality()
    start = _settled(quality, 10.0, 100.0)
    for t in range(2, 41):
        quality.apply({P: 8000.0}, float(t))
    for t in range(41, 61):
        quality.apply({P: 10.0}, float(t))
    rise_kwh = 8.0 * 39 / 3600
    held_before = quality.held_back_total
    published = quality.apply({P: 10.0, E: 100.0 + rise_kwh}, 61.0).values
    assert published[E] == pytest.approx(start + rise_kwh)
    assert quality.held_back_total == held_before


def test_without_the_fast_reads_the_same_rise_waits() -> None:
    """The same rise with no power seen between: held for a reading, as before."""
    quality = _quality()
    start = _settled(quality, 10.0, 100.0)
    published = quality.apply({P: 10.0, E: 100.0 + 8.0 * 39 / 3600}, 61.0).values
    assert published[E] == pytest.approx(start)
