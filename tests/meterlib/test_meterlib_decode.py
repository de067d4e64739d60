"""Decoding and encoding of register values, every type and byte order."""

from dataclasses import replace
import math
import struct
from typing import Any

import pytest

from custom_components.energy_meters.meterlib.decode import (
    canonical_unit,
    decode,
    decode_in_block,
    decode_raw,
    encode,
    raw_registers,
    scale_exponent,
)
from custom_components.energy_meters.meterlib.model import (
    ByteOrder,
    DataType,
    FunctionCode,
    Quantity,
    RegisterSpec,
    Unit,
)


def spec(
    data_type: DataType = DataType.FLOAT32,
    order: ByteOrder = ByteOrder.ABCD,
    unit: Unit = Unit.W,
    scale: float = 1.0,
    offset: float = 0.0,
) -> RegisterSpec:
    """A spec at address 0 with the given encoding."""
    return RegisterSpec(
        quantity=Quantity.POWER_TOTAL,
        address=0,
        function=FunctionCode.HOLDING,
        data_type=data_type,
        byte_order=order,
        unit=unit,
        scale=scale,
        offset=offset,
    )


def test_float32_abcd_matches_the_wire_layout() -> None:
    """0x43E6 0x8000 is 461.0 in big-endian float32 (as a WAGO sends it)."""
    assert struct.pack(">f", 461.0) == bytes([0x43, 0xE6, 0x80, 0x00])
    assert decode(spec(), [0x43E6, 0x8000]) == 461.0


def test_kilowatts_become_watts() -> None:
    """A WAGO reports kW; entities publish W."""
    assert decode(spec(unit=Unit.KW), [0x3F80, 0x0000]) == 1000.0
    assert canonical_unit(Unit.KW) is Unit.W
    assert canonical_unit(Unit.WH) is Unit.KWH


@pytest.mark.parametrize(
    ("order", "registers"),
    [
        (ByteOrder.ABCD, [0x1234, 0x5678]),
        (ByteOrder.CDAB, [0x5678, 0x1234]),
        (ByteOrder.BADC, [0x3412, 0x7856]),
        (ByteOrder.DCBA, [0x7856, 0x3412]),
    ],
)
def test_byte_orders_of_int32(order: ByteOrder, registers: list[int]) -> None:
    """Each order names where bytes A..D of 0x12345678 land on the wire."""
    assert decode_raw(spec(DataType.UINT32, order), registers) == 0x12345678


@pytest.mark.parametrize("data_type", list(DataType))
@pytest.mark.parametrize("order", list(ByteOrder))
def test_encode_is_the_inverse_of_decode(data_type: DataType, order: ByteOrder) -> None:
    """What the simulator encodes, the reader decodes back exactly."""
    value = -123.0 if data_type.startswith(("int", "float")) else 123.0
    the_spec = spec(data_type, order, scale=0.5, offset=1.0)
    registers = encode(the_spec, value)
    assert len(registers) == data_type.register_count
    assert decode(the_spec, registers) == pytest.approx(value)


def test_negative_int16_and_scale() -> None:
    """0xFFFE as int16 is -2; scale 0.001 makes a power factor of -0.002."""
    the_spec = spec(DataType.INT16, unit=Unit.NONE, scale=0.001)
    assert decode(the_spec, [0xFFFE]) == pytest.approx(-0.002)


def test_nan_and_infinity_are_not_available() -> None:
    """A NaN is "no value", never 0."""
    assert decode(spec(), [0x7FC0, 0x0000]) is None
    assert decode(spec(), [0x7F80, 0x0000]) is None
    assert not math.isnan(decode(spec(), [0, 0]) or 0.0)


def test_wrong_register_count_is_an_error() -> None:
    """A short answer must never be decoded as if it were complete."""
    with pytest.raises(ValueError, match="expected 2 registers"):
        decode(spec(), [0x43E6])


def _typed(
    data_type: DataType, order: ByteOrder = ByteOrder.ABCD, **changes: Any
) -> RegisterSpec:
    """A kWh spec of `data_type` with the type's standard sentinels, or `changes`."""
    return replace(
        spec(data_type, order, unit=Unit.KWH),
        **{"not_available": data_type.standard_sentinels, **changes},
    )


def test_uint64_energy_in_hundredths_of_a_kwh() -> None:
    """ABB: 0x0000_0000_0012_D680 in 0.01 kWh is 12345.60 kWh."""
    energy = _typed(DataType.UINT64, scale=0.01)
    assert decode(energy, [0, 0, 0x0012, 0xD680]) == pytest.approx(12345.6)


def test_int64_energy_in_wh_becomes_kwh() -> None:
    """Schneider: an int64 of 12345600 Wh is 12345.6 kWh; large counters stay exact."""
    energy = _typed(DataType.INT64, unit=Unit.WH, not_available=frozenset())
    assert decode(energy, [0, 0, 0x00BC, 0x6100]) == pytest.approx(12345.6)
    # 2**40 Wh: far beyond 32 bits, still the exact number
    assert decode(energy, [0, 0x0100, 0, 0]) == pytest.approx(2**40 / 1000)


@pytest.mark.parametrize(
    ("order", "registers"),
    [
        (ByteOrder.ABCD, [0x0102, 0x0304, 0x0506, 0x0708]),
        (ByteOrder.CDAB, [0x0708, 0x0506, 0x0304, 0x0102]),
        (ByteOrder.BADC, [0x0201, 0x0403, 0x0605, 0x0807]),
        (ByteOrder.DCBA, [0x0807, 0x0605, 0x0403, 0x0201]),
    ],
)
def test_byte_orders_of_64_bit_values(order: ByteOrder, registers: list[int]) -> None:
    """For 64 bits, CDAB reverses all four words (low word first), as 32 bits does two."""
    assert decode_raw(
        _typed(DataType.UINT64, order, not_available=frozenset()), registers
    ) == float(0x0102030405060708)


