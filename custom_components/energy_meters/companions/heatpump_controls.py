"""The heat pump's controls: power switch, flow temperature, offset, mode.

A control shows the value written at once and holds it until the service's
status confirms it (the service shows a write only after its next poll of
the pump), until a status read after the write says otherwise, or for a
bounded time; then it follows the service again (see `async_control`). What
a write implies is shown with it: powering on also writes Heat mode, and
selecting Heat also writes a 40 °C flow temperature. The service's own
automations may undo anything, and the entities then show what it reports.
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

from ..meterlib.companions import (
    HeatPumpClient,
    HeatPumpStatus,
    ModeChange,
    ModeSetting,
)
from ..meterlib.companions.heatpump import (
    MAX_AUTO_MODE_OFFSET,
    MAX_TARGET_TEMPERATURE,
    MIN_AUTO_MODE_OFFSET,
    MIN_TARGET_TEMPERATURE,
)
from .coordinator import (
    HeatPumpConfigEntry,
    HeatPumpCoordinator,
    status_field,
)
from .entity import CompanionControlEntity

POWER = SwitchEntityDescription(
    key="power_switch",
    translation_key="power_switch",
    device_class=SwitchDeviceClass.SWITCH,
)


def _status(coordinator: HeatPumpCoordinator) -> HeatPumpStatus | None:
    """The status a control shows, or None while there is none to show."""
    if not coordinator.last_update_success:
        return None
    return coordinator.data.status


class HeatPumpPowerSwitch(CompanionControlEntity[HeatPumpCoordinator], SwitchEntity):
    """Switch the heat pump on or off (on also selects Heat mode)."""

    def __init__(self, coordinator: HeatPumpCoordinator) -> None:
        """Describe the switch."""
        super().__init__(coordinator, POWER.key)
        self.entity_description = POWER

    @property
    def is_on(self) -> bool | None:
        """Return the value written while pending, else what the service reports."""
        status = _status(self.coordinator)
        return self.coordinator.shown("is_on", status.is_on if status else None)

    async def async_turn_on(self, **kwargs: Any) -> None:
        """Power on; the service also writes Heat mode, shown with it."""
        await self.coordinator.async_write(
            lambda client: client.set_power(on=True),
            {
                "is_on": (True, status_field("is_on")),
                "mode_setting": (ModeSetting.HEAT, status_field("mode_setting")),
            },
        )

    async def async_turn_off(self, **kwargs: Any) -> None:
        """Power off."""
        await self.coordinator.async_write(
            lambda client: client.set_power(on=False),
            {"is_on": (False, status_field("is_on"))},
        )


@dataclass(frozen=True, kw_only=True)
class HeatPumpNumberDescription(NumberEntityDescription):
    """A setting read from `/status` and written through one POST."""

    value_fn: Callable[[HeatPumpStatus], float | None]
    write_fn: Callable[[HeatPumpClient, float], Awaitable[object]]
    field: str
    """The status field it shows, for the value held while a write is pending."""
    written: Callable[[float], float] = float
    """The value the service stores for one asked (the offset is whole)."""


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
        field="target_temperature",
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
        field="auto_mode_offset",
        written=round,
    ),
)


class HeatPumpNumber(CompanionControlEntity[HeatPumpCoordinator], NumberEntity):
    """A numeric setting of the heat pump."""

    entity_description: HeatPumpNumberDescription

    def __init__(
        self, coordinator: HeatPumpCoordinator, description: HeatPumpNumberDescription
    ) -> None:
        """Describe the number."""
        super().__init__(coordinator, description.key)
        self.entity_description = description

    @property
    def native_value(self) -> float | None:
        """Return the value written while pending, else what the service reports.

        The flow temperature is the Heat-mode setpoint register in every
        mode: what a write changes, even while Auto mode ignores it.
        """
        description = self.entity_description
        status = _status(self.coordinator)
        value = description.value_fn(status) if status else None
        return self.coordinator.shown(description.field, value)

    async def async_set_native_value(self, value: float) -> None:
        """Write the value and show it at once."""
        description = self.entity_description
        write_fn = description.write_fn
        await self.coordinator.async_write(
            lambda client: write_fn(client, value),
            {
                description.field: (
                    description.written(value),
                    status_field(description.field),
                )
            },
        )


MODE = SelectEntityDescription(
    key="mode",
    translation_key="mode",
    options=["auto", "heat"],
)
_MODE_OPTIONS = {ModeSetting.AUTO: "auto", ModeSetting.HEAT: "heat"}


class HeatPumpModeSelect(CompanionControlEntity[HeatPumpCoordinator], SelectEntity):
    """Auto (heating curve) or Heat (fixed flow temperature)."""

    def __init__(self, coordinator: HeatPumpCoordinator) -> None:
        """Describe the select."""
        super().__init__(coordinator, MODE.key)
        self.entity_description = MODE

    @property
    def current_option(self) -> str | None:
        """Return the configured mode; unknown for Cool, which is not offered."""
        status = _status(self.coordinator)
        mode = self.coordinator.shown(
            "mode_setting", status.mode_setting if status else None
        )
        return _MODE_OPTIONS.get(mode) if mode is not None else None

    async def async_select_option(self, option: str) -> None:
        """Write the mode (Heat also writes a default flow temperature, shown too)."""
        mode = ModeSetting.HEAT if option == "heat" else ModeSetting.AUTO
        change = await self.coordinator.async_write(
            lambda client: client.set_mode(mode),
            {"mode_setting": (mode, status_field("mode_setting"))},
        )
        if isinstance(change, ModeChange) and change.default_temperature is not None:
            self.coordinator.hold(
                "target_temperature",
                change.default_temperature,
                status_field("target_temperature"),
            )
            self.coordinator.async_update_listeners()


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
