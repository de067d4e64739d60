"""The Lovelace dashboard (dashboards/energy_meters.yaml) in a running Home Assistant.

The dashboard is loaded the way a user in YAML mode loads it (a `lovelace:` dashboard
with `mode: yaml`) and read back over the WebSocket API, as the frontend reads it.
The integration is set up as the demo sets it up: a WAGO meter named "Heat pump meter"
behind the Modbus simulator, the heat-pump and thermostat services through their
config flows against their fakes, the devices renamed to "Heat pump" and "Thermostat"
with the helper the demo uses. Every entity the dashboard names must then exist.
"""

import json
from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.typing import WebSocketGenerator
import yaml

from custom_components.energy_meters.const import DOMAIN
from devtools.companions import renamed_entity_ids
from devtools.dashboard import (
    DASHBOARD_FILE,
    DASHBOARD_URL_PATH,
    TRANSLATIONS_DIR,
    languages,
    load_dashboard,
    localize,
    localized_file,
    referenced_entities,
    render_localized,
    shown_once_enabled,
    statistics_entities,
    texts,
)
from simulator.server import ModbusSimulator
from simulator.services import HeatPumpService, ThermostatService
from tests.code_inventory import PACKAGE_DIR

from .companions_fixtures import (
    async_add_service,
    fixture_heatpump_service,  # noqa: F401  (fixture)
    fixture_thermostat_service,  # noqa: F401  (fixture)
)
from .helpers import async_add_gateway

IEC_PHASE_COLOURS = {"l1": "#8B4513", "l2": "#000000", "l3": "#808080"}
# The COP is unavailable unless the compressor runs (the static fake's does not).
ONLY_WHILE_RUNNING = frozenset({"sensor.heat_pump_coefficient_of_performance"})


def _rename_device(hass: HomeAssistant, entry: ConfigEntry, new_name: str) -> None:
    """Rename a service's device and its entity ids, as the demo does over WebSocket."""
    devices = dr.async_get(hass)
    entities = er.async_get(hass)
    device = devices.async_get_device_by_identifier(
        (DOMAIN, entry.entry_id), entry.entry_id
    )
    assert device is not None
    devices.async_update_device(device.id, name_by_user=new_name)
    own = [e.entity_id for e in er.async_entries_for_device(entities, device.id)]
    for old_id, new_id in renamed_entity_ids(own, device.name or "", new_name).items():
        entities.async_update_entity(old_id, new_entity_id=new_id)


async def _link_power(hass: HomeAssistant, entry: ConfigEntry, entity_id: str) -> None:
    """The heat pump's options: the meter power sensor, so the COP is published."""
    result: Any = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"power_entity": entity_id}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY, result
    await hass.async_block_till_done()


@pytest.fixture
async def demo_like_setup(
    hass: HomeAssistant,
    simulator: ModbusSimulator,
    heatpump_service: HeatPumpService,
    thermostat_service: ThermostatService,
) -> None:
    """The integration configured like the demo: meter, heat pump, thermostat."""
    await async_add_gateway(hass, simulator, name="Heat pump meter")
    heat_pump = await async_add_service(hass, "heat_pump", heatpump_service.url)
    thermostat = await async_add_service(hass, "thermostat", thermostat_service.url)
    _rename_device(hass, heat_pump, "Heat pump")
    _rename_device(hass, thermostat, "Thermostat")
    await _link_power(hass, heat_pump, "sensor.heat_pump_meter_power")


async def _loaded_dashboard(
    hass: HomeAssistant, hass_ws_client: WebSocketGenerator
) -> dict[str, Any]:
    """Set up lovelace with the dashboard in YAML mode; read it as the frontend does."""
    assert await async_setup_component(
        hass,
        "lovelace",
        {
            "lovelace": {
                "dashboards": {
                    DASHBOARD_URL_PATH: {
                        "mode": "yaml",
                        "filename": str(DASHBOARD_FILE),
                        "title": "Energy meters",
                        "icon": "mdi:lightning-bolt-circle",
                    }
                }
            }
        },
    )
    client = await hass_ws_client(hass)
    await client.send_json_auto_id(
        {"type": "lovelace/config", "url_path": DASHBOARD_URL_PATH}
    )
    answer = await client.receive_json()
    assert answer["success"], answer
    config: dict[str, Any] = answer["result"]
    return config


@pytest.mark.usefixtures("demo_like_setup")
async def test_every_entity_of_the_dashboard_exists(
    hass: HomeAssistant, hass_ws_client: WebSocketGenerator
) -> None:
    """Each entity a card names is there, and what statistics cards show has statistics."""
    config = await _loaded_dashboard(hass, hass_ws_client)
    assert config == load_dashboard(), "Home Assistant read the file differently"
    referenced = referenced_entities(config)
    assert len(referenced) > 20, sorted(referenced)
    states = {entity_id: hass.states.get(entity_id) for entity_id in referenced}
    optional = shown_once_enabled(config)
    assert optional, "the voltage tiles are shown once their entities are enabled"
    registry = er.async_get(hass)
    for entity_id in optional:
        registered = registry.async_get(entity_id)
        assert registered is not None, entity_id
        assert registered.disabled_by is er.RegistryEntryDisabler.INTEGRATION
    missing = sorted(
        entity_id
        for entity_id, state in states.items()
        if state is None and entity_id not in optional
    )
    assert not missing, f"the dashboard names entities that do not exist: {missing}"
    without_statistics = sorted(
        entity_id
        for entity_id in statistics_entities(config)
        if "state_class" not in states[entity_id].attributes  # type: ignore[union-attr]
        and entity_id not in optional
    )
    assert not without_statistics, without_statistics
    dead = sorted(
        entity_id
        for entity_id, state in states.items()
        if state is not None
        and state.state == "unavailable"
        and entity_id not in ONLY_WHILE_RUNNING
    )
    assert not dead, f"unavailable with the simulators running: {dead}"