@pytest.mark.parametrize(
    ("data_type", "registers"),
    [
        (DataType.UINT16, [0xFFFF]),
        (DataType.INT16, [0x8000]),
        (DataType.INT16, [0x7FFF]),
        (DataType.UINT32, [0xFFFF, 0xFFFF]),
        (DataType.INT32, [0x8000, 0x0000]),
        (DataType.INT32, [0x7FFF, 0xFFFF]),
        (DataType.UINT64, [0xFFFF] * 4),
        (DataType.INT64, [0x8000, 0, 0, 0]),
        (DataType.INT64, [0x7FFF, 0xFFFF, 0xFFFF, 0xFFFF]),
        (DataType.FLOAT32, [0x7FC0, 0x0000]),
        (DataType.FLOAT32, [0xFFC0, 0x0000]),
        (DataType.FLOAT64, [0x7FF8, 0, 0, 0]),
    ],
)
def test_standard_markers_are_not_available(
    data_type: DataType, registers: list[int]
) -> None:
    """0xFFFF…, 0x8000…, 0x7FFF… and NaN all decode to None, never to 0 or a number."""
    assert decode(_typed(data_type), registers) is None


def test_sentinels_are_checked_on_the_value_not_the_wire() -> None:
    """A low-word-first int32 marker 0x80000000 arrives as [0x0000, 0x8000]."""
    the_spec = _typed(DataType.INT32, ByteOrder.CDAB)
    assert decode(the_spec, [0x0000, 0x8000]) is None
    assert decode_raw(the_spec, [0x8000, 0x0000]) == 0x8000


def test_zero_is_a_value_unless_the_profile_says_otherwise() -> None:
    """0 is a reading; only SunSpec-style declared markers make it unavailable."""
    counter = _typed(DataType.UINT32, not_available=frozenset())
    assert decode(counter, [0, 0]) == 0.0
    sunspec_acc32 = _typed(DataType.UINT32, not_available=frozenset({0}))
    assert decode(sunspec_acc32, [0, 0]) is None
    assert decode(sunspec_acc32, [0, 1]) == 1.0


@pytest.mark.parametrize("data_type", list(DataType))
@pytest.mark.parametrize("order", list(ByteOrder))
def test_raw_registers_serve_a_marker_decode_recognises(
    data_type: DataType, order: ByteOrder
) -> None:
    """What a simulator serves for "not available" is read back as not available."""
    bits = (1 << (16 * data_type.register_count)) - 2  # not NaN, not a standard marker
    the_spec = _typed(data_type, order, not_available=frozenset({bits}))
    assert decode(the_spec, raw_registers(the_spec, bits)) is None


def _scaled(address: int = 0, scale_factor: int = 4) -> RegisterSpec:
    """A SunSpec-style int16 voltage with its scale factor register."""
    return RegisterSpec(
        quantity=Quantity.VOLTAGE_L1,
        address=address,
        function=FunctionCode.HOLDING,
        data_type=DataType.INT16,
        byte_order=ByteOrder.ABCD,
        unit=Unit.V,
        not_available=frozenset({0x8000}),
        scale_factor=scale_factor,
    )


@pytest.mark.parametrize(
    ("value", "exponent_register", "expected"),
    [
        (2301, 0xFFFF, 230.1),  # -1
        (2301, 0, 2301.0),
        (23, 0x0001, 230.0),  # +1
        (23010, 0xFFFE, 230.1),  # -2
        (2301, 0x8000, None),  # scale factor not implemented
        (2301, 11, None),  # outside SunSpec's -10..10: not a scale factor
        (0x8000, 0xFFFF, None),  # value not implemented
    ],
)
def test_scale_factors(
    value: int, exponent_register: int, expected: float | None
) -> None:
    """Raw value x 10^sf; the SunSpec markers of either register make it unavailable."""
    assert decode(_scaled(), [value], exponent_register) == (
        None if expected is None else pytest.approx(expected)
    )


@pytest.mark.parametrize(
    ("register", "exponent"),
    [
        (0, 0),
        (1, 1),
        (0xFFFF, -1),
        (0xFFF6, -10),
        (10, 10),
        (0x8000, None),
        (0xFFF5, None),
    ],
)
def test_scale_exponent(register: int, exponent: int | None) -> None:
    """int16 exponents -10..10; 0x8000 and anything beyond are not available."""
    assert scale_exponent(register) == exponent


def test_a_scaled_value_needs_its_scale_factor() -> None:
    """Decoding without the exponent would publish a value off by powers of ten."""
    with pytest.raises(ValueError, match="scale factor register was not read"):
        decode(_scaled(), [2301])


def test_decode_in_block_finds_value_and_scale_factor() -> None:
    """Within a read of 10 registers from 100: value at 102, exponent at 106."""
    block = [0, 0, 2301, 0, 0, 0, 0xFFFF, 0, 0, 0]
    assert decode_in_block(_scaled(102, 106), 100, block) == pytest.approx(230.1)
    with pytest.raises(ValueError, match="not all in the block"):
        decode_in_block(_scaled(102, 112), 100, block)


def test_end_reaches_past_the_scale_factor() -> None:
    """The planner keeps a value and its exponent together because `end` covers both."""
    assert _scaled(102, 106).end == 107
    assert _scaled(102, 106).count == 1
