"""Fixtures for the end-to-end tests, which run Home Assistant as a separate process."""

import pytest


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations() -> None:
    """Replace the suite-wide fixture: these tests need no in-process Home Assistant.

    Home Assistant runs in its own process here and loads the integration from its
    configuration directory, so no `hass` test instance is created.
    """
