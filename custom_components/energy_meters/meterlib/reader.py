"""Reading one meter: run its read plan on the bus and decode the answers."""

from collections.abc import Mapping
from dataclasses import dataclass
import time
from typing import Any

from .decode import decode_in_block
from .model import FunctionCode, PlausibleRange, Profile, Quantity
from .plan import ReadRequest, plan_reads
from .refusals import RefusalMemory
from .stale import StaleAnswerCheck
from .sunspec import locate
from .transport import (
    ILLEGAL_ADDRESS,
    ModbusExceptionError,
    ModbusTransport,
    NoResponseError,
)


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
    """Reads one meter behind a shared transport, following its profile.

    The plan starts from the profile alone; registers the meter turns out
    not to have (exception 2) are split off and remembered in `refusals`, and
    `plan` is replaced by one that reads around them for the rest of the
    session.
    """

    def __init__(
        self, transport: ModbusTransport, unit_id: int, profile: Profile
    ) -> None:
        """Plan the reads once; the plan depends only on the profile."""
        self.transport = transport
        self.unit_id = unit_id
        self.profile = profile
        self.plan: tuple[ReadRequest, ...] = plan_reads(
            profile.registers, profile.max_registers_per_request
        )
        self.refusals = RefusalMemory(profile.max_registers_per_request)
        self.stale = StaleAnswerCheck()
        self._sent = 0

    async def read(self) -> MeterReading:
        """Run the plan and decode every value; transport errors propagate.

        Values the meter refuses come back as None; only a meter that refuses
        every value of its profile fails the read (wrong profile).
        """
        started = time.monotonic()
        self._sent = 0
        if self.profile.sunspec_model is not None:
            await self._locate_sunspec_model()
        values: dict[Quantity, float | None] = dict.fromkeys(self.refusals.absent)
        raw: dict[str, list[int]] = {}
        learned = len(self.refusals.absent), len(self.refusals.cuts)
        self.refusals.begin_read()
        answered: list[tuple[ReadRequest, list[int]]] = []
        for request in self.plan:
            answered += await self.refusals.read_block(request, self._fetch)
        for piece, registers in answered:
            other = self.stale.answer_of_another(piece, registers)
            if other is not None:
                # A late answer, on this unit and of this shape: the poll
                # fails (the last values stay), and no value is taken from it.
                msg = (
                    f"unit {self.unit_id}: the answer at {piece.address} repeats "
                    f"the last answer at {other.address}: a late answer"
                )
                raise NoResponseError(msg)
        for piece, registers in answered:
            self.stale.remember(piece, registers)
            raw[f"fc{int(piece.function)}@{piece.address}"] = registers
            for spec in piece.specs:
                values[spec.quantity] = decode_in_block(spec, piece.address, registers)
        if learned != (len(self.refusals.absent), len(self.refusals.cuts)):
            self._replan(tuple(piece for piece, _ in answered))
            values.update(dict.fromkeys(self.refusals.absent))
        return MeterReading(
            values=values,
            raw=raw,
            requests=self._sent,
            duration_s=time.monotonic() - started,
        )

    async def _locate_sunspec_model(self) -> None:
        """Find where the profile's SunSpec model sits on this meter, once.

        Until then the profile's addresses are offsets into the model; after
        it, the reader holds an ordinary profile and plans reads at its place.
        """
        self.profile = await locate(self.profile, self._fetch)
        self.plan = plan_reads(
            self.profile.registers, self.profile.max_registers_per_request
        )

    async def _fetch(self, request: ReadRequest) -> list[int]:
        """One request on the bus, counted for the reading's statistics."""
        self._sent += 1
        return await self.transport.read(
            request.function, request.address, request.count, self.unit_id
        )

    def lessons(self) -> dict[str, Any]:
        """What the meter's refusals taught, to keep across reloads and restarts.

        Tied to the profile and unit id: another profile or meter starts afresh.
        """
        return {
            "profile": self.profile.id,
            "unit_id": self.unit_id,
            "absent": sorted(str(quantity) for quantity in self.refusals.absent),
            "cuts": sorted(
                [int(function), address] for function, address in self.refusals.cuts
            ),
        }

    def learn(self, lessons: Mapping[str, Any]) -> None:
        """Start from what an earlier session learned: no re-learning on the bus.

        A WAGO lacks some of its map's registers; learning that again after
        each reload cost 11 requests, 6 of them refused. Lessons of another
        profile or unit id, or that do not parse, are ignored.
        """
        if (
            lessons.get("profile") != self.profile.id
            or lessons.get("unit_id") != self.unit_id
        ):
            return
        try:
            absent = {Quantity(key) for key in lessons.get("absent", [])}
            cuts = {(FunctionCode(int(f)), int(a)) for f, a in lessons.get("cuts", [])}
        except TypeError, ValueError:
            return
        self.refusals.absent |= absent
        self.refusals.cuts |= cuts
        if self.profile.sunspec_model is None:
            self.plan = plan_reads(
                (
                    spec
                    for spec in self.profile.registers
                    if spec.quantity not in absent
                ),
                self.profile.max_registers_per_request,
                cuts=self.refusals.cuts,
            )

    def _replan(self, answered: tuple[ReadRequest, ...]) -> None:
        """Keep the requests that just answered as the plan for the session.

        A meter that has none of its profile's values is not missing a few
        registers: it is the wrong meter for this profile, and the read fails
        as it would have without splitting (the plan is left as it was).
        """
        if not answered:
            self.refusals.forget()
            raise ModbusExceptionError(
                ILLEGAL_ADDRESS,
                int(self.plan[0].function),
                self.plan[0].address,
                self.plan[0].count,
            )
        self.plan = answered


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
