"""Guarding a sensor another integration provides: the filtered twin."""

from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.sensor import ATTR_STATE_CLASS, SensorStateClass
from homeassistant.config_entries import SOURCE_RECONFIGURE, SOURCE_USER, ConfigEntry
from homeassistant.const import (
    ATTR_UNIT_OF_MEASUREMENT,
    STATE_UNAVAILABLE,
    STATE_UNKNOWN,
)
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import (
    device_registry as dr,
    entity_registry as er,
    issue_registry as ir,
)
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)

from custom_components.energy_meters.const import DOMAIN
from custom_components.energy_meters.single_meters.guard import CONFIRM_AFTER_S

ENERGY_SOURCE = "sensor.vendor_energy"
POWER_SOURCE = "sensor.vendor_power"
ENERGY_TWIN = "sensor.vendor_energy_guarded"
POWER_TWIN = "sensor.vendor_power_guarded"
ENERGY_ATTRS = {
    "unit_of_measurement": "kWh",
    "device_class": "energy",
    "state_class": "total_increasing",
    "friendly_name": "Vendor energy",
}
POWER_ATTRS = {
    "unit_of_measurement": "W",
    "device_class": "power",
    "friendly_name": "Vendor power",
}


async def _set(
    hass: HomeAssistant, entity_id: str, state: str, attrs: dict[str, Any]
) -> None:
    hass.states.async_set(entity_id, state, attrs)
    await hass.async_block_till_done()


async def async_guard(hass: HomeAssistant, source: str, **extra: Any) -> Any:
    """Run the guard flow for `source`; the last result."""
    result: Any = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    assert "guard" in result["menu_options"]
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "guard"}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"source_entity_id": source, "role": "zone", **extra}
    )
    await hass.async_block_till_done()
    return result


def _state(hass: HomeAssistant, entity_id: str) -> str:
    state = hass.states.get(entity_id)
    assert state is not None, entity_id
    return state.state


