"""Simulated meters on a timed RS-485 bus, with every answered request on record.

    python -m benchmarks.bus_recorder --port 5020 --units 32 --record bus.jsonl

The gateway the Home Assistant benchmark (`benchmarks.ha_process`) polls.
It is the project's `ModbusSimulator` with the RS-485 timing model
(`simulator.rs485`) attached, so every read holds the bus for as long as its
RTU frames would at `--baud` (9600 by default), one exchange at a time
across all meters, as on the real bus behind a gateway. What Home Assistant
achieves is then measured where it shows, on the bus, and not from what
Home Assistant says about itself:

- a ``request`` line for every read a meter saw, with its unit id and the
  system-wide monotonic time it arrived (`time.monotonic`, which is
  CLOCK_MONOTONIC and so comparable with the benchmark's own clock in
  another process);
- a ``bus`` line for every exchange the bus carried, with the time it ended
  and how long the model held the bus for it.

One JSON object a line, flushed at once: the benchmark reads the file while
this process still runs. Only public hooks of the simulator are used: a
meter's `requests` log (kept for tests to see how a client reads) is
replaced by one that also writes each record down, and the line's
`exchange` is extended, not rewritten.
"""

import argparse
import asyncio
from collections import deque
from collections.abc import Iterable, Sequence
import json
from pathlib import Path
import signal
import sys
import time
from typing import IO, Any, override

from custom_components.energy_meters.meterlib.profiles import (
    BUILTIN_PROFILE_DIR,
    load_profile_dirs,
)
from simulator.clock import WallClock
from simulator.household import Household
from simulator.meter import ReadRecord, SimulatedMeter
from simulator.rs485 import LineSettings, Rs485Line
from simulator.server import ModbusSimulator

DEFAULT_PROFILE = "wago_879_30xx"


class Recorder:
    """The record file: one JSON object a line, written through at once."""

    def __init__(self, stream: IO[str]) -> None:
        """Write to `stream` (opened by the caller, closed by it)."""
        self._stream = stream

    def write(self, kind: str, **fields: Any) -> None:
        """One line of the given kind."""
        self._stream.write(json.dumps({"kind": kind, **fields}) + "\n")
        self._stream.flush()


class RecordingLine(Rs485Line):
    """The timed bus, writing down each exchange once it has held the bus."""

    def __init__(self, settings: LineSettings, recorder: Recorder) -> None:
        """A quiet bus that reports to `recorder`."""
        super().__init__(settings)
        self._recorder = recorder

    @override
    async def exchange(self, request_bytes: int, response_bytes: int) -> None:
        """Hold the bus as the model says, then record when and for how long."""
        await super().exchange(request_bytes, response_bytes)
        busy = self.settings.exchange_seconds(request_bytes, response_bytes)
        self._recorder.write("bus", end=time.monotonic(), busy_s=busy)


class RecordingRequests(deque[ReadRecord]):
    """A meter's request log that also writes each request down, with its time.

    The meter appends to it when a read arrives, before the bus time of the
    answer, so consecutive records of one unit are spaced as its polls are.
    """

    def __init__(
        self,
        unit_id: int,
        recorder: Recorder,
        iterable: Iterable[ReadRecord] = (),
        maxlen: int | None = None,
    ) -> None:
        """Log the reads of `unit_id` to `recorder`, keeping `maxlen` in memory."""
        super().__init__(iterable, maxlen)
        self._unit_id = unit_id
        self._recorder = recorder

    @override
    def append(self, x: ReadRecord, /) -> None:
        """Keep the record as the meter does, and write it down."""
        super().append(x)
        self._recorder.write(
            "request",
            t=time.monotonic(),
            unit=self._unit_id,
            function=x.function,
            address=x.address,
            count=x.count,
            refused=x.refused,
        )


def build_meters(
    profile_id: str, units: int, recorder: Recorder, speed: float, seed: int
) -> list[SimulatedMeter]:
    """Meters 1..units of one profile, each its own household on one clock.

    The clock starts at the local time of day, as the simulator's command
    line does, so the load (and with it how often values change, which is
    what Home Assistant's state writes depend on) is that of a real day.
    """
    profiles = load_profile_dirs([BUILTIN_PROFILE_DIR]).profiles
    if profile_id not in profiles:
        msg = (
            f"unknown profile {profile_id!r}; available: {', '.join(sorted(profiles))}"
        )
        raise SystemExit(msg)
    local = time.localtime()
    start_hour = local.tm_hour + local.tm_min / 60 + local.tm_sec / 3600
    clock = WallClock(speed=speed)
    meters: list[SimulatedMeter] = []
    for unit in range(1, units + 1):
        household = Household(seed=seed + unit - 1, clock=clock, start_hour=start_hour)
        meter = SimulatedMeter(profiles[profile_id], unit, household)
        meter.requests = RecordingRequests(
            unit, recorder, meter.requests, meter.requests.maxlen
        )
        meters.append(meter)
    return meters


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.bus_recorder",
        description="Simulated meters on a timed RS-485 bus, every request recorded.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--units", type=int, default=1, help="meters 1..N")
    parser.add_argument("--profile", default=DEFAULT_PROFILE)
    parser.add_argument("--baud", type=int, default=9600)
    parser.add_argument("--turnaround-ms", type=float, default=0.0)
    parser.add_argument("--speed", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--record", type=Path, required=True, help="JSON-lines file")
    return parser


async def _serve(simulator: ModbusSimulator) -> None:
    """Answer until SIGTERM or SIGINT."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    async with simulator:
        print(
            f"Recording bus listening on {simulator.host}:{simulator.port}, "
            f"{len(simulator.meters)} meters",
            flush=True,
        )
        await stop.wait()


def main(argv: Sequence[str] | None = None) -> int:
    """Run the recording simulator until told to stop."""
    args = _parser().parse_args(argv)
    if args.units < 1:
        print("bus_recorder: --units must be at least 1", file=sys.stderr)
        return 2
    settings = LineSettings(baud=args.baud, turnaround_s=args.turnaround_ms / 1000)
    with args.record.open("w", encoding="utf-8") as stream:
        recorder = Recorder(stream)
        meters = build_meters(args.profile, args.units, recorder, args.speed, args.seed)
        line = RecordingLine(settings, recorder)
        simulator = ModbusSimulator(meters, args.host, args.port, "tcp", line=line)
        asyncio.run(_serve(simulator))
    return 0


if __name__ == "__main__":
    sys.exit(main())
