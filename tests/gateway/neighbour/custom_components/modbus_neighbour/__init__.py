"""A test-only integration that reads one unit on a shared Modbus connection.

It stands for the other integrations a household runs against one gateway
(an inverter's, a heat pump's): it asks Home Assistant's `modbus` for a unit
the way they do, and the tests read through it while Energy Meters polls.
"""

from homeassistant.components.modbus import async_get_unit
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from modbus_connection import ModbusSerialParams, ModbusTcpParams, ModbusUnit


async def async_setup_entry(
    hass: HomeAssistant, entry: ConfigEntry[ModbusUnit]
) -> bool:
    """Hold the unit: a serial device (or socket:// URL), or a Modbus TCP host."""
    params: ModbusSerialParams | ModbusTcpParams
    if "device" in entry.data:
        params = ModbusSerialParams(
            device=entry.data["device"], baudrate=entry.data["baudrate"]
        )
    else:
        params = ModbusTcpParams(host=entry.data["host"], port=entry.data["port"])
    entry.runtime_data = async_get_unit(hass, entry, params, entry.data["unit_id"])
    return True


async def async_unload_entry(
    hass: HomeAssistant, entry: ConfigEntry[ModbusUnit]
) -> bool:
    """Nothing to stop: the hold goes with the entry."""
    return True
