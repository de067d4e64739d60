"""The setup dialog's test read, handed on to the meter's first poll.

The dialog reads a meter before it is saved, to tell a wrong unit id or
profile at once. That reading is good evidence: the first poll's counters
can agree with it and be published at once, where a reading without a
history would have to wait for a second one (meterlib/quality.py). It is
only kept for a few minutes, in memory, for the setup that follows.
"""

from dataclasses import dataclass, field
import time
from typing import Final

from homeassistant.core import HomeAssistant
from homeassistant.util.hass_dict import HassKey

from ..meterlib.filtering import is_counter
from ..meterlib.model import Quantity

# A test read older than this says nothing about the first poll.
MAX_AGE_S: Final = 600.0


@dataclass(slots=True)
class _TestReads:
    by_meter: dict[tuple[str, int], tuple[dict[str, float], float]] = field(
        default_factory=dict
    )


_KEY: HassKey[_TestReads] = HassKey("energy_meters_test_reads")


def remember_test_read(
    hass: HomeAssistant,
    endpoint: str,
    unit_id: int,
    values: dict[Quantity, float | None],
) -> None:
    """Keep the counters the dialog read (wall-clock time, as the filters use)."""
    counters = {
        str(quantity): value
        for quantity, value in values.items()
        if value is not None and is_counter(quantity)
    }
    reads = hass.data.setdefault(_KEY, _TestReads())
    reads.by_meter[endpoint, unit_id] = (counters, time.time())


def take_test_read(
    hass: HomeAssistant, endpoint: str, unit_id: int
) -> tuple[dict[str, float], float] | None:
    """The dialog's read of this meter, once, if it is recent."""
    reads = hass.data.get(_KEY)
    if reads is None:
        return None
    found = reads.by_meter.pop((endpoint, unit_id), None)
    if found is None or time.time() - found[1] > MAX_AGE_S:
        return None
    return found
