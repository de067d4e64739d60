"""SunSpec meters: find the model block on the device, then read it like any other.

A SunSpec device puts a chain of models behind a marker ("SunS") at 40000
(or 50000, or 0): each model starts with its id and its length, and the next
one follows right after it, until an id of 0xFFFF ends the chain. Where the
meter model (203 with integers and scale factors, 213 with floats) sits
depends on what comes before it: the common model, whose length differs
between vendors, and on an inverter or datamanager every model of its own.
Hard-coded addresses are right for one firmware and wrong for the next.

So a SunSpec profile gives offsets into its model, counted from the model's
ID register as the SunSpec model definitions count them, and `locate` walks
the chain on the device, once per session, and turns the profile into an
ordinary one with wire addresses. Everything after that (planning, the
exception-2 split, decoding with scale factors) is the same as for any meter.
"""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace

from .model import FunctionCode, Profile, RegisterSpec
from .plan import ReadRequest
from .transport import ILLEGAL_ADDRESS, ModbusExceptionError, TransportError

SUNSPEC_MARKER = (0x5375, 0x6E53)  # "SunS"
BASE_ADDRESSES = (40000, 50000, 0)  # where the SunSpec spec allows the marker
END_OF_CHAIN = 0xFFFF
MODEL_HEADER_LENGTH = 2  # the ID and L registers before a model's points
LAST_ADDRESS = 0xFFFF

# A chain of real devices has a handful of models; a longer one is garbage
# (a device answering every address with the same words), not worth a bus
# request per model.
MAX_MODELS = 64

type ReadFunction = Callable[[ReadRequest], Awaitable[list[int]]]


class SunSpecModelNotFoundError(ModbusExceptionError):
    """The device has no SunSpec chain, or not the model the profile maps.

    A ModbusExceptionError, because it means the same to every caller as a
    meter refusing the profile's registers: the profile does not fit this
    meter (the config flow says so on the profile field).
    """

    def __init__(self, message: str) -> None:
        """Explain what was found instead; the code reads as "not here"."""
        TransportError.__init__(self, message)
        self.code = ILLEGAL_ADDRESS
        self.address = 0


@dataclass(frozen=True, slots=True)
class ModelBlock:
    """One model in a device's SunSpec chain."""

    model: int
    address: int  # wire address of the model's ID register
    length: int  # L: registers after the two-register header


async def _read(read: ReadFunction, address: int, count: int) -> list[int] | None:
    """Holding registers at `address`, or None when the device has none there."""
    try:
        return await read(ReadRequest(FunctionCode.HOLDING, address, count, ()))
    except ModbusExceptionError as err:
        if err.code != ILLEGAL_ADDRESS:
            raise
        return None


async def find_base(read: ReadFunction) -> int:
    """The address of the "SunS" marker; raises SunSpecModelNotFoundError."""
    for base in BASE_ADDRESSES:
        if tuple(await _read(read, base, len(SUNSPEC_MARKER)) or ()) == SUNSPEC_MARKER:
            return base
    places = ", ".join(str(base) for base in BASE_ADDRESSES)
    msg = f"no SunSpec marker ('SunS') at {places}"
    raise SunSpecModelNotFoundError(msg)


async def walk_chain(read: ReadFunction, until: int | None = None) -> list[ModelBlock]:
    """The models of the device's chain, in order, up to model `until` if given.

    Stopping at the wanted model saves a request per model after it. A chain
    that ends without the 0xFFFF marker (some devices refuse the address
    after the last model instead) simply ends there.
    """
    address = await find_base(read) + len(SUNSPEC_MARKER)
    blocks: list[ModelBlock] = []
    while (
        len(blocks) < MAX_MODELS and address + MODEL_HEADER_LENGTH <= LAST_ADDRESS + 1
    ):
        header = await _read(read, address, MODEL_HEADER_LENGTH)
        if header is None or header[0] == END_OF_CHAIN:
            break
        block = ModelBlock(model=header[0], address=address, length=header[1])
        blocks.append(block)
        if block.model == until:
            break
        address += MODEL_HEADER_LENGTH + block.length
    return blocks


async def locate(profile: Profile, read: ReadFunction) -> Profile:
    """Find the profile's model on the device and return the profile at its place."""
    if profile.sunspec_model is None:
        return profile
    blocks = await walk_chain(read, until=profile.sunspec_model)
    for block in blocks:
        if block.model == profile.sunspec_model:
            return resolve(profile, block)
    found = ", ".join(str(block.model) for block in blocks) or "none"
    msg = f"no SunSpec model {profile.sunspec_model} on this device (models found: {found})"
    raise SunSpecModelNotFoundError(msg)


def resolve(profile: Profile, block: ModelBlock) -> Profile:
    """The profile with its model offsets turned into wire addresses at `block`.

    The result is an ordinary profile (no `sunspec_model`), so reading it
    needs nothing SunSpec-specific beyond the scale factors every profile
    may use.
    """
    needed = max(spec.end for spec in profile.registers) - MODEL_HEADER_LENGTH
    if needed > block.length:
        msg = (
            f"SunSpec model {block.model} at {block.address} has {block.length} "
            f"registers, the profile needs {needed}"
        )
        raise SunSpecModelNotFoundError(msg)
    if block.address + MODEL_HEADER_LENGTH + needed > LAST_ADDRESS + 1:
        msg = (
            f"SunSpec model {block.model} at {block.address} runs past the last address"
        )
        raise SunSpecModelNotFoundError(msg)
    return replace(
        profile,
        registers=tuple(_shifted(spec, block.address) for spec in profile.registers),
        sunspec_model=None,
    )


def _shifted(spec: RegisterSpec, shift: int) -> RegisterSpec:
    """A register spec moved by `shift`, its scale factor with it."""
    return replace(
        spec,
        address=spec.address + shift,
        scale_factor=None if spec.scale_factor is None else spec.scale_factor + shift,
    )
