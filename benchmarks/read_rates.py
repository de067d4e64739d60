"""Read rates on one bus: power every second beside the full maps, measured.

    scripts/bench --read-rates [--meters 1 8 32] [--seconds 40] [--warmup 12]
                               [--baud 9600] [--fast-interval 1] [--json]

For each meter count, a gateway of that many WAGO meters (unit ids 1..N) on
one simulated RS-485 bus (`simulator.rs485.Rs485Line` at `--baud`, the
simulator in this process, 127.0.0.1), read by the integration's real
coordinator in a Home Assistant instance in this process (the test
harness's, as `benchmarks.bench` measures its CPU figure), the gateway's
poll interval 10 s. Every meter's household runs its heat pump's compressor
for the whole run, so power and energy change between reads and every read
shows as a state write. Each meter count runs twice, on a fresh Home
Assistant and simulator each time:

- "rates": every meter's fast group is its power (`fast_group: power`),
  read every `--fast-interval` seconds beside the full map;
- "single": no fast group (`fast_group: none`), today's single-interval
  reader: power comes with the full map, every 10 s.

The figures are taken over the window (`--seconds`), which starts after the
setup (the first round over all meters) and a warm-up (`--warmup`, long
enough for the second round and the fast reads to be under way):

- power / energy interval, median and p95: the time between two state
  writes of one meter's `power` and `energy_import` sensors (changed or
  reported, both inside the window, all meters pooled; p95 interpolated
  between ranks). Taken from Home Assistant's state-write events rather
  than from the coordinator's logs, since a state is what a user, an
  automation or the Energy dashboard sees. Power is the fast group;
  energy_import stands for the full map, written when its 1 Wh resolution
  changes, which a running compressor does within every interval. "n/a"
  when no meter was written twice inside the window (a full map read less
  often than the window is long); `.. counted` gives the number of
  intervals behind each figure;
- integration's own fast / full median: what the gateway's sensors show,
  the coordinator's own `IntervalLog`s at the end of the window (their
  last minute, which reaches back into the warm-up);
- last round: how long the coordinator's latest round over all full maps
  took (the next starts 10 s after the previous one started, or at once);
- bus busy, simulated line: the share of the window the line model held
  the bus (its `busy_s`, counters reset at the start of the window): the
  wire time of the frames, nothing else. The line has no turnaround and no
  RTU silences, so this is a little below what the timing model counts;
- bus busy, integration: `arbiter.usage.share()`, the bus utilisation the
  gateway's sensor shows: the time each request held the arbiter's turn
  (TCP round trip and event-loop latency included), over its last minute;
- model: `plan_fit` of the read plans' bus time from the timing model
  alone (`RS485Timing(baud).plan_s(...)`: 11 bits a character and two RTU
  silences a request), nothing measured: the share of the bus the
  configured rates need, whether that fits the usable 90 %, and the best
  intervals it allows: the configured ones when they fit, else
  `achievable_fast_interval_s` / `achievable_full_interval_s`. When fast
  reads alone overfill the bus, `plan_fit`'s full interval is a worst case,
  `requests x patience + the maps' bus time`, marked with a `~`: a full
  request also gets the bus in the pause between two batches of fast
  reads, so real rounds are shorter (32 WAGO meters: ~74 s at worst, 46 s
  measured). `max fast meters` is
  how many meters fit at the fast interval
  with every full map read at 10 s, the figure the repair gives;
- measured costs: the same from `coordinator.loads()`, the bus time of each
  read as the integration measured it, at the end of the window;
- full map / fast read per meter: the bus time of one, model and measured;
- repair raised: whether the read-rates repair issue was out at the end of
  the window, and which (`full_behind`, `fast_behind`);
- line overlapped: whether two requests were ever on the bus at once (the
  arbiter should make that impossible: `no` is right);
- failed meter-polls: full reads that failed inside the window.

A benchmark, not a test: it asserts nothing and prints what it saw,
including the integration's warnings.
"""

