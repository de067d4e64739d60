"""The thermostat device and the BLU sensors against the fake thermostat service."""

from datetime import UTC, datetime, timedelta
import importlib.util
import inspect
import json
import logging
import sys

from homeassistant.components.climate import (
    ATTR_HVAC_ACTION,
    ATTR_PRESET_MODE,
    SERVICE_SET_HVAC_MODE,
    SERVICE_SET_PRESET_MODE,
    SERVICE_SET_TEMPERATURE,
    ClimateEntity,
)
from homeassistant.components.number import ATTR_VALUE, SERVICE_SET_VALUE
from homeassistant.config_entries import SOURCE_REAUTH, ConfigEntry
from homeassistant.const import (
    ATTR_ENTITY_ID,
    ATTR_TEMPERATURE,
    SERVICE_TURN_OFF,
    SERVICE_TURN_ON,
    STATE_UNAVAILABLE,
    STATE_UNKNOWN,
)
from homeassistant.core import HomeAssistant, State
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import device_registry as dr
import pytest

from custom_components.energy_meters.companions.coordinator import ThermostatCoordinator
from custom_components.energy_meters.companions.thermostat_entities import Thermostat
from custom_components.energy_meters.const import DOMAIN
from custom_components.energy_meters.diagnostics import (
    async_get_config_entry_diagnostics,
)
from simulator.services import BluSensor, FaultKind, ThermostatService
from tests.companions_fixtures import (
    async_add_service,
    entity_id,
    error_lines,
    fixture_thermostat_service,  # noqa: F401  (fixture)
    state_of,
)

# Every field set away from its default, so a reset to defaults shows.
CUSTOM_CONFIG = {
    "target_temp": 21.5,
    "eco_temp": 19.0,
    "mode": "OFF",
    "hysteresis": 0.8,
    "min_on_time": 45,
    "min_off_time": 15,
    "temp_sample_count": 5,
    "control_interval": 240,
}


async def _add(hass: HomeAssistant, service: ThermostatService) -> ConfigEntry:
    return await async_add_service(hass, "thermostat", service.url)


def _climate(hass: HomeAssistant, entry: ConfigEntry) -> State:
    state = hass.states.get(entity_id(hass, entry, "climate", "thermostat"))
    assert state is not None
    return state


def _coordinator(entry: ConfigEntry) -> ThermostatCoordinator:
    coordinator = entry.runtime_data
    assert isinstance(coordinator, ThermostatCoordinator)
    return coordinator


async def _climate_call(
    hass: HomeAssistant, entry: ConfigEntry, service: str, **data: object
) -> None:
    await hass.services.async_call(
        "climate",
        service,
        {ATTR_ENTITY_ID: entity_id(hass, entry, "climate", "thermostat"), **data},
        blocking=True,
    )


async def test_climate_shows_the_thermostat(
    hass: HomeAssistant, thermostat_service: ThermostatService
) -> None:
    """Mode OFF: off, idle switch; current temperature from the indoor sensor."""
    entry = await _add(hass, thermostat_service)
    state = _climate(hass, entry)
    assert state.state == "off"
    assert state.attributes["current_temperature"] == 21.2
    assert state.attributes[ATTR_TEMPERATURE] == 22.0
    assert state.attributes[ATTR_HVAC_ACTION] == "off"
    assert state.attributes[ATTR_PRESET_MODE] is None
    assert state.attributes["preset_modes"] == ["auto", "eco", "on"]
    assert state.attributes["hvac_modes"] == ["heat", "off"]
    assert state.attributes["reason"] == "Manual override: Switch forced OFF"
    assert state.name == f"Thermostat 127.0.0.1:{thermostat_service.port}"


