"""The config flow, driven for real against the simulator on 127.0.0.1."""

from pathlib import Path
import socket
from typing import Any

from homeassistant.config_entries import (
    SOURCE_RECONFIGURE,
    SOURCE_USER,
    ConfigEntryState,
)
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
import pytest
from pytest_homeassistant_custom_component import plugins as ha_test_plugins
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.energy_meters.const import DOMAIN, SUBENTRY_METER
from simulator.server import ModbusSimulator
from tests.helpers import async_add_gateway, free_port

WAGO_CDAB = """
id: wago_swapped
name: WAGO with swapped words
manufacturer: WAGO
model: 879-30x0 (wrong word order)
source: test
defaults: {function: holding, data_type: float32, byte_order: CDAB}
probe:
  frequency: [45, 65]
registers:
  frequency: {address: 0x5008, unit: Hz}
  power_total: {address: 0x5012, unit: kW}
"""

ABSENT_REGISTERS = """
id: absent_registers
name: Registers the meter does not have
manufacturer: Test
model: T
source: test
registers:
  power_total: {address: 0x1000, unit: W}
"""


async def _gateway_form(hass: HomeAssistant) -> Any:
    """Open the flow and choose the Modbus gateway in the menu."""
    result: Any = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    assert result["type"] is FlowResultType.MENU
    assert result["menu_options"][:2] == ["gateway", "serial"]
    return await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "gateway"}
    )


async def _meter_form(hass: HomeAssistant, port: int, reply_wait: float = 1) -> Any:
    """Fill the gateway step; return the meter form."""
    result = await _gateway_form(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {"host": "127.0.0.1", "port": port, "framing": "tcp", "timeout": reply_wait},
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "meter"
    return result


async def _reconfigure(hass: HomeAssistant, entry_id: str) -> Any:
    """Open the gateway's reconfigure flow, as the UI's menu does."""
    return await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_RECONFIGURE, "entry_id": entry_id}
    )


def _write_profile(hass: HomeAssistant, name: str, text: str) -> None:
    folder = Path(hass.config.path("energy_meters", "profiles"))
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text, encoding="utf-8")


async def test_happy_path_creates_gateway_with_meter(
    hass: HomeAssistant, simulator: ModbusSimulator
) -> None:
    """Gateway, then meter: one entry, the meter as its subentry, values live."""
    result = await _meter_form(hass, simulator.port)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {"unit_id": 1, "profile": "wago_879_30xx", "name": "Heat pump"},
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == f"127.0.0.1:{simulator.port}"
    assert result["data"] == {
        "host": "127.0.0.1",
        "port": simulator.port,
        "framing": "tcp",
        "timeout": 1.0,
    }
    entry = result["result"]
    assert entry.unique_id == f"127.0.0.1:{simulator.port}"
    assert entry.options == {"scan_interval": 10}
    (subentry,) = entry.subentries.values()
    assert subentry.subentry_type == SUBENTRY_METER
    assert subentry.title == "Heat pump"
    assert dict(subentry.data) == {
        "unit_id": 1,
        "profile": "wago_879_30xx",
        "max_power_kw": 50.0,
        "confirmations": 2,
        "role": "zone",
        "load_idle_w": 50.0,
        "load_medium_kw": 1.0,
        "load_high_kw": 2.0,
        "frequency_min": 49.8,
        "frequency_max": 50.2,
        "power_factor_min": 0.85,
        "fast_group": "by_role",
        "fast_interval": 1,
    }
    assert entry.state is ConfigEntryState.LOADED
    state = hass.states.get("sensor.heat_pump_power")
    assert state is not None
    assert float(state.state) > 0


async def test_gateway_is_identified_by_its_address(
    hass: HomeAssistant, simulator: ModbusSimulator
) -> None:
    """Spaces, upper case and a host name resolve to the address: one gateway id."""
    result = await _gateway_form(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {"host": " LOCALHOST ", "port": simulator.port, "framing": "tcp", "timeout": 1},
    )
    assert result["step_id"] == "meter"
    flow = hass.config_entries.flow.async_get(result["flow_id"])
    assert flow["context"]["unique_id"] == f"127.0.0.1:{simulator.port}"


