"""Many meters on one bus, polled by a real Home Assistant process.

    scripts/bench --ha-process [--seconds 120] [--warmup 30] [--meters 1 32]
                               [--json] [--hass PATH] [--baud 9600] [--turnaround-ms 0]

`benchmarks.bench` measures the read plan and Home Assistant's work inside
the benchmark's own process. This measures the whole thing as it runs at a
user's: for each meter count, a fresh configuration folder, a `hass`
process (the newest release, from .venv-e2e, as the end-to-end test runs
it) and a simulated gateway of its own (`benchmarks.bus_recorder`: WAGO
meters, unit ids 1..N, on the RS-485 timing model at 9600 baud). The
gateway and its meters are added the way the UI adds them, through the
config flow and the meter subentry flow over REST, with every default
(to the entry disabled, then enabled: see `run_case`).

The figures, each over the measurement window (`--seconds`), which starts
after a warm-up (`--warmup`) once every meter has been read:

- meter_polls: polls the simulator answered (a poll is the burst of
  requests to one unit id; see `meter_polls`);
- period_median_s, period_p95_s: time between the starts of one meter's
  consecutive polls, all meters pooled. On the bus, not as Home Assistant
  reports it: 10 s is the default interval, and a bus that needs longer for
  a round should set the pace (32 WAGO meters: about 10 s), never an
  interval more;
- bus_utilisation_pct: the share of the window the bus model was busy;
- ha_cpu_ms_per_meter_poll: CPU time of the Home Assistant process (user +
  system, all threads, with any child processes) during the window, less
  what the same process used while idle, divided by meter_polls;
- ha_cpu_s_by_slice: the window's CPU seconds, 10 s at a time: a steady
  rate, or a burst (a registry save, a reload still running) in the mean;
- ha_idle_cpu_pct: that idle rate, in % of one core, measured over a
  window as long (`--idle-seconds`), after start-up settled, with the
  gateway and its meters added but the entry disabled: the integration's
  code and the registries' entries are there, only the polling is not.

A benchmark, not a test: it asserts nothing, and prints what it saw,
including the Home Assistant log's warnings about the integration.
"""

import argparse
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
import itertools
import json
import logging
import math
import os
from pathlib import Path
import shutil
import statistics
import sys
import tempfile
import time
from typing import Any

from custom_components.energy_meters.const import (
    DEFAULT_SCAN_INTERVAL,
    MIN_SCAN_INTERVAL,
)
from devtools.ha_bootstrap import (
    BASE_CONFIG_DOMAINS,
    REPO_ROOT,
    Account,
    BootstrapError,
    FlowError,
    Gateway,
    HomeAssistantApi,
    ManagedProcess,
    Meter,
    add_gateway_with_meter,
    config_entries,
    confirm_http_settings,
    free_port,
    obtain_token,
    start_home_assistant,
    wait_for_port,
    wait_until_running,
    write_config_dir,
)
from devtools.ha_websocket import HomeAssistantWebSocket

PROFILE_ID = "wago_879_30xx"
DEFAULT_HASS = REPO_ROOT / ".venv-e2e" / "bin" / "hass"
# The owner of a throwaway configuration on 127.0.0.1, deleted after the run.
ACCOUNT = Account("bench", "bench-secret-password", "Bench")
# Requests to one unit id further apart than this belong to different polls:
# the requests of one poll follow each other on the bus, while two polls of
# a meter are at least the shortest poll interval apart.
POLL_GAP_S = MIN_SCAN_INTERVAL / 2
# Logging as a user has it: the integration's debug log (which the demo and
# the end-to-end test turn on) would be work Home Assistant does per poll.
LOGGER_SECTION = "logger:\n  default: warning\n"
SETUP_TIMEOUT_S = 300.0
MAX_WARNINGS_SHOWN = 5
CPU_SLICE_S = 10.0


# --- pure helpers: the figures from the records ----------------------------------------


@dataclass(frozen=True, slots=True)
class Request:
    """One read the simulator's meter saw."""

    t: float
    unit: int


@dataclass(frozen=True, slots=True)
class BusExchange:
    """One exchange the bus model carried: it ended at `end`, held `busy_s`."""

    end: float
    busy_s: float


