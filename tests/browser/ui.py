"""Home Assistant's real frontend, driven with Playwright the way a person uses it.

The frontend is made of web components: almost everything sits in shadow roots.
Playwright's CSS, text and role locators pierce them; `inner_text` and
`page.content()` do not, so `visible_texts` walks the composed tree itself (shadow
roots, slots) and returns what is on screen, one text node per item.

Labels of this integration's forms are read from its translation files, so a
reworded string does not break a test; the few labels of Home Assistant's own
frontend that the tests click are listed per language in `FRONTEND`.
"""

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
import functools
import json
from pathlib import Path
import re
import shutil
import time
from typing import Any

from playwright.sync_api import Download, Locator, Page, expect
import pytest

from devtools.ha_bootstrap import INTEGRATION_DIR, REPO_ROOT, Account

TRANSLATIONS_DIR = INTEGRATION_DIR / "translations"
DOCS_IMAGES = REPO_ROOT / "docs" / "images"
INTEGRATION_TITLE = "Energy Meters"
_EXPAND_TRIES = 3

# Visible text of an element and everything it renders: shadow roots, slotted nodes,
# skipping what is hidden (a collapsed section, a closed dropdown).
VISIBLE_TEXTS_JS = """(root) => {
  const out = [];
  const walk = (node) => {
    if (node.nodeType === Node.TEXT_NODE) {
      const text = node.nodeValue.trim();
      if (text) out.push(text);
      return;
    }
    if (node.nodeType === Node.ELEMENT_NODE) {
      if (['STYLE', 'SCRIPT', 'TEMPLATE'].includes(node.tagName)) return;
      if (getComputedStyle(node).display !== 'contents'
          && !node.checkVisibility({checkVisibilityCSS: true, visibilityProperty: true})) return;
      if (node.tagName === 'SLOT') {
        for (const child of node.assignedNodes({flatten: true})) walk(child);
        return;
      }
      if (node.shadowRoot) { walk(node.shadowRoot); return; }
    } else if (node.nodeType !== Node.DOCUMENT_FRAGMENT_NODE) {
      return;
    }
    for (const child of node.childNodes) walk(child);
  };
  walk(root);
  return out;
}"""


# --- the integration's strings ------------------------------------------------------------


@functools.cache
def translations(language: str) -> dict[str, Any]:
    """custom_components/energy_meters/translations/<language>.json."""
    data: dict[str, Any] = json.loads(
        (TRANSLATIONS_DIR / f"{language}.json").read_text(encoding="utf-8")
    )
    return data


class Strings:
    """The integration's strings in one language, looked up by their key path."""

    def __init__(self, language: str) -> None:
        """Load the translation file of `language`."""
        self.language = language
        self.data = translations(language)

    def __call__(self, *path: str) -> str:
        """The string at path, e.g. ("config", "step", "gateway", "title")."""
        node: Any = self.data
        for key in path:
            node = node[key]
        if not isinstance(node, str):
            msg = f"{'.'.join(path)} is not a string in {self.language}.json"
            raise TypeError(msg)
        return node

    def meter_field(self, step: str, key: str, section: str | None = None) -> str:
        """A field label of the meter subentry form (step "user" or "reconfigure")."""
        base = ("config_subentries", "meter", "step", step)
        if section is None:
            return self(*base, "data", key)
        return self(*base, "sections", section, "data", key)

    def meter_section(self, step: str, section: str) -> str:
        """The title of a collapsed section of the meter subentry form."""
        return self(
            "config_subentries", "meter", "step", step, "sections", section, "name"
        )


def template_pattern(template: str) -> re.Pattern[str]:
    """A regex matching a translated string with its {placeholders} filled in."""
    parts = re.split(r"\{[^}]*\}", template)
    return re.compile(".+?".join(re.escape(part) for part in parts), re.DOTALL)


def _strings(node: Any) -> Iterable[str]:
    if isinstance(node, Mapping):
        for value in node.values():
            yield from _strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from _strings(value)
    elif isinstance(node, str):
        yield node


_WORD = re.compile(r"[^\W\d_]{3,}")


def _words(text: str) -> set[str]:
    return {word.casefold() for word in _WORD.findall(re.sub(r"\{[^}]*\}", " ", text))}


@functools.cache
def english_only_words() -> frozenset[str]:
    """Words of the integration's English strings that none of its German ones has.

    Seeing one of them in the German UI means an English string of this integration
    is shown untranslated ("Gateway", "Modbus" or "Name" are in both and do not count).
    """
    english = set().union(*map(_words, _strings(translations("en"))))
    german = set().union(*map(_words, _strings(translations("de"))))
    return frozenset(english - german)


