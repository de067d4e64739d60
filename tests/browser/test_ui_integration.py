"""The integration in Home Assistant's real frontend, clicked through as a person does.

One Home Assistant (the newest release, a process) and a Modbus simulator with meters
on unit ids 1 and 2 serve the whole module; the tests run in order and build on each
other the way a user's session does: log in, add the gateway with its first meter,
add a second meter, reconfigure it, change the poll interval, make mistakes, add the
gateway twice, download the diagnostics. Each step leaves a screenshot in the
artefact folder (tests/browser/artifacts/integration/ unless
$ENERGY_METERS_BROWSER_ARTIFACTS says otherwise).
"""

from collections.abc import Iterator, Mapping
import contextlib
import json
from pathlib import Path
import re
import time
from typing import Any

from playwright.sync_api import Browser, expect
import pytest

from custom_components.energy_meters.const import (
    DEFAULT_CONFIRMATIONS,
    DEFAULT_MAX_POWER_KW,
    DEFAULT_SCAN_INTERVAL,
)
from custom_components.energy_meters.signals import (
    DEFAULT_FREQUENCY_MAX,
    DEFAULT_FREQUENCY_MIN,
    DEFAULT_LOAD_IDLE_W,
    DEFAULT_LOAD_MEDIUM_KW,
    DEFAULT_POWER_FACTOR_MIN,
)
from devtools.ha_bootstrap import (
    DOMAIN,
    Gateway,
    Meter,
    Stack,
    add_gateway_with_meter,
    config_entries,
    free_port,
    meter_snapshot,
    wait_for_live_values,
)

from .harness import (
    ACCOUNT,
    Tab,
    artifacts_root,
    browser_tab,
    docs_screenshots_wanted,
    home_assistant,
)
from .ui import HomeAssistantUI, Screenshots, Strings, template_pattern, texts_of

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.timeout(300)]

EN = Strings("en")
SECOND_UNIT = 2  # the simulator serves unit ids 1 and 2 (see the `stack` fixture)
SILENT_UNIT = 9  # nobody answers there: the simulator stays silent for unknown units
SECOND_METER = "Second meter"
FAST_INTERVAL_S = 2  # not the default (1 s): reconfigure must show it
HIGH_LOAD_KW = "3.5"  # not the default (2 kW): reconfigure must show it
NEW_MAX_POWER_KW = "20"
NEW_POLL_INTERVAL = "5"
WAGO = "wago_879_30xx"
WRONG_PROFILE = "eastron_sdm630"


def _profile(profile_id: str, strings: Strings = EN) -> str:
    """A profile's name as the profile dropdown offers it."""
    return strings("selector", "profile", "options", profile_id)


def _meter_label(key: str, section: str | None = None, step: str = "user") -> str:
    return EN.meter_field(step, key, section)


def _gateway_label(key: str) -> str:
    return EN("config", "step", "gateway", "data", key)


def _first_meter_label(key: str, section: str | None = None) -> str:
    base = ("config", "step", "meter")
    if section is None:
        return EN(*base, "data", key)
    return EN(*base, "sections", section, "data", key)


# --- fixtures ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def stack(module_folder: Path) -> Iterator[Stack]:
    """Home Assistant and a simulator with WAGO meters on unit ids 1 and 2."""
    with home_assistant(
        module_folder, simulator_args=("--unit", str(SECOND_UNIT))
    ) as running:
        yield running


@pytest.fixture(scope="module")
def shots() -> Screenshots:
    """This module's screenshots."""
    return Screenshots(artifacts_root() / "integration", docs_screenshots_wanted())


@pytest.fixture(scope="module")
def tab(browser: Browser, stack: Stack, shots: Screenshots) -> Iterator[Tab]:
    """One English browser tab for the whole module (it stays logged in)."""
    with browser_tab(browser, stack, language="en", shots=shots) as opened:
        yield opened


@pytest.fixture
def ui(tab: Tab) -> HomeAssistantUI:
    """The tab, logged in, with no dialog left open by an earlier test."""
    tab.ui.ensure_logged_in(ACCOUNT)
    tab.ui.close_dialogs()
    return tab.ui


