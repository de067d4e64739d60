"""Spike filter and monotonic counter, rule by rule."""

from custom_components.energy_meters.meterlib.quality import (
    CounterRule,
    MonotonicCounter,
    SpikeFilter,
    SpikeRule,
    Verdict,
)

POWER = SpikeRule(minimum=-50_000, maximum=50_000, absolute_step=500)


def feed(spike_filter: SpikeFilter, values: list[float | None]) -> list[float | None]:
    """What gets published for a sequence of readings."""
    return [spike_filter.update(value)[0] for value in values]


def test_single_glitch_never_appears() -> None:
    """A lone zero among 2 kW readings (the old exporter's nemesis) is never shown."""
    published = feed(SpikeFilter(POWER), [2000, 2010, 0, 2020, 2015])
    assert published == [2000, 2010, 2010, 2020, 2015]


def test_real_change_appears_one_poll_late() -> None:
    """The compressor starts: 46 W to 2 kW shows on the second reading."""
    published = feed(SpikeFilter(POWER), [46, 46, 2000, 2005, 2003])
    assert published == [46, 46, 46, 2005, 2003]


def test_real_drop_to_zero_appears_one_poll_late() -> None:
    """A real switch-off is shown, one poll late."""
    published = feed(SpikeFilter(POWER), [2000, 0, 0, 0])
    assert published == [2000, 2000, 0, 0]


def test_impossible_values_are_dropped() -> None:
    """NaN-as-None, out-of-range and infinite values never publish.

    Only the values that were read and refused count as dropped: None is a
    register the meter does not have or marks "not available", no reading.
    """
    spike_filter = SpikeFilter(POWER)
    published = feed(spike_filter, [1000, None, 4e9, float("inf"), 1010])
    assert published == [1000, 1000, 1000, 1000, 1010]
    assert spike_filter.dropped == 2


def test_two_different_glitches_in_a_row_do_not_confirm_each_other() -> None:
    """Pending readings must agree with each other to be accepted."""
    spike_filter = SpikeFilter(POWER)
    assert feed(spike_filter, [1000, 40000, 9000, 1000]) == [1000, 1000, 1000, 1000]
    assert spike_filter.held_back == 2
    assert spike_filter.update(1005) == (1005, Verdict.PUBLISHED)


def test_a_glitch_on_the_first_reading_after_an_outage_is_held() -> None:
    """Back from an outage, a spike waits for a second reading; it is never shown.

    While it waits the value is unknown: the reading from before the outage is
    minutes old and is not shown again. A value close to it is shown at once.
    """
    spike_filter = SpikeFilter(POWER)
    assert feed(spike_filter, [2000, 2010]) == [2000, 2010]
    spike_filter.go_stale()
    assert feed(spike_filter, [40000, 2020, 2030]) == [None, 2020, 2030]
    spike_filter.go_stale()
    assert feed(spike_filter, [2005]) == [2005]
    spike_filter.go_stale()
    assert feed(spike_filter, [9000, 9010, 9020]) == [None, 9010, 9020]


RULE = CounterRule(max_power_w=10_000)


def test_counter_never_decreases_on_a_glitch() -> None:
    """A zero and a small dip between good readings publish nothing lower."""
    counter = MonotonicCounter(RULE)
    counter.seed(100.0, -10)  # a history: see test_the_first_reading_alone_...
    readings = [(100.0, 0), (0.0, 10), (100.01, 20), (99.0, 30), (100.02, 40)]
    published = [counter.update(raw, now)[0] for raw, now in readings]
    assert published == [100.0, 100.0, 100.01, 100.01, 100.02]


def test_counter_holds_an_impossible_rise() -> None:
    """10 kW for 10 s is 0.03 kWh at most; a rise of 5000 kWh is held."""
    counter = MonotonicCounter(RULE)
    counter.seed(100.0, -10)
    counter.update(100.0, 0)
    assert counter.update(5100.0, 10) == (100.0, None)
    assert counter.update(100.02, 20) == (100.02, None)


def test_replaced_meter_continues_from_the_last_value() -> None:
    """A new meter at 3 kWh: after three agreeing readings, publishing carries on."""
    counter = MonotonicCounter(RULE)
    counter.seed(1500.0, -10)
    counter.update(1500.0, 0)
    counter.update(1500.01, 10)
    assert counter.update(3.0, 20) == (1500.01, None)
    assert counter.update(3.01, 30) == (1500.01, None)
    published, event = counter.update(3.02, 40)
    assert event is not None
    assert event.previous_raw == 1500.01
    assert event.new_raw == 3.0
    assert published == 1500.01 + 0.02
    assert counter.update(3.05, 50)[0] == 1500.01 + 0.05


