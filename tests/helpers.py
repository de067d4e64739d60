"""Helpers the tests share: ports, simulated meters, a configured gateway."""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
import selectors
import socket
import subprocess
import sys
from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.util import dt as dt_util
import pytest

from custom_components.energy_meters.const import DOMAIN
from custom_components.energy_meters.meterlib.model import Quantity
from custom_components.energy_meters.meterlib.profiles import builtin_profiles
from simulator.clock import ManualClock
from simulator.household import Household
from simulator.meter import SimulatedMeter
from simulator.server import ModbusSimulator


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wago_meter(unit_id: int = 1, seed: int = 1) -> SimulatedMeter:
    """A simulated WAGO meter, frozen so HA states can be compared to it."""
    meter = SimulatedMeter(
        builtin_profiles()["wago_879_30xx"], unit_id=unit_id, seed=seed
    )
    meter.freeze()
    return meter


async def async_add_gateway(
    hass: HomeAssistant,
    sim: ModbusSimulator,
    *,
    unit_id: int = 1,
    name: str = "Heat pump meter",
    profile: str = "wago_879_30xx",
    framing: str = "tcp",
) -> ConfigEntry:
    """Run the real config flow to the end and return the created entry."""
    result: Any = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": "user"}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "gateway"}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {"host": "127.0.0.1", "port": sim.port, "framing": framing, "timeout": 1},
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"unit_id": unit_id, "profile": profile, "name": name}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY, result
    await hass.async_block_till_done()
    entry: ConfigEntry = result["result"]
    return entry


# The compressor runs then (seed 3, from noon): a real load, not a standby one.
LOADED_HOUSEHOLD_START_S = 3600.0


@pytest.fixture(name="household")
def fixture_household() -> Household:
    """A household on a manual clock, so a reading stays put during a test."""
    household = Household(
        seed=3, clock=ManualClock(LOADED_HOUSEHOLD_START_S), start_hour=12.0
    )
    assert household.values()[Quantity.POWER_TOTAL] > 1000.0
    return household


def mean_voltage(values: dict[Quantity, float]) -> float:
    """The mean of the phase voltages: what a single-value meter reports."""
    return (
        values[Quantity.VOLTAGE_L1]
        + values[Quantity.VOLTAGE_L2]
        + values[Quantity.VOLTAGE_L3]
    ) / 3


REPO = Path(__file__).parent.parent


@contextmanager
def running_module(module: str, *args: str) -> Iterator[subprocess.Popen[str]]:
    """Run `python -m module args` from the repository; yield it once it has printed.

    The simulators print where they listen as soon as they do, so the first
    output means "ready". The process is always ended, killed if need be.
    """
    process = subprocess.Popen(
        [sys.executable, "-m", module, *args],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        with selectors.DefaultSelector() as selector:
            selector.register(process.stdout, selectors.EVENT_READ)
            assert selector.select(timeout=30), f"{module} printed nothing in 30 s"
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=10)


class WallClock:
    """Home Assistant's wall clock, moved on by hand.

    The filters judge a counter's rise by the wall-clock time between two
    polls, so each poll is made to come 10 s after the last. Only the wall
    clock moves: freezing all clocks (freezegun) stops the event loop's too,
    and a reconnect after a slow answer then waits forever.
    """

    def __init__(self) -> None:
        """Start at the real time."""
        self.now: datetime = dt_util.utcnow()

    def __call__(self) -> datetime:
        """The time Home Assistant sees."""
        return self.now

    def tick(self, seconds: float) -> None:
        """Move the wall clock on."""
        self.now += timedelta(seconds=seconds)
