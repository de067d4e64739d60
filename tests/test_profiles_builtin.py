"""Every built-in profile, read through the real reader from a simulator serving it.

For each profile the simulator serves a known value for every quantity, and
the reader (real `MeterReader`, real `ModbusTransport`, real TCP) must decode
each one to that number, in the unit the entity publishes. The values are
chosen to be exact at every profile's resolution (0.1 V, 0.01 A, whole watts
for SunSpec's default exponent, 0.1 kWh) and distinct, so a swapped address,
a wrong word order or a wrong scale shows as a wrong number.

The simulator encodes with the library's own `encode`, so a second set of
tests reads raw registers with a plain pymodbus client and compares them with
words worked out by hand from the manuals: decode and encode cannot share a
mistake about byte order or scaling unnoticed.
"""

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from pymodbus.client import AsyncModbusTcpClient
import pytest

from custom_components.energy_meters.meter_descriptions import DESCRIPTIONS
from custom_components.energy_meters.meterlib.decode import canonical_unit
from custom_components.energy_meters.meterlib.model import (
    DataType,
    FunctionCode,
    Profile,
    Quantity,
    Unit,
)
from custom_components.energy_meters.meterlib.profiles import (
    BUILTIN_PROFILE_DIR,
    builtin_profiles,
)
from custom_components.energy_meters.meterlib.reader import MeterReader, MeterReading
from custom_components.energy_meters.meterlib.transport import Framing, ModbusTransport
from simulator.meter import SimulatedMeter
from simulator.server import ModbusSimulator
from simulator.sunspec_layout import SunSpecMeter, simulated_meter

pytestmark = pytest.mark.usefixtures("socket_enabled")

PROFILES = builtin_profiles()
Q = Quantity

REQUIRED = {
    "wago_879_30xx",
    "eastron_sdm630",
    "eastron_sdm72dm",
    "eastron_sdm72dm2",
    "eastron_sdm120",
    "abb_b2x",
    "schneider_iem3x50",
    "schneider_iem3x55",
    "carlo_gavazzi_em24",
    "carlo_gavazzi_em340",
    "shelly_pro_3em",
    "phoenix_contact_eem_ma370",
    "sunspec_203",
    "sunspec_213",
}

# Exact at every profile's resolution; negative where a quantity can be.
KNOWN: Mapping[Quantity, float] = {
    Q.VOLTAGE_L1: 230.1,
    Q.VOLTAGE_L2: 231.2,
    Q.VOLTAGE_L3: 232.3,
    Q.VOLTAGE_AVG: 231.4,
    Q.VOLTAGE_L1_L2: 400.1,
    Q.VOLTAGE_L2_L3: 401.2,
    Q.VOLTAGE_L1_L3: 402.3,
    Q.CURRENT_L1: 5.25,
    Q.CURRENT_L2: 6.5,
    Q.CURRENT_L3: 7.75,
    Q.CURRENT_AVG: 6.25,
    Q.POWER_TOTAL: 1752.0,
    Q.POWER_L1: 901.0,
    Q.POWER_L2: 1001.0,
    Q.POWER_L3: -150.0,
    Q.REACTIVE_POWER_TOTAL: 420.0,
    Q.REACTIVE_POWER_L1: 140.0,
    Q.REACTIVE_POWER_L2: -130.0,
    Q.REACTIVE_POWER_L3: 410.0,
    Q.APPARENT_POWER_TOTAL: 3100.0,
    Q.APPARENT_POWER_L1: 1000.0,
    Q.APPARENT_POWER_L2: 1050.0,
    Q.APPARENT_POWER_L3: 1060.0,
    Q.POWER_FACTOR: 0.95,
    Q.POWER_FACTOR_L1: 0.97,
    Q.POWER_FACTOR_L2: -0.88,
    Q.POWER_FACTOR_L3: 0.99,
    Q.FREQUENCY: 49.9,
    Q.ENERGY_TOTAL: 14691.2,
    Q.ENERGY_IMPORT_TOTAL: 12345.6,
    Q.ENERGY_IMPORT_L1: 4000.1,
    Q.ENERGY_IMPORT_L2: 4100.2,
    Q.ENERGY_IMPORT_L3: 4245.3,
    Q.ENERGY_EXPORT_TOTAL: 2345.6,
    Q.ENERGY_EXPORT_L1: 700.1,
    Q.ENERGY_EXPORT_L2: 800.2,
    Q.ENERGY_EXPORT_L3: 845.3,
    Q.REACTIVE_ENERGY_TOTAL: 321.5,
    Q.REACTIVE_ENERGY_IMPORT: 250.5,
    Q.REACTIVE_ENERGY_EXPORT: 71.0,
}

