"""The thermostat service: a climate entity, two numbers, a device per BLU sensor.

Every change is a read-modify-write of the whole thermostat config (the
service replaces the config on each POST, resetting whatever is left out),
done by the library's `update_config`; the entities then show the config as
the service reports it on the next poll, which runs at once.

Presets map the service's modes: AUTO regulates to the target temperature,
ECO to the eco temperature, ON forces the heating on; OFF is the HVAC mode
off. The target temperature shown and set is the one the current preset
regulates to. BLU sensors that appear later get their device and entities
when first seen.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from homeassistant.components.climate import ClimateEntity, ClimateEntityDescription
from homeassistant.components.climate.const import (
    ClimateEntityFeature,
    HVACAction,
    HVACMode,
)
from homeassistant.components.number import (
    NumberDeviceClass,
    NumberEntity,
    NumberEntityDescription,
    NumberMode,
)
from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import (
    ATTR_TEMPERATURE,
    PERCENTAGE,
    EntityCategory,
    UnitOfTemperature,
)
from homeassistant.core import callback
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from .companion_coordinator import (
    ThermostatConfigEntry,
    ThermostatCoordinator,
    ThermostatData,
)
from .companion_entity import CompanionEntity, blu_sensor_identifier
from .meterlib.companions import ThermostatConfig, ThermostatMode
from .meterlib.companions.thermostat import (
    MAX_HYSTERESIS,
    MAX_TEMPERATURE,
    MIN_HYSTERESIS,
    MIN_TEMPERATURE,
)

PRESETS = {
    "auto": ThermostatMode.AUTO,
    "eco": ThermostatMode.ECO,
    "on": ThermostatMode.ON,
}
_PRESET_OF_MODE = {mode: preset for preset, mode in PRESETS.items()}

CLIMATE = ClimateEntityDescription(
    key="thermostat", translation_key="thermostat", name=None
)


class Thermostat(CompanionEntity[ThermostatCoordinator], ClimateEntity):
    """The thermostat: heat (with a preset) or off.

    Home Assistant 2026.11 reads the temperatures and their unit under native_
    names; a class that provides only the old names gets a warning at every
    start, and stops working in 2027.11. 2026.10 knows only the old names. So
    the class provides both: 2026.11 takes the native ones and, as the class
    provides them, warns about nothing. The old names can go once 2026.11 is
    the oldest release supported (hacs.json).
    """

    _attr_native_temperature_unit = UnitOfTemperature.CELSIUS
    _attr_temperature_unit = UnitOfTemperature.CELSIUS  # Home Assistant 2026.10
    _attr_min_temp = MIN_TEMPERATURE
    _attr_max_temp = MAX_TEMPERATURE
    _attr_target_temperature_step = 0.5
    _attr_supported_features = (
        ClimateEntityFeature.TARGET_TEMPERATURE
        | ClimateEntityFeature.PRESET_MODE
        | ClimateEntityFeature.TURN_ON
        | ClimateEntityFeature.TURN_OFF
    )

    def __init__(self, coordinator: ThermostatCoordinator) -> None:
        """Describe the climate entity; it takes the device's name."""
        super().__init__(coordinator, CLIMATE.key)
        self.entity_description = CLIMATE
        self._attr_hvac_modes = [HVACMode.HEAT, HVACMode.OFF]
        self._attr_preset_modes = list(PRESETS)
        self._last_preset = self.preset_mode or "auto"

    @property
    def _config(self) -> ThermostatConfig:
        return self.coordinator.data.status.config

    @property
    def native_current_temperature(self) -> float | None:
        """Return the room temperature the thermostat regulates on."""
        return self.coordinator.data.status.current_temp

    @property
    def native_target_temperature(self) -> float:
        """Return the temperature the current preset regulates to."""
        config = self._config
        return (
            config.eco_temp if config.mode is ThermostatMode.ECO else config.target_temp
        )

    @property
    def current_temperature(self) -> float | None:
        """Return the room temperature under the name Home Assistant 2026.10 reads."""
        return self.native_current_temperature

    @property
    def target_temperature(self) -> float:
        """Return the target under the name Home Assistant 2026.10 reads."""
        return self.native_target_temperature

    @property
    def hvac_mode(self) -> HVACMode:
        """Return off for mode OFF, heat for any other."""
        return (
            HVACMode.OFF if self._config.mode is ThermostatMode.OFF else HVACMode.HEAT
        )

    @property
    def hvac_action(self) -> HVACAction:
        """Return heating while the switch is on, idle (or off) otherwise."""
        if self.coordinator.data.status.switch_state:
            return HVACAction.HEATING
        return HVACAction.OFF if self.hvac_mode is HVACMode.OFF else HVACAction.IDLE

    @property
    def preset_mode(self) -> str | None:
        """Return auto, eco or on; none while off."""
        return _PRESET_OF_MODE.get(self._config.mode)

    @callback
    def _handle_coordinator_update(self) -> None:
        """Remember the last preset, so turning on again restores it."""
        if self.coordinator.last_update_success and self.preset_mode is not None:
            self._last_preset = self.preset_mode
        super()._handle_coordinator_update()

    async def async_set_temperature(self, **kwargs: Any) -> None:
        """Set the temperature of the current preset (eco in ECO, else target)."""
        temperature = float(kwargs[ATTR_TEMPERATURE])
        key = "eco_temp" if self._config.mode is ThermostatMode.ECO else "target_temp"
        await self.coordinator.async_update_config(**{key: temperature})

    async def async_set_hvac_mode(self, hvac_mode: HVACMode) -> None:
        """Off, or heat with the preset used last."""
        if hvac_mode is HVACMode.OFF:
            await self.coordinator.async_update_config(mode=ThermostatMode.OFF)
        else:
            await self.coordinator.async_update_config(mode=PRESETS[self._last_preset])

    async def async_set_preset_mode(self, preset_mode: str) -> None:
        """Switch to AUTO, ECO or ON."""
        await self.coordinator.async_update_config(mode=PRESETS[preset_mode])

    async def async_turn_on(self) -> None:
        """Heat with the preset used last."""
        await self.async_set_hvac_mode(HVACMode.HEAT)

    async def async_turn_off(self) -> None:
        """Force the heating off."""
        await self.async_set_hvac_mode(HVACMode.OFF)

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """Why the control loop decided as it did."""
        status = self.coordinator.data.status
        return {"reason": status.reason, "active_target": status.active_target}


