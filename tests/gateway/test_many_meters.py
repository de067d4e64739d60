"""Thirty-two meters on one gateway, added one after another as a person would.

Each meter added reloads the gateway. Added back to back, a meter could be
saved while the gateway was still setting itself up for the one before, and
its entities only came after a manual reload (26-28 of 32 had entities).
And each change queued a reload of its own, each reading every meter again:
changes made while a reload waits to start now share it.
"""

from typing import Any

from homeassistant.config_entries import SOURCE_USER
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import device_registry as dr, entity_registry as er

from custom_components.energy_meters.const import SUBENTRY_METER
from simulator.server import ModbusSimulator
from tests.helpers import async_add_gateway, wago_meter

METERS = 32


async def test_32_meters_added_back_to_back_all_get_entities(
    hass: HomeAssistant, socket_enabled: None
) -> None:
    """Every "Add meter" submitted without waiting for the reload before it."""
    simulator = ModbusSimulator(
        [wago_meter(unit, seed=unit) for unit in range(1, METERS + 1)],
        host="127.0.0.1",
        port=0,
    )
    await simulator.start()
    try:
        entry = await async_add_gateway(hass, simulator, name="Meter 1")
        for unit in range(2, METERS + 1):
            result: Any = await hass.config_entries.subentries.async_init(
                (entry.entry_id, SUBENTRY_METER), context={"source": SOURCE_USER}
            )
            result = await hass.config_entries.subentries.async_configure(
                result["flow_id"],
                {"unit_id": unit, "profile": "wago_879_30xx", "name": f"Meter {unit}"},
            )
            assert result["type"] is FlowResultType.CREATE_ENTRY, result
        await hass.async_block_till_done()

        devices = dr.async_entries_for_config_entry(dr.async_get(hass), entry.entry_id)
        entities = er.async_entries_for_config_entry(er.async_get(hass), entry.entry_id)
        with_entities = {entity.device_id for entity in entities}
        meters = [device for device in devices if device.via_device_id is not None]
        assert len(meters) == METERS
        assert [d.name for d in meters if d.id not in with_entities] == []
        for unit in range(1, METERS + 1):
            state = hass.states.get(f"sensor.meter_{unit}_power")
            assert state is not None, unit
            assert state.state not in ("unknown", "unavailable"), (unit, state)
        assert len(entry.runtime_data.readers) == METERS
        # Meter 1 is read by every setup of the gateway (2 requests a WAGO
        # poll): at most one setup per meter added, plus a poll or two. Each
        # reload scheduled once more after a setup it had waited for made
        # this 102.
        first_meter_reads = len(simulator.meter(1).requests)
        assert first_meter_reads <= 2 * METERS + 4, first_meter_reads
    finally:
        await hass.config_entries.async_unload(entry.entry_id)
        await simulator.stop()
