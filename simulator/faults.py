"""Faults a simulated meter makes on request: wrong numbers, wrong answers, none.

A real RS-485 bus behind a gateway does all of these now and then, and each
one has booked phantom kWh in somebody's Energy dashboard:

- value faults, the meter answers but one value in the answer is wrong:
  `spike` (a gross error: ±5-45 kW, ±60-250 V, ±20-200 A, ±2-20 Hz,
  ±0.5-1.5 power factor, the kind a bit error or a garbled frame makes),
  `zero` (an isolated 0), `nan`, `swap` (the value's words, or the bytes of a
  one-register value, in the wrong order), `counter_drop` (an energy counter
  reads 0-90 % of its value) and `counter_jump` (one reads 1,000-100,000 kWh
  too high);
- `exception`: the meter answers exception 4 (server device failure);
- link faults, which need the server's help (`LinkTicket`): `silence` (no
  answer at all), `late` (the right answer, `late_delay_s` after the request,
  so after the client has given up; later answers on the same connection wait
  behind it, the worst case made deterministic: in RTU framing it lands as
  the answer to the next request) and `disconnect` (the gateway drops the TCP
  connection instead of answering);
- `replace`: the meter is swapped for a new one whose energy counters start
  again from `replacement_start_kwh`, for good.

Small errors are not simulated as faults: a reading 10 % off is, to any
filter, indistinguishable from a real change.

Two ways to ask, on `SimulatedMeter.faults`:

- one-shot, for tests: `inject(Fault.SPIKE, quantity=Quantity.POWER_TOTAL)`
  corrupts the next read that carries the total power; `count=3` the next
  three reads, `count=None` every read until `clear()`;
- probabilistic, for soak runs and the command line: `randomize(rate, kinds,
  seed)` corrupts each read with probability `rate`, by a kind drawn at random
  from `kinds`, on a seeded generator so a run can be repeated exactly. Every
  kind comes equally often: one that cannot apply to the read at hand (a
  counter fault on a read of voltages) is carried over to the next read it
  can apply to. Link faults are only drawn where the server can show them.

Every fault made is counted (`injected`) and logged (`log`) with the true and
the corrupted value, so a test or a soak run can tell what Home Assistant
should, and should not, have shown.
"""

from collections import Counter, deque
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from enum import StrEnum
import math
import random

from custom_components.energy_meters.meterlib.decode import decode
from custom_components.energy_meters.meterlib.filtering import is_counter
from custom_components.energy_meters.meterlib.model import Quantity, RegisterSpec

from .register_map import encode_value

_LOG_SIZE = 10_000
# A carried-over fault that has found no read to apply to in this many reads
# never will (a spike on a meter that serves only counters): it is dropped.
_CARRY_LIMIT = 8
DEFAULT_LATE_DELAY_S = 5.0  # the integration's default timeout is 3 s


class Fault(StrEnum):
    """The kinds of fault a simulated meter can make."""

    SPIKE = "spike"
    ZERO = "zero"
    NAN = "nan"
    SWAP = "swap"
    COUNTER_DROP = "counter_drop"
    COUNTER_JUMP = "counter_jump"
    EXCEPTION = "exception"
    SILENCE = "silence"
    LATE = "late"
    DISCONNECT = "disconnect"
    REPLACE = "replace"


VALUE_FAULTS = frozenset(
    {
        Fault.SPIKE,
        Fault.ZERO,
        Fault.NAN,
        Fault.SWAP,
        Fault.COUNTER_DROP,
        Fault.COUNTER_JUMP,
    }
)
LINK_FAULTS = frozenset({Fault.SILENCE, Fault.LATE, Fault.DISCONNECT})
# A replacement is an event, not a corrupted read: random runs leave it out
# unless it is asked for by name.
RANDOM_FAULTS = frozenset(Fault) - {Fault.REPLACE}