def test_state_survives_a_restart() -> None:
    """Persisted state restores offset and last value, not re-learnt."""
    counter = MonotonicCounter(RULE)
    counter.seed(10.0, -10)
    counter.update(10.0, 0)
    counter.offset = 500.0
    counter.published = 510.0
    restored = MonotonicCounter.from_dict(RULE, counter.as_dict())
    assert restored.update(10.5, 3600)[0] == 510.5
    # A garbage first reading after restart is not taken as the new truth.
    again = MonotonicCounter.from_dict(RULE, restored.as_dict())
    assert again.update(0.0, 3700)[0] == 510.5


def test_isolated_zero_is_held_however_small_the_step() -> None:
    """46 W, a lone 0 (or a denormal from swapped words), 46 W: the dip never shows.

    A real switch-off still shows, one poll late; so does a start from 0.
    """
    rule = SpikeRule(-50_000, 50_000, absolute_step=500, zero_band=1.0)
    assert feed(SpikeFilter(rule), [46, 0, 46, 2.4e-41, 47]) == [46, 46, 46, 46, 47]
    assert feed(SpikeFilter(rule), [46, 0, 0, 0]) == [46, 46, 0, 0]
    assert feed(SpikeFilter(rule), [0, 40, 41]) == [0, 0, 41]


def test_change_of_sign_is_held_however_small_the_step() -> None:
    """9 mA, then -44 mA from swapped words, then 9 mA: the minus never shows.

    Power that really turns to export (a PV system) shows one poll late.
    """
    current = SpikeRule(-200, 200, absolute_step=3, zero_band=0.005)
    assert feed(SpikeFilter(current), [0.009, -0.044, 0.009]) == [0.009] * 3
    power = SpikeRule(-50_000, 50_000, absolute_step=500, zero_band=1.0)
    assert feed(SpikeFilter(power), [120, -80, -85]) == [120, 120, -85]


def _counter_from(raw: float, now: float, rule: CounterRule = RULE) -> MonotonicCounter:
    """A counter with a history: two agreeing readings up to `raw` at `now`."""
    counter = MonotonicCounter(rule)
    counter.update(raw, now - 10)
    assert counter.update(raw, now)[0] == raw
    return counter


def test_the_first_reading_alone_is_no_baseline() -> None:
    """Without a history a reading waits for a second that agrees with it."""
    counter = MonotonicCounter(RULE)
    assert counter.update(0.0, 0) == (None, None)  # the gateway's zero after a reboot
    assert counter.update(1200.25, 10) == (None, None)
    assert counter.update(1200.26, 20) == (1200.26, None)
    assert counter.offset == 0.0


def test_a_seed_lets_the_first_reading_publish_at_once() -> None:
    """The setup dialog's read and the first poll agree: shown from the first poll."""
    counter = MonotonicCounter(RULE)
    counter.seed(1200.25, 0)
    assert counter.update(1200.25, 5) == (1200.25, None)


def test_a_small_rise_the_power_cannot_explain_waits_for_the_next_reading() -> None:
    """+0.15 kWh in 10 s at 2 kW measured (within the 50 kW allowance) is a glitch.

    It used to be published and kept: the true readings after it looked like a
    drop, became a "new level", and the glitch stayed as an offset for good.
    """
    rule = CounterRule(max_power_w=50_000)
    counter = _counter_from(1000.0, 10, rule)
    published, _ = counter.update(1000.15, 20, power_w=2000)
    assert published == 1000.0
    assert counter.update(1000.01, 30, power_w=2000) == (1000.01, None)
    assert counter.update(1000.02, 40, power_w=2000) == (1000.02, None)
    assert counter.offset == 0.0


def test_a_fast_rise_confirmed_by_the_next_reading_is_published() -> None:
    """The power was seen low at both polls, but the counter keeps the rise: real."""
    rule = CounterRule(max_power_w=50_000)
    counter = _counter_from(1000.0, 10, rule)
    assert counter.update(1000.1, 20, power_w=100)[0] == 1000.0
    assert counter.update(1000.12, 30, power_w=100) == (1000.12, None)


def test_a_published_glitch_is_passed_not_kept() -> None:
    """Without a power to check against, a small glitch may show; it never stays.

    The counter comes back a little lower and stays there: that is no new
    meter (no offset, no repair), the published value waits until passed.
    """
    rule = CounterRule(max_power_w=50_000)
    counter = _counter_from(1000.0, 10, rule)
    assert counter.update(1000.15, 20)[0] == 1000.15
    events = [counter.update(1000.01 + i / 100, 30 + 10 * i)[1] for i in range(6)]
    assert events == [None] * 6
    assert counter.offset == 0.0
    assert counter.update(1000.2, 100)[0] == 1000.2


def test_no_repair_without_a_real_drop() -> None:
    """A garbled block at 0.000 never raises "jumped from 0.000 to 0.000"."""
    counter = _counter_from(0.0, 10)
    events = [
        counter.update(raw, 20 + 10 * i)[1] for i, raw in enumerate([5e6, 0.0, 0.0])
    ]
    assert events == [None, None, None]
    assert counter.published == 0.0
