"""The heat pump's controls: power switch, flow temperature, offset, mode.

Every control writes and then polls at once (see `async_control`), and its
state always comes from that poll, never from the value written: powering on
also switches the unit from Auto to Heat, a flow temperature is ignored in
Auto mode, and the service's own automations may undo anything. The entities
show what the service then reports.
"""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from homeassistant.components.number import (
    NumberDeviceClass,
    NumberEntity,
    NumberEntityDescription,
    NumberMode,
)
from homeassistant.components.select import SelectEntity, SelectEntityDescription
from homeassistant.components.switch import SwitchEntity, SwitchEntityDescription
from homeassistant.components.switch.const import SwitchDeviceClass
from homeassistant.const import UnitOfTemperature
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .companion_coordinator import HeatPumpConfigEntry, HeatPumpCoordinator
from .companion_entity import CompanionEntity
from .meterlib.companions import HeatPumpClient, HeatPumpStatus, ModeSetting
from .meterlib.companions.heatpump import (
    MAX_AUTO_MODE_OFFSET,
    MAX_TARGET_TEMPERATURE,
    MIN_AUTO_MODE_OFFSET,
    MIN_TARGET_TEMPERATURE,
)

POWER = SwitchEntityDescription(
    key="power_switch",
    translation_key="power_switch",
    device_class=SwitchDeviceClass.SWITCH,
)


class HeatPumpPowerSwitch(CompanionEntity[HeatPumpCoordinator], SwitchEntity):
    """Switch the heat pump on or off (on also selects Heat mode)."""

    def __init__(self, coordinator: HeatPumpCoordinator) -> None:
        """Describe the switch."""
        super().__init__(coordinator, POWER.key)
        self.entity_description = POWER

    @property
    def is_on(self) -> bool:
        """Return whether the service reports the unit on."""
        return self.coordinator.data.status.is_on

    async def async_turn_on(self, **kwargs: Any) -> None:
        """Power on; the service also writes Heat mode."""
        await self.coordinator.async_write(lambda client: client.set_power(on=True))

    async def async_turn_off(self, **kwargs: Any) -> None:
        """Power off."""
        await self.coordinator.async_write(lambda client: client.set_power(on=False))


@dataclass(frozen=True, kw_only=True)
class HeatPumpNumberDescription(NumberEntityDescription):
    """A setting read from `/status` and written through one POST."""

    value_fn: Callable[[HeatPumpStatus], float]
    write_fn: Callable[[HeatPumpClient, float], Awaitable[object]]


NUMBERS: tuple[HeatPumpNumberDescription, ...] = (
    HeatPumpNumberDescription(
        key="target_flow_temperature",
        translation_key="target_flow_temperature",
        device_class=NumberDeviceClass.TEMPERATURE,
        native_unit_of_measurement=UnitOfTemperature.CELSIUS,
        native_min_value=MIN_TARGET_TEMPERATURE,
        native_max_value=MAX_TARGET_TEMPERATURE,
        native_step=0.5,
        mode=NumberMode.BOX,
        value_fn=lambda status: status.target_temperature,
        write_fn=lambda client, value: client.set_target_temperature(value),
    ),
    HeatPumpNumberDescription(
        key="auto_mode_offset",
        translation_key="auto_mode_offset",
        device_class=NumberDeviceClass.TEMPERATURE_DELTA,
        native_unit_of_measurement=UnitOfTemperature.KELVIN,
        native_min_value=MIN_AUTO_MODE_OFFSET,
        native_max_value=MAX_AUTO_MODE_OFFSET,
        native_step=1,
        mode=NumberMode.SLIDER,
        value_fn=lambda status: status.auto_mode_offset,
        write_fn=lambda client, value: client.set_auto_mode_offset(round(value)),
    ),
)


class HeatPumpNumber(CompanionEntity[HeatPumpCoordinator], NumberEntity):
    """A numeric setting of the heat pump."""

    entity_description: HeatPumpNumberDescription

    def __init__(
        self, coordinator: HeatPumpCoordinator, description: HeatPumpNumberDescription
    ) -> None:
        """Describe the number."""
        super().__init__(coordinator, description.key)
        self.entity_description = description

    @property
    def native_value(self) -> float:
        """Return the value the service reports."""
        return self.entity_description.value_fn(self.coordinator.data.status)

    async def async_set_native_value(self, value: float) -> None:
        """Write the value, then show what the service reports."""
        write_fn = self.entity_description.write_fn
        await self.coordinator.async_write(lambda client: write_fn(client, value))


MODE = SelectEntityDescription(
    key="mode",
    translation_key="mode",
    options=["auto", "heat"],
)
_MODE_OPTIONS = {ModeSetting.AUTO: "auto", ModeSetting.HEAT: "heat"}


class HeatPumpModeSelect(CompanionEntity[HeatPumpCoordinator], SelectEntity):
    """Auto (heating curve) or Heat (fixed flow temperature)."""

    def __init__(self, coordinator: HeatPumpCoordinator) -> None:
        """Describe the select."""
        super().__init__(coordinator, MODE.key)
        self.entity_description = MODE

    @property
    def current_option(self) -> str | None:
        """Return the configured mode; unknown for Cool, which is not offered."""
        mode = self.coordinator.data.status.mode_setting
        return _MODE_OPTIONS.get(mode) if mode is not None else None

    async def async_select_option(self, option: str) -> None:
        """Write the mode (Heat also writes a default flow temperature)."""
        mode = ModeSetting.HEAT if option == "heat" else ModeSetting.AUTO
        await self.coordinator.async_write(lambda client: client.set_mode(mode))


async def async_setup_heat_pump_switches(
    entry: HeatPumpConfigEntry, async_add_entities: AddConfigEntryEntitiesCallback
) -> None:
    """Add the power switch."""
    async_add_entities([HeatPumpPowerSwitch(entry.runtime_data)])


async def async_setup_heat_pump_numbers(
    entry: HeatPumpConfigEntry, async_add_entities: AddConfigEntryEntitiesCallback
) -> None:
    """Add the flow temperature and auto-mode offset."""
    async_add_entities(
        HeatPumpNumber(entry.runtime_data, description) for description in NUMBERS
    )


async def async_setup_heat_pump_selects(
    entry: HeatPumpConfigEntry, async_add_entities: AddConfigEntryEntitiesCallback
) -> None:
    """Add the mode select."""
    async_add_entities([HeatPumpModeSelect(entry.runtime_data)])
