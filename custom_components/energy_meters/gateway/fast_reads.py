"""The fast stream of a gateway: each meter's fast group, at its own interval.

The coordinator's rounds read every meter's full map at the gateway's
interval; this loop reads the fast groups (a grid meter's power, every
second) in between, on the same bus through the same arbiter, which lets a
due fast read go before the next request of a round. Their values go
through the meter's filters like any other reading, and only the entities of
the fast group are written: a state per second for 40 entities that did not
change would cost Home Assistant more than the bus.

Each meter keeps its own schedule, counted from when its reads were due
rather than when they ended, so the interval does not drift by the time a
read takes. A meter that fell behind (an overloaded bus) is read as soon as
the bus allows, without a burst to catch up. A meter the rounds found silent,
or a gateway that is gone, is left to the rounds: a fast read would only
add a timeout per second to a bus that is already waiting.
"""

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.util import dt as dt_util

from ..const import LOGGER as _LOGGER
from ..meterlib.schedule import IntervalLog, ReadCost
from ..meterlib.transport import TransportError

if TYPE_CHECKING:
    from .coordinator import GatewayCoordinator


@dataclass(slots=True)
class FastMeter:
    """One meter's fast group: its interval, cost, schedule and listeners."""

    interval_s: float
    cost: ReadCost
    due: float = 0.0
    last_read: float | None = None
    listeners: list[Callable[[], None]] = field(default_factory=list)


class FastReads:
    """Reads every meter's fast group on time, between the coordinator's rounds."""

    def __init__(self, hass: HomeAssistant, coordinator: GatewayCoordinator) -> None:
        """No meters yet; `add` gives them, `start` begins."""
        self._hass = hass
        self._coordinator = coordinator
        self.meters: dict[str, FastMeter] = {}
        self.log = IntervalLog(hass.loop.time)
        # Between ticks only a timer waits, and a tick's reads are a task
        # that ends: nothing runs forever for Home Assistant to wait on.
        self._timer: asyncio.TimerHandle | None = None
        self._task: asyncio.Task[None] | None = None
        self._running = False

    def add(self, subentry_id: str, interval_s: float, cost: ReadCost) -> None:
        """Read this meter's fast group every `interval_s` seconds."""
        self.meters[subentry_id] = FastMeter(interval_s, cost)

    @callback
    def async_add_listener(
        self, subentry_id: str, update: Callable[[], None]
    ) -> CALLBACK_TYPE:
        """Call `update` after each fast read of the meter; returns the remover."""
        listeners = self.meters[subentry_id].listeners
        listeners.append(update)
        return lambda: listeners.remove(update)

    def is_fresh(self, subentry_id: str) -> bool:
        """Whether the meter's fast group was read within two of its intervals."""
        meter = self.meters.get(subentry_id)
        if meter is None or meter.last_read is None:
            return False
        return self._hass.loop.time() - meter.last_read <= 2 * meter.interval_s

    def start(self) -> None:
        """Begin reading, once the first round has found the meters."""
        if not self.meters or self._running:
            return
        self._running = True
        now = self._hass.loop.time()
        for meter in self.meters.values():
            meter.due = now
        self._tick()

    async def async_stop(self) -> None:
        """Stop reading; a fast read under way is abandoned."""
        self._running = False
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        task, self._task = self._task, None
        if task is None or task.done():
            return
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            if not task.cancelled():
                raise
            current = asyncio.current_task()
            if current is not None and current.cancelling():
                raise

    @callback
    def _tick(self) -> None:
        """Read the meters that are due now, in a task of its own."""
        self._timer = None
        if not self._running:
            return
        self._task = self._coordinator.config_entry.async_create_background_task(
            self._hass, self._async_read_due(), f"{self._coordinator.name} fast reads"
        )

    async def _async_read_due(self) -> None:
        """Read every meter that is due, then set the timer for the next."""
        loop = self._hass.loop
        now = loop.time()
        ready = sorted(
            (meter.due, subentry_id)
            for subentry_id, meter in self.meters.items()
            if meter.due <= now
        )
        # All at once: the arbiter queues them in this order, and a slow
        # meter's timeout does not hold up the others.
        await asyncio.gather(*(self._async_read(sid) for _, sid in ready))
        now = loop.time()
        for _, subentry_id in ready:
            meter = self.meters[subentry_id]
            meter.due = max(meter.due + meter.interval_s, now)
        if self._running:
            self._timer = loop.call_at(
                min(meter.due for meter in self.meters.values()), self._tick
            )

    async def _async_read(self, subentry_id: str) -> None:
        """Read one meter's fast group and publish it to its entities."""
        coordinator = self._coordinator
        reader = coordinator.readers[subentry_id]
        status = coordinator.statuses[subentry_id]
        if (
            not reader.fast_plan
            or not status.available
            or status.polls_to_skip
            or coordinator.gateway_reachable is False
        ):
            self.log.forget(subentry_id)
            return
        try:
            reading = await reader.read_fast()
        except TransportError as err:
            # The round that follows decides about the meter; a lost reply
            # here is the next second's business.
            _LOGGER.debug(
                "%s: fast read of %s failed: %s",
                coordinator.name,
                coordinator.titles[subentry_id],
                err,
            )
            return
        meter = self.meters[subentry_id]
        meter.cost.measure(reading.bus_s)
        meter.last_read = self._hass.loop.time()
        self.log.note(subentry_id)
        coordinator.publish(subentry_id, reading.values, dt_util.utcnow().timestamp())
        for update in list(meter.listeners):
            update()
