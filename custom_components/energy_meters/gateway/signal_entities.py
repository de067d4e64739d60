"""The load level sensor and the grid-quality binary sensors of each meter.

They are computed from the same filtered values the meter's sensors publish
(held-back spikes included), with the thresholds of the meter's subentry.
The gateway reloads when a subentry changes, so the entities are rebuilt with
new thresholds rather than watching for them.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from homeassistant.components.binary_sensor import (
    BinarySensorEntity,
    BinarySensorEntityDescription,
)
from homeassistant.components.binary_sensor.const import BinarySensorDeviceClass
from homeassistant.components.sensor import SensorDeviceClass, SensorEntity
from homeassistant.config_entries import ConfigSubentry
from homeassistant.core import callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from ..meterlib.model import Quantity
from ..signals import LoadLevel, SignalThresholds, has_power, total_power_w
from .coordinator import GatewayConfigEntry, GatewayCoordinator, meter_subentries
from .entity import MeterEntity

type Published = Mapping[Quantity, float | None]


@dataclass(frozen=True, kw_only=True)
class GridSignalDescription(BinarySensorEntityDescription):
    """A problem a meter's readings can show, and what the profile must map for it."""

    needs: Quantity
    value_fn: Callable[[SignalThresholds, Published], bool | None]


GRID_SIGNALS: tuple[GridSignalDescription, ...] = (
    GridSignalDescription(
        key="frequency_out_of_range",
        translation_key="frequency_out_of_range",
        device_class=BinarySensorDeviceClass.PROBLEM,
        needs=Quantity.FREQUENCY,
        value_fn=lambda limits, values: limits.frequency_out_of_range(
            values.get(Quantity.FREQUENCY)
        ),
    ),
    GridSignalDescription(
        key="low_power_factor",
        translation_key="low_power_factor",
        device_class=BinarySensorDeviceClass.PROBLEM,
        needs=Quantity.POWER_FACTOR,
        value_fn=lambda limits, values: limits.low_power_factor(
            values.get(Quantity.POWER_FACTOR), total_power_w(values)
        ),
    ),
)


def _meters(
    entry: GatewayConfigEntry,
) -> list[tuple[GatewayCoordinator, ConfigSubentry, frozenset[Quantity]]]:
    """Each meter that is being read, with what its profile maps."""
    coordinator = entry.runtime_data
    return [
        (coordinator, subentry, reader.profile.quantities)
        for subentry in meter_subentries(entry)
        if (reader := coordinator.readers.get(subentry.subentry_id)) is not None
    ]


@callback
def async_setup_load_level_sensors(
    entry: GatewayConfigEntry, async_add_entities: AddConfigEntryEntitiesCallback
) -> None:
    """A load level sensor for every meter that measures power."""
    for coordinator, subentry, quantities in _meters(entry):
        if has_power(quantities):
            async_add_entities(
                [LoadLevelSensor(coordinator, subentry)],
                config_subentry_id=subentry.subentry_id,
            )


@callback
def async_setup_grid_signal_binary_sensors(
    entry: GatewayConfigEntry, async_add_entities: AddConfigEntryEntitiesCallback
) -> None:
    """The grid-quality problems each meter's profile can show."""
    for coordinator, subentry, quantities in _meters(entry):
        async_add_entities(
            [
                GridSignalBinarySensor(coordinator, subentry, description)
                for description in GRID_SIGNALS
                if description.needs in quantities
            ],
            config_subentry_id=subentry.subentry_id,
        )


class LoadLevelSensor(MeterEntity, SensorEntity):
    """Idle, low, medium or high: the meter's load in its own bands."""

    _attr_device_class = SensorDeviceClass.ENUM
    _attr_translation_key = "load_level"

    def __init__(
        self, coordinator: GatewayCoordinator, subentry: ConfigSubentry
    ) -> None:
        """Attach to the meter's device, with the meter's thresholds."""
        profile = coordinator.readers[subentry.subentry_id].profile
        super().__init__(coordinator, subentry, profile, "load_level")
        self._attr_options = [level.value for level in LoadLevel]
        self.thresholds = SignalThresholds.from_data(subentry.data)

    @property
    def native_value(self) -> str | None:
        """The band of the latest power reading."""
        level = self.thresholds.load_level(total_power_w(self.status.published))
        return None if level is None else level.value


class GridSignalBinarySensor(MeterEntity, BinarySensorEntity):
    """On while the meter's readings show a grid-quality problem."""

    entity_description: GridSignalDescription

    def __init__(
        self,
        coordinator: GatewayCoordinator,
        subentry: ConfigSubentry,
        description: GridSignalDescription,
    ) -> None:
        """Attach to the meter's device, with the meter's thresholds."""
        profile = coordinator.readers[subentry.subentry_id].profile
        super().__init__(coordinator, subentry, profile, description.key)
        self.entity_description = description
        self.thresholds = SignalThresholds.from_data(subentry.data)

    @property
    def is_on(self) -> bool | None:
        """Whether the latest reading is outside the meter's band."""
        return self.entity_description.value_fn(self.thresholds, self.status.published)
