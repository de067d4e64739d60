"""What the Site reads from the meters of the other kinds: each meter's power.

The Site sums meters of every kind (a gateway's, an MQTT meter, ...) but must
not depend on any of them: each kind offers a `PowerSource`, and the kinds
table hands the sources to the Site. A source says which meters with a site
role exist and what each measures now, and which coordinators to listen to so
a site figure changes in the same moment as the meter it comes from.
"""

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
import math

from homeassistant.core import CALLBACK_TYPE, HomeAssistant

from .meterlib.model import Quantity
from .roles import MeterRole
from .signals import total_power_w


@dataclass(frozen=True, slots=True)
class MeterPower:
    """One site meter's latest power; None when it has no current reading."""

    name: str
    role: MeterRole
    power_w: float | None


type AddListener = Callable[[CALLBACK_TYPE], Callable[[], None]]


@dataclass(frozen=True, slots=True)
class PowerSource:
    """The meters of one kind, as the Site sees them."""

    meters: Callable[[HomeAssistant], Iterable[MeterPower]]
    """Every configured meter with a site role, running or not (then no reading)."""
    listeners: Callable[[HomeAssistant], Iterable[AddListener]]
    """How to be told of each running meter's new values (`async_add_listener`)."""


def current_power_w(
    published: Mapping[Quantity, float | None], available: bool
) -> float | None:
    """A meter's total power for the Site; None when it is not a current, finite one."""
    power = total_power_w(published) if available else None
    if power is not None and not math.isfinite(power):
        return None
    return power
