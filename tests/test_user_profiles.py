"""User profiles: offered in the meter flow, read end to end, and repairs for broken files.

The valid profile used here is the worked example of docs/profiles.md, taken
from the page itself: if the documented example stopped working, this test
would say so. Each test gets its own configuration folder, so profile files
never leak into other tests.
"""

from pathlib import Path
import re
from typing import Any

from homeassistant.config_entries import ConfigEntry, ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import entity_registry as er, issue_registry as ir
import pytest

from custom_components.energy_meters.const import DOMAIN
from custom_components.energy_meters.meterlib.profiles import (
    builtin_profiles,
    load_profile_file,
)
from custom_components.energy_meters.profiles import (
    broken_profile_issue_id,
    user_profile_dir,
)
from custom_components.energy_meters.sensor import DESCRIPTIONS
from simulator.meter import SimulatedMeter
from simulator.server import ModbusSimulator

from .helpers import async_add_gateway

DOCS = Path(__file__).parent.parent / "docs" / "profiles.md"
EXAMPLE = re.search(
    r"<!-- worked-example:start -->\s*```yaml\n(.*?)```\s*<!-- worked-example:end -->",
    DOCS.read_text(encoding="utf-8"),
    re.DOTALL,
)
BROKEN = """
id: broken_meter
name: Broken meter
manufacturer: Me
model: B1
source: my notes
registers:
  power_total: {address: 10, unit: W, data_type: float16}
"""


@pytest.fixture
def hass_config_dir(hass_tmp_config_dir: str) -> str:
    """A configuration folder of this test's own, for its profile files."""
    return hass_tmp_config_dir


def _write(hass: HomeAssistant, name: str, text: str) -> Path:
    folder = user_profile_dir(hass)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def _example_text() -> str:
    assert EXAMPLE is not None, "docs/profiles.md lost its worked example markers"
    return EXAMPLE.group(1)


async def _meter_form(hass: HomeAssistant, port: int) -> Any:
    """The config flow up to the meter form, for a gateway on 127.0.0.1."""
    result: Any = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": "user"}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "gateway"}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {"host": "127.0.0.1", "port": port, "framing": "tcp", "timeout": 1},
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "meter"
    return result


def _offered_profiles(form: Any) -> dict[str, str]:
    """The profile dropdown of a meter form: id -> label."""
    for key, selector in form["data_schema"].schema.items():
        if key == "profile":
            return {
                option["value"]: option["label"]
                for option in selector.config["options"]
            }
    msg = "the meter form has no profile field"
    raise AssertionError(msg)


async def test_broken_file_raises_a_repair_naming_file_and_key(
    hass: HomeAssistant, simulator: ModbusSimulator
) -> None:
    """The integration still sets up; the issue says which file, which key, why."""
    _write(hass, "broken.yaml", BROKEN)
    entry = await async_add_gateway(hass, simulator)
    assert entry.state is ConfigEntryState.LOADED

    issue = ir.async_get(hass).async_get_issue(
        DOMAIN, broken_profile_issue_id("broken.yaml")
    )
    assert issue is not None
    assert issue.translation_key == "broken_profile"
    assert issue.severity is ir.IssueSeverity.WARNING
    assert not issue.is_fixable
    placeholders = issue.translation_placeholders or {}
    assert placeholders["file"] == "energy_meters/profiles/broken.yaml"
    assert placeholders["key"] == "registers.power_total.data_type"
    assert "float16" in placeholders["reason"]
    assert "float32" in placeholders["reason"]


async def test_the_issue_goes_when_the_file_is_fixed_or_removed(
    hass: HomeAssistant, simulator: ModbusSimulator
) -> None:
    """Fixed files lose their issue on the next load; deleted files too."""
    path = _write(hass, "broken.yaml", BROKEN)
    _write(hass, "also_broken.yaml", "id: [unclosed\n")
    entry = await async_add_gateway(hass, simulator)
    issues = ir.async_get(hass)
    assert issues.async_get_issue(DOMAIN, broken_profile_issue_id("broken.yaml"))
    assert issues.async_get_issue(DOMAIN, broken_profile_issue_id("also_broken.yaml"))

    path.write_text(BROKEN.replace("float16", "float32"), encoding="utf-8")
    (path.parent / "also_broken.yaml").unlink()
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()

    assert (
        issues.async_get_issue(DOMAIN, broken_profile_issue_id("broken.yaml")) is None
    )
    assert (
        issues.async_get_issue(DOMAIN, broken_profile_issue_id("also_broken.yaml"))
        is None
    )
    form = await hass.config_entries.subentries.async_init(
        (entry.entry_id, "meter"), context={"source": "user"}
    )
    assert form["type"] is FlowResultType.FORM
    assert "broken_meter" in _offered_profiles(form)


async def test_opening_the_meter_form_reports_a_broken_file(
    hass: HomeAssistant, simulator: ModbusSimulator
) -> None:
    """Before any gateway exists, the meter form is where a missing profile is noticed."""
    _write(
        hass,
        "dupe.yaml",
        BROKEN.replace("broken_meter", "wago_879_30xx").replace("float16", "float32"),
    )
    form = await _meter_form(hass, simulator.port)
    offered = _offered_profiles(form)
    assert set(builtin_profiles()) <= set(offered)  # every built-in meter is offered
    assert offered["wago_879_30xx"] == "WAGO 879-30x0"  # the built-in one wins
    issue = ir.async_get(hass).async_get_issue(
        DOMAIN, broken_profile_issue_id("dupe.yaml")
    )
    assert issue is not None
    assert (issue.translation_placeholders or {})["key"] == "id"


@pytest.mark.usefixtures("socket_enabled")
async def test_the_documented_example_works_end_to_end(hass: HomeAssistant) -> None:
    """Docs example → dropdown → flow → entry → entity states equal the served values."""
    path = _write(hass, "example_x1.yaml", _example_text())
    profile = load_profile_file(path)
    meter = SimulatedMeter(profile, unit_id=1, seed=7)
    meter.freeze()
    async with ModbusSimulator([meter], host="127.0.0.1") as sim:
        form = await _meter_form(hass, sim.port)
        assert _offered_profiles(form)["example_x1"] == "Example X1"
        result = await hass.config_entries.flow.async_configure(
            form["flow_id"], {"unit_id": 1, "profile": "example_x1", "name": "Example"}
        )
        assert result["type"] is FlowResultType.CREATE_ENTRY, result
        await hass.async_block_till_done()
        entry: ConfigEntry = result["result"]
        served = meter.served_values()
        registry = er.async_get(hass)
        subentry_id = next(iter(entry.subentries))
        checked = set()
        for description in DESCRIPTIONS:
            if description.quantity not in profile.quantities:
                continue
            entity_id = registry.async_get_entity_id(
                "sensor", DOMAIN, f"{entry.entry_id}_{subentry_id}_{description.key}"
            )
            assert entity_id is not None, description.key
            state = hass.states.get(entity_id)
            assert state is not None, entity_id
            assert float(state.state) == round(
                served[description.quantity], description.digits
            ), entity_id
            checked.add(description.quantity)
        assert checked == profile.quantities
        assert await hass.config_entries.async_unload(entry.entry_id)
        await hass.async_block_till_done()