def parse_records(lines: Iterable[str]) -> tuple[list[Request], list[BusExchange]]:
    """The requests and bus exchanges of a `benchmarks.bus_recorder` file.

    A last line cut off by a write in progress is skipped.
    """
    requests: list[Request] = []
    exchanges: list[BusExchange] = []
    for line in lines:
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if record.get("kind") == "request":
            requests.append(Request(float(record["t"]), int(record["unit"])))
        elif record.get("kind") == "bus":
            exchanges.append(BusExchange(float(record["end"]), float(record["busy_s"])))
    return requests, exchanges


def poll_starts(
    requests: Iterable[Request], gap_s: float = POLL_GAP_S
) -> dict[int, list[float]]:
    """Per unit id, the times its polls began.

    A poll is a burst of requests to one unit: a request that comes more than
    `gap_s` after the unit's previous one starts the next poll. Counting on
    the bus, rather than requests per poll, keeps the count right when a
    meter needs its reads split or a request is refused.
    """
    last: dict[int, float] = {}
    starts: dict[int, list[float]] = {}
    for request in sorted(requests, key=lambda r: r.t):
        previous = last.get(request.unit)
        if previous is None or request.t - previous > gap_s:
            starts.setdefault(request.unit, []).append(request.t)
        last[request.unit] = request.t
    return starts


def periods_in_window(
    starts: Mapping[int, Sequence[float]], begin: float, end: float
) -> list[float]:
    """Times between consecutive polls of each meter, both inside the window."""
    periods: list[float] = []
    for times in starts.values():
        inside = [t for t in times if begin <= t < end]
        periods += [b - a for a, b in itertools.pairwise(inside)]
    return periods


def polls_in_window(
    starts: Mapping[int, Sequence[float]], begin: float, end: float
) -> int:
    """Polls, of all meters, that began inside the window."""
    return sum(1 for times in starts.values() for t in times if begin <= t < end)


def percentile(values: Sequence[float], share: float) -> float:
    """The `share` (0..1) quantile, interpolated between the closest ranks.

    NaN for no values: a window too short for two polls of any meter has no
    period, and the table says so instead of failing.
    """
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = share * (len(ordered) - 1)
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def bus_busy_in_window(
    exchanges: Iterable[BusExchange], begin: float, end: float
) -> float:
    """Seconds the bus was busy inside the window, exchanges cut at its edges."""
    busy = 0.0
    for exchange in exchanges:
        start = exchange.end - exchange.busy_s
        busy += max(0.0, min(exchange.end, end) - max(start, begin))
    return busy


def cpu_seconds_from_stat(stat: str, clock_ticks: int) -> float:
    """User + system CPU of one /proc/<pid>/stat line, in seconds.

    With `cutime` and `cstime`: children the process started and waited for
    (a helper Home Assistant ran once) count as its own work. The command
    name in parentheses may hold spaces, so fields are counted after its
    closing parenthesis (proc(5): utime is field 14, cstime field 17).
    """
    fields = stat.rsplit(")", 1)[1].split()
    # fields[0] is field 3 (state): utime, stime, cutime, cstime are 14..17.
    ticks = sum(int(value) for value in fields[11:15])
    return ticks / clock_ticks


def process_group_of(stat: str) -> int:
    """The process group id (field 5) of one /proc/<pid>/stat line."""
    return int(stat.rsplit(")", 1)[1].split()[2])


def group_cpu_seconds(
    group: int, proc: Path = Path("/proc"), clock_ticks: int | None = None
) -> float:
    """CPU seconds of every live process in a process group.

    Home Assistant runs in a session of its own (`ManagedProcess`), so its
    process group is it and whatever it started, and nothing else.
    `clock_ticks` is the kernel's ticks per second (sysconf's, unless given).
    """
    ticks = clock_ticks or os.sysconf("SC_CLK_TCK")
    total = 0.0
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # ended meanwhile
        if process_group_of(stat) == group:
            total += cpu_seconds_from_stat(stat, ticks)
    return total


# --- one case: N meters -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CaseFigures:
    """The figures of one meter count."""

    meters: int
    window_s: float
    meter_polls: int
    meters_polled: int
    period_median_s: float
    period_p95_s: float
    period_max_s: float
    bus_utilisation_pct: float
    ha_cpu_ms_per_meter_poll: float
    ha_idle_cpu_pct: float
    ha_busy_cpu_pct: float
    ha_cpu_s_by_slice: tuple[float, ...]
    warnings: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Settings:
    """What every case shares."""

    hass: Path
    seconds: float
    idle_seconds: float
    warmup_s: float
    baud: int
    turnaround_ms: float
    keep: bool


