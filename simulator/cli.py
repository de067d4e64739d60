"""Command line: run simulated meters behind a TCP port until told to stop.

    python -m simulator --port 5020 --unit 1 --unit 2 --profile wago_879_30xx

Meant for the demo (Home Assistant pointed at it), manual testing and soak
runs (`--speed 60` runs an hour a minute). One line on stdout says where it
listens, flushed at once, so a script can wait for it before connecting.

`--fault-rate 0.05 --faults spike,zero,nan,swap,silence` makes every meter
corrupt 5 % of its reads, each time by one of the kinds listed (see
`simulator.faults`); the counts are printed when it stops.
"""

import argparse
import asyncio
from collections.abc import Mapping, Sequence
import logging
from pathlib import Path
import signal
import sys
import time

from custom_components.energy_meters.meterlib.model import Profile
from custom_components.energy_meters.meterlib.profiles import (
    BUILTIN_PROFILE_DIR,
    DEFAULT_PROFILE_ID,
    load_profile_dirs,
)

from .clock import WallClock
from .faults import DEFAULT_LATE_DELAY_S, Fault, parse_faults
from .household import Household
from .meter import SimulatedMeter
from .server import ModbusSimulator


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m simulator",
        description="Simulated Modbus energy meters behind a TCP gateway.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument(
        "--port", type=int, default=5020, help="TCP port (0: any free port)"
    )
    parser.add_argument(
        "--unit",
        type=int,
        action="append",
        dest="units",
        metavar="ID",
        help="unit id of a meter; repeat for several meters (default: 1)",
    )
    parser.add_argument(
        "--profile",
        action="append",
        dest="profiles",
        metavar="ID",
        help=f"profile id, once for all meters or once per --unit (default: {DEFAULT_PROFILE_ID})",
    )
    parser.add_argument(
        "--profile-dir",
        action="append",
        default=[],
        type=Path,
        metavar="DIR",
        help="folder with user profile YAML files (repeatable)",
    )
    parser.add_argument("--framing", choices=("tcp", "rtu"), default="tcp")
    parser.add_argument(
        "--unknown-unit",
        choices=("silent", "gateway_exception"),
        default="silent",
        help="answer to a unit id nobody has: none (default) or exception 0x0B",
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=1,
        help="seed of the first meter; the next get seed+1, …",
    )
    parser.add_argument(
        "--speed", type=float, default=1.0, help="simulated seconds per real second"
    )
    parser.add_argument(
        "--start-hour",
        type=float,
        default=None,
        help="hour of day the simulation starts at (default: the local time now)",
    )
    parser.add_argument(
        "--fault-rate",
        type=float,
        default=0.0,
        metavar="P",
        help="share of reads each meter corrupts, 0..1 (default: 0, none)",
    )
    parser.add_argument(
        "--faults",
        default="all",
        metavar="KINDS",
        help="comma-separated fault kinds to draw from: "
        + ", ".join(kind.value for kind in Fault)
        + " (default: all but replace)",
    )
    parser.add_argument(
        "--fault-seed",
        type=int,
        default=None,
        help="seed of the first meter's faults, the next get seed+1, … (default: --seed)",
    )
    parser.add_argument(
        "--late-delay",
        type=float,
        default=DEFAULT_LATE_DELAY_S,
        metavar="S",
        help=f"seconds a late answer comes after its request (default: {DEFAULT_LATE_DELAY_S})",
    )
    parser.add_argument("--log-level", default="WARNING", help="Python logging level")
    return parser


def _add_faults(
    meters: list[SimulatedMeter],
    args: argparse.Namespace,
    parser: argparse.ArgumentParser,
) -> None:
    """Make every meter corrupt `--fault-rate` of its reads, each on its own seed."""
    if not 0.0 <= args.fault_rate <= 1.0:
        parser.error("--fault-rate must be between 0 and 1")
    if args.late_delay <= 0:
        parser.error("--late-delay must be positive")
    try:
        kinds = parse_faults(args.faults)
    except ValueError as err:
        parser.error(f"--faults: {err}")
    seed = args.seed if args.fault_seed is None else args.fault_seed
    for index, meter in enumerate(meters):
        meter.faults.late_delay_s = args.late_delay
        if args.fault_rate > 0:
            meter.faults.randomize(args.fault_rate, kinds, seed=seed + index)


