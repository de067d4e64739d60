"""The thermostat service: a climate entity, its settings, a device per BLU sensor.

Every change is a read-modify-write of the whole thermostat config (the
service replaces the config on each POST, resetting whatever is left out),
done by the library's `update_config`; the value written shows at once and
the entities then show the config as the service reports it on the next
poll, which runs at once. The relay follows a change only at the service's
next control-loop run (minutes later): the climate's action shows that when
it happens, and "Switch locked until" when the minimum on/off time holds it.

Presets map the service's modes: AUTO regulates to the target temperature,
ECO to the eco temperature, ON forces the heating on; OFF is the HVAC mode
off. The target temperature shown and set is the one the current preset
regulates to. The last preset survives a restart, so turning the thermostat
on again brings it back. BLU sensors that appear later get their device and
entities when first seen.

Each part fails alone: with the Shelly relay unreachable the status
endpoint answers 503, but the config and the BLU sensors' readings still
come, so the climate keeps its mode, target and room temperature (only its
action is unknown) and the sensors stay current.
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
    UnitOfTime,
)
from homeassistant.core import callback
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.restore_state import (
    ExtraStoredData,
    RestoredExtraData,
    RestoreEntity,
)
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from ..meterlib.companions import ThermostatConfig, ThermostatMode
from ..meterlib.companions.thermostat import (
    MAX_CONTROL_INTERVAL,
    MAX_HYSTERESIS,
    MAX_ON_OFF_TIME,
    MAX_SAMPLE_COUNT,
    MAX_TEMPERATURE,
    MIN_CONTROL_INTERVAL,
    MIN_HYSTERESIS,
    MIN_ON_OFF_TIME,
    MIN_SAMPLE_COUNT,
    MIN_TEMPERATURE,
)
from .coordinator import (
    ThermostatConfigEntry,
    ThermostatCoordinator,
    ThermostatData,
)
from .entity import (
    CompanionControlEntity,
    CompanionEntity,
    blu_sensor_identifier,
)

INDOOR_SENSOR = "temp_indoor"
"""The sensor the service regulates on."""

PRESETS = {
    "auto": ThermostatMode.AUTO,
    "eco": ThermostatMode.ECO,
    "on": ThermostatMode.ON,
}
_PRESET_OF_MODE = {mode: preset for preset, mode in PRESETS.items()}

CLIMATE = ClimateEntityDescription(
    key="thermostat", translation_key="thermostat", name=None
)


class Thermostat(
    CompanionControlEntity[ThermostatCoordinator], ClimateEntity, RestoreEntity
):
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
    def _config(self) -> ThermostatConfig | None:
        """The config as shown (pending writes applied); None when unknown."""
        return self.coordinator.shown_config()

    @property
    def native_current_temperature(self) -> float | None:
        """Return the room temperature the thermostat regulates on.

        From the status; while it fails (Shelly relay gone), from the indoor
        sensor's latest reading, which is the same value.
        """
        if not self.coordinator.last_update_success:
            return None
        data = self.coordinator.data
        if data.status is not None:
            return data.status.current_temp
        for reading in (data.readings or {}).values():
            if reading.sensor_name == INDOOR_SENSOR:
                return reading.temperature
        return None

    @property
    def native_target_temperature(self) -> float | None:
        """Return the temperature the current preset regulates to."""
        config = self._config
        if config is None:
            return None
        return (
            config.eco_temp if config.mode is ThermostatMode.ECO else config.target_temp
        )

    @property
    def current_temperature(self) -> float | None:
        """Return the room temperature under the name Home Assistant 2026.10 reads."""
        return self.native_current_temperature

    @property
    def target_temperature(self) -> float | None:
        """Return the target under the name Home Assistant 2026.10 reads."""
        return self.native_target_temperature

    @property
    def hvac_mode(self) -> HVACMode | None:
        """Return off for mode OFF, heat for any other; None without a config."""
        config = self._config
        if config is None:
            return None
        return HVACMode.OFF if config.mode is ThermostatMode.OFF else HVACMode.HEAT

    @property
    def hvac_action(self) -> HVACAction | None:
        """Return heating while the switch is on, idle (or off) otherwise.

        Unknown while the status (the relay's state) is missing.
        """
        if not self.coordinator.last_update_success:
            return None
        status = self.coordinator.data.status
        if status is None:
            return None
        if status.switch_state:
            return HVACAction.HEATING
        return HVACAction.OFF if self.hvac_mode is HVACMode.OFF else HVACAction.IDLE

    @property
    def preset_mode(self) -> str | None:
        """Return auto, eco or on; none while off."""
        config = self._config
        return None if config is None else _PRESET_OF_MODE.get(config.mode)

    async def async_added_to_hass(self) -> None:
        """Bring back the last preset from before the restart."""
        await super().async_added_to_hass()
        extra = await self.async_get_last_extra_data()
        restored = extra.as_dict().get("last_preset") if extra is not None else None
        if restored in PRESETS:
            self._last_preset = str(restored)
        if self.preset_mode is not None:
            self._last_preset = self.preset_mode

    @property
    def extra_restore_state_data(self) -> ExtraStoredData:
        """Save the last preset: "on" after a restart brings it back."""
        return RestoredExtraData({"last_preset": self._last_preset})

    @callback
    def _handle_coordinator_update(self) -> None:
        """Remember the last preset, so turning on again restores it."""
        if self.preset_mode is not None:
            self._last_preset = self.preset_mode
        super()._handle_coordinator_update()

    async def async_set_temperature(self, **kwargs: Any) -> None:
        """Set the temperature of the current preset (eco in ECO, else target)."""
        temperature = float(kwargs[ATTR_TEMPERATURE])
        config = self._config
        eco = config is not None and config.mode is ThermostatMode.ECO
        await self.coordinator.async_update_config(
            **{"eco_temp" if eco else "target_temp": temperature}
        )

    async def async_set_hvac_mode(self, hvac_mode: HVACMode) -> None:
        """Off, or heat with the preset used last."""
        if hvac_mode is HVACMode.OFF:
            await self.coordinator.async_update_config(mode=ThermostatMode.OFF)
        else:
            await self.coordinator.async_update_config(mode=PRESETS[self._last_preset])

    async def async_set_preset_mode(self, preset_mode: str) -> None:
        """Switch to AUTO, ECO or ON."""
        self._last_preset = preset_mode
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
        status = (
            self.coordinator.data.status
            if self.coordinator.last_update_success
            else None
        )
        return {
            "reason": status.reason if status else None,
            "active_target": status.active_target if status else None,
        }


@dataclass(frozen=True, kw_only=True)
class ThermostatNumberDescription(NumberEntityDescription):
    """A thermostat config field as a number."""

    field: str
    whole: bool = False
    """The service takes whole numbers (minutes, seconds, a count)."""


def _whole(
    key: str, field: str, low: int, high: int, unit: str | None
) -> ThermostatNumberDescription:
    return ThermostatNumberDescription(
        key=key,
        translation_key=key,
        field=field,
        whole=True,
        device_class=NumberDeviceClass.DURATION if unit else None,
        native_unit_of_measurement=unit,
        native_min_value=low,
        native_max_value=high,
        native_step=1,
        mode=NumberMode.BOX,
        entity_category=EntityCategory.CONFIG,
    )


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
    _whole(
        "min_on_time",
        "min_on_time",
        MIN_ON_OFF_TIME,
        MAX_ON_OFF_TIME,
        UnitOfTime.MINUTES,
    ),
    _whole(
        "min_off_time",
        "min_off_time",
        MIN_ON_OFF_TIME,
        MAX_ON_OFF_TIME,
        UnitOfTime.MINUTES,
    ),
    _whole(
        "temp_sample_count",
        "temp_sample_count",
        MIN_SAMPLE_COUNT,
        MAX_SAMPLE_COUNT,
        None,
    ),
    _whole(
        "control_interval",
        "control_interval",
        MIN_CONTROL_INTERVAL,
        MAX_CONTROL_INTERVAL,
        UnitOfTime.SECONDS,
    ),
)


class ThermostatNumber(CompanionControlEntity[ThermostatCoordinator], NumberEntity):
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
    def native_value(self) -> float | None:
        """Return the field as written (pending) or as the service reports it."""
        config = self.coordinator.shown_config()
        if config is None:
            return None
        value: float = getattr(config, self.entity_description.field)
        return value

    async def async_set_native_value(self, value: float) -> None:
        """Change this field only (read-modify-write of the whole config)."""
        description = self.entity_description
        written: float = round(value) if description.whole else round(value, 1)
        await self.coordinator.async_update_config(**{description.field: written})


@dataclass(frozen=True, kw_only=True)
class BluSensorDescription(SensorEntityDescription):
    """A value of one BLU sensor."""

    value_fn: Callable[[ThermostatData, str], float | datetime | None]
    needs_reading: bool = True
    """Unavailable when the sensor was not heard in the last hour."""


def _reading(data: ThermostatData, sensor_id: str, name: str) -> float | None:
    reading = (data.readings or {}).get(sensor_id)
    value: float | None = getattr(reading, name) if reading else None
    return value


def _last_seen(data: ThermostatData, sensor_id: str) -> datetime | None:
    """Return the latest of the two lists' timestamps for this sensor."""
    reading = (data.readings or {}).get(sensor_id)
    info = (data.sensors or {}).get(sensor_id)
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
        suggested_display_precision=0,
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
    reading = (data.readings or {}).get(sensor_id)
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
        readings, sensors = data.readings or {}, data.sensors or {}
        if self.entity_description.needs_reading:
            return self.sensor_id in readings
        return self.sensor_id in readings or self.sensor_id in sensors

    @property
    def native_value(self) -> float | datetime | None:
        """Return the value from the latest poll."""
        return self.entity_description.value_fn(self.coordinator.data, self.sensor_id)


SWITCH_LOCKED_UNTIL = SensorEntityDescription(
    key="switch_locked_until",
    translation_key="switch_locked_until",
    device_class=SensorDeviceClass.TIMESTAMP,
    entity_category=EntityCategory.DIAGNOSTIC,
)


class SwitchLockedUntilSensor(CompanionEntity[ThermostatCoordinator], SensorEntity):
    """Until when the minimum on/off time keeps the relay as it is.

    Explains why the heating does not follow a change at once; unknown while
    nothing holds it.
    """

    def __init__(self, coordinator: ThermostatCoordinator) -> None:
        """Describe the sensor."""
        super().__init__(coordinator, SWITCH_LOCKED_UNTIL.key)
        self.entity_description = SWITCH_LOCKED_UNTIL

    @property
    def available(self) -> bool:
        """Fed by the status: unavailable while it fails."""
        return super().available and self.coordinator.data.status is not None

    @property
    def native_value(self) -> datetime | None:
        """Return the time the lock ends."""
        status = self.coordinator.data.status
        return status.switch_locked_until if status is not None else None


async def async_setup_thermostat_climate(
    entry: ThermostatConfigEntry, async_add_entities: AddConfigEntryEntitiesCallback
) -> None:
    """Add the climate entity."""
    async_add_entities([Thermostat(entry.runtime_data)])


async def async_setup_thermostat_numbers(
    entry: ThermostatConfigEntry, async_add_entities: AddConfigEntryEntitiesCallback
) -> None:
    """Add the thermostat's settings."""
    async_add_entities(
        ThermostatNumber(entry.runtime_data, description) for description in NUMBERS
    )


async def async_setup_thermostat_sensors(
    entry: ThermostatConfigEntry, async_add_entities: AddConfigEntryEntitiesCallback
) -> None:
    """Add the BLU sensors known now, and any that appears later."""
    coordinator = entry.runtime_data
    async_add_entities([SwitchLockedUntilSensor(coordinator)])
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
