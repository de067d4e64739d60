"""Read rates on one bus: who sends the next request, and whether the rates fit.

A gateway's meters share one RS-485 pair, which carries one exchange at a
time. Power read every second and the rest of each map every ten seconds
are two streams of requests on that pair: the fast one must keep its pace,
the slow one must still get through, and when the bus cannot carry both the
user must be told what does fit rather than watch values fall behind.

- `BusArbiter` hands out the bus one request at a time, fast reads first. A
  slow request that has waited `SLOW_PATIENCE_S` goes next all the same, so a
  bus overloaded by fast reads still reads every full map, slowly.
- `BusUsage` keeps the busy intervals of the last minute: the bus utilisation.
- `IntervalLog` keeps the times between a group's reads: what was achieved.
- `RS485Timing` is the timing model (11 bits a character, the turnaround and
  the RTU silences around each answer); `ReadCost` starts from it and follows
  what the reads really take, so a gateway's own latency counts too.
- `plan_fit` weighs the configured rates against the bus: how much of it
  they need and, when that is too much, how many meters fit at the fast rate.
"""

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
import math
import statistics
import time
from typing import Final

from .plan import BITS_PER_BYTE_ON_WIRE, RTU_REQUEST_OVERHEAD_BYTES, ReadRequest

# The share of a bus the plan may count on: the rest absorbs retries, a
# neighbour integration's requests on a shared link and the jitter of the
# gateway. A plan that needs more does not fit.
USABLE_SHARE: Final = 0.9
# A fitting plan that later needs this much less is taken as fitting again:
# no repair issue that comes and goes with every measurement.
FIT_HYSTERESIS: Final = 0.05
# The window of the utilisation and the achieved intervals.
WINDOW_S: Final = 60.0
# How long a slow request may be kept waiting by fast ones.
SLOW_PATIENCE_S: Final = 1.0
# Weight of a new measurement in the running cost of a read.
COST_WEIGHT: Final = 0.2

type Clock = Callable[[], float]


@dataclass(frozen=True, slots=True)
class RS485Timing:
    """What one read costs on an RS-485 bus, from its speed alone."""

    baud: int = 9600
    turnaround_s: float = 0.0

    @property
    def silence_s(self) -> float:
        """RTU's 3.5-character silence, 1.75 ms above 19200 baud (the spec's floor)."""
        if self.baud > 19200:  # noqa: PLR2004 (the specification's threshold)
            return 0.00175
        return 3.5 * BITS_PER_BYTE_ON_WIRE / self.baud

    def exchange_s(self, registers: int) -> float:
        """A read of `registers` registers: both frames, two silences, the turnaround."""
        wire = (RTU_REQUEST_OVERHEAD_BYTES + 2 * registers) * BITS_PER_BYTE_ON_WIRE
        return wire / self.baud + 2 * self.silence_s + self.turnaround_s

    def plan_s(self, plan: Sequence[ReadRequest]) -> float:
        """The bus time of a read plan, request by request."""
        return sum(self.exchange_s(request.count) for request in plan)


class ReadCost:
    """The bus time of one kind of read of one meter: modelled, then measured."""

    def __init__(self, modelled_s: float) -> None:
        """Start from the model, before anything was measured."""
        self.seconds = modelled_s
        self.measured = False

    def measure(self, seconds: float) -> None:
        """Follow a measurement; the first replaces the model outright."""
        if not self.measured:
            self.seconds, self.measured = seconds, True
            return
        self.seconds += COST_WEIGHT * (seconds - self.seconds)


