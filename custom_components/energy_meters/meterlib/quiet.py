"""Keep pymodbus's own log lines out of Home Assistant's log for our requests.

pymodbus logs every timeout at ERROR level with a hex dump of the last frames.
For a meter that is not there yet (a unit-id probe in the setup dialog) or a
meter the poller already reports in its own words, those lines are noise in
Settings → System → Logs, attributed to this integration because the manifest
names pymodbus among its loggers. The transport turns every failure into an
error of its own, with the cause, so nothing is lost by dropping them.

The filter only drops records logged while one of our requests runs (a
context variable, so other tasks using pymodbus at the same time keep their
log lines); DEBUG records always pass, for whoever turns debug logging on.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
import logging
from typing import Final, override

PYMODBUS_LOGGER: Final = "pymodbus.logging"

_quiet: ContextVar[bool] = ContextVar("energy_meters_quiet_pymodbus", default=False)


class _DropWhileQuiet(logging.Filter):
    """Drops pymodbus's INFO and above inside `quiet_library_logs`."""

    @override
    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno <= logging.DEBUG or not _quiet.get()


_FILTER: Final = _DropWhileQuiet()


@contextmanager
def quiet_library_logs() -> Iterator[None]:
    """Run the block with pymodbus's log lines for it dropped."""
    logger = logging.getLogger(PYMODBUS_LOGGER)
    if _FILTER not in logger.filters:
        logger.addFilter(_FILTER)
    token = _quiet.set(True)
    try:
        yield
    finally:
        _quiet.reset(token)
