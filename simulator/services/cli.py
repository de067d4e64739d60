"""Command line: run both fake companion services until told to stop.

    python -m simulator.services --heatpump-port 8002 --thermostat-port 8001 --host 127.0.0.1

One line per service on stdout says where it listens, flushed at once, so a
script can wait for them before configuring Home Assistant.
"""

import argparse
import asyncio
from collections.abc import Sequence
import contextlib
import signal

from . import start_services


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m simulator.services",
        description="Fake heat-pump controller and thermostat services.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument(
        "--heatpump-port",
        type=int,
        default=8002,
        help="heat-pump service port (0: any)",
    )
    parser.add_argument(
        "--thermostat-port",
        type=int,
        default=8001,
        help="thermostat service port (0: any)",
    )
    parser.add_argument(
        "--token", default=None, help="require this bearer token (default: none)"
    )
    parser.add_argument(
        "--static",
        action="store_true",
        help="do not animate the models (values change only through /_sim/)",
    )
    return parser


async def _run(args: argparse.Namespace) -> None:
    services = await start_services(
        args.host,
        args.heatpump_port,
        args.thermostat_port,
        live=not args.static,
        token=args.token,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(signum, stop.set)
    print(f"heat-pump service listening on {services.heatpump.url}", flush=True)
    print(f"thermostat service listening on {services.thermostat.url}", flush=True)
    try:
        await stop.wait()
    finally:
        await services.stop()


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the arguments and serve until SIGINT or SIGTERM."""
    asyncio.run(_run(_parser().parse_args(argv)))
    return 0
