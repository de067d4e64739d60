"""Decoding and encoding of register values, every type and byte order."""

import math
import struct

import pytest

from custom_components.energy_meters.meterlib.decode import (
    canonical_unit,
    decode,
    decode_raw,
    encode,
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