class BusUsage:
    """The busy intervals of the last minute, for the bus utilisation."""

    def __init__(self, clock: Clock = time.monotonic) -> None:
        """An empty record: an idle bus."""
        self._clock = clock
        self._busy: deque[tuple[float, float]] = deque()
        self._since = clock()

    def record(self, start: float, end: float) -> None:
        """One exchange held the bus from `start` to `end` (clock seconds)."""
        self._busy.append((start, end))
        self._drop_before(end - WINDOW_S)

    def share(self) -> float:
        """The share of the last minute (or of the time since the start) the bus was busy."""
        now = self._clock()
        since = now - WINDOW_S
        self._drop_before(since)
        window = min(WINDOW_S, now - self._since)
        if window <= 0:
            return 0.0
        busy = sum(min(end, now) - max(start, since) for start, end in self._busy)
        return min(1.0, max(0.0, busy / window))

    def _drop_before(self, since: float) -> None:
        while self._busy and self._busy[0][1] <= since:
            self._busy.popleft()


@dataclass(frozen=True, slots=True)
class IntervalFigures:
    """The achieved intervals of a group of reads over the last minute."""

    median_s: float
    p95_s: float
    count: int


class IntervalLog:
    """When each meter of a group was last read, and the intervals between."""

    def __init__(self, clock: Clock = time.monotonic) -> None:
        """Nothing read yet."""
        self._clock = clock
        self._last: dict[str, float] = {}
        self._intervals: deque[tuple[float, float]] = deque()
        self._by_meter: dict[str, deque[tuple[float, float]]] = {}

    def note(self, meter: str) -> None:
        """A read of `meter` completed now."""
        now = self._clock()
        last = self._last.get(meter)
        self._last[meter] = now
        if last is None:
            return
        sample = (now, now - last)
        self._intervals.append(sample)
        self._by_meter.setdefault(meter, deque()).append(sample)
        for samples in (self._intervals, self._by_meter[meter]):
            while samples and samples[0][0] < now - WINDOW_S:
                samples.popleft()

    def forget(self, meter: str) -> None:
        """The meter was not read for a while (an outage): no interval across it."""
        self._last.pop(meter, None)

    def figures(self, meter: str | None = None) -> IntervalFigures | None:
        """Median and 95th percentile of the last minute, of one meter or all."""
        samples = self._intervals if meter is None else self._by_meter.get(meter, ())
        now = self._clock()
        values = sorted(value for at, value in samples if at >= now - WINDOW_S)
        if not values:
            return None
        return IntervalFigures(
            median_s=statistics.median(values),
            p95_s=values[min(len(values) - 1, math.ceil(0.95 * len(values)) - 1)],
            count=len(values),
        )


class BusArbiter:
    """One request on the bus at a time; fast reads first, slow ones not starved.

    Home Assistant's shared connection serialises requests too, but in the
    order they come. The arbiter decides that order: a power reading due now
    must not wait behind the rest of a map (a WAGO's is 300 ms at 9600 baud).
    """

    def __init__(self, clock: Clock = time.monotonic) -> None:
        """An idle bus."""
        self._clock = clock
        self._busy = False
        self._fast: deque[asyncio.Future[None]] = deque()
        self._slow: deque[tuple[float, asyncio.Future[None]]] = deque()
        self.usage = BusUsage(clock)

    @asynccontextmanager
    async def turn(self, *, fast: bool) -> AsyncIterator[None]:
        """Hold the bus for one request."""
        if self._busy or self._fast or self._slow:
            waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            if fast:
                self._fast.append(waiter)
            else:
                self._slow.append((self._clock(), waiter))
            try:
                await waiter
            except asyncio.CancelledError:
                if waiter.done() and not waiter.cancelled():
                    self._hand_over()  # the turn was ours: pass it on
                else:
                    self._discard(waiter)
                raise
        else:
            self._busy = True
        started = self._clock()
        try:
            yield
        finally:
            self.usage.record(started, self._clock())
            self._hand_over()

    def _hand_over(self) -> None:
        """Give the bus to the next waiter, or mark it idle."""
        waiter = self._next()
        if waiter is None:
            self._busy = False
            return
        self._busy = True
        waiter.set_result(None)

    def _next(self) -> asyncio.Future[None] | None:
        """The slow waiter out of patience, else the first fast one, else slow."""
        while self._slow and self._slow[0][1].done():
            self._slow.popleft()
        while self._fast and self._fast[0].done():
            self._fast.popleft()
        if self._slow and (
            not self._fast or self._clock() - self._slow[0][0] >= SLOW_PATIENCE_S
        ):
            return self._slow.popleft()[1]
        if self._fast:
            return self._fast.popleft()
        return None

    def _discard(self, waiter: asyncio.Future[None]) -> None:
        if waiter in self._fast:
            self._fast.remove(waiter)
        self._slow = deque(item for item in self._slow if item[1] is not waiter)