import custom_components.energy_meters  # noqa: I001  (before HA's test harness)

import argparse
import asyncio
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
import contextlib
from dataclasses import asdict, dataclass, field
import itertools
import json
import logging
import math
from pathlib import Path
import shutil
import statistics
import sys
import tempfile
import time
from typing import Any

from homeassistant import loader
from homeassistant.config_entries import ConfigEntryState, ConfigSubentryData
from homeassistant.const import EVENT_STATE_CHANGED, EVENT_STATE_REPORTED
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.helpers import entity_registry as er, issue_registry as ir
from pytest_homeassistant_custom_component.common import (  # type: ignore[import-untyped]
    MockConfigEntry,
    async_test_home_assistant,
)

from benchmarks.ha_process import percentile
from custom_components.energy_meters.const import DOMAIN, SUBENTRY_METER
from custom_components.energy_meters.gateway.coordinator import GatewayCoordinator
from custom_components.energy_meters.meterlib.profiles import builtin_profiles
from custom_components.energy_meters.meterlib.schedule import (
    USABLE_SHARE,
    Fit,
    MeterLoad,
    RS485Timing,
    plan_fit,
)
from custom_components.energy_meters.repairs import read_rates_issue_id
from simulator.household import running_household
from simulator.meter import SimulatedMeter
from simulator.rs485 import LineSettings, Rs485Line
from simulator.server import ModbusSimulator

PROFILE_ID = "wago_879_30xx"
FULL_INTERVAL_S = 10
MODES = ("rates", "single")
# Setup and teardown around the window, for the households' running time.
SETUP_MARGIN_S = 60.0
MAX_WARNINGS_SHOWN = 5


@dataclass(frozen=True, slots=True)
class Settings:
    """What every case shares."""

    seconds: float
    warmup_s: float
    baud: int
    fast_interval_s: int


@dataclass(frozen=True, slots=True)
class Bound:
    """What `plan_fit` says of a set of meter loads."""

    need_pct: float
    fits: bool
    fast_interval_s: float | None
    full_interval_s: float | None
    full_estimated: bool
    max_fast_meters: int


@dataclass(slots=True)
class CaseFigures:
    """One meter count in one mode, over the window."""

    meters: int
    mode: str
    power_median_s: float
    power_p95_s: float
    power_intervals: int
    energy_median_s: float
    energy_p95_s: float
    energy_intervals: int
    own_fast_median_s: float | None
    own_full_median_s: float | None
    last_round_s: float | None
    line_busy_pct: float
    arbiter_busy_pct: float
    model: Bound
    measured: Bound
    model_full_ms: float
    measured_full_ms: float
    model_fast_ms: float | None
    measured_fast_ms: float | None
    repair: str | None
    line_overlapped: bool
    failed_polls: int
    warnings: list[str] = field(default_factory=list)


# --- the arithmetic -------------------------------------------------------------


def gaps(times: Sequence[float]) -> list[float]:
    """The intervals between consecutive writes."""
    return [b - a for a, b in itertools.pairwise(times)]


def pooled_intervals(writes: Mapping[str, Sequence[float]]) -> list[float]:
    """Every entity's intervals, all entities together."""
    return [gap for times in writes.values() for gap in gaps(times)]


def bound(loads: Sequence[MeterLoad]) -> Bound:
    """The rates' need and the best intervals they allow, by `plan_fit`.

    On a bus the fast reads alone overfill, `plan_fit`'s full interval is a
    worst case (each full-map request waits a whole patience): marked `~`.
    """
    fit: Fit = plan_fit(loads)
    fast: float | None = None
    if fit.fast_meters:
        fast = fit.achievable_fast_interval_s or fit.fast_interval_s
    full: float | None = fit.achievable_full_interval_s or fit.full_interval_s
    estimated = fit.achievable_fast_interval_s is not None
    return Bound(
        need_pct=fit.need * 100,
        fits=fit.fits,
        fast_interval_s=fast,
        full_interval_s=full,
        full_estimated=estimated,
        max_fast_meters=fit.max_fast_meters,
    )


