"""The gateway's bus sensors: how busy its bus is, and the intervals achieved.

These say whether the read rates hold: the share of the last minute the bus
carried our requests, and the median time between two reads of a meter's
fast group and of its full map, over all meters of the gateway. The 95th
percentiles and the figures per meter are in the diagnostics.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import override

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import PERCENTAGE, EntityCategory, UnitOfTime

from ..meterlib.schedule import IntervalFigures
from .coordinator import GatewayCoordinator
from .entity import GatewayEntity


@dataclass(frozen=True, kw_only=True)
class BusSensorDescription(SensorEntityDescription):
    """Describes one figure of a gateway's bus."""

    value_fn: Callable[[GatewayCoordinator], float | None]
    has_fn: Callable[[GatewayCoordinator], bool] = lambda _: True


def _median_s(figures: IntervalFigures | None) -> float | None:
    return None if figures is None else round(figures.median_s, 2)


BUS_SENSORS: tuple[BusSensorDescription, ...] = (
    BusSensorDescription(
        key="bus_utilisation",
        translation_key="bus_utilisation",
        native_unit_of_measurement=PERCENTAGE,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=0,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda c: round(c.arbiter.usage.share() * 100, 1),
    ),
    BusSensorDescription(
        key="fast_read_interval",
        translation_key="fast_read_interval",
        device_class=SensorDeviceClass.DURATION,
        native_unit_of_measurement=UnitOfTime.SECONDS,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=1,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda c: _median_s(c.fast.log.figures()),
        has_fn=lambda c: bool(c.fast.meters),
    ),
    BusSensorDescription(
        key="full_read_interval",
        translation_key="full_read_interval",
        device_class=SensorDeviceClass.DURATION,
        native_unit_of_measurement=UnitOfTime.SECONDS,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=1,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda c: _median_s(c.full_log.figures()),
    ),
)


def bus_sensors(coordinator: GatewayCoordinator) -> list[SensorEntity]:
    """The bus sensors this gateway has."""
    return [
        GatewayBusSensor(coordinator, description)
        for description in BUS_SENSORS
        if description.has_fn(coordinator)
    ]


class GatewayBusSensor(GatewayEntity, SensorEntity):
    """One figure of the gateway's bus, updated after each round."""

    entity_description: BusSensorDescription

    def __init__(
        self, coordinator: GatewayCoordinator, description: BusSensorDescription
    ) -> None:
        """Attach to the gateway's device."""
        super().__init__(coordinator, description.key)
        self.entity_description = description

    @property
    @override
    def native_value(self) -> float | None:
        """The figure now."""
        return self.entity_description.value_fn(self.coordinator)
