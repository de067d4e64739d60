"""One gateway, two integrations: the link is Home Assistant's shared connection.

A test-only integration (`neighbour/custom_components/modbus_neighbour`)
asks Home Assistant's `modbus` for a unit on the same simulated gateway the
way an inverter's or a heat pump's integration does, and reads it while
Energy Meters polls its meters. The simulator's RS-485 model counts requests
that reach the gateway while another is still on the bus: one connection
serializes both integrations, two masters would overlap.
"""

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

from homeassistant.config_entries import ConfigEntry, ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.loader import DATA_CUSTOM_COMPONENTS
from modbus_connection import ModbusUnit
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import WebSocketGenerator

import custom_components
from custom_components.energy_meters.const import DOMAIN
from custom_components.energy_meters.meterlib.model import FunctionCode, Quantity
from custom_components.energy_meters.meterlib.transport import (
    Framing,
    ModbusTransport,
)
from simulator.meter import SimulatedMeter
from simulator.rs485 import LineSettings, Rs485Line
from simulator.server import ModbusSimulator
from tests.helpers import async_add_gateway, builtin_profiles, wago_meter

NEIGHBOUR = "modbus_neighbour"
NEIGHBOUR_DIR = Path(__file__).parent / "neighbour" / "custom_components"
NEIGHBOUR_UNIT = 3
VOLTAGE_L1 = 0x5002  # the WAGO's L1 voltage, a float32 in two holding registers
POLLS = 4


@pytest.fixture(autouse=True)
def neighbour_integration(hass: HomeAssistant) -> Iterator[None]:
    """Let Home Assistant find the test-only integration beside ours."""
    custom_components.__path__.append(str(NEIGHBOUR_DIR))
    hass.data.pop(DATA_CUSTOM_COMPONENTS, None)
    yield
    custom_components.__path__.remove(str(NEIGHBOUR_DIR))


@pytest.fixture
async def gateway(socket_enabled: None) -> AsyncIterator[ModbusSimulator]:
    """Our WAGO on unit 1, the neighbour's meter on unit 3, one 9600-baud bus."""
    meters = [wago_meter(1, seed=1), wago_meter(NEIGHBOUR_UNIT, seed=3)]
    line = Rs485Line(LineSettings(baud=9600))
    async with ModbusSimulator(meters, host="127.0.0.1", line=line) as sim:
        yield sim


def _line(sim: ModbusSimulator) -> Rs485Line:
    assert sim.line is not None
    return sim.line


def _served_words(meter: SimulatedMeter, address: int) -> list[int]:
    """The registers the meter serves at `address` (it is frozen)."""
    spec = next(s for s in meter.profile.registers if s.address == address)
    return meter._encode(spec, meter.current_values())


async def _add_neighbour(hass: HomeAssistant, data: dict[str, Any]) -> ConfigEntry:
    entry = MockConfigEntry(domain=NEIGHBOUR, title="Inverter", data=data)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry


async def test_two_integrations_share_one_connection(
    hass: HomeAssistant,
    gateway: ModbusSimulator,
    hass_ws_client: WebSocketGenerator,
) -> None:
    """Both read correct values at once, never overlapping on the bus, one link."""
    ours = await async_add_gateway(hass, gateway)
    neighbour = await _add_neighbour(
        hass,
        {"host": "127.0.0.1", "port": gateway.port, "unit_id": NEIGHBOUR_UNIT},
    )
    unit: ModbusUnit = neighbour.runtime_data
    coordinator = ours.runtime_data
    _line(gateway).reset_counters()

    async def neighbour_reads() -> list[list[int]]:
        return [
            await unit.read_holding_registers(VOLTAGE_L1, 2) for _ in range(POLLS * 2)
        ]

    async def our_polls() -> None:
        for _ in range(POLLS):
            await coordinator.async_refresh()

    theirs, _ = await asyncio.gather(neighbour_reads(), our_polls())

    expected = _served_words(gateway.meter(NEIGHBOUR_UNIT), VOLTAGE_L1)
    assert theirs == [expected] * (POLLS * 2)
    assert coordinator.last_update_success
    (status,) = coordinator.statuses.values()
    assert status.consecutive_failures == 0
    served = gateway.meter(1).served_values()
    power = hass.states.get("sensor.heat_pump_meter_power")
    assert power is not None
    assert float(power.state) == round(served[Quantity.POWER_TOTAL], 1)
    line = _line(gateway)
    assert line.exchanges >= POLLS * 2 + POLLS * 2  # theirs, and ours (2 a poll)
    assert not line.overlapped

    client = await hass_ws_client(hass)
    await client.send_json_auto_id({"type": "modbus/connections/list"})
    answer = await client.receive_json()
    assert answer["success"], answer
    (connection,) = answer["result"]["connections"]
    assert connection["endpoint"] == ["tcp", "127.0.0.1", gateway.port]
    assert connection["connected"]
    assert connection["units"] == {
        ours.entry_id: [1],
        neighbour.entry_id: [NEIGHBOUR_UNIT],
    }

    # The link stays up for the neighbour when we go, and closes behind it.
    assert await hass.config_entries.async_unload(ours.entry_id)
    assert await unit.read_holding_registers(VOLTAGE_L1, 2) == expected
    assert await hass.config_entries.async_unload(neighbour.entry_id)


