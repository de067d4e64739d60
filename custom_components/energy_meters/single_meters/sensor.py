"""Sensors of the MQTT and HTTP meters, and the guarded twin of another sensor.

They use the Modbus meters' descriptions (`meter_descriptions`), so a power
or energy sensor has the same unit, precision and state class whatever the
meter speaks, and the Energy dashboard takes them all alike. An MQTT or HTTP
meter is a device of its own; the guarded twin joins the device of the
sensor it guards, as Home Assistant's helpers do, and carries its own name.
"""

from typing import Final, override

from homeassistant.components.sensor import SensorDeviceClass, SensorEntity
from homeassistant.const import UnitOfElectricCurrent, UnitOfElectricPotential
from homeassistant.helpers.device import async_entity_id_to_device
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from ..const import CONF_KIND, DOMAIN, KIND_GUARD, KIND_MQTT_METER
from ..meter_descriptions import MeterSensorDescription, energy, power, simple
from ..meterlib.model import Quantity
from ..meterlib.payload import Field
from .guard import GuardedSensor
from .meter import SingleMeter, SingleMeterConfigEntry

FIELD_DESCRIPTIONS: Final[dict[Field, MeterSensorDescription]] = {
    Field.POWER: power(Quantity.POWER_TOTAL, "power"),
    Field.ENERGY: energy(Quantity.ENERGY_IMPORT_TOTAL, "energy"),
    Field.VOLTAGE: simple(
        Quantity.VOLTAGE_AVG,
        "voltage",
        SensorDeviceClass.VOLTAGE,
        UnitOfElectricPotential.VOLT,
        2,
    ),
    Field.CURRENT: simple(
        Quantity.CURRENT_AVG,
        "current",
        SensorDeviceClass.CURRENT,
        UnitOfElectricCurrent.AMPERE,
        3,
    ),
    Field.POWER_FACTOR: simple(
        Quantity.POWER_FACTOR, "power_factor", SensorDeviceClass.POWER_FACTOR, None, 3
    ),
    Field.FREQUENCY: simple(
        Quantity.FREQUENCY, "frequency", SensorDeviceClass.FREQUENCY, "Hz", 3
    ),
}


async def async_setup_single_meter_sensors(
    entry: SingleMeterConfigEntry, async_add_entities: AddConfigEntryEntitiesCallback
) -> None:
    """One sensor per field the meter can report."""
    meter = entry.runtime_data
    async_add_entities(
        SingleMeterSensor(meter, FIELD_DESCRIPTIONS[which])
        for which in Field
        if which in meter.fields
    )


class SingleMeterSensor(CoordinatorEntity[SingleMeter], SensorEntity):
    """One filtered value of an MQTT meter, an HTTP meter or a guarded sensor."""

    entity_description: MeterSensorDescription

    def __init__(self, meter: SingleMeter, description: MeterSensorDescription) -> None:
        """Attach to the meter's device, or, for a twin, to its source's device."""
        super().__init__(meter)
        entry = meter.config_entry
        self.entity_description = description
        self._attr_unique_id = f"{entry.entry_id}_{description.key}"
        if entry.data[CONF_KIND] == KIND_GUARD and isinstance(meter, GuardedSensor):
            # A helper-like twin: its own name, on the source's device if any.
            self._attr_has_entity_name = False
            self._attr_name = entry.title
            self._attr_translation_key = None
            self.device_entry = async_entity_id_to_device(meter.hass, meter.source)
            return
        self._attr_has_entity_name = True
        self._attr_device_info = DeviceInfo(
            identifiers={(DOMAIN, entry.entry_id)},
            name=entry.title,
            model="MQTT meter"
            if entry.data[CONF_KIND] == KIND_MQTT_METER
            else "HTTP meter",
        )

    @property
    @override
    def available(self) -> bool:
        """Unavailable while the meter is offline or has failed several polls."""
        return self.coordinator.available

    @property
    @override
    def native_value(self) -> float | None:
        """The latest filtered value, rounded; None until one has arrived."""
        value = self.coordinator.status.published.get(self.entity_description.quantity)
        if value is None:
            return None
        return round(value, self.entity_description.digits)
