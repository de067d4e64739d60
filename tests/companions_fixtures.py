"""Fixtures and helpers for the companion-service tests.

The fake services run on 127.0.0.1 in the test's event loop; the integration
talks to them over real sockets through Home Assistant's shared session.
"""

from collections.abc import AsyncGenerator
from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import entity_registry as er
import pytest

from custom_components.energy_meters import const
from custom_components.energy_meters.const import DOMAIN
from simulator.services import HeatPumpService, ThermostatService

# Short enough that a timeout test is quick, long enough for a loaded CI box.
FAST_TIMEOUT = 0.5
# A failed Modbus try of the fake heat-pump service (2 s on the real one).
FAST_MODBUS_TRY = 0.01


@pytest.fixture(name="heatpump_service")
async def fixture_heatpump_service(
    hass: HomeAssistant, socket_enabled: None
) -> AsyncGenerator[HeatPumpService]:
    """A static fake heat-pump service on 127.0.0.1 (stopped before `hass`).

    Its poller does not run on its own (tests call `poll()` when the pump's
    registers should reach `/status`), and Modbus writes are quick.
    """
    service = HeatPumpService(
        host="127.0.0.1",
        port=0,
        poll_interval=None,
        write_time=0.0,
        failed_try_time=FAST_MODBUS_TRY,
    )
    await service.start()
    yield service
    await service.stop()


@pytest.fixture(name="thermostat_service")
async def fixture_thermostat_service(
    hass: HomeAssistant, socket_enabled: None
) -> AsyncGenerator[ThermostatService]:
    """A static fake thermostat service on 127.0.0.1 (stopped before `hass`)."""
    service = ThermostatService(host="127.0.0.1", port=0)
    await service.start()
    yield service
    await service.stop()


@pytest.fixture(name="fast_timeout")
def fixture_fast_timeout(monkeypatch: pytest.MonkeyPatch) -> float:
    """Requests to the services time out after half a second."""
    monkeypatch.setattr(const, "COMPANION_REQUEST_TIMEOUT", FAST_TIMEOUT)
    monkeypatch.setattr(const, "COMPANION_WRITE_TIMEOUT", FAST_TIMEOUT)
    return FAST_TIMEOUT


async def async_add_service(
    hass: HomeAssistant, kind: str, url: str, **extra: Any
) -> ConfigEntry:
    """Run the real config flow for a service to the end; return the entry."""
    result: Any = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": "user"}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": kind}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {"url": url, "verify_ssl": True, "scan_interval": 15, **extra},
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY, result
    await hass.async_block_till_done()
    entry: ConfigEntry = result["result"]
    return entry


def entity_id(hass: HomeAssistant, entry: ConfigEntry, platform: str, key: str) -> str:
    """The entity id of one of the entry's entities, by its key."""
    found = er.async_get(hass).async_get_entity_id(
        platform, DOMAIN, f"{entry.entry_id}_{key}"
    )
    assert found is not None, f"no {platform} entity with key {key}"
    return found


def state_of(hass: HomeAssistant, entry: ConfigEntry, platform: str, key: str) -> str:
    """The state string of one of the entry's entities."""
    state = hass.states.get(entity_id(hass, entry, platform, key))
    assert state is not None
    return state.state


def error_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    """Warnings and errors our integration logged."""
    return [
        record.getMessage()
        for record in caplog.records
        if record.name.startswith("custom_components.energy_meters")
        and record.levelname in {"WARNING", "ERROR"}
    ]