# (smallest, largest) size of a spike, by the prefix of the quantity's name.
# Power factor first: its name starts like a power's.
_SPIKES: tuple[tuple[str, float, float], ...] = (
    ("power_factor", 0.5, 1.5),
    ("power_", 5_000.0, 45_000.0),
    ("reactive_power", 5_000.0, 45_000.0),
    ("apparent_power", 5_000.0, 45_000.0),
    ("voltage", 60.0, 250.0),
    ("current", 20.0, 200.0),
    ("frequency", 2.0, 20.0),
)
_DROP_SHARE = (0.0, 0.9)
_JUMP_KWH = (1_000.0, 100_000.0)


def parse_faults(text: str) -> frozenset[Fault]:
    """Kinds from a comma-separated list ("spike,zero"); "all" for every random kind.

    Raises ValueError naming the unknown kind and the known ones.
    """
    kinds: set[Fault] = set()
    for name in (part.strip().lower() for part in text.split(",")):
        if not name:
            continue
        if name == "all":
            kinds |= RANDOM_FAULTS
            continue
        try:
            kinds.add(Fault(name))
        except ValueError:
            known = ", ".join(["all", *(kind.value for kind in Fault)])
            msg = f"unknown fault {name!r}; known: {known}"
            raise ValueError(msg) from None
    if not kinds:
        msg = "no fault kinds given"
        raise ValueError(msg)
    return frozenset(kinds)


@dataclass(slots=True)
class LinkTicket:
    """What the server is to do with the answer to the request being handled.

    The server opens a ticket around each request (`link_ticket`); the meter
    fills it in when it draws a link fault. A server that opens none never
    gets link faults drawn, so its meters only make the faults it can show.
    """

    fault: Fault | None = None
    delay_s: float = 0.0


_TICKET: ContextVar[LinkTicket | None] = ContextVar("link_ticket", default=None)


@contextmanager
def link_ticket() -> Iterator[LinkTicket]:
    """Open a ticket for one request; the meter's link fault lands in it."""
    ticket = LinkTicket()
    token = _TICKET.set(ticket)
    try:
        yield ticket
    finally:
        _TICKET.reset(token)


def current_link_ticket() -> LinkTicket | None:
    """The ticket of the request being handled, if the server opened one."""
    return _TICKET.get()


@dataclass(frozen=True, slots=True)
class FaultRecord:
    """One fault a meter made: on which read, which value, what instead.

    `true_value` and `served_value` are set for value faults: what the meter
    should have said and what a client decodes from what it did say.
    """

    fault: Fault
    function: int
    address: int
    count: int
    quantity: Quantity | None = None
    true_value: float | None = None
    served_value: float | None = None


@dataclass(frozen=True, slots=True)
class Decision:
    """The fault chosen for one read, and the value it hits (value faults)."""

    fault: Fault
    spec: RegisterSpec | None = None


@dataclass(slots=True)
class _Order:
    """A one-shot fault waiting for a read it applies to."""

    fault: Fault
    quantity: Quantity | None
    remaining: int | None


