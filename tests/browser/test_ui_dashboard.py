"""The demo's set-up in the real frontend: its dashboard, a blueprint, the German UI.

One Home Assistant for the module, set up as `scripts/develop` does (the simulated
heat-pump meter running 20 times faster than real time, the heat-pump and thermostat
services, the dashboard of dashboards/), then looked at in Chromium: the dashboard
in English, an automation made from the project's blueprint, and, after switching
Home Assistant and the user to German, the flows, the entity names and the German
dashboard. Screenshots go to tests/browser/artifacts/dashboard/; with
ENERGY_METERS_DOCS_SCREENSHOTS=1 the documentation's ones are written to docs/images.
"""

from collections.abc import Iterator
from pathlib import Path
import re
import sys
from typing import Any

from playwright.sync_api import Browser, expect
import pytest
import yaml

from devtools.companions import (
    KIND_HEAT_PUMP,
    KIND_THERMOSTAT,
    CompanionService,
    set_up_companions,
    start_companion_services,
)
from devtools.dashboard import (
    DASHBOARD_URL_PATH,
    as_shown_by_default,
    dashboard_for,
    install_dashboard,
    load_dashboard,
    texts,
)
from devtools.demo import DEMO_SIMULATOR_ARGS
from devtools.ha_bootstrap import (
    REPO_ROOT,
    Gateway,
    Meter,
    Stack,
    add_gateway_with_meter,
    config_entries,
    free_port,
    wait_for_live_values,
)

from .harness import (
    ACCOUNT,
    Tab,
    artifacts_root,
    browser_tab,
    docs_screenshots_wanted,
    home_assistant,
    websocket,
)
from .ui import (
    HomeAssistantUI,
    Screenshots,
    Strings,
    eventually,
    numbers,
    template_pattern,
    texts_of,
    untranslated,
    wait_until,
)

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.timeout(300)]

METER = Meter(name="Heat pump meter", unit_id=1, profile="wago_879_30xx")
GERMAN_DASHBOARD_PATH = f"{DASHBOARD_URL_PATH}-de"
DASHBOARD_VIEWPORT = {"width": 1400, "height": 1600}  # as devtools/screenshot.py
BLUEPRINT = (
    REPO_ROOT
    / "blueprints"
    / "automation"
    / "energy_meters"
    / "load_above_threshold.yaml"
)
DE = Strings("de")


class _BlueprintLoader(yaml.SafeLoader):
    """Reads blueprint files, whose `!input` tags plain YAML does not know."""


_BlueprintLoader.add_constructor(
    "!input",
    lambda loader, node: loader.construct_scalar(node),  # type: ignore[arg-type]
)


def _blueprint_name(path: Path) -> str:
    data = yaml.load(path.read_text(encoding="utf-8"), Loader=_BlueprintLoader)  # noqa: S506 - SafeLoader
    return str(data["blueprint"]["name"])


# --- fixtures ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def services(module_folder: Path) -> Iterator[list[CompanionService]]:
    """The demo's fake heat-pump and thermostat services."""
    wanted = [
        CompanionService(KIND_HEAT_PUMP, free_port(), "Heat pump"),
        CompanionService(KIND_THERMOSTAT, free_port(), "Thermostat"),
    ]
    process = start_companion_services(
        sys.executable,
        host="127.0.0.1",
        heatpump_port=wanted[0].port,
        thermostat_port=wanted[1].port,
        log_path=module_folder / "services.log",
    )
    try:
        yield wanted
    finally:
        process.stop(timeout=10)


@pytest.fixture(scope="module")
def stack(module_folder: Path, services: list[CompanionService]) -> Iterator[Stack]:
    """Home Assistant set up as the demo: the meter, both services, the dashboard."""
    with home_assistant(module_folder, simulator_args=DEMO_SIMULATOR_ARGS) as running:
        add_gateway_with_meter(
            running.api,
            Gateway(host=running.simulator_host, port=running.simulator_port),
            METER,
        )
        wait_for_live_values(running.api, METER.name, running.home_assistant)
        set_up_companions(
            running.api, services, "127.0.0.1", "sensor.heat_pump_meter_power"
        )
        assert install_dashboard(running.api), "the dashboard was there already"
        yield running


@pytest.fixture(scope="module")
def shots() -> Screenshots:
    """This module's screenshots."""
    return Screenshots(artifacts_root() / "dashboard", docs_screenshots_wanted())


