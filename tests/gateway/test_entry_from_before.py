"""Gateways saved before the shared Modbus link keep their entities.

Until the link moved to Home Assistant's `modbus` connection, each gateway
opened a pymodbus client of its own. The entry data did not change shape with
the move (host, port, framing, timeout; a subentry per meter), so no
migration runs: these entries are written literally as that release stored
them, their entities already in the registry under the names a user gave
them, and must come up on the shared link with the same entities, values and
no new registry rows.
"""

from typing import Any

from homeassistant.config_entries import ConfigSubentryData
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.energy_meters.const import DOMAIN, SUBENTRY_METER
from custom_components.energy_meters.meterlib.model import Quantity
from simulator.server import ModbusSimulator
from tests.helpers import wago_meter

# The meter subentry as the flow of that release saved it: every key it wrote.
SAVED_METER: dict[str, Any] = {
    "unit_id": 1,
    "profile": "wago_879_30xx",
    "max_power_kw": 50.0,
    "confirmations": 2,
    "role": "grid",
    "load_idle_w": 50.0,
    "load_medium_kw": 1.0,
    "load_high_kw": 2.0,
    "frequency_min": 49.8,
    "frequency_max": 50.2,
    "power_factor_min": 0.85,
}
# Renamed by the user before the update: the registry row, not a default name.
RENAMED = {
    "power": "sensor.grid_power_old_name",
    "energy_import": "sensor.grid_energy_old_name",
}


@pytest.mark.parametrize("framing", ["tcp", "rtu_over_tcp"])
async def test_a_gateway_saved_before_the_shared_link_keeps_its_entities(
    hass: HomeAssistant, socket_enabled: None, framing: str
) -> None:
    """Same entity ids, same unique ids, live values, no new registry rows."""
    served = wago_meter(1)
    served.set_value(Quantity.ENERGY_IMPORT_TOTAL, 4321.5)
    async with ModbusSimulator(
        [served],
        host="127.0.0.1",
        framing="rtu" if framing == "rtu_over_tcp" else "tcp",
    ) as sim:
        entry = MockConfigEntry(
            domain=DOMAIN,
            version=1,
            minor_version=1,
            title=f"127.0.0.1:{sim.port}",
            unique_id=f"127.0.0.1:{sim.port}",
            data={
                "host": "127.0.0.1",
                "port": sim.port,
                "framing": framing,
                "timeout": 1.0,
            },
            options={"scan_interval": 10},
            subentries_data=[
                ConfigSubentryData(
                    data=SAVED_METER,
                    subentry_type=SUBENTRY_METER,
                    title="Grid",
                    unique_id="1",
                )
            ],
        )
        entry.add_to_hass(hass)
        (subentry_id,) = entry.subentries
        registry = er.async_get(hass)
        for key, entity_id in RENAMED.items():
            registry.async_get_or_create(
                "sensor",
                DOMAIN,
                f"{entry.entry_id}_{subentry_id}_{key}",
                config_entry=entry,
                config_subentry_id=subentry_id,
                suggested_object_id=entity_id.removeprefix("sensor."),
            )
        assert await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()

        for key, entity_id in RENAMED.items():
            assert (
                registry.async_get_entity_id(
                    "sensor", DOMAIN, f"{entry.entry_id}_{subentry_id}_{key}"
                )
                == entity_id
            )
        rows = er.async_entries_for_config_entry(registry, entry.entry_id)
        unique_ids = [row.unique_id for row in rows]
        assert len(unique_ids) == len(set(unique_ids))
        # A second row would have taken the default names.
        assert registry.async_get("sensor.grid_power") is None
        assert registry.async_get("sensor.grid_energy_import") is None
        # A counter without saved state is confirmed by a second reading.
        await entry.runtime_data.async_refresh()
        await hass.async_block_till_done()
        energy = hass.states.get(RENAMED["energy_import"])
        power = hass.states.get(RENAMED["power"])
        assert energy is not None
        assert power is not None
        assert float(energy.state) == pytest.approx(4321.5, abs=0.01)
        served_w = served.served_values()[Quantity.POWER_TOTAL]
        assert float(power.state) == pytest.approx(served_w, abs=0.1)
        assert entry.data["framing"] == framing
        assert entry.version == 1
        assert entry.minor_version == 1
        assert await hass.config_entries.async_unload(entry.entry_id)
