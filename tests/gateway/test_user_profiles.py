"""User profiles: offered in the meter flow, read end to end, and repairs for broken files.

The valid profile used here is the worked example of docs/profiles.md, taken
from the page itself: if the documented example stopped working, this test
would say so. Each test gets its own configuration folder, so profile files
never leak into other tests.
"""

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
import itertools
import json
from pathlib import Path
import re
import time
from typing import Any

from homeassistant.config_entries import ConfigEntry, ConfigEntryState
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import Event, EventStateChangedData, HomeAssistant, callback
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import entity_registry as er, issue_registry as ir
from homeassistant.helpers.event import async_track_state_change_event
from homeassistant.setup import async_setup_component
import pytest

from custom_components.energy_meters.const import DOMAIN
from custom_components.energy_meters.gateway.profiles import (
    broken_profile_issue_id,
    user_profile_dir,
)
from custom_components.energy_meters.meter_descriptions import DESCRIPTIONS
from custom_components.energy_meters.meterlib.model import Quantity
from custom_components.energy_meters.meterlib.profiles import (
    BUILTIN_PROFILE_DIR,
    builtin_profiles,
    load_profile_file,
)
from custom_components.energy_meters.repairs import missing_profile_issue_id
from simulator.meter import SimulatedMeter
from simulator.server import ModbusSimulator
from tests.helpers import async_add_gateway

DOCS = Path(__file__).parents[2] / "docs" / "profiles.md"
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
            checked.add(description.quantity)
            if not description.entity_registry_enabled_default:
                registered = registry.async_get(entity_id)
                assert registered is not None, entity_id
                assert registered.disabled_by is er.RegistryEntryDisabler.INTEGRATION
                continue
            state = hass.states.get(entity_id)
            assert state is not None, entity_id
            assert float(state.state) == round(
                served[description.quantity], description.digits
            ), entity_id
        assert checked == profile.quantities
        assert await hass.config_entries.async_unload(entry.entry_id)
        await hass.async_block_till_done()


# --- A broken profile must not cost a meter its counters ------------------------------

TRANSLATIONS = Path(__file__).parents[2] / "custom_components" / DOMAIN / "translations"
ENERGY = "sensor.heat_pump_energy_import"
MY_WAGO = (
    (BUILTIN_PROFILE_DIR / "wago_879_30xx.yaml")
    .read_text(encoding="utf-8")
    .replace("id: wago_879_30xx", "id: my_wago")
    .replace("name: WAGO 879-30x0", "name: My WAGO")
)


def _counters(hass_storage: dict[str, Any], entry: ConfigEntry) -> dict[str, Any]:
    """The energy import counter of the entry's only meter, as saved."""
    (subentry_id,) = entry.subentries
    saved = hass_storage[f"{DOMAIN}.{entry.entry_id}.counters"]["data"]
    counter: dict[str, Any] = saved[subentry_id][str(Quantity.ENERGY_IMPORT_TOTAL)]
    return counter


async def _poll(hass: HomeAssistant, entry: ConfigEntry, times: int = 1) -> None:
    for _ in range(times):
        await entry.runtime_data.async_refresh()
        await hass.async_block_till_done()


def _energy(hass: HomeAssistant) -> float:
    state = hass.states.get(ENERGY)
    assert state is not None
    return float(state.state)


async def _reload(hass: HomeAssistant, entry: ConfigEntry) -> None:
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED


def _assert_translated(issue: ir.IssueEntry) -> None:
    """The issue's text exists in English and German and uses only what it is given."""
    given = set(issue.translation_placeholders or {})
    for language in ("en", "de"):
        texts = json.loads((TRANSLATIONS / f"{language}.json").read_text("utf-8"))
        text = texts["issues"][issue.translation_key]
        for part in ("title", "description"):
            used = set(re.findall(r"\{(\w+)\}", text[part]))
            assert used <= given, (language, issue.translation_key, part)


