"""Sensor entities: one description per quantity, shared by every profile.

A meter gets the sensors for the quantities its profile maps, and nothing
else, so adding a meter model never means adding entity code.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.config_entries import ConfigSubentry
from homeassistant.const import (
    EntityCategory,
    UnitOfApparentPower,
    UnitOfElectricCurrent,
    UnitOfElectricPotential,
    UnitOfEnergy,
    UnitOfFrequency,
    UnitOfPower,
    UnitOfReactiveEnergy,
    UnitOfReactivePower,
    UnitOfTime,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .companion import is_companion
from .companion_sensor import async_setup_companion_sensors
from .coordinator import (
    EnergyMetersConfigEntry,
    GatewayCoordinator,
    MeterStatus,
    meter_subentries,
)
from .entity import MeterEntity
from .meterlib.model import Quantity
from .signal_entities import async_setup_load_level_sensors
from .site import SiteConfigEntry, is_site
from .site_sensor import async_setup_site_sensors

# Each meter is read by its gateway's coordinator; entities never poll.
PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class MeterSensorDescription(SensorEntityDescription):
    """Describes a sensor for one quantity of our vocabulary.

    `digits` rounds the published state: a float32 register turned into watts
    carries noise in the seventh digit that nobody should see in a history.
    """

    quantity: Quantity
    digits: int


def _simple(
    quantity: Quantity,
    key: str,
    device_class: SensorDeviceClass,
    unit: str | None,
    digits: int,
    *,
    enabled: bool = True,
    state_class: SensorStateClass = SensorStateClass.MEASUREMENT,
    precision: int | None = None,
) -> MeterSensorDescription:
    """One quantity's sensor: published with `digits`, shown with `precision`."""
    return MeterSensorDescription(
        key=key,
        translation_key=key,
        quantity=quantity,
        device_class=device_class,
        state_class=state_class,
        native_unit_of_measurement=unit,
        suggested_display_precision=min(digits, 2) if precision is None else precision,
        digits=digits,
        entity_registry_enabled_default=enabled,
    )


def _power(
    quantity: Quantity, key: str, *, enabled: bool = True
) -> MeterSensorDescription:
    """Active power in W (meters in kW are converted when decoding)."""
    return _simple(
        quantity,
        key,
        SensorDeviceClass.POWER,
        UnitOfPower.WATT,
        1,
        enabled=enabled,
        precision=0,
    )


def _energy(
    quantity: Quantity, key: str, *, enabled: bool = True
) -> MeterSensorDescription:
    """An energy counter in kWh, ready for the Energy dashboard."""
    return _simple(
        quantity,
        key,
        SensorDeviceClass.ENERGY,
        UnitOfEnergy.KILO_WATT_HOUR,
        3,
        enabled=enabled,
        state_class=SensorStateClass.TOTAL_INCREASING,
    )


_V = UnitOfElectricPotential.VOLT
_A = UnitOfElectricCurrent.AMPERE
_VOLTAGE = SensorDeviceClass.VOLTAGE
_CURRENT = SensorDeviceClass.CURRENT
_PF = SensorDeviceClass.POWER_FACTOR
_VAR = SensorDeviceClass.REACTIVE_POWER
_VA = SensorDeviceClass.APPARENT_POWER
_Q = Quantity

