"""What the soak run checks after every poll, from Home Assistant's state machine.

The states are what the recorder stores and the Energy dashboard sums, so
that is where the numbers must be right, not inside the filters:

- an instantaneous value (power, voltage, current, frequency, power factor)
  is checked whenever its state changes, that is whenever the integration
  published a new value: it must be the value the simulated meter truly had
  at that poll, within the meter's own accuracy (`tolerance`). A value held
  back keeps the state unchanged, so a stale value is never counted wrong;
- an energy state must never be lower than the one before it, across Home
  Assistant restarts too, and never above what the meter truly counted;
- a value fault the meter made must never be what the state shows after the
  poll (`faults_published`).
"""

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
import math

from homeassistant.const import STATE_UNAVAILABLE, STATE_UNKNOWN
from homeassistant.core import HomeAssistant

from custom_components.energy_meters.meterlib.filtering import is_counter
from custom_components.energy_meters.meterlib.model import Quantity
from simulator.faults import FaultRecord

# (prefix of the quantity, absolute part of the tolerance). Power factor first:
# its name starts like a power's.
_ABSOLUTE: tuple[tuple[str, float], ...] = (
    ("power_factor", 0.02),
    ("power", 10.0),
    ("voltage", 0.5),
    ("current", 0.05),
    ("frequency", 0.01),
)
_RELATIVE = 0.01
# A published counter may exceed the truth by its rounding (3 decimals) and
# the float32 resolution of a four-digit kWh value.
ENERGY_SLACK_KWH = 0.002


def tolerance(quantity: Quantity, true: float) -> float:
    """How far a shown value may be from the truth and still be right.

    A class 1 meter is 1 % off at worst, and below its starting current
    (about 20 mA, ~5 W a phase) it reads 0: a shown 0 W for a true 6 W
    standby is what the real meter would have shown too.
    """
    absolute = next(a for prefix, a in _ABSOLUTE if quantity.value.startswith(prefix))
    return _RELATIVE * abs(true) + absolute


def _number(hass: HomeAssistant, entity_id: str) -> float | None:
    state = hass.states.get(entity_id)
    if state is None or state.state in {STATE_UNAVAILABLE, STATE_UNKNOWN}:
        return None
    return float(state.state)


@dataclass(slots=True)
class Watcher:
    """Follows the states of one meter's entities from poll to poll."""

    entities: Mapping[Quantity, str]  # enabled entities, by quantity
    shown: dict[Quantity, float | None] = field(default_factory=dict)
    changed: set[Quantity] = field(default_factory=set)  # by the latest poll
    last_energy: dict[Quantity, float] = field(default_factory=dict)
    wrong: Counter[str] = field(default_factory=Counter)
    examples: list[str] = field(default_factory=list)
    unavailable_polls: int = 0

    def forget_states(self) -> None:
        """Home Assistant restarted: every state is new (energy memory is kept)."""
        self.shown.clear()

    def observe(
        self,
        hass: HomeAssistant,
        truth: Mapping[Quantity, float],
        counted: Mapping[Quantity, float],
        label: str,
        faults: Sequence[FaultRecord] = (),
    ) -> None:
        """Check the states after one poll against what the meter truly had.

        `truth` is what the meter served this poll, faults aside; `counted`
        what its counters would read had it never been replaced; `faults`
        the faults it made this poll, named in the examples of wrong values.
        """
        made = ", ".join(
            f"{r.fault}" + (f" {r.quantity}={r.served_value}" if r.quantity else "")
            for r in faults
        )
        label = f"{label} [faults: {made or 'none'}]"
        self.changed.clear()
        if _number(hass, self.entities[Quantity.POWER_TOTAL]) is None:
            self.unavailable_polls += 1
        for quantity, entity_id in self.entities.items():
            now = _number(hass, entity_id)
            if is_counter(quantity):
                self._check_energy(quantity, now, counted.get(quantity), label)
                continue
            before = self.shown.get(quantity)
            self.shown[quantity] = now
            if now is None or now == before:
                continue
            self.changed.add(quantity)
            true = truth[quantity]
            if abs(now - true) > tolerance(quantity, true):
                power = quantity.value.startswith(("power_total", "power_l"))
                kind = "power" if power else "other"
                self._flag(kind, f"{label}: {quantity} shown {now}, true {true:.3f}")

    def _check_energy(
        self, quantity: Quantity, now: float | None, counted: float | None, label: str
    ) -> None:
        if now is None:
            return
        before = self.last_energy.get(quantity)
        if before is not None and now < before:
            self._flag("energy_decrease", f"{label}: {quantity} {before} -> {now}")
        if counted is not None and now > counted + ENERGY_SLACK_KWH:
            self._flag("energy_above_true", f"{label}: {quantity} {now} > {counted}")
        self.last_energy[quantity] = now

    def faults_shown(
        self, hass: HomeAssistant, records: Iterable[FaultRecord], label: str
    ) -> int:
        """How many of this poll's value faults the states show.

        Only a state this poll changed can show one: a state left as it was
        shows a value published before.
        """
        shown = 0
        for record in records:
            quantity, served, true = (
                record.quantity,
                record.served_value,
                record.true_value,
            )
            if quantity is None or quantity not in self.changed:
                continue
            if served is None or true is None or not math.isfinite(served):
                continue
            now = _number(hass, self.entities[quantity])
            if now is None:
                continue
            is_wrong = abs(served - true) > tolerance(quantity, true)
            if is_wrong and abs(now - served) <= tolerance(quantity, served):
                shown += 1
                self._flag(
                    "fault_shown",
                    f"{label}: {record.fault} {quantity} served {served}, "
                    f"true {true}, shown {now}",
                )
        return shown

    def _flag(self, kind: str, example: str) -> None:
        self.wrong[kind] += 1
        if len(self.examples) < 10:  # noqa: PLR2004 (enough to debug from)
            self.examples.append(example)
