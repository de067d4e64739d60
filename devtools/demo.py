"""The demo behind `scripts/develop`: a simulated meter in a real Home Assistant.

Starts the Modbus simulator (a WAGO 879-30x0 with a household and heat-pump load), the
fakes of the heat-pump and thermostat services, and Home Assistant from .venv with the
configuration directory .demo/config, where this working tree's integration is linked
in. On the first run it creates the demo account and adds the gateway and the meter,
then both services, through the same REST calls the UI makes (and the end-to-end test
checks), and installs the dashboard of dashboards/energy_meters.yaml; later runs keep
what is there, including anything changed in the UI. Ctrl-C stops all processes.

    scripts/develop              # http://localhost:8123, user demo / demo-energy
    scripts/develop --reset      # start again from an empty configuration
    scripts/develop --old-history  # also an old Prometheus, and the action importing it
"""

import argparse
from collections.abc import Mapping
from contextlib import ExitStack
import os
from pathlib import Path
import shutil
import signal
import sys
import time
from types import FrameType
from typing import Any

from devtools.companions import (
    KIND_HEAT_PUMP,
    KIND_THERMOSTAT,
    CompanionService,
    add_http_meter,
    add_mqtt_meter,
    set_up_companions,
    set_up_mqtt,
    start_companion_services,
)
from devtools.dashboard import DASHBOARD_URL_PATH, install_dashboard
from devtools.ha_bootstrap import (
    DEMO_CONFIG_DOMAINS,
    DOMAIN,
    REPO_ROOT,
    Account,
    BootstrapError,
    Gateway,
    ManagedProcess,
    Meter,
    MeterSnapshot,
    Stack,
    port_is_open,
    running_stack,
    set_up_meter,
    slugify,
    stored_http_address,
    wait_for_live_values,
)
from devtools.ha_websocket import HomeAssistantWebSocket, WebSocketError
from devtools.old_stack import (
    demo_year,
    device_of,
    import_action,
    missing_tools,
    start_prometheus,
)

DEMO_DIR = REPO_ROOT / ".demo"
ACCOUNT = Account(username="demo", password="demo-energy", name="Demo")
METER = Meter(name="Heat pump meter", unit_id=1, profile="wago_879_30xx")
# The device names the dashboard's entity ids are built from (sensor.heat_pump_...,
# climate.thermostat).
HEAT_PUMP_NAME = "Heat pump"
THERMOSTAT_NAME = "Thermostat"
# A meter that is not on Modbus: the simulated HTTP meter of a second building.
HTTP_METER_NAME = "Workshop meter"
# And one on MQTT, through the demo's own broker (simulator.mqtt_broker).
MQTT_METER_NAME = "Garage meter"
MQTT_PREFIX = (
    "demo/garage"  # where `python -m simulator.services --mqtt-port` publishes
)


def _parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="scripts/develop",
        description="Run the simulator and Home Assistant with this integration set up.",
    )
    parser.add_argument(
        "--port", type=int, default=8123, help="Home Assistant's HTTP port"
    )
    parser.add_argument(
        "--listen",
        default="127.0.0.1",
        help="address Home Assistant listens on; 0.0.0.0 makes the demo, with its "
        "published password, reachable from other machines",
    )
    parser.add_argument(
        "--simulator-port",
        type=int,
        default=5020,
        help="the simulator's Modbus TCP port",
    )
    parser.add_argument(
        "--heatpump-port",
        type=int,
        default=8002,
        help="the fake heat-pump service's HTTP port",
    )
    parser.add_argument(
        "--thermostat-port",
        type=int,
        default=8001,
        help="the fake thermostat service's HTTP port",
    )
    parser.add_argument(
        "--http-meter-port",
        type=int,
        default=8003,
        help="the simulated HTTP meter's port",
    )
    parser.add_argument(
        "--mqtt-port",
        type=int,
        default=1884,
        help="the demo's MQTT broker's port (1884, not 1883, to leave a real broker be)",
    )
    parser.add_argument(
        "--old-history",
        action="store_true",
        help="also start a Prometheus with a generated year of the old exporter "
        "(needs Debian's prometheus), to try energy_meters.import_history on",
    )
    parser.add_argument(
        "--reset",
        action="store_true",
        help=f"delete {DEMO_DIR.relative_to(REPO_ROOT)}/ first (account, entries, history)",
    )
    return parser.parse_args()


