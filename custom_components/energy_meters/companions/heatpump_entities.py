"""The heat pump's measurements: sensors and binary sensors.

One description per `/status` field the user cares about (the names follow
the Prometheus metrics the old dashboards used), each with a `value_fn`, so
adding a field is one line. They all come from `/status` and go
unavailable together when it fails or its data is too old to show; a
reading just past the service's 30 s limit is still shown (the "Status age"
sensor, from `/health`, says how old it is). A reading the library could not
take as a plausible number shows as unknown.
"""

from collections.abc import Callable
from dataclasses import dataclass

from homeassistant.components.binary_sensor import (
    BinarySensorEntity,
    BinarySensorEntityDescription,
)
from homeassistant.components.binary_sensor.const import BinarySensorDeviceClass
from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import (
    EntityCategory,
    UnitOfPressure,
    UnitOfTemperature,
    UnitOfTime,
    UnitOfVolumeFlowRate,
)
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.typing import StateType

from ..meterlib.companions import HeatPumpStatus, OperatingMode
from .coordinator import HeatPumpConfigEntry, HeatPumpCoordinator
from .entity import CompanionEntity, HeatPumpStatusEntity
from .heatpump_thermal import thermal_entities


@dataclass(frozen=True, kw_only=True)
class HeatPumpSensorDescription(SensorEntityDescription):
    """A sensor computed from one `/status` answer."""

    value_fn: Callable[[HeatPumpStatus], StateType]


def _temperature(
    key: str, value_fn: Callable[[HeatPumpStatus], float | None]
) -> HeatPumpSensorDescription:
    return HeatPumpSensorDescription(
        key=key,
        translation_key=key,
        device_class=SensorDeviceClass.TEMPERATURE,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=UnitOfTemperature.CELSIUS,
        suggested_display_precision=1,
        value_fn=value_fn,
    )


OPERATING_STATES = [mode.value.lower() for mode in OperatingMode]

SENSORS: tuple[HeatPumpSensorDescription, ...] = (
    _temperature("flow_temperature", lambda status: status.flow_temperature),
    _temperature("return_temperature", lambda status: status.return_temperature),
    _temperature("outdoor_temperature", lambda status: status.outdoor_temperature),
    # Only in Heat mode: in Auto the service reports the Heat-mode setpoint
    # register, which the unit then ignores.
    _temperature(
        "target_temperature", lambda status: status.effective_target_temperature
    ),
    HeatPumpSensorDescription(
        key="temperature_delta",
        translation_key="temperature_delta",
        device_class=SensorDeviceClass.TEMPERATURE_DELTA,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=UnitOfTemperature.KELVIN,
        suggested_display_precision=1,
        value_fn=lambda status: (
            None if (delta := status.temperature_delta) is None else round(delta, 2)
        ),
    ),
    HeatPumpSensorDescription(
        key="flow_rate",
        translation_key="flow_rate",
        device_class=SensorDeviceClass.VOLUME_FLOW_RATE,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=UnitOfVolumeFlowRate.LITERS_PER_MINUTE,
        suggested_display_precision=1,
        value_fn=lambda status: status.flow_rate,
    ),
    HeatPumpSensorDescription(
        key="water_pressure",
        translation_key="water_pressure",
        device_class=SensorDeviceClass.PRESSURE,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=UnitOfPressure.BAR,
        suggested_display_precision=2,
        value_fn=lambda status: status.water_pressure,
    ),
    HeatPumpSensorDescription(
        key="error_code",
        translation_key="error_code",
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda status: status.error_code,
    ),
    HeatPumpSensorDescription(
        key="operating_state",
        translation_key="operating_state",
        device_class=SensorDeviceClass.ENUM,
        options=OPERATING_STATES,
        value_fn=lambda status: (
            status.operating_mode.value.lower() if status.operating_mode else None
        ),
    ),
)


@dataclass(frozen=True, kw_only=True)
class HeatPumpBinarySensorDescription(BinarySensorEntityDescription):
    """A binary sensor computed from one `/status` answer."""

    value_fn: Callable[[HeatPumpStatus], bool]


