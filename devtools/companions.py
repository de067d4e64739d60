"""The companion services in the demo: the fakes as a process, and their entries.

The demo runs the fakes of the heat-pump controller and the thermostat service
(`python -m simulator.services`) next to the Modbus simulator, and adds both
services through the integration's config flow over REST, as the UI does. It
then does what a user setting up the dashboard would do by hand: give the two
devices short names (with their entity ids), link the heat-pump meter's power
to the heat pump for the COP, and put the thermostat in its automatic mode.

Standard library only, like the rest of `devtools` (see its `__init__`).
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from devtools.ha_bootstrap import (
    DOMAIN,
    REPO_ROOT,
    ApiError,
    FlowError,
    HomeAssistantApi,
    ManagedProcess,
    slugify,
    wait_for_port,
)
from devtools.ha_websocket import HomeAssistantWebSocket

KIND_HEAT_PUMP = "heat_pump"
KIND_THERMOSTAT = "thermostat"
_FLOW_PATH = "/api/config/config_entries/flow"
_OPTIONS_FLOW_PATH = "/api/config/config_entries/options/flow"


@dataclass(frozen=True)
class CompanionService:
    """One companion service as the demo sets it up."""

    kind: str
    port: int
    device_name: str
    """The short device name the dashboard's entity ids are built from."""

    def url(self, host: str) -> str:
        """The service's base URL."""
        return f"http://{host}:{self.port}"


def start_companion_services(
    python: Path | str,
    *,
    host: str,
    heatpump_port: int,
    thermostat_port: int,
    log_path: Path,
    http_meter_port: int | None = None,
    mqtt_port: int | None = None,
    timeout: float = 30.0,
) -> ManagedProcess:
    """Start both fakes (live: the heat pump cycles, the room warms and cools).

    With `http_meter_port`, the same process serves a simulated HTTP meter;
    with `mqtt_port`, an MQTT broker with a simulated meter publishing to it.
    """
    argv = [str(python), "-m", "simulator.services", "--host", host]
    argv += ["--heatpump-port", str(heatpump_port)]
    argv += ["--thermostat-port", str(thermostat_port)]
    ports = [heatpump_port, thermostat_port]
    if http_meter_port is not None:
        argv += ["--http-meter-port", str(http_meter_port)]
        ports.append(http_meter_port)
    if mqtt_port is not None:
        argv += ["--mqtt-port", str(mqtt_port)]
        ports.append(mqtt_port)
    process = ManagedProcess("companion services", argv, log_path, REPO_ROOT).start()
    try:
        for port in ports:
            wait_for_port(host, port, process, timeout)
    except BaseException:
        process.stop()
        raise
    return process


def add_companion_service(
    api: HomeAssistantApi, kind: str, url: str
) -> dict[str, Any] | None:
    """Run the config flow for a service; None if it is configured already.

    The flow tests the service before it saves; any error it shows is raised
    with the flow's answer, so the demo says why a service was not added.
    """
    return _run_menu_flow(
        api, kind, {"url": url, "verify_ssl": True, "scan_interval": 15}
    )


def _run_menu_flow(
    api: HomeAssistantApi, step_id: str, form: Mapping[str, Any]
) -> dict[str, Any] | None:
    """Pick `step_id` in the integration's menu and send `form`; the created entry.

    None when the flow aborts because it is configured already; any other
    answer (a form with an error, say) is raised with the flow's answer.
    """
    result = api.post(_FLOW_PATH, {"handler": DOMAIN, "show_advanced_options": False})
    step = f"{_FLOW_PATH}/{result['flow_id']}"
    api.post(step, {"next_step_id": step_id})
    result = api.post(step, dict(form))
    if result.get("type") == "abort" and "already_configured" in str(
        result.get("reason")
    ):
        return None
    if result.get("type") != "create_entry":
        msg = f"config flow for {step_id}: expected create_entry, got {result}"
        raise FlowError(msg)
    entry: dict[str, Any] = result["result"]
    return entry


def add_http_meter(
    api: HomeAssistantApi, url: str, name: str, role: str
) -> dict[str, Any] | None:
    """Add an HTTP meter through the config flow; None if it is configured already."""
    return _run_menu_flow(
        api,
        "http_meter",
        {
            "name": name,
            "role": role,
            "url": url,
            "method": "GET",
            "verify_ssl": True,
            "scan_interval": 10,
            "power_unit": "W",
            "energy_unit": "kWh",
        },
    )


def set_up_mqtt(api: HomeAssistantApi, host: str, port: int) -> bool:
    """Add Home Assistant's MQTT integration for the broker; False if it is there.

    MQTT 5, the protocol Home Assistant migrates every broker connection to
    (the demo's broker speaks it, see `simulator.mqtt_broker`); the rest are the
    form's defaults.
    """
    result = api.post(_FLOW_PATH, {"handler": "mqtt", "show_advanced_options": False})
    if result.get("type") == "abort":  # single_instance_allowed: set up already
        return False
    step = f"{_FLOW_PATH}/{result['flow_id']}"
    result = api.post(
        step,
        {
            "broker": host,
            "port": port,
            "protocol": "5",
            "other_settings": {
                "set_client_cert": False,
                "set_ca_cert": "off",
                "transport": "tcp",
            },
        },
    )
    if result.get("type") != "create_entry":
        msg = f"config flow for MQTT: expected create_entry, got {result}"
        raise FlowError(msg)
    return True


