"""The newest Home Assistant, as a real process, sets up a meter the way a user does.

A Modbus simulator and `hass` from .venv-e2e (the newest Home Assistant release) run as
separate processes. The owner account is created through the onboarding API and the
gateway with its first meter through the integration's config flow over REST, exactly
the requests the UI sends. The test then reads the meter's sensors from /api/states.

The unit tests run the integration inside the Home Assistant that the test plugin pins;
this one proves it also installs and runs in the newest release, outside any test harness.
"""

from collections.abc import Iterator
from pathlib import Path
import subprocess
import sys
import time

import pytest

from devtools.ha_bootstrap import (
    REPO_ROOT,
    Account,
    Gateway,
    Meter,
    MeterSnapshot,
    SensorState,
    Stack,
    config_entries,
    free_port,
    meter_snapshot,
    running_stack,
    set_up_meter,
    slugify,
    wait_for_live_values,
)
from devtools.ha_websocket import HomeAssistantWebSocket

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]

E2E_VENV = REPO_ROOT / ".venv-e2e"
ACCOUNT = Account(username="e2e", password="e2e-secret-password", name="End to end")
METER = Meter(name="Heat pump meter", unit_id=1, profile="wago_879_30xx")


def _hass_command() -> Path:
    """`hass` of .venv-e2e, created by `scripts/setup --e2e-only` when missing."""
    hass = E2E_VENV / "bin" / "hass"
    if not hass.exists():
        setup = subprocess.run(
            [str(REPO_ROOT / "scripts" / "setup"), "--e2e-only"],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
        if setup.returncode != 0 or not hass.exists():
            pytest.fail(
                f"{E2E_VENV} is missing and `scripts/setup --e2e-only` could not create it "
                f"(exit {setup.returncode}):\n{setup.stdout}\n{setup.stderr}"
            )
    return hass


@pytest.fixture
def stack(socket_enabled: None, tmp_path: Path) -> Iterator[Stack]:
    """The simulator and Home Assistant, stopped (and checked stopped) afterwards."""
    with running_stack(
        python=sys.executable,
        hass=_hass_command(),
        config_dir=tmp_path / "config",
        http_host="127.0.0.1",
        http_port=free_port(),
        simulator_port=free_port(),
        log_dir=tmp_path,
    ) as running:
        yield running
    assert not running.home_assistant.is_running()
    assert not running.simulator.is_running()


def _integration_errors(stack: Stack) -> list[str]:
    """Lines that Home Assistant logged at WARNING level or above for this integration.

    A warning counts: Home Assistant announces a deprecation (an API that "will
    stop working") as a warning naming the custom integration, a year before it
    breaks. The one warning every custom integration gets ("has not been tested
    by Home Assistant") is expected.
    """
    log = stack.home_assistant.log_path.read_text(errors="replace")
    return [
        line
        for line in log.splitlines()
        if any(level in line for level in ("WARNING", "ERROR", "CRITICAL"))
        and "energy_meters" in line
        and "has not been tested by Home Assistant" not in line
    ]


def _wait_for_power_update(
    stack: Stack, first: MeterSnapshot, timeout: float = 90.0
) -> MeterSnapshot:
    """Poll until the power sensor's value changes or it is reported again."""
    assert first.power is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        time.sleep(2)
        later = meter_snapshot(stack.api, METER.name)
        power = later.power
        assert power is not None, later.describe()
        if (
            power.state != first.power.state
            or power.last_reported > first.power.last_reported
        ):
            return later
    pytest.fail(f"power not updated within {timeout:.0f} s:\n{first.describe()}")


def _enable_entity(stack: Stack, entity_id: str, timeout: float = 120) -> SensorState:
    """Enable a disabled entity as its settings dialog does; wait for its value.

    Home Assistant reloads the entry 30 s after an entity is enabled.
    """
    with HomeAssistantWebSocket(stack.api.base_url, stack.api.token or "") as ws:
        entry = ws.call("config/entity_registry/get", entity_id=entity_id)
        assert entry["disabled_by"] == "integration", entry
        ws.call("config/entity_registry/update", entity_id=entity_id, disabled_by=None)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        snapshot = meter_snapshot(stack.api, METER.name)
        sensor = snapshot.sensors.get(entity_id)
        if sensor is not None and sensor.value is not None:
            return sensor
        time.sleep(2)
    pytest.fail(f"{entity_id} shows no value {timeout:.0f} s after it was enabled")


def test_newest_home_assistant_reads_a_simulated_meter(stack: Stack) -> None:
    """Onboard, add gateway + meter through the config flow, read live values."""
    simulator_port = stack.simulator_port
    entry = set_up_meter(
        stack,
        account=ACCOUNT,
        gateway=Gateway(
            host=stack.simulator_host, port=simulator_port, framing="tcp", timeout=3
        ),
        meter=METER,
        timeout=300,
    )

    assert entry is not None, "a fresh configuration must not have an entry yet"
    assert entry["title"] == f"{stack.simulator_host}:{simulator_port}"
    entries = config_entries(stack.api)
    assert len(entries) == 1

    snapshot = wait_for_live_values(stack.api, METER.name, stack.home_assistant)
    summary = snapshot.describe()
    assert [e["state"] for e in config_entries(stack.api)] == ["loaded"], summary

    frequency, energy = snapshot.frequency, snapshot.energy
    assert frequency is not None
    assert frequency.value is not None
    assert 45 <= frequency.value <= 65, summary
    assert frequency.unit == "Hz", summary
    assert len(snapshot.currents) == 3, summary
    for current in snapshot.currents:
        assert current.value is not None, summary
        assert 0 <= current.value <= 100, summary
        assert current.unit == "A", summary
    # Voltages are disabled by default, as in Home Assistant's own meters.
    assert snapshot.voltages == [], summary
    assert energy is not None
    assert energy.value is not None
    assert energy.value > 0, summary
    assert energy.unit == "kWh", summary

    later = _wait_for_power_update(stack, snapshot)
    later_energy = later.energy
    assert later_energy is not None
    assert later_energy.value is not None
    assert later_energy.value >= energy.value, "energy must never go down"

    voltage = _enable_entity(stack, f"sensor.{slugify(METER.name)}_voltage_l1")
    assert voltage.value is not None
    assert 200 <= voltage.value <= 260, voltage
    assert voltage.unit == "V", voltage

    assert _integration_errors(stack) == []