def _gateway_entries(stack: Stack) -> list[dict[str, Any]]:
    """The gateway entries for the module's simulator (title: host:port)."""
    port = f":{stack.simulator_port}"
    return [e for e in config_entries(stack.api) if e["title"].endswith(port)]


@pytest.fixture
def gateway(stack: Stack) -> dict[str, Any]:
    """The gateway entry that test_add_gateway_... created.

    If that test failed (or was not selected), the gateway is added over REST, as
    tests/e2e do, so that the later tests still test what they are about.
    """
    entries = _gateway_entries(stack)
    if not entries:
        add_gateway_with_meter(
            stack.api,
            Gateway(host="127.0.0.1", port=stack.simulator_port),
            Meter(name="Energy meter", unit_id=1, profile=WAGO),
        )
        entries = _gateway_entries(stack)
    assert len(entries) == 1, entries
    return entries[0]


# --- a. logging in -------------------------------------------------------------------------


def test_log_in_on_the_login_page(
    browser: Browser, stack: Stack, shots: Screenshots
) -> None:
    """Username and password typed on Home Assistant's login page open the frontend."""
    with browser_tab(browser, stack, language="en", shots=shots) as fresh:
        ui = fresh.ui
        ui.log_in(ACCOUNT)
        assert "/auth/" not in ui.page.url
        expect(
            ui.page.locator("ha-sidebar").get_by_text(ACCOUNT.name, exact=True)
        ).to_be_visible()
        ui.shot("logged-in")


# --- b. gateway and first meter, all defaults ---------------------------------------------


def test_add_gateway_and_first_meter_with_the_defaults(
    ui: HomeAssistantUI, stack: Stack, shots: Screenshots
) -> None:
    """Add integration -> Modbus gateway -> host and port -> first meter as offered."""
    assert not _gateway_entries(stack), "the gateway exists already"
    dialog = ui.start_add_integration()
    ui.wait_for_dialog(EN("config", "step", "user", "title"))
    ui.shot("add-menu")
    dialog.get_by_text(
        EN("config", "step", "user", "menu_options", "gateway"), exact=True
    ).click()
    ui.wait_for_dialog(EN("config", "step", "gateway", "title"))
    ui.fill(
        {
            _gateway_label("host"): "127.0.0.1",
            _gateway_label("port"): stack.simulator_port,
        }
    )
    ui.shot("gateway-form")
    ui.submit()

    ui.wait_for_dialog(EN("config", "step", "meter", "title"))
    name = ui.field(_first_meter_label("name")).input_value()
    assert name, "the meter form offers no name"
    ui.shot("first-meter-form")
    shots.for_docs(ui.page, "meter-form-en.png", locator=ui.dialog_panel())
    ui.submit()  # everything as offered; the collapsed sections stay closed

    ui.wait_for_result()  # "Name and assign": the entry was created
    ui.shot("gateway-added")
    ui.finish()

    entries = _gateway_entries(stack)
    assert [e["state"] for e in entries] == ["loaded"], entries
    snapshot = wait_for_live_values(stack.api, name, stack.home_assistant)
    assert snapshot.power is not None
    assert snapshot.power.unit == "W", snapshot.describe()

    # The integration page shows the gateway and the meter with its device.
    page = ui.open_integration_page()
    expect(ui.entry_row(entries[0]["title"])).to_be_visible()
    meter_row = ui.sub_entry_row(name)
    expect(meter_row).to_be_visible()
    expect(meter_row.locator("ha-config-entry-device-row")).to_have_count(1)
    ui.shot("integration-page")
    assert page.is_visible()


# --- c. a second meter on the gateway ------------------------------------------------------