@functools.cache
def english_only_strings() -> frozenset[str]:
    """Whole English strings of the integration that differ from their German version."""
    english, german = translations("en"), translations("de")
    found: set[str] = set()

    def walk(en: Any, de: Any) -> None:
        if isinstance(en, Mapping):
            for key, value in en.items():
                walk(value, de.get(key) if isinstance(de, Mapping) else None)
        elif isinstance(en, str) and en != de and _words(en) & english_only_words():
            found.add(en)

    walk(english, german)
    return frozenset(found)


def untranslated(texts: Iterable[str], *, allowed: Iterable[str] = ()) -> list[str]:
    """The texts that show English of this integration, with the words that give it away.

    `allowed` are names the user chose (device names like "Heat pump meter"): they
    are cut out of a text before it is checked.
    """
    words = english_only_words()
    whole = english_only_strings()
    allowed_names = sorted(allowed, key=len, reverse=True)
    found = []
    for text in texts:
        rest = text
        for name in allowed_names:
            rest = rest.replace(name, " ")
        if text in whole:
            found.append(f"{text!r} (an English string of en.json)")
            continue
        # Abbreviations (COP, TCP, RTU) are the same in both languages.
        shown = {w.casefold() for w in _WORD.findall(rest) if not w.isupper()}
        english = sorted(shown & words)
        if english:
            found.append(f"{text!r} (English: {', '.join(english)})")
    return found


# --- Home Assistant's own labels ------------------------------------------------------------


@dataclass(frozen=True)
class FrontendWords:
    """Labels of Home Assistant's frontend that the tests click, in one language."""

    log_in: str
    settings: str
    devices_and_services: str
    add_integration: str
    search_integrations: str
    submit: str
    close: str
    menu: str
    configure: str
    finish: re.Pattern[str]
    download_diagnostics: str
    automations_and_scenes: str
    blueprints: str
    automations: str
    add_action: str
    by_type: str
    notifications: str
    send_persistent_notification: str
    message_description: str
    save: str
    entity_not_available: str
    configuration_error: str


FRONTEND = {
    "en": FrontendWords(
        log_in="Log in",
        settings="Settings",
        devices_and_services="Devices & services",
        add_integration="Add integration",
        search_integrations="Search",
        submit="Submit",
        close="Close",
        menu="Menu",
        configure="Configure",
        finish=re.compile(r"^(Finish|Skip and finish|Close)$"),
        download_diagnostics="Download diagnostics",
        automations_and_scenes="Automations & scenes",
        blueprints="Blueprints",
        automations="Automations",
        add_action="Add action",
        by_type="By type",
        notifications="Notifications",
        send_persistent_notification="Send a persistent notification",
        message_description="Message body of the notification.",
        save="Save",
        entity_not_available="Entity not available",
        configuration_error="Configuration error",
    ),
    "de": FrontendWords(
        log_in="Anmelden",
        settings="Einstellungen",
        devices_and_services="Geräte & Dienste",
        add_integration="Integration hinzufügen",
        search_integrations="Suche",
        submit="OK",
        close="Schließen",
        menu="Menü",
        configure="Konfigurieren",
        finish=re.compile(
            r"^(Fertig|Überspringen und fertigstellen|Abschließen|Schließen)$"
        ),
        download_diagnostics="Diagnosedaten herunterladen",
        automations_and_scenes="Automationen & Szenen",
        blueprints="Blaupausen",
        automations="Automationen",
        add_action="Aktion hinzufügen",
        by_type="Nach Typ",
        notifications="Benachrichtigungen",
        send_persistent_notification="Dauerhafte Benachrichtigung senden",
        message_description="Nachrichtentext der Benachrichtigung.",
        save="Speichern",
        entity_not_available="Entität nicht verfügbar",
        configuration_error="Konfigurationsfehler",
    ),
}


# --- screenshots --------------------------------------------------------------------------


# The window height for a dialog's documentation screenshot.
DOCS_DIALOG_WINDOW_HEIGHT = 1100