async def test_the_energy_twin_never_decreases_when_its_source_glitches(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """The energy twin never decreases when its source glitches."""
    await _set(hass, ENERGY_SOURCE, "1000.0", ENERGY_ATTRS)
    result = await async_guard(hass, ENERGY_SOURCE)
    assert result["type"] is FlowResultType.CREATE_ENTRY, result
    assert result["title"] == "Vendor energy (guarded)"
    twin = hass.states.get(ENERGY_TWIN)
    assert twin is not None
    assert float(twin.state) == 1000.0
    assert twin.attributes[ATTR_UNIT_OF_MEASUREMENT] == "kWh"
    assert twin.attributes[ATTR_STATE_CLASS] == SensorStateClass.TOTAL_INCREASING
    published = [1000.0]
    for glitch in ("1000.2", "0", "998.0", "n/a", "1000.3", "4.2e9", "1000.4"):
        freezer.tick(60)  # a state a minute: 0.1 kWh is 6 kW, plausible
        await _set(hass, ENERGY_SOURCE, glitch, ENERGY_ATTRS)
        value = _state(hass, ENERGY_TWIN)
        published.append(float(value))
    assert published == sorted(published)  # never down
    assert published[-1] == 1000.4
    assert 4.2e9 not in published  # the absurd jump was held back
    # Source unavailable: so is the twin; back at the value it left, not lower.
    await _set(hass, ENERGY_SOURCE, STATE_UNAVAILABLE, ENERGY_ATTRS)
    assert _state(hass, ENERGY_TWIN) == STATE_UNAVAILABLE
    await _set(hass, ENERGY_SOURCE, "999.0", ENERGY_ATTRS)
    assert float(_state(hass, ENERGY_TWIN)) == 1000.4


async def test_a_reset_source_is_continued_with_a_repair_issue(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """A counter that restarts low and stays there is continued from the last value."""
    await _set(hass, ENERGY_SOURCE, "500.0", ENERGY_ATTRS)
    await async_guard(hass, ENERGY_SOURCE)
    for value in ("0.1", "0.1", "0.2", "0.3"):
        freezer.tick(60)
        await _set(hass, ENERGY_SOURCE, value, ENERGY_ATTRS)
    assert float(_state(hass, ENERGY_TWIN)) >= 500.0
    assert float(_state(hass, ENERGY_TWIN)) < 501.0
    issues = [
        issue
        for (domain, _), issue in ir.async_get(hass).issues.items()
        if domain == DOMAIN and issue.translation_key == "counter_reset"
    ]
    assert len(issues) == 1
    assert issues[0].translation_placeholders is not None
    assert issues[0].translation_placeholders["meter"] == "Vendor energy (guarded)"


async def test_the_power_twin_holds_back_spikes_and_converts_units(
    hass: HomeAssistant,
) -> None:
    """The power twin holds back spikes and converts units."""
    await _set(hass, POWER_SOURCE, "1.2", {**POWER_ATTRS, "unit_of_measurement": "kW"})
    await async_guard(hass, POWER_SOURCE)
    assert float(_state(hass, POWER_TWIN)) == 1200.0
    kw = {**POWER_ATTRS, "unit_of_measurement": "kW"}
    await _set(hass, POWER_SOURCE, "45", kw)  # a 45 kW spike, once
    assert float(_state(hass, POWER_TWIN)) == 1200.0
    await _set(hass, POWER_SOURCE, "1.25", kw)
    assert float(_state(hass, POWER_TWIN)) == 1250.0
    await _set(hass, POWER_SOURCE, "0", kw)  # an isolated zero
    assert float(_state(hass, POWER_TWIN)) == 1250.0
    await _set(hass, POWER_SOURCE, "1300", POWER_ATTRS)  # the source now says W
    assert float(_state(hass, POWER_TWIN)) == 1300.0
    await _set(hass, POWER_SOURCE, "1", {**POWER_ATTRS, "unit_of_measurement": "°C"})
    assert float(_state(hass, POWER_TWIN)) == 1300.0  # wrong unit: kept


async def test_the_twin_sits_on_the_source_device(hass: HomeAssistant) -> None:
    """The twin sits on the source device."""
    vendor = MockConfigEntry(domain="vendor")
    vendor.add_to_hass(hass)
    device = dr.async_get(hass).async_get_or_create(
        config_entry_id=vendor.entry_id,
        identifiers={("vendor", "m1")},
        name="Vendor meter",
    )
    er.async_get(hass).async_get_or_create(
        "sensor",
        "vendor",
        "p1",
        suggested_object_id="vendor_power",
        device_id=device.id,
    )
    await _set(hass, POWER_SOURCE, "10", POWER_ATTRS)
    await async_guard(hass, POWER_SOURCE, name="Garage power, filtered")
    twins = [e for e in er.async_get(hass).entities.values() if e.platform == DOMAIN]
    assert len(twins) == 1
    assert twins[0].device_id == device.id
    # Home Assistant names an entity on another's device after that device.
    assert twins[0].entity_id == "sensor.vendor_meter_garage_power_filtered"
    assert float(_state(hass, twins[0].entity_id)) == 10.0


async def test_only_power_and_energy_sensors_can_be_guarded(
    hass: HomeAssistant,
) -> None:
    """Only power and energy sensors can be guarded."""
    await _set(hass, "sensor.outdoor", "5.1", {"unit_of_measurement": "°C"})
    result = await async_guard(hass, "sensor.outdoor")
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"source_entity_id": "not_power_or_energy"}
    result = await async_guard(hass, "sensor.does_not_exist")
    assert result["errors"] == {"source_entity_id": "not_power_or_energy"}


async def test_the_same_sensor_twice_is_refused(hass: HomeAssistant) -> None:
    """The same sensor twice is refused."""
    await _set(hass, POWER_SOURCE, "10", POWER_ATTRS)
    await async_guard(hass, POWER_SOURCE)
    result = await async_guard(hass, POWER_SOURCE)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "meter_already_configured"


async def test_unknown_source_at_start_and_reconfigure(hass: HomeAssistant) -> None:
    """Unknown source at start and reconfigure."""
    await _set(hass, POWER_SOURCE, STATE_UNKNOWN, POWER_ATTRS)
    result = await async_guard(hass, POWER_SOURCE)
    entry: ConfigEntry = result["result"]
    assert _state(hass, POWER_TWIN) == STATE_UNAVAILABLE
    await _set(hass, POWER_SOURCE, "250", POWER_ATTRS)
    assert float(_state(hass, POWER_TWIN)) == 250.0
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_RECONFIGURE, "entry_id": entry.entry_id}
    )
    assert result["step_id"] == "reconfigure_guard"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"name": entry.title, "role": "solar"}
    )
    assert result["reason"] == "standalone_reconfigured"
    assert entry.data["role"] == "solar"
    assert entry.data["source_entity_id"] == POWER_SOURCE


async def test_a_jump_to_a_level_that_stays_is_confirmed_in_time(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """A source writes no new state while its value stays: the twin checks again.

    The heat pump starts and the source stays at exactly 3000 W: the twin
    holds the jump back, then takes it when the source still says so later.
    """
    await _set(hass, POWER_SOURCE, "45", POWER_ATTRS)
    await async_guard(hass, POWER_SOURCE)
    await _set(hass, POWER_SOURCE, "3000", POWER_ATTRS)
    assert float(_state(hass, POWER_TWIN)) == 45.0
    freezer.tick(CONFIRM_AFTER_S + 1)
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert float(_state(hass, POWER_TWIN)) == 3000.0
    # A glitch that is gone before the check is never shown.
    await _set(hass, POWER_SOURCE, "0", POWER_ATTRS)
    await _set(hass, POWER_SOURCE, "3005", POWER_ATTRS)
    freezer.tick(CONFIRM_AFTER_S + 1)
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert float(_state(hass, POWER_TWIN)) == 3005.0


async def test_an_energy_twin_in_a_site_role_does_not_block_the_site(
    hass: HomeAssistant,
) -> None:
    """It has no power to add: the Site leaves it out rather than going unavailable."""
    result: Any = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "site"}
    )
    await hass.config_entries.flow.async_configure(
        result["flow_id"], {"capacity_kw": 10}
    )
    await _set(hass, ENERGY_SOURCE, "100", ENERGY_ATTRS)
    await _set(hass, POWER_SOURCE, "2000", POWER_ATTRS)
    await async_guard(hass, ENERGY_SOURCE, role="building")
    await async_guard(hass, POWER_SOURCE, role="building")
    assert float(_state(hass, "sensor.site_building_consumption")) == 2000.0
    assert float(_state(hass, "sensor.site_available_capacity")) == 8.0