def test_add_a_second_meter_to_the_gateway(
    ui: HomeAssistantUI, stack: Stack, gateway: dict[str, Any]
) -> None:
    """The gateway's ⋮ -> Add meter: unit id 2, a name, a load band of its own."""
    ui.open_integration_page()
    ui.entry_menu(
        gateway["title"], EN("config_subentries", "meter", "initiate_flow", "user")
    )
    ui.wait_for_dialog(EN("config_subentries", "meter", "step", "user", "title"))
    ui.fill({_meter_label("unit_id"): SECOND_UNIT, _meter_label("name"): SECOND_METER})
    ui.expand(EN.meter_section("user", "signals"))
    ui.fill({_meter_label("load_high_kw", "signals"): HIGH_LOAD_KW})
    ui.shot("second-meter-form", full_page=True)
    ui.submit()

    texts = ui.wait_for_result()
    ui.shot("second-meter-added")
    assert any(SECOND_METER in text for text in texts), texts
    ui.finish()

    wait_for_live_values(stack.api, SECOND_METER, stack.home_assistant)
    ui.open_integration_page()
    expect(ui.sub_entry_row(SECOND_METER)).to_be_visible()


# --- d. reconfigure a meter: the form shows what is configured -----------------------------


def _open_reconfigure(ui: HomeAssistantUI, meter: str) -> None:
    ui.open_integration_page()
    row = ui.sub_entry_row(meter)
    expect(row).to_be_visible()
    row.get_by_role(
        "button", name=EN("config_subentries", "meter", "initiate_flow", "reconfigure")
    ).first.click()
    ui.wait_for_dialog(EN("config_subentries", "meter", "step", "reconfigure", "title"))
    ui.expand(EN.meter_section("reconfigure", "signals"))
    ui.expand(EN.meter_section("reconfigure", "data_quality"))
    ui.expand(EN.meter_section("reconfigure", "read_rates"))


def _numbers(
    ui: HomeAssistantUI, fields: Mapping[str, tuple[str, str | None]]
) -> dict[str, float]:
    shown = ui.values(
        EN.meter_field("reconfigure", key, section) for key, section in fields.values()
    )
    return {
        name: float(shown[EN.meter_field("reconfigure", key, section)])
        for name, (key, section) in fields.items()
    }


def _fast_read_interval(stack: Stack, *, timeout: float) -> float:
    """The gateway's "Fast read interval" once it shows a number (seconds).

    It appears when the gateway reloads with a meter read fast and reports the
    median of the last minute at each round (10 s).
    """
    deadline = time.monotonic() + timeout
    last: object = None
    while time.monotonic() < deadline:
        for item in stack.api.get("/api/states"):
            if item["entity_id"].endswith("_fast_read_interval"):
                last = item["state"]
                with contextlib.suppress(ValueError):
                    return float(item["state"])
        time.sleep(1)
    pytest.fail(f"no fast read interval within {timeout:.0f} s (last: {last!r})")