ENTITY_UNITS = {
    description.quantity: description.native_unit_of_measurement or ""
    for description in DESCRIPTIONS
}


class FixedSource:
    """A value source serving exactly the values given (missing: not available)."""

    def __init__(self, values: Mapping[Quantity, float]) -> None:
        """Keep the values."""
        self._values = dict(values)

    def values(self) -> Mapping[Quantity, float]:
        """Return the fixed values."""
        return self._values


@asynccontextmanager
async def _serving(meter: SimulatedMeter) -> AsyncIterator[ModbusTransport]:
    """A simulator with `meter` on 127.0.0.1 and a transport to it."""
    async with ModbusSimulator([meter], host="127.0.0.1") as sim:
        transport = ModbusTransport("127.0.0.1", sim.port, Framing.TCP, timeout=1.0)
        try:
            yield transport
        finally:
            await transport.close()


async def _read(profile: Profile, values: Mapping[Quantity, float]) -> MeterReading:
    """Serve `values` with `profile` on unit 1 and read them back once."""
    meter = simulated_meter(profile, 1, FixedSource(values))
    async with _serving(meter) as transport:
        return await MeterReader(transport, 1, profile).read()


def test_every_required_meter_has_a_profile() -> None:
    """The meters the integration promises are all built in."""
    assert set(PROFILES) >= REQUIRED


@pytest.mark.parametrize("path", sorted(BUILTIN_PROFILE_DIR.glob("*.yaml")), ids=str)
def test_every_file_names_its_source_and_confidence(path: Path) -> None:
    """A maintainer can tell where a map came from and how far to trust it."""
    text = path.read_text(encoding="utf-8")
    assert "\nsource: " in text
    header = "".join(line for line in text.splitlines() if line.startswith("#"))
    assert "Register map" in header
    assert "Confidence" in header or path.stem == "wago_879_30xx"


@pytest.mark.parametrize("profile_id", sorted(PROFILES))
async def test_every_quantity_decodes_to_the_served_number(profile_id: str) -> None:
    """Each quantity comes back as the value served, in the entity's unit."""
    profile = PROFILES[profile_id]
    values = {spec.quantity: KNOWN[spec.quantity] for spec in profile.registers}
    reading = await _read(profile, values)
    assert set(reading.values) == profile.quantities
    for spec in profile.registers:
        assert reading.values[spec.quantity] == pytest.approx(
            KNOWN[spec.quantity], rel=1e-6, abs=1e-9
        ), spec.quantity
        assert canonical_unit(spec.unit) == ENTITY_UNITS[spec.quantity], spec.quantity


def _can_say_unavailable(profile_id: str) -> set[Q]:
    """The quantities whose registers can say "not available": floats, declared sentinels."""
    return {
        spec.quantity
        for spec in PROFILES[profile_id].registers
        if spec.data_type in {DataType.FLOAT32, DataType.FLOAT64} or spec.not_available
    }


WITH_MARKERS = sorted(p for p in PROFILES if _can_say_unavailable(p))
WITHOUT_MARKERS = sorted(p for p in PROFILES if not _can_say_unavailable(p))