def _stop_on_signals() -> None:
    """Ctrl-C or SIGTERM end the demo, once: a second Ctrl-C must not cut the shutdown short.

    The children run in sessions of their own and never see the terminal's Ctrl-C; the
    KeyboardInterrupt unwinds `running_stack`, which stops Home Assistant, then the simulator.
    """

    def handler(_signum: int, _frame: FrameType | None) -> None:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        print("\ndevelop: stopping Home Assistant and the simulator ...", flush=True)
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, handler)
    signal.signal(signal.SIGTERM, handler)


def _check_ports_free(args: argparse.Namespace) -> None:
    busy = [
        f"{host}:{port}"
        for host, port in (
            ("127.0.0.1", args.port),
            ("127.0.0.1", args.simulator_port),
            ("127.0.0.1", args.heatpump_port),
            ("127.0.0.1", args.thermostat_port),
            ("127.0.0.1", args.http_meter_port),
            ("127.0.0.1", args.mqtt_port),
        )
        if port_is_open(host, port)
    ]
    if busy:
        sys.exit(
            f"develop: something already listens on {', '.join(busy)} "
            "(another demo or Home Assistant?); stop it or choose other ports "
            "(--port, --simulator-port, --heatpump-port, --thermostat-port, "
            "--http-meter-port, --mqtt-port)"
        )


def _check_stored_address(args: argparse.Namespace) -> None:
    """Refuse options that an existing demo directory would silently ignore.

    Home Assistant keeps its HTTP settings in .demo/config/.storage once it has started,
    so --port and --listen only take effect on a fresh directory.
    """
    stored = stored_http_address(DEMO_DIR / "config")
    if stored is not None and stored != ([args.listen], args.port):
        hosts, port = stored
        sys.exit(
            f"develop: the demo in {DEMO_DIR.relative_to(REPO_ROOT)}/ listens on "
            f"{', '.join(hosts)} port {port}; to change that, start afresh with --reset"
        )


def configure_energy_dashboard(stack: Stack, snapshot: MeterSnapshot) -> str:
    """Put the meter on the Energy dashboard, unless the dashboard is configured already.

    The meter's imported energy becomes the grid consumption (with its power as the live
    rate) and an individual device. The preferences have only a WebSocket command.
    """
    energy, power = snapshot.energy, snapshot.power
    if energy is None or power is None:
        return "not configured (no energy or power sensor)"
    with HomeAssistantWebSocket(stack.api.base_url, stack.api.token or "") as ws:
        try:
            prefs = ws.call("energy/get_prefs")
        except WebSocketError as err:
            if err.code != "not_found":
                raise
            prefs = None
        if prefs and (prefs.get("energy_sources") or prefs.get("device_consumption")):
            return "kept as configured"
        try:
            ws.call(
                "energy/save_prefs",
                energy_sources=[
                    {
                        "type": "grid",
                        "stat_energy_from": energy.entity_id,
                        "stat_rate": power.entity_id,
                        "cost_adjustment_day": 0,
                    }
                ],
                device_consumption=[
                    {
                        "stat_consumption": energy.entity_id,
                        "stat_rate": power.entity_id,
                        "name": METER.name,
                    }
                ],
            )
        except WebSocketError as err:
            return f"not configured ({err})"
    return f"grid consumption from {energy.entity_id} (statistics every 5 minutes)"


def _meter_area(stack: Stack, area_name: str = "Utility room") -> str | None:
    """The area of the meter's device; a device without one is put in `area_name` first.

    The Overview dashboard groups devices by area: in an area, the meter is one click away.
    """
    with HomeAssistantWebSocket(stack.api.base_url, stack.api.token or "") as ws:
        device = next(
            (d for d in ws.call("config/device_registry/list") if _is_demo_meter(d)),
            None,
        )
        if device is None:
            return None
        if device.get("area_id"):
            area_id: str = device["area_id"]
            return area_id
        areas = ws.call("config/area_registry/list")
        area = next((a for a in areas if a["name"] == area_name), None)
        if area is None:
            area = ws.call("config/area_registry/create", name=area_name)
        ws.call(
            "config/device_registry/update",
            device_id=device["id"],
            area_id=area["area_id"],
        )
        return str(area["area_id"])


def _is_demo_meter(device: Mapping[str, Any]) -> bool:
    """Whether a device registry entry is the demo's meter (by its original name).

    Since the demo also has the heat-pump and thermostat services, the meter is no
    longer the first entry's only device.
    """
    return device.get("name") == METER.name and any(
        identifier[0] == DOMAIN for identifier in device.get("identifiers", [])
    )


def _companion_services(args: argparse.Namespace) -> tuple[CompanionService, ...]:
    return (
        CompanionService(KIND_HEAT_PUMP, args.heatpump_port, HEAT_PUMP_NAME),
        CompanionService(KIND_THERMOSTAT, args.thermostat_port, THERMOSTAT_NAME),
    )