def _fault_summary(meters: Sequence[SimulatedMeter]) -> str:
    """One line: how many faults of each kind the meters made."""
    total: dict[str, int] = {}
    for meter in meters:
        for kind, count in meter.faults.injected.items():
            total[kind.value] = total.get(kind.value, 0) + count
    made = ", ".join(f"{kind} {total[kind]}" for kind in sorted(total)) or "none"
    return f"Faults injected: {made}"


def _available_profiles(directories: Sequence[Path]) -> Mapping[str, Profile]:
    """Built-in profiles plus user ones; a user file cannot replace a built-in id."""
    loaded = load_profile_dirs([BUILTIN_PROFILE_DIR, *directories])
    for error in loaded.errors:
        print(f"profile skipped: {error}", file=sys.stderr)
    return loaded.profiles


def _meters(
    args: argparse.Namespace, parser: argparse.ArgumentParser
) -> list[SimulatedMeter]:
    """One meter per --unit, each with its own household on one shared clock."""
    units: list[int] = args.units or [1]
    names: list[str] = args.profiles or [DEFAULT_PROFILE_ID]
    if len(names) == 1:
        names = names * len(units)
    if len(names) != len(units):
        parser.error(f"give --profile once, or once per --unit ({len(units)} units)")
    if args.speed <= 0:
        parser.error("--speed must be positive")
    profiles = _available_profiles(args.profile_dir)
    for name in names:
        if name not in profiles:
            parser.error(
                f"unknown profile {name!r}; available: {', '.join(sorted(profiles))}"
            )
    local = time.localtime()
    start_hour = (
        args.start_hour
        if args.start_hour is not None
        else local.tm_hour + local.tm_min / 60 + local.tm_sec / 3600
    )
    clock = WallClock(speed=args.speed)
    meters: list[SimulatedMeter] = []
    for index, (unit, name) in enumerate(zip(units, names, strict=True)):
        household = Household(
            seed=args.seed + index, clock=clock, start_hour=start_hour
        )
        try:
            meters.append(SimulatedMeter(profiles[name], unit, household))
        except ValueError as err:
            parser.error(str(err))
    _add_faults(meters, args, parser)
    return meters


async def _serve(simulator: ModbusSimulator) -> None:
    """Listen until SIGINT or SIGTERM, then close everything."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    async with simulator:
        units = ", ".join(f"{m.unit_id} ({m.profile.id})" for m in simulator.meters)
        print(
            f"Simulator listening on {simulator.host}:{simulator.port} "
            f"({simulator.framing}), units {units}",
            flush=True,
        )
        faulty = [meter.faults for meter in simulator.meters if meter.faults.rate > 0]
        if faulty:
            kinds = ", ".join(sorted(kind.value for kind in faulty[0].kinds))
            print(f"Corrupting {faulty[0].rate:.2%} of reads with: {kinds}", flush=True)
        await stop.wait()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.remove_signal_handler(signum)
    if any(meter.faults.rate > 0 for meter in simulator.meters):
        print(_fault_summary(simulator.meters), flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the arguments, run the simulator, return the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level.upper())
    meters = _meters(args, parser)
    try:
        simulator = ModbusSimulator(
            meters, args.host, args.port, args.framing, unknown_unit=args.unknown_unit
        )
    except ValueError as err:
        parser.error(str(err))
    try:
        asyncio.run(_serve(simulator))
    except OSError as err:
        print(f"cannot listen on {args.host}:{args.port}: {err}", file=sys.stderr)
        return 1
    return 0