@pytest.mark.parametrize("profile_id", WITH_MARKERS)
async def test_values_a_meter_marks_unavailable_are_none(profile_id: str) -> None:
    """NaN, 0xFFFF…, 0x7FFF…/0x8000… and SunSpec markers decode to None, never 0.

    Every register that can say "not available" (floats, and integers with
    declared sentinels) is served without a value; the others keep theirs.
    """
    profile = PROFILES[profile_id]
    can_say = _can_say_unavailable(profile_id)
    values = {
        spec.quantity: KNOWN[spec.quantity]
        for spec in profile.registers
        if spec.quantity not in can_say
    }
    reading = await _read(profile, values)
    for quantity in can_say:
        assert reading.values[quantity] is None, quantity
    for quantity, value in values.items():
        assert reading.values[quantity] == pytest.approx(value, rel=1e-6), quantity


@pytest.mark.parametrize("profile_id", WITHOUT_MARKERS)
async def test_a_meter_without_markers_reads_zero_as_zero(profile_id: str) -> None:
    """Meters whose integers have no "not available" pattern: a served 0 is a real 0.

    (The Carlo Gavazzi maps: their registers have no sentinels, and a missing
    counter answers exception 2 instead, see the next test.)
    """
    profile = PROFILES[profile_id]
    reading = await _read(profile, dict.fromkeys(profile.quantities, 0.0))
    assert reading.values == dict.fromkeys(profile.quantities, 0.0)


async def test_em24_without_export_counter_keeps_the_rest() -> None:
    """An EM24 that answers exception 2 for export: export unavailable, rest read.

    The map's note for Carlo Gavazzi: some models have no export counter and
    refuse its address; that must not fail the meter.
    """
    profile = PROFILES["carlo_gavazzi_em24"]
    meter = simulated_meter(
        profile,
        1,
        FixedSource(
            {spec.quantity: KNOWN[spec.quantity] for spec in profile.registers}
        ),
    )
    export = profile.spec(Q.ENERGY_EXPORT_TOTAL)
    assert export is not None
    meter.refuse([export.address])
    async with _serving(meter) as transport:
        reading = await MeterReader(transport, 1, profile).read()
    assert reading.values[Q.ENERGY_EXPORT_TOTAL] is None
    assert reading.values[Q.ENERGY_IMPORT_TOTAL] == pytest.approx(12345.6)
    assert reading.values[Q.POWER_L3] == pytest.approx(-150.0)


async def test_requests_respect_each_profiles_ceiling() -> None:
    """EM24 reads at most 11 registers a request, Eastron at most 50."""
    for profile_id, ceiling in (("carlo_gavazzi_em24", 11), ("eastron_sdm630", 50)):
        profile = PROFILES[profile_id]
        meter = simulated_meter(
            profile,
            1,
            FixedSource(
                {spec.quantity: KNOWN[spec.quantity] for spec in profile.registers}
            ),
        )
        async with _serving(meter) as transport:
            await MeterReader(transport, 1, profile).read()
        assert meter.requests
        assert max(record.count for record in meter.requests) <= ceiling, profile_id


@dataclass(frozen=True, slots=True)
class Golden:
    """Raw words worked out by hand from a manual's encoding, at the wire address."""

    profile_id: str
    quantity: Quantity
    value: float
    function: FunctionCode
    address: int
    registers: list[int]


