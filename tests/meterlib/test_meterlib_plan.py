"""The read planner: fewest requests, never over the ceilings."""

import pytest

from custom_components.energy_meters.meterlib.model import (
    ByteOrder,
    DataType,
    FunctionCode,
    Quantity,
    RegisterSpec,
    Unit,
)
from custom_components.energy_meters.meterlib.plan import BusCost, plan_reads
from custom_components.energy_meters.meterlib.profiles import builtin_profiles

QUANTITIES = list(Quantity)


def float_at(
    index: int, address: int, function: FunctionCode = FunctionCode.HOLDING
) -> RegisterSpec:
    """A float32 spec for the index-th quantity at an address."""
    return RegisterSpec(
        quantity=QUANTITIES[index],
        address=address,
        function=function,
        data_type=DataType.FLOAT32,
        byte_order=ByteOrder.ABCD,
        unit=Unit.W,
    )


def test_wago_full_map_is_two_requests() -> None:
    """All 40 WAGO quantities: the 0x5000 block and the 0x6000 block."""
    profile = builtin_profiles()["wago_879_30xx"]
    plan = plan_reads(profile.registers, profile.max_registers_per_request)
    assert [(r.address, r.count) for r in plan] == [(0x5000, 56), (0x6000, 62)]
    assert sum(len(r.specs) for r in plan) == len(profile.registers)


def test_every_spec_is_covered_by_its_request() -> None:
    """Each value lies wholly inside the request that carries it."""
    profile = builtin_profiles()["wago_879_30xx"]
    for request in plan_reads(profile.registers):
        for the_spec in request.specs:
            assert request.address <= the_spec.address
            assert the_spec.end <= request.address + request.count


def test_gap_cheaper_than_a_request_is_read() -> None:
    """A 10-register gap costs less than a request at 9600 baud: one read."""
    specs = [float_at(0, 100), float_at(1, 112)]
    assert len(plan_reads(specs)) == 1
    assert BusCost().max_worthwhile_gap == 10


def test_gap_dearer_than_a_request_splits() -> None:
    """A 40-register gap is skipped with a second request."""
    specs = [float_at(0, 100), float_at(1, 142)]
    assert [(r.address, r.count) for r in plan_reads(specs)] == [(100, 2), (142, 2)]


def test_ceiling_is_respected() -> None:
    """A meter that takes at most 11 registers per request gets no more."""
    specs = [float_at(i, 2 * i) for i in range(10)]
    plan = plan_reads(specs, max_registers=11)
    assert all(r.count <= 11 for r in plan)
    assert [r.count for r in plan] == [10, 10]


def test_modbus_limit_caps_a_larger_ceiling() -> None:
    """No request exceeds 125 registers, whatever the profile claims."""
    specs = [float_at(i, 4 * i) for i in range(len(QUANTITIES))]
    plan = plan_reads(specs, max_registers=500)
    assert max(r.count for r in plan) <= 125


def test_function_codes_are_never_mixed() -> None:
    """Holding and input registers need separate requests."""
    specs = [float_at(0, 0, FunctionCode.HOLDING), float_at(1, 2, FunctionCode.INPUT)]
    plan = plan_reads(specs)
    assert sorted(r.function for r in plan) == [
        FunctionCode.HOLDING,
        FunctionCode.INPUT,
    ]


def test_value_larger_than_ceiling_is_refused() -> None:
    """A float64 cannot be read with a 2-register ceiling."""
    big = RegisterSpec(
        quantity=Quantity.ENERGY_TOTAL,
        address=0,
        function=FunctionCode.HOLDING,
        data_type=DataType.FLOAT64,
        byte_order=ByteOrder.ABCD,
        unit=Unit.KWH,
    )
    with pytest.raises(ValueError, match="ceiling"):
        plan_reads([big], max_registers=2)
