"""Typed data shared by every part of the meter library.

A profile is data, not code: it says where each quantity of a meter lives on the
bus and how its registers are to be read. Everything downstream (planner,
decoder, entities) works from these frozen records, so a user-written profile
and a built-in one travel the same path.
"""

from dataclasses import dataclass, field
from enum import IntEnum, StrEnum


class FunctionCode(IntEnum):
    """The Modbus read function a register answers to."""

    HOLDING = 3
    INPUT = 4


class DataType(StrEnum):
    """How the registers of one value are to be interpreted."""

    INT16 = "int16"
    UINT16 = "uint16"
    INT32 = "int32"
    UINT32 = "uint32"
    INT64 = "int64"
    UINT64 = "uint64"
    FLOAT32 = "float32"
    FLOAT64 = "float64"

    @property
    def register_count(self) -> int:
        """Registers (16-bit words) one value of this type occupies."""
        return _REGISTER_COUNT[self]

    @property
    def standard_sentinels(self) -> frozenset[int]:
        """The usual "not available" markers of this type.

        Meters mark unused registers with the type's extreme values: all ones
        for unsigned types, the largest or smallest value for signed ones (as
        ABB does, and SunSpec with 0x8000). Floats use NaN, which decoding
        always treats as not available.
        """
        bits = 16 * self.register_count
        if self in (DataType.FLOAT32, DataType.FLOAT64):
            return frozenset()
        if self.value.startswith("u"):
            return frozenset({(1 << bits) - 1})
        return frozenset({1 << (bits - 1), (1 << (bits - 1)) - 1})


_REGISTER_COUNT = {
    DataType.INT16: 1,
    DataType.UINT16: 1,
    DataType.INT32: 2,
    DataType.UINT32: 2,
    DataType.INT64: 4,
    DataType.UINT64: 4,
    DataType.FLOAT32: 2,
    DataType.FLOAT64: 4,
}


class ByteOrder(StrEnum):
    """Word and byte order of a multi-register value.

    Named after the 32-bit layout of bytes A (most significant) to D: ABCD is
    plain big-endian, CDAB swaps the words (low word first), BADC swaps the
    bytes inside each word and DCBA is fully little-endian. For 64-bit values
    the same rule applies to all four words.
    """

    ABCD = "ABCD"
    CDAB = "CDAB"
    BADC = "BADC"
    DCBA = "DCBA"


class Quantity(StrEnum):
    """The fixed vocabulary every profile maps its registers onto.

    Entities are described once per quantity, so a new meter needs only a
    profile, never new entity code.
    """

    POWER_TOTAL = "power_total"
    POWER_L1 = "power_l1"
    POWER_L2 = "power_l2"
    POWER_L3 = "power_l3"
    REACTIVE_POWER_TOTAL = "reactive_power_total"
    REACTIVE_POWER_L1 = "reactive_power_l1"
    REACTIVE_POWER_L2 = "reactive_power_l2"
    REACTIVE_POWER_L3 = "reactive_power_l3"
    APPARENT_POWER_TOTAL = "apparent_power_total"
    APPARENT_POWER_L1 = "apparent_power_l1"
    APPARENT_POWER_L2 = "apparent_power_l2"
    APPARENT_POWER_L3 = "apparent_power_l3"
    ENERGY_TOTAL = "energy_total"
    ENERGY_IMPORT_TOTAL = "energy_import_total"
    ENERGY_IMPORT_L1 = "energy_import_l1"
    ENERGY_IMPORT_L2 = "energy_import_l2"
    ENERGY_IMPORT_L3 = "energy_import_l3"
    ENERGY_EXPORT_TOTAL = "energy_export_total"
    ENERGY_EXPORT_L1 = "energy_export_l1"
    ENERGY_EXPORT_L2 = "energy_export_l2"
    ENERGY_EXPORT_L3 = "energy_export_l3"
    REACTIVE_ENERGY_TOTAL = "reactive_energy_total"
    REACTIVE_ENERGY_IMPORT = "reactive_energy_import"
    REACTIVE_ENERGY_EXPORT = "reactive_energy_export"
    VOLTAGE_AVG = "voltage_avg"
    VOLTAGE_L1 = "voltage_l1"
    VOLTAGE_L2 = "voltage_l2"
    VOLTAGE_L3 = "voltage_l3"
    VOLTAGE_L1_L2 = "voltage_l1_l2"
    VOLTAGE_L1_L3 = "voltage_l1_l3"
    VOLTAGE_L2_L3 = "voltage_l2_l3"
    CURRENT_AVG = "current_avg"
    CURRENT_L1 = "current_l1"
    CURRENT_L2 = "current_l2"
    CURRENT_L3 = "current_l3"
    FREQUENCY = "frequency"
    POWER_FACTOR = "power_factor"
    POWER_FACTOR_L1 = "power_factor_l1"
    POWER_FACTOR_L2 = "power_factor_l2"
    POWER_FACTOR_L3 = "power_factor_l3"