def _log(message: str) -> None:
    """Progress on stderr: a case takes minutes, the figures go to stdout."""
    print(f"[ha-process] {message}", file=sys.stderr, flush=True)


@contextmanager
def _recording_gateway(
    meters: int, settings: Settings, work: Path
) -> Iterator[tuple[int, Path]]:
    """The recording simulator as its own process; yields its port and record."""
    port = free_port()
    record = work / "bus.jsonl"
    argv = [sys.executable, "-m", "benchmarks.bus_recorder", "--port", str(port)]
    argv += ["--units", str(meters), "--profile", PROFILE_ID]
    argv += ["--baud", str(settings.baud), "--record", str(record)]
    argv += ["--turnaround-ms", str(settings.turnaround_ms)]
    process = ManagedProcess("simulator", argv, work / "simulator.log", REPO_ROOT)
    process.start()
    try:
        wait_for_port("127.0.0.1", port, process, 30)
        yield port, record
    finally:
        process.stop(timeout=10)


@contextmanager
def _home_assistant(
    settings: Settings, work: Path
) -> Iterator[tuple[ManagedProcess, HomeAssistantApi]]:
    """`hass` on a fresh configuration folder, onboarded and running."""
    config_dir = work / "config"
    http_port = free_port()
    domains = [domain for domain in BASE_CONFIG_DOMAINS if domain != "logger"]
    write_config_dir(config_dir, host="127.0.0.1", port=http_port, domains=domains)
    with (config_dir / "configuration.yaml").open("a", encoding="utf-8") as config:
        config.write(LOGGER_SECTION)
    process = start_home_assistant(settings.hass, config_dir, work / "hass.log")
    try:
        api = HomeAssistantApi(f"http://127.0.0.1:{http_port}")
        obtain_token(api, process, ACCOUNT, SETUP_TIMEOUT_S)
        wait_until_running(api, process, SETUP_TIMEOUT_S)
        confirm_http_settings(api)
        yield process, api
    finally:
        process.stop(timeout=60)


def _add_gateway(api: HomeAssistantApi, port: int) -> str:
    """The gateway with meter 1, through the config flow; returns the entry id."""
    gateway = Gateway(host="127.0.0.1", port=port, framing="tcp")
    entry = add_gateway_with_meter(api, gateway, Meter("Meter 1", 1, PROFILE_ID))
    entry_id: str = entry["result"]["entry_id"]
    return entry_id


def _add_meters(api: HomeAssistantApi, entry_id: str, meters: int) -> None:
    """Meters 2..N through the meter subentry flow, each with the form's defaults.

    Only the unit id and the name are given, as a user adding meters would.
    """
    flow_path = "/api/config/config_entries/subentries/flow"
    for unit in range(2, meters + 1):
        result = api.post(flow_path, {"handler": [entry_id, "meter"]})
        step = f"{flow_path}/{result['flow_id']}"
        data = {"unit_id": unit, "profile": PROFILE_ID, "name": f"Meter {unit}"}
        result = api.post(step, data)
        if result.get("type") != "create_entry":
            msg = f"meter {unit}: subentry flow answered {json.dumps(result)[:2000]}"
            raise FlowError(msg)


def _set_disabled(api: HomeAssistantApi, entry_id: str, disabled: bool) -> None:
    """Disable or enable the gateway entry, as its menu in the UI does."""
    with HomeAssistantWebSocket(api.base_url, api.token or "", timeout=120) as ws:
        ws.call(
            "config_entries/disable",
            entry_id=entry_id,
            disabled_by="user" if disabled else None,
        )


def _records(path: Path) -> tuple[list[Request], list[BusExchange]]:
    with path.open(encoding="utf-8") as stream:
        return parse_records(stream)


def _wait_for_all_units(
    record: Path, meters: int, since: float, process: ManagedProcess
) -> None:
    """Wait until every meter has been read since `since` (setup done)."""
    deadline = time.monotonic() + SETUP_TIMEOUT_S
    while True:
        requests, _ = _records(record)
        if len({r.unit for r in requests if r.t >= since}) >= meters:
            return
        process.check_running()
        if time.monotonic() > deadline:
            msg = f"not all {meters} meters were read within {SETUP_TIMEOUT_S:.0f} s"
            raise BootstrapError(f"{msg}; end of the log:\n{process.log_tail()}")
        time.sleep(1)


