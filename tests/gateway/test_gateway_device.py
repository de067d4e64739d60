"""The gateway's device: named by what it is, with a connectivity sensor."""

from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr

from custom_components.energy_meters.const import DOMAIN
from simulator.server import ModbusSimulator
from tests.helpers import async_add_gateway


async def test_gateway_device_says_what_it_is(
    hass: HomeAssistant, simulator: ModbusSimulator
) -> None:
    """Name "Modbus gateway <host:port>", the framing as its model, no fake maker."""
    entry = await async_add_gateway(hass, simulator)
    device = dr.async_get(hass).async_get_device_by_identifier(
        (DOMAIN, entry.entry_id), entry.entry_id
    )
    assert device is not None
    assert device.name == f"Modbus gateway 127.0.0.1:{simulator.port}"
    assert device.model == "Modbus TCP"
    assert device.manufacturer is None


async def test_connectivity_follows_the_gateway(
    hass: HomeAssistant, simulator: ModbusSimulator
) -> None:
    """On while the gateway answers, off once it is gone, on again when it is back."""
    entry = await async_add_gateway(hass, simulator)
    entity_id = f"binary_sensor.modbus_gateway_127_0_0_1_{simulator.port}_connectivity"
    state = hass.states.get(entity_id)
    assert state is not None, sorted(hass.states.async_entity_ids("binary_sensor"))
    assert state.state == "on"
    await simulator.stop()
    await entry.runtime_data.async_refresh()
    await hass.async_block_till_done()
    assert hass.states.get(entity_id).state == "off"  # type: ignore[union-attr]
    await simulator.start()
    await entry.runtime_data.async_refresh()
    await hass.async_block_till_done()
    assert hass.states.get(entity_id).state == "on"  # type: ignore[union-attr]
