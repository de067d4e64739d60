"""The old stack's year on the Energy dashboard, with one action, as the demo offers it.

What `scripts/develop --old-history` promises a new user: a gateway with its WAGO
meter (the simulator), a Prometheus holding the old exporter's last year (Debian's
`prometheus`, filled by `devtools.old_stack.demo_year`, the demo's own year), and
the Energy dashboard set to the meter's imported energy. The user pastes the one
action the demo prints into Settings → Tools → Actions (YAML mode) and performs it;
then the Energy dashboard, switched to last month with its date picker, shows a bar
for every day. Checked twice: in the page (the usage graph draws bars, not its
"no data" text) and in what the frontend asks the recorder for that month (every
day's consumption above 0, the month's as the generated household's true one).
With ENERGY_METERS_DOCS_SCREENSHOTS=1 the page becomes docs/images/energy-history.png.
"""

from calendar import monthrange
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
import re
import time
from typing import Any

from playwright.sync_api import Browser, Locator, expect
import pytest

from devtools.demo import configure_energy_dashboard
from devtools.ha_bootstrap import (
    Gateway,
    Meter,
    Stack,
    add_gateway_with_meter,
    wait_for_live_values,
)
from devtools.old_stack import (
    Store,
    demo_year,
    device_of,
    import_action,
    start_prometheus,
    true_energy,
)
from tests.e2e.test_hass_process import _integration_errors
from tests.history.conftest import require_stores

from .harness import (
    ACCOUNT,
    Tab,
    artifacts_root,
    browser_tab,
    docs_screenshots_wanted,
    home_assistant,
    websocket,
)
from .ui import VISIBLE_TEXTS_JS, HomeAssistantUI, Screenshots, texts_of, wait_until

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.timeout(420)]

METER = Meter(name="Heat pump meter", unit_id=1, profile="wago_879_30xx")
ENERGY = "sensor.heat_pump_meter_energy_import"
VIEWPORT = {"width": 1400, "height": 1000}
# What the tests click in Home Assistant's own frontend (English).
TOOLS, ACTIONS, YAML_MODE, PERFORM = "Tools", "Actions", "YAML mode", "Perform action"
ENERGY_PANEL, THIS_MONTH, PREVIOUS = "Energy", "This month", "Previous"


@dataclass(frozen=True)
class Month:
    """A calendar month in UTC (Home Assistant's and the browser's time zone here)."""

    start: datetime
    end: datetime

    @classmethod
    def before(cls, moment: datetime) -> Month:
        """The month before the one `moment` is in."""
        end = moment.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        return cls((end - timedelta(days=1)).replace(day=1), end)

    @property
    def days(self) -> int:
        """How many days the month has."""
        return monthrange(self.start.year, self.start.month)[1]

    def true_kwh(self) -> float:
        """What the generated household consumed in it (the exact integral)."""
        return true_energy(self.end.timestamp()) - true_energy(self.start.timestamp())