@pytest.fixture(scope="module")
def tab(browser: Browser, stack: Stack, shots: Screenshots) -> Iterator[Tab]:
    """The English tab (a fresh context, locale en-US)."""
    with browser_tab(
        browser, stack, language="en", shots=shots, viewport=DASHBOARD_VIEWPORT
    ) as opened:
        yield opened


@pytest.fixture
def ui(tab: Tab) -> HomeAssistantUI:
    """The English tab, logged in."""
    tab.ui.ensure_logged_in(ACCOUNT)
    tab.ui.close_dialogs()
    return tab.ui


# --- i. the dashboard ----------------------------------------------------------------------


def _dashboard(ui: HomeAssistantUI, title: str) -> list[str]:
    """Open a dashboard from the sidebar; its texts once its cards show values."""
    ui.sidebar(title)
    root = ui.page.locator("hui-root")
    expect(root).to_be_visible()
    # The cards render as their entities' states arrive; the charts draw a moment later.
    wait_until(
        ui.page,
        lambda: len(numbers(texts_of(root))) > 10,
        timeout=30,
        what="values on the cards",
    )
    ui.page.wait_for_timeout(3000)
    return texts_of(root)


def _no_error_cards(ui: HomeAssistantUI, shown: list[str]) -> None:
    page = ui.page
    assert page.locator("hui-error-card").count() == 0, [
        texts_of(card) for card in page.locator("hui-error-card").all()
    ]
    assert page.locator("hui-warning").count() == 0, [
        texts_of(card) for card in page.locator("hui-warning").all()
    ]
    problems = (ui.words.configuration_error, ui.words.entity_not_available)
    assert not [t for t in shown if any(p in t for p in problems)], shown


def test_the_dashboard_shows_live_values_without_errors(
    ui: HomeAssistantUI, shots: Screenshots
) -> None:
    """Every card renders, with its title, and the values move."""
    config = load_dashboard()
    first = _dashboard(ui, str(config["title"]))
    ui.shot("dashboard-en")
    _no_error_cards(ui, first)
    shown_by_default = as_shown_by_default(config)
    missing = [t for t in texts(shown_by_default["views"]) if t not in first]
    assert not missing, f"card titles not shown: {missing}"

    root = ui.page.locator("hui-root")
    before = numbers(first)
    later = wait_until(
        ui.page,
        lambda: (now := numbers(texts_of(root))) != before and now,
        timeout=60,
        what="a value on the dashboard to change",
        interval_ms=2000,
    )
    assert later != before
    shots.for_docs(ui.page, "dashboard-en.png")
    shots.for_docs(ui.page, "dashboard.png")


# --- j. an automation from the project's blueprint -----------------------------------------


def _tab(ui: HomeAssistantUI, name: str) -> None:
    """Click a tab of a settings page (Automations, Scenes, Scripts, Blueprints)."""
    ui.page.locator("hass-tabs-subpage ha-tab").filter(has_text=name).first.click()


