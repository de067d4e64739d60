"""The browser tests can run here: Playwright and Chromium are installed.

Needs neither itself, so it reports their absence even where the browser test
modules cannot be imported: a failure in CI (CI=true), a skip with a warning elsewhere.
"""

import pytest

from .prerequisites import missing_prerequisites, require_browser

pytestmark = [pytest.mark.browser]


def test_playwright_and_chromium_are_installed() -> None:
    """Nothing the browser tests need is missing."""
    require_browser()
    assert missing_prerequisites() == []
