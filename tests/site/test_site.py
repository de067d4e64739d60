"""The Site device: sums over two gateways, each a real simulator on 127.0.0.1."""

from collections.abc import AsyncGenerator
from typing import Any

from homeassistant.config_entries import SOURCE_RECONFIGURE, SOURCE_USER, ConfigEntry
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
import pytest

from custom_components.energy_meters.const import DOMAIN, SUBENTRY_METER
from custom_components.energy_meters.diagnostics import (
    async_get_config_entry_diagnostics,
)
from custom_components.energy_meters.meter_power import MeterPower
from custom_components.energy_meters.meterlib.model import Quantity
from custom_components.energy_meters.roles import MeterRole, meter_role
from custom_components.energy_meters.site.tracker import site_totals
from simulator.server import ModbusSimulator
from tests.helpers import wago_meter

CONSUMPTION = "sensor.site_building_consumption"
SOLAR = "sensor.site_solar_production"
AVAILABLE = "sensor.site_available_capacity"


@pytest.fixture
async def second_simulator(socket_enabled: None) -> AsyncGenerator[ModbusSimulator]:
    """A second gateway (another building) with WAGO meters on units 1 and 2."""
    sim = ModbusSimulator(
        [wago_meter(1, seed=3), wago_meter(2, seed=4)], host="127.0.0.1", port=0
    )
    await sim.start()
    yield sim
    await sim.stop()


async def _add_gateway(
    hass: HomeAssistant, sim: ModbusSimulator, name: str, role: str
) -> ConfigEntry:
    """A gateway with its unit 1 in `role`, through the real config flow."""
    result: Any = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "gateway"}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {"host": "127.0.0.1", "port": sim.port, "framing": "tcp", "timeout": 1},
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {"unit_id": 1, "profile": "wago_879_30xx", "name": name, "role": role},
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY, result
    await hass.async_block_till_done()
    entry: ConfigEntry = result["result"]
    return entry


async def _add_meter(
    hass: HomeAssistant, entry: ConfigEntry, name: str, role: str | None
) -> None:
    """Unit 2 behind the gateway, in `role` (None: the form's default)."""
    result: Any = await hass.config_entries.subentries.async_init(
        (entry.entry_id, SUBENTRY_METER), context={"source": SOURCE_USER}
    )
    user_input = {"unit_id": 2, "profile": "wago_879_30xx", "name": name}
    if role is not None:
        user_input["role"] = role
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], user_input
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY, result
    await hass.async_block_till_done()


async def _add_site(hass: HomeAssistant, capacity_kw: float) -> ConfigEntry:
    """The Site, from the integration's menu."""
    result: Any = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    assert "site" in result["menu_options"]
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "site"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "site"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"capacity_kw": capacity_kw}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY, result
    await hass.async_block_till_done()
    entry: ConfigEntry = result["result"]
    return entry


def _value(hass: HomeAssistant, entity_id: str) -> float:
    state = hass.states.get(entity_id)
    assert state is not None, entity_id
    return float(state.state)


async def _poll(hass: HomeAssistant, entry: ConfigEntry, times: int = 1) -> None:
    """Let the gateway poll its meters (twice confirms a jump past the filter)."""
    for _ in range(times):
        await entry.runtime_data.async_refresh()
        await hass.async_block_till_done()


@pytest.fixture
async def two_gateways(
    hass: HomeAssistant,
    simulator: ModbusSimulator,
    second_simulator: ModbusSimulator,
) -> tuple[ConfigEntry, ConfigEntry, ConfigEntry]:
    """Site first, then a house (grid meter, a zone) and a garage (solar, building).

    Values are pinned before the gateways start, so the first readings are
    the pinned ones: the spike filter only holds back jumps.
    """
    simulator.meter(1).set_value(Quantity.POWER_TOTAL, 2500.0)
    simulator.meter(2).set_value(Quantity.POWER_TOTAL, 999.0)
    second_simulator.meter(1).set_value(Quantity.POWER_TOTAL, -4000.0)
    second_simulator.meter(2).set_value(Quantity.POWER_TOTAL, 1200.0)
    site = await _add_site(hass, 11)
    house = await _add_gateway(hass, simulator, "House grid", "grid")
    await _add_meter(hass, house, "Kitchen", None)
    garage = await _add_gateway(hass, second_simulator, "Garage PV", "solar")
    await _add_meter(hass, garage, "Garage", "building")
    return site, house, garage