def test_an_automation_made_from_a_blueprint(ui: HomeAssistantUI, stack: Stack) -> None:
    """Blueprints -> "load stays above a threshold" -> a sensor, an action -> Save."""
    name = _blueprint_name(BLUEPRINT)
    page = ui.page
    ui.sidebar(ui.words.settings)
    page.locator("ha-config-dashboard").get_by_text(
        ui.words.automations_and_scenes, exact=True
    ).first.click()
    _tab(ui, ui.words.blueprints)
    overview = page.locator("ha-blueprint-overview")
    expect(overview).to_be_visible()
    listed = overview.get_by_text(name, exact=True)
    if not eventually(page, listed.is_visible, timeout=15):
        ui.shot("blueprint-missing")
        folder = (
            Path(stack.home_assistant.cwd)
            / "blueprints"
            / "automation"
            / "energy_meters"
        )
        state = (
            "is a symbolic link"
            if folder.is_symlink()
            else "exists"
            if folder.exists()
            else "is missing"
        )
        pytest.fail(
            f"the blueprint {name!r} is not offered under Settings -> Automations & "
            f"scenes -> Blueprints, which lists {texts_of(overview)}; {folder} {state}"
            " (Home Assistant finds blueprints with Path.glob('**/*.yaml'), which does"
            " not follow a symbolic link to a folder)",
            pytrace=False,
        )
    ui.shot("blueprints")
    listed.click()

    editor = page.locator("ha-automation-editor")
    expect(editor.locator("blueprint-automation-editor")).to_be_visible()
    editor.locator("ha-entity-picker").first.click()
    search = page.locator("ha-picker-combo-box").get_by_role("textbox").first
    expect(search).to_be_visible()
    search.fill("sensor.heat_pump_meter_power")
    page.locator("ha-list-item-option").filter(has_text=METER.name).first.click()
    editor.get_by_role("button", name=ui.words.add_action).click()
    adder = page.locator("add-automation-element-dialog")
    adder.get_by_text(ui.words.by_type, exact=True).click()
    adder.get_by_text(ui.words.notifications, exact=True).click()
    adder.get_by_text(ui.words.send_persistent_notification, exact=True).click()
    message = editor.locator("ha-service-control ha-settings-row").filter(
        has_text=ui.words.message_description
    )
    message.get_by_role("textbox").fill("The heat pump draws more than 2 kW")
    ui.shot("automation-editor", full_page=True)
    editor.get_by_role("button", name=ui.words.save).click()
    expect(page).to_have_url(re.compile(r"/config/automation/edit/(?!new)[^/]+$"))
    errors = editor.locator("ha-alert[alert-type='error']")
    assert errors.count() == 0, [texts_of(e) for e in errors.all()]
    ui.shot("automation-saved")

    # Back (to the blueprints), and to the list of automations.
    editor.locator("ha-icon-button-arrow-prev").first.click()
    _tab(ui, ui.words.automations)
    picker = page.locator("ha-automation-picker")
    try:
        expect(picker.get_by_text(name, exact=True).first).to_be_visible(timeout=15_000)
    finally:
        ui.shot("automations")

    def automation_states() -> list[tuple[str, str]]:
        return [
            (s["attributes"].get("friendly_name"), s["state"])
            for s in stack.api.get("/api/states")
            if s["entity_id"].startswith("automation.")
        ]

    states = wait_until(
        page, automation_states, timeout=15, what="the automation's entity"
    )
    assert states == [(name, "on")], states


# --- h. German ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def german(stack: Stack) -> dict[str, Any]:
    """Home Assistant and the user switched to German; the German dashboard installed.

    Home Assistant names entities when they are set up, in its language then: the
    integration's entries are reloaded after the switch (as a restart would).
    """
    with websocket(stack) as ws:
        ws.call("config/core/update", language="de")
        ws.call(
            "frontend/set_user_data",
            key="language",
            value={
                "language": "de",
                "number_format": "language",
                "time_format": "language",
            },
        )
        devices = ws.call("config/device_registry/list")
    for entry in config_entries(stack.api):
        stack.api.post(
            f"/api/config/config_entries/entry/{entry['entry_id']}/reload", {}
        )
    wait_for_live_values(stack.api, METER.name, stack.home_assistant)
    assert install_dashboard(stack.api, url_path=GERMAN_DASHBOARD_PATH)
    names = {d.get("name_by_user") or d.get("name") for d in devices}
    return {"device_names": sorted(n for n in names if n)}


@pytest.fixture(scope="module")
def de_tab(
    browser: Browser, stack: Stack, shots: Screenshots, german: dict[str, Any]
) -> Iterator[Tab]:
    """A German browser (locale de-DE), logged in on the German login page."""
    with browser_tab(
        browser, stack, language="de", shots=shots, viewport=DASHBOARD_VIEWPORT
    ) as opened:
        opened.ui.log_in(ACCOUNT)
        yield opened


@pytest.fixture
def de_ui(de_tab: Tab) -> HomeAssistantUI:
    """The German tab, logged in."""
    de_tab.ui.ensure_logged_in(ACCOUNT)
    de_tab.ui.close_dialogs()
    return de_tab.ui


class _EnglishFinder:
    """Collects the dialogs' texts that show English strings of the integration."""

    def __init__(self, ui: HomeAssistantUI) -> None:
        self.ui = ui
        self.found: list[str] = []

    def check(self, where: str) -> None:
        shown = self.ui.dialog_texts()
        assert len(shown) > 2, f"{where}: the dialog shows almost nothing: {shown}"
        for text in untranslated(shown):
            self.found.append(f"{where}: {text}")


def _de_meter_sections(ui: HomeAssistantUI, flow: tuple[str, ...]) -> None:
    for section in ("signals", "data_quality"):
        ui.expand(DE(*flow, "sections", section, "name"))


