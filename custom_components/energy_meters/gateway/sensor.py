"""A gateway's meter sensors: one description per quantity, shared by every profile.

A meter gets the sensors for the quantities its profile maps, and nothing
else, so adding a meter model never means adding entity code.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
import time
from typing import Final, override

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.config_entries import ConfigSubentry
from homeassistant.const import (
    EntityCategory,
    UnitOfTime,
)
from homeassistant.core import callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from ..meter_descriptions import DESCRIPTIONS, MeterSensorDescription
from ..meterlib.reader import MeterReader
from .bus_entities import bus_sensors
from .coordinator import (
    GatewayConfigEntry,
    GatewayCoordinator,
    MeterStatus,
    meter_subentries,
)
from .entity import MeterEntity
from .signal_entities import async_setup_load_level_sensors


async def async_setup_gateway_sensors(
    entry: GatewayConfigEntry, async_add_entities: AddConfigEntryEntitiesCallback
) -> None:
    """Add the sensors of every meter, each under its own subentry."""
    async_setup_load_level_sensors(entry, async_add_entities)
    coordinator = entry.runtime_data
    async_add_entities(bus_sensors(coordinator))
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

    # Without a change, a state is written again at most this often: Home
    # Assistant shows it as "last reported" then, and the recorder has
    # nothing to store for an unchanged value in between.
    UNCHANGED_REWRITE_S: Final = 300.0

    _written: tuple[bool, float | None] | None = None
    _written_at = 0.0

    @property
    @override
    def available(self) -> bool:
        """Unavailable, not unknown, for a register the meter does not have."""
        if self.entity_description.quantity in self._reader.refusals.absent:
            return False
        return super().available

    @property
    def _reader(self) -> MeterReader:
        return self.coordinator.readers[self.subentry_id]

    @property
    def _fast(self) -> bool:
        """Whether this quantity is in the meter's fast group."""
        return self.entity_description.quantity in self._reader.fast_quantities

    @override
    async def async_added_to_hass(self) -> None:
        """Listen to the fast reads too, when this quantity is read fast."""
        await super().async_added_to_hass()
        if self._fast and self.subentry_id in self.coordinator.fast.meters:
            self.async_on_remove(
                self.coordinator.fast.async_add_listener(
                    self.subentry_id, self._handle_fast_update
                )
            )

    @callback
    def _handle_fast_update(self) -> None:
        """A fast read of the meter: write its value, changed or not.

        The user asked for this value every second: its "last reported"
        time says it is current, which a load-management automation can
        check. Only the few quantities of the fast group are written so.
        """
        self._write_if_changed(always=True)

    @callback
    @override
    def _handle_coordinator_update(self) -> None:
        """Write the state only when what it shows changed (or once in a while).

        Every poll used to write every entity of every meter: at 40 entities
        a meter and a poll every 10 s, Home Assistant's own work for states
        that had not changed cost more than reading the bus. A change below
        the display precision is no change for anyone looking.

        A quantity read fast is written by its fast reads, on their beat: a
        round's end writes it only when that changes its availability, or
        when the fast reads have stopped (a meter the rounds back off).
        """
        if (
            self._fast
            and self.coordinator.fast.is_fresh(self.subentry_id)
            and self._written is not None
            and self._written[0] == self.available
        ):
            return
        self._write_if_changed()

    def _write_if_changed(self, *, always: bool = False) -> None:
        shown = (self.available, self._displayed(self.native_value))
        now = time.monotonic()
        if (
            not always
            and shown == self._written
            and now - self._written_at < self.UNCHANGED_REWRITE_S
        ):
            return
        self._written, self._written_at = shown, now
        self.async_write_ha_state()

    def _displayed(self, value: float | None) -> float | None:
        """The value as far as a change of it is worth a state write.

        An energy counter counts at its own resolution (1 Wh), not the two
        decimals it is shown with: a counter left 9 Wh behind for a minute
        would say the full map was not read, and an automation on "energy
        since" would see steps of 10 Wh.
        """
        precision = self.entity_description.suggested_display_precision
        if (
            value is None
            or precision is None
            or self.entity_description.state_class is SensorStateClass.TOTAL_INCREASING
        ):
            return value
        return round(value, precision)

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
