"""The demo's set-up, end to end: services, renamed devices, the dashboard, in a real HA.

`scripts/develop` adds the heat-pump and thermostat services through the config flow's
REST API, renames their devices, links the meter's power for the COP and installs the
dashboard over the WebSocket API. This test runs exactly that code against the newest
Home Assistant as a process (with the fake services as a process too), then reads the
dashboard back as the frontend does and checks that every entity it names has a state.
"""

from collections.abc import Iterator
from pathlib import Path
import sys
import time
from typing import Any

import pytest

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
from devtools.dashboard import (
    DASHBOARD_URL_PATH,
    as_shown_by_default,
    install_dashboard,
    load_dashboard,
    referenced_entities,
)
from devtools.ha_bootstrap import (
    DEMO_CONFIG_DOMAINS,
    Account,
    Gateway,
    Meter,
    Stack,
    config_entries,
    free_port,
    running_stack,
    set_up_meter,
    wait_for_live_values,
)
from devtools.ha_websocket import HomeAssistantWebSocket

from .test_hass_process import _hass_command

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]

ACCOUNT = Account(username="e2e", password="e2e-secret-password", name="End to end")
METER = Meter(name="Heat pump meter", unit_id=1, profile="wago_879_30xx")


HTTP_METER_PORT = free_port()
MQTT_PORT = free_port()


@pytest.fixture
def services(socket_enabled: None, tmp_path: Path) -> Iterator[list[CompanionService]]:
    """The fake heat-pump and thermostat services and the HTTP meter, as the demo runs them."""
    wanted = [
        CompanionService(KIND_HEAT_PUMP, free_port(), "Heat pump"),
        CompanionService(KIND_THERMOSTAT, free_port(), "Thermostat"),
    ]
    process = start_companion_services(
        sys.executable,
        host="127.0.0.1",
        heatpump_port=wanted[0].port,
        thermostat_port=wanted[1].port,
        log_path=tmp_path / "services.log",
        http_meter_port=HTTP_METER_PORT,
        mqtt_port=MQTT_PORT,
    )
    try:
        yield wanted
    finally:
        process.stop(timeout=10)
    assert not process.is_running()


@pytest.fixture
def stack(services: list[CompanionService], tmp_path: Path) -> Iterator[Stack]:
    """The Modbus simulator and Home Assistant with the demo's integrations."""
    with running_stack(
        python=sys.executable,
        hass=_hass_command(),
        config_dir=tmp_path / "config",
        http_host="127.0.0.1",
        http_port=free_port(),
        simulator_port=free_port(),
        domains=DEMO_CONFIG_DOMAINS,
        log_dir=tmp_path,
    ) as running:
        yield running


def _wait_for_number(stack: Stack, entity_id: str, timeout: float = 30.0) -> float:
    """The entity's state once it is a number (an MQTT meter shows unknown at first)."""
    deadline = time.monotonic() + timeout
    while True:
        state = stack.api.get(f"/api/states/{entity_id}")["state"]
        try:
            return float(state)
        except ValueError:
            if time.monotonic() > deadline:
                raise AssertionError(f"{entity_id} is still {state!r}") from None
        time.sleep(0.5)


def _dashboard_as_the_frontend_reads_it(stack: Stack) -> dict[str, Any]:
    with HomeAssistantWebSocket(stack.api.base_url, stack.api.token or "") as ws:
        config: dict[str, Any] = ws.call("lovelace/config", url_path=DASHBOARD_URL_PATH)
    return config


def test_the_demo_dashboard_shows_only_entities_that_exist(
    stack: Stack, services: list[CompanionService]
) -> None:
    """Set up as the demo does; every entity of the installed dashboard has a state."""
    set_up_meter(
        stack,
        account=ACCOUNT,
        gateway=Gateway(host=stack.simulator_host, port=stack.simulator_port),
        meter=METER,
        timeout=300,
    )
    wait_for_live_values(stack.api, METER.name, stack.home_assistant)
    done = set_up_companions(
        stack.api, services, "127.0.0.1", "sensor.heat_pump_meter_power"
    )
    assert len(done) == 2, done
    # A second run of the demo finds them configured and changes nothing.
    assert not set_up_companions(
        stack.api, services, "127.0.0.1", "sensor.heat_pump_meter_power"
    )
    assert install_dashboard(stack.api, load_dashboard())
    assert not install_dashboard(stack.api, load_dashboard()), "installed twice"

    installed = _dashboard_as_the_frontend_reads_it(stack)
    assert installed == load_dashboard()
    states = {item["entity_id"]: item for item in stack.api.get("/api/states")}
    # The voltage tiles hide themselves while their entities are disabled.
    missing = sorted(
        e
        for e in referenced_entities(as_shown_by_default(installed))
        if e not in states
    )
    assert not missing, f"not in Home Assistant: {missing}"
    assert states["climate.thermostat"]["attributes"]["preset_mode"] == "auto"

    # The demo's meter that is not on Modbus: an HTTP meter, live in this release too.
    url = f"http://127.0.0.1:{HTTP_METER_PORT}/meter"
    assert add_http_meter(stack.api, url, "Workshop meter", "building")
    assert add_http_meter(stack.api, url, "Workshop meter", "building") is None
    power = stack.api.get("/api/states/sensor.workshop_meter_power")
    assert power["attributes"]["unit_of_measurement"] == "W"
    assert float(power["state"]) >= 0
    energy = stack.api.get("/api/states/sensor.workshop_meter_energy")
    assert float(energy["state"]) >= 310.0  # the simulated workshop's counter
    # And one on MQTT: Home Assistant's own MQTT client, the demo's broker.
    assert set_up_mqtt(stack.api, "127.0.0.1", MQTT_PORT)
    assert add_mqtt_meter(stack.api, "Garage meter", "zone", "demo/garage")
    garage = _wait_for_number(stack, "sensor.garage_meter_energy")
    assert garage >= 52.0  # the simulated garage's counter
    assert _wait_for_number(stack, "sensor.garage_meter_voltage") > 200
    entries = config_entries(stack.api)
    assert [e["state"] for e in entries] == ["loaded"] * 5, entries  # MQTT is not ours
