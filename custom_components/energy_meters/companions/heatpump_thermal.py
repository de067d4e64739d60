"""Thermal power, heat energy and COP of the heat pump.

Thermal power comes from the heat pump's own readings (flow rate and the
flow-return difference); it is unknown when a reading is missing or the
result is more than the heat pump can deliver, with the reason in an
attribute. Heat energy integrates only such plausible power, and only from
current readings (not from a stale one), for the Energy dashboard; it is
restored across restarts (from its saved value, or its last state), because
a total_increasing sensor that starts again from zero would read as a meter
reset, and it never goes backwards. The coefficient of performance needs
the electrical power too: it is published only when the entry's options
link the meter power sensor in front of the heat pump, and it is unknown,
with the reason in an attribute, unless the compressor runs, the meter sees
more than standby power and the ratio is one a heat pump can reach.
"""

from typing import Any

from homeassistant.components.sensor import (
    RestoreSensor,
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import (
    ATTR_UNIT_OF_MEASUREMENT,
    STATE_UNAVAILABLE,
    STATE_UNKNOWN,
    UnitOfEnergy,
    UnitOfPower,
)
from homeassistant.core import Event, EventStateChangedData, HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.event import async_track_state_change_event
from homeassistant.util.unit_conversion import PowerConverter

from ..const import CONF_POWER_ENTITY, LOGGER as _LOGGER
from ..meterlib.companions import (
    Estimate,
    HeatIntegrator,
    HeatPumpStatus,
    cop,
    thermal_power,
)
from .coordinator import HeatPumpCoordinator
from .entity import CompanionEntity, HeatPumpStatusEntity

# Skip (rather than guess) the heat of a gap longer than this many polls:
# the service was unreachable or Home Assistant was stopped.
_MAX_GAP_POLLS = 5
_MIN_MAX_GAP_S = 300.0

THERMAL_POWER = SensorEntityDescription(
    key="thermal_power",
    translation_key="thermal_power",
    device_class=SensorDeviceClass.POWER,
    state_class=SensorStateClass.MEASUREMENT,
    native_unit_of_measurement=UnitOfPower.WATT,
    suggested_display_precision=0,
)
HEAT_ENERGY = SensorEntityDescription(
    key="heat_energy",
    translation_key="heat_energy",
    device_class=SensorDeviceClass.ENERGY,
    state_class=SensorStateClass.TOTAL_INCREASING,
    native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
    suggested_display_precision=2,
)
COP = SensorEntityDescription(
    key="cop",
    translation_key="cop",
    state_class=SensorStateClass.MEASUREMENT,
    suggested_display_precision=2,
)


def status_thermal_power(status: HeatPumpStatus) -> Estimate:
    """Thermal power (W) from a heat-pump status, or None and why."""
    return thermal_power(status.flow_rate, status.temperature_delta)


def electrical_power_w(hass: HomeAssistant, entity_id: str) -> float | None:
    """The linked power sensor's value in watts; None when it has none."""
    state = hass.states.get(entity_id)
    if state is None or state.state in {STATE_UNKNOWN, STATE_UNAVAILABLE}:
        return None
    try:
        value = float(state.state)
    except ValueError:
        return None
    unit = state.attributes.get(ATTR_UNIT_OF_MEASUREMENT)
    try:
        return PowerConverter.convert(value, unit, UnitOfPower.WATT)
    except HomeAssistantError:
        return None


def thermal_entities(coordinator: HeatPumpCoordinator) -> list[SensorEntity]:
    """Thermal power and heat energy; COP too when a power sensor is linked."""
    entities: list[SensorEntity] = [
        ThermalPowerSensor(coordinator, THERMAL_POWER),
        HeatEnergySensor(coordinator, HEAT_ENERGY),
    ]
    power_entity = coordinator.config_entry.options.get(CONF_POWER_ENTITY)
    if power_entity:
        entities.append(CopSensor(coordinator, COP, str(power_entity)))
    return entities


class ThermalPowerSensor(HeatPumpStatusEntity, SensorEntity):
    """Heat the water carries away from the heat pump (W)."""

    def __init__(
        self, coordinator: HeatPumpCoordinator, description: SensorEntityDescription
    ) -> None:
        """Describe the sensor."""
        super().__init__(coordinator, description.key)
        self.entity_description = description

    @property
    def native_value(self) -> float | None:
        """Return flow rate x heat capacity x (flow - return), rounded to 0.1 W."""
        watts = status_thermal_power(self._status).value
        return None if watts is None else round(watts, 1)

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """Why the value is unknown, if it is ("ok" otherwise)."""
        return {"reason": status_thermal_power(self._status).reason.value}


class HeatEnergySensor(CompanionEntity[HeatPumpCoordinator], RestoreSensor):
    """Heat delivered (kWh), the integral of thermal power; survives restarts."""

    def __init__(
        self, coordinator: HeatPumpCoordinator, description: SensorEntityDescription
    ) -> None:
        """Describe the sensor; the integral starts at the restored total."""
        super().__init__(coordinator, description.key)
        self.entity_description = description
        interval = coordinator.update_interval
        seconds = interval.total_seconds() if interval else 0.0
        self._integrator = HeatIntegrator(
            max_gap_s=max(_MIN_MAX_GAP_S, _MAX_GAP_POLLS * seconds)
        )

    async def async_added_to_hass(self) -> None:
        """Continue from the last published total, then start integrating."""
        await super().async_added_to_hass()
        last = await self.async_get_last_sensor_data()
        restored = last is not None and self._integrator.restore(last.native_value)
        if not restored:
            # No usable saved value (a NaN saved by an older version, say):
            # the last state shown still knows where the total stood.
            state = await self.async_get_last_state()
            try:
                value = float(state.state) if state is not None else None
            except ValueError:
                value = None
            restored = self._integrator.restore(value)
        if not restored and last is not None:
            _LOGGER.warning(
                "%s: the saved heat energy (%s) is not a number; starting from 0",
                self.entity_id,
                last.native_value,
            )
        self._sample()

    def _sample(self) -> None:
        """Close the interval since the previous poll (or mark a gap).

        A failed poll, a missing or stale status and an implausible thermal
        power are all gaps: nothing is integrated across them.
        """
        data = self.coordinator.data
        if (
            not self.coordinator.last_update_success
            or data.status is None
            or data.stale
        ):
            self._integrator.interrupt()
            return
        self._integrator.add(status_thermal_power(data.status).value, data.fetched_at)

    @callback
    def _handle_coordinator_update(self) -> None:
        """Integrate each new poll before publishing."""
        self._sample()
        super()._handle_coordinator_update()

    @property
    def available(self) -> bool:
        """The total stays valid while the service is away: keep showing it."""
        return True

    @property
    def native_value(self) -> float:
        """Return the heat delivered so far (kWh)."""
        return round(self._integrator.total_kwh, 4)


class CopSensor(HeatPumpStatusEntity, SensorEntity):
    """Coefficient of performance: thermal over electrical power, compressor on."""

    def __init__(
        self,
        coordinator: HeatPumpCoordinator,
        description: SensorEntityDescription,
        power_entity: str,
    ) -> None:
        """Describe the sensor and remember the linked meter power sensor."""
        super().__init__(coordinator, description.key)
        self.entity_description = description
        self.power_entity = power_entity

    async def async_added_to_hass(self) -> None:
        """Follow the meter too: its power changes between two heat-pump polls."""
        await super().async_added_to_hass()
        self.async_on_remove(
            async_track_state_change_event(
                self.hass, [self.power_entity], self._handle_power_change
            )
        )

    @callback
    def _handle_power_change(self, _event: Event[EventStateChangedData]) -> None:
        self.async_write_ha_state()

    def _cop(self) -> Estimate:
        status = self._status
        return cop(
            status_thermal_power(status).value,
            electrical_power_w(self.hass, self.power_entity),
            status.compressor_running,
        )

    @property
    def native_value(self) -> float | None:
        """Return thermal / electrical power; unknown when it means nothing."""
        value = self._cop().value
        return None if value is None else round(value, 2)

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """Name the meter sensor the COP is computed from, and why it is unknown."""
        return {"power_entity": self.power_entity, "reason": self._cop().reason.value}
