"""The serial transport and the RS-485 adapter flow, without an adapter.

A pseudo-terminal stands in for the USB stick (`VirtualSerialPort`); its far
end is the simulator speaking RTU over TCP on 127.0.0.1. So pyserial,
termios and pymodbus's serial client run for real: only the cable is
missing. A pseudo-terminal refuses parity on Linux, so these runs use 8N1;
the parity setting itself is checked where it is stored.
"""

from collections.abc import AsyncGenerator
from pathlib import Path
from typing import Any

from homeassistant.config_entries import SOURCE_RECONFIGURE, SOURCE_USER
from homeassistant.const import CONF_DEVICE
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
import pytest

from custom_components.energy_meters.const import DOMAIN
from custom_components.energy_meters.gateway.link import transport_for
from custom_components.energy_meters.gateway.serial_gateway import (
    serial_data,
    serial_settings,
    suggested_values,
)
from custom_components.energy_meters.meterlib.model import Quantity
from custom_components.energy_meters.meterlib.profiles import builtin_profiles
from custom_components.energy_meters.meterlib.reader import MeterReader
from custom_components.energy_meters.meterlib.transport import (
    GatewayUnreachableError,
    Parity,
    SerialSettings,
    SerialTransport,
)
from simulator.serial_port import VirtualSerialPort
from simulator.server import ModbusSimulator
from tests.helpers import wago_meter

WAGO = builtin_profiles()["wago_879_30xx"]
MISSING = "/dev/serial/by-id/usb-nothing-here-if00-port0"


@pytest.fixture
async def bus(socket_enabled: None) -> AsyncGenerator[tuple[ModbusSimulator, str]]:
    """A WAGO meter (unit 1) on a virtual serial port; yields the simulator and the port."""
    async with (
        ModbusSimulator([wago_meter(1)], host="127.0.0.1", framing="rtu") as sim,
        VirtualSerialPort("127.0.0.1", sim.port) as port,
    ):
        yield sim, port.device


def _form(device: str, **overrides: Any) -> dict[str, Any]:
    """The serial form as a user fills it in."""
    return {
        "device": device,
        "baudrate": "9600",
        "parity": "none",
        "stopbits": "1",
        "timeout": 1,
        **overrides,
    }


async def test_transport_reads_the_meter(bus: tuple[ModbusSimulator, str]) -> None:
    """The whole WAGO map over the serial port, in the planned two requests."""
    sim, device = bus
    transport = SerialTransport(SerialSettings(device), timeout=1.0)
    try:
        reading = await MeterReader(transport, 1, WAGO).read()
    finally:
        await transport.close()
    assert reading.requests == 2
    assert reading.values == sim.meter(1).served_values()


async def test_missing_port_says_so() -> None:
    """A port that does not exist is reported as such, not as a timeout."""
    transport = SerialTransport(SerialSettings(MISSING), timeout=1.0)
    with pytest.raises(GatewayUnreachableError, match="does not exist"):
        await transport.check_connection()
    await transport.close()


def test_line_settings_are_stored_as_entered() -> None:
    """Form values become entry data and come back as the same line settings."""
    data = serial_data(
        _form("/dev/ttyUSB0", baudrate="2400", parity="even", stopbits="2")
    )
    assert data == {
        "framing": "serial",
        "device": "/dev/ttyUSB0",
        "baudrate": 2400,
        "parity": "even",
        "stopbits": 2,
        "bytesize": 8,
        "timeout": 1.0,
    }
    assert serial_settings(data) == SerialSettings(
        "/dev/ttyUSB0", 2400, Parity.EVEN, 2, 8
    )
    transport = transport_for(data)
    assert isinstance(transport, SerialTransport)
    assert transport.endpoint == "/dev/ttyUSB0"


@pytest.mark.parametrize(
    ("stored", "parity", "option"),
    [
        ("none", Parity.NONE, "none"),
        ("odd", Parity.ODD, "odd"),
        ("N", Parity.NONE, "none"),
        ("E", Parity.EVEN, "even"),
        ("O", Parity.ODD, "odd"),
    ],
)
def test_parity_of_older_entries_is_read(
    stored: str, parity: Parity, option: str
) -> None:
    """Entries saved before the form offered slugs hold pyserial's letter.

    Both read as the same line setting (the transport gets the letter), and
    the reconfigure form shows the slug.
    """
    data = serial_data(_form("/dev/ttyUSB0", parity=stored))
    assert data["parity"] == option
    older = {**data, "parity": stored}
    assert serial_settings(older).parity is parity
    assert suggested_values(older)["parity"] == option


async def _serial_form(hass: HomeAssistant) -> Any:
    """Open the flow and choose the RS-485 adapter in the menu."""
    result: Any = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    assert "serial" in result["menu_options"]
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "serial"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "serial"
    return result


async def test_flow_adds_a_serial_gateway(
    hass: HomeAssistant, bus: tuple[ModbusSimulator, str]
) -> None:
    """Port, then meter: one entry per port, and the meter's values in HA."""
    sim, device = bus
    result = await _serial_form(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], _form(device)
    )
    assert result["step_id"] == "meter"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {"unit_id": 1, "profile": "wago_879_30xx", "name": "Heat pump"},
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    entry = result["result"]
    assert entry.unique_id == device
    assert entry.title == device
    assert entry.data[CONF_DEVICE] == device
    power = hass.states.get("sensor.heat_pump_power")
    assert power is not None
    served = sim.meter(1).served_values()
    assert float(power.state) == round(served[Quantity.POWER_TOTAL], 1)

    again = await _serial_form(hass)
    again = await hass.config_entries.flow.async_configure(
        again["flow_id"], _form(device)
    )
    assert again["type"] is FlowResultType.ABORT
    assert again["reason"] == "already_configured"
    await hass.config_entries.async_unload(entry.entry_id)


async def test_flow_reports_a_missing_port(hass: HomeAssistant) -> None:
    """A wrong path: the form comes back on the port field, saying why."""
    result = await _serial_form(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], _form(MISSING)
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"device": "cannot_open_serial"}
    assert "does not exist" in result["description_placeholders"]["error"]
    assert not hass.config_entries.async_entries(DOMAIN)


async def test_reconfigure_changes_line_settings(
    hass: HomeAssistant, bus: tuple[ModbusSimulator, str]
) -> None:
    """A serial entry reconfigures its port settings; a wrong path is refused."""
    _, device = bus
    result = await _serial_form(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], _form(device)
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {"unit_id": 1, "profile": "wago_879_30xx", "name": "Heat pump"},
    )
    entry = result["result"]
    await hass.async_block_till_done()

    flow: Any = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_RECONFIGURE, "entry_id": entry.entry_id}
    )
    assert flow["step_id"] == "reconfigure_serial"
    flow = await hass.config_entries.flow.async_configure(
        flow["flow_id"], _form(MISSING)
    )
    assert flow["errors"] == {"device": "cannot_open_serial"}
    flow = await hass.config_entries.flow.async_configure(
        flow["flow_id"], _form(device, baudrate="19200", stopbits="2")
    )
    assert flow["type"] is FlowResultType.ABORT
    assert flow["reason"] == "reconfigure_successful"
    assert entry.data["baudrate"] == 19200
    assert entry.data["stopbits"] == 2
    await hass.async_block_till_done()
    await hass.config_entries.async_unload(entry.entry_id)


def test_missing_path_is_not_a_file_here() -> None:
    """The path used for 'missing' really is missing on this machine."""
    assert not Path(MISSING).exists()