class Screenshots:
    """One PNG per step in an artefact folder; some also for the documentation."""

    def __init__(self, folder: Path, docs: bool) -> None:
        """Write into folder (emptied first); with docs, also into docs/images."""
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        self.folder = folder
        self.docs = docs
        self._count = 0

    def take(self, page: Page, name: str, *, full_page: bool = False) -> Path:
        """Screenshot the page as <NN>-<name>.png; return the file."""
        self._count += 1
        path = self.folder / f"{self._count:02d}-{name}.png"
        page.screenshot(path=path, full_page=full_page, animations="disabled")
        return path

    def for_docs(
        self, page: Page, file_name: str, *, locator: Locator | None = None
    ) -> Path:
        """An artefact screenshot that also goes to docs/images/file_name when asked."""
        path = self.folder / f"docs-{file_name}"
        if locator is None:
            page.screenshot(path=path, animations="disabled")
        else:
            # A dialog is as tall as the window lets it be: a taller window
            # shows the whole form, its last collapsed section included.
            size = page.viewport_size
            if size is not None:
                page.set_viewport_size(
                    {"width": size["width"], "height": DOCS_DIALOG_WINDOW_HEIGHT}
                )
            try:
                locator.screenshot(path=path, animations="disabled")
            finally:
                if size is not None:
                    page.set_viewport_size(size)
        if self.docs:
            DOCS_IMAGES.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, DOCS_IMAGES / file_name)
        return path


# --- the page -----------------------------------------------------------------------------


def wait_until[T](
    page: Page,
    probe: Callable[[], T | None],
    *,
    timeout: float,
    what: str,
    interval_ms: int = 250,
) -> T:
    """Poll probe until it returns something truthy, letting the page run meanwhile."""
    deadline = time.monotonic() + timeout
    last: T | None = None
    while True:
        last = probe()
        if last:
            return last
        if time.monotonic() > deadline:
            msg = f"timed out after {timeout:.0f} s waiting for {what} (last: {last!r})"
            raise AssertionError(msg)
        page.wait_for_timeout(interval_ms)


def eventually(page: Page, probe: Callable[[], object], *, timeout: float) -> bool:
    """Whether probe returns something truthy within timeout seconds."""
    try:
        wait_until(page, probe, timeout=timeout, what="it")
    except AssertionError:
        return False
    return True


