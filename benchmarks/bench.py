"""What a poll costs on the bus and inside Home Assistant, per meter profile.

    scripts/bench [--json] [--profile ID ...] [--baud 9600] [--turnaround-ms 0]

Bus figures are measured against the simulator over real sockets on
127.0.0.1, with its RS-485 timing model on (`simulator.rs485`): every read is
held back by the time its RTU frames need on the bus (11 bits per byte) plus
the turnaround, one exchange at a time. For each profile the integration's
reader (its read plan) and a one-request-per-value reader of the same
registers, the way most tools read, run in this same process against the
same simulator.

- requests_per_poll, bus_bytes_per_poll: the RTU frames of one poll, request
  and response, counted by the simulated bus;
- poll_ms: one poll as the reader measured it (median), bus wait included;
- bus_bound_ms: the least time the planned requests can take on the bus:
  their bytes at 11 bits each, plus the modelled turnaround per request;
- meters_per_bus_at_10s: how many such meters one bus polls in 10 s, from
  the measured poll_ms; `..._with_rtu_silences` adds the two 3.5-character
  silences RTU framing needs around every answer, a floor for real meters
  (which also take their own time to answer);
- cpu_ms_per_meter_poll: Home Assistant's own work per meter and poll:
  decode, the data-quality filters and the entity state writes, measured in
  a Home Assistant instance in this process with the integration set up
  against the simulator (run as a separate process, so its work is not
  counted), over >= 1,000 meter-polls, with the time spent waiting for the
  bus taken out.
"""

import argparse
import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
import contextlib
from dataclasses import dataclass
import json
import logging
import math
from pathlib import Path
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Any

import custom_components.energy_meters  # noqa: F401  (before HA's test harness)
from custom_components.energy_meters.meterlib.model import Profile
from custom_components.energy_meters.meterlib.plan import ReadRequest
from custom_components.energy_meters.meterlib.profiles import (
    BUILTIN_PROFILE_DIR,
    load_profile_dirs,
)
from custom_components.energy_meters.meterlib.reader import MeterReader
from custom_components.energy_meters.meterlib.transport import Framing, ModbusTransport
from simulator.meter import SimulatedMeter
from simulator.rs485 import LineSettings, Rs485Line, read_frame_bytes
from simulator.server import ModbusSimulator

DEFAULT_PROFILES = ("wago_879_30xx", "eastron_sdm630")
POLL_INTERVAL_S = 10.0
REPO_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True, slots=True)
class BusFigures:
    """One reader's cost on the bus, per poll."""

    requests_per_poll: int
    bus_bytes_per_poll: int
    poll_ms: float
    bus_bound_ms: float


@dataclass(frozen=True, slots=True)
class CpuFigures:
    """Home Assistant's own work per meter-poll, and its parts."""

    meter_polls: int
    entities_per_meter: int
    cpu_ms_per_meter_poll: float
    filter_ms: float
    entities_ms: float
    decode_and_rest_ms: float


def one_request_per_value(profile: Profile) -> tuple[ReadRequest, ...]:
    """The plan of a reader that asks for each value on its own."""
    return tuple(
        ReadRequest(spec.function, spec.address, spec.count, (spec,))
        for spec in sorted(profile.registers, key=lambda s: (s.function, s.address))
    )


def bus_bound_s(plan: Sequence[ReadRequest], settings: LineSettings) -> float:
    """The least bus time of a plan: its frames' bytes plus a turnaround each."""
    return sum(
        settings.exchange_seconds(*read_frame_bytes(request.count)) for request in plan
    )


async def measure_bus(
    profile: Profile, settings: LineSettings, polls: int, naive: bool
) -> BusFigures:
    """Poll one simulated meter behind a timed RS-485 line."""
    meter = SimulatedMeter(profile, unit_id=1, seed=1)
    line = Rs485Line(settings)
    async with ModbusSimulator(
        [meter], host="127.0.0.1", framing="rtu", line=line
    ) as sim:
        transport = ModbusTransport("127.0.0.1", sim.port, Framing.RTU_OVER_TCP, 5.0)
        try:
            reader = MeterReader(transport, 1, profile)
            if naive:
                reader.plan = one_request_per_value(profile)
            await reader.read()  # connects, and learns any split the meter needs
            line.reset_counters()
            durations: list[float] = []
            requests = 0
            for _ in range(polls):
                reading = await reader.read()
                durations.append(reading.duration_s)
                requests = reading.requests
        finally:
            await transport.close()
    return BusFigures(
        requests_per_poll=requests,
        bus_bytes_per_poll=line.bytes // polls,
        poll_ms=statistics.median(durations) * 1000,
        bus_bound_ms=bus_bound_s(reader.plan, settings) * 1000,
    )