def _set_up_dashboard(stack: Stack) -> str:
    """Install dashboards/energy_meters.yaml (in HA's language) in the sidebar, once."""
    if install_dashboard(stack.api):
        return "installed"
    return "kept as it is"


def _complete_core_config(stack: Stack) -> None:
    """Set what the skipped "core config" onboarding step would have set.

    Location name, country, and the machine's time zone (the Energy dashboard's days
    follow it).
    """
    if stack.api.get("/api/config").get("country"):
        return
    settings: dict[str, str] = {"location_name": "Energy Meters demo", "country": "DE"}
    if zone := _local_time_zone():
        settings["time_zone"] = zone
    with HomeAssistantWebSocket(stack.api.base_url, stack.api.token or "") as ws:
        ws.call("config/core/update", **settings)


def _local_time_zone() -> str | None:
    """The IANA name of this machine's time zone (from $TZ or /etc/localtime), if known."""
    if (zone := os.environ.get("TZ", "").lstrip(":")) and "/" in zone:
        return zone
    try:
        target = Path("/etc/localtime").resolve(strict=True)
    except OSError:
        return None
    parts = target.parts
    return (
        "/".join(parts[parts.index("zoneinfo") + 1 :]) if "zoneinfo" in parts else None
    )


def _banner(
    args: argparse.Namespace,
    snapshot: MeterSnapshot,
    energy: str,
    area_id: str | None,
    seconds: float,
) -> str:
    host = "localhost" if args.listen in {"127.0.0.1", "0.0.0.0"} else args.listen  # noqa: S104
    url = f"http://{host}:{args.port}"
    rule = "=" * 72
    lines = [
        rule,
        f"Home Assistant is ready after {seconds:.0f} s: {url}",
        f"  log in as:   {ACCOUNT.username}  /  {ACCOUNT.password}",
        f"  dashboard:   {url}/{DASHBOARD_URL_PATH}",
        f"  the meter:   {url}/home/areas-{area_id}" if area_id else "",
        (
            f"  simulated:   {METER.name} (unit {METER.unit_id}, {METER.profile})"
            f" behind the gateway 127.0.0.1:{args.simulator_port}"
        ),
        (
            f"  services:    heat pump http://127.0.0.1:{args.heatpump_port},"
            f" thermostat http://127.0.0.1:{args.thermostat_port}"
        ),
        (
            f"  HTTP meter:  {HTTP_METER_NAME}"
            f" http://127.0.0.1:{args.http_meter_port}/meter"
        ),
        (
            f"  MQTT meter:  {MQTT_METER_NAME} {MQTT_PREFIX}/state"
            f" on the broker 127.0.0.1:{args.mqtt_port}"
        ),
        f"  energy dashboard: {energy}",
        "  readings now:",
        snapshot.describe(),
        (
            f"  logs:        {DEMO_DIR.relative_to(REPO_ROOT)}/hass.log,"
            " simulator.log, services.log"
        ),
        "Press Ctrl-C to stop.",
        rule,
    ]
    return "\n".join(line for line in lines if line)


# The household starts in the small hours, when the heat pump works hardest, and
# runs 20 times faster than real time: within a minute of starting, the demo shows
# the compressor starting, power per phase moving and the energy counters rising.
# (20x keeps the simulated counter's rise within what the energy filter accepts
# from a meter of the default 50 kW rating.)
DEMO_SIMULATOR_ARGS = ("--start-hour", "5", "--speed", "20")


