"""Fixtures for the browser tests: Chromium via Playwright on Home Assistant's frontend.

Without Playwright or Chromium the tests cannot run. That is said loudly: in CI
(`CI=true`, which .ci/run sets) every browser test fails; on a developer's machine
they are skipped, with the reason in the skip message and a warning in the summary.
"""

from collections.abc import Generator, Iterator
from pathlib import Path
import sys
from typing import TYPE_CHECKING, Any

import pytest
import pytest_socket

from devtools.ha_bootstrap import free_port, start_simulator

from . import loop_guard
from .prerequisites import (
    CHROMIUM_ARGS,
    PLAYWRIGHT_MISSING,
    chromium_executable,
    require_browser,
)

if TYPE_CHECKING:
    from playwright.sync_api import Browser

# Without Playwright the test modules cannot even be imported; test_prerequisites.py
# (which needs nothing) then reports why.
collect_ignore_glob = ["test_ui_*.py"] if PLAYWRIGHT_MISSING else []


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations() -> None:
    """Replace the suite-wide fixture: these tests need no in-process Home Assistant.

    Home Assistant runs in its own process and loads the integration from its
    configuration directory, so no `hass` test instance is created.
    """


@pytest.fixture(autouse=True)
def _sockets(socket_enabled: None) -> None:
    """Every browser test talks to Home Assistant over HTTP on 127.0.0.1."""


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Headless Chromium (Debian's, not a downloaded one) driven by Playwright.

    One per module, like Home Assistant: nothing of it outlives the browser tests
    while the rest of the suite runs.
    """
    require_browser()
    from playwright.sync_api import sync_playwright  # noqa: PLC0415 - may be missing

    with sync_playwright() as playwright:
        loop_guard.adopt(playwright._loop)
        try:
            chromium = playwright.chromium.launch(
                executable_path=chromium_executable(), args=CHROMIUM_ARGS, headless=True
            )
            try:
                yield chromium
            finally:
                loop_guard.resume()
                chromium.close()
        finally:
            loop_guard.resume()
    loop_guard.forget()


@pytest.fixture(scope="module")
def module_folder(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """A folder of this module's own: Home Assistant's config and logs."""
    return tmp_path_factory.mktemp(request.module.__name__.rsplit(".", 1)[-1])


@pytest.fixture(scope="module")
def spare_simulator(module_folder: Path) -> Iterator[int]:
    """A gateway nobody has configured: first-meter forms and error paths use it."""
    port = free_port()
    process = start_simulator(
        sys.executable,
        host="127.0.0.1",
        port=port,
        log_path=module_folder / "spare-simulator.log",
    )
    try:
        yield port
    finally:
        process.stop(timeout=10)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, Any, Any]:
    """Keep each phase's report on the test item, for the screenshot on failure."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture(autouse=True)
def _screenshot_on_failure(request: pytest.FixtureRequest) -> Iterator[None]:
    """When a test fails, save what its browser tab showed (FAILED-<test>.png)."""
    yield
    report = getattr(request.node, "report_call", None)
    if report is None or not report.failed or "tab" not in request.fixturenames:
        return
    tab = request.getfixturevalue("tab")
    with loop_guard.playwright_turn():
        try:
            tab.ui.shot(f"FAILED-{request.node.name}", full_page=True)
        except Exception as err:  # noqa: BLE001 - a screenshot must not hide the failure
            print(f"no screenshot of the failure: {err}")  # noqa: T201


def _ours(fixturedef: pytest.FixtureDef[Any]) -> bool:
    return fixturedef.baseid.startswith("tests/browser")


@pytest.hookimpl(wrapper=True)
def pytest_fixture_setup(
    fixturedef: pytest.FixtureDef[Any], request: pytest.FixtureRequest
) -> Generator[None, Any, Any]:
    """Playwright's loop runs for this folder's fixtures only (see loop_guard).

    They get sockets too: a module-scoped one (Home Assistant, a simulator) is set
    up before the function-scoped `socket_enabled`, while Home Assistant's test
    plugin blocks sockets.
    """
    if _ours(fixturedef):
        pytest_socket.enable_socket()
        loop_guard.resume()
    else:
        loop_guard.park()
    try:
        return (yield)
    finally:
        loop_guard.park()


@pytest.hookimpl(wrapper=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> Generator[None, Any, Any]:
    """A browser test's body may call Playwright (see loop_guard)."""
    loop_guard.resume()
    try:
        return (yield)
    finally:
        loop_guard.park()