@pytest.mark.parametrize(
    ("saved_host", "typed_host"),
    [("127.0.0.1", "localhost"), ("localhost", "127.0.0.1")],
)
async def test_same_gateway_under_another_spelling_is_aborted(
    hass: HomeAssistant, simulator: ModbusSimulator, saved_host: str, typed_host: str
) -> None:
    """`localhost` and `127.0.0.1` are one gateway, whichever the saved entry used.

    The saved entry's unique id is the host as typed, as entries made before
    ids were resolved have it: the check resolves every entry's host.
    """
    MockConfigEntry(
        domain=DOMAIN,
        unique_id=f"{saved_host}:{simulator.port}",
        data={
            "host": saved_host,
            "port": simulator.port,
            "framing": "tcp",
            "timeout": 1.0,
        },
    ).add_to_hass(hass)
    result = await _gateway_form(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {"host": typed_host, "port": simulator.port, "framing": "tcp", "timeout": 1},
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


@pytest.mark.parametrize("host", ["a" * 64 + ".example", "gate\x00way"])
async def test_host_that_does_not_resolve(
    hass: HomeAssistant,
    socket_enabled: None,
    monkeypatch: pytest.MonkeyPatch,
    host: str,
) -> None:
    """A host no resolver accepts is an error on the host field; the form stays.

    The test harness refuses every name lookup; these names are refused by the
    real resolver before it asks any DNS server, so it is put back for them.
    """
    monkeypatch.setattr(socket, "getaddrinfo", ha_test_plugins._real_getaddrinfo)
    result = await _gateway_form(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"host": host, "port": 502, "framing": "tcp", "timeout": 1}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"host": "unknown_host"}
    assert not hass.config_entries.async_entries(DOMAIN)


async def test_cannot_connect(hass: HomeAssistant, socket_enabled: None) -> None:
    """Nothing listens on the port: the gateway step says so and keeps the input."""
    port = free_port()
    result = await _gateway_form(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {"host": "127.0.0.1", "port": port, "framing": "tcp", "timeout": 1},
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "gateway"
    assert result["errors"] == {"base": "cannot_connect"}
    assert not hass.config_entries.async_entries(DOMAIN)


async def test_no_response_from_unit_id(
    hass: HomeAssistant, simulator: ModbusSimulator
) -> None:
    """Unit 9 is not on the bus: the error sits on the unit id field."""
    result = await _meter_form(hass, simulator.port, reply_wait=0.5)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"unit_id": 9, "profile": "wago_879_30xx", "name": "Nobody"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"unit_id": "no_response"}
    placeholders = result["description_placeholders"]
    assert (placeholders["unit_id"], placeholders["timeout"]) == ("9", "0.5")
    # The user can correct the unit id in the same dialog.
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {"unit_id": 1, "profile": "wago_879_30xx", "name": "Somebody"},
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()


async def test_wrong_word_order_is_implausible_and_shows_the_reading(
    hass: HomeAssistant, simulator: ModbusSimulator
) -> None:
    """A profile with swapped words reads nonsense; the dialog shows what it read."""
    _write_profile(hass, "swapped.yaml", WAGO_CDAB)
    result = await _meter_form(hass, simulator.port)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"unit_id": 1, "profile": "wago_swapped", "name": "Swapped"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"profile": "implausible"}
    placeholders = result["description_placeholders"]
    assert placeholders["readings"].startswith("frequency = ")
    assert placeholders["expected"] == "frequency 45…65"
    assert not hass.config_entries.async_entries(DOMAIN)


async def test_registers_the_meter_does_not_have(
    hass: HomeAssistant, simulator: ModbusSimulator
) -> None:
    """An exception reply means the profile does not fit this meter."""
    _write_profile(hass, "absent.yaml", ABSENT_REGISTERS)
    result = await _meter_form(hass, simulator.port)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"unit_id": 1, "profile": "absent_registers", "name": "X"}
    )
    assert result["errors"] == {"profile": "modbus_exception"}
    placeholders = result["description_placeholders"]
    assert (placeholders["code"], placeholders["address"]) == ("2", str(0x1000))


async def test_same_gateway_twice_is_aborted(
    hass: HomeAssistant, simulator: ModbusSimulator
) -> None:
    """A second entry for the same host and port would fight over the bus."""
    await async_add_gateway(hass, simulator)
    result = await _gateway_form(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {"host": "127.0.0.1", "port": simulator.port, "framing": "tcp", "timeout": 1},
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


async def test_add_meter_subentry(
    hass: HomeAssistant, simulator: ModbusSimulator
) -> None:
    """The "Add meter" flow puts a second meter on the same gateway, with its own device."""
    entry = await async_add_gateway(hass, simulator)
    result: Any = await hass.config_entries.subentries.async_init(
        (entry.entry_id, SUBENTRY_METER), context={"source": SOURCE_USER}
    )
    assert result["type"] is FlowResultType.FORM
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"unit_id": 2, "profile": "wago_879_30xx", "name": "House"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert len(entry.subentries) == 2
    assert entry.state is ConfigEntryState.LOADED
    assert hass.states.get("sensor.house_power") is not None
    assert hass.states.get("sensor.heat_pump_meter_power") is not None


async def test_same_meter_twice_is_aborted(
    hass: HomeAssistant, simulator: ModbusSimulator
) -> None:
    """Unit 1 is already configured on this gateway."""
    entry = await async_add_gateway(hass, simulator)
    result: Any = await hass.config_entries.subentries.async_init(
        (entry.entry_id, SUBENTRY_METER), context={"source": SOURCE_USER}
    )
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"unit_id": 1, "profile": "wago_879_30xx", "name": "Again"}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