@dataclass(frozen=True, slots=True)
class MeterLoad:
    """One meter's configured reads and what each costs on the bus."""

    full_s: float
    full_interval_s: float
    fast_s: float = 0.0
    fast_interval_s: float | None = None
    # Requests of the full map: on a bus full of fast reads, each waits up
    # to the arbiter's patience for its turn.
    full_requests: int = 1

    @property
    def share(self) -> float:
        """The share of the bus this meter's reads need."""
        fast = self.fast_s / self.fast_interval_s if self.fast_interval_s else 0.0
        return fast + self.full_s / self.full_interval_s

    @property
    def fast_share(self) -> float:
        """The share its fast reads alone need."""
        return self.fast_s / self.fast_interval_s if self.fast_interval_s else 0.0


@dataclass(frozen=True, slots=True)
class Fit:
    """Whether a gateway's read rates fit its bus, and what does."""

    need: float
    fast_need: float
    fast_meters: int
    max_fast_meters: int
    fast_interval_s: float | None
    full_interval_s: float
    # What the rates achieve when they do not fit, fast reads going first.
    achievable_fast_interval_s: float | None
    achievable_full_interval_s: float | None

    @property
    def fits(self) -> bool:
        """Whether the plan needs no more than the usable share of the bus."""
        return self.need <= USABLE_SHARE


def plan_fit(loads: Sequence[MeterLoad], usable: float = USABLE_SHARE) -> Fit:
    """Weigh the meters' read rates against one bus.

    `max_fast_meters` is how many meters of the same fast read cost fit at
    the fast interval while every full map is read at its interval, the
    figure the repair issue gives. Past the usable share, fast reads go
    first: the full maps then stretch to what the remaining time allows.
    When fast reads alone overflow the bus, they stretch too, by the full
    maps' requests the arbiter still lets through (one per patience, at
    least), and the full maps take at worst a patience per request.
    """
    fast = [load for load in loads if load.fast_interval_s]
    fast_need = sum(load.fast_share for load in fast)
    full_need = sum(load.full_s / load.full_interval_s for load in loads)
    full_interval = max((load.full_interval_s for load in loads), default=0.0)
    fast_interval = min((load.fast_interval_s or 0.0 for load in fast), default=None)
    full_bus_s = sum(load.full_s for load in loads)
    max_fast = len(fast)
    achievable_fast: float | None = None
    achievable_full: float | None = None
    if fast_need + full_need > usable:
        mean_share = fast_need / len(fast) if fast else 0.0
        room = usable - full_need
        max_fast = (
            max(0, min(len(fast), math.floor(room / mean_share + 1e-9)))
            if mean_share
            else 0
        )
        if fast_need < usable:
            achievable_full = full_bus_s / (usable - fast_need)
        else:
            requests = sum(load.full_requests for load in loads)
            slow_share = (full_bus_s / requests) / SLOW_PATIENCE_S if requests else 0.0
            achievable_fast = (
                (fast_interval or 0.0) * fast_need / max(usable - slow_share, 1e-9)
            )
            achievable_full = requests * SLOW_PATIENCE_S + full_bus_s
    return Fit(
        need=fast_need + full_need,
        fast_need=fast_need,
        fast_meters=len(fast),
        max_fast_meters=max_fast,
        fast_interval_s=fast_interval,
        full_interval_s=full_interval,
        achievable_fast_interval_s=achievable_fast,
        achievable_full_interval_s=achievable_full,
    )