async def test_site_sums_across_two_gateways(
    hass: HomeAssistant,
    two_gateways: tuple[ConfigEntry, ConfigEntry, ConfigEntry],
) -> None:
    """Grid + building + the solar behind the grid meter; zones are not added.

    The house draws 2.5 kW from the grid while 4 kW of solar (metered as
    export) feeds in behind it, so the house itself uses 6.5 kW; the garage
    building 1.2 kW. 11 kW connection: 11 + 4 - 7.7 = 7.3 kW to spare, which
    is the connection minus what is drawn from the grid (11 - 2.5 - 1.2).
    """
    assert _value(hass, CONSUMPTION) == pytest.approx(7700.0, abs=0.1)
    assert _value(hass, SOLAR) == pytest.approx(4000.0, abs=0.1)
    assert _value(hass, AVAILABLE) == pytest.approx(7.3, abs=0.001)
    state = hass.states.get(AVAILABLE)
    assert state is not None
    assert state.attributes["unit_of_measurement"] == "kW"


async def test_site_follows_a_meter_when_its_gateway_polls(
    hass: HomeAssistant,
    simulator: ModbusSimulator,
    two_gateways: tuple[ConfigEntry, ConfigEntry, ConfigEntry],
) -> None:
    """The site changes with the meter: held one poll like the meter, then taken."""
    _, house, _ = two_gateways
    simulator.meter(1).set_value(Quantity.POWER_TOTAL, 5000.0)
    await _poll(hass, house)
    assert _value(hass, CONSUMPTION) == pytest.approx(7700.0, abs=0.1)
    await _poll(hass, house)
    assert _value(hass, CONSUMPTION) == pytest.approx(10200.0, abs=0.1)
    assert _value(hass, AVAILABLE) == pytest.approx(4.8, abs=0.001)


async def test_a_role_change_is_picked_up(
    hass: HomeAssistant,
    two_gateways: tuple[ConfigEntry, ConfigEntry, ConfigEntry],
) -> None:
    """The kitchen becomes a building meter: the reloaded gateway is followed."""
    _, house, _ = two_gateways
    kitchen = next(s for s in house.subentries.values() if s.title == "Kitchen")
    assert meter_role(kitchen.data) is MeterRole.ZONE
    result: Any = await hass.config_entries.subentries.async_init(
        (house.entry_id, SUBENTRY_METER),
        context={"source": SOURCE_RECONFIGURE, "subentry_id": kitchen.subentry_id},
    )
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"],
        {
            "unit_id": 2,
            "profile": "wago_879_30xx",
            "name": "Kitchen",
            "role": "building",
        },
    )
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()
    assert _value(hass, CONSUMPTION) == pytest.approx(8699.0, abs=0.1)
    assert _value(hass, AVAILABLE) == pytest.approx(6.301, abs=0.001)


async def test_a_silent_gateway_makes_the_site_unavailable_not_wrong(
    hass: HomeAssistant,
    second_simulator: ModbusSimulator,
    two_gateways: tuple[ConfigEntry, ConfigEntry, ConfigEntry],
) -> None:
    """Without the garage's meters the sums would overstate the spare capacity."""
    _, _, garage = two_gateways
    await second_simulator.stop()
    await _poll(hass, garage, times=3)
    for entity_id in (CONSUMPTION, SOLAR, AVAILABLE):
        state = hass.states.get(entity_id)
        assert state is not None
        assert state.state == STATE_UNAVAILABLE, entity_id