def _wait_until_loaded(api: HomeAssistantApi, process: ManagedProcess) -> None:
    """Wait until the gateway entry is loaded, with every meter added.

    Each meter added reloads the entry, so the one before last may still be
    reading its first round when the flows are done.
    """
    deadline = time.monotonic() + SETUP_TIMEOUT_S
    while (states := [e["state"] for e in config_entries(api)]) != ["loaded"]:
        process.check_running()
        if time.monotonic() > deadline:
            msg = f"the gateway entry is {states}, not loaded"
            raise BootstrapError(f"{msg}; end of the log:\n{process.log_tail()}")
        time.sleep(1)


def _cpu_over(group: int, seconds: float) -> tuple[float, float, list[float]]:
    """Sleep `seconds`; return the window's start, end and the group's CPU in it.

    The CPU comes in slices of `CPU_SLICE_S` (the last one shorter), so a
    rate that is not steady (a save of the registries, a reload still
    running) shows in the figures instead of hiding in the mean.
    """
    begin = time.monotonic()
    end = begin + seconds
    cpu = [group_cpu_seconds(group)]
    while (now := time.monotonic()) < end:
        time.sleep(min(CPU_SLICE_S, end - now))
        cpu.append(group_cpu_seconds(group))
    return begin, time.monotonic(), [b - a for a, b in itertools.pairwise(cpu)]


def _integration_warnings(log_path: Path) -> tuple[str, ...]:
    """The log's warnings and errors that name the integration, but the stock one."""
    text = log_path.read_text(errors="replace")
    return tuple(
        line
        for line in text.splitlines()
        if any(level in line for level in ("WARNING", "ERROR", "CRITICAL"))
        and "energy_meters" in line
        and "has not been tested by Home Assistant" not in line
    )


