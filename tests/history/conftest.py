"""Fixtures for the history import: a real Prometheus and a real InfluxDB 1.x.

Both are Debian packages (`prometheus`, `influxdb`; `scripts/setup` installs
them as root). Without them the import tests cannot run, and say so: in CI
(`CI=true`) they fail, elsewhere they are skipped with a warning.
"""

from collections.abc import Iterator
from pathlib import Path
import time
from typing import Any
import warnings

import pytest

from devtools.old_stack import (
    DAY,
    YEAR,
    OldYear,
    Store,
    missing_tools,
    start_influxdb,
    start_prometheus,
)
from tests.browser.prerequisites import in_ci

HOUR = 3600


@pytest.fixture
def mock_recorder_before_hass(async_test_recorder: Any) -> None:
    """The recorder tests' database is prepared before Home Assistant starts."""


def require_stores() -> None:
    """Fail (CI) or skip with a warning (elsewhere) without Prometheus and InfluxDB."""
    missing = missing_tools()
    if not missing:
        return
    message = "HISTORY IMPORT TESTS NOT RUN: missing " + ", ".join(missing)
    if in_ci():
        pytest.fail(message, pytrace=False)
    warnings.warn(message, pytest.PytestWarning, stacklevel=1)
    pytest.skip(message)


def synthetic_year(now: int, step_s: int = 300) -> OldYear:
    """A year up to `now`, every 5 minutes, a reset on day 100 and a 0 on day 200."""
    start = now - YEAR
    return OldYear(
        start=start,
        end=now + 1,
        step_s=step_s,
        phases=("total", "L1"),
        reset_at=start + 100 * DAY + 7 * HOUR + 1200,
        glitch_at=start + 200 * DAY + 13 * HOUR + 1500,
    )


@pytest.fixture
def year() -> OldYear:
    """The year the stores hold, ending at the start of this minute."""
    return synthetic_year(int(time.time()) // 300 * 300)


@pytest.fixture
def prometheus(year: OldYear, tmp_path: Path, socket_enabled: None) -> Iterator[Store]:
    """Debian's Prometheus on 127.0.0.1 holding the synthetic year."""
    require_stores()
    store = start_prometheus(year, tmp_path / "prometheus")
    try:
        yield store
    finally:
        store.stop()


@pytest.fixture
def influxdb(tmp_path: Path, socket_enabled: None) -> Iterator[Store]:
    """Debian's InfluxDB 1.x on 127.0.0.1, empty."""
    require_stores()
    store = start_influxdb(tmp_path / "influxdb")
    try:
        yield store
    finally:
        store.stop()
