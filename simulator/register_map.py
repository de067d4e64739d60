"""Which addresses a simulated meter answers, and what it puts in them.

A real meter answers a read that spans the unused registers between two
values of the same block (the WAGO energy block 0x6000..0x603D has values only
every few registers), and the integration's read planner relies on that to
read a block in one request. So by default a simulated meter answers every
address between the first and the last register of each *cluster*: values of
one function code no further apart than one request could ever bridge
(`MODBUS_MAX_REGISTERS`), with zeros in the gaps. Addresses outside every
cluster answer exception 2, as a real meter does for addresses it lacks.

Values are encoded with the library's own `encode`, the exact inverse of the
`decode` the integration uses, so a test can compare Home Assistant's states
with what went on the wire.
"""

from collections.abc import Iterable
from dataclasses import dataclass
import math

from custom_components.energy_meters.meterlib.decode import (
    decode,
    encode,
    raw_registers,
)
from custom_components.energy_meters.meterlib.model import (
    ByteOrder,
    DataType,
    FunctionCode,
    RegisterSpec,
)
from custom_components.energy_meters.meterlib.plan import MODBUS_MAX_REGISTERS

# Integer ranges, as floats that convert back exactly (64-bit limits pulled in
# to the nearest value a float can hold, so clamping never overflows).
_INTEGER_RANGES: dict[DataType, tuple[int, int]] = {
    DataType.INT16: (-(2**15), 2**15 - 1),
    DataType.UINT16: (0, 2**16 - 1),
    DataType.INT32: (-(2**31), 2**31 - 1),
    DataType.UINT32: (0, 2**32 - 1),
    DataType.INT64: (-(2**63), 2**63 - 2**10),
    DataType.UINT64: (0, 2**64 - 2**11),
}
_FLOAT32_ONE = [0x3F80, 0x0000]  # 1.0 as a big-endian float32


@dataclass(frozen=True, slots=True)
class Cluster:
    """A run of addresses a meter answers for one function code, gaps included."""

    function: FunctionCode
    start: int
    end: int  # first address after the cluster
    specs: tuple[RegisterSpec, ...]

    def covers(self, address: int, count: int) -> bool:
        """Tell whether a read of `count` registers from `address` stays inside."""
        return self.start <= address and address + count <= self.end


def clusters(
    specs: Iterable[RegisterSpec], fill_gaps: bool = True
) -> tuple[Cluster, ...]:
    """Group a profile's registers into the runs a meter answers.

    With `fill_gaps` off, only registers that touch each other are grouped, so
    every unused address answers exception 2 (a strict meter).
    """
    max_gap = MODBUS_MAX_REGISTERS if fill_gaps else 0
    by_function: dict[FunctionCode, list[RegisterSpec]] = {}
    for spec in specs:
        by_function.setdefault(spec.function, []).append(spec)
    found: list[Cluster] = []
    for function in sorted(by_function):
        run: list[RegisterSpec] = []
        for spec in sorted(by_function[function], key=lambda s: s.address):
            if run and spec.address - max(s.end for s in run) > max_gap:
                found.append(_cluster(function, run))
                run = []
            run.append(spec)
        found.append(_cluster(function, run))
    return tuple(found)


def _cluster(function: FunctionCode, run: list[RegisterSpec]) -> Cluster:
    return Cluster(function, run[0].address, max(s.end for s in run), tuple(run))


def memory_spans(found: Iterable[Cluster]) -> list[tuple[int, int]]:
    """Return the address ranges to define in the device's shared register block.

    Holding and input clusters may overlap; the union is defined once and the
    read handler writes the view of the function code being read.
    """
    spans: list[tuple[int, int]] = []
    for start, end in sorted((c.start, c.end) for c in found):
        if spans and start <= spans[-1][1]:
            spans[-1] = (spans[-1][0], max(spans[-1][1], end))
        else:
            spans.append((start, end))
    return spans


def _unit_factor(spec: RegisterSpec) -> float:
    """Return canonical units per unit of the spec (1000 for kW, 0.001 for Wh)."""
    probe = RegisterSpec(
        spec.quantity, 0, spec.function, DataType.FLOAT32, ByteOrder.ABCD, spec.unit
    )
    return decode(probe, _FLOAT32_ONE) or 1.0


def _canonical(spec: RegisterSpec, raw: float) -> float:
    """Return the canonical value a raw register number stands for."""
    return (raw * spec.scale + spec.offset) * _unit_factor(spec)


def encode_value(spec: RegisterSpec, value: float) -> list[int]:
    """Return the registers a meter following `spec` serves for `value`.

    Integer registers saturate at the limits of their type, as a meter's
    firmware does, instead of failing the whole read. Integers have no NaN: a
    value that is not available is served as the profile's own "not
    available" marker when it declares one (SunSpec's 0 for a counter it does
    not keep), else as the extreme of the type (0x8000… signed, 0xFFFF…
    unsigned), the marker meters use.
    """
    if not math.isfinite(value) and spec.not_available:
        return raw_registers(spec, max(spec.not_available))
    if spec.data_type in _INTEGER_RANGES:
        low, high = (
            _canonical(spec, bound) for bound in _INTEGER_RANGES[spec.data_type]
        )
        if not math.isfinite(value):
            value = low if _INTEGER_RANGES[spec.data_type][0] < 0 else high
        value = min(max(value, min(low, high)), max(low, high))
    return encode(spec, value)
