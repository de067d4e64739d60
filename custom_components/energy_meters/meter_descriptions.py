"""Sensor descriptions for every quantity of our vocabulary, and the builders behind them.

Shared by the Modbus meters (`gateway.sensor`) and the meters that are entries of
their own (`single_meters.sensor`), so a power sensor is the same sensor, with
the same unit, precision and rounding, whatever the meter speaks.
"""

from dataclasses import dataclass

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import (
    UnitOfApparentPower,
    UnitOfElectricCurrent,
    UnitOfElectricPotential,
    UnitOfEnergy,
    UnitOfFrequency,
    UnitOfPower,
    UnitOfReactiveEnergy,
    UnitOfReactivePower,
)

from .meterlib.model import Quantity


@dataclass(frozen=True, kw_only=True)
class MeterSensorDescription(SensorEntityDescription):
    """Describes a sensor for one quantity of our vocabulary.

    `digits` rounds the published state: a float32 register turned into watts
    carries noise in the seventh digit that nobody should see in a history.
    """

    quantity: Quantity
    digits: int


def simple(
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


def power(
    quantity: Quantity, key: str, *, enabled: bool = True
) -> MeterSensorDescription:
    """Active power in W (meters in kW are converted when decoding)."""
    return simple(
        quantity,
        key,
        SensorDeviceClass.POWER,
        UnitOfPower.WATT,
        1,
        enabled=enabled,
        precision=0,
    )


def energy(
    quantity: Quantity, key: str, *, enabled: bool = True
) -> MeterSensorDescription:
    """An energy counter in kWh, ready for the Energy dashboard."""
    return simple(
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

# Enabled by default: what the Energy dashboard and the old stack's Grafana
# panels show (power and energy, per phase too; frequency; power factor) and
# the currents per phase. Disabled, as Home Assistant's own meter integrations
# do: voltages, VA, var, the power factor per phase and the rarer counters; each
# enabled entity is a state written and recorded every time it changes.
DESCRIPTIONS: tuple[MeterSensorDescription, ...] = (
    power(_Q.POWER_TOTAL, "power"),
    power(_Q.POWER_L1, "power_l1"),
    power(_Q.POWER_L2, "power_l2"),
    power(_Q.POWER_L3, "power_l3"),
    energy(_Q.ENERGY_IMPORT_TOTAL, "energy_import"),
    energy(_Q.ENERGY_IMPORT_L1, "energy_import_l1"),
    energy(_Q.ENERGY_IMPORT_L2, "energy_import_l2"),
    energy(_Q.ENERGY_IMPORT_L3, "energy_import_l3"),
    energy(_Q.ENERGY_EXPORT_TOTAL, "energy_export"),
    energy(_Q.ENERGY_EXPORT_L1, "energy_export_l1", enabled=False),
    energy(_Q.ENERGY_EXPORT_L2, "energy_export_l2", enabled=False),
    energy(_Q.ENERGY_EXPORT_L3, "energy_export_l3", enabled=False),
    energy(_Q.ENERGY_TOTAL, "energy_total", enabled=False),
    simple(_Q.VOLTAGE_L1, "voltage_l1", _VOLTAGE, _V, 2, enabled=False),
    simple(_Q.VOLTAGE_L2, "voltage_l2", _VOLTAGE, _V, 2, enabled=False),
    simple(_Q.VOLTAGE_L3, "voltage_l3", _VOLTAGE, _V, 2, enabled=False),
    simple(_Q.VOLTAGE_AVG, "voltage_avg", _VOLTAGE, _V, 2, enabled=False),
    simple(_Q.VOLTAGE_L1_L2, "voltage_l1_l2", _VOLTAGE, _V, 2, enabled=False),
    simple(_Q.VOLTAGE_L1_L3, "voltage_l1_l3", _VOLTAGE, _V, 2, enabled=False),
    simple(_Q.VOLTAGE_L2_L3, "voltage_l2_l3", _VOLTAGE, _V, 2, enabled=False),
    simple(_Q.CURRENT_L1, "current_l1", _CURRENT, _A, 3),
    simple(_Q.CURRENT_L2, "current_l2", _CURRENT, _A, 3),
    simple(_Q.CURRENT_L3, "current_l3", _CURRENT, _A, 3),
    simple(_Q.CURRENT_AVG, "current_avg", _CURRENT, _A, 3, enabled=False),
    simple(
        _Q.FREQUENCY, "frequency", SensorDeviceClass.FREQUENCY, UnitOfFrequency.HERTZ, 3
    ),
    simple(_Q.POWER_FACTOR, "power_factor", _PF, None, 3),
    simple(_Q.POWER_FACTOR_L1, "power_factor_l1", _PF, None, 3, enabled=False),
    simple(_Q.POWER_FACTOR_L2, "power_factor_l2", _PF, None, 3, enabled=False),
    simple(_Q.POWER_FACTOR_L3, "power_factor_l3", _PF, None, 3, enabled=False),
    simple(
        _Q.REACTIVE_POWER_TOTAL,
        "reactive_power",
        _VAR,
        UnitOfReactivePower.VOLT_AMPERE_REACTIVE,
        1,
        enabled=False,
    ),
    *(
        simple(
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
    simple(
        _Q.APPARENT_POWER_TOTAL,
        "apparent_power",
        _VA,
        UnitOfApparentPower.VOLT_AMPERE,
        1,
        enabled=False,
    ),
    *(
        simple(
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
        simple(
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
