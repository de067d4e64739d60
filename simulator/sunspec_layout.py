"""A SunSpec device for the simulator: a meter model inside a model chain.

A SunSpec profile gives offsets into its model, not wire addresses, so a
simulated SunSpec meter has to decide where the model sits, and serve what a
client walks to find it: the "SunS" marker, the common model, any models
placed before the meter's, the meter model's header and the end marker. The
position is not fixed on purpose (`base`, `models_before`): a reader that
hard-coded 40070 would pass against one layout and fail against the next,
as it would on real devices.

Scale factors are registers here, as on a real device, one per group of
points. Each starts at a value that suits the group's unit (centiamperes,
decivolts, whole watts); `SunSpecMeter.set_scale_factor` changes one, or
marks it not available (0x8000). Values are served through a profile with
each value's exponent folded into its `scale`, so the rest of the simulator
(encoding, saturation, `served_values`) works unchanged.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

from custom_components.energy_meters.meterlib.decode import (
    SCALE_FACTOR_NOT_AVAILABLE,
)
from custom_components.energy_meters.meterlib.model import (
    FunctionCode,
    Profile,
    Quantity,
    RegisterSpec,
    Unit,
)
from custom_components.energy_meters.meterlib.sunspec import (
    BASE_ADDRESSES,
    END_OF_CHAIN,
    MODEL_HEADER_LENGTH,
    SUNSPEC_MARKER,
    ModelBlock,
    resolve,
)

from .meter import SimulatedMeter, ValueSource
from .register_map import Cluster

COMMON_MODEL = 1
COMMON_MODEL_LENGTH = 66

# Lengths (L) of the meter models as the SunSpec definitions give them; a
# model not listed gets just the length its profile needs.
STANDARD_LENGTHS: Mapping[int, int] = {
    201: 105,
    202: 105,
    203: 105,
    204: 105,
    211: 124,
    212: 124,
    213: 124,
    214: 124,
}

# Starting exponent per unit: fine enough for the tests' decimals, coarse
# enough that a household's values fit an int16 (32767 W, 327.67 A).
_DEFAULT_EXPONENTS: Mapping[Unit, int] = {
    Unit.A: -2,
    Unit.V: -1,
    Unit.HZ: -2,
    Unit.NONE: -2,
}


@dataclass(frozen=True, slots=True)
class ChainModel:
    """A model in the chain before the meter model (its points are zeros)."""

    model: int
    length: int


COMMON = ChainModel(COMMON_MODEL, COMMON_MODEL_LENGTH)


def _text(value: str, registers: int) -> list[int]:
    """A SunSpec string point: ASCII, two characters a register, NUL padded."""
    data = value.encode("ascii")[: 2 * registers].ljust(2 * registers, b"\0")
    return [int.from_bytes(data[i : i + 2], "big") for i in range(0, len(data), 2)]


def _common_model_points(model: int) -> list[int]:
    """Mn, Md, Opt, Vr, SN, DA and Pad of the common model (66 registers)."""
    return [
        *_text("Energy Meters", 16),
        *_text(f"Simulated SunSpec {model}", 16),
        *_text("", 8),
        *_text("1.0", 8),
        *_text("SIM0001", 16),
        1,
        0,
    ]


class SunSpecLayout:
    """Where a SunSpec profile's model sits in a simulated chain, and its registers."""

    def __init__(
        self,
        profile: Profile,
        *,
        base: int = BASE_ADDRESSES[0],
        models_before: Iterable[ChainModel] = (COMMON,),
    ) -> None:
        """Place the model after the marker at `base` and `models_before`."""
        if profile.sunspec_model is None:
            msg = f"profile {profile.id} is not a SunSpec profile"
            raise ValueError(msg)
        self.profile = profile
        self.base = base
        self.models_before = tuple(models_before)
        needed = max(spec.end for spec in profile.registers) - MODEL_HEADER_LENGTH
        length = max(STANDARD_LENGTHS.get(profile.sunspec_model, 0), needed)
        address = base + len(SUNSPEC_MARKER)
        address += sum(MODEL_HEADER_LENGTH + m.length for m in self.models_before)
        self.block = ModelBlock(profile.sunspec_model, address, length)
        self.resolved = resolve(profile, self.block)
        self.end = address + MODEL_HEADER_LENGTH + length + MODEL_HEADER_LENGTH
        self.exponents: dict[int, int | None] = {
            spec.scale_factor: _DEFAULT_EXPONENTS.get(spec.unit, 0)
            for spec in self.resolved.registers
            if spec.scale_factor is not None
        }

    def scale_factor_address(self, quantity: Quantity) -> int:
        """The wire address of the scale factor `quantity` is scaled by."""
        spec = self.resolved.spec(quantity)
        if spec is None or spec.scale_factor is None:
            msg = f"{quantity} has no scale factor in {self.profile.id}"
            raise ValueError(msg)
        return spec.scale_factor

    def serving_profile(self) -> Profile:
        """The resolved profile with each exponent folded into its value's scale."""
        return replace(
            self.resolved,
            registers=tuple(self._folded(spec) for spec in self.resolved.registers),
        )

    def _folded(self, spec: RegisterSpec) -> RegisterSpec:
        if spec.scale_factor is None:
            return spec
        exponent = self.exponents[spec.scale_factor] or 0
        return replace(spec, scale=spec.scale * 10.0**exponent, scale_factor=None)

    def unavailable(self) -> frozenset[Quantity]:
        """Quantities whose scale factor is served as not available."""
        return frozenset(
            spec.quantity
            for spec in self.resolved.registers
            if spec.scale_factor is not None
            and self.exponents[spec.scale_factor] is None
        )

    def fixed_registers(self) -> dict[int, int]:
        """Every register that is not a value: marker, headers, points, scale factors."""
        words: dict[int, int] = {}

        def put(address: int, values: Iterable[int]) -> None:
            for offset, value in enumerate(values):
                words[address + offset] = value & 0xFFFF

        put(self.base, SUNSPEC_MARKER)
        address = self.base + len(SUNSPEC_MARKER)
        for model in self.models_before:
            points = (
                _common_model_points(self.block.model)
                if model == COMMON
                else [0] * model.length
            )
            put(address, [model.model, model.length, *points])
            address += MODEL_HEADER_LENGTH + model.length
        put(address, [self.block.model, self.block.length])
        for sf_address, exponent in self.exponents.items():
            put(
                sf_address,
                [SCALE_FACTOR_NOT_AVAILABLE if exponent is None else exponent],
            )
        put(self.end - MODEL_HEADER_LENGTH, [END_OF_CHAIN, 0])
        return words