# The climate temperature API that Home Assistant 2026.11 renamed (the old names stop
# working in 2027.11), with the names that provide each replacement
# (homeassistant/components/climate/entity.py and helpers/deprecation.py of 2026.11).
_NATIVE_OF_DEPRECATED = {
    "temperature_unit": {"native_temperature_unit", "_attr_native_temperature_unit"},
    "_attr_temperature_unit": {"_attr_native_temperature_unit"},
    "current_temperature": {
        "native_current_temperature",
        "_attr_native_current_temperature",
    },
    "_attr_current_temperature": {"_attr_native_current_temperature"},
    "target_temperature": {
        "native_target_temperature",
        "_attr_native_target_temperature",
    },
    "_attr_target_temperature": {"_attr_native_target_temperature"},
    "target_temperature_high": {
        "native_target_temperature_high",
        "_attr_native_target_temperature_high",
    },
    "_attr_target_temperature_high": {"_attr_native_target_temperature_high"},
    "target_temperature_low": {
        "native_target_temperature_low",
        "_attr_native_target_temperature_low",
    },
    "_attr_target_temperature_low": {"_attr_native_target_temperature_low"},
}


def test_climate_provides_the_native_temperature_api() -> None:
    """Whatever provides an old name of the temperature API provides the native one.

    Home Assistant 2026.11's rule (migrate_deprecated_entity_members): the most
    derived class providing the old or the native name decides; if it provides only
    the old one, a warning is logged when the class is created, so at every start.
    This checks the rule itself, so it also fails under 2026.10, which has no such
    deprecation (see the next test).
    """
    old_only: list[str] = []
    for name, native in _NATIVE_OF_DEPRECATED.items():
        provider = next(
            klass
            for klass in Thermostat.__mro__
            if klass is ClimateEntity
            or name in vars(klass)
            or native & vars(klass).keys()
        )
        if provider is not ClimateEntity and not native & vars(provider).keys():
            old_only.append(f"{provider.__name__}.{name}")
    assert not old_only, old_only


async def test_climate_logs_no_deprecation_warning(
    hass: HomeAssistant,
    thermostat_service: ThermostatService,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """No "will stop working" warning: from creating the class, or showing the state.

    Home Assistant 2026.11 checks a climate class when it is created, that is when
    its module is imported at start (long before caplog), and reports reads of the
    old names. So a fresh copy of the module is executed here, under caplog. 2026.10
    has no such deprecation, so under it this test cannot fail; the test above is
    the one that can.
    """
    name = f"{Thermostat.__module__}_fresh_copy"
    spec = importlib.util.spec_from_file_location(name, inspect.getfile(Thermostat))
    assert spec is not None
    assert spec.loader is not None
    fresh = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, name, fresh)
    with caplog.at_level(logging.WARNING):
        spec.loader.exec_module(fresh)
        assert fresh.Thermostat is not Thermostat
        entry = await _add(hass, thermostat_service)
        state = _climate(hass, entry)
    assert state.attributes["current_temperature"] == 21.2
    assert state.attributes[ATTR_TEMPERATURE] == 22.0
    warnings = [
        record.getMessage()
        for record in caplog.records
        if "will stop working" in record.getMessage()
    ]
    assert not warnings, warnings


async def test_preset_change_leaves_every_other_field_untouched(
    hass: HomeAssistant, thermostat_service: ThermostatService
) -> None:
    """The service resets omitted fields: the integration always sends them all."""
    thermostat_service.config = dict(CUSTOM_CONFIG)
    entry = await _add(hass, thermostat_service)

    await _climate_call(hass, entry, SERVICE_SET_PRESET_MODE, preset_mode="eco")

    assert thermostat_service.config == {**CUSTOM_CONFIG, "mode": "ECO"}
    assert thermostat_service.config_posts[-1] == {**CUSTOM_CONFIG, "mode": "ECO"}
    state = _climate(hass, entry)
    assert state.state == "heat"
    assert state.attributes[ATTR_PRESET_MODE] == "eco"
    assert state.attributes[ATTR_TEMPERATURE] == 19.0  # ECO regulates to eco_temp
    # 21.2 °C is above eco 19 + 0.8: the switch stays off.
    assert state.attributes[ATTR_HVAC_ACTION] == "idle"


async def test_auto_heats_below_the_band(
    hass: HomeAssistant, thermostat_service: ThermostatService
) -> None:
    """AUTO at 22 °C ± 0.5 with 21.2 °C: the switch goes on at the next loop run."""
    entry = await _add(hass, thermostat_service)
    await _climate_call(hass, entry, SERVICE_SET_PRESET_MODE, preset_mode="auto")
    assert _climate(hass, entry).attributes[ATTR_PRESET_MODE] == "auto"
    assert not thermostat_service.switch_on  # the relay waits for the control loop
    thermostat_service.control()
    await _coordinator(entry).async_refresh()
    await hass.async_block_till_done()
    assert thermostat_service.switch_on
    state = _climate(hass, entry)
    assert state.attributes[ATTR_HVAC_ACTION] == "heating"
    assert state.attributes[ATTR_PRESET_MODE] == "auto"