GOLDEN = [
    # float32 ABCD: 230.1 = 0x4366199A
    Golden(
        "wago_879_30xx",
        Q.VOLTAGE_L1,
        230.1,
        FunctionCode.HOLDING,
        0x5002,
        [0x4366, 0x199A],
    ),
    Golden(
        "eastron_sdm630", Q.VOLTAGE_L1, 230.1, FunctionCode.INPUT, 0, [0x4366, 0x199A]
    ),
    # Eastron frequency at input 70 (Modicon 30071): 49.9 = 0x4247999A
    Golden(
        "eastron_sdm630", Q.FREQUENCY, 49.9, FunctionCode.INPUT, 70, [0x4247, 0x999A]
    ),
    # float32 CDAB: low word first
    Golden(
        "shelly_pro_3em",
        Q.VOLTAGE_L1,
        230.1,
        FunctionCode.INPUT,
        1020,
        [0x199A, 0x4366],
    ),
    Golden(
        "phoenix_contact_eem_ma370",
        Q.VOLTAGE_L1,
        230.1,
        FunctionCode.HOLDING,
        32774,
        [0x199A, 0x4366],
    ),
    # Shelly energy in Wh: 12345.6 kWh = 12345600 Wh = float 0x4B3C6100, CDAB
    Golden(
        "shelly_pro_3em",
        Q.ENERGY_IMPORT_TOTAL,
        12345.6,
        FunctionCode.INPUT,
        1162,
        [0x6100, 0x4B3C],
    ),
    # Schneider kW: 3003 W = 3.003 kW; manual register 3060 is wire address 3059
    Golden(
        "schneider_iem3x55",
        Q.POWER_TOTAL,
        3003.0,
        FunctionCode.HOLDING,
        3059,
        [0x4040, 0x3127],
    ),
    # Schneider int64 Wh: 12345600 = 0x0000_0000_00BC_6100; manual 3204 is wire 3203
    Golden(
        "schneider_iem3x55",
        Q.ENERGY_IMPORT_TOTAL,
        12345.6,
        FunctionCode.HOLDING,
        3203,
        [0, 0, 0x00BC, 0x6100],
    ),
    # ABB uint64 in 0.01 kWh: 1234560 = 0x12D680
    Golden(
        "abb_b2x",
        Q.ENERGY_IMPORT_TOTAL,
        12345.6,
        FunctionCode.HOLDING,
        0x5000,
        [0, 0, 0x0012, 0xD680],
    ),
    # ABB uint32 in 0.1 V: 2301 = 0x8FD
    Golden("abb_b2x", Q.VOLTAGE_L1, 230.1, FunctionCode.HOLDING, 0x5B00, [0, 0x08FD]),
    # ABB int16 power factor in 0.001: -0.88 = -880 = 0xFC90
    Golden("abb_b2x", Q.POWER_FACTOR_L2, -0.88, FunctionCode.HOLDING, 0x5B3C, [0xFC90]),
    # EM24 int32 CDAB in 0.1 V: 2301 -> low word first
    Golden(
        "carlo_gavazzi_em24", Q.VOLTAGE_L1, 230.1, FunctionCode.INPUT, 0, [0x08FD, 0]
    ),
    # EM24 int32 CDAB in 0.1 W: -150 W = -1500 = 0xFFFFFA24
    Golden(
        "carlo_gavazzi_em24",
        Q.POWER_L3,
        -150.0,
        FunctionCode.INPUT,
        22,
        [0xFA24, 0xFFFF],
    ),
    # EM24 energy in 0.1 kWh at 62 (0x3E): 123456 = 0x1E240
    Golden(
        "carlo_gavazzi_em24",
        Q.ENERGY_IMPORT_TOTAL,
        12345.6,
        FunctionCode.INPUT,
        62,
        [0xE240, 0x0001],
    ),
    Golden(
        "carlo_gavazzi_em340",
        Q.ENERGY_IMPORT_TOTAL,
        12345.6,
        FunctionCode.INPUT,
        52,
        [0xE240, 0x0001],
    ),
]