class HomeAssistantUI:
    """One browser tab on Home Assistant, with the steps a person takes."""

    def __init__(
        self, page: Page, base_url: str, language: str, shots: Screenshots
    ) -> None:
        """Drive page, which shows (or will show) Home Assistant at base_url."""
        self.page = page
        self.base_url = base_url.rstrip("/")
        self.words = FRONTEND[language]
        self.strings = Strings(language)
        self.shots = shots

    def shot(self, name: str, *, full_page: bool = False) -> Path:
        """Save a screenshot of this step."""
        return self.shots.take(self.page, name, full_page=full_page)

    # --- logging in ---

    def log_in(self, account: Account) -> None:
        """Open Home Assistant, type the username and password, press the button."""
        page = self.page
        page.goto(self.base_url + "/")
        username = page.locator("input[name='username']")
        expect(username).to_be_visible(timeout=30_000)
        self.shot("login-page")
        username.fill(account.username)
        page.locator("input[name='password']").fill(account.password)
        page.get_by_role("button", name=self.words.log_in, exact=True).click()
        expect(page.locator("ha-sidebar")).to_be_visible(timeout=30_000)

    def is_logged_in(self) -> bool:
        """Whether the page shows the frontend (not the login page, not a blank tab)."""
        page = self.page
        return (
            page.url.startswith(self.base_url)
            and page.locator("ha-sidebar").is_visible()
        )

    def ensure_logged_in(self, account: Account) -> None:
        """Log in, unless the tab already shows the frontend."""
        if not self.is_logged_in():
            self.log_in(account)

    # --- navigation ---

    def sidebar(self, item: str) -> None:
        """Click an item of the sidebar."""
        self.close_dialogs()
        self.page.locator("ha-sidebar").get_by_text(item, exact=True).click()

    def open_devices_and_services(self) -> None:
        """Settings -> Devices & services."""
        self.sidebar(self.words.settings)
        self.page.locator("ha-config-dashboard").get_by_text(
            self.words.devices_and_services, exact=True
        ).first.click()
        expect(self.page.locator("ha-config-integrations-dashboard")).to_be_visible()

    def open_integration_page(self) -> Locator:
        """Settings -> Devices & services -> the Energy Meters card."""
        self.open_devices_and_services()
        self.page.locator(
            "ha-integration-card", has_text=INTEGRATION_TITLE
        ).first.click()
        page = self.page.locator("ha-config-integration-page")
        expect(page.locator("ha-config-entry-row").first).to_be_visible()
        return page

    def start_add_integration(self) -> Locator:
        """Devices & services -> Add integration -> search "Energy Meters" -> click it."""
        self.open_devices_and_services()
        self.page.get_by_role("button", name=self.words.add_integration).click()
        picker = self.page.locator("dialog-add-integration")
        picker.get_by_role("textbox").first.fill(INTEGRATION_TITLE)
        picker.get_by_text(INTEGRATION_TITLE, exact=True).click()
        dialog = self.flow_dialog()
        expect(dialog.locator("step-flow-menu, step-flow-form").first).to_be_visible()
        return dialog

    # --- config entries on the integration page ---

    def entry_row(self, title: str) -> Locator:
        """The row of a config entry (a gateway) on the integration page."""
        page = self.page.locator("ha-config-integration-page")
        return (
            page.locator("ha-config-entry-row")
            .filter(has=self.page.get_by_text(title, exact=True))
            .first
        )

    def entry_menu(self, title: str, item: str) -> None:
        """Open the ⋮ menu of a config entry's row and click an item."""
        row = self.entry_row(title)
        row.get_by_role("button", name=self.words.menu, exact=True).first.click()
        self.page.locator("ha-dropdown-item:visible").filter(
            has_text=item
        ).first.click()

    def sub_entry_row(self, title: str) -> Locator:
        """The row of a subentry (a meter) on the integration page."""
        page = self.page.locator("ha-config-integration-page")
        return (
            page.locator("ha-config-sub-entry-row")
            .filter(has=self.page.get_by_text(title, exact=True))
            .first
        )

    # --- the config flow dialog ---

    def flow_dialog(self) -> Locator:
        """The dialog that shows a config, options or subentry flow."""
        return self.page.locator("dialog-data-entry-flow")

    def dialog_panel(self) -> Locator:
        """The flow dialog's box itself (for a screenshot without the page behind)."""
        return self.flow_dialog().locator("wa-dialog dialog").first

    def dialog_texts(self) -> list[str]:
        """What the flow dialog shows, one text per item."""
        texts: list[str] = self.flow_dialog().evaluate(VISIBLE_TEXTS_JS)
        return texts

    def dialog_title(self) -> str:
        """The flow dialog's title."""
        header = self.flow_dialog().locator("ha-dialog-header").first
        texts: list[str] = header.evaluate(VISIBLE_TEXTS_JS)
        return texts[0] if texts else ""

    def wait_for_dialog(self, title: str, timeout: float = 30.0) -> Locator:
        """Wait until the flow dialog shows the step called title; return the dialog."""
        dialog = self.flow_dialog()
        expect(dialog.locator("ha-dialog-header").first).to_be_visible(
            timeout=timeout * 1000
        )
        wait_until(
            self.page,
            lambda: self.dialog_title() == title,
            timeout=timeout,
            what=f"the dialog {title!r} (it shows {self.dialog_title()!r})",
        )
        return dialog

    def wait_for_dialog_text(
        self, pattern: re.Pattern[str] | str, timeout: float = 30.0
    ) -> str:
        """Wait until one of the dialog's texts matches pattern; return it."""
        regex = re.compile(re.escape(pattern)) if isinstance(pattern, str) else pattern

        def probe() -> str | None:
            return next((t for t in self.dialog_texts() if regex.search(t)), None)

        return wait_until(
            self.page, probe, timeout=timeout, what=f"{regex.pattern!r} in the dialog"
        )

    def field(self, label: str) -> Locator:
        """A text or number field of the dialog's form, by its label."""
        dialog = self.flow_dialog()
        name = re.compile(rf"^\s*{re.escape(label)}\s*\*?\s*$")  # "Host*": required
        return dialog.get_by_role("textbox", name=name).or_(
            dialog.get_by_role("spinbutton", name=name)
        )

    def fill(self, values: Mapping[str, str | float]) -> None:
        """Type into the dialog's fields, by label."""
        for label, value in values.items():
            self.field(label).fill(str(value))

    def values(self, labels: Iterable[str]) -> dict[str, str]:
        """What the dialog's fields hold, by label."""
        return {label: self.field(label).input_value() for label in labels}

    def expand(self, section_title: str) -> None:
        """Open a collapsed section of the dialog's form (if it is not open yet)."""
        panel = (
            self.flow_dialog()
            .locator("ha-expansion-panel")
            .filter(has_text=section_title)
            .first
        )
        summary = panel.locator("#summary")
        # A click while the form is still re-rendering (after an error answer)
        # can be lost, as a person's would be: try again, as a person would.
        for _ in range(_EXPAND_TRIES - 1):
            if summary.get_attribute("aria-expanded") == "true":
                return
            summary.click()
            try:
                expect(summary).to_have_attribute("aria-expanded", "true", timeout=2000)
            except AssertionError:
                continue
            return
        if summary.get_attribute("aria-expanded") != "true":
            summary.click()
        expect(summary).to_have_attribute("aria-expanded", "true")

    def selected(self, label: str) -> str:
        """The option a dropdown of the dialog shows as chosen."""
        select = (
            self.flow_dialog()
            .locator("ha-selector-select")
            .filter(has_text=label)
            .first
        )
        texts: list[str] = select.evaluate(VISIBLE_TEXTS_JS)
        # label, "*" (required), the chosen option, the description
        rest = [t for t in texts if t not in {label, "*", f"{label}*", f"{label} *"}]
        return rest[0] if rest else ""

    def choose(self, label: str, option: str) -> None:
        """Open a dropdown of the dialog by its label and click an option."""
        select = (
            self.flow_dialog()
            .locator("ha-selector-select")
            .filter(has_text=label)
            .first
        )
        select.click()
        # The whole text: "Power" must not pick "By role (power of …)".
        self.page.locator("ha-dropdown-item:visible").filter(
            has_text=re.compile(rf"^\s*{re.escape(option)}\s*$")
        ).first.click()
        wait_until(
            self.page,
            lambda: self.selected(label) == option,
            timeout=10,
            what=f"{option!r} chosen in {label!r}",
        )

    def submit(self) -> None:
        """Press the dialog's submit button."""
        self.flow_dialog().get_by_role(
            "button", name=self.words.submit, exact=True
        ).click()

    def alerts(self) -> list[str]:
        """The error messages the dialog shows."""
        alerts = self.flow_dialog().locator("ha-alert[alert-type='error']")
        return [
            " ".join(a.evaluate(VISIBLE_TEXTS_JS))
            for a in alerts.all()
            if a.is_visible()
        ]

    def wait_for_alert(self, pattern: re.Pattern[str], timeout: float = 30.0) -> str:
        """Wait until the dialog shows an error matching pattern; return its text."""

        def probe() -> str | None:
            return next((a for a in self.alerts() if pattern.search(a)), None)

        return wait_until(
            self.page, probe, timeout=timeout, what=f"an error {pattern.pattern!r}"
        )

    def wait_for_result(self, timeout: float = 60.0) -> list[str]:
        """Wait for the flow's last dialog (created, saved, aborted); return its texts.

        Fails with the form's error messages when the form answers with errors instead.
        """
        dialog = self.flow_dialog()
        result = dialog.locator("step-flow-create-entry, step-flow-abort")

        def probe() -> list[str] | None:
            if errors := self.alerts():
                return ["ERROR", *errors]
            if result.count() and result.first.is_visible():
                return self.dialog_texts()
            return None

        texts = wait_until(self.page, probe, timeout=timeout, what="the flow's result")
        if texts[0] == "ERROR":
            self.shot("form-errors", full_page=True)
            pytest.fail(f"the form answered with errors: {texts[1:]}", pytrace=False)
        return texts

    def finish(self) -> None:
        """Press the closing button of the flow's last dialog (Finish, Close)."""
        self.flow_dialog().get_by_role("button", name=self.words.finish).last.click()
        expect(self._header()).to_be_hidden()

    def close_dialog(self) -> None:
        """Close the flow dialog with its X."""
        dialog = self.flow_dialog()
        dialog.get_by_role("button", name=self.words.close, exact=True).first.click()
        expect(self._header()).to_be_hidden()

    def close_dialogs(self) -> None:
        """Close a flow dialog left open by an earlier (failed) step."""
        if self.dialog_open():
            self.close_dialog()

    def dialog_open(self) -> bool:
        """Whether a flow dialog is on screen (a closed one may stay in the page)."""
        return self._header().is_visible()

    def _header(self) -> Locator:
        return self.flow_dialog().locator("ha-dialog-header").first

    # --- downloads ---

    def download(self, click: Callable[[], None]) -> Download:
        """What a click downloads."""
        with self.page.expect_download() as info:
            click()
        return info.value


def texts_of(locator: Locator) -> list[str]:
    """The visible texts of an element and what it renders."""
    texts: list[str] = locator.evaluate(VISIBLE_TEXTS_JS)
    return texts


def numbers(texts: Sequence[str]) -> list[str]:
    """The texts that are numbers (a sensor's value as a card shows it)."""
    return [t for t in texts if re.fullmatch(r"-?[\d.,\u00a0\u202f]+(\s?\S{0,4})?", t)]