def test_german_flows_show_no_english(
    de_ui: HomeAssistantUI, stack: Stack, spare_simulator: int, shots: Screenshots
) -> None:
    """Add a gateway, add a meter, options, reconfigure: all of it in German."""
    ui, english = de_ui, _EnglishFinder(de_ui)
    dialog = ui.start_add_integration()
    ui.wait_for_dialog(DE("config", "step", "user", "title"))
    english.check("menu")
    dialog.get_by_text(
        DE("config", "step", "user", "menu_options", "gateway"), exact=True
    ).click()
    ui.wait_for_dialog(DE("config", "step", "gateway", "title"))
    english.check("gateway form")
    host, port = (
        DE("config", "step", "gateway", "data", key) for key in ("host", "port")
    )
    ui.fill({host: "127.0.0.1", port: free_port()})
    ui.submit()
    ui.wait_for_alert(template_pattern(DE("config", "error", "cannot_connect")))
    english.check("gateway form, closed port")
    ui.shot("de-gateway-error")
    ui.fill({port: spare_simulator})
    ui.submit()

    meter = ("config", "step", "meter")
    ui.wait_for_dialog(DE(*meter, "title"))
    shots.for_docs(ui.page, "meter-form-de.png", locator=ui.dialog_panel())
    english.check("first meter form")
    _de_meter_sections(ui, meter)
    english.check("first meter form, sections open")
    ui.fill({DE(*meter, "data", "unit_id"): 9})
    ui.submit()
    ui.wait_for_alert(
        template_pattern(DE("config", "error", "no_response")), timeout=60
    )
    _de_meter_sections(ui, meter)
    english.check("first meter form, silent unit")
    ui.shot("de-first-meter-error", full_page=True)
    ui.close_dialog()

    # The gateway of the demo: add a meter, the options, reconfigure its meter.
    gateway = next(
        e
        for e in config_entries(stack.api)
        if e["title"].endswith(f":{stack.simulator_port}")
    )
    ui.open_integration_page()
    ui.entry_menu(
        gateway["title"], DE("config_subentries", "meter", "initiate_flow", "user")
    )
    ui.wait_for_dialog(DE("config_subentries", "meter", "step", "user", "title"))
    _de_meter_sections(ui, ("config_subentries", "meter", "step", "user"))
    english.check("add meter form")
    ui.shot("de-add-meter", full_page=True)
    ui.close_dialog()

    ui.entry_row(gateway["title"]).get_by_role(
        "button", name=ui.words.configure, exact=True
    ).first.click()
    ui.wait_for_dialog(DE("options", "step", "init", "title"))
    english.check("options")
    ui.close_dialog()

    ui.sub_entry_row(METER.name).get_by_role(
        "button", name=DE("config_subentries", "meter", "initiate_flow", "reconfigure")
    ).first.click()
    ui.wait_for_dialog(DE("config_subentries", "meter", "step", "reconfigure", "title"))
    _de_meter_sections(ui, ("config_subentries", "meter", "step", "reconfigure"))
    english.check("reconfigure meter")
    ui.shot("de-reconfigure-meter", full_page=True)
    ui.close_dialog()

    assert not english.found, "English in the German UI:\n" + "\n".join(english.found)


def test_german_entity_names(stack: Stack, german: dict[str, Any]) -> None:
    """The meter's entities are named in German (the device keeps its own name)."""
    expected = {
        f"sensor.heat_pump_meter_{key}": f"{METER.name} {DE('entity', 'sensor', key, 'name')}"
        for key in ("power", "energy_import", "frequency", "current_l1", "load_level")
    }
    shown = {
        entity_id: stack.api.get(f"/api/states/{entity_id}")["attributes"][
            "friendly_name"
        ]
        for entity_id in expected
    }
    assert shown == expected


def test_the_german_dashboard(
    de_ui: HomeAssistantUI, german: dict[str, Any], shots: Screenshots
) -> None:
    """The dashboard in German: its own titles, German entity names and states."""
    config = dashboard_for("de")
    shown = _dashboard(de_ui, str(config["title"]))
    de_ui.shot("dashboard-de")
    _no_error_cards(de_ui, shown)
    shown_by_default = as_shown_by_default(config)
    missing = [t for t in texts(shown_by_default["views"]) if t not in shown]
    assert not missing, f"German card titles not shown: {missing}"
    english = untranslated(shown, allowed=german["device_names"])
    assert not english, f"English on the German dashboard: {english}"
    shots.for_docs(de_ui.page, "dashboard-de.png")