def _mean_ms(values: Sequence[float]) -> float | None:
    return statistics.fmean(values) * 1000 if values else None


# --- one case -----------------------------------------------------------------


def gateway_entry(port: int, meters: int, mode: str, fast_s: int) -> MockConfigEntry:
    """A gateway of `meters` WAGO meters, each fast at `fast_s` or not fast."""
    return MockConfigEntry(
        domain=DOMAIN,
        title=f"127.0.0.1:{port}",
        unique_id=f"127.0.0.1:{port}",
        data={"host": "127.0.0.1", "port": port, "framing": "tcp", "timeout": 1.0},
        options={"scan_interval": FULL_INTERVAL_S},
        subentries_data=[
            ConfigSubentryData(
                data={
                    "unit_id": unit,
                    "profile": PROFILE_ID,
                    "fast_group": "power" if mode == "rates" else "none",
                    "fast_interval": fast_s,
                },
                subentry_type=SUBENTRY_METER,
                title=f"Meter {unit}",
                unique_id=str(unit),
            )
            for unit in range(1, meters + 1)
        ],
    )


def _entity_ids(hass: HomeAssistant, entry: MockConfigEntry, key: str) -> list[str]:
    """Each meter's sensor of description `key`, found by unique id."""
    registry = er.async_get(hass)
    found: list[str] = []
    for subentry_id in entry.subentries:
        entity_id = registry.async_get_entity_id(
            "sensor", DOMAIN, f"{entry.entry_id}_{subentry_id}_{key}"
        )
        if entity_id is None:
            msg = f"no {key} sensor for meter {subentry_id}"
            raise RuntimeError(msg)
        found.append(entity_id)
    return found


@contextlib.contextmanager
def state_writes(
    hass: HomeAssistant, entity_ids: Sequence[str]
) -> Iterator[dict[str, list[float]]]:
    """When each of `entity_ids` is written (loop time), changed or not."""
    wanted = frozenset(entity_ids)
    times: dict[str, list[float]] = defaultdict(list)

    @callback
    def _wanted(data: Mapping[str, Any]) -> bool:
        return data["entity_id"] in wanted

    @callback
    def _written(event: Event[Any]) -> None:
        times[event.data["entity_id"]].append(hass.loop.time())

    removers: list[Callable[[], None]] = [
        hass.bus.async_listen(EVENT_STATE_CHANGED, _written, event_filter=_wanted),
        hass.bus.async_listen(EVENT_STATE_REPORTED, _written, event_filter=_wanted),
    ]
    try:
        yield times
    finally:
        for remove in removers:
            remove()


class _Warnings(logging.Handler):
    """The integration's warnings, kept for the report."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(f"{record.levelname}: {record.getMessage()}")


class _AnswerToAClosedLink(logging.Filter):
    """The simulator answering a fast read the unloading gateway gave up on.

    Unloading cancels the fast read on the bus; the simulated line still
    holds it for its time and pymodbus then logs the answer it cannot send,
    with a dump of the last frames: teardown, not a finding.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("Cancel send, because not connected")


@contextlib.contextmanager
def integration_warnings() -> Iterator[list[str]]:
    """The integration's warnings meanwhile: into the report, not onto stderr."""
    handler = _Warnings()
    log = logging.getLogger(custom_components.energy_meters.__name__)
    level, propagate = log.level, log.propagate
    log.addHandler(handler)
    log.setLevel(logging.WARNING)
    log.propagate = False
    closed_link = _AnswerToAClosedLink()
    pymodbus_log = logging.getLogger("pymodbus.logging")
    pymodbus_log.addFilter(closed_link)
    try:
        yield handler.lines
    finally:
        pymodbus_log.removeFilter(closed_link)
        log.removeHandler(handler)
        log.setLevel(level)
        log.propagate = propagate


