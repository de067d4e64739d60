"""Profile files: the schema, the loader and the error reports."""

from pathlib import Path

import pytest

from custom_components.energy_meters.meterlib.model import (
    ByteOrder,
    DataType,
    FunctionCode,
    Quantity,
    Unit,
)
from custom_components.energy_meters.meterlib.profiles import (
    ProfileError,
    builtin_profiles,
    load_profile_dirs,
    load_profile_file,
    parse_profile,
)

MINIMAL = {
    "id": "mine",
    "name": "My meter",
    "manufacturer": "Me",
    "model": "M1",
    "source": "my notes",
    "registers": {"power_total": {"address": 10, "unit": "W"}},
}


def test_wago_profile_matches_the_reference_map() -> None:
    """Spot checks against the WAGO 879-30x0 register table."""
    wago = builtin_profiles()["wago_879_30xx"]
    power = wago.spec(Quantity.POWER_TOTAL)
    assert power is not None
    assert (power.address, power.unit, power.data_type) == (0x5012, Unit.KW, DataType.FLOAT32)
    assert power.function is FunctionCode.HOLDING
    assert power.byte_order is ByteOrder.ABCD
    import_l1 = wago.spec(Quantity.ENERGY_IMPORT_L1)
    assert import_l1 is not None
    assert import_l1.address == 0x6012
    assert wago.spec(Quantity.FREQUENCY) is not None
    assert len(wago.registers) == 40


def test_defaults_apply_and_can_be_overridden() -> None:
    """File defaults fill what a register line leaves out."""
    document = {
        **MINIMAL,
        "defaults": {"function": "input", "data_type": "int32", "byte_order": "CDAB"},
        "registers": {
            "power_total": {"address": 10, "unit": "W", "scale": 0.1},
            "frequency": {"address": 20, "unit": "Hz", "data_type": "uint16"},
        },
    }
    profile = parse_profile(document, "mine.yaml")
    power = profile.spec(Quantity.POWER_TOTAL)
    frequency = profile.spec(Quantity.FREQUENCY)
    assert power is not None
    assert frequency is not None
    assert (power.function, power.data_type, power.byte_order) == (
        FunctionCode.INPUT,
        DataType.INT32,
        ByteOrder.CDAB,
    )
    assert power.scale == 0.1
    assert frequency.data_type is DataType.UINT16


@pytest.mark.parametrize(
    ("change", "key", "reason"),
    [
        ({"registers": {"power_total": {"address": 10}}}, "registers.power_total.unit", "required"),
        ({"registers": {"powre_total": {"address": 10, "unit": "W"}}}, "registers.powre_total", ""),
        ({"registers": {"power_total": {"address": 70000, "unit": "W"}}}, "registers.power_total.address", ""),
        ({"registers": {"power_total": {"address": 1, "unit": "W", "data_type": "float16"}}}, "registers.power_total.data_type", "float32"),
        ({"defaults": {"byte_order": "ACBD"}}, "defaults.byte_order", "CDAB"),
        ({"id": "Has Spaces"}, "id", ""),
    ],
)
def test_errors_name_the_key(change: dict[str, object], key: str, reason: str) -> None:
    """A broken profile says which key is wrong and why."""
    with pytest.raises(ProfileError) as caught:
        parse_profile({**MINIMAL, **change}, "broken.yaml")
    assert caught.value.source == "broken.yaml"
    assert caught.value.key == key
    assert reason in caught.value.reason


def test_overlapping_registers_are_refused() -> None:
    """Two quantities in one register is a typo, caught at load."""
    document = {
        **MINIMAL,
        "registers": {
            "power_total": {"address": 10, "unit": "W"},
            "power_l1": {"address": 11, "unit": "W"},
        },
    }
    with pytest.raises(ProfileError, match="overlaps"):
        parse_profile(document, "x.yaml")


def test_a_broken_file_does_not_hide_the_good_ones(tmp_path: Path) -> None:
    """Directory loading collects errors and keeps every valid profile."""
    (tmp_path / "good.yaml").write_text(
        "id: good\nname: Good\nmanufacturer: M\nmodel: G\nsource: s\n"
        "registers:\n  power_total: {address: 0x10, unit: kW}\n"
    )
    (tmp_path / "bad.yaml").write_text("id: [unclosed\n")
    (tmp_path / "dupe.yaml").write_text(
        "id: wago_879_30xx\nname: D\nmanufacturer: M\nmodel: D\nsource: s\n"
        "registers:\n  power_total: {address: 0, unit: W}\n"
    )
    loaded = load_profile_dirs([tmp_path.parent / "missing", *[tmp_path]])
    assert set(loaded.profiles) == {"good", "wago_879_30xx"}
    errors = {error.source: error for error in loaded.errors}
    assert errors["bad.yaml"].key == "(yaml)"
    assert "dupe.yaml" not in errors  # first definition wins; it is the file itself here


def test_duplicate_ids_are_reported(tmp_path: Path) -> None:
    """A user file cannot shadow a built-in profile."""
    from custom_components.energy_meters.meterlib.profiles import BUILTIN_PROFILE_DIR

    (tmp_path / "dupe.yaml").write_text(
        "id: wago_879_30xx\nname: D\nmanufacturer: M\nmodel: D\nsource: s\n"
        "registers:\n  power_total: {address: 0, unit: W}\n"
    )
    loaded = load_profile_dirs([BUILTIN_PROFILE_DIR, tmp_path])
    assert [(e.source, e.key) for e in loaded.errors] == [("dupe.yaml", "id")]
    assert loaded.profiles["wago_879_30xx"].name == "WAGO 879-30x0"


def test_unreadable_file(tmp_path: Path) -> None:
    """A missing file is a ProfileError, not an OSError."""
    with pytest.raises(ProfileError, match="missing.yaml"):
        load_profile_file(tmp_path / "missing.yaml")
