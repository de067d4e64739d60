"""Per-meter data quality: which filter guards which quantity, and their limits.

Instantaneous quantities get a spike filter with physical bounds; energy
counters get a monotonic counter bounded by the meter's rated power. The limits
derive from two settings a user can understand: the meter's rated maximum
power and how many agreeing readings confirm a jump.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .model import Quantity
from .quality import CounterEvent, CounterRule, MonotonicCounter, SpikeFilter, SpikeRule

DEFAULT_MAX_POWER_W = 50_000.0
DEFAULT_CONFIRMATIONS = 2
NOMINAL_VOLTAGE = 230.0

_ENERGY_PREFIXES = ("energy_", "reactive_energy_")
_POWER_PREFIXES = ("power_l", "power_total", "reactive_power_", "apparent_power_")


# The power each active energy counter integrates: a rise of the counter must
# fit the power measured around it (quality.CounterRule.explained_by_power).
_POWER_OF_COUNTER: dict[Quantity, Quantity] = {
    Quantity.ENERGY_TOTAL: Quantity.POWER_TOTAL,
    Quantity.ENERGY_IMPORT_TOTAL: Quantity.POWER_TOTAL,
    Quantity.ENERGY_EXPORT_TOTAL: Quantity.POWER_TOTAL,
    Quantity.ENERGY_IMPORT_L1: Quantity.POWER_L1,
    Quantity.ENERGY_IMPORT_L2: Quantity.POWER_L2,
    Quantity.ENERGY_IMPORT_L3: Quantity.POWER_L3,
    Quantity.ENERGY_EXPORT_L1: Quantity.POWER_L1,
    Quantity.ENERGY_EXPORT_L2: Quantity.POWER_L2,
    Quantity.ENERGY_EXPORT_L3: Quantity.POWER_L3,
}


def is_counter(quantity: Quantity) -> bool:
    """Energy quantities are counters; everything else is instantaneous."""
    return quantity.value.startswith(_ENERGY_PREFIXES)


@dataclass(frozen=True, slots=True)
class QualitySettings:
    """The user-facing knobs of the filters."""

    max_power_w: float = DEFAULT_MAX_POWER_W
    confirmations: int = DEFAULT_CONFIRMATIONS
    confirm_first_reading: bool = True

    def spike_rule(self, quantity: Quantity) -> SpikeRule:
        """Physical bounds and jump tolerance for an instantaneous quantity."""
        n = self.confirmations
        value = quantity.value
        # Zero bands, what counts as "reads 0": 1 W (the old exporter's
        # threshold), the 5 mA that draws at 230 V, 1 V, a power factor of 0.01.
        if value.startswith(_POWER_PREFIXES):
            limit = self.max_power_w
            step = max(500.0, limit / 100)
            return SpikeRule(
                -limit, limit, absolute_step=step, confirmations=n, zero_band=1.0
            )
        if value.startswith("voltage"):
            return SpikeRule(
                0.0,
                500.0,
                absolute_step=30.0,
                relative_step=0.1,
                confirmations=n,
                zero_band=1.0,
            )
        if value.startswith("current"):
            limit = self.max_power_w / NOMINAL_VOLTAGE
            return SpikeRule(
                -limit, limit, absolute_step=3.0, confirmations=n, zero_band=0.005
            )
        if value == "frequency":
            return SpikeRule(
                45.0, 65.0, absolute_step=0.5, relative_step=0.0, confirmations=n
            )
        if value.startswith("power_factor"):
            return SpikeRule(
                -1.0,
                1.0,
                absolute_step=0.3,
                relative_step=0.0,
                confirmations=n,
                zero_band=0.01,
            )
        msg = f"no spike rule for {quantity}"
        raise ValueError(msg)

    def counter_rule(self) -> CounterRule:
        """Limits for the energy counters of this meter."""
        return CounterRule(
            max_power_w=self.max_power_w,
            confirmations=self.confirmations + 1,
            confirm_first=self.confirm_first_reading,
        )


@dataclass(frozen=True, slots=True)
class FilteredReading:
    """What to publish after filtering, and what the filters noticed."""

    values: Mapping[Quantity, float | None]
    events: Mapping[Quantity, CounterEvent]
    held_back: int


class MeterQuality:
    """The filters of one meter, keyed by quantity."""

    def __init__(
        self, settings: QualitySettings, quantities: frozenset[Quantity]
    ) -> None:
        """A spike filter per instantaneous quantity, a counter per energy quantity."""
        self.settings = settings
        self.spikes: dict[Quantity, SpikeFilter] = {}
        self.counters: dict[Quantity, MonotonicCounter] = {}
        for quantity in quantities:
            if is_counter(quantity):
                self.counters[quantity] = MonotonicCounter(settings.counter_rule())
            else:
                self.spikes[quantity] = SpikeFilter(settings.spike_rule(quantity))
        self.held_back_total = 0
        # The largest power published since the counters were last checked,
        # the one of that check included: with power read every second and
        # the counters every ten, a heat pump that started in between must
        # still explain the counters' rise.
        self._peak_power: dict[Quantity, float] = {}

    def apply(
        self, values: Mapping[Quantity, float | None], now: float
    ) -> FilteredReading:
        """Filter one poll's values taken at wall-clock time `now` (seconds).

        Instantaneous values first: the counters are checked against the
        largest power published since their last check (on one read rate,
        the power of this poll and the one before). A reading may hold only
        some quantities (a fast read of power): the others are left alone.
        """
        published: dict[Quantity, float | None] = {}
        events: dict[Quantity, CounterEvent] = {}
        held_before = self._held()
        for quantity, value in values.items():
            if quantity in self.spikes:
                published[quantity], _ = self.spikes[quantity].update(value)
        self._note_power(published)
        counted = False
        for quantity, value in values.items():
            if quantity in self.counters:
                counted = True
                power = self._power_around(_POWER_OF_COUNTER.get(quantity), published)
                published[quantity], event = self.counters[quantity].update(
                    value, now, power
                )
                if event is not None:
                    events[quantity] = event
        if counted:
            # The next check starts from the power of this one.
            self._peak_power = {
                quantity: abs(power)
                for quantity in _POWER_OF_COUNTER.values()
                if (power := published.get(quantity)) is not None
            }
        held = self._held() - held_before
        self.held_back_total += held
        return FilteredReading(values=published, events=events, held_back=held)

    def _note_power(self, published: Mapping[Quantity, float | None]) -> None:
        """Raise the peaks by this reading's power; an unknown power breaks them."""
        for quantity in _POWER_OF_COUNTER.values():
            if quantity not in published:
                continue
            value = published[quantity]
            if value is None:
                self._peak_power.pop(quantity, None)
            elif quantity in self._peak_power:
                self._peak_power[quantity] = max(self._peak_power[quantity], abs(value))

    def _power_around(
        self, power: Quantity | None, published: Mapping[Quantity, float | None]
    ) -> float | None:
        """The peak power since the last check, or None if unknown at either end."""
        if power is None or published.get(power) is None:
            return None
        return self._peak_power.get(power)

    def seed_counters(self, values: Mapping[str, float], when: float) -> None:
        """Offer the setup dialog's test read to counters without a history."""
        for key, value in values.items():
            try:
                quantity = Quantity(key)
            except ValueError:
                continue
            if quantity in self.counters:
                self.counters[quantity].seed(float(value), when)

    def after_outage(self) -> None:
        """For a meter that was unavailable: its last values are as old as the outage.

        They are not shown again, but a first reading back far from them waits
        for a second that agrees, as a spike would (a gateway's first answer
        after an outage is the likeliest to be wrong). Counters keep their
        state: they must never go back.
        """
        for spike in self.spikes.values():
            spike.go_stale()
        self._peak_power.clear()

    def _held(self) -> int:
        """Readings held back or dropped so far, by every filter."""
        return sum(f.held_back + f.dropped for f in self.spikes.values()) + sum(
            c.held_back + c.dropped for c in self.counters.values()
        )

    def counters_state(self) -> dict[str, dict[str, Any]]:
        """The counters' state, to persist across restarts."""
        return {str(q): counter.as_dict() for q, counter in self.counters.items()}

    def restore_counters(self, state: Mapping[str, Mapping[str, Any]]) -> None:
        """Continue the counters from persisted state (unknown keys ignored)."""
        rule = self.settings.counter_rule()
        for key, data in state.items():
            try:
                quantity = Quantity(key)
            except ValueError:
                continue
            if quantity in self.counters:
                self.counters[quantity] = MonotonicCounter.from_dict(rule, dict(data))