async def test_capacity_option_and_diagnostics(
    hass: HomeAssistant,
    two_gateways: tuple[ConfigEntry, ConfigEntry, ConfigEntry],
) -> None:
    """A new capacity reloads the site; diagnostics show what it reads."""
    site, _, _ = two_gateways
    result: Any = await hass.config_entries.options.async_init(site.entry_id)
    assert result["step_id"] == "site_capacity"
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"capacity_kw": 17.5}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert _value(hass, AVAILABLE) == pytest.approx(13.8, abs=0.001)
    diagnostics = await async_get_config_entry_diagnostics(hass, site)  # type: ignore[arg-type]
    assert diagnostics["capacity_kw"] == 17.5
    assert sorted(m["role"] for m in diagnostics["meters"]) == [
        "building",
        "grid",
        "solar",
    ]
    assert diagnostics["totals"]["consumption_w"] == pytest.approx(7700.0, abs=0.1)


async def test_reconfigure_site_changes_capacity(
    hass: HomeAssistant,
    two_gateways: tuple[ConfigEntry, ConfigEntry, ConfigEntry],
) -> None:
    """The site's Reconfigure edits the same capacity."""
    site, _, _ = two_gateways
    result: Any = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_RECONFIGURE, "entry_id": site.entry_id}
    )
    assert result["step_id"] == "reconfigure_site"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"capacity_kw": 8}
    )
    assert result["reason"] == "site_reconfigured"
    await hass.async_block_till_done()
    assert site.options == {"capacity_kw": 8.0}
    assert _value(hass, AVAILABLE) == pytest.approx(4.3, abs=0.001)


async def test_only_one_site(hass: HomeAssistant) -> None:
    """The site covers every gateway: a second one is refused, with a reason."""
    await _add_site(hass, 24)
    assert hass.states.get(CONSUMPTION) is not None
    assert hass.states.get(CONSUMPTION).state == STATE_UNAVAILABLE  # type: ignore[union-attr]
    result: Any = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "site"}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "site_already_configured"
    sites = hass.config_entries.async_entries(DOMAIN)
    assert len(sites) == 1
    assert not sites[0].subentries
    assert await hass.config_entries.async_unload(sites[0].entry_id)


def test_meters_configured_before_roles_are_zones() -> None:
    """An older subentry has no role: it stays out of the site's sums."""
    assert meter_role({"unit_id": 1, "profile": "wago_879_30xx"}) is MeterRole.ZONE
    assert meter_role({"role": "no such role"}) is MeterRole.ZONE
    assert meter_role({"role": "solar"}) is MeterRole.SOLAR


def _meter(role: MeterRole, power: float | None) -> MeterPower:
    return MeterPower(f"{role} meter", role, power)


def test_building_meters_without_a_grid_meter() -> None:
    """A building meter sees the gross load: solar is not added to it."""
    totals = site_totals(
        [_meter(MeterRole.BUILDING, 3000.0), _meter(MeterRole.SOLAR, 5000.0)], 11
    )
    assert totals.consumption_w == 3000.0
    assert totals.solar_w == 5000.0
    assert totals.available_kw == pytest.approx(13.0)


def test_grid_meter_exporting_solar() -> None:
    """Exporting 2 kW with 5 kW of solar: the house uses 3 kW, 13 kW are spare."""
    totals = site_totals(
        [_meter(MeterRole.GRID, -2000.0), _meter(MeterRole.SOLAR, 5000.0)], 11
    )
    assert totals.consumption_w == pytest.approx(3000.0)
    assert totals.available_kw == pytest.approx(13.0)


def test_a_missing_meter_blanks_what_needs_it() -> None:
    """Unknown solar blanks consumption behind a grid meter; zones never count."""
    totals = site_totals(
        [
            _meter(MeterRole.GRID, 1000.0),
            _meter(MeterRole.SOLAR, None),
            _meter(MeterRole.ZONE, None),
        ],
        11,
    )
    assert totals.consumption_w is None
    assert totals.solar_w is None
    assert totals.available_kw is None
    assert totals.missing == ("solar meter",)


def test_no_site_meters() -> None:
    """Nothing to add: no consumption, and no solar is zero solar."""
    totals = site_totals([_meter(MeterRole.HEAT_PUMP, 800.0)], 11)
    assert totals.consumption_w is None
    assert totals.solar_w == 0.0
    assert totals.available_kw is None
