"""Answers that belong to another request: the last check before decoding.

In RTU framing an answer names only its unit, its function and its length.
A late answer to one block, handed over as the next request of the same
shape goes out, decodes without complaint as that request's values: the
EM24's energy block read as its currents (45.691 A where 4.321 A flow). The
transport confirms the first answer after a timeout; this check catches what
still gets through, whatever the link: an answer whose registers, decoded as
another block of the same shape, give that block's last values is that
block's answer, not this one's.

Energy counters and voltages move by a fraction of a per cent between polls,
so "the same values" allows 1 %. A block of zeros proves nothing (an idle
meter's currents and its export counters) and is never taken as stale.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
import math

from .decode import decode_in_block
from .plan import ReadRequest

# Relative difference under which two readings of a block count as the same.
SAME_VALUES = 0.01

type Shape = tuple[int, int]  # function code, register count


def _values(request: ReadRequest, registers: Sequence[int]) -> list[float | None]:
    return [decode_in_block(spec, request.address, registers) for spec in request.specs]


def _same(a: Sequence[float | None], b: Sequence[float | None]) -> bool:
    """Every value finite and within SAME_VALUES of the other, one not zero."""
    if not any(x for x in a if x is not None):
        return False
    for x, y in zip(a, b, strict=True):
        if x is None or y is None or not (math.isfinite(x) and math.isfinite(y)):
            return False
        if abs(x - y) > SAME_VALUES * max(abs(x), abs(y)):
            return False
    return True


@dataclass(slots=True)
class StaleAnswerCheck:
    """The last good answer of each request of one meter, by shape."""

    _last: dict[Shape, dict[int, tuple[ReadRequest, list[int]]]] = field(
        default_factory=dict
    )

    def answer_of_another(
        self, request: ReadRequest, registers: Sequence[int]
    ) -> ReadRequest | None:
        """The other request whose last answer `registers` repeat, if any."""
        same_shape = self._last.get((int(request.function), request.count), {})
        own = same_shape.get(request.address)
        if own is not None and _same(
            _values(request, registers), _values(request, own[1])
        ):
            return None  # close to its own last answer: nothing to suspect
        for address, (other, last) in same_shape.items():
            if address == request.address:
                continue
            if _same(_values(other, registers), _values(other, last)):
                return other
        return None

    def remember(self, request: ReadRequest, registers: Sequence[int]) -> None:
        """Keep a good answer for the next poll's check."""
        shape = (int(request.function), request.count)
        self._last.setdefault(shape, {})[request.address] = (request, list(registers))