# --- CPU inside Home Assistant -----------------------------------------------


@contextlib.asynccontextmanager
async def simulator_process(
    profile_id: str, units: int, profile_dirs: Sequence[Path]
) -> AsyncIterator[int]:
    """The simulator CLI in its own process; yields its port."""
    args = [sys.executable, "-m", "simulator", "--port", "0", "--profile", profile_id]
    args += [arg for folder in profile_dirs for arg in ("--profile-dir", str(folder))]
    args += [arg for unit in range(1, units + 1) for arg in ("--unit", str(unit))]
    # Simulated time runs a minute per second, so values move between polls.
    args += ["--speed", "60"]
    process = await asyncio.create_subprocess_exec(
        *args, cwd=REPO_ROOT, stdout=subprocess.PIPE
    )
    try:
        assert process.stdout is not None  # noqa: S101 (asked for above)
        line = (await asyncio.wait_for(process.stdout.readline(), 30)).decode()
        if "listening on" not in line:
            msg = f"simulator did not start: {line!r}"
            raise RuntimeError(msg)
        yield int(line.split("listening on ", 1)[1].split()[0].rsplit(":", 1)[1])
    finally:
        process.terminate()
        await process.wait()


class _Stopwatch:
    """Time spent inside wrapped coroutines or callbacks, added up."""

    def __init__(self) -> None:
        self.seconds = 0.0

    def wrap_async[**P, R](
        self, function: Callable[P, Awaitable[R]]
    ) -> Callable[P, Awaitable[R]]:
        async def timed(*args: P.args, **kwargs: P.kwargs) -> R:
            started = time.perf_counter()
            try:
                return await function(*args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - started

        return timed

    def wrap[**P, R](self, function: Callable[P, R]) -> Callable[P, R]:
        def timed(*args: P.args, **kwargs: P.kwargs) -> R:
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - started

        return timed


async def measure_cpu(
    profile_id: str, meter_polls: int, meters: int, profile_dirs: Sequence[Path]
) -> CpuFigures:
    """Run the integration in Home Assistant and time its work per meter-poll."""
    # Imported here: Home Assistant and its test harness are heavy to import,
    # and only this figure needs them.
    from homeassistant import loader  # noqa: PLC0415
    from homeassistant.config_entries import ConfigSubentryData  # noqa: PLC0415
    from homeassistant.helpers import entity_registry as er  # noqa: PLC0415
    from pytest_homeassistant_custom_component.common import (  # type: ignore[import-untyped]  # noqa: PLC0415
        MockConfigEntry,
        async_test_home_assistant,
    )

    from custom_components.energy_meters.const import DOMAIN  # noqa: PLC0415

    polls = math.ceil(meter_polls / meters)
    config_dir = Path(tempfile.mkdtemp(prefix="energy-meters-bench-"))
    user_profiles = config_dir / "energy_meters" / "profiles"
    user_profiles.mkdir(parents=True)
    for folder in profile_dirs:
        for path in folder.glob("*.yaml"):
            shutil.copy(path, user_profiles / path.name)
    async with (
        simulator_process(profile_id, meters, profile_dirs) as port,
        async_test_home_assistant(config_dir=str(config_dir)) as hass,
    ):
        hass.data.pop(loader.DATA_CUSTOM_COMPONENTS)
        entry = MockConfigEntry(
            domain=DOMAIN,
            title=f"127.0.0.1:{port}",
            unique_id=f"127.0.0.1:{port}",
            data={"host": "127.0.0.1", "port": port, "framing": "tcp", "timeout": 5.0},
            options={"scan_interval": 3600},
            subentries_data=[
                ConfigSubentryData(
                    data={"unit_id": unit, "profile": profile_id},
                    subentry_type="meter",
                    title=f"Meter {unit}",
                    unique_id=str(unit),
                )
                for unit in range(1, meters + 1)
            ],
        )
        entry.add_to_hass(hass)
        if not await hass.config_entries.async_setup(entry.entry_id):
            msg = f"setting up the integration failed: {entry.state}"
            raise RuntimeError(msg)
        await hass.async_block_till_done()
        coordinator: Any = entry.runtime_data
        bus, filters, entities = _Stopwatch(), _Stopwatch(), _Stopwatch()
        transport = coordinator.transport
        transport.read = bus.wrap_async(transport.read)
        for quality in coordinator.qualities.values():
            quality.apply = filters.wrap(quality.apply)
        coordinator.async_update_listeners = entities.wrap(
            coordinator.async_update_listeners
        )
        total = 0.0
        for _ in range(polls):
            started = time.perf_counter()
            await coordinator.async_refresh()
            # State-change events the writes fired are part of the writes.
            await hass.async_block_till_done()
            total += time.perf_counter() - started
        enabled = sum(
            1
            for item in er.async_entries_for_config_entry(
                er.async_get(hass), entry.entry_id
            )
            if not item.disabled
        )
        failures = sum(s.failed_polls_total for s in coordinator.statuses.values())
        await hass.config_entries.async_unload(entry.entry_id)
        await hass.async_stop(force=True)
    shutil.rmtree(config_dir, ignore_errors=True)
    if failures:
        msg = f"{failures} meter-polls failed during the CPU run"
        raise RuntimeError(msg)
    done = polls * meters
    own = total - bus.seconds
    return CpuFigures(
        meter_polls=done,
        entities_per_meter=enabled // meters,
        cpu_ms_per_meter_poll=own / done * 1000,
        filter_ms=filters.seconds / done * 1000,
        entities_ms=entities.seconds / done * 1000,
        decode_and_rest_ms=(own - filters.seconds - entities.seconds) / done * 1000,
    )


# --- the report ----------------------------------------------------------------


def meters_per_bus(poll_ms: float) -> int:
    """Meters one bus can poll every POLL_INTERVAL_S, each taking `poll_ms`."""
    return int(POLL_INTERVAL_S * 1000 // poll_ms)


async def bench_profile(
    profile: Profile, settings: LineSettings, args: argparse.Namespace
) -> dict[str, Any]:
    """Every figure for one profile."""
    planned = await measure_bus(profile, settings, args.polls, naive=False)
    naive = await measure_bus(profile, settings, args.naive_polls, naive=True)
    cpu = await measure_cpu(
        profile.id, args.cpu_polls, args.cpu_meters, args.profile_dirs
    )
    silences_ms = planned.requests_per_poll * 2 * settings.rtu_silence_s * 1000
    return {
        "profile": profile.name,
        "quantities": len(profile.registers),
        "requests_per_poll": planned.requests_per_poll,
        "bus_bytes_per_poll": planned.bus_bytes_per_poll,
        "poll_ms": round(planned.poll_ms, 1),
        "bus_bound_ms": round(planned.bus_bound_ms, 1),
        "poll_vs_bound": round(planned.poll_ms / planned.bus_bound_ms, 3),
        "naive_requests_per_poll": naive.requests_per_poll,
        "naive_bus_bytes_per_poll": naive.bus_bytes_per_poll,
        "naive_poll_ms": round(naive.poll_ms, 1),
        "meters_per_bus_at_10s": meters_per_bus(planned.poll_ms),
        "naive_meters_per_bus_at_10s": meters_per_bus(naive.poll_ms),
        "meters_per_bus_at_10s_with_rtu_silences": meters_per_bus(
            planned.poll_ms + silences_ms
        ),
        "cpu_ms_per_meter_poll": round(cpu.cpu_ms_per_meter_poll, 3),
        "cpu_filter_ms": round(cpu.filter_ms, 3),
        "cpu_entities_ms": round(cpu.entities_ms, 3),
        "cpu_decode_and_rest_ms": round(cpu.decode_and_rest_ms, 3),
        "cpu_meter_polls": cpu.meter_polls,
        "entities_per_meter": cpu.entities_per_meter,
    }


_ROWS: tuple[tuple[str, str], ...] = (
    ("quantities", "quantities read"),
    ("requests_per_poll", "requests per poll"),
    ("naive_requests_per_poll", "  one-per-value reader"),
    ("bus_bytes_per_poll", "bytes on the bus per poll"),
    ("naive_bus_bytes_per_poll", "  one-per-value reader"),
    ("poll_ms", "poll duration, ms"),
    ("naive_poll_ms", "  one-per-value reader"),
    ("bus_bound_ms", "bus-time lower bound, ms"),
    ("poll_vs_bound", "poll / lower bound"),
    ("meters_per_bus_at_10s", "meters per bus at 10 s poll"),
    ("naive_meters_per_bus_at_10s", "  one-per-value reader"),
    ("meters_per_bus_at_10s_with_rtu_silences", "  with RTU 3.5-char silences"),
    ("cpu_ms_per_meter_poll", "HA CPU per meter-poll, ms"),
    ("cpu_decode_and_rest_ms", "  decode + coordinator"),
    ("cpu_filter_ms", "  data-quality filters"),
    ("cpu_entities_ms", "  entity state writes"),
    ("entities_per_meter", "  enabled entities per meter"),
    ("cpu_meter_polls", "  meter-polls measured"),
)


def table(results: dict[str, dict[str, Any]], settings: LineSettings) -> str:
    """The figures as a plain-text table, one column per profile."""
    ids = list(results)
    width = max(len(label) for _, label in _ROWS) + 2
    columns = [max(len(i), 12) for i in ids]
    lines = [
        (
            f"RS-485 model: {settings.baud} baud, {settings.bits_per_character} bits "
            f"per byte, turnaround {settings.turnaround_s * 1000:g} ms per request"
        ),
        "",
        " " * width + "  ".join(i.rjust(c) for i, c in zip(ids, columns, strict=True)),
    ]
    for key, label in _ROWS:
        cells = [
            _cell(results[i][key]).rjust(c) for i, c in zip(ids, columns, strict=True)
        ]
        lines.append(label.ljust(width) + "  ".join(cells))
    return "\n".join(lines)


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3f}" if value < 10 else f"{value:.1f}"  # noqa: PLR2004
    return str(value)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="scripts/bench", description=__doc__)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument(
        "--profile",
        action="append",
        dest="profiles",
        metavar="ID",
        help=f"profile id (repeatable; default: {', '.join(DEFAULT_PROFILES)})",
    )
    parser.add_argument(
        "--profile-dir",
        action="append",
        dest="profile_dirs",
        default=[],
        type=Path,
        metavar="DIR",
        help="also offer the profiles in this folder (repeatable)",
    )
    parser.add_argument("--baud", type=int, default=9600)
    parser.add_argument(
        "--turnaround-ms",
        type=float,
        default=0.0,
        help="extra bus time per request (meter latency, inter-frame silence)",
    )
    parser.add_argument("--polls", type=int, default=10, help="polls, planned reader")
    parser.add_argument(
        "--naive-polls", type=int, default=3, help="polls, one-per-value reader"
    )
    parser.add_argument(
        "--cpu-polls", type=int, default=1000, help="meter-polls for the CPU figure"
    )
    parser.add_argument(
        "--cpu-meters", type=int, default=4, help="meters behind the gateway in HA"
    )
    return parser


async def _run(args: argparse.Namespace) -> dict[str, dict[str, Any]]:
    available = load_profile_dirs([BUILTIN_PROFILE_DIR, *args.profile_dirs]).profiles
    wanted = args.profiles or list(DEFAULT_PROFILES)
    settings = LineSettings(baud=args.baud, turnaround_s=args.turnaround_ms / 1000)
    results: dict[str, dict[str, Any]] = {}
    for profile_id in wanted:
        if profile_id not in available:
            print(f"bench: no profile {profile_id!r}, skipped", file=sys.stderr)
            continue
        results[profile_id] = await bench_profile(available[profile_id], settings, args)
    return results


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print the table (or JSON)."""
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.ERROR)
    started = time.monotonic()
    results = asyncio.run(_run(args))
    if not results:
        print("bench: nothing to measure", file=sys.stderr)
        return 1
    settings = LineSettings(baud=args.baud, turnaround_s=args.turnaround_ms / 1000)
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        print(table(results, settings))
        print(f"\n(ran in {time.monotonic() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