def test_reconfigure_a_meter_shows_its_current_settings(
    ui: HomeAssistantUI, stack: Stack, gateway: dict[str, Any]
) -> None:
    """The meter's cog: every field, also in the collapsed sections, as configured."""
    assert meter_snapshot(stack.api, SECOND_METER).sensors, (
        f"{SECOND_METER!r} is missing: test_add_a_second_meter_to_the_gateway failed"
    )
    _open_reconfigure(ui, SECOND_METER)
    ui.shot("reconfigure-form", full_page=True)
    label = EN.meter_field
    assert ui.values(
        [label("reconfigure", "unit_id"), label("reconfigure", "name")]
    ) == {
        label("reconfigure", "unit_id"): str(SECOND_UNIT),
        label("reconfigure", "name"): SECOND_METER,
    }
    assert ui.selected(label("reconfigure", "profile")) == _profile(WAGO)
    assert ui.selected(label("reconfigure", "role")) == EN(
        "selector", "role", "options", "zone"
    )
    fields = {
        "idle": ("load_idle_w", "signals"),
        "medium": ("load_medium_kw", "signals"),
        "high": ("load_high_kw", "signals"),
        "frequency_min": ("frequency_min", "signals"),
        "frequency_max": ("frequency_max", "signals"),
        "power_factor_min": ("power_factor_min", "signals"),
        "max_power": ("max_power_kw", "data_quality"),
        "confirmations": ("confirmations", "data_quality"),
    }
    assert _numbers(ui, fields) == {
        "idle": DEFAULT_LOAD_IDLE_W,
        "medium": DEFAULT_LOAD_MEDIUM_KW,
        "high": float(HIGH_LOAD_KW),  # set when the meter was added
        "frequency_min": DEFAULT_FREQUENCY_MIN,
        "frequency_max": DEFAULT_FREQUENCY_MAX,
        "power_factor_min": DEFAULT_POWER_FACTOR_MIN,
        "max_power": DEFAULT_MAX_POWER_KW,
        "confirmations": DEFAULT_CONFIRMATIONS,
    }
    fast_group = label("reconfigure", "fast_group", "read_rates")
    fast_interval = label("reconfigure", "fast_interval", "read_rates")
    assert ui.selected(fast_group) == EN("selector", "fast_group", "options", "by_role")
    assert float(ui.values([fast_interval])[fast_interval]) == 1

    # Change the rated power, read this zone meter's power fast, and save.
    ui.fill({label("reconfigure", "max_power_kw", "data_quality"): NEW_MAX_POWER_KW})
    ui.choose(fast_group, EN("selector", "fast_group", "options", "power"))
    ui.fill({fast_interval: str(FAST_INTERVAL_S)})
    ui.submit()
    # Home Assistant 2026.11 words this end itself ("Reconfiguration was successful"),
    # unless the flow names its own reason.
    ui.wait_for_result()
    ui.shot("reconfigured")
    ui.finish()

    # Opened again, the form shows the change, and the band from before.
    _open_reconfigure(ui, SECOND_METER)
    now = _numbers(ui, {"max_power": fields["max_power"], "high": fields["high"]})
    ui.shot("reconfigure-form-again", full_page=True)
    assert now == {"max_power": float(NEW_MAX_POWER_KW), "high": float(HIGH_LOAD_KW)}
    assert ui.selected(fast_group) == EN("selector", "fast_group", "options", "power")
    assert float(ui.values([fast_interval])[fast_interval]) == FAST_INTERVAL_S
    ui.close_dialog()

    # The gateway reads that meter's power every 2 s now, the rest at its interval: its
    # "Fast read interval" sensor (there only while a meter is read fast) says so.
    achieved = _fast_read_interval(stack, timeout=60)
    assert abs(achieved - FAST_INTERVAL_S) <= 0.3, achieved


# --- e. the gateway's options: poll interval -----------------------------------------------


def _open_options(ui: HomeAssistantUI, gateway: dict[str, Any]) -> str:
    ui.open_integration_page()
    ui.entry_row(gateway["title"]).get_by_role(
        "button", name=ui.words.configure, exact=True
    ).first.click()
    ui.wait_for_dialog(EN("options", "step", "init", "title"))
    return ui.field(
        EN("options", "step", "init", "data", "scan_interval")
    ).input_value()


def test_change_the_poll_interval(ui: HomeAssistantUI, gateway: dict[str, Any]) -> None:
    """The gateway's cog: the poll interval, changed and saved."""
    assert float(_open_options(ui, gateway)) == DEFAULT_SCAN_INTERVAL
    ui.fill({EN("options", "step", "init", "data", "scan_interval"): NEW_POLL_INTERVAL})
    ui.shot("options-form")
    ui.submit()
    ui.wait_for_result()
    ui.shot("options-saved")
    ui.finish()
    assert _open_options(ui, gateway) == NEW_POLL_INTERVAL
    ui.close_dialog()


# --- f. mistakes: the error is shown and what was typed stays ------------------------------