def run_case(meters: int, settings: Settings) -> CaseFigures:
    """Start both processes, add the meters, measure idle, enable, measure busy."""
    work = Path(tempfile.mkdtemp(prefix=f"energy-meters-ha-bench-{meters}-"))
    try:
        with (
            _recording_gateway(meters, settings, work) as (port, record),
            _home_assistant(settings, work) as (hass, api),
        ):
            # Meters are added to the disabled entry: each meter added to a
            # loaded one reloads it, with a first round over all its meters,
            # and meters added back to back queue one reload each (minutes
            # at 32 meters). Enabled once, it is set up once.
            _log(f"{meters} meters: adding the gateway and {meters} meters, disabled")
            entry_id = _add_gateway(api, port)
            _set_disabled(api, entry_id, disabled=True)
            _add_meters(api, entry_id, meters)
            _log(f"{meters} meters: settling for {settings.warmup_s:.0f} s")
            time.sleep(settings.warmup_s)
            _log(f"{meters} meters: idle window of {settings.idle_seconds:.0f} s")
            idle_begin, idle_end, idle_cpu = _cpu_over(hass.pid, settings.idle_seconds)
            idle_rate = sum(idle_cpu) / (idle_end - idle_begin)
            _log(f"{meters} meters: enabling the gateway")
            _set_disabled(api, entry_id, disabled=False)
            _wait_until_loaded(api, hass)
            _wait_for_all_units(record, meters, time.monotonic(), hass)
            _log(f"{meters} meters: warm-up of {settings.warmup_s:.0f} s")
            time.sleep(settings.warmup_s)
            _log(f"{meters} meters: measuring for {settings.seconds:.0f} s")
            begin, end, busy_slices = _cpu_over(hass.pid, settings.seconds)
            hass.check_running()
            requests, exchanges = _records(record)
            warnings = _integration_warnings(hass.log_path)
    finally:
        if settings.keep:
            _log(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    window = end - begin
    busy_cpu = sum(busy_slices)
    starts = poll_starts(requests)
    polls = polls_in_window(starts, begin, end)
    periods = periods_in_window(starts, begin, end)
    own_cpu = busy_cpu - idle_rate * window
    return CaseFigures(
        meters=meters,
        window_s=round(window, 1),
        meter_polls=polls,
        meters_polled=sum(
            1 for times in starts.values() if any(begin <= t < end for t in times)
        ),
        period_median_s=round(statistics.median(periods), 2) if periods else math.nan,
        period_p95_s=round(percentile(periods, 0.95), 2),
        period_max_s=round(max(periods), 2) if periods else math.nan,
        bus_utilisation_pct=round(
            bus_busy_in_window(exchanges, begin, end) / window * 100, 1
        ),
        ha_cpu_ms_per_meter_poll=round(own_cpu / polls * 1000, 2)
        if polls
        else math.nan,
        ha_idle_cpu_pct=round(idle_rate * 100, 2),
        ha_busy_cpu_pct=round(busy_cpu / window * 100, 2),
        ha_cpu_s_by_slice=tuple(round(cpu, 2) for cpu in busy_slices),
        warnings=warnings,
    )


# --- the report ---------------------------------------------------------------------------


_ROWS: tuple[tuple[str, str], ...] = (
    ("meters", "meters"),
    ("window_s", "window, s"),
    ("meter_polls", "meter-polls"),
    ("meters_polled", "  meters polled in the window"),
    ("period_median_s", "period per meter, median, s"),
    ("period_p95_s", "period per meter, p95, s"),
    ("period_max_s", "period per meter, max, s"),
    ("bus_utilisation_pct", "bus utilisation, %"),
    ("ha_cpu_ms_per_meter_poll", "HA CPU per meter-poll, ms"),
    ("ha_idle_cpu_pct", "HA idle CPU, % of a core"),
    ("ha_busy_cpu_pct", "HA CPU while polling, % of a core"),
)


@dataclass(frozen=True, slots=True)
class LiveAddFigures:
    """Meters added one after another to a gateway that is loaded and polling."""

    meters: int
    adding_s: float
    until_all_entities_s: float
    first_meter_polls_next_minute: int
    steady_polls_per_minute: int


def run_live_add(meters: int, settings: Settings) -> LiveAddFigures:
    """Add meters 2..N to a loaded gateway as a person does, back to back.

    Each meter added reloads the gateway, and a reload reads every meter.
    The figures: how long the flows took, how long after the last one until
    every meter has a power state, and how often meter 1 is read in the
    minute after that: 6 at a 10 s interval once the reloads are done, more
    while reloads are still queued.
    """
    work = Path(tempfile.mkdtemp(prefix=f"energy-meters-ha-live-add-{meters}-"))
    try:
        with (
            _recording_gateway(meters, settings, work) as (port, record),
            _home_assistant(settings, work) as (hass, api),
        ):
            _log(f"live add: the gateway, then {meters - 1} meters, loaded")
            entry_id = _add_gateway(api, port)
            _wait_until_loaded(api, hass)
            began = time.monotonic()
            _add_meters(api, entry_id, meters)
            added = time.monotonic()
            deadline = added + SETUP_TIMEOUT_S
            while not _all_have_power(api, meters):
                hass.check_running()
                if time.monotonic() > deadline:
                    msg = f"not all {meters} meters had a power state in time"
                    raise BootstrapError(f"{msg}; end of the log:\n{hass.log_tail()}")
                time.sleep(0.5)
            complete = time.monotonic()
            _log("live add: every meter has entities; counting polls for 60 s")
            time.sleep(60)
            requests, _ = _records(record)
    finally:
        if settings.keep:
            _log(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    first = poll_starts(requests).get(1, [])
    return LiveAddFigures(
        meters=meters,
        adding_s=round(added - began, 1),
        until_all_entities_s=round(complete - added, 1),
        first_meter_polls_next_minute=sum(
            1 for t in first if complete <= t < complete + 60
        ),
        steady_polls_per_minute=6,
    )


def _all_have_power(api: HomeAssistantApi, meters: int) -> bool:
    """Whether every meter's power sensor has a numeric state."""
    states = {state["entity_id"]: state["state"] for state in api.get("/api/states")}
    for unit in range(1, meters + 1):
        try:
            float(states.get(f"sensor.meter_{unit}_power", ""))
        except ValueError:
            return False
    return True


def live_add_table(figures: LiveAddFigures) -> str:
    """The live-add figures, one per line."""
    rows = (
        ("meters added back to back to a loaded gateway", figures.meters - 1),
        ("seconds for the flows", figures.adding_s),
        (
            "seconds after the last until every meter has a power state",
            figures.until_all_entities_s,
        ),
        (
            "polls of meter 1 in the next minute (steady: 6)",
            figures.first_meter_polls_next_minute,
        ),
    )
    return "\n".join(f"{label:<62}{value:>8}" for label, value in rows)


def table(cases: Sequence[CaseFigures], settings: Settings) -> str:
    """The figures as plain text, one column per meter count."""
    width = max(len(label) for _, label in _ROWS) + 2
    lines = [
        (
            f"Home Assistant process ({settings.hass}), {PROFILE_ID} meters on one "
            f"gateway, RS-485 model at {settings.baud} baud and "
            f"{settings.turnaround_ms:g} ms turnaround, poll interval "
            f"{DEFAULT_SCAN_INTERVAL} s (default)"
        ),
        "",
    ]
    for key, label in _ROWS:
        cells = [_cell(asdict(case)[key]).rjust(10) for case in cases]
        lines.append(label.ljust(width) + "".join(cells))
    lines.append("")
    lines += [
        f"HA CPU s per {CPU_SLICE_S:g} s of the window, {case.meters} meters: "
        + " ".join(f"{cpu:.2f}" for cpu in case.ha_cpu_s_by_slice)
        for case in cases
    ]
    if any(case.warnings for case in cases):
        lines.append("")
    for case in cases:
        shown = case.warnings[:MAX_WARNINGS_SHOWN]
        lines += [f"{case.meters} meters, HA log: {line}" for line in shown]
        if len(case.warnings) > len(shown):
            more = len(case.warnings) - len(shown)
            lines.append(f"{case.meters} meters, HA log: ... and {more} more")
    return "\n".join(lines)


def json_figures(case: CaseFigures) -> dict[str, Any]:
    """The figures of one case for JSON: null where there is no figure (NaN)."""
    return {
        key: None if isinstance(value, float) and math.isnan(value) else value
        for key, value in asdict(case).items()
    }


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return "n/a" if math.isnan(value) else f"{value:g}"
    return str(value)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="scripts/bench --ha-process",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument(
        "--meters",
        type=int,
        nargs="+",
        default=[1, 32],
        metavar="N",
        help="meter counts to run, one case each (default: 1 32)",
    )
    parser.add_argument(
        "--seconds", type=float, default=120.0, help="measurement window (default 120)"
    )
    parser.add_argument(
        "--idle-seconds",
        type=float,
        default=None,
        help="idle window before the gateway is added (default: --seconds)",
    )
    parser.add_argument(
        "--warmup",
        type=float,
        default=30.0,
        help="settling after start-up and after the meters are read (default 30)",
    )
    parser.add_argument("--baud", type=int, default=9600)
    parser.add_argument(
        "--turnaround-ms",
        type=float,
        default=0.0,
        help="a meter's time to answer, per request (default 0); about 8 ms makes "
        "32 WAGO meters need more than one 10 s interval per round",
    )
    parser.add_argument(
        "--hass",
        type=Path,
        default=DEFAULT_HASS,
        help="the hass command (default: .venv-e2e's, the newest release)",
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the work folders (logs, records)"
    )
    parser.add_argument(
        "--add-to-live",
        action="store_true",
        help="instead: add the meters (the largest --meters) one after another to "
        "a loaded gateway and measure how soon all have entities",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run every case and print the table (or JSON)."""
    parser = _parser()
    args = parser.parse_args(argv)
    if not args.hass.exists():
        parser.error(f"{args.hass} is missing: run scripts/setup --e2e-only")
    if any(count < 1 for count in args.meters) or args.seconds <= 0:
        parser.error("meter counts and --seconds must be positive")
    logging.basicConfig(level=logging.ERROR)
    settings = Settings(
        hass=args.hass,
        seconds=args.seconds,
        idle_seconds=args.idle_seconds or args.seconds,
        warmup_s=args.warmup,
        baud=args.baud,
        turnaround_ms=args.turnaround_ms,
        keep=args.keep,
    )
    started = time.monotonic()
    if args.add_to_live:
        figures = run_live_add(max(args.meters), settings)
        if args.json:
            print(json.dumps(asdict(figures), indent=2))
        else:
            print(live_add_table(figures))
            print(f"\n(ran in {time.monotonic() - started:.0f} s)")
        return 0
    cases = [run_case(count, settings) for count in args.meters]
    if args.json:
        print(json.dumps({str(c.meters): json_figures(c) for c in cases}, indent=2))
    else:
        print(table(cases, settings))
        print(f"\n(ran in {time.monotonic() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
