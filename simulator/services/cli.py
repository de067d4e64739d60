"""Command line: run both fake companion services until told to stop.

    python -m simulator.services --heatpump-port 8002 --thermostat-port 8001 --host 127.0.0.1
    python -m simulator.services --http-meter-port 8003   # also an HTTP meter at /meter
    python -m simulator.services --mqtt-port 1884   # also an MQTT broker with a meter on it

One line per service on stdout says where it listens, flushed at once, so a
script can wait for them before configuring Home Assistant.
"""

import argparse
import asyncio
from collections.abc import Sequence
import contextlib
import signal

from simulator.household import Household
from simulator.http_meter import HttpMeter
from simulator.mqtt_broker import MqttBroker
from simulator.mqtt_meter import MqttMeterPublisher

from . import start_services

MQTT_PREFIX = "demo/garage"
MQTT_INTERVAL_S = 5.0


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
        "--http-meter-port",
        type=int,
        default=None,
        help="also serve a simulated HTTP meter on this port, at /meter (default: none)",
    )
    parser.add_argument(
        "--mqtt-port",
        type=int,
        default=None,
        help="also run an MQTT broker on this port, with a simulated meter publishing "
        f"JSON to {MQTT_PREFIX}/state every {MQTT_INTERVAL_S:g} s (default: none)",
    )
    parser.add_argument(
        "--token", default=None, help="require this bearer token (default: none)"
    )
    parser.add_argument(
        "--poll-interval",
        type=float,
        default=20.0,
        help="the heat-pump service's poll of the pump, seconds (default: 20, as "
        "deployed; the service's code default is 30)",
    )
    parser.add_argument(
        "--control-period",
        type=float,
        default=None,
        help="the thermostat's control loop, seconds (default: its configured "
        "control_interval)",
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
        poll_interval=args.poll_interval,
        control_period=args.control_period,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(signum, stop.set)
    print(f"heat-pump service listening on {services.heatpump.url}", flush=True)
    print(f"thermostat service listening on {services.thermostat.url}", flush=True)
    # A second household's meter (a workshop, say), in the flat JSON shape, and
    # a third one's on MQTT (a garage), with the broker it publishes to.
    http_meter: HttpMeter | None = None
    broker: MqttBroker | None = None
    publishing: asyncio.Task[int] | None = None
    try:
        if args.mqtt_port is not None:
            broker = MqttBroker(args.host, args.mqtt_port)
            await broker.start()
            publisher = MqttMeterPublisher(
                Household(seed=9, start_energy_kwh=52.0),
                prefix=MQTT_PREFIX,
                mode="json",
            )
            retained = broker
            publishing = asyncio.create_task(
                publisher.run(
                    lambda topic, payload: retained.publish(
                        topic, payload, retain=True
                    ),
                    MQTT_INTERVAL_S,
                    stop,
                )
            )
            print(f"MQTT broker listening on {args.host}:{broker.port}", flush=True)
        if args.http_meter_port is not None:
            http_meter = HttpMeter(
                Household(seed=7, start_energy_kwh=310.0),
                host=args.host,
                port=args.http_meter_port,
            )
            await http_meter.start()
            print(f"HTTP meter listening on {http_meter.url}", flush=True)
        await stop.wait()
    finally:
        stop.set()
        if publishing is not None:
            await publishing
        if broker is not None:
            await broker.stop()
        if http_meter is not None:
            await http_meter.stop()
        await services.stop()


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the arguments and serve until SIGINT or SIGTERM."""
    asyncio.run(_run(_parser().parse_args(argv)))
    return 0