async def test_set_temperature_writes_the_presets_field(
    hass: HomeAssistant, thermostat_service: ThermostatService
) -> None:
    """AUTO: target_temp; ECO: eco_temp; the other fields stay."""
    thermostat_service.config = {**CUSTOM_CONFIG, "mode": "AUTO"}
    entry = await _add(hass, thermostat_service)
    await _climate_call(hass, entry, SERVICE_SET_TEMPERATURE, temperature=23.0)
    assert thermostat_service.config == {
        **CUSTOM_CONFIG,
        "mode": "AUTO",
        "target_temp": 23.0,
    }
    assert _climate(hass, entry).attributes[ATTR_TEMPERATURE] == 23.0

    await _climate_call(hass, entry, SERVICE_SET_PRESET_MODE, preset_mode="eco")
    await _climate_call(hass, entry, SERVICE_SET_TEMPERATURE, temperature=18.5)
    assert thermostat_service.config == {
        **CUSTOM_CONFIG,
        "mode": "ECO",
        "target_temp": 23.0,
        "eco_temp": 18.5,
    }
    assert _climate(hass, entry).attributes[ATTR_TEMPERATURE] == 18.5


async def test_off_and_on_again_restores_the_preset(
    hass: HomeAssistant, thermostat_service: ThermostatService
) -> None:
    """Off forces the switch off; heat (or turn_on) brings back the last preset."""
    thermostat_service.config = {**CUSTOM_CONFIG, "mode": "ON"}
    thermostat_service.control()
    entry = await _add(hass, thermostat_service)
    assert _climate(hass, entry).attributes[ATTR_HVAC_ACTION] == "heating"

    await _climate_call(hass, entry, SERVICE_SET_HVAC_MODE, hvac_mode="off")
    assert thermostat_service.config["mode"] == "OFF"
    thermostat_service.control()
    assert not thermostat_service.switch_on
    assert _climate(hass, entry).state == "off"

    await _climate_call(hass, entry, SERVICE_SET_HVAC_MODE, hvac_mode="heat")
    assert thermostat_service.config["mode"] == "ON"

    await _climate_call(hass, entry, SERVICE_TURN_OFF)
    assert thermostat_service.config["mode"] == "OFF"
    await _climate_call(hass, entry, SERVICE_TURN_ON)
    assert thermostat_service.config == {**CUSTOM_CONFIG, "mode": "ON"}


async def test_numbers_change_one_field(
    hass: HomeAssistant, thermostat_service: ThermostatService
) -> None:
    """Eco temperature and hysteresis: each write keeps every other field."""
    thermostat_service.config = dict(CUSTOM_CONFIG)
    entry = await _add(hass, thermostat_service)
    assert float(state_of(hass, entry, "number", "eco_temperature")) == 19.0
    assert float(state_of(hass, entry, "number", "hysteresis")) == 0.8

    for key, value, field in [
        ("eco_temperature", 20.5, "eco_temp"),
        ("hysteresis", 1.2, "hysteresis"),
    ]:
        await hass.services.async_call(
            "number",
            SERVICE_SET_VALUE,
            {ATTR_ENTITY_ID: entity_id(hass, entry, "number", key), ATTR_VALUE: value},
            blocking=True,
        )
        assert thermostat_service.config[field] == value
        assert float(state_of(hass, entry, "number", key)) == value
    assert thermostat_service.config == {
        **CUSTOM_CONFIG,
        "eco_temp": 20.5,
        "hysteresis": 1.2,
    }