async def run_case(meters: int, mode: str, settings: Settings) -> CaseFigures:
    """One case on a Home Assistant of its own, stopped and removed after."""
    config_dir = Path(tempfile.mkdtemp(prefix="energy-meters-read-rates-"))
    try:
        async with async_test_home_assistant(config_dir=str(config_dir)) as hass:
            # The harness hides custom integrations unless asked.
            hass.data.pop(loader.DATA_CUSTOM_COMPONENTS)
            try:
                return await measure_gateway(hass, meters, mode, settings)
            finally:
                await hass.async_stop(force=True)
    finally:
        shutil.rmtree(config_dir, ignore_errors=True)


async def measure_gateway(
    hass: HomeAssistant, meters: int, mode: str, settings: Settings
) -> CaseFigures:
    """Set up a gateway of `meters` meters in `mode`, warm up, measure the window.

    The gateway and its simulator are gone when this returns; `hass` is
    left running (the smoke test's own).
    """
    profile = builtin_profiles()[PROFILE_ID]
    lasting_s = settings.warmup_s + settings.seconds + SETUP_MARGIN_S
    simulated = [
        SimulatedMeter(profile, unit, source=running_household(unit, lasting_s))
        for unit in range(1, meters + 1)
    ]
    line = Rs485Line(LineSettings(baud=settings.baud))
    with integration_warnings() as warnings:
        async with ModbusSimulator(simulated, host="127.0.0.1", line=line) as sim:
            entry = gateway_entry(sim.port, meters, mode, settings.fast_interval_s)
            entry.add_to_hass(hass)
            try:
                if not await hass.config_entries.async_setup(entry.entry_id):
                    msg = f"setting up the gateway failed: {entry.state}"
                    raise RuntimeError(msg)
                await hass.async_block_till_done()
                figures = await _measure(
                    hass, entry, line, mode=mode, settings=settings
                )
            finally:
                if entry.state is ConfigEntryState.LOADED:
                    await hass.config_entries.async_unload(entry.entry_id)
                await hass.async_block_till_done()
    # After the simulator stopped: every request of the run counted.
    figures.line_overlapped = line.overlapped
    figures.warnings = warnings
    return figures


async def _measure(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    line: Rs485Line,
    *,
    mode: str,
    settings: Settings,
) -> CaseFigures:
    """Warm up, then watch the window; every figure of the case."""
    coordinator: GatewayCoordinator = entry.runtime_data
    power_ids = _entity_ids(hass, entry, "power")
    energy_ids = _entity_ids(hass, entry, "energy_import")
    await asyncio.sleep(settings.warmup_s)
    failed_before = sum(s.failed_polls_total for s in coordinator.statuses.values())
    with state_writes(hass, [*power_ids, *energy_ids]) as writes:
        line.reset_counters()
        started = hass.loop.time()
        await asyncio.sleep(settings.seconds)
        window_s = hass.loop.time() - started
        line_busy_s = line.busy_s
        arbiter_share = coordinator.arbiter.usage.share()
        own_fast = coordinator.fast.log.figures()
        own_full = coordinator.full_log.figures()
        measured_loads = coordinator.loads()
        issue = ir.async_get(hass).async_get_issue(
            DOMAIN, read_rates_issue_id(entry.entry_id)
        )
        failed = (
            sum(s.failed_polls_total for s in coordinator.statuses.values())
            - failed_before
        )
    power = pooled_intervals({i: writes.get(i, []) for i in power_ids})
    energy = pooled_intervals({i: writes.get(i, []) for i in energy_ids})
    timing = RS485Timing(baud=settings.baud)
    model_loads: list[MeterLoad] = []
    model_fast: list[float] = []
    for subentry_id, reader in coordinator.readers.items():
        fast = coordinator.fast.meters.get(subentry_id)
        fast_s = timing.plan_s(reader.fast_plan) if fast else 0.0
        if fast:
            model_fast.append(fast_s)
        model_loads.append(
            MeterLoad(
                full_s=timing.plan_s(reader.plan),
                full_interval_s=float(FULL_INTERVAL_S),
                fast_s=fast_s,
                fast_interval_s=fast.interval_s if fast else None,
                full_requests=len(reader.plan),
            )
        )
    return CaseFigures(
        meters=len(coordinator.meter_ids),
        mode=mode,
        power_median_s=percentile(power, 0.5),
        power_p95_s=percentile(power, 0.95),
        power_intervals=len(power),
        energy_median_s=percentile(energy, 0.5),
        energy_p95_s=percentile(energy, 0.95),
        energy_intervals=len(energy),
        own_fast_median_s=own_fast.median_s if own_fast else None,
        own_full_median_s=own_full.median_s if own_full else None,
        last_round_s=coordinator.last_round_s,
        line_busy_pct=line_busy_s / window_s * 100,
        arbiter_busy_pct=arbiter_share * 100,
        model=bound(model_loads),
        measured=bound(measured_loads),
        model_full_ms=statistics.fmean(load.full_s for load in model_loads) * 1000,
        measured_full_ms=statistics.fmean(load.full_s for load in measured_loads)
        * 1000,
        model_fast_ms=_mean_ms(model_fast),
        measured_fast_ms=_mean_ms(
            [load.fast_s for load in measured_loads if load.fast_interval_s]
        ),
        repair=issue.translation_key if issue is not None else None,
        line_overlapped=line.overlapped,
        failed_polls=failed,
    )