def add_mqtt_meter(
    api: HomeAssistantApi, name: str, role: str, prefix: str
) -> dict[str, Any] | None:
    """Add the simulated MQTT meter (JSON on `prefix`/state); None if it is there."""
    state = f"{prefix}/state"
    return _run_menu_flow(
        api,
        "mqtt_meter",
        {
            "name": name,
            "role": role,
            "power_topic": state,
            "energy_topic": state,
            "voltage_topic": state,
            "availability_topic": f"{prefix}/status",
            "power_unit": "W",
            "energy_unit": "kWh",
        },
    )


def link_heat_pump_power(
    api: HomeAssistantApi, entry_id: str, power_entity_id: str
) -> None:
    """Set the heat pump's options: the meter power sensor the COP divides by."""
    result = api.post(_OPTIONS_FLOW_PATH, {"handler": entry_id})
    step = f"{_OPTIONS_FLOW_PATH}/{result['flow_id']}"
    result = api.post(step, {"power_entity": power_entity_id})
    if result.get("type") != "create_entry":
        msg = f"heat-pump options: expected create_entry, got {result}"
        raise FlowError(msg)


def renamed_entity_ids(
    entity_ids: Sequence[str], old_name: str, new_name: str
) -> dict[str, str]:
    """New entity ids for a device renamed from `old_name` to `new_name`.

    What the UI offers when a device is renamed: ids that start with the old
    name's slug get the new name's slug instead; ids that do not (changed by
    the user) stay. Returns only the ids that change.
    """
    old, new = slugify(old_name), slugify(new_name)
    renamed: dict[str, str] = {}
    for entity_id in entity_ids:
        domain, _, object_id = entity_id.partition(".")
        if old == new or not (object_id == old or object_id.startswith(f"{old}_")):
            continue
        renamed[entity_id] = f"{domain}.{new}{object_id[len(old) :]}"
    return renamed


def rename_service_device(api: HomeAssistantApi, entry_id: str, new_name: str) -> None:
    """Give a service's device a short name, and its entity ids with it.

    The integration names a service's device after its entry ("Heat pump
    192.168.1.20:8002"); the dashboard expects "Heat pump". The device
    registry keeps the new name as the user's (`name_by_user`), as the UI does.
    """
    with HomeAssistantWebSocket(api.base_url, api.token or "") as ws:
        devices = [
            device
            for device in ws.call("config/device_registry/list")
            if entry_id in device.get("config_entries", [])
            and device.get("via_device_id") is None
        ]
        if not devices:
            msg = f"no device for config entry {entry_id}"
            raise FlowError(msg)
        device = devices[0]
        old_name = device.get("name_by_user") or device["name"]
        ws.call(
            "config/device_registry/update",
            device_id=device["id"],
            name_by_user=new_name,
        )
        entity_ids = [
            entity["entity_id"]
            for entity in ws.call("config/entity_registry/list")
            if entity.get("device_id") == device["id"]
        ]
        taken = {state["entity_id"] for state in api.get("/api/states")}
        for old_id, new_id in renamed_entity_ids(
            entity_ids, old_name, new_name
        ).items():
            if new_id not in taken:
                ws.call(
                    "config/entity_registry/update",
                    entity_id=old_id,
                    new_entity_id=new_id,
                )


def call_service(
    api: HomeAssistantApi, domain: str, service: str, data: Mapping[str, Any]
) -> None:
    """Call a Home Assistant action; an error answer raises ApiError."""
    try:
        api.post(f"/api/services/{domain}/{service}", data)
    except ApiError as err:
        msg = f"{domain}.{service} failed: {err}"
        raise FlowError(msg) from err


def set_up_companions(
    api: HomeAssistantApi,
    services: Sequence[CompanionService],
    host: str,
    power_entity_id: str,
) -> list[str]:
    """Add the services as a user setting up the dashboard would; skip those present.

    Each new service's device gets its short name (and its entity ids with it); a
    new heat pump gets `power_entity_id` for its COP; a new thermostat is put in its
    automatic mode, so it heats. Returns what was done, for the log.
    """
    done: list[str] = []
    for service in services:
        entry = add_companion_service(api, service.kind, service.url(host))
        if entry is None:
            continue
        rename_service_device(api, entry["entry_id"], service.device_name)
        done.append(f"added {service.device_name} ({service.url(host)})")
        if service.kind == KIND_HEAT_PUMP:
            link_heat_pump_power(api, entry["entry_id"], power_entity_id)
        else:
            call_service(
                api,
                "climate",
                "set_preset_mode",
                {
                    "entity_id": f"climate.{slugify(service.device_name)}",
                    "preset_mode": "auto",
                },
            )
    return done