def test_errors_keep_what_was_typed(
    ui: HomeAssistantUI, stack: Stack, spare_simulator: int
) -> None:
    """Closed port, a unit id nobody answers on, a profile that does not fit."""
    dialog = ui.start_add_integration()
    dialog.get_by_text(
        EN("config", "step", "user", "menu_options", "gateway"), exact=True
    ).click()
    ui.wait_for_dialog(EN("config", "step", "gateway", "title"))
    host, port = _gateway_label("host"), _gateway_label("port")
    closed_port = free_port()
    ui.fill({host: "127.0.0.1", port: closed_port})
    ui.submit()
    ui.wait_for_alert(template_pattern(EN("config", "error", "cannot_connect")))
    ui.shot("error-closed-port")
    assert ui.values([host, port]) == {host: "127.0.0.1", port: str(closed_port)}

    # The right port: on to the meter, with a unit id that nobody answers on.
    ui.fill({port: spare_simulator})
    ui.submit()
    ui.wait_for_dialog(EN("config", "step", "meter", "title"))
    unit, name = _first_meter_label("unit_id"), _first_meter_label("name")
    max_power = _first_meter_label("max_power_kw", "data_quality")
    quality = EN("config", "step", "meter", "sections", "data_quality", "name")
    ui.fill({unit: SILENT_UNIT, name: "Typed name"})
    ui.expand(quality)
    ui.fill({max_power: "12.5"})
    ui.submit()
    ui.wait_for_alert(
        template_pattern(EN("config", "error", "no_response")), timeout=60
    )
    ui.expand(quality)
    ui.shot("error-silent-unit", full_page=True)
    typed = {unit: str(SILENT_UNIT), name: "Typed name", max_power: "12.5"}
    assert ui.values(typed) == typed

    # A unit that answers, but the profile of another meter model.
    profile = _first_meter_label("profile")
    ui.fill({unit: 1})
    ui.choose(profile, _profile(WRONG_PROFILE))
    ui.submit()
    wrong = "|".join(
        template_pattern(EN("config", "error", key)).pattern
        for key in ("modbus_exception", "implausible")
    )
    ui.wait_for_alert(re.compile(wrong), timeout=60)
    ui.expand(quality)
    ui.shot("error-wrong-profile", full_page=True)
    typed[unit] = "1"
    assert ui.values(typed) == typed
    assert ui.selected(profile) == _profile(WRONG_PROFILE)
    ui.close_dialog()
    assert not [
        e
        for e in config_entries(stack.api)
        if e["title"].endswith(f":{spare_simulator}")
    ]


# --- g. the same gateway under another name ------------------------------------------------


def test_the_same_gateway_by_another_name_is_refused(
    ui: HomeAssistantUI, stack: Stack, gateway: dict[str, Any]
) -> None:
    """localhost:PORT is 127.0.0.1:PORT, which is configured already."""
    dialog = ui.start_add_integration()
    dialog.get_by_text(
        EN("config", "step", "user", "menu_options", "gateway"), exact=True
    ).click()
    ui.wait_for_dialog(EN("config", "step", "gateway", "title"))
    ui.fill(
        {
            _gateway_label("host"): "localhost",
            _gateway_label("port"): stack.simulator_port,
        }
    )
    ui.submit()
    ui.wait_for_dialog_text(EN("config", "abort", "already_configured"))
    ui.shot("already-configured")
    ui.finish()
    assert len(_gateway_entries(stack)) == 1
    assert len([e for e in config_entries(stack.api) if e["domain"] == DOMAIN]) == 1


# --- k. diagnostics -------------------------------------------------------------------------


def test_download_the_diagnostics(
    ui: HomeAssistantUI, stack: Stack, gateway: dict[str, Any], shots: Screenshots
) -> None:
    """The gateway's ⋮ -> Download diagnostics: JSON with the gateway and its meters."""
    ui.open_integration_page()
    download = ui.download(
        lambda: ui.entry_menu(gateway["title"], ui.words.download_diagnostics)
    )
    path = shots.folder / download.suggested_filename
    download.save_as(path)
    assert path.suffix == ".json", download.suggested_filename
    diagnostics = json.loads(path.read_text(encoding="utf-8"))
    assert diagnostics["integration_manifest"]["domain"] == DOMAIN
    data = diagnostics["data"]
    assert data["entry"]["data"]["port"] == stack.simulator_port
    assert data["entry"]["data"]["host"] == "**REDACTED**"
    meters = sorted((m["unit_id"], m["profile"]) for m in data["meters"].values())
    assert (1, WAGO) in meters, meters
    assert all(m["reading"] for m in data["meters"].values()), data["meters"]
    ui.shot("diagnostics-downloaded")
    assert texts_of(ui.page.locator("ha-config-integration-page"))