# --- the report ------------------------------------------------------------------


def _bound_rows(prefix: str, label: str) -> list[tuple[str, str]]:
    return [
        (f"{prefix}.need_pct", f"{label}: need, % of bus"),
        (f"{prefix}.fits", f"  fits in {USABLE_SHARE * 100:.0f} %"),
        (f"{prefix}.fast_interval_s", "  best fast interval, s"),
        (f"{prefix}.full_interval_s", "  best full interval, s"),
        (f"{prefix}.max_fast_meters", "  max fast meters"),
    ]


_ROWS: tuple[tuple[str, str], ...] = (
    ("power_median_s", "power interval median, s"),
    ("power_p95_s", "power interval p95, s"),
    ("power_intervals", "  intervals counted"),
    ("energy_median_s", "energy (full map) interval median, s"),
    ("energy_p95_s", "energy (full map) interval p95, s"),
    ("energy_intervals", "  intervals counted"),
    ("own_fast_median_s", "integration's own fast median, s"),
    ("own_full_median_s", "integration's own full median, s"),
    ("last_round_s", "last round over all maps, s"),
    ("line_busy_pct", "bus busy, simulated line, %"),
    ("arbiter_busy_pct", "bus busy, integration (last min), %"),
    *_bound_rows("model", "model"),
    *_bound_rows("measured", "measured costs"),
    ("model_full_ms", "full map per meter, model, ms"),
    ("measured_full_ms", "  measured, ms"),
    ("model_fast_ms", "fast read per meter, model, ms"),
    ("measured_fast_ms", "  measured, ms"),
    ("repair", "read-rates repair raised"),
    ("line_overlapped", "line overlapped"),
    ("failed_polls", "failed meter-polls"),
)


def _value(case: CaseFigures, key: str) -> Any:
    """The figure under `key`; `model.fits` and the like from the bound."""
    group, _, name = key.rpartition(".")
    figures: dict[str, Any] = asdict(case)
    if group:
        figures = figures[group]
    value = figures[name]
    if name == "full_interval_s" and figures["full_estimated"]:
        return f"~{_cell(value)}"
    return value


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if math.isnan(value):
            return "n/a"
        return f"{value:.3f}" if abs(value) < 10 else f"{value:.1f}"  # noqa: PLR2004
    if isinstance(value, str) and value.startswith("read_rates_"):
        return value.removeprefix("read_rates_")
    return str(value)