class Unit(StrEnum):
    """Units a profile may declare for a register, before normalisation."""

    W = "W"
    KW = "kW"
    VAR = "var"
    KVAR = "kvar"
    VA = "VA"
    KVA = "kVA"
    WH = "Wh"
    KWH = "kWh"
    VARH = "varh"
    KVARH = "kvarh"
    V = "V"
    A = "A"
    HZ = "Hz"
    NONE = ""


@dataclass(frozen=True, slots=True)
class RegisterSpec:
    """Where one quantity lives on the bus and how to turn it into a number.

    value = raw * scale + offset, expressed in `unit`. `not_available` lists
    raw bit patterns (the value's registers as one unsigned big-endian number)
    the meter sends for "no value here", such as 0xFFFF or 0x8000.

    `scale_factor` is the address of an int16 register holding a power of ten
    the raw value is multiplied by (SunSpec's "sunssf"): value = raw *
    10**sf * scale + offset. Such meters may change the exponent with the
    magnitude, so the value is only meaningful together with the exponent
    read in the same request; `end` therefore reaches past the scale factor,
    and the read planner keeps both in one request without knowing why.
    """

    quantity: Quantity
    address: int
    function: FunctionCode
    data_type: DataType
    byte_order: ByteOrder
    unit: Unit
    scale: float = 1.0
    offset: float = 0.0
    not_available: frozenset[int] = frozenset()
    scale_factor: int | None = None

    @property
    def count(self) -> int:
        """Registers this value occupies on the bus."""
        return self.data_type.register_count

    @property
    def end(self) -> int:
        """First address after the registers needed to decode this value.

        That is the value itself and, when it has one, its scale factor
        register, which always follows the value it scales.
        """
        if self.scale_factor is not None:
            return max(self.address + self.count, self.scale_factor + 1)
        return self.address + self.count


@dataclass(frozen=True, slots=True)
class PlausibleRange:
    """A range a quantity must fall in for the profile to be the right one.

    Used by the config flow's test read: a frequency of 1.2e-38 Hz means the
    wrong profile or word order, and the user deserves to be told so.
    """

    quantity: Quantity
    minimum: float
    maximum: float


@dataclass(frozen=True, slots=True)
class Profile:
    """A meter model's register map.

    With `sunspec_model` set, register addresses (and scale factor addresses)
    are offsets into that SunSpec model block, counted from its ID register
    (ID = 0, L = 1, first point = 2). Where the block sits is found on the
    meter by walking the SunSpec model chain (see `sunspec.locate`), which
    turns the profile into an ordinary one with wire addresses.
    """

    id: str
    name: str
    manufacturer: str
    model: str
    source: str
    registers: tuple[RegisterSpec, ...]
    max_registers_per_request: int = 125
    default_unit_id: int = 1
    probe: tuple[PlausibleRange, ...] = field(default_factory=tuple)
    sunspec_model: int | None = None

    def spec(self, quantity: Quantity) -> RegisterSpec | None:
        """The register spec for a quantity, if this meter has it."""
        for spec in self.registers:
            if spec.quantity == quantity:
                return spec
        return None

    @property
    def quantities(self) -> frozenset[Quantity]:
        """Every quantity this meter publishes."""
        return frozenset(spec.quantity for spec in self.registers)