async def test_add_meter_errors_when_unit_silent(
    hass: HomeAssistant, simulator: ModbusSimulator
) -> None:
    """The subentry flow tests before saving, over the running connection."""
    entry = await async_add_gateway(hass, simulator)
    result: Any = await hass.config_entries.subentries.async_init(
        (entry.entry_id, SUBENTRY_METER), context={"source": SOURCE_USER}
    )
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"unit_id": 9, "profile": "wago_879_30xx", "name": "Ghost"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"unit_id": "no_response"}
    assert len(entry.subentries) == 1


async def test_reconfigure_meter(
    hass: HomeAssistant, simulator: ModbusSimulator
) -> None:
    """A meter moves to unit 2 and is renamed; the entry reloads with it."""
    entry = await async_add_gateway(hass, simulator)
    (subentry,) = entry.subentries.values()
    result: Any = await hass.config_entries.subentries.async_init(
        (entry.entry_id, SUBENTRY_METER),
        context={"source": SOURCE_RECONFIGURE, "subentry_id": subentry.subentry_id},
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reconfigure"
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"],
        {
            "unit_id": 2,
            "profile": "wago_879_30xx",
            "name": "Moved",
            "data_quality": {"max_power_kw": 11, "confirmations": 3},
        },
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()
    updated = entry.subentries[subentry.subentry_id]
    assert updated.title == "Moved"
    assert updated.data["unit_id"] == 2
    assert updated.data["max_power_kw"] == 11.0
    quality = entry.runtime_data.qualities[subentry.subentry_id]
    assert quality.settings.max_power_w == 11000
    assert quality.settings.confirmations == 3
    assert entry.state is ConfigEntryState.LOADED
    assert entry.runtime_data.readers[subentry.subentry_id].unit_id == 2


async def test_reconfigure_meter_onto_taken_unit(
    hass: HomeAssistant, simulator: ModbusSimulator
) -> None:
    """Moving a meter onto another meter's unit id is refused."""
    entry = await async_add_gateway(hass, simulator)
    result: Any = await hass.config_entries.subentries.async_init(
        (entry.entry_id, SUBENTRY_METER), context={"source": SOURCE_USER}
    )
    await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"unit_id": 2, "profile": "wago_879_30xx", "name": "Second"}
    )
    await hass.async_block_till_done()
    first = next(s for s in entry.subentries.values() if s.data["unit_id"] == 1)
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, SUBENTRY_METER),
        context={"source": SOURCE_RECONFIGURE, "subentry_id": first.subentry_id},
    )
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"unit_id": 2, "profile": "wago_879_30xx", "name": "Clash"}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


async def test_reconfigure_gateway(
    hass: HomeAssistant, simulator: ModbusSimulator
) -> None:
    """The gateway's timeout changes; the meter and its entities stay."""
    entry = await async_add_gateway(hass, simulator)
    result: Any = await _reconfigure(hass, entry.entry_id)
    assert result["step_id"] == "reconfigure"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {"host": "127.0.0.1", "port": simulator.port, "framing": "tcp", "timeout": 2.5},
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()
    assert entry.data["timeout"] == 2.5
    assert entry.state is ConfigEntryState.LOADED
    assert len(entry.subentries) == 1


async def test_reconfigure_gateway_unreachable(
    hass: HomeAssistant, simulator: ModbusSimulator
) -> None:
    """A new address that does not answer is refused; the old one stays."""
    entry = await async_add_gateway(hass, simulator)
    result: Any = await _reconfigure(hass, entry.entry_id)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {"host": "127.0.0.1", "port": free_port(), "framing": "tcp", "timeout": 1},
    )
    assert result["errors"] == {"base": "cannot_connect"}
    assert entry.data["port"] == simulator.port


async def test_reconfigure_gateway_onto_another_entry(
    hass: HomeAssistant, simulator: ModbusSimulator
) -> None:
    """Two entries may not end up on the same endpoint."""
    entry = await async_add_gateway(hass, simulator)
    blocker = MockConfigEntry(
        domain=DOMAIN,
        unique_id="127.0.0.1:1",
        data={"host": "127.0.0.1", "port": 1, "framing": "tcp", "timeout": 1.0},
    )
    blocker.add_to_hass(hass)
    result: Any = await _reconfigure(hass, entry.entry_id)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {"host": "127.0.0.1", "port": 1, "framing": "tcp", "timeout": 1},
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


async def test_options_poll_interval(
    hass: HomeAssistant, simulator: ModbusSimulator
) -> None:
    """The poll interval is an option; the coordinator follows it after reload."""
    entry = await async_add_gateway(hass, simulator)
    result: Any = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["type"] is FlowResultType.FORM
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"scan_interval": 30}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert entry.options == {"scan_interval": 30}
    assert entry.runtime_data.update_interval is not None
    assert entry.runtime_data.update_interval.total_seconds() == 30
