"""The gateway coordinator: one poll loop per bus, every meter in turn.

Meters behind one gateway share one RS-485 bus, which carries one request at a
time. So one coordinator per gateway walks its meters one after the other over
a single connection, rather than a poller per meter racing for the bus.

A meter that does not answer keeps its last reading and is marked; its
entities go unavailable only after several failed polls in a row, and its
neighbours are read as usual. The whole refresh fails only when nothing on the
gateway answered on the very first poll, which turns into a setup retry.

A round reads every meter's full map. Between its requests, the fast groups
(a grid meter's power, every second: `fast_reads.py`) take their turns at the
same arbiter, fast first; after each round the rates are weighed against the
bus, and a repair issue says so when they do not fit.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final, override

from homeassistant.config_entries import ConfigEntry, ConfigSubentry
from homeassistant.core import HomeAssistant
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed
from homeassistant.util import dt as dt_util

from ..const import (
    CONF_PROFILE,
    CONF_SCAN_INTERVAL,
    CONF_UNIT_ID,
    DEFAULT_SCAN_INTERVAL,
    DOMAIN,
    FAILED_POLLS_BEFORE_UNAVAILABLE,
    LOGGER as _LOGGER,
    MAX_POLLS_TO_SKIP,
    SUBENTRY_METER,
    scan_interval,
)
from ..counter_store import CounterState, CounterStore
from ..meterlib.filtering import MeterQuality
from ..meterlib.model import Profile, Quantity
from ..meterlib.reader import MeterReader, MeterReading
from ..meterlib.schedule import (
    BusArbiter,
    IntervalLog,
    MeterLoad,
    ReadCost,
    RS485Timing,
)
from ..meterlib.transport import (
    GatewayUnreachableError,
    NoResponseError,
    TransportError,
)
from ..quality_section import quality_settings
from ..repairs import (
    async_report_counter_reset,
    async_report_missing_profiles,
    async_report_read_rates,
)
from .fast_reads import FastReads
from .link import entry_transport, hold_units
from .read_rates import fast_interval_s, fast_quantities
from .serial_gateway import CONF_BAUDRATE
from .setup_reads import take_test_read

# Beside a meter's counters in the store: what its refusals taught (reader.py).
LESSONS_KEY: Final = "learned_refusals"

type GatewayConfigEntry = ConfigEntry[GatewayCoordinator]


@dataclass(slots=True)
class MeterStatus:
    """What the integration knows about one meter after the latest poll."""

    reading: MeterReading | None = None
    published: Mapping[Quantity, float | None] = field(default_factory=dict)
    consecutive_failures: int = 0
    last_error: str | None = None
    last_success: datetime | None = None
    failed_polls_total: int = 0
    held_back_total: int = 0
    polls_to_skip: int = 0

    @property
    def available(self) -> bool:
        """Whether entities should show this meter's values.

        A reading is kept through a few failed polls: a lost reply is normal on
        a busy bus and must not blank the graphs.
        """
        return (
            self.reading is not None
            and self.consecutive_failures < FAILED_POLLS_BEFORE_UNAVAILABLE
        )


class GatewayCoordinator(DataUpdateCoordinator[dict[str, MeterStatus]]):
    """Polls every meter behind one gateway, in turn, over one connection."""

    config_entry: GatewayConfigEntry

    def __init__(
        self,
        hass: HomeAssistant,
        entry: GatewayConfigEntry,
        profiles: Mapping[str, Profile],
        gateway_device_id: str,
    ) -> None:
        """Build one reader and one set of filters per meter whose profile is known."""
        # Units on Home Assistant's shared connection to the gateway: the
        # `modbus` integration owns it, and reconnects when it drops. Every
        # meter's unit is held at once, before anything else is set up: a
        # gateway whose endpoint another integration holds with other link
        # settings fails here, by name, with nothing to shut down (no
        # counters saved that were never loaded).
        transport = entry_transport(hass, entry)
        hold_units(
            hass,
            entry,
            transport,
            {int(s.data[CONF_UNIT_ID]) for s in meter_subentries(entry)},
        )
        seconds = entry.options.get(CONF_SCAN_INTERVAL, DEFAULT_SCAN_INTERVAL)
        super().__init__(
            hass,
            _LOGGER,
            config_entry=entry,
            name=f"{DOMAIN} {entry.title}",
            update_interval=scan_interval(seconds),
        )
        self.transport = transport
        self.gateway_device_id = gateway_device_id
        self.readers: dict[str, MeterReader] = {}
        self.qualities: dict[str, MeterQuality] = {}
        self.missing_profiles: dict[str, str] = {}
        # Every request of the full maps and the fast groups takes its turn
        # here, fast ones first (see meterlib/schedule.py).
        self.arbiter = BusArbiter(hass.loop.time)
        # The bus time of each full map, from the RS-485 timing model (a
        # network gateway's baud rate is unknown: 9600 until measured).
        self.timing = RS485Timing(baud=int(entry.data.get(CONF_BAUDRATE, 9600)))
        self.full_costs: dict[str, ReadCost] = {}
        self.full_log = IntervalLog(hass.loop.time)
        self.fast = FastReads(hass, self)
        for subentry in meter_subentries(entry):
            profile_id = subentry.data[CONF_PROFILE]
            if profile_id not in profiles:
                self.missing_profiles[subentry.subentry_id] = profile_id
                continue
            profile = profiles[profile_id]
            reader = MeterReader(
                self.transport,
                int(subentry.data[CONF_UNIT_ID]),
                profile,
                arbiter=self.arbiter,
            )
            reader.set_fast(fast_quantities(subentry.data))
            self.readers[subentry.subentry_id] = reader
            self.qualities[subentry.subentry_id] = MeterQuality(
                quality_settings(subentry.data), profile.quantities
            )
            self.full_costs[subentry.subentry_id] = ReadCost(
                self.timing.plan_s(reader.plan)
            )
            if reader.fast_quantities:
                self.fast.add(
                    subentry.subentry_id,
                    fast_interval_s(subentry.data),
                    ReadCost(self.timing.plan_s(reader.fast_plan)),
                )
        # A meter without its profile is not read, and says so with a repair.
        async_report_missing_profiles(hass, entry, self.missing_profiles)
        # Its counters as saved, written back unchanged on every save: a
        # profile that fails to load for a while must not cost a meter its
        # counter (and a replaced meter its offset). See `_async_setup`.
        self._kept_counters: CounterState = {}
        # Meters are named by their titles in log lines, not by their ids.
        self.titles = {s.subentry_id: s.title for s in meter_subentries(entry)}
        # Every meter subentry this coordinator was built for, read or not.
        self.meter_ids = {subentry.subentry_id for subentry in meter_subentries(entry)}
        self.statuses: dict[str, MeterStatus] = {
            subentry_id: MeterStatus() for subentry_id in self.readers
        }
        self.counter_store = CounterStore(hass, entry.entry_id)
        # Polls left to skip before trying to reconnect to a gateway that is
        # gone (see `_back_off_from_gone_gateway`).
        self._reconnect_skips = 0
        # Whether the latest poll reached the gateway (None before the first):
        # a meter that does not answer says nothing about the gateway.
        self.gateway_reachable: bool | None = None
        # How long the latest round over all meters took, and whether the
        # "rounds take longer than the interval" warning is out.
        self.last_round_s: float | None = None
        # Whether the latest round found the link silent (see the round).
        self._link_suspect = False
        self._overrun_logged = False
        self._stopping = False

    @override
    async def _async_setup(self) -> None:
        """Continue the energy counters from where the last run left them."""
        saved = await self.counter_store.async_load()
        for subentry_id, quality in self.qualities.items():
            quality.restore_counters(saved.get(subentry_id, {}))
            reader = self.readers[subentry_id]
            test_read = take_test_read(
                self.hass, self.transport.endpoint, reader.unit_id
            )
            if test_read is not None and subentry_id not in saved:
                quality.seed_counters(*test_read)
            lessons = saved.get(subentry_id, {}).get(LESSONS_KEY)
            if isinstance(lessons, dict):
                self.readers[subentry_id].learn(lessons)
        self._kept_counters = {
            subentry_id: saved[subentry_id]
            for subentry_id in self.missing_profiles
            if subentry_id in saved
        }

    @override
    async def _async_update_data(self) -> dict[str, MeterStatus]:
        """Read each meter in turn, then set the pace of the next round."""
        started = self.hass.loop.time()
        try:
            return await self._async_poll_round()
        finally:
            self._pace(self.hass.loop.time() - started)

    def _pace(self, duration_s: float) -> None:
        """Start the next round one interval after this one started.

        Home Assistant counts the interval from the end of a refresh, in whole
        seconds: a round that takes longer than the interval (32 meters on a
        9600-baud bus) would wait a whole interval more, halving the rate.
        Counted from the start, a bus that cannot keep up is polled at its own
        pace instead (10.3 s, not 20 s), and a log line says so once.

        The base class starts the next refresh at the whole second the round
        ended, plus a fixed offset, plus the delay given here; the delay is
        counted from that point, so rounds start exactly one interval apart
        instead of up to a second early or late.
        """
        self.last_round_s = duration_s
        interval = self.update_interval
        if interval is None:
            return
        spare = interval.total_seconds() - duration_s
        now = self.hass.loop.time()
        base = int(now) + self._microsecond
        # The base class's own hook for "next refresh in n seconds".
        self._retry_after = max(now + spare - base, 0.0)
        overrun = spare < 0
        if overrun and not self._overrun_logged:
            _LOGGER.warning(
                "%s: a round over all meters takes %.1f s, longer than the poll "
                "interval of %.0f s; the meters are read as fast as the bus allows",
                self.name,
                duration_s,
                interval.total_seconds(),
            )
        self._overrun_logged = overrun

    async def _async_poll_round(self) -> dict[str, MeterStatus]:
        """Read each meter in turn; one silent meter does not fail the others."""
        answered = 0
        errors: list[str] = []
        gateway_down: TransportError | None = None
        may_connect = not self._reconnect_skips
        if not may_connect:
            self._reconnect_skips -= 1
            gateway_down = GatewayUnreachableError(
                f"cannot connect to {self.transport.endpoint}; "
                "trying again at the next poll"
            )
        for subentry_id, reader in self._in_polling_order():
            if self._stopping:
                # Home Assistant is stopping or the entry unloading: a round
                # over 32 meters takes 10 s, longer than shutdown waits for
                # it. The meters not read keep their last status.
                break
            status = self.statuses[subentry_id]
            if status.polls_to_skip:
                # Backed off: a silent meter must not cost its neighbours a
                # timeout on every poll.
                status.polls_to_skip -= 1
                continue
            if gateway_down is not None:
                # The gateway itself is gone: asking each meter would only
                # repeat the failed connection attempt, timeout and all.
                errors.append(str(gateway_down))
                self._record_failure(subentry_id, status, gateway_down)
                continue
            answered_before = status.consecutive_failures == 0
            try:
                reading = await reader.read()
            except TransportError as err:
                if (
                    isinstance(err, NoResponseError)
                    and not answered
                    and (self._link_suspect or answered_before)
                    and status.reading is not None
                ):
                    # The first meter of the round, which answered last time,
                    # is silent: most likely the link itself (a half-open
                    # gateway that accepts and never answers). One timeout
                    # per poll is enough to tell: the others are not asked,
                    # nobody is backed off, and the next poll starts on a new
                    # connection, so the meters are back within a poll.
                    await self.transport.disconnect()
                    self._link_suspect = True
                    err = GatewayUnreachableError(
                        f"{self.transport.endpoint} accepted the connection but "
                        f"did not answer ({err})"
                    )
                errors.append(str(err))
                self._record_failure(subentry_id, status, err)
                if self.transport.connect_failures or self._link_suspect:
                    gateway_down = err
                continue
            answered += 1
            self._link_suspect = False
            self._record_success(subentry_id, status, reading)
        if may_connect:
            self._back_off_from_gone_gateway()
        self.gateway_reachable = gateway_down is None
        if self.readers and not answered and self.data is None:
            # Nothing answered on the first poll: let setup retry with backoff
            # rather than create entities with nothing to show.
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key="gateway_silent",
                translation_placeholders={"error": "; ".join(errors)},
            )
        self.counter_store.async_schedule_save(self._counters_state)
        async_report_read_rates(self.hass, self.config_entry, self.loads())
        return dict(self.statuses)

    def loads(self) -> list[MeterLoad]:
        """Each read meter's configured reads and their bus time, as measured."""
        interval = self.update_interval
        full_interval_s = interval.total_seconds() if interval else 0.0
        loads: list[MeterLoad] = []
        for subentry_id, cost in self.full_costs.items():
            fast = self.fast.meters.get(subentry_id)
            loads.append(
                MeterLoad(
                    full_s=cost.seconds,
                    full_interval_s=full_interval_s,
                    fast_s=fast.cost.seconds if fast else 0.0,
                    fast_interval_s=fast.interval_s if fast else None,
                    full_requests=len(self.readers[subentry_id].plan),
                )
            )
        return loads

    def _in_polling_order(self) -> list[tuple[str, MeterReader]]:
        """Meters that answered last time first, silent ones last; oldest first.

        So that a silent first meter means a silent link (see the round),
        and a dead meter never delays its healthy neighbours. Among the
        others, the meter whose full map is oldest goes first: on a bus
        that cannot keep up, none falls behind the rest.
        """
        never = dt_util.utc_from_timestamp(0)
        return sorted(
            self.readers.items(),
            key=lambda item: (
                self.statuses[item[0]].consecutive_failures > 0,
                self.statuses[item[0]].last_success or never,
            ),
        )

    def _back_off_from_gone_gateway(self) -> None:
        """After a poll that could connect: skip the next one if the gateway is gone.

        The first failed connection attempts are repeated on every poll (a
        gateway that reboots is back within seconds); after that, every
        other poll. Never more: the gateway must be in use again within two
        polls of its return, and one connection attempt per poll is cheap.
        """
        if self.transport.connect_failures >= FAILED_POLLS_BEFORE_UNAVAILABLE:
            self._reconnect_skips = 1

    def _counters_state(self) -> dict[str, dict[str, dict[str, Any]]]:
        """Every meter's counter state, for the store.

        Meters whose profile is missing keep the state they had: it is what
        they continue from once the profile loads again.
        """
        return {
            **self._kept_counters,
            **{
                subentry_id: {
                    **quality.counters_state(),
                    LESSONS_KEY: self.readers[subentry_id].lessons(),
                }
                for subentry_id, quality in self.qualities.items()
            },
        }

    def _record_success(
        self, subentry_id: str, status: MeterStatus, reading: MeterReading
    ) -> None:
        """Filter and keep the reading; log once when a lost meter is back."""
        if status.consecutive_failures >= FAILED_POLLS_BEFORE_UNAVAILABLE:
            _LOGGER.info(
                "%s: meter %s is answering again", self.name, self.titles[subentry_id]
            )
            # Its last power, voltage, … are minutes old: never shown again.
            self.qualities[subentry_id].after_outage()
        if status.consecutive_failures:
            self.full_log.forget(subentry_id)
        self.publish(subentry_id, reading.values, dt_util.utcnow().timestamp())
        self.full_costs[subentry_id].measure(reading.bus_s)
        self.full_log.note(subentry_id)
        status.reading = reading
        status.consecutive_failures = 0
        status.last_error = None
        status.last_success = dt_util.utcnow()

    def publish(
        self,
        subentry_id: str,
        values: Mapping[Quantity, float | None],
        taken_at: float,
    ) -> None:
        """Filter a meter's values, full map or fast group, into what is shown.

        A fast group's reading holds only its values: the others keep what
        the last full read published. Both go through the same filters, so
        a jump read every second is confirmed by the same number of readings.
        """
        status = self.statuses[subentry_id]
        filtered = self.qualities[subentry_id].apply(values, taken_at)
        status.published = {**status.published, **filtered.values}
        status.held_back_total += filtered.held_back
        for quantity, event in filtered.events.items():
            async_report_counter_reset(
                self.hass, self.config_entry, subentry_id, quantity, event
            )

    def _record_failure(
        self, subentry_id: str, status: MeterStatus, err: TransportError
    ) -> None:
        """Count the failure, back the meter off, log once when it turns unavailable."""
        status.consecutive_failures += 1
        status.failed_polls_total += 1
        status.last_error = str(err)
        if isinstance(err, NoResponseError):
            # Only a meter that is silent while the gateway answers is backed
            # off: when the gateway itself is gone, every meter is retried on
            # each poll so all recover as soon as it returns.
            status.polls_to_skip = min(
                2 ** (status.consecutive_failures - 1) - 1, MAX_POLLS_TO_SKIP
            )
        if status.consecutive_failures == FAILED_POLLS_BEFORE_UNAVAILABLE:
            _LOGGER.warning(
                "%s: meter %s did not answer %d polls in a row: %s",
                self.name,
                self.titles[subentry_id],
                status.consecutive_failures,
                err,
            )

    async def async_shutdown(self) -> None:
        """Stop polling, keep the counters and let go of the gateway's link."""
        self._stopping = True
        await self.fast.async_stop()
        await super().async_shutdown()
        await self.counter_store.async_save(self._counters_state())
        await self.transport.close()


def meter_subentries(entry: ConfigEntry) -> list[ConfigSubentry]:
    """The entry's meter subentries, in a stable order."""
    return [
        subentry
        for subentry in entry.subentries.values()
        if subentry.subentry_type == SUBENTRY_METER
    ]
