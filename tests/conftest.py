"""Shared fixtures.

Our package is imported first: Home Assistant's test harness mounts its own
`custom_components` package, and whichever is imported first wins.
"""

import custom_components.energy_meters  # noqa: F401, I001  (must come first)

from collections.abc import AsyncGenerator, Iterator
from unittest.mock import patch

import pytest

from simulator.server import ModbusSimulator

from .helpers import WallClock, wago_meter


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: None) -> None:
    """Let Home Assistant load the integration from custom_components."""


@pytest.fixture
async def simulator(socket_enabled: None) -> AsyncGenerator[ModbusSimulator]:
    """A Modbus TCP server on 127.0.0.1 with WAGO meters on unit ids 1 and 2."""
    sim = ModbusSimulator(
        [wago_meter(1, seed=1), wago_meter(2, seed=2)], host="127.0.0.1", port=0
    )
    await sim.start()
    yield sim
    await sim.stop()


@pytest.fixture
def hass_config_dir(hass_tmp_config_dir: str) -> str:
    """Give every test its own config folder.

    Tests write user profiles into `<config>/energy_meters/profiles/`; the
    harness's default config folder is shared by every test and run.
    """
    return hass_tmp_config_dir


@pytest.fixture
def clock() -> Iterator[WallClock]:
    """Home Assistant's utcnow under the test's control."""
    wall_clock = WallClock()
    with patch("homeassistant.util.dt.utcnow", wall_clock):
        yield wall_clock