@dataclass(frozen=True, kw_only=True)
class ThermostatNumberDescription(NumberEntityDescription):
    """A thermostat config field as a number."""

    field: str


NUMBERS: tuple[ThermostatNumberDescription, ...] = (
    ThermostatNumberDescription(
        key="eco_temperature",
        translation_key="eco_temperature",
        field="eco_temp",
        device_class=NumberDeviceClass.TEMPERATURE,
        native_unit_of_measurement=UnitOfTemperature.CELSIUS,
        native_min_value=MIN_TEMPERATURE,
        native_max_value=MAX_TEMPERATURE,
        native_step=0.5,
        mode=NumberMode.BOX,
        entity_category=EntityCategory.CONFIG,
    ),
    ThermostatNumberDescription(
        key="hysteresis",
        translation_key="hysteresis",
        field="hysteresis",
        device_class=NumberDeviceClass.TEMPERATURE_DELTA,
        native_unit_of_measurement=UnitOfTemperature.KELVIN,
        native_min_value=MIN_HYSTERESIS,
        native_max_value=MAX_HYSTERESIS,
        native_step=0.1,
        mode=NumberMode.BOX,
        entity_category=EntityCategory.CONFIG,
    ),
)


class ThermostatNumber(CompanionEntity[ThermostatCoordinator], NumberEntity):
    """A thermostat setting; writing it keeps every other config field."""

    entity_description: ThermostatNumberDescription

    def __init__(
        self,
        coordinator: ThermostatCoordinator,
        description: ThermostatNumberDescription,
    ) -> None:
        """Describe the number."""
        super().__init__(coordinator, description.key)
        self.entity_description = description

    @property
    def native_value(self) -> float:
        """Return the field as the service reports it."""
        value: float = getattr(
            self.coordinator.data.status.config, self.entity_description.field
        )
        return value

    async def async_set_native_value(self, value: float) -> None:
        """Change this field only (read-modify-write of the whole config)."""
        await self.coordinator.async_update_config(
            **{self.entity_description.field: round(value, 1)}
        )


@dataclass(frozen=True, kw_only=True)
class BluSensorDescription(SensorEntityDescription):
    """A value of one BLU sensor."""

    value_fn: Callable[[ThermostatData, str], float | datetime | None]
    needs_reading: bool = True
    """Unavailable when the sensor was not heard in the last hour."""


def _reading(data: ThermostatData, sensor_id: str, name: str) -> float | None:
    reading = data.readings.get(sensor_id)
    value: float | None = getattr(reading, name) if reading else None
    return value


