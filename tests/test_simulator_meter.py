"""The simulated meter's controls and register layout, without a network."""

import math

import pytest

from custom_components.energy_meters.meterlib.decode import decode
from custom_components.energy_meters.meterlib.model import (
    ByteOrder,
    DataType,
    FunctionCode,
    Profile,
    Quantity,
    RegisterSpec,
    Unit,
)
from custom_components.energy_meters.meterlib.profiles import builtin_profiles
from simulator.clock import ManualClock
from simulator.household import Household
from simulator.meter import SimulatedMeter
from simulator.register_map import clusters, encode_value, memory_spans

WAGO = builtin_profiles()["wago_879_30xx"]


def _meter(profile: Profile = WAGO) -> tuple[SimulatedMeter, ManualClock]:
    clock = ManualClock()
    return SimulatedMeter(profile, 1, Household(seed=1, clock=clock)), clock


def _spec(
    data_type: DataType, unit: Unit = Unit.W, scale: float = 1.0, address: int = 0
) -> RegisterSpec:
    return RegisterSpec(
        Quantity.POWER_TOTAL,
        address,
        FunctionCode.HOLDING,
        data_type,
        ByteOrder.ABCD,
        unit,
        scale,
    )


def test_wago_map_is_served_as_two_gapless_blocks() -> None:
    """Measurements 0x5000-0x5037 and energies 0x6000-0x603D, unused registers included."""
    found = clusters(WAGO.registers)
    assert [(c.function, c.start, c.end) for c in found] == [
        (FunctionCode.HOLDING, 0x5000, 0x5038),
        (FunctionCode.HOLDING, 0x6000, 0x603E),
    ]
    assert memory_spans(found) == [(0x5000, 0x5038), (0x6000, 0x603E)]
    strict = clusters(WAGO.registers, fill_gaps=False)
    assert (0x6000, 0x6002) in [(c.start, c.end) for c in strict]


def test_holding_and_input_blocks_may_overlap() -> None:
    """One shared memory span covers both; each function code keeps its own cluster."""
    holding = _spec(DataType.FLOAT32, address=10)
    other = RegisterSpec(
        Quantity.FREQUENCY,
        11,
        FunctionCode.INPUT,
        DataType.FLOAT32,
        ByteOrder.ABCD,
        Unit.HZ,
    )
    found = clusters([holding, other])
    assert [(c.function, c.start, c.end) for c in found] == [
        (FunctionCode.HOLDING, 10, 12),
        (FunctionCode.INPUT, 11, 13),
    ]
    assert memory_spans(found) == [(10, 13)]


def test_served_values_are_what_the_wire_carries() -> None:
    """Served values are the model's, rounded through float32 and back."""
    meter, _ = _meter()
    meter.freeze()
    served = meter.served_values()
    model = meter.current_values()
    assert set(served) == WAGO.quantities
    for quantity, value in served.items():
        spec = WAGO.spec(quantity)
        assert spec is not None
        assert value == decode(spec, encode_value(spec, model[quantity]))
        assert value == pytest.approx(model[quantity], rel=1e-6, abs=1e-9)


def test_pinned_values_win_until_cleared() -> None:
    """set_value overrides the model; clear_overrides hands it back."""
    meter, _ = _meter()
    meter.set_value(Quantity.POWER_TOTAL, 2345.5)
    assert meter.current_values()[Quantity.POWER_TOTAL] == 2345.5
    # The WAGO sends kW as float32: 2.3455 kW is the nearest float32, not exact.
    assert meter.served_values()[Quantity.POWER_TOTAL] == pytest.approx(
        2345.5, abs=1e-3
    )
    meter.set_value(Quantity.FREQUENCY, math.nan)
    assert Quantity.FREQUENCY not in meter.served_values()  # "not available"
    meter.clear_overrides()
    assert meter.current_values()[Quantity.POWER_TOTAL] != 2345.5
    assert Quantity.FREQUENCY in meter.served_values()


def test_pinning_a_quantity_the_profile_lacks_is_an_error() -> None:
    """A typo in a test must not pass silently."""
    profile = Profile(
        id="p",
        name="p",
        manufacturer="m",
        model="m",
        source="s",
        registers=(_spec(DataType.INT16),),
    )
    meter, _ = _meter(profile)
    with pytest.raises(ValueError, match="has no frequency"):
        meter.set_value(Quantity.FREQUENCY, 50)
    with pytest.raises(ValueError, match="cannot hold NaN"):
        meter.set_value(Quantity.POWER_TOTAL, math.nan)


def test_freeze_holds_values_while_the_model_runs_on() -> None:
    """Frozen values stay put; unfreezing catches up with the model."""
    meter, clock = _meter()
    meter.freeze()
    assert meter.frozen
    before = meter.served_values()
    clock.advance(3600)
    assert meter.served_values() == before
    meter.unfreeze()
    after = meter.served_values()
    assert after[Quantity.ENERGY_IMPORT_TOTAL] > before[Quantity.ENERGY_IMPORT_TOTAL]


def test_meter_without_source_measures_its_own_household() -> None:
    """Seeded by the unit id unless told otherwise."""
    meter = SimulatedMeter(WAGO, 3)
    assert isinstance(meter.source, Household)
    assert meter.source.seed == 3
    seeded = SimulatedMeter(WAGO, 3, seed=9)
    assert isinstance(seeded.source, Household)
    assert seeded.source.seed == 9
    for unit_id in (0, 256):
        with pytest.raises(ValueError, match="unit id"):
            SimulatedMeter(WAGO, unit_id)


@pytest.mark.parametrize(
    ("data_type", "value", "expected"),
    [
        (DataType.INT16, 40000.0, 32767.0),
        (DataType.INT16, -40000.0, -32768.0),
        (DataType.UINT16, -5.0, 0.0),
        (DataType.UINT32, 1e12, 2**32 - 1),
        (DataType.INT64, 1e30, 2**63 - 2**10),
        (DataType.INT16, math.nan, -32768.0),
        (DataType.UINT16, math.nan, 65535.0),
        (DataType.INT32, 1234.0, 1234.0),
    ],
)
def test_integer_registers_saturate(
    data_type: DataType, value: float, expected: float
) -> None:
    """An integer register clamps like meter firmware instead of failing the read."""
    spec = _spec(data_type)
    assert decode(spec, encode_value(spec, value)) == expected


def test_scaled_integer_registers_round_trip() -> None:
    """Scale and unit are applied on the way out exactly as decode undoes them."""
    spec = _spec(DataType.INT32, unit=Unit.KW, scale=0.001)
    assert decode(spec, encode_value(spec, 1234.0)) == pytest.approx(1234.0)
    spec = _spec(DataType.UINT16, unit=Unit.KW, scale=0.01)
    assert decode(spec, encode_value(spec, 1e9)) == pytest.approx(655350.0)