class FaultInjector:
    """The faults one meter makes: ordered ones first, then random ones."""

    def __init__(
        self, seed: int = 0, *, late_delay_s: float = DEFAULT_LATE_DELAY_S
    ) -> None:
        """Start healthy: no orders, a rate of 0."""
        self.rate = 0.0
        self.kinds: frozenset[Fault] = RANDOM_FAULTS
        self.late_delay_s = late_delay_s
        self.replacement_start_kwh = 0.0
        self.counter_offsets: dict[Quantity, float] = {}
        self.injected: Counter[Fault] = Counter()
        self.reads = 0  # reads answered (or not) so far, to put `injected` in scale
        self.log: deque[FaultRecord] = deque(maxlen=_LOG_SIZE)
        self._random = random.Random(seed)
        self._orders: list[_Order] = []
        self._carried: Fault | None = None
        self._carried_for = 0

    # --- what tests and the command line ask for ---------------------------

    def inject(
        self,
        fault: Fault | str,
        *,
        quantity: Quantity | None = None,
        count: int | None = 1,
    ) -> None:
        """Make the next `count` reads (None: every read until `clear`) fail so.

        With a `quantity`, only reads that carry it count, and a value fault
        hits that quantity.
        """
        if count is not None and count < 1:
            msg = f"count must be at least 1, got {count}"
            raise ValueError(msg)
        self._orders.append(_Order(Fault(fault), quantity, count))

    def randomize(
        self,
        rate: float,
        kinds: Iterable[Fault | str] | None = None,
        seed: int | None = None,
    ) -> None:
        """Corrupt each read with probability `rate`, by one of `kinds`."""
        if not 0.0 <= rate <= 1.0:
            msg = f"rate must be between 0 and 1, got {rate}"
            raise ValueError(msg)
        chosen = frozenset(Fault(kind) for kind in kinds) if kinds else RANDOM_FAULTS
        if not chosen:
            msg = "no fault kinds given"
            raise ValueError(msg)
        self.rate = rate
        self.kinds = chosen
        if seed is not None:
            self._random.seed(seed)

    def clear(self) -> None:
        """Answer correctly again; a replaced meter stays replaced."""
        self._orders.clear()
        self._carried = None
        self.rate = 0.0

    @property
    def pending(self) -> int:
        """One-shot orders not yet carried out (an endless one counts once)."""
        return len(self._orders)

    # --- what the meter asks on each read ------------------------------------

    def apply_replacement(
        self, current: Mapping[Quantity, float]
    ) -> Mapping[Quantity, float]:
        """Return the values with the counters of the meter in place now."""
        if not self.counter_offsets:
            return current
        values = dict(current)
        for quantity, offset in self.counter_offsets.items():
            if quantity in values:
                values[quantity] += offset
        return values

    def draw(
        self,
        function: int,
        address: int,
        count: int,
        specs: Sequence[RegisterSpec],
        current: Mapping[Quantity, float],
    ) -> Decision | None:
        """Choose the fault for one read (None: answer it correctly).

        `specs` are the values the read carries, `current` what the meter
        would serve for them. A link fault is written into the request's
        ticket; a replacement takes effect at once (`counter_offsets`).
        """
        self.reads += 1
        link = current_link_ticket() is not None
        decision = self._ordered(specs, current, link) or self._random_draw(
            specs, current, link
        )
        if decision is None:
            return None
        self.injected[decision.fault] += 1
        if decision.fault is Fault.REPLACE:
            self._replace(current)
        ticket = current_link_ticket()
        if ticket is not None and decision.fault in LINK_FAULTS:
            ticket.fault = decision.fault
            ticket.delay_s = self.late_delay_s
        if decision.fault not in VALUE_FAULTS:
            self.log.append(FaultRecord(decision.fault, function, address, count))
        return decision

    def corrupt(
        self,
        decision: Decision,
        function: int,
        address: int,
        count: int,
        true_value: float,
    ) -> list[int]:
        """The registers a value fault serves instead of `true_value`'s."""
        spec = decision.spec
        if spec is None:  # pragma: no cover - draw() always names the value
            msg = f"{decision.fault} needs a value to corrupt"
            raise ValueError(msg)
        words = self._corrupt_words(decision.fault, spec, true_value)
        self.log.append(
            FaultRecord(
                decision.fault,
                function,
                address,
                count,
                spec.quantity,
                true_value,
                decode(spec, words),
            )
        )
        return words

    # --- internals -----------------------------------------------------------

    def _ordered(
        self,
        specs: Sequence[RegisterSpec],
        current: Mapping[Quantity, float],
        link: bool,
    ) -> Decision | None:
        """The first one-shot order this read can carry out, counted down."""
        for order in self._orders:
            decision = self._decide(order.fault, order.quantity, specs, current, link)
            if decision is None:
                continue
            if order.remaining is not None:
                order.remaining -= 1
                if order.remaining == 0:
                    self._orders.remove(order)
            return decision
        return None

    def _random_draw(
        self,
        specs: Sequence[RegisterSpec],
        current: Mapping[Quantity, float],
        link: bool,
    ) -> Decision | None:
        """A fault with probability `rate`, or the one carried over, if it applies."""
        if self._carried is None:
            if self.rate <= 0.0 or self._random.random() >= self.rate:
                return None
            kinds = sorted(k for k in self.kinds if link or k not in LINK_FAULTS)
            if not kinds:
                return None
            self._carried, self._carried_for = self._random.choice(kinds), 0
        decision = self._decide(self._carried, None, specs, current, link)
        self._carried_for += 1
        if decision is not None or self._carried_for >= _CARRY_LIMIT:
            self._carried = None
        return decision

    def _decide(
        self,
        fault: Fault,
        quantity: Quantity | None,
        specs: Sequence[RegisterSpec],
        current: Mapping[Quantity, float],
        link: bool,
    ) -> Decision | None:
        """The decision if `fault` can apply to this read, else None."""
        if quantity is not None:
            specs = [spec for spec in specs if spec.quantity == quantity]
            if not specs:
                return None
        if fault in LINK_FAULTS:
            return Decision(fault) if link else None
        if fault not in VALUE_FAULTS:
            return Decision(fault)
        targets = (
            specs
            if quantity is not None
            else [spec for spec in specs if self._applies(fault, spec, current)]
        )
        if not targets:
            return None
        return Decision(fault, self._random.choice(targets))

    def _applies(  # noqa: PLR0911 (one answer per kind of fault)
        self, fault: Fault, spec: RegisterSpec, current: Mapping[Quantity, float]
    ) -> bool:
        """Whether a random `fault` would change what this value reads."""
        value = current.get(spec.quantity, math.nan)
        counter = is_counter(spec.quantity)
        match fault:
            case Fault.SPIKE:
                return not counter and _spike_range(spec.quantity) is not None
            case Fault.ZERO:
                return math.isfinite(value) and value != 0.0
            case Fault.NAN:
                return math.isfinite(value)
            case Fault.SWAP:
                words = encode_value(spec, value)
                return _swapped(words) != words
            case Fault.COUNTER_DROP:
                return counter and math.isfinite(value) and value > 0.0
            case Fault.COUNTER_JUMP:
                return counter and math.isfinite(value)
            case _:  # pragma: no cover - only value faults get here
                return False

    def _corrupt_words(  # noqa: PLR0911 (one answer per kind of fault)
        self, fault: Fault, spec: RegisterSpec, value: float
    ) -> list[int]:
        """The registers of `value` after `fault`."""
        draw = self._random.uniform
        match fault:
            case Fault.SPIKE:
                low, high = _spike_range(spec.quantity) or (5_000.0, 45_000.0)
                sign = self._random.choice((-1.0, 1.0))
                return encode_value(spec, value + sign * draw(low, high))
            case Fault.ZERO:
                return encode_value(spec, 0.0)
            case Fault.NAN:
                return encode_value(spec, math.nan)
            case Fault.SWAP:
                return _swapped(encode_value(spec, value))
            case Fault.COUNTER_DROP:
                return encode_value(spec, value * draw(*_DROP_SHARE))
            case Fault.COUNTER_JUMP:
                return encode_value(spec, value + draw(*_JUMP_KWH))
            case _:  # pragma: no cover - only value faults get here
                return encode_value(spec, value)

    def _replace(self, current: Mapping[Quantity, float]) -> None:
        """A new meter from now on: every counter restarts at the start value."""
        for quantity, value in current.items():
            if is_counter(quantity) and math.isfinite(value):
                offset = self.counter_offsets.get(quantity, 0.0)
                self.counter_offsets[quantity] = (
                    offset + self.replacement_start_kwh - value
                )


def _spike_range(quantity: Quantity) -> tuple[float, float] | None:
    for prefix, low, high in _SPIKES:
        if quantity.value.startswith(prefix):
            return low, high
    return None


def _swapped(words: list[int]) -> list[int]:
    """Words in reverse order; the two bytes swapped for a one-register value."""
    if len(words) > 1:
        return words[::-1]
    return [((word & 0xFF) << 8) | (word >> 8) for word in words]