async def test_refused_change_raises_and_changes_nothing(
    hass: HomeAssistant, thermostat_service: ThermostatService
) -> None:
    """Eco above target: the service answers 422; a translated error, config intact."""
    thermostat_service.config = dict(CUSTOM_CONFIG)
    entry = await _add(hass, thermostat_service)
    with pytest.raises(HomeAssistantError, match="422"):
        await hass.services.async_call(
            "number",
            SERVICE_SET_VALUE,
            {
                ATTR_ENTITY_ID: entity_id(hass, entry, "number", "eco_temperature"),
                ATTR_VALUE: 23,
            },
            blocking=True,
        )
    assert thermostat_service.config == CUSTOM_CONFIG


async def test_one_device_per_blu_sensor(
    hass: HomeAssistant, thermostat_service: ThermostatService
) -> None:
    """Each BLU sensor is a device below the service, with its four sensors."""
    entry = await _add(hass, thermostat_service)
    registry = dr.async_get(hass)
    service_device = registry.async_get_device_by_identifier(
        (DOMAIN, entry.entry_id), entry.entry_id
    )
    assert service_device is not None
    for sensor in thermostat_service.sensors.values():
        device = registry.async_get_device_by_identifier(
            (DOMAIN, f"{entry.entry_id}_{sensor.sensor_id}"), entry.entry_id
        )
        assert device is not None, sensor.sensor_name
        assert device.via_device_id == service_device.id
        assert device.model == "BLU H&T"
        prefix = f"{sensor.sensor_id}_"
        assert (
            float(state_of(hass, entry, "sensor", prefix + "temperature"))
            == sensor.temperature
        )
        assert (
            float(state_of(hass, entry, "sensor", prefix + "battery")) == sensor.battery
        )
        last_seen = datetime.fromisoformat(
            state_of(hass, entry, "sensor", prefix + "last_seen")
        )
        assert abs(last_seen - sensor.last_seen) < timedelta(seconds=1)
        humidity = state_of(hass, entry, "sensor", prefix + "humidity")
        if sensor.humidity is None:  # the buffer-tank sensor sends none
            assert humidity == STATE_UNKNOWN
        else:
            assert float(humidity) == sensor.humidity
    indoor = registry.async_get_device_by_identifier(
        (DOMAIN, f"{entry.entry_id}_94:b2:16:0b:88:01"), entry.entry_id
    )
    assert indoor is not None
    assert indoor.name == "Temp indoor"
    temperature = hass.states.get(
        entity_id(hass, entry, "sensor", "94:b2:16:0b:88:01_temperature")
    )
    assert temperature is not None
    assert temperature.name == "Temp indoor Temperature"


async def test_readings_follow_the_service(
    hass: HomeAssistant, thermostat_service: ThermostatService
) -> None:
    """A new reading shows on the next poll; the climate follows the indoor sensor."""
    entry = await _add(hass, thermostat_service)
    thermostat_service.set_reading("temp_indoor", temperature=20.4, humidity=51.0)
    await _coordinator(entry).async_refresh()
    await hass.async_block_till_done()
    assert (
        float(state_of(hass, entry, "sensor", "94:b2:16:0b:88:01_temperature")) == 20.4
    )
    assert float(state_of(hass, entry, "sensor", "94:b2:16:0b:88:01_humidity")) == 51.0
    assert _climate(hass, entry).attributes["current_temperature"] == 20.4


async def test_a_new_sensor_gets_its_device(
    hass: HomeAssistant, thermostat_service: ThermostatService
) -> None:
    """A BLU sensor paired later appears after the next poll."""
    entry = await _add(hass, thermostat_service)
    new = BluSensor(
        "94:b2:16:0b:88:09", "temp_bedroom", "209", 18.9, 60.0, 100, datetime.now(UTC)
    )
    thermostat_service.sensors[new.key] = new
    await _coordinator(entry).async_refresh()
    await hass.async_block_till_done()
    assert (
        float(state_of(hass, entry, "sensor", f"{new.sensor_id}_temperature")) == 18.9
    )


async def test_a_silent_sensor_keeps_its_last_seen(
    hass: HomeAssistant, thermostat_service: ThermostatService
) -> None:
    """Not heard for two hours: readings unavailable, last seen still shown."""
    entry = await _add(hass, thermostat_service)
    outdoor = thermostat_service.sensors["94:b2:16:0b:88:02"]
    outdoor.last_seen = datetime.now(UTC) - timedelta(hours=2)
    await _coordinator(entry).async_refresh()
    await hass.async_block_till_done()
    prefix = "94:b2:16:0b:88:02_"
    assert state_of(hass, entry, "sensor", prefix + "temperature") == STATE_UNAVAILABLE
    last_seen = datetime.fromisoformat(
        state_of(hass, entry, "sensor", prefix + "last_seen")
    )
    assert abs(last_seen - outdoor.last_seen) < timedelta(seconds=1)


