"""A Modbus energy meter that serves any profile from a live model.

`SimulatedMeter` turns a profile (the same data the integration reads with)
and a source of values (by default a `Household`) into a pymodbus `SimDevice`.
Its registers are not a static table: on every read, the device's action
encodes the current values into exactly the registers being read, so a client
always sees the model as it is at that moment, as on a real meter.

Tests steer it without touching the model:

- `set_value` pins a quantity (until `clear_overrides`), NaN included, to serve
  "not available";
- `freeze` holds every value still, so Home Assistant's states can be compared
  with `served_values()`, the values that went on the wire, decoded again;
- `refuse` makes addresses answer exception 2 (illegal data address), as a
  meter does for registers it lacks;
- `faults` (a `simulator.faults.FaultInjector`) makes it misbehave: wrong
  values, exceptions, silence, late answers, dropped connections, a
  replacement meter.
"""

from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
import math
from typing import Protocol

from pymodbus.constants import ExcCodes
from pymodbus.simulator import DataType, SimData, SimDevice

from custom_components.energy_meters.meterlib.decode import decode
from custom_components.energy_meters.meterlib.model import (
    FunctionCode,
    Profile,
    Quantity,
    RegisterSpec,
)

from .faults import Fault, FaultInjector
from .household import Household
from .register_map import Cluster, clusters, encode_value, memory_spans

_READ_FUNCTIONS = frozenset(int(code) for code in FunctionCode)
_REQUEST_LOG_SIZE = 1000
_MAX_UNIT_ID = 255  # the Modbus TCP unit id is one byte


class ValueSource(Protocol):
    """Anything that can say what a meter would measure right now."""

    def values(self) -> Mapping[Quantity, float]:
        """Return current values in canonical units; missing: "not available"."""
        ...


@dataclass(frozen=True, slots=True)
class ReadRecord:
    """One read request the meter answered (or refused), for tests to inspect.

    Reads entirely outside the defined blocks are refused by pymodbus before
    the meter sees them, and are not recorded.
    """

    function: int
    address: int
    count: int
    refused: bool
    fault: Fault | None = None  # the fault the meter made answering it