async def test_the_check_finds_an_entity_that_is_missing(hass: HomeAssistant) -> None:
    """A card naming a meter that is not configured is reported (the check can fail)."""
    config = load_dashboard()
    config["views"][0]["sections"][0]["cards"].append(
        {"type": "tile", "entity": "sensor.second_meter_power"}
    )
    referenced = referenced_entities(config)
    assert "sensor.second_meter_power" in referenced
    assert "sensor.heat_pump_meter_power" in referenced
    assert "climate.thermostat" in referenced
    assert [e for e in referenced if hass.states.get(e) is None]


def test_grafana_bands_and_phase_colours() -> None:
    """The gauges keep the Grafana thresholds; the phases their IEC 60446 colours."""
    cards = {
        card.get("entity"): card
        for section in load_dashboard()["views"][0]["sections"]
        for card in section["cards"]
        if card["type"] == "gauge"
    }
    power = cards["sensor.heat_pump_meter_power"]
    assert power["severity"] == {"green": 0, "yellow": 1000, "red": 2000}
    power_factor = cards["sensor.heat_pump_meter_power_factor"]
    assert power_factor["severity"] == {"red": 0, "yellow": 0.7, "green": 0.85}
    frequency = cards["sensor.heat_pump_meter_frequency"]
    bands = [
        (s["from"], s["color"].split("--")[1].split("-")[0])
        for s in frequency["segments"]
    ]
    assert bands == [
        (49.5, "error"),
        (49.7, "warning"),
        (49.8, "success"),
        (50.2, "warning"),
        (50.3, "error"),
    ]
    phase_entities = [
        entity
        for section in load_dashboard()["views"][0]["sections"]
        for card in section["cards"]
        if card["type"] in {"history-graph", "statistics-graph"}
        for entity in card["entities"]
        if entity["entity"][-3:-1] == "_l"
    ]
    assert len(phase_entities) == 6
    for entity in phase_entities:
        assert entity["color"] == IEC_PHASE_COLOURS[entity["entity"][-2:]], entity


@pytest.mark.usefixtures("demo_like_setup")
async def test_every_entity_created_has_a_translation_and_an_icon(
    hass: HomeAssistant,
) -> None:
    """At run time too: names, enum states and presets of the entities set up here.

    The static check in test_repository_rules.py reads the descriptions; this one
    also sees what is only decided when an entity is built (the load level's options,
    the thermostat's presets).
    """
    translations = json.loads((PACKAGE_DIR / "translations" / "en.json").read_text())
    icons = json.loads((PACKAGE_DIR / "icons.json").read_text())
    problems: list[str] = []
    checked = 0
    for entry in er.async_get(hass).entities.values():
        if entry.platform != DOMAIN or entry.translation_key is None:
            continue
        checked += 1
        where = f"{entry.domain}.{entry.translation_key}"
        text = translations["entity"].get(entry.domain, {}).get(entry.translation_key)
        icon = icons["entity"].get(entry.domain, {}).get(entry.translation_key)
        if text is None or icon is None:
            problems.append(
                f"{where}: translation {text is not None}, icon {icon is not None}"
            )
            continue
        state = hass.states.get(entry.entity_id)
        attributes = state.attributes if state is not None else {}
        problems += _missing_states(where, text, icon, attributes)
    assert checked > 50
    assert not problems, problems


def _missing_states(
    where: str,
    text: dict[str, Any],
    icon: dict[str, Any],
    attributes: Any,
) -> list[str]:
    """Enum options and climate presets without a translation or an icon."""
    presets = text.get("state_attributes", {}).get("preset_mode", {}).get("state", {})
    preset_icons = (
        icon.get("state_attributes", {}).get("preset_mode", {}).get("state", {})
    )
    return [
        f"{where}: state {option}"
        for option in attributes.get("options", [])
        if option not in text.get("state", {}) or option not in icon.get("state", {})
    ] + [
        f"{where}: preset {preset}"
        for preset in attributes.get("preset_modes", [])
        if preset not in presets or preset not in preset_icons
    ]


@pytest.mark.parametrize("language", languages())
def test_translated_dashboard_is_complete_and_up_to_date(language: str) -> None:
    """Every text of the English dashboard is translated, and the file is current.

    A card added to the English file without its translation, or a German file
    not made again after a change, fails here (`python -m devtools.dashboard
    --write` makes it again).
    """
    table = yaml.safe_load(
        (TRANSLATIONS_DIR / f"{language}.yaml").read_text(encoding="utf-8")
    )
    english = texts(load_dashboard())
    assert sorted(set(english) - set(table)) == []
    assert sorted(set(table) - set(english)) == [], "translations of nothing"
    localized = localize(load_dashboard(), language)
    assert referenced_entities(localized) == referenced_entities(load_dashboard())
    assert localized_file(language).read_text(encoding="utf-8") == render_localized(
        language
    )
    assert yaml.safe_load(localized_file(language).read_text()) == localized


def test_german_dashboard_has_no_english_left() -> None:
    """The German texts differ from the English ones but for names and symbols."""
    same = {"COP", "L1", "L2", "L3", "Thermostat"}
    pairs = zip(
        texts(load_dashboard()), texts(localize(load_dashboard(), "de")), strict=True
    )
    assert [en for en, de in pairs if en == de and en not in same] == []
