"""A guarded twin of a power or energy sensor that another integration provides.

Many meters are already read by some integration (a vendor's cloud, ESPHome,
a template); their glitches reach the Energy dashboard all the same. The
twin follows the source's state and publishes it through the same filters
as our own meters: a power spike is held back until confirmed, an energy
value never goes down, and a counter that restarts at a new level is
continued (with a repair issue) instead of being booked as consumption.

The source's unit is read from each state, so a source that reports kW or
Wh is converted to the W and kWh every meter of this integration publishes.
While the source is unavailable or unknown, so is the twin: it has nothing
newer to say, and an energy twin that went unavailable comes back at the
value it left, never lower.

A jump is confirmed by the readings that follow it, but Home Assistant
writes a state only when it changes: a source that jumps to a new level and
stays there exactly would never be confirmed. So a held-back state is taken
again after `CONFIRM_AFTER_S` if nothing newer came: still there then, it
counts as the confirming reading, as the next poll would for a Modbus meter.
"""

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final, override

from homeassistant.components.sensor import SensorDeviceClass
from homeassistant.const import (
    ATTR_DEVICE_CLASS,
    ATTR_UNIT_OF_MEASUREMENT,
    STATE_UNAVAILABLE,
    STATE_UNKNOWN,
    UnitOfEnergy,
    UnitOfPower,
)
from homeassistant.core import (
    CALLBACK_TYPE,
    Event,
    EventStateChangedData,
    HomeAssistant,
    State,
    callback,
)
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.event import (
    async_call_later,
    async_track_state_change_event,
)
from homeassistant.util.unit_conversion import EnergyConverter, PowerConverter

from ..meterlib.payload import Field, PayloadError, to_number
from .meter import SingleMeter, SingleMeterConfigEntry

CONF_SOURCE: Final = "source_entity_id"
# A held-back state that is still the source's state this much later counts
# again (see the module's docstring): the next poll of a typical meter.
CONFIRM_AFTER_S: Final = 30.0
CONF_GUARDED: Final = "guarded"

_CANONICAL: Final[Mapping[Field, str]] = {
    Field.POWER: UnitOfPower.WATT,
    Field.ENERGY: UnitOfEnergy.KILO_WATT_HOUR,
}


def guarded_field(state: State | None) -> Field | None:
    """Power or energy, from a source's device class or unit; None for anything else."""
    if state is None:
        return None
    device_class = state.attributes.get(ATTR_DEVICE_CLASS)
    unit = state.attributes.get(ATTR_UNIT_OF_MEASUREMENT)
    if device_class == SensorDeviceClass.POWER or unit in PowerConverter.VALID_UNITS:
        return Field.POWER
    if device_class == SensorDeviceClass.ENERGY or unit in EnergyConverter.VALID_UNITS:
        return Field.ENERGY
    return None


def state_value(state: State, which: Field) -> float:
    """A source state as W or kWh; PayloadError when it is no usable number."""
    value = to_number(state.state, f"the state of {state.entity_id}")
    unit = state.attributes.get(ATTR_UNIT_OF_MEASUREMENT) or _CANONICAL[which]
    converter = PowerConverter if which is Field.POWER else EnergyConverter
    try:
        return converter.convert(value, unit, _CANONICAL[which])
    except HomeAssistantError:
        raise PayloadError(
            f"{state.entity_id} is in {unit}, which is not a unit of {which}"
        ) from None


class GuardedSensor(SingleMeter):
    """Follows one power or energy sensor and filters what it says."""

    def __init__(self, hass: HomeAssistant, entry: SingleMeterConfigEntry) -> None:
        """Guard the one field the source was found to be in the config flow."""
        self.source: str = entry.data[CONF_SOURCE]
        self.which = Field(entry.data[CONF_GUARDED])
        super().__init__(hass, entry, frozenset({self.which}))
        self._cancel_recheck: CALLBACK_TYPE | None = None

    async def async_start(self) -> None:
        """Take the source's state now, then every change of it."""
        self._take(self.hass.states.get(self.source))
        self.config_entry.async_on_unload(
            async_track_state_change_event(self.hass, [self.source], self._changed)
        )
        self.config_entry.async_on_unload(self._stop_recheck)

    @callback
    def _changed(self, event: Event[EventStateChangedData]) -> None:
        self._take(event.data["new_state"])
        self.async_update_listeners()

    @callback
    def _recheck(self, _now: datetime) -> None:
        """The held-back state, once more, if it is still the source's."""
        self._cancel_recheck = None
        self._take(self.hass.states.get(self.source))
        self.async_update_listeners()

    @callback
    def _stop_recheck(self) -> None:
        if self._cancel_recheck is not None:
            self._cancel_recheck()
            self._cancel_recheck = None

    def _take(self, state: State | None) -> None:
        """Filter one state of the source; unavailable with it."""
        self._stop_recheck()
        if state is None or state.state in (STATE_UNAVAILABLE, STATE_UNKNOWN):
            self.status.online = False
            return
        try:
            value = state_value(state, self.which)
        except PayloadError as err:
            self.reject(str(err))
            return
        self.status.online = True
        if self.ingest({self.which: value}):
            self._cancel_recheck = async_call_later(
                self.hass, CONFIRM_AFTER_S, self._recheck
            )

    @override
    def extra_diagnostics(self) -> dict[str, Any]:
        """Which entity is guarded, as what."""
        return {"source": self.source, "guarded": self.which.value}
