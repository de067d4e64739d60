"""Registers to numbers, and numbers back to registers.

Decoding is the one place where a meter's quirks (word order, scaling, units)
become plain physical values in canonical units, so everything after it can
compare like with like. Encoding is its exact inverse; the simulator and the
tests use it to serve known values through the real decode path.

A value the meter marks as "not available" (NaN, infinity, a sentinel of its
profile, a scale factor of 0x8000) decodes to None, never to 0: a 0 would be a
real reading to Home Assistant.
"""

from collections.abc import Sequence
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


# SunSpec marks an unimplemented scale factor with int16 0x8000, and defines
# exponents from -10 to 10: anything else is not a scale factor.
SCALE_FACTOR_NOT_AVAILABLE = 0x8000
MAX_SCALE_EXPONENT = 10


def scale_exponent(register: int) -> int | None:
    """The power of ten a scale factor register holds, or None when not available."""
    if register & 0xFFFF == SCALE_FACTOR_NOT_AVAILABLE:
        return None
    exponent = int.from_bytes(
        (register & 0xFFFF).to_bytes(2, "big"), "big", signed=True
    )
    if abs(exponent) > MAX_SCALE_EXPONENT:
        return None
    return exponent


def decode(
    spec: RegisterSpec, registers: list[int], scale_factor: int | None = None
) -> float | None:
    """The physical value in canonical units, or None when not available.

    `scale_factor` is the raw register the spec's `scale_factor` address
    holds; it is required for such a spec, and ignored otherwise.
    """
    raw = decode_raw(spec, registers)
    if raw is None:
        return None
    if spec.scale_factor is not None:
        if scale_factor is None:
            msg = f"{spec.quantity}: the scale factor register was not read"
            raise ValueError(msg)
        exponent = scale_exponent(scale_factor)
        if exponent is None:
            return None
        # Dividing by a power of ten rounds like the decimal the meter meant
        # (2301 / 10 == 230.1), multiplying by 0.1 does not.
        raw = raw * 10**exponent if exponent >= 0 else raw / 10**-exponent
    factor = _CANONICAL[spec.unit][1]
    return (raw * spec.scale + spec.offset) * factor


def decode_in_block(
    spec: RegisterSpec, block_address: int, block: Sequence[int]
) -> float | None:
    """Decode `spec` out of the answer to a read that started at `block_address`.

    The block must hold every register the spec needs (`address` to `end`),
    its scale factor included.
    """
    start = spec.address - block_address
    if start < 0 or spec.end - block_address > len(block):
        msg = (
            f"{spec.quantity}: registers {spec.address}..{spec.end - 1} are not "
            f"all in the block read at {block_address} (+{len(block)})"
        )
        raise ValueError(msg)
    scale_factor = (
        block[spec.scale_factor - block_address]
        if spec.scale_factor is not None
        else None
    )
    return decode(spec, list(block[start : start + spec.count]), scale_factor)


def raw_registers(spec: RegisterSpec, bits: int) -> list[int]:
    """The registers carrying `bits` (a raw value as `not_available` lists them).

    The inverse of the sentinel check in `decode_raw`: a simulator serves a
    profile's "not available" marker with it, in the profile's word order.
    """
    size = 2 * spec.count
    wire = _to_wire_order(bits.to_bytes(size, "big"), spec.byte_order)
    return [int.from_bytes(wire[i : i + 2], "big") for i in range(0, size, 2)]


def encode(spec: RegisterSpec, value: float) -> list[int]:
    """Registers a meter following `spec` would serve for `value` (canonical units)."""
    factor = _CANONICAL[spec.unit][1]
    raw: float = (value / factor - spec.offset) / spec.scale
    fmt = _STRUCT_FORMAT[spec.data_type]
    packed = struct.pack(fmt, raw if spec.data_type.startswith("float") else round(raw))
    wire = _to_wire_order(packed, spec.byte_order)
    return [int.from_bytes(wire[i : i + 2], "big") for i in range(0, len(wire), 2)]
