"""Registers to numbers, and numbers back to registers.

Decoding is the one place where a meter's quirks (word order, scaling, units)
become plain physical values in canonical units, so everything after it can
compare like with like. Encoding is its exact inverse; the simulator and the
tests use it to serve known values through the real decode path.

A value the meter marks as "not available" (NaN, infinity) decodes to None,
never to 0: a 0 would be a real reading to Home Assistant.
"""

import math
import struct

from .model import ByteOrder, DataType, RegisterSpec, Unit

_STRUCT_FORMAT = {
    DataType.INT16: ">h",
    DataType.UINT16: ">H",
    DataType.INT32: ">i",
    DataType.UINT32: ">I",
    DataType.INT64: ">q",
    DataType.UINT64: ">Q",
    DataType.FLOAT32: ">f",
    DataType.FLOAT64: ">d",
}

# Factor from a profile's unit to the canonical unit the entities publish.
_CANONICAL: dict[Unit, tuple[Unit, float]] = {
    Unit.W: (Unit.W, 1.0),
    Unit.KW: (Unit.W, 1000.0),
    Unit.VAR: (Unit.VAR, 1.0),
    Unit.KVAR: (Unit.VAR, 1000.0),
    Unit.VA: (Unit.VA, 1.0),
    Unit.KVA: (Unit.VA, 1000.0),
    Unit.WH: (Unit.KWH, 0.001),
    Unit.KWH: (Unit.KWH, 1.0),
    Unit.VARH: (Unit.KVARH, 0.001),
    Unit.KVARH: (Unit.KVARH, 1.0),
    Unit.V: (Unit.V, 1.0),
    Unit.A: (Unit.A, 1.0),
    Unit.HZ: (Unit.HZ, 1.0),
    Unit.NONE: (Unit.NONE, 1.0),
}


def canonical_unit(unit: Unit) -> Unit:
    """The unit a value declared in `unit` is published in."""
    return _CANONICAL[unit][0]


def _to_wire_order(big_endian: bytes, order: ByteOrder) -> bytes:
    """Rearrange big-endian bytes into the order the meter puts on the wire.

    The transformation is its own inverse, so it also maps wire bytes back to
    big-endian.
    """
    words = [big_endian[i : i + 2] for i in range(0, len(big_endian), 2)]
    if order in (ByteOrder.CDAB, ByteOrder.DCBA):
        words.reverse()
    if order in (ByteOrder.BADC, ByteOrder.DCBA):
        words = [word[::-1] for word in words]
    return b"".join(words)


def registers_to_bytes(registers: list[int]) -> bytes:
    """Pack 16-bit register values into the bytes they were sent as."""
    return b"".join((r & 0xFFFF).to_bytes(2, "big") for r in registers)


def decode_raw(spec: RegisterSpec, registers: list[int]) -> float | None:
    """The raw number in `registers`, before scaling, or None when not available."""
    if len(registers) != spec.count:
        msg = f"{spec.quantity}: expected {spec.count} registers, got {len(registers)}"
        raise ValueError(msg)
    big_endian = _to_wire_order(registers_to_bytes(registers), spec.byte_order)
    if spec.not_available and int.from_bytes(big_endian, "big") in spec.not_available:
        return None
    (raw,) = struct.unpack(_STRUCT_FORMAT[spec.data_type], big_endian)
    value = float(raw)
    if math.isnan(value) or math.isinf(value):
        return None
    return value


def decode(spec: RegisterSpec, registers: list[int]) -> float | None:
    """The physical value in canonical units, or None when not available."""
    raw = decode_raw(spec, registers)
    if raw is None:
        return None
    factor = _CANONICAL[spec.unit][1]
    return (raw * spec.scale + spec.offset) * factor


def encode(spec: RegisterSpec, value: float) -> list[int]:
    """Registers a meter following `spec` would serve for `value` (canonical units)."""
    factor = _CANONICAL[spec.unit][1]
    raw: float = (value / factor - spec.offset) / spec.scale
    fmt = _STRUCT_FORMAT[spec.data_type]
    packed = struct.pack(fmt, raw if spec.data_type.startswith("float") else round(raw))
    wire = _to_wire_order(packed, spec.byte_order)
    return [int.from_bytes(wire[i : i + 2], "big") for i in range(0, len(wire), 2)]