async def test_two_masters_overlap_on_the_bus_model(gateway: ModbusSimulator) -> None:
    """The check above can fail: two connections of their own do overlap."""
    first, second = (
        ModbusTransport("127.0.0.1", gateway.port, Framing.TCP, 2.0) for _ in range(2)
    )
    try:
        await asyncio.gather(
            *(
                transport.read(FunctionCode.HOLDING, VOLTAGE_L1, 2, unit_id)
                for transport, unit_id in ((first, 1), (second, NEIGHBOUR_UNIT))
                for _ in range(3)
            )
        )
    finally:
        await first.close()
        await second.close()
    assert _line(gateway).overlapped


async def test_other_link_settings_are_a_form_error_naming_the_holder(
    hass: HomeAssistant, gateway: ModbusSimulator
) -> None:
    """RTU over TCP held at another line speed: the gateway form says by whom."""
    device = f"socket://127.0.0.1:{gateway.port}"
    neighbour = await _add_neighbour(
        hass, {"device": device, "baudrate": 9600, "unit_id": NEIGHBOUR_UNIT}
    )
    result: Any = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": "user"}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "gateway"}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {
            "host": "127.0.0.1",
            "port": gateway.port,
            "framing": "rtu_over_tcp",
            "timeout": 1,
        },
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "link_in_use"}
    assert result["description_placeholders"]["holder"] == "Inverter (Modbus neighbour)"
    assert await hass.config_entries.async_unload(neighbour.entry_id)


async def test_other_link_settings_fail_setup_naming_the_holder(
    hass: HomeAssistant, gateway: ModbusSimulator
) -> None:
    """An entry whose endpoint another integration holds otherwise: a setup error.

    Retrying cannot help until one side changes its settings, so the entry
    does not retry; the reason names the holder.
    """
    device = f"socket://127.0.0.1:{gateway.port}"
    neighbour = await _add_neighbour(
        hass, {"device": device, "baudrate": 9600, "unit_id": NEIGHBOUR_UNIT}
    )
    profile = builtin_profiles()["wago_879_30xx"]
    entry = MockConfigEntry(
        domain=DOMAIN,
        title=f"127.0.0.1:{gateway.port}",
        unique_id=f"127.0.0.1:{gateway.port}",
        data={
            "host": "127.0.0.1",
            "port": gateway.port,
            "framing": "rtu_over_tcp",
            "timeout": 1.0,
        },
        subentries_data=[
            {
                "data": {"unit_id": 1, "profile": profile.id},
                "subentry_type": "meter",
                "title": "Heat pump meter",
                "unique_id": "1",
            }
        ],
    )
    entry.add_to_hass(hass)
    assert not await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is ConfigEntryState.SETUP_ERROR
    assert entry.error_reason_translation_key == "link_in_use"
    assert entry.error_reason_translation_placeholders == {
        "endpoint": f"127.0.0.1:{gateway.port}",
        "holder": "Inverter (Modbus neighbour)",
    }
    assert await hass.config_entries.async_unload(neighbour.entry_id)


async def test_a_holder_arriving_during_the_flow_is_named_at_the_meter(
    hass: HomeAssistant, gateway: ModbusSimulator
) -> None:
    """The endpoint taken with other settings between the steps: the meter step says so."""
    result: Any = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": "user"}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "gateway"}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {
            "host": "127.0.0.1",
            "port": gateway.port,
            "framing": "rtu_over_tcp",
            "timeout": 1,
        },
    )
    assert result["step_id"] == "meter"
    neighbour = await _add_neighbour(
        hass,
        {
            "device": f"socket://127.0.0.1:{gateway.port}",
            "baudrate": 9600,
            "unit_id": NEIGHBOUR_UNIT,
        },
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {"unit_id": 1, "profile": "wago_879_30xx", "name": "Heat pump meter"},
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "link_in_use"}
    assert result["description_placeholders"]["holder"] == "Inverter (Modbus neighbour)"
    assert not hass.config_entries.async_entries(DOMAIN)
    assert await hass.config_entries.async_unload(neighbour.entry_id)