def _last_seen(data: ThermostatData, sensor_id: str) -> datetime | None:
    """Return the latest of the two lists' timestamps for this sensor."""
    reading = data.readings.get(sensor_id)
    info = data.sensors.get(sensor_id)
    moments = [
        moment
        for moment in (
            reading.timestamp if reading else None,
            info.last_seen if info else None,
        )
        if moment is not None
    ]
    return max(moments, default=None)


BLU_SENSORS: tuple[BluSensorDescription, ...] = (
    BluSensorDescription(
        key="temperature",
        device_class=SensorDeviceClass.TEMPERATURE,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=UnitOfTemperature.CELSIUS,
        suggested_display_precision=1,
        value_fn=lambda data, sensor_id: _reading(data, sensor_id, "temperature"),
    ),
    BluSensorDescription(
        key="humidity",
        device_class=SensorDeviceClass.HUMIDITY,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=PERCENTAGE,
        suggested_display_precision=0,
        value_fn=lambda data, sensor_id: _reading(data, sensor_id, "humidity"),
    ),
    BluSensorDescription(
        key="battery",
        device_class=SensorDeviceClass.BATTERY,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=PERCENTAGE,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda data, sensor_id: _reading(data, sensor_id, "battery"),
    ),
    BluSensorDescription(
        key="last_seen",
        translation_key="last_seen",
        device_class=SensorDeviceClass.TIMESTAMP,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=_last_seen,
        needs_reading=False,
    ),
)


def _device_name(data: ThermostatData, sensor_id: str) -> str:
    """Return a readable name: "temp_indoor" becomes "Temp indoor"."""
    reading = data.readings.get(sensor_id)
    if reading is None:
        return f"BLU sensor {sensor_id}"
    return reading.sensor_name.replace("_", " ").strip().capitalize() or sensor_id


class BluSensor(CoordinatorEntity[ThermostatCoordinator], SensorEntity):
    """A value of one BLU H&T, on its own device below the thermostat service."""

    _attr_has_entity_name = True
    entity_description: BluSensorDescription

    def __init__(
        self,
        coordinator: ThermostatCoordinator,
        sensor_id: str,
        description: BluSensorDescription,
    ) -> None:
        """Attach to the sensor's device; unique id = entry id + sensor id + key."""
        super().__init__(coordinator)
        entry_id = coordinator.config_entry.entry_id
        self.sensor_id = sensor_id
        self.entity_description = description
        self._attr_unique_id = f"{entry_id}_{sensor_id}_{description.key}"
        self._attr_device_info = DeviceInfo(
            identifiers={blu_sensor_identifier(entry_id, sensor_id)},
            name=_device_name(coordinator.data, sensor_id),
            manufacturer="Shelly",
            model="BLU H&T",
            serial_number=sensor_id,
            via_device_id=coordinator.device_id,
        )

    @property
    def available(self) -> bool:
        """Unavailable when the service fails, or (for readings) not heard lately."""
        if not super().available:
            return False
        data = self.coordinator.data
        if self.entity_description.needs_reading:
            return self.sensor_id in data.readings
        return self.sensor_id in data.readings or self.sensor_id in data.sensors

    @property
    def native_value(self) -> float | datetime | None:
        """Return the value from the latest poll."""
        return self.entity_description.value_fn(self.coordinator.data, self.sensor_id)


async def async_setup_thermostat_climate(
    entry: ThermostatConfigEntry, async_add_entities: AddConfigEntryEntitiesCallback
) -> None:
    """Add the climate entity."""
    async_add_entities([Thermostat(entry.runtime_data)])


async def async_setup_thermostat_numbers(
    entry: ThermostatConfigEntry, async_add_entities: AddConfigEntryEntitiesCallback
) -> None:
    """Add the eco temperature and hysteresis."""
    async_add_entities(
        ThermostatNumber(entry.runtime_data, description) for description in NUMBERS
    )


async def async_setup_thermostat_sensors(
    entry: ThermostatConfigEntry, async_add_entities: AddConfigEntryEntitiesCallback
) -> None:
    """Add the BLU sensors known now, and any that appears later."""
    coordinator = entry.runtime_data
    known: set[str] = set()

    @callback
    def add_new_sensors() -> None:
        if not coordinator.last_update_success:
            return
        new = [
            sensor_id
            for sensor_id in coordinator.data.sensor_ids()
            if sensor_id not in known
        ]
        if not new:
            return
        known.update(new)
        async_add_entities(
            BluSensor(coordinator, sensor_id, description)
            for sensor_id in new
            for description in BLU_SENSORS
        )

    add_new_sensors()
    entry.async_on_unload(coordinator.async_add_listener(add_new_sensors))