DESCRIPTIONS: tuple[MeterSensorDescription, ...] = (
    _power(_Q.POWER_TOTAL, "power"),
    _power(_Q.POWER_L1, "power_l1"),
    _power(_Q.POWER_L2, "power_l2"),
    _power(_Q.POWER_L3, "power_l3"),
    _energy(_Q.ENERGY_IMPORT_TOTAL, "energy_import"),
    _energy(_Q.ENERGY_IMPORT_L1, "energy_import_l1"),
    _energy(_Q.ENERGY_IMPORT_L2, "energy_import_l2"),
    _energy(_Q.ENERGY_IMPORT_L3, "energy_import_l3"),
    _energy(_Q.ENERGY_EXPORT_TOTAL, "energy_export"),
    _energy(_Q.ENERGY_EXPORT_L1, "energy_export_l1", enabled=False),
    _energy(_Q.ENERGY_EXPORT_L2, "energy_export_l2", enabled=False),
    _energy(_Q.ENERGY_EXPORT_L3, "energy_export_l3", enabled=False),
    _energy(_Q.ENERGY_TOTAL, "energy_total", enabled=False),
    _simple(_Q.VOLTAGE_L1, "voltage_l1", _VOLTAGE, _V, 2),
    _simple(_Q.VOLTAGE_L2, "voltage_l2", _VOLTAGE, _V, 2),
    _simple(_Q.VOLTAGE_L3, "voltage_l3", _VOLTAGE, _V, 2),
    _simple(_Q.VOLTAGE_AVG, "voltage_avg", _VOLTAGE, _V, 2, enabled=False),
    _simple(_Q.VOLTAGE_L1_L2, "voltage_l1_l2", _VOLTAGE, _V, 2, enabled=False),
    _simple(_Q.VOLTAGE_L1_L3, "voltage_l1_l3", _VOLTAGE, _V, 2, enabled=False),
    _simple(_Q.VOLTAGE_L2_L3, "voltage_l2_l3", _VOLTAGE, _V, 2, enabled=False),
    _simple(_Q.CURRENT_L1, "current_l1", _CURRENT, _A, 3),
    _simple(_Q.CURRENT_L2, "current_l2", _CURRENT, _A, 3),
    _simple(_Q.CURRENT_L3, "current_l3", _CURRENT, _A, 3),
    _simple(_Q.CURRENT_AVG, "current_avg", _CURRENT, _A, 3, enabled=False),
    _simple(
        _Q.FREQUENCY, "frequency", SensorDeviceClass.FREQUENCY, UnitOfFrequency.HERTZ, 3
    ),
    _simple(_Q.POWER_FACTOR, "power_factor", _PF, None, 3),
    _simple(_Q.POWER_FACTOR_L1, "power_factor_l1", _PF, None, 3, enabled=False),
    _simple(_Q.POWER_FACTOR_L2, "power_factor_l2", _PF, None, 3, enabled=False),
    _simple(_Q.POWER_FACTOR_L3, "power_factor_l3", _PF, None, 3, enabled=False),
    _simple(
        _Q.REACTIVE_POWER_TOTAL,
        "reactive_power",
        _VAR,
        UnitOfReactivePower.VOLT_AMPERE_REACTIVE,
        1,
        enabled=False,
    ),
    *(
        _simple(
            quantity,
            quantity.value,
            _VAR,
            UnitOfReactivePower.VOLT_AMPERE_REACTIVE,
            1,
            enabled=False,
        )
        for quantity in (
            _Q.REACTIVE_POWER_L1,
            _Q.REACTIVE_POWER_L2,
            _Q.REACTIVE_POWER_L3,
        )
    ),
    _simple(
        _Q.APPARENT_POWER_TOTAL,
        "apparent_power",
        _VA,
        UnitOfApparentPower.VOLT_AMPERE,
        1,
        enabled=False,
    ),
    *(
        _simple(
            quantity,
            quantity.value,
            _VA,
            UnitOfApparentPower.VOLT_AMPERE,
            1,
            enabled=False,
        )
        for quantity in (
            _Q.APPARENT_POWER_L1,
            _Q.APPARENT_POWER_L2,
            _Q.APPARENT_POWER_L3,
        )
    ),
    *(
        _simple(
            quantity,
            quantity.value,
            SensorDeviceClass.REACTIVE_ENERGY,
            UnitOfReactiveEnergy.KILO_VOLT_AMPERE_REACTIVE_HOUR,
            3,
            enabled=False,
            state_class=SensorStateClass.TOTAL_INCREASING,
        )
        for quantity in (
            _Q.REACTIVE_ENERGY_TOTAL,
            _Q.REACTIVE_ENERGY_IMPORT,
            _Q.REACTIVE_ENERGY_EXPORT,
        )
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: EnergyMetersConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the sensors of every meter, each under its own subentry."""
    if is_companion(entry):  # a heat-pump or thermostat service
        await async_setup_companion_sensors(entry, async_add_entities)
        return
    if is_site(entry):  # the Site's sums over all gateways
        await async_setup_site_sensors(
            cast("SiteConfigEntry", entry), async_add_entities
        )
        return
    async_setup_load_level_sensors(entry, async_add_entities)
    coordinator = entry.runtime_data
    for subentry in meter_subentries(entry):
        reader = coordinator.readers.get(subentry.subentry_id)
        if reader is None:
            continue
        profile = reader.profile
        entities: list[SensorEntity] = [
            MeterSensor(coordinator, subentry, description)
            for description in DESCRIPTIONS
            if description.quantity in profile.quantities
        ]
        entities += [
            MeterHealthSensor(coordinator, subentry, description)
            for description in HEALTH_DESCRIPTIONS
        ]
        async_add_entities(entities, config_subentry_id=subentry.subentry_id)


class MeterSensor(MeterEntity, SensorEntity):
    """A measured quantity of one meter."""

    entity_description: MeterSensorDescription

    def __init__(
        self,
        coordinator: GatewayCoordinator,
        subentry: ConfigSubentry,
        description: MeterSensorDescription,
    ) -> None:
        """Describe the sensor from its quantity."""
        profile = coordinator.readers[subentry.subentry_id].profile
        super().__init__(coordinator, subentry, profile, description.key)
        self.entity_description = description

    @property
    def native_value(self) -> float | None:
        """The latest filtered value, rounded; None until one is trustworthy.

        The value comes from the meter's filters, never straight off the bus:
        spikes are held back and energy counters never go backwards.
        """
        value = self.status.published.get(self.entity_description.quantity)
        if value is None:
            return None
        return round(value, self.entity_description.digits)


@dataclass(frozen=True, kw_only=True)
class MeterHealthDescription(SensorEntityDescription):
    """Describes a diagnostic sensor about how a meter is being read."""

    value_fn: Callable[[MeterStatus], datetime | float | int | None]


HEALTH_DESCRIPTIONS: tuple[MeterHealthDescription, ...] = (
    MeterHealthDescription(
        key="last_successful_read",
        translation_key="last_successful_read",
        device_class=SensorDeviceClass.TIMESTAMP,
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
        value_fn=lambda status: status.last_success,
    ),
    MeterHealthDescription(
        key="read_duration",
        translation_key="read_duration",
        device_class=SensorDeviceClass.DURATION,
        native_unit_of_measurement=UnitOfTime.MILLISECONDS,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=0,
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
        value_fn=lambda status: (
            round(status.reading.duration_s * 1000, 1) if status.reading else None
        ),
    ),
    MeterHealthDescription(
        key="failed_polls",
        translation_key="failed_polls",
        state_class=SensorStateClass.TOTAL_INCREASING,
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
        value_fn=lambda status: status.failed_polls_total,
    ),
    MeterHealthDescription(
        key="held_back_readings",
        translation_key="held_back_readings",
        state_class=SensorStateClass.TOTAL_INCREASING,
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
        value_fn=lambda status: status.held_back_total,
    ),
)


class MeterHealthSensor(MeterEntity, SensorEntity):
    """How reading one meter is going: for troubleshooting, off by default."""

    entity_description: MeterHealthDescription

    def __init__(
        self,
        coordinator: GatewayCoordinator,
        subentry: ConfigSubentry,
        description: MeterHealthDescription,
    ) -> None:
        """Attach to the meter's device."""
        profile = coordinator.readers[subentry.subentry_id].profile
        super().__init__(coordinator, subentry, profile, description.key)
        self.entity_description = description

    @property
    def available(self) -> bool:
        """Health is worth showing precisely when the meter is not answering."""
        return True

    @property
    def native_value(self) -> datetime | float | int | None:
        """The figure from the meter's status."""
        return self.entity_description.value_fn(self.status)