async def test_a_broken_profile_keeps_the_counters_of_a_swapped_meter(
    hass: HomeAssistant, simulator: ModbusSimulator, hass_storage: dict[str, Any]
) -> None:
    """Break and fix the profile of a replaced meter: no decrease, offset kept.

    The meter was swapped (it counts from 5 kWh, published continues from the
    old meter's level through an offset). While its profile file has a YAML
    error the meter is unavailable and a repair names it; its counters stay
    in the store. With the file fixed it continues from the stored counter:
    Home Assistant never sees a decrease, which it would book as a reset.
    """
    path = _write(hass, "my_wago.yaml", MY_WAGO)
    entry = await async_add_gateway(
        hass, simulator, name="Heat pump", profile="my_wago"
    )
    (subentry_id,) = entry.subentries
    published: list[float] = []

    def _record(event: Event[EventStateChangedData]) -> None:
        state = event.data["new_state"]
        if state is not None and state.state not in (STATE_UNAVAILABLE, "unknown"):
            published.append(float(state.state))

    unsubscribe = async_track_state_change_event(hass, ENERGY, _record)
    meter = simulator.meters[0]
    await _poll(hass, entry)  # a second reading agrees: the counter is published
    meter.set_value(Quantity.ENERGY_IMPORT_TOTAL, 5.0)  # the new meter
    await _poll(hass, entry, 3)
    level = _energy(hass)
    assert level > 1000, published  # the old meter's level, continued

    path.write_text(MY_WAGO.replace("registers:", "registers: [unclosed"), "utf-8")
    assert await hass.config_entries.async_unload(entry.entry_id)
    swapped = _counters(hass_storage, entry)  # as the meter left it
    assert swapped["offset"] == pytest.approx(level - 5.0)
    assert swapped["published"] == pytest.approx(level)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert hass.states.get(ENERGY).state == STATE_UNAVAILABLE  # type: ignore[union-attr]
    issues = ir.async_get(hass)
    assert issues.async_get_issue(DOMAIN, broken_profile_issue_id("my_wago.yaml"))
    meter_issue = issues.async_get_issue(
        DOMAIN, missing_profile_issue_id(entry.entry_id, subentry_id)
    )
    assert meter_issue is not None
    assert meter_issue.translation_placeholders == {
        "meter": "Heat pump",
        "profile": "my_wago",
        "gateway": entry.title,
    }
    _assert_translated(meter_issue)
    await _poll(hass, entry, 2)
    await _reload(hass, entry)  # a restart with the file still broken
    assert await hass.config_entries.async_unload(entry.entry_id)
    assert _counters(hass_storage, entry) == swapped  # nothing forgotten, nothing moved
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()

    path.write_text(MY_WAGO, "utf-8")
    await _reload(hass, entry)
    assert not [
        issue_id
        for domain, issue_id in issues.issues
        if domain == DOMAIN
        and issue_id.startswith(("broken_profile", "missing_profile"))
    ]
    await _poll(hass, entry, 2)
    assert _energy(hass) == pytest.approx(level)
    meter.set_value(Quantity.ENERGY_IMPORT_TOTAL, 5.005)  # within one poll's reach
    await _poll(hass, entry)
    assert _energy(hass) == pytest.approx(level + 0.005)
    unsubscribe()
    decreases = [(a, b) for a, b in itertools.pairwise(published) if b < a]
    assert not decreases, decreases
    assert await hass.config_entries.async_unload(entry.entry_id)
    assert _counters(hass_storage, entry)["offset"] == pytest.approx(swapped["offset"])


# --- Hostile files: refused at once, off the event loop, nothing else harmed ---------

BILLION_LAUGHS = (
    'lol: &lol "lol"\n'
    + "".join(
        f"lol{level}: &lol{level} [{', '.join([f'*lol{level - 1}' if level > 1 else '*lol'] * 9)}]\n"
        for level in range(1, 10)
    )
    + "id: laughs\nname: Laughs\nmanufacturer: M\nmodel: L\nsource: s\n"
    + "defaults: {not_available: *lol9}\n"
    + "registers:\n  power_total: {address: 10, unit: W}\n"
).encode()
_HEADER = "id: {id}\nname: {name}\nmanufacturer: M\nmodel: D\nsource: s\nregisters:\n"
HOSTILE_FILES: dict[str, tuple[bytes, str]] = {
    # 9**9 "lol"s from 9 aliases of 9 aliases …: a few hundred bytes.
    "billion_laughs": (BILLION_LAUGHS, "broken_profile_too_many_values"),
    # Saved in Latin-1: "é" is the single byte 0xE9.
    "not_utf8": (
        (
            _HEADER.format(id="cafe", name="Café")
            + "  power_total: {address: 1, unit: W}\n"
        ).encode("latin-1"),
        "broken_profile_not_utf8",
    ),
    # The same register line 10,000 times: YAML would keep the last one.
    "duplicate_keys": (
        (
            _HEADER.format(id="dupes", name="Dupes")
            + "  power_total: {address: 1, unit: W}\n" * 10_000
        ).encode(),
        "broken_profile_duplicate_key",
    ),
    # A valid profile padded to 2 MiB: never read, let alone parsed.
    "oversized": (
        (
            _HEADER.format(id="huge", name="Huge")
            + "  power_total: {address: 1, unit: W}\n"
            + ("# " + "x" * 1021 + "\n") * 2048
        ).encode(),
        "broken_profile_too_large",
    ),
}


