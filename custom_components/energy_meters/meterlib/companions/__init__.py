"""Async clients for the companion REST services (heat pump, thermostat).

Pure library like the rest of `meterlib`: no Home Assistant imports. The
caller injects the aiohttp session, so the integration reuses Home
Assistant's shared sessions and their TLS settings.
"""

from .errors import (
    CompanionAuthError,
    CompanionConnectionError,
    CompanionError,
    CompanionHttpError,
    CompanionResponseError,
    CompanionTimeoutError,
    MalformedPayloadError,
)
from .heatpump import (
    HeatPumpClient,
    HeatPumpHealth,
    HeatPumpStatus,
    ModeChange,
    ModeSetting,
    OperatingMode,
)
from .http import CompanionClient, normalize_base_url
from .thermal import (
    Estimate,
    HeatIntegrator,
    Reason,
    coefficient_of_performance,
    cop,
    thermal_power,
    thermal_power_w,
)
from .thermostat import (
    SensorInfo,
    SensorReading,
    ThermostatClient,
    ThermostatConfig,
    ThermostatHealth,
    ThermostatMode,
    ThermostatStatus,
)

__all__ = [
    "CompanionAuthError",
    "CompanionClient",
    "CompanionConnectionError",
    "CompanionError",
    "CompanionHttpError",
    "CompanionResponseError",
    "CompanionTimeoutError",
    "Estimate",
    "HeatIntegrator",
    "HeatPumpClient",
    "HeatPumpHealth",
    "HeatPumpStatus",
    "MalformedPayloadError",
    "ModeChange",
    "ModeSetting",
    "OperatingMode",
    "Reason",
    "SensorInfo",
    "SensorReading",
    "ThermostatClient",
    "ThermostatConfig",
    "ThermostatHealth",
    "ThermostatMode",
    "ThermostatStatus",
    "coefficient_of_performance",
    "cop",
    "normalize_base_url",
    "thermal_power",
    "thermal_power_w",
]
