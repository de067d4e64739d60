"""The read planner: a meter's registers in the fewest, cheapest requests.

On an RS-485 bus every request pays a fixed price (request frame, response
header and CRC, the gateway's turnaround) before a single register moves. So
neighbouring registers are read together, and a gap between them is read too
when carrying the unused registers costs less bus time than a second request.
No request exceeds the Modbus limit of 125 registers or the meter's own
ceiling.
"""

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass

from .model import FunctionCode, RegisterSpec

MODBUS_MAX_REGISTERS = 125

# Bytes a read request costs beyond its registers, on RTU framing:
# request = unit + fc + address(2) + count(2) + crc(2) = 8;
# response = unit + fc + byte count + crc(2) = 5.
RTU_REQUEST_OVERHEAD_BYTES = 13
BITS_PER_BYTE_ON_WIRE = 11  # start + 8 data + parity or second stop + stop


@dataclass(frozen=True, slots=True)
class BusCost:
    """What a request costs on the bus, to weigh gaps against requests."""

    baud: int = 9600
    turnaround_s: float = 0.01

    def seconds_for_bytes(self, count: int) -> float:
        """Time the bus is busy sending `count` bytes."""
        return count * BITS_PER_BYTE_ON_WIRE / self.baud

    def request_seconds(self, registers: int) -> float:
        """Bus time of one read request for `registers` registers."""
        return (
            self.seconds_for_bytes(RTU_REQUEST_OVERHEAD_BYTES + 2 * registers)
            + self.turnaround_s
        )

    @property
    def max_worthwhile_gap(self) -> int:
        """The widest gap (in registers) still cheaper to read than to skip."""
        per_request = self.request_seconds(0)
        per_register = self.seconds_for_bytes(2)
        return int(per_request // per_register)


@dataclass(frozen=True, slots=True)
class ReadRequest:
    """One read on the bus and the values it carries."""

    function: FunctionCode
    address: int
    count: int
    specs: tuple[RegisterSpec, ...]

    def slice_for(self, spec: RegisterSpec, registers: list[int]) -> list[int]:
        """The registers of `spec` within this request's answer."""
        start = spec.address - self.address
        return registers[start : start + spec.count]


type Cut = tuple[FunctionCode, int]
"""An address no request of that function code may reach across.

A request must not hold values on both sides of it: the meter refused a read
that did (see `refusals`). Values starting at the address belong to the right.
"""


def plan_reads(
    specs: Iterable[RegisterSpec],
    max_registers: int = MODBUS_MAX_REGISTERS,
    cost: BusCost | None = None,
    cuts: Collection[Cut] = (),
) -> tuple[ReadRequest, ...]:
    """Group register specs into requests, per function code, in address order.

    Greedy in address order is optimal here: with values sorted, each request
    is a run of consecutive values, and a run only ends when the next value
    does not fit under the ceiling, the gap before it costs more than a new
    request, or a cut the meter taught us lies between them.
    """
    ceiling = min(max_registers, MODBUS_MAX_REGISTERS)
    max_gap = (cost or BusCost()).max_worthwhile_gap
    requests: list[ReadRequest] = []
    by_function: dict[FunctionCode, list[RegisterSpec]] = {}
    for spec in specs:
        if spec.count > ceiling:
            msg = f"{spec.quantity} needs {spec.count} registers, ceiling is {ceiling}"
            raise ValueError(msg)
        by_function.setdefault(spec.function, []).append(spec)
    for function in sorted(by_function):
        barriers = sorted(address for code, address in cuts if code == function)
        run: list[RegisterSpec] = []
        for spec in sorted(by_function[function], key=lambda s: s.address):
            if run:
                start = run[0].address
                end = max(s.end for s in run)
                gap = spec.address - end
                if (
                    gap <= max_gap
                    and spec.end - start <= ceiling
                    and not _crosses(barriers, run[-1].address, spec.address)
                ):
                    run.append(spec)
                    continue
                requests.append(covering(run))
            run = [spec]
        if run:
            requests.append(covering(run))
    return tuple(requests)


def _crosses(barriers: list[int], before: int, after: int) -> bool:
    """Whether a cut lies between a value at `before` and the next at `after`."""
    return any(before < barrier <= after for barrier in barriers)


def covering(specs: Sequence[RegisterSpec]) -> ReadRequest:
    """The request reading exactly from the first to the last of `specs`.

    The specs must share one function code and be in address order.
    """
    start = specs[0].address
    end = max(s.end for s in specs)
    return ReadRequest(specs[0].function, start, end - start, tuple(specs))
