"""Reading one meter: run its read plan on the bus and decode the answers."""

from collections.abc import AsyncIterator, Collection, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
import time
from typing import Any

from .decode import decode_in_block
from .model import FunctionCode, PlausibleRange, Profile, Quantity
from .plan import ReadRequest, plan_reads
from .refusals import RefusalMemory
from .schedule import BusArbiter
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
    # The time its requests held the bus, waits for a turn left out.
    bus_s: float = 0.0


@dataclass(slots=True)
class _Tally:
    """What one read sent: its own, so a fast read may run beside a full one."""

    fast: bool = False
    requests: int = 0
    bus_s: float = 0.0
    started: float = field(default_factory=time.monotonic)


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

    Beside the full map, a meter may have a fast group (its power, read
    every second): `fast_plan` reads just those values, planned around the
    same lessons. With an `arbiter`, every request waits for its turn on the
    bus, fast ones first.
    """

    def __init__(
        self,
        transport: ModbusTransport,
        unit_id: int,
        profile: Profile,
        arbiter: BusArbiter | None = None,
    ) -> None:
        """Plan the reads once; the plan depends only on the profile."""
        self.transport = transport
        self.unit_id = unit_id
        self.profile = profile
        self.arbiter = arbiter
        self.plan: tuple[ReadRequest, ...] = plan_reads(
            profile.registers, profile.max_registers_per_request
        )
        self.fast_quantities: frozenset[Quantity] = frozenset()
        self.fast_plan: tuple[ReadRequest, ...] = ()
        self.refusals = RefusalMemory(profile.max_registers_per_request)
        self.stale = StaleAnswerCheck()

    def set_fast(self, quantities: Collection[Quantity]) -> None:
        """Choose the fast group: those of `quantities` the profile maps."""
        self.fast_quantities = frozenset(quantities) & self.profile.quantities
        self._plan_fast()

    def _plan_fast(self) -> None:
        """Plan the fast group's reads around what the meter taught.

        A SunSpec profile has no addresses before its model is located, and
        so no fast plan: the first full read locates it.
        """
        if self.profile.sunspec_model is not None or not self.fast_quantities:
            self.fast_plan = ()
            return
        self.fast_plan = plan_reads(
            (
                spec
                for spec in self.profile.registers
                if spec.quantity in self.fast_quantities
                and spec.quantity not in self.refusals.absent
            ),
            self.profile.max_registers_per_request,
            cuts=self.refusals.cuts,
        )

    async def read_fast(self) -> MeterReading:
        """Read the fast group alone; transport errors (refusals too) propagate.

        No splitting here: what the meter lacks is learned by the full read,
        which replans the fast group too. A late answer fails the read, as
        in `read`.
        """
        tally = _Tally(fast=True)
        values: dict[Quantity, float | None] = {}
        raw: dict[str, list[int]] = {}
        answered = [
            (request, await self._fetch(request, tally)) for request in self.fast_plan
        ]
        self._check_stale(answered)
        for piece, registers in answered:
            self._take(piece, registers, values, raw)
        return self._reading(values, raw, tally)

    async def read(self) -> MeterReading:
        """Run the plan and decode every value; transport errors propagate.

        Values the meter refuses come back as None; only a meter that refuses
        every value of its profile fails the read (wrong profile).
        """
        tally = _Tally()
        if self.profile.sunspec_model is not None:
            await self._locate_sunspec_model(tally)
        values: dict[Quantity, float | None] = dict.fromkeys(self.refusals.absent)
        raw: dict[str, list[int]] = {}
        learned = len(self.refusals.absent), len(self.refusals.cuts)
        self.refusals.begin_read()
        answered: list[tuple[ReadRequest, list[int]]] = []

        async def fetch(request: ReadRequest) -> list[int]:
            return await self._fetch(request, tally)

        for request in self.plan:
            answered += await self.refusals.read_block(request, fetch)
        self._check_stale(answered)
        for piece, registers in answered:
            self._take(piece, registers, values, raw)
        if learned != (len(self.refusals.absent), len(self.refusals.cuts)):
            self._replan(tuple(piece for piece, _ in answered))
            values.update(dict.fromkeys(self.refusals.absent))
        return self._reading(values, raw, tally)

    def _check_stale(self, answered: list[tuple[ReadRequest, list[int]]]) -> None:
        """Fail the read on a late answer, before any value is taken from it."""
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

    def _take(
        self,
        piece: ReadRequest,
        registers: list[int],
        values: dict[Quantity, float | None],
        raw: dict[str, list[int]],
    ) -> None:
        """Decode one answered request into `values`, and keep its registers."""
        self.stale.remember(piece, registers)
        raw[f"fc{int(piece.function)}@{piece.address}"] = registers
        for spec in piece.specs:
            values[spec.quantity] = decode_in_block(spec, piece.address, registers)

    @staticmethod
    def _reading(
        values: Mapping[Quantity, float | None],
        raw: Mapping[str, list[int]],
        tally: _Tally,
    ) -> MeterReading:
        return MeterReading(
            values=values,
            raw=raw,
            requests=tally.requests,
            duration_s=time.monotonic() - tally.started,
            bus_s=tally.bus_s,
        )

    async def _locate_sunspec_model(self, tally: _Tally) -> None:
        """Find where the profile's SunSpec model sits on this meter, once.

        Until then the profile's addresses are offsets into the model; after
        it, the reader holds an ordinary profile and plans reads at its place.
        """

        async def fetch(request: ReadRequest) -> list[int]:
            return await self._fetch(request, tally)

        self.profile = await locate(self.profile, fetch)
        self.plan = plan_reads(
            self.profile.registers, self.profile.max_registers_per_request
        )
        self._plan_fast()

    async def _fetch(self, request: ReadRequest, tally: _Tally) -> list[int]:
        """One request on the bus in its turn, counted for the reading's statistics."""
        tally.requests += 1
        async with self._turn(fast=tally.fast):
            started = time.monotonic()
            try:
                return await self.transport.read(
                    request.function, request.address, request.count, self.unit_id
                )
            finally:
                tally.bus_s += time.monotonic() - started

    @asynccontextmanager
    async def _turn(self, *, fast: bool) -> AsyncIterator[None]:
        """The arbiter's turn on the bus, or none to wait for without one."""
        if self.arbiter is None:
            yield
            return
        async with self.arbiter.turn(fast=fast):
            yield

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
            self._plan_fast()

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
        self._plan_fast()


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