BINARY_SENSORS: tuple[HeatPumpBinarySensorDescription, ...] = (
    HeatPumpBinarySensorDescription(
        key="power",
        translation_key="power",
        device_class=BinarySensorDeviceClass.POWER,
        value_fn=lambda status: status.is_on,
    ),
    HeatPumpBinarySensorDescription(
        key="compressor",
        translation_key="compressor",
        device_class=BinarySensorDeviceClass.RUNNING,
        value_fn=lambda status: status.compressor_running,
    ),
    HeatPumpBinarySensorDescription(
        key="circulation_pump",
        translation_key="circulation_pump",
        device_class=BinarySensorDeviceClass.RUNNING,
        value_fn=lambda status: status.water_pump_running,
    ),
    HeatPumpBinarySensorDescription(
        key="error",
        translation_key="error",
        device_class=BinarySensorDeviceClass.PROBLEM,
        value_fn=lambda status: status.has_error,
    ),
)


class HeatPumpSensor(HeatPumpStatusEntity, SensorEntity):
    """A measurement of the heat pump."""

    entity_description: HeatPumpSensorDescription

    def __init__(
        self, coordinator: HeatPumpCoordinator, description: HeatPumpSensorDescription
    ) -> None:
        """Describe the sensor."""
        super().__init__(coordinator, description.key)
        self.entity_description = description

    @property
    def native_value(self) -> StateType:
        """Return the field from the latest status."""
        return self.entity_description.value_fn(self._status)


STATUS_AGE = SensorEntityDescription(
    key="status_age",
    translation_key="status_age",
    device_class=SensorDeviceClass.DURATION,
    # No state class: an age that changes at every poll is not worth statistics.
    native_unit_of_measurement=UnitOfTime.SECONDS,
    suggested_display_precision=0,
    entity_category=EntityCategory.DIAGNOSTIC,
)


class HeatPumpStatusAgeSensor(CompanionEntity[HeatPumpCoordinator], SensorEntity):
    """How old the service's reading of the pump is, from `/health`.

    Shows that the other entities are showing an old reading (the service
    calls it stale past 30 s); stays available while `/status` is not.
    """

    def __init__(self, coordinator: HeatPumpCoordinator) -> None:
        """Describe the sensor."""
        super().__init__(coordinator, STATUS_AGE.key)
        self.entity_description = STATUS_AGE

    @property
    def native_value(self) -> float | None:
        """Return the age in seconds (unknown when the service did not say)."""
        age = self.coordinator.data.status_age_seconds
        return None if age is None else round(age, 1)

    @property
    def extra_state_attributes(self) -> dict[str, bool]:
        """Whether the service calls its reading stale."""
        return {"stale": self.coordinator.data.stale}


class HeatPumpBinarySensor(HeatPumpStatusEntity, BinarySensorEntity):
    """A state of the heat pump (on, running, in error)."""

    entity_description: HeatPumpBinarySensorDescription

    def __init__(
        self,
        coordinator: HeatPumpCoordinator,
        description: HeatPumpBinarySensorDescription,
    ) -> None:
        """Describe the binary sensor."""
        super().__init__(coordinator, description.key)
        self.entity_description = description

    @property
    def is_on(self) -> bool:
        """Return the flag from the latest status."""
        return self.entity_description.value_fn(self._status)


async def async_setup_heat_pump_sensors(
    entry: HeatPumpConfigEntry, async_add_entities: AddConfigEntryEntitiesCallback
) -> None:
    """Add the measurements, and thermal power, heat energy and COP."""
    coordinator = entry.runtime_data
    entities: list[SensorEntity] = [
        HeatPumpSensor(coordinator, description) for description in SENSORS
    ]
    entities.append(HeatPumpStatusAgeSensor(coordinator))
    entities += thermal_entities(coordinator)
    async_add_entities(entities)


async def async_setup_heat_pump_binary_sensors(
    entry: HeatPumpConfigEntry, async_add_entities: AddConfigEntryEntitiesCallback
) -> None:
    """Add the on/running/error states."""
    coordinator = entry.runtime_data
    async_add_entities(
        HeatPumpBinarySensor(coordinator, description) for description in BINARY_SENSORS
    )
