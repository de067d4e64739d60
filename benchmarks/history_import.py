"""Seconds to import one year of 30-second samples for 8 series, through a real Home Assistant.

The old exporter's year (4 energy counters, 4 power series, every 30 s:
about 8.4 million samples) goes into Debian's Prometheus through promtool;
a Home Assistant process with the demo's meter on the simulator imports it
with one `energy_meters.import_history` action (step 30 s), and the time
the action takes, from the call to its answer with the recorder's rows
committed, is printed. Building the store is not counted.

    scripts/bench --history-import [--step 30]
"""

import argparse
from collections.abc import Sequence
import json
from pathlib import Path
import sys
import tempfile
import time
import urllib.request

from devtools.ha_bootstrap import (
    DEMO_CONFIG_DOMAINS,
    Account,
    Gateway,
    Meter,
    free_port,
    running_stack,
    set_up_meter,
)
from devtools.old_stack import (
    YEAR,
    OldYear,
    device_of,
    missing_tools,
    start_prometheus,
)

ACCOUNT = Account(username="bench", password="bench-history", name="Bench")  # noqa: S106 (a throw-away account)
METER = Meter(name="Heat pump meter", unit_id=1, profile="wago_879_30xx")
ENERGY = "sensor.heat_pump_meter_energy_import"


def _post(base: str, token: str | None, path: str, body: dict[str, object]) -> object:
    request = urllib.request.Request(  # noqa: S310 (http://127.0.0.1)
        base + path,
        data=json.dumps(body).encode(),
        headers={
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
        },
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=3600) as response:  # noqa: S310
        return json.loads(response.read().decode() or "null")


def main(argv: Sequence[str] | None = None) -> int:
    """Build the year, start everything, import once, print the line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--step", type=int, default=30, help="seconds between samples")
    args = parser.parse_args(argv)
    if missing := missing_tools():
        print("bench: missing " + ", ".join(missing), file=sys.stderr)
        return 2
    now = int(time.time()) // 3600 * 3600
    year = OldYear(start=now - YEAR, end=now, step_s=args.step)
    venv_bin = Path(sys.executable).parent
    with tempfile.TemporaryDirectory(prefix="bench-history-") as folder:
        work = Path(folder)
        built = time.monotonic()
        store = start_prometheus(year, work / "prometheus")
        print(
            f"bench: store built in {time.monotonic() - built:.0f} s", file=sys.stderr
        )
        try:
            with running_stack(
                python=sys.executable,
                hass=venv_bin / "hass",
                config_dir=work / "config",
                http_host="127.0.0.1",
                http_port=free_port(),
                simulator_port=free_port(),
                domains=DEMO_CONFIG_DOMAINS,
                log_dir=work,
            ) as stack:
                set_up_meter(
                    stack,
                    account=ACCOUNT,
                    gateway=Gateway(
                        host=stack.simulator_host, port=stack.simulator_port
                    ),
                    meter=METER,
                )
                device = device_of(stack.api.base_url, stack.api.token, ENERGY)
                started = time.monotonic()
                answer = _post(
                    stack.api.base_url,
                    stack.api.token,
                    "/api/services/energy_meters/import_history?return_response",
                    {"device_id": device, "url": store.url, "step": args.step},
                )
                seconds = time.monotonic() - started
        finally:
            store.stop()
    if not isinstance(answer, dict):
        print(f"bench: unexpected answer {answer!r}", file=sys.stderr)
        return 1
    series: list[dict[str, int]] = answer["service_response"]["series"]
    hours = sum(item["hours"] for item in series)
    samples = len(year.times()) * 8
    print(
        f"history import: {seconds:.1f} s for one year of {args.step}-second samples, "
        f"{len(series)} series ({samples:,} samples, {hours:,} hourly rows written)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
