"""A household as a meter with one value per quantity sees it, for MQTT and HTTP meters.

Such meters (a Shelly EM, a smart-meter gateway's JSON) report one power, one
energy counter, one voltage, one current: the simulated HTTP meter and MQTT
publisher both serve this view, so the tests of either compare against the
same numbers. Voltage is the mean of the three phases, current that of L1.
"""

from typing import Final

from custom_components.energy_meters.meterlib.model import Quantity

from .household import Household

_PHASE_VOLTAGES: Final = (Quantity.VOLTAGE_L1, Quantity.VOLTAGE_L2, Quantity.VOLTAGE_L3)


def single_meter_view(household: Household) -> dict[str, float]:
    """Power (W), energy (kWh), voltage, current, power factor, frequency now."""
    values = household.values()
    return {
        "power": values[Quantity.POWER_TOTAL],
        "energy": values[Quantity.ENERGY_IMPORT_TOTAL],
        "voltage": sum(values[q] for q in _PHASE_VOLTAGES) / 3.0,
        "current": values[Quantity.CURRENT_L1],
        "power_factor": values[Quantity.POWER_FACTOR],
        "frequency": values[Quantity.FREQUENCY],
    }


def flat_document(view: dict[str, float]) -> dict[str, float]:
    """The view as the common flat JSON: power in kW under `power_kw`, energy in kWh."""
    return {
        "power_kw": view["power"] / 1000.0,
        "energy_kwh": view["energy"],
        "voltage": view["voltage"],
        "current": view["current"],
        "power_factor": view["power_factor"],
        "frequency": view["frequency"],
    }