def table(cases: Sequence[CaseFigures], settings: Settings) -> str:
    """The figures as plain text, one column per meter count and mode."""
    width = max(len(label) for _, label in _ROWS) + 2
    heads = [f"{case.meters} {case.mode}" for case in cases]
    column = max(12, *(len(head) + 2 for head in heads))
    lines = [
        (
            f"{PROFILE_ID} meters on one gateway, RS-485 line model at "
            f"{settings.baud} baud; 'rates': power every {settings.fast_interval_s} s "
            f"and the full map every {FULL_INTERVAL_S} s, 'single': everything "
            f"every {FULL_INTERVAL_S} s; window {settings.seconds:g} s after "
            f"{settings.warmup_s:g} s of warm-up"
        ),
        "",
        " " * width + "".join(head.rjust(column) for head in heads),
    ]
    for key, label in _ROWS:
        cells = [_cell(_value(case, key)).rjust(column) for case in cases]
        lines.append(label.ljust(width) + "".join(cells))
    if any(case.warnings for case in cases):
        lines.append("")
    for case in cases:
        shown = case.warnings[:MAX_WARNINGS_SHOWN]
        lines += [f"{case.meters} {case.mode}, log: {line}" for line in shown]
        if len(case.warnings) > len(shown):
            more = len(case.warnings) - len(shown)
            lines.append(f"{case.meters} {case.mode}, log: ... and {more} more")
    return "\n".join(lines)


def as_json(cases: Sequence[CaseFigures], settings: Settings) -> dict[str, Any]:
    """Every figure as one JSON-ready object, keyed by meter count, then mode."""
    by_count: dict[str, dict[str, Any]] = {}
    for case in cases:
        figures = asdict(case)
        for key, value in figures.items():
            if isinstance(value, float) and math.isnan(value):
                figures[key] = None
        by_count.setdefault(str(case.meters), {})[case.mode] = figures
    return {"settings": asdict(settings), "cases": by_count}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="scripts/bench --read-rates",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument(
        "--meters",
        type=int,
        nargs="+",
        default=[1, 8, 32],
        metavar="N",
        help="meter counts, each run in both modes (default: 1 8 32)",
    )
    parser.add_argument(
        "--seconds", type=float, default=40.0, help="measurement window (default 40)"
    )
    parser.add_argument(
        "--warmup",
        type=float,
        default=12.0,
        help="seconds after setup before the window (default 12)",
    )
    parser.add_argument("--baud", type=int, default=9600, help="bus speed (9600)")
    parser.add_argument(
        "--fast-interval",
        type=int,
        default=1,
        help="the power's interval in the 'rates' mode, s (default 1)",
    )
    return parser


async def run(meter_counts: Sequence[int], settings: Settings) -> list[CaseFigures]:
    """Every case, one after the other: each meter count in both modes."""
    return [
        await run_case(meters, mode, settings)
        for meters in meter_counts
        for mode in MODES
    ]


def main(argv: Sequence[str] | None = None) -> int:
    """Run every case and print the table (or JSON)."""
    parser = _parser()
    args = parser.parse_args(argv)
    if any(count < 1 for count in args.meters) or args.seconds <= 0:
        parser.error("meter counts and --seconds must be positive")
    if not 1 <= args.fast_interval <= FULL_INTERVAL_S:
        parser.error(f"--fast-interval must be 1..{FULL_INTERVAL_S}")
    logging.basicConfig(level=logging.ERROR)
    settings = Settings(
        seconds=args.seconds,
        warmup_s=args.warmup,
        baud=args.baud,
        fast_interval_s=args.fast_interval,
    )
    started = time.monotonic()
    cases = asyncio.run(run(args.meters, settings))
    if args.json:
        print(json.dumps(as_json(cases, settings), indent=2))
    else:
        print(table(cases, settings))
        print(f"\n(ran in {time.monotonic() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
