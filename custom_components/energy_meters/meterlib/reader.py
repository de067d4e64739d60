"""Reading one meter: run its read plan on the bus and decode the answers."""

import time
from collections.abc import Mapping
from dataclasses import dataclass

from .decode import decode
from .model import PlausibleRange, Profile, Quantity
from .plan import ReadRequest, plan_reads
from .transport import ModbusTransport


@dataclass(frozen=True, slots=True)
class MeterReading:
    """Everything one poll of one meter produced.

    `raw` keeps the registers of each request (keyed by function code and start
    address) so diagnostics can show exactly what came over the wire.
    """

    values: Mapping[Quantity, float | None]
    raw: Mapping[str, list[int]]
    requests: int
    duration_s: float


@dataclass(frozen=True, slots=True)
class Implausible:
    """A probed quantity that fell outside the range the profile expects."""

    quantity: Quantity
    value: float | None
    expected: PlausibleRange


class MeterReader:
    """Reads one meter behind a shared transport, following its profile."""

    def __init__(self, transport: ModbusTransport, unit_id: int, profile: Profile) -> None:
        """Plan the reads once; the plan depends only on the profile."""
        self.transport = transport
        self.unit_id = unit_id
        self.profile = profile
        self.plan: tuple[ReadRequest, ...] = plan_reads(
            profile.registers, profile.max_registers_per_request
        )

    async def read(self) -> MeterReading:
        """Run the plan and decode every value; transport errors propagate."""
        started = time.monotonic()
        values: dict[Quantity, float | None] = {}
        raw: dict[str, list[int]] = {}
        for request in self.plan:
            registers = await self.transport.read(
                request.function, request.address, request.count, self.unit_id
            )
            raw[f"fc{int(request.function)}@{request.address}"] = registers
            for spec in request.specs:
                values[spec.quantity] = decode(spec, request.slice_for(spec, registers))
        return MeterReading(
            values=values,
            raw=raw,
            requests=len(self.plan),
            duration_s=time.monotonic() - started,
        )


def implausible_values(
    profile: Profile, values: Mapping[Quantity, float | None]
) -> list[Implausible]:
    """The probed quantities whose values make no sense for this profile.

    A wrong profile or word order rarely fails to read; it reads nonsense
    (1.2e-38 Hz). Checking a few quantities with narrow physical ranges tells
    the user before any entity is created.
    """
    found: list[Implausible] = []
    for expected in profile.probe:
        value = values.get(expected.quantity)
        if value is None or not expected.minimum <= value <= expected.maximum:
            found.append(Implausible(expected.quantity, value, expected))
    return found
