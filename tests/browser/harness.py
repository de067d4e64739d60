"""One Home Assistant per test module for the browser tests, and a browser tab on it.

Home Assistant (the newest release, from .venv-e2e) and the Modbus simulator run as
processes, exactly as in tests/e2e: `devtools.ha_bootstrap.running_stack` starts them
on a fresh configuration directory. The owner account is created through the
onboarding API; logging in is then what the browser does on the login page.
"""

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
import os
from pathlib import Path
import sys

from playwright.sync_api import Browser, BrowserContext
import pytest

from devtools.ha_bootstrap import (
    DEMO_CONFIG_DOMAINS,
    REPO_ROOT,
    Account,
    Stack,
    confirm_http_settings,
    free_port,
    obtain_token,
    running_stack,
    wait_until_running,
)
from devtools.ha_websocket import HomeAssistantWebSocket
from tests.e2e.test_hass_process import _hass_command

from . import loop_guard
from .ui import HomeAssistantUI, Screenshots

ACCOUNT = Account(
    username="browser", password="browser-secret-password", name="Browser"
)
ARTIFACTS_ENV = "ENERGY_METERS_BROWSER_ARTIFACTS"
DOCS_ENV = "ENERGY_METERS_DOCS_SCREENSHOTS"
DEFAULT_ARTIFACTS = REPO_ROOT / "tests" / "browser" / "artifacts"
VIEWPORT = {"width": 1280, "height": 900}


def artifacts_root() -> Path:
    """Where screenshots go: $ENERGY_METERS_BROWSER_ARTIFACTS or tests/browser/artifacts."""
    folder = os.environ.get(ARTIFACTS_ENV)
    return Path(folder).resolve() if folder else DEFAULT_ARTIFACTS


def docs_screenshots_wanted() -> bool:
    """Whether the documentation's screenshots are to be rewritten (docs/images)."""
    return os.environ.get(DOCS_ENV, "").strip().lower() in {"1", "true", "yes"}


@contextmanager
def home_assistant(
    folder: Path, *, simulator_args: Sequence[str] = ()
) -> Iterator[Stack]:
    """The simulator and Home Assistant, onboarded (owner account) and running."""
    with running_stack(
        python=sys.executable,
        hass=_hass_command(),
        config_dir=folder / "config",
        http_host="127.0.0.1",
        http_port=free_port(),
        simulator_port=free_port(),
        domains=DEMO_CONFIG_DOMAINS,
        log_dir=folder,
        simulator_args=simulator_args,
    ) as stack:
        obtain_token(stack.api, stack.home_assistant, ACCOUNT, timeout=300)
        wait_until_running(stack.api, stack.home_assistant, timeout=300)
        confirm_http_settings(stack.api)
        yield stack
    if stack.home_assistant.is_running() or stack.simulator.is_running():
        pytest.fail("Home Assistant or the simulator did not stop")


@dataclass
class Tab:
    """A browser context with one tab on Home Assistant."""

    context: BrowserContext
    ui: HomeAssistantUI


@contextmanager
def browser_tab(
    browser: Browser,
    stack: Stack,
    *,
    language: str,
    shots: Screenshots,
    viewport: dict[str, int] | None = None,
) -> Iterator[Tab]:
    """A fresh browser context (no cookies, no stored tokens) in `language`'s locale."""
    locale = {"en": "en-US", "de": "de-DE"}[language]
    context = browser.new_context(
        locale=locale,
        viewport=viewport or VIEWPORT,  # type: ignore[arg-type]
        accept_downloads=True,
        timezone_id="UTC",
    )
    context.set_default_timeout(20_000)
    try:
        page = context.new_page()
        yield Tab(context, HomeAssistantUI(page, stack.api.base_url, language, shots))
    finally:
        with loop_guard.playwright_turn():
            context.close()


def websocket(stack: Stack) -> HomeAssistantWebSocket:
    """A WebSocket connection to Home Assistant with the owner's token."""
    return HomeAssistantWebSocket(stack.api.base_url, stack.api.token or "")