def _run(args: argparse.Namespace) -> None:
    started = time.monotonic()
    venv_bin = Path(sys.executable).parent
    services = _companion_services(args)
    with ExitStack() as processes:
        # Entered first, stopped last: Home Assistant holds connections to them.
        print(
            f"develop: starting the heat-pump and thermostat services, the HTTP "
            f"meter and the MQTT broker on 127.0.0.1:{args.heatpump_port}, "
            f":{args.thermostat_port}, :{args.http_meter_port} and :{args.mqtt_port}",
            flush=True,
        )
        service_process = start_companion_services(
            sys.executable,
            host="127.0.0.1",
            heatpump_port=args.heatpump_port,
            thermostat_port=args.thermostat_port,
            log_path=DEMO_DIR / "services.log",
            http_meter_port=args.http_meter_port,
            mqtt_port=args.mqtt_port,
        )
        processes.callback(service_process.stop, 10)
        print(
            f"develop: starting the simulator on 127.0.0.1:{args.simulator_port}",
            flush=True,
        )
        stack = processes.enter_context(
            running_stack(
                python=sys.executable,
                hass=venv_bin / "hass",
                config_dir=DEMO_DIR / "config",
                http_host=args.listen,
                http_port=args.port,
                simulator_port=args.simulator_port,
                domains=DEMO_CONFIG_DOMAINS,
                log_dir=DEMO_DIR,
                simulator_args=DEMO_SIMULATOR_ARGS,
            )
        )
        print(
            f"develop: starting Home Assistant (config {DEMO_DIR.relative_to(REPO_ROOT)}/config)",
            flush=True,
        )
        entry = set_up_meter(
            stack,
            account=ACCOUNT,
            gateway=Gateway(host=stack.simulator_host, port=stack.simulator_port),
            meter=METER,
        )
        if entry is None:
            print("develop: the gateway is configured already (from an earlier run)")
        else:
            print(
                f"develop: added gateway {entry['title']} with {METER.name!r}",
                flush=True,
            )
        _complete_core_config(stack)
        snapshot = wait_for_live_values(stack.api, METER.name, stack.home_assistant)
        power = f"sensor.{slugify(METER.name)}_power"
        for line in set_up_companions(stack.api, services, "127.0.0.1", power):
            print(f"develop: {line}", flush=True)
        http_url = f"http://127.0.0.1:{args.http_meter_port}/meter"
        if add_http_meter(stack.api, http_url, HTTP_METER_NAME, "building"):
            print(f"develop: added {HTTP_METER_NAME} ({http_url})", flush=True)
        if set_up_mqtt(stack.api, "127.0.0.1", args.mqtt_port):
            print(
                f"develop: added MQTT (broker 127.0.0.1:{args.mqtt_port})", flush=True
            )
        if add_mqtt_meter(stack.api, MQTT_METER_NAME, "zone", MQTT_PREFIX):
            print(f"develop: added {MQTT_METER_NAME} ({MQTT_PREFIX}/state)", flush=True)
        print(f"develop: dashboard {_set_up_dashboard(stack)}", flush=True)
        area_id = _meter_area(stack)
        energy = configure_energy_dashboard(stack, snapshot)
        print(
            _banner(args, snapshot, energy, area_id, time.monotonic() - started),
            flush=True,
        )
        if args.old_history:
            print(_old_history(stack, processes), flush=True)
        _watch(stack, service_process)


def _old_history(stack: Stack, processes: ExitStack) -> str:
    """A Prometheus with the old exporter's last year, and the one action that imports it.

    The action is printed ready to paste: Settings → Tools → Actions, YAML mode, is
    where a user tries an action, and the browser test performs this same text there.
    """
    if missing := missing_tools():
        return "develop: --old-history needs " + ", ".join(missing)
    now = int(time.time()) // 300 * 300
    folder = DEMO_DIR / "old-prometheus"
    shutil.rmtree(folder, ignore_errors=True)
    print("develop: generating the old exporter's year into Prometheus", flush=True)
    store = start_prometheus(demo_year(now), folder)
    processes.callback(store.stop)
    energy = f"sensor.{slugify(METER.name)}_energy_import"
    device = device_of(stack.api.base_url, stack.api.token, energy)
    action = "".join(
        f"    {line}\n" for line in import_action(device, store.url).splitlines()
    )
    return (
        f"  old history: a year of the old exporter in Prometheus at {store.url}\n"
        "  import it with one action: Settings -> Tools -> Actions, YAML mode, paste\n"
        f"{action}"
        "  and Perform action; then Energy -> the period -> This month -> Previous\n"
        "  shows last month's bars."
    )


def _watch(stack: Stack, services: ManagedProcess) -> None:
    """Return when any process ends on its own (Ctrl-C raises KeyboardInterrupt)."""
    while True:
        for process in (stack.home_assistant, stack.simulator, services):
            process.check_running()
        time.sleep(1)


def main() -> int:
    """Run the demo until Ctrl-C; return the exit status."""
    args = _parse_args()
    _stop_on_signals()
    if args.reset and DEMO_DIR.exists():
        shutil.rmtree(DEMO_DIR)
        print(f"develop: deleted {DEMO_DIR.relative_to(REPO_ROOT)}/")
    _check_ports_free(args)
    _check_stored_address(args)
    try:
        _run(args)
    except KeyboardInterrupt:
        print("develop: stopped")
        return 0
    except (BootstrapError, WebSocketError) as err:
        print(f"develop: {err}", file=sys.stderr)
        if "logging in" in str(err):
            print(
                "develop: run `scripts/develop --reset` to start afresh",
                file=sys.stderr,
            )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