@dataclass
class LoopWatch:
    """How responsive the event loop stayed, and when an issue first showed."""

    max_gap_s: float = 0.0
    issue_after_s: float | None = None
    started: float = field(default_factory=time.monotonic)


@asynccontextmanager
async def _watch_loop(hass: HomeAssistant, issue_id: str) -> AsyncIterator[LoopWatch]:
    """A ticker sleeping 10 ms at a time: a long gap between ticks is a blocked loop.

    The issue's time is taken from the issue registry's own event.
    """
    watch = LoopWatch()

    @callback
    def _issue_created(event: Event[ir.EventIssueRegistryUpdatedData]) -> None:
        if watch.issue_after_s is None and event.data["issue_id"] == issue_id:
            watch.issue_after_s = time.monotonic() - watch.started

    async def tick() -> None:
        last = time.monotonic()
        while True:
            await asyncio.sleep(0.01)
            now = time.monotonic()
            watch.max_gap_s = max(watch.max_gap_s, now - last)
            last = now

    unsubscribe = hass.bus.async_listen(
        ir.EVENT_REPAIRS_ISSUE_REGISTRY_UPDATED, _issue_created
    )
    ticker = asyncio.get_running_loop().create_task(tick())
    try:
        yield watch
    finally:
        ticker.cancel()
        with pytest.raises(asyncio.CancelledError):
            await ticker
        unsubscribe()


@pytest.mark.parametrize("case", list(HOSTILE_FILES))
async def test_a_hostile_profile_file_is_refused_without_stalling(
    hass: HomeAssistant,
    simulator: ModbusSimulator,
    hass_client: Any,
    record_property: Callable[[str, object], None],
    case: str,
) -> None:
    """Billion laughs, not UTF-8, 10,000 duplicate keys, 2 MiB: a repair within a second.

    Through the real HTTP API, as the frontend does it: the meter form opens
    (no 500) with the built-in and the good user profiles, the event loop is
    never blocked for more than 0.1 s, the file's repair issue is up within a
    second and says why in its own (translated) words, and the gateway set up
    from that form is loaded and read.
    """
    content, translation_key = HOSTILE_FILES[case]
    folder = user_profile_dir(hass)
    folder.mkdir(parents=True)
    (folder / f"{case}.yaml").write_bytes(content)
    _write(hass, "example_x1.yaml", _example_text())
    assert await async_setup_component(hass, "config", {})
    client = await hass_client()
    issue_id = broken_profile_issue_id(f"{case}.yaml")
    registry = ir.async_get(hass)

    async with _watch_loop(hass, issue_id) as watch:
        response = await client.post(
            "/api/config/config_entries/flow", json={"handler": DOMAIN}
        )
        assert response.status == 200, await response.text()
        flow_id = (await response.json())["flow_id"]
        url = f"/api/config/config_entries/flow/{flow_id}"
        response = await client.post(url, json={"next_step_id": "gateway"})
        assert response.status == 200, await response.text()
        response = await client.post(
            url,
            json={
                "host": "127.0.0.1",
                "port": simulator.port,
                "framing": "tcp",
                "timeout": 1,
            },
        )
        assert response.status == 200, await response.text()
        form = await response.json()
        await hass.async_block_till_done()

    assert form["step_id"] == "meter"
    (profile_field,) = (f for f in form["data_schema"] if f["name"] == "profile")
    offered = {o["value"] for o in profile_field["selector"]["select"]["options"]}
    assert {"example_x1", *builtin_profiles()} <= offered
    issue = registry.async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.translation_key == translation_key
    assert (issue.translation_placeholders or {})["file"] == (
        f"energy_meters/profiles/{case}.yaml"
    )
    _assert_translated(issue)
    assert watch.issue_after_s is not None
    assert watch.issue_after_s < 1.0, watch
    assert watch.max_gap_s < 0.1, watch

    response = await client.post(
        url, json={"unit_id": 1, "profile": "wago_879_30xx", "name": "Heat pump"}
    )
    assert response.status == 200, await response.text()
    assert (await response.json())["type"] == "create_entry"
    await hass.async_block_till_done()
    (entry,) = hass.config_entries.async_entries(DOMAIN)
    assert entry.state is ConfigEntryState.LOADED
    power = hass.states.get("sensor.heat_pump_power")
    assert power is not None
    assert power.state != STATE_UNAVAILABLE
    record_property("repair_after_s", round(watch.issue_after_s, 3))
    record_property("max_loop_gap_s", round(watch.max_gap_s, 3))