@pytest.mark.parametrize(
    "golden", GOLDEN, ids=[f"{g.profile_id}-{g.quantity}" for g in GOLDEN]
)
async def test_wire_words_match_the_manual(golden: Golden) -> None:
    """The words on the wire are the ones the manual's encoding gives, and decode back."""
    profile = PROFILES[golden.profile_id]
    source = FixedSource({golden.quantity: golden.value})
    async with ModbusSimulator(
        [simulated_meter(profile, 1, source)], host="127.0.0.1"
    ) as sim:
        client = AsyncModbusTcpClient("127.0.0.1", port=sim.port, timeout=1, retries=0)
        assert await client.connect()
        try:
            read = (
                client.read_holding_registers
                if golden.function is FunctionCode.HOLDING
                else client.read_input_registers
            )
            response = await read(
                golden.address, count=len(golden.registers), device_id=1
            )
        finally:
            client.close()
    assert not response.isError(), response
    assert response.registers == golden.registers
    reading = await _read(profile, {golden.quantity: golden.value})
    assert reading.values[golden.quantity] == pytest.approx(golden.value, rel=1e-6)


async def test_sunspec_203_words_and_scale_factors_on_the_wire() -> None:
    """Model 203 as a device serves it: integers, each group with its exponent.

    The model sits after the marker (40000-40001) and the common model
    (40002-40069), so its ID register is 40070: voltage L1 (offset 8) is at
    40078 as 2301 with V_SF (offset 15, 40085) = -1; import (offset 46) is an
    acc32 in Wh at 40116 with TotWh_SF (offset 54) = 0.
    """
    profile = PROFILES["sunspec_203"]
    meter = SunSpecMeter(
        profile, 1, FixedSource({Q.VOLTAGE_L1: 230.1, Q.ENERGY_IMPORT_TOTAL: 12345.6})
    )
    async with ModbusSimulator([meter], host="127.0.0.1") as sim:
        client = AsyncModbusTcpClient("127.0.0.1", port=sim.port, timeout=1, retries=0)
        assert await client.connect()
        try:
            head = await client.read_holding_registers(40000, count=4, device_id=1)
            model = await client.read_holding_registers(40070, count=56, device_id=1)
        finally:
            client.close()
    assert head.registers == [0x5375, 0x6E53, 1, 66]
    words = model.registers
    assert words[:2] == [203, 105]
    assert words[8] == 2301
    assert words[15] == 0xFFFF  # V_SF = -1
    assert words[46:48] == [0x00BC, 0x6100]  # 12345600 Wh
    assert words[54] == 0  # TotWh_SF = 0
    assert words[38:40] == [0, 0]  # export not served: acc32 "not accumulated"
    assert words[18] == 0x8000  # power not served: int16 "not implemented"


def test_schneider_numbering_is_converted_to_wire_addresses() -> None:
    """The Schneider file keeps the manual's 1-based numbers; the wire is one lower."""
    profile = PROFILES["schneider_iem3x55"]
    expected = {
        Q.CURRENT_L1: 2999,
        Q.VOLTAGE_L1: 3027,
        Q.POWER_L1: 3053,
        Q.POWER_TOTAL: 3059,
        Q.REACTIVE_POWER_TOTAL: 3067,
        Q.APPARENT_POWER_TOTAL: 3075,
        Q.FREQUENCY: 3109,
        Q.ENERGY_IMPORT_TOTAL: 3203,
        Q.ENERGY_EXPORT_TOTAL: 3207,
        Q.ENERGY_IMPORT_L1: 3517,
        Q.ENERGY_IMPORT_L3: 3525,
    }
    for quantity, address in expected.items():
        spec = profile.spec(quantity)
        assert spec is not None
        assert spec.address == address, quantity
    assert PROFILES["schneider_iem3x50"].spec(Q.ENERGY_EXPORT_TOTAL) is None


def test_energy_counters_use_wide_types_where_the_meter_does() -> None:
    """64-bit energies where the manuals say so, with their units."""
    abb = PROFILES["abb_b2x"]
    schneider = PROFILES["schneider_iem3x55"]
    for spec in abb.registers:
        if spec.quantity.startswith("energy_"):
            assert (spec.data_type, spec.unit, spec.scale) == (
                DataType.UINT64,
                Unit.KWH,
                0.01,
            )
    for spec in schneider.registers:
        if spec.quantity.startswith("energy_"):
            assert (spec.data_type, spec.unit) == (DataType.INT64, Unit.WH)