INDOOR = "94:b2:16:0b:88:01_"


@pytest.mark.parametrize(
    ("break_it", "logged", "climate", "room", "indoor"),
    [
        # The Shelly relay gone: only the status fails; config and readings stay.
        (
            lambda service: setattr(service, "shelly_connected", False),
            "503",
            "off",
            21.2,
            "21.2",
        ),
        # The database down: status and readings fail; the config still comes.
        (
            lambda service: setattr(service, "database_up", False),
            "500",
            "off",
            None,
            STATE_UNAVAILABLE,
        ),
        # Everything answers HTML: the whole device is gone (controls: unknown).
        (
            lambda service: service.faults.inject(FaultKind.HTML),
            "HTML",
            STATE_UNKNOWN,
            None,
            STATE_UNAVAILABLE,
        ),
        (
            lambda service: service.faults.inject(
                FaultKind.TRUNCATED, paths={"/api/v1/latest"}
            ),
            "malformed JSON",
            "off",
            21.2,
            STATE_UNAVAILABLE,
        ),
    ],
)
async def test_failing_part_blanks_only_what_it_feeds(  # noqa: PLR0917 (fixtures and parameters)
    hass: HomeAssistant,
    thermostat_service: ThermostatService,
    caplog: pytest.LogCaptureFixture,
    break_it: object,
    logged: str,
    climate: str,
    room: float | None,
    indoor: str,
) -> None:
    """Shelly or database gone, HTML, truncated JSON: what still answers stays shown.

    One log line each time, and recovery.
    """
    entry = await _add(hass, thermostat_service)
    coordinator = _coordinator(entry)
    caplog.clear()
    assert callable(break_it)
    break_it(thermostat_service)
    for _ in range(3):
        await coordinator.async_refresh()
    await hass.async_block_till_done()
    state = _climate(hass, entry)
    assert state.state == climate
    assert state.attributes.get("current_temperature") == room
    assert state_of(hass, entry, "sensor", INDOOR + "temperature") == indoor
    lines = error_lines(caplog)
    assert len(lines) == 1, lines
    assert logged in lines[0]

    thermostat_service.shelly_connected = thermostat_service.database_up = True
    thermostat_service.faults.clear()
    with caplog.at_level(logging.INFO):
        await coordinator.async_refresh()
    await hass.async_block_till_done()
    assert _climate(hass, entry).state == "off"
    assert float(state_of(hass, entry, "sensor", INDOOR + "temperature")) == 21.2
    assert len(error_lines(caplog)) == 1


async def test_refused_token_starts_reauth(
    hass: HomeAssistant, thermostat_service: ThermostatService
) -> None:
    """401 on a poll: unavailable and a reauth flow."""
    entry = await _add(hass, thermostat_service)
    thermostat_service.faults.token = "x"
    await _coordinator(entry).async_refresh()
    await hass.async_block_till_done()
    assert _climate(hass, entry).state == STATE_UNKNOWN
    assert state_of(hass, entry, "sensor", INDOOR + "temperature") == STATE_UNAVAILABLE
    assert any(
        flow["context"]["source"] == SOURCE_REAUTH
        for flow in hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    )


async def test_diagnostics_redact_the_url(
    hass: HomeAssistant, thermostat_service: ThermostatService
) -> None:
    """The URL is redacted; the thermostat's state is in."""
    entry = await _add(hass, thermostat_service)
    diagnostics = await async_get_config_entry_diagnostics(hass, entry)
    assert diagnostics["entry"]["data"]["url"] == "**REDACTED**"
    assert json.loads(json.dumps(diagnostics)) == diagnostics  # plain JSON
    assert thermostat_service.url not in str(diagnostics)
    assert diagnostics["data"]["status"]["config"]["mode"] == "OFF"
    assert "94:b2:16:0b:88:01" in diagnostics["data"]["readings"]