class SimulatedMeter:
    """One meter on the bus: a profile's registers, filled from a value source."""

    def __init__(
        self,
        profile: Profile,
        unit_id: int,
        source: ValueSource | None = None,
        *,
        seed: int | None = None,
        fill_gaps: bool = True,
    ) -> None:
        """Serve `profile` on `unit_id`.

        Without a source the meter measures its own `Household`, seeded with
        `seed` (the unit id when not given), so two meters differ but each is
        reproducible. `fill_gaps=False` makes every unused address inside a
        block answer exception 2 (a strict meter). `requests` keeps the last
        reads (`ReadRecord`), so a test can check how a client reads.
        """
        if not 1 <= unit_id <= _MAX_UNIT_ID:
            # 0 is the broadcast address, and pymodbus treats a device 0 as
            # "every unit not defined", which would hide a wrong unit id.
            msg = f"unit id must be 1..255, got {unit_id}"
            raise ValueError(msg)
        self.profile = profile
        self.unit_id = unit_id
        self.source: ValueSource = (
            source
            if source is not None
            else Household(seed=unit_id if seed is None else seed)
        )
        self.clusters: tuple[Cluster, ...] = clusters(profile.registers, fill_gaps)
        self._quantities = profile.quantities
        self._overrides: dict[Quantity, float] = {}
        self._frozen: dict[Quantity, float] | None = None
        self._refused: set[int] = set()
        self._served: dict[Quantity, float | None] = {}
        self.requests: deque[ReadRecord] = deque(maxlen=_REQUEST_LOG_SIZE)
        self.faults = FaultInjector(seed=unit_id if seed is None else seed)

    # --- what the meter measures -------------------------------------------

    def current_values(self) -> dict[Quantity, float]:
        """Return what the meter would serve now, before encoding."""
        base = self._frozen if self._frozen is not None else self.source.values()
        values = {q: float(v) for q, v in base.items() if q in self._quantities}
        values.update(self._overrides)
        return dict(self.faults.apply_replacement(values))

    def served_values(self) -> dict[Quantity, float]:
        """Return the values as a client decodes them, for every available quantity.

        A quantity that was read is reported as last put on the wire; one not
        read yet as it would be encoded now. Float32 rounding is included, so
        compare with these, not with the model. A quantity missing from the
        result is served as "not available" (NaN). Value faults (`faults`) are
        left out: this is what a healthy meter would have said.
        """
        current = self.current_values()
        result: dict[Quantity, float] = {}
        for spec in self.profile.registers:
            if spec.quantity in self._served:
                value = self._served[spec.quantity]
            else:
                value = decode(spec, self._encode(spec, current))
            if value is not None:
                result[spec.quantity] = value
        return result

    def set_value(self, quantity: Quantity, value: float) -> None:
        """Serve `value` for `quantity` until `clear_overrides` (NaN: not available)."""
        spec = self._spec(quantity)
        if math.isnan(value) and not spec.data_type.startswith("float"):
            msg = f"{quantity} is {spec.data_type}: an integer register cannot hold NaN"
            raise ValueError(msg)
        self._overrides[quantity] = float(value)

    def clear_overrides(self) -> None:
        """Let every pinned quantity follow the model again."""
        self._overrides.clear()

    def freeze(self) -> None:
        """Hold every value at what the model says now (pinned values still apply)."""
        self._frozen = dict(self.source.values())

    def unfreeze(self) -> None:
        """Follow the model again; it has kept running while frozen."""
        self._frozen = None

    @property
    def frozen(self) -> bool:
        """Tell whether the values are being held still."""
        return self._frozen is not None

    # --- how the meter answers ----------------------------------------------

    def refuse(self, addresses: Iterable[int]) -> None:
        """Answer exception 2 to any read that touches one of `addresses`."""
        self._refused.update(addresses)

    def clear_refusals(self) -> None:
        """Answer every address of the profile again."""
        self._refused.clear()

    def device(self) -> SimDevice:
        """Build a fresh pymodbus device for a server, wired to this meter.

        One shared register block holds every cluster; addresses between
        clusters are left undefined, so pymodbus answers them with exception 2.
        The blocks start out as zeros: the action fills them on every read.
        """
        simdata = [
            SimData(
                start,
                count=end - start,
                values=0,
                datatype=DataType.REGISTERS,
                readonly=True,
            )
            for start, end in memory_spans(self.clusters)
        ]
        return SimDevice(self.unit_id, simdata=simdata, action=self._on_access)

    async def _on_access(  # noqa: PLR0917 (pymodbus calls it with six positionals)
        self,
        function_code: int,
        start_address: int,
        address: int,
        count: int,
        registers: list[int],
        set_values: list[int] | list[bool] | None,
    ) -> ExcCodes | None:
        """Refuse, or fill the registers being read with the current values.

        Writes fall through to pymodbus, which refuses them: the registers are
        read-only, as measured values on a meter are.
        """
        if set_values is not None:
            return None
        if function_code not in _READ_FUNCTIONS:
            return ExcCodes.ILLEGAL_FUNCTION
        cluster = self._cluster_for(function_code, address, count)
        refused = cluster is None or not self._refused.isdisjoint(
            range(address, address + count)
        )
        if cluster is None or refused:
            self.requests.append(ReadRecord(function_code, address, count, refused))
            return ExcCodes.ILLEGAL_ADDRESS
        current = self.current_values()
        carried = [s for s in cluster.specs if s.address >= address]
        carried = [s for s in carried if s.end <= address + count]
        decision = self.faults.draw(function_code, address, count, carried, current)
        fault = decision.fault if decision else None
        self.requests.append(
            ReadRecord(function_code, address, count, refused=False, fault=fault)
        )
        if fault is Fault.EXCEPTION:
            return ExcCodes.DEVICE_FAILURE
        self._fill(cluster, start_address, address, count, registers)
        if decision is not None and decision.spec is not None:
            # A value fault: the words of the one value it hits, replaced.
            spec = decision.spec
            words = self.faults.corrupt(
                decision,
                function_code,
                address,
                count,
                current.get(spec.quantity, math.nan),
            )
            offset = spec.address - start_address
            registers[offset : offset + spec.count] = words
        return None

    def _cluster_for(
        self, function_code: int, address: int, count: int
    ) -> Cluster | None:
        """Return the cluster of this function code holding the whole read, if any."""
        for cluster in self.clusters:
            if cluster.function == function_code and cluster.covers(address, count):
                return cluster
        return None

    def _fill(
        self,
        cluster: Cluster,
        block_start: int,
        address: int,
        count: int,
        registers: list[int],
    ) -> None:
        """Write zeros, then every value the read touches, into the block."""
        first = address - block_start
        registers[first : first + count] = [0] * count
        current = self.current_values()
        for spec in cluster.specs:
            if spec.end <= address or spec.address >= address + count:
                continue
            words = self._encode(spec, current)
            offset = spec.address - block_start
            registers[offset : offset + spec.count] = words
            self._served[spec.quantity] = decode(spec, words)

    @staticmethod
    def _encode(spec: RegisterSpec, current: Mapping[Quantity, float]) -> list[int]:
        """Encode one value; a value the source lacks is served as NaN."""
        return encode_value(spec, current.get(spec.quantity, math.nan))

    def _spec(self, quantity: Quantity) -> RegisterSpec:
        spec = self.profile.spec(quantity)
        if spec is None:
            msg = f"profile {self.profile.id} has no {quantity}"
            raise ValueError(msg)
        return spec
