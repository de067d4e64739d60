"""Reads a meter refuses: find what it lacks, and never ask for it again.

A meter answers a whole request with exception 2 (illegal data address) when
a single address in it is one it does not have: a value its model lacks (the
export counters of a one-direction EM24), or an unused address between two
values that a strict meter will not let a request span. The planner cannot
know either in advance, and one missing value must not cost the meter all the
others.

So a refused request is halved, and each half read on its own, down to single
values: a value refused on its own is absent, and published as unavailable. A
request refused while both its halves answer marks the seam between them as a
cut. The block is planned again around the lessons and read that way at
once; the reader keeps the new requests as its plan for the session, so the
meter is asked for the missing piece once, not on every poll, while the
values around it are still read in as few requests as the lessons allow.

Halving keeps the one-off cost small: a block of n values with one absent
costs about 2·log2(n) extra requests in the poll that finds it, against n for
a value-by-value probe.

A meter with the wrong profile refuses everything, and halving every block
down to single values would cost 2n requests over a live bus (32 to 78 in a
config flow, where each waits behind the other meters' polls). A meter that
has the profile's values answers a piece within a few halvings, so a read in
which the first `REFUSALS_BEFORE_AN_ANSWER` requests are all refused stops
there: the profile does not match.
"""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from .model import Quantity
from .plan import MODBUS_MAX_REGISTERS, Cut, ReadRequest, covering, plan_reads
from .transport import ILLEGAL_ADDRESS, ModbusExceptionError

type ReadFunction = Callable[[ReadRequest], Awaitable[list[int]]]


type Piece = tuple[ReadRequest, list[int]]

# Halving a 125-register block reaches a single value in 7 steps; a meter
# whose first values are absent needs a few more before something answers.
REFUSALS_BEFORE_AN_ANSWER = 12


class ProfileMismatchError(ModbusExceptionError):
    """Every request of a read refused with exception 2: not this meter's profile."""


@dataclass(slots=True)
class RefusalMemory:
    """What exception-2 answers taught about one meter, for this session."""

    max_registers: int = MODBUS_MAX_REGISTERS
    absent: set[Quantity] = field(default_factory=set)
    cuts: set[Cut] = field(default_factory=set)
    # Refusals in the current read while nothing has answered yet, or None
    # once something has.
    _refused_first: int | None = field(default=0, init=False, repr=False)

    def forget(self) -> None:
        """Start afresh (a meter that refused everything has the wrong profile)."""
        self.absent.clear()
        self.cuts.clear()

    def begin_read(self) -> None:
        """A new read of the whole plan: count its refusals from zero."""
        self._refused_first = 0

    async def _read(self, request: ReadRequest, read: ReadFunction) -> list[int]:
        """One request; a refusal before any answer counts towards giving up."""
        try:
            registers = await read(request)
        except ModbusExceptionError as err:
            if err.code == ILLEGAL_ADDRESS and self._refused_first is not None:
                self._refused_first += 1
                if self._refused_first >= REFUSALS_BEFORE_AN_ANSWER:
                    self.forget()
                    raise ProfileMismatchError(
                        err.code, int(request.function), request.address, request.count
                    ) from err
            raise
        self._refused_first = None
        return registers

    async def read_block(self, request: ReadRequest, read: ReadFunction) -> list[Piece]:
        """Read one planned request; when refused, read around what is missing.

        Returns the requests that answered, with their registers: the request
        itself, or the plan that replaces it. The replacement is read in
        full before it is returned, so a caller that keeps it as its plan
        never sends a request that has not been answered: a plan guessed from
        the lessons alone could still bridge a second gap nobody has asked
        about yet. Each refusal teaches at least one new absent value or cut,
        so the loop ends.
        """
        try:
            return [(request, await self._read(request, read))]
        except ModbusExceptionError as err:
            if err.code != ILLEGAL_ADDRESS or isinstance(err, ProfileMismatchError):
                raise
        answered = await self._split(request, read)
        while True:
            proven = {(piece.address, piece.count): regs for piece, regs in answered}
            replanned = plan_reads(
                (spec for spec in request.specs if spec.quantity not in self.absent),
                self.max_registers,
                cuts=self.cuts,
            )
            untested = [r for r in replanned if (r.address, r.count) not in proven]
            if not untested:
                return [(r, proven[r.address, r.count]) for r in replanned]
            for attempt in untested:
                try:
                    answered.append((attempt, await self._read(attempt, read)))
                except ModbusExceptionError as err:
                    if err.code != ILLEGAL_ADDRESS or isinstance(
                        err, ProfileMismatchError
                    ):
                        raise
                    answered += await self._split(attempt, read)

    async def _split(self, request: ReadRequest, read: ReadFunction) -> list[Piece]:
        """Read the halves of a refused request, and theirs, learning as it goes.

        Returns the pieces that answered. Errors other than exception 2
        propagate: a timeout halfway is a failed poll, as for any other read.
        """
        if len(request.specs) == 1:
            self._mark_absent(request)
            return []
        middle = len(request.specs) // 2
        halves = (covering(request.specs[:middle]), covering(request.specs[middle:]))
        answered: list[Piece] = []
        refused_halves = 0
        for half in halves:
            try:
                answered.append((half, await self._read(half, read)))
            except ModbusExceptionError as err:
                if err.code != ILLEGAL_ADDRESS or isinstance(err, ProfileMismatchError):
                    raise
                refused_halves += 1
                answered += await self._split(half, read)
        if not refused_halves:
            # Each half alone is fine, together they are not: the meter
            # refuses what lies between them (or a request that long).
            self.cuts.add((request.function, halves[1].address))
        return answered

    def _mark_absent(self, request: ReadRequest) -> None:
        """One value refused on its own: the meter does not have it.

        The cut at its address keeps a later plan from bridging the gap it
        leaves with a request that would be refused all over again.
        """
        (spec,) = request.specs
        self.absent.add(spec.quantity)
        self.cuts.add((spec.function, spec.address))
