"""The automation blueprints: loaded by Home Assistant's blueprint integration, and fired.

The blueprints are copied into a temporary configuration folder, as a user
importing them would have them, and used by an automation. What they act on
(a notification, switches) is not this integration's code, so those services
are recorded rather than run.
"""

from datetime import timedelta
from pathlib import Path
import shutil

from homeassistant.components.automation.helpers import async_get_blueprints
from homeassistant.const import STATE_ON
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    async_fire_time_changed,
    async_mock_service,
)

BLUEPRINTS = (
    Path(__file__).parent.parent / "blueprints" / "automation" / "energy_meters"
)
LOAD_BLUEPRINT = "energy_meters/load_above_threshold.yaml"
SHED_BLUEPRINT = "energy_meters/shed_load_on_low_capacity.yaml"
POWER = "sensor.heat_pump_meter_power"
CAPACITY = "sensor.site_available_capacity"


@pytest.fixture
def hass_config_dir(hass_tmp_config_dir: str) -> str:
    """A configuration folder of its own, so the blueprints can be installed."""
    return hass_tmp_config_dir


@pytest.fixture(autouse=True)
def install_blueprints(hass: HomeAssistant) -> None:
    """Put the repository's blueprints where Home Assistant looks for them."""
    target = Path(hass.config.path("blueprints", "automation", "energy_meters"))
    target.mkdir(parents=True)
    for blueprint in BLUEPRINTS.glob("*.yaml"):
        shutil.copy(blueprint, target / blueprint.name)


def _power(hass: HomeAssistant, watts: float) -> None:
    hass.states.async_set(
        POWER, str(watts), {"unit_of_measurement": "W", "device_class": "power"}
    )


def _capacity(hass: HomeAssistant, kilowatts: float, unit: str = "kW") -> None:
    value = kilowatts * 1000 if unit == "W" else kilowatts
    hass.states.async_set(
        CAPACITY, str(value), {"unit_of_measurement": unit, "device_class": "power"}
    )


async def _wait(hass: HomeAssistant, delta: timedelta) -> None:
    async_fire_time_changed(hass, dt_util.utcnow() + delta)
    await hass.async_block_till_done()


async def test_every_blueprint_is_valid(hass: HomeAssistant) -> None:
    """Home Assistant's own schema accepts both, with every input declared."""
    blueprints = async_get_blueprints(hass)
    names = sorted(path.name for path in BLUEPRINTS.glob("*.yaml"))
    assert names == ["load_above_threshold.yaml", "shed_load_on_low_capacity.yaml"]
    for name in names:
        blueprint = await blueprints.async_get_blueprint(f"energy_meters/{name}")
        assert blueprint.domain == "automation"
        assert blueprint.metadata["source_url"].endswith(name)


async def test_load_above_threshold_for_a_duration(hass: HomeAssistant) -> None:
    """A peak shorter than the duration is ignored; a lasting load fires once."""
    calls = async_mock_service(hass, "notify", "household")
    _power(hass, 500)
    assert await async_setup_component(
        hass,
        "automation",
        {
            "automation": {
                "id": "load_alert",
                "alias": "Load alert",
                "use_blueprint": {
                    "path": LOAD_BLUEPRINT,
                    "input": {
                        "power_sensor": POWER,
                        "threshold": 2000,
                        "duration": {"minutes": 5},
                        "actions": [
                            {
                                "action": "notify.household",
                                "data": {"message": "The heat pump draws a lot"},
                            }
                        ],
                    },
                },
            }
        },
    )
    await hass.async_block_till_done()
    automation = hass.states.get("automation.load_alert")
    assert automation is not None
    assert automation.state == STATE_ON

    _power(hass, 2600)  # a short peak
    await _wait(hass, timedelta(minutes=2))
    _power(hass, 900)
    await _wait(hass, timedelta(minutes=10))
    assert calls == []

    _power(hass, 2600)  # a lasting load
    await _wait(hass, timedelta(minutes=4))
    assert calls == []
    await _wait(hass, timedelta(minutes=6))
    assert len(calls) == 1
    assert calls[0].data == {"message": "The heat pump draws a lot"}


async def test_shed_load_when_capacity_runs_low(hass: HomeAssistant) -> None:
    """Below the margin the loads go off and the further actions run."""
    turned_off = async_mock_service(hass, "homeassistant", "turn_off")
    notified = async_mock_service(hass, "notify", "household")
    _capacity(hass, 6.0)
    assert await async_setup_component(
        hass,
        "automation",
        {
            "automation": {
                "id": "shed_ev",
                "alias": "Shed EV",
                "use_blueprint": {
                    "path": SHED_BLUEPRINT,
                    "input": {
                        "capacity_sensor": CAPACITY,
                        "margin": 1.5,
                        "loads": ["switch.ev_charger", "switch.sauna"],
                        "extra_actions": [
                            {
                                "action": "notify.household",
                                "data": {"message": "Loads shed"},
                            }
                        ],
                    },
                },
            }
        },
    )
    await hass.async_block_till_done()
    automation = hass.states.get("automation.shed_ev")
    assert automation is not None
    assert automation.state == STATE_ON

    _capacity(hass, 2.0)  # less spare, still above the margin
    await hass.async_block_till_done()
    assert turned_off == []

    _capacity(hass, 1.2)
    await hass.async_block_till_done()
    assert len(turned_off) == 1
    assert turned_off[0].data["entity_id"] == ["switch.ev_charger", "switch.sauna"]
    assert [call.data for call in notified] == [{"message": "Loads shed"}]


async def test_shed_load_compares_a_sensor_in_watts_in_kilowatts(
    hass: HomeAssistant,
) -> None:
    """The picker offers power sensors in W too: 1200 W is 1.2 kW, below 1.5 kW."""
    turned_off = async_mock_service(hass, "homeassistant", "turn_off")
    _capacity(hass, 6.0, unit="W")
    assert await async_setup_component(
        hass,
        "automation",
        {
            "automation": {
                "id": "shed_ev",
                "alias": "Shed EV",
                "use_blueprint": {
                    "path": SHED_BLUEPRINT,
                    "input": {
                        "capacity_sensor": CAPACITY,
                        "margin": 1.5,
                        "loads": ["switch.ev_charger"],
                    },
                },
            }
        },
    )
    await hass.async_block_till_done()
    _capacity(hass, 2.0, unit="W")  # 2000 W: above the margin, not below 1.5 W
    await hass.async_block_till_done()
    assert turned_off == []
    _capacity(hass, 1.2, unit="W")
    await hass.async_block_till_done()
    assert len(turned_off) == 1


async def test_shed_load_without_further_actions(hass: HomeAssistant) -> None:
    """The further actions are optional: the loads still go off."""
    turned_off = async_mock_service(hass, "homeassistant", "turn_off")
    _capacity(hass, 6.0)
    assert await async_setup_component(
        hass,
        "automation",
        {
            "automation": {
                "id": "shed_ev",
                "alias": "Shed EV",
                "use_blueprint": {
                    "path": SHED_BLUEPRINT,
                    "input": {
                        "capacity_sensor": CAPACITY,
                        "loads": ["switch.ev_charger"],
                        "delay": {"seconds": 30},
                    },
                },
            }
        },
    )
    await hass.async_block_till_done()
    _capacity(hass, 0.4)  # below the default margin of 1 kW
    await hass.async_block_till_done()
    assert turned_off == []  # waits for the delay
    await _wait(hass, timedelta(seconds=31))
    assert len(turned_off) == 1
    assert turned_off[0].data["entity_id"] == ["switch.ev_charger"]