class SunSpecMeter(SimulatedMeter):
    """A simulated meter serving a SunSpec profile inside a model chain."""

    def __init__(
        self,
        profile: Profile,
        unit_id: int,
        source: ValueSource | None = None,
        *,
        seed: int | None = None,
        base: int = BASE_ADDRESSES[0],
        models_before: Iterable[ChainModel] = (COMMON,),
    ) -> None:
        """Serve `profile` (offsets into its model) at a place in a chain."""
        self.layout = SunSpecLayout(profile, base=base, models_before=models_before)
        super().__init__(self.layout.serving_profile(), unit_id, source, seed=seed)
        self.sunspec_profile = profile
        self._fixed = self.layout.fixed_registers()
        self._answer_whole_chain()

    def _answer_whole_chain(self) -> None:
        """One cluster from the marker to the end marker: a client walks all of it."""
        self.clusters = (
            Cluster(
                FunctionCode.HOLDING,
                self.layout.base,
                self.layout.end,
                self.profile.registers,
            ),
        )

    def set_scale_factor(self, quantity: Quantity, exponent: int | None) -> None:
        """Serve another exponent for `quantity`'s group (None: 0x8000, not available).

        Every quantity sharing the scale factor register changes with it, as
        on a device.
        """
        self.layout.exponents[self.layout.scale_factor_address(quantity)] = exponent
        self.profile = self.layout.serving_profile()
        self._fixed = self.layout.fixed_registers()
        self._answer_whole_chain()

    def served_values(self) -> dict[Quantity, float]:
        """As for any meter, less the values whose scale factor is not available."""
        unavailable = self.layout.unavailable()
        return {
            quantity: value
            for quantity, value in super().served_values().items()
            if quantity not in unavailable
        }

    def _fill(
        self,
        cluster: Cluster,
        block_start: int,
        address: int,
        count: int,
        registers: list[int],
    ) -> None:
        """The values as for any meter, then the chain's fixed registers."""
        super()._fill(cluster, block_start, address, count, registers)
        for fixed_address, word in self._fixed.items():
            if address <= fixed_address < address + count:
                registers[fixed_address - block_start] = word


def simulated_meter(
    profile: Profile,
    unit_id: int,
    source: ValueSource | None = None,
    *,
    seed: int | None = None,
) -> SimulatedMeter:
    """A simulated meter for any profile: SunSpec ones inside a model chain."""
    if profile.sunspec_model is not None:
        return SunSpecMeter(profile, unit_id, source, seed=seed)
    return SimulatedMeter(profile, unit_id, source, seed=seed)