# --- fixtures ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def old_prometheus(module_folder: Path) -> Iterator[Store]:
    """The old Prometheus, holding the demo's year of the old exporter."""
    require_stores()
    store = start_prometheus(
        demo_year(int(time.time()) // 300 * 300), module_folder / "old-prometheus"
    )
    try:
        yield store
    finally:
        store.stop()


@pytest.fixture(scope="module")
def stack(module_folder: Path) -> Iterator[Stack]:
    """A gateway with the WAGO meter; the Energy dashboard set as the demo sets it."""
    with home_assistant(module_folder) as running:
        add_gateway_with_meter(
            running.api,
            Gateway(host=running.simulator_host, port=running.simulator_port),
            METER,
        )
        snapshot = wait_for_live_values(running.api, METER.name, running.home_assistant)
        configured = configure_energy_dashboard(running, snapshot)
        assert configured.startswith(f"grid consumption from {ENERGY}"), configured
        yield running


@pytest.fixture(scope="module")
def shots() -> Screenshots:
    """This module's screenshots."""
    return Screenshots(artifacts_root() / "history", docs_screenshots_wanted())


@pytest.fixture(scope="module")
def tab(browser: Browser, stack: Stack, shots: Screenshots) -> Iterator[Tab]:
    """An English tab (a fresh context, locale en-US)."""
    with browser_tab(
        browser, stack, language="en", shots=shots, viewport=VIEWPORT
    ) as opened:
        yield opened


@pytest.fixture
def ui(tab: Tab) -> HomeAssistantUI:
    """The tab, logged in."""
    tab.ui.ensure_logged_in(ACCOUNT)
    return tab.ui


# --- the steps -----------------------------------------------------------------------------


def _perform_action(ui: HomeAssistantUI, action: str) -> list[str]:
    """Settings → Tools → Actions, YAML mode, the action, Perform action; its response."""
    page = ui.page
    ui.sidebar(ui.words.settings)
    page.locator("ha-config-dashboard").get_by_text(TOOLS, exact=True).first.click()
    page.locator("ha-tab-group-tab, ha-tab").filter(has_text=ACTIONS).first.click()
    expect(page).to_have_url(re.compile(r"/config/tools/action"))
    page.get_by_role("button", name=YAML_MODE, exact=True).click()
    editor = page.locator("ha-yaml-editor#yaml-editor .cm-content")
    expect(editor).to_be_visible()
    editor.click()
    page.keyboard.press("ControlOrMeta+a")
    page.keyboard.insert_text(action)
    ui.shot("action-yaml")
    page.get_by_role("button", name=PERFORM, exact=True).click()
    response = page.locator(".content.response ha-yaml-editor")
    # The import reads the year from Prometheus and writes it into the recorder.
    expect(response).to_be_visible(timeout=240_000)
    ui.shot("action-response", full_page=True)
    shown: list[str] = response.evaluate(VISIBLE_TEXTS_JS)
    return shown


def _show_last_month(ui: HomeAssistantUI) -> Locator:
    """Energy (its summary) → the date picker: This month, then Previous."""
    page = ui.page
    ui.sidebar(ENERGY_PANEL)
    selector = page.locator("hui-energy-period-selector").first
    expect(selector).to_be_visible(timeout=30_000)
    selector.locator(".date-range").click()
    page.get_by_text(THIS_MONTH, exact=True).first.click()
    selector.get_by_role("button", name=PREVIOUS, exact=True).click()
    return selector


def _chart_bars(card: Locator) -> dict[str, Any]:
    """What the usage graph holds: its series' non-zero values, its "no data" text."""
    found: dict[str, Any] = card.evaluate(
        """(card) => {
          const values = (card._chartData || []).flatMap((series) =>
            (series.data || []).map((point) => {
              const value = Array.isArray(point) ? point[1]
                : Array.isArray(point?.value) ? point.value[1] : point?.value;
              return Math.abs(Number(value) || 0);
            }));
          const noData = card.shadowRoot?.querySelector('.no-data');
          return {
            bars: values.filter((v) => v > 0).length,
            sum: values.reduce((a, b) => a + b, 0),
            noData: noData ? noData.textContent.trim() : null,
          };
        }"""
    )
    return found


def _daily_changes(stack: Stack, month: Month) -> list[float]:
    """The meter's consumption per day of `month`, as the Energy dashboard asks for it.

    Its period ends at the month's last millisecond (date-fns' endOfMonth): with the
    next month's first instant as the end, the recorder adds that day too.
    """
    with websocket(stack) as ws:
        rows = ws.call(
            "recorder/statistics_during_period",
            start_time=month.start.isoformat(),
            end_time=(month.end - timedelta(milliseconds=1)).isoformat(),
            statistic_ids=[ENERGY],
            period="day",
            types=["change"],
            units={"energy": "kWh"},
        ).get(ENERGY, [])
    return [float(row["change"] or 0) for row in rows]


# --- the test ------------------------------------------------------------------------------


def test_one_action_puts_last_month_on_the_energy_dashboard(
    ui: HomeAssistantUI, stack: Stack, old_prometheus: Store, shots: Screenshots
) -> None:
    """The demo's action from the Actions page; then last month's bars, every day."""
    month = Month.before(datetime.now(UTC))
    device = device_of(stack.api.base_url, stack.api.token, ENERGY)
    response = _perform_action(ui, import_action(device, old_prometheus.url))
    assert any(ENERGY in text for text in response), response

    selector = _show_last_month(ui)
    card = ui.page.locator("hui-energy-usage-graph-card").first
    expect(card).to_be_visible()
    # "November", or "December 2025" in January: the year only when it is not this one.
    header = month.start.strftime("%B")
    wait_until(
        ui.page,
        lambda: any(header in t for t in texts_of(selector)),
        timeout=20,
        what=f"the period {header!r} (the selector shows {texts_of(selector)})",
    )
    drawn = wait_until(
        ui.page,
        lambda: (bars := _chart_bars(card))["bars"] >= month.days and bars,
        timeout=60,
        what=f"a bar for each of the {month.days} days in the usage graph",
    )
    assert drawn["noData"] is None, drawn
    ui.page.wait_for_timeout(1500)  # the bars grow in
    shots.for_docs(ui.page, "energy-history.png")

    daily = _daily_changes(stack, month)
    assert len(daily) == month.days, daily
    assert min(daily) > 0, daily
    assert sum(daily) == pytest.approx(month.true_kwh(), rel=0.01)
    assert drawn["sum"] == pytest.approx(sum(daily), rel=0.01), drawn
    problems = [t for t in texts_of(ui.page.locator("body")) if "not available" in t]
    assert not problems, problems
    assert not _integration_errors(stack)
