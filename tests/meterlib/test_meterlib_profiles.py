"""Profile files: the schema, the loader and the error reports."""

from pathlib import Path
import time

import pytest

from custom_components.energy_meters.meterlib.model import (
    ByteOrder,
    DataType,
    FunctionCode,
    Quantity,
    Unit,
)
from custom_components.energy_meters.meterlib.profiles import (
    BUILTIN_PROFILE_DIR,
    MAX_PROFILE_BYTES,
    MAX_REGISTERS,
    MAX_YAML_VALUES,
    ProfileError,
    Refusal,
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
    assert (power.address, power.unit, power.data_type) == (
        0x5012,
        Unit.KW,
        DataType.FLOAT32,
    )
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
        (
            {"registers": {"power_total": {"address": 10}}},
            "registers.power_total.unit",
            "required",
        ),
        (
            {"registers": {"powre_total": {"address": 10, "unit": "W"}}},
            "registers.powre_total",
            "",
        ),
        (
            {"registers": {"power_total": {"address": 70000, "unit": "W"}}},
            "registers.power_total.address",
            "",
        ),
        (
            {
                "registers": {
                    "power_total": {"address": 1, "unit": "W", "data_type": "float16"}
                }
            },
            "registers.power_total.data_type",
            "float32",
        ),
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
    assert (
        "dupe.yaml" not in errors
    )  # first definition wins; it is the file itself here


def test_duplicate_ids_are_reported(tmp_path: Path) -> None:
    """A user file cannot shadow a built-in profile."""
    (tmp_path / "dupe.yaml").write_text(
        "id: wago_879_30xx\nname: D\nmanufacturer: M\nmodel: D\nsource: s\n"
        "registers:\n  power_total: {address: 0, unit: W}\n"
    )
    loaded = load_profile_dirs([BUILTIN_PROFILE_DIR, tmp_path])
    assert [(e.source, e.key) for e in loaded.errors] == [("dupe.yaml", "id")]
    assert loaded.profiles["wago_879_30xx"].name == "WAGO 879-30x0"


def test_unreadable_file(tmp_path: Path) -> None:
    """A missing file is a ProfileError, not an OSError."""
    with pytest.raises(ProfileError, match=r"missing\.yaml"):
        load_profile_file(tmp_path / "missing.yaml")


def _one_register(line: dict[str, object], **top: object) -> dict[str, object]:
    """MINIMAL with power_total described by `line` and top-level keys added."""
    return {**MINIMAL, **top, "registers": {"power_total": {"unit": "W", **line}}}


@pytest.mark.parametrize(
    ("numbering", "number", "function", "address"),
    [
        ("wire", 3059, FunctionCode.HOLDING, 3059),
        ("one_based", 3060, FunctionCode.HOLDING, 3059),
        ("modicon", 30001, FunctionCode.INPUT, 0),
        ("modicon", 30053, FunctionCode.INPUT, 52),
        ("modicon", 40001, FunctionCode.HOLDING, 0),
        ("modicon", 49999, FunctionCode.HOLDING, 9998),
        ("modicon", 420481, FunctionCode.HOLDING, 20480),
        ("modicon", 365535, FunctionCode.INPUT, 65534),
    ],
)
def test_numbering_styles_become_wire_addresses(
    numbering: str, number: int, function: FunctionCode, address: int
) -> None:
    """Manual numbers are copied as printed; the profile sends the wire address."""
    profile = parse_profile(
        _one_register({"address": number}, numbering=numbering), "n.yaml"
    )
    (spec,) = profile.registers
    assert (spec.function, spec.address) == (function, address)


@pytest.mark.parametrize(
    ("line", "numbering", "key", "reason"),
    [
        (
            {"address": 12345},
            "modicon",
            "registers.power_total.address",
            "not a Modicon number",
        ),
        ({"address": 0}, "one_based", "registers.power_total.address", "outside"),
        (
            {"address": 30001, "function": "holding"},
            "modicon",
            "registers.power_total.function",
            "says input",
        ),
        (
            {"address": 0xFFFF, "data_type": "float32"},
            "wire",
            "registers.power_total.address",
            "past the last",
        ),
        ({"address": True}, "wire", "registers.power_total.address", "integer"),
    ],
)
def test_numbering_errors_name_the_key(
    line: dict[str, object], numbering: str, key: str, reason: str
) -> None:
    """A number that means nothing in its style is refused where it is written."""
    with pytest.raises(ProfileError) as caught:
        parse_profile(_one_register(line, numbering=numbering), "n.yaml")
    assert (caught.value.key, caught.value.source) == (key, "n.yaml")
    assert reason in caught.value.reason


def test_scale_factor_register() -> None:
    """A scale factor after the value; `end` covers it so one request reads both."""
    profile = parse_profile(
        _one_register({"address": 10, "data_type": "int16", "scale_factor": 14}),
        "sf.yaml",
    )
    (spec,) = profile.registers
    assert (spec.address, spec.scale_factor, spec.end) == (10, 14, 15)


@pytest.mark.parametrize(
    ("registers", "top", "key", "reason"),
    [
        (
            {"power_total": {"address": 10, "unit": "W", "scale_factor": 9}},
            {},
            "registers.power_total.scale_factor",
            "after the value",
        ),
        (
            {"power_total": {"address": 10, "unit": "W", "scale_factor": 10}},
            {},
            "registers.power_total.scale_factor",
            "after the value",
        ),
        (
            {"power_total": {"address": 0, "unit": "W", "scale_factor": 20}},
            {"max_registers_per_request": 11},
            "registers.power_total.scale_factor",
            "more than one request",
        ),
        (
            {
                "power_total": {
                    "address": 10,
                    "unit": "W",
                    "data_type": "int16",
                    "scale_factor": 12,
                },
                "power_l1": {"address": 11, "unit": "W"},
            },
            {},
            "registers.power_total.scale_factor",
            "inside power_l1",
        ),
        (
            {
                "power_total": {
                    "address": 10,
                    "unit": "W",
                    "data_type": "int16",
                    "not_available": [0x10000],
                }
            },
            {},
            "registers.power_total.not_available",
            "does not fit",
        ),
        (
            {"power_total": {"address": 10, "unit": "W", "not_available": [True]}},
            {},
            "registers.power_total.not_available",
            "list of non-negative",
        ),
    ],
)
def test_register_errors_name_the_key(
    registers: dict[str, object], top: dict[str, object], key: str, reason: str
) -> None:
    """Scale factors and sentinels that cannot work are refused at load."""
    with pytest.raises(ProfileError) as caught:
        parse_profile({**MINIMAL, **top, "registers": registers}, "r.yaml")
    assert caught.value.key == key
    assert reason in caught.value.reason


@pytest.mark.parametrize(
    ("probe", "key", "reason"),
    [
        (
            {"frequency": [45, 65]},
            "probe.frequency",
            "not one of this profile's registers",
        ),
        ({"power_total": [10, -10]}, "probe.power_total", "above maximum"),
    ],
)
def test_probe_errors(probe: dict[str, object], key: str, reason: str) -> None:
    """A probe on an unmapped quantity would fail every test read: refuse it."""
    with pytest.raises(ProfileError) as caught:
        parse_profile({**MINIMAL, "probe": probe}, "p.yaml")
    assert caught.value.key == key
    assert reason in caught.value.reason


def test_sunspec_profile_keeps_offsets() -> None:
    """A SunSpec profile keeps offsets into its model; the reader locates it."""
    profile = parse_profile(
        _one_register(
            {"address": 18, "data_type": "int16", "scale_factor": 22},
            sunspec={"model": 203},
        ),
        "s.yaml",
    )
    assert profile.sunspec_model == 203
    assert profile.registers[0].address == 18


@pytest.mark.parametrize(
    ("line", "top", "key"),
    [
        ({"address": 1}, {"sunspec": {"model": 203}}, "registers.power_total.address"),
        (
            {"address": 18},
            {"sunspec": {"model": 203}, "numbering": "one_based"},
            "numbering",
        ),
        ({"address": 18}, {"sunspec": {"model": 0}}, "sunspec.model"),
    ],
)
def test_sunspec_errors(
    line: dict[str, object], top: dict[str, object], key: str
) -> None:
    """Offsets 0 and 1 are the model header; numbering styles make no sense for offsets."""
    with pytest.raises(ProfileError) as caught:
        parse_profile(_one_register(line, **top), "s.yaml")
    assert caught.value.key == key


def test_builtin_sentinels_and_scale_factors() -> None:
    """Spot checks of the built-in maps' "not available" markers and exponents."""
    profiles = builtin_profiles()
    abb_import = profiles["abb_b2x"].spec(Quantity.ENERGY_IMPORT_TOTAL)
    assert abb_import is not None
    assert abb_import.not_available == frozenset({0xFFFF_FFFF_FFFF_FFFF})
    abb_power = profiles["abb_b2x"].spec(Quantity.POWER_TOTAL)
    assert abb_power is not None
    assert abb_power.not_available == frozenset({0x8000_0000, 0x7FFF_FFFF})
    sunspec = profiles["sunspec_203"]
    current = sunspec.spec(Quantity.CURRENT_L1)
    energy = sunspec.spec(Quantity.ENERGY_IMPORT_TOTAL)
    assert current is not None
    assert energy is not None
    assert (current.address, current.scale_factor, current.not_available) == (
        3,
        6,
        frozenset({0x8000}),
    )
    assert (energy.address, energy.scale_factor, energy.not_available) == (
        46,
        54,
        frozenset({0}),
    )
    assert profiles["carlo_gavazzi_em24"].max_registers_per_request == 11
    assert profiles["eastron_sdm630"].max_registers_per_request == 50


# --- Files that must be refused before they cost anything -----------------------------

HEADER = "id: mine\nname: Mine\nmanufacturer: M\nmodel: M1\nsource: s\n"
LINE = "  power_total: {address: 1, unit: W}\n"


def _refused(tmp_path: Path, content: bytes | str) -> ProfileError:
    """Load a file that must be refused; the error, and it must come quickly."""
    path = tmp_path / "bad.yaml"
    if isinstance(content, str):
        content = content.encode()
    path.write_bytes(content)
    started = time.monotonic()
    with pytest.raises(ProfileError) as caught:
        load_profile_file(path)
    assert time.monotonic() - started < 1.0
    assert caught.value.source == "bad.yaml"
    return caught.value


def test_duplicate_keys_are_refused(tmp_path: Path) -> None:
    """10,000 copies of one register line: YAML keeps the last, we refuse the file."""
    error = _refused(tmp_path, HEADER + "registers:\n" + LINE * 10_000)
    assert error.refusal is Refusal.DUPLICATE_KEY
    assert error.details == {"name": "power_total", "line": "8", "first_line": "7"}
    assert "duplicate key 'power_total'" in error.reason
    # Top-level keys too, and the same key spelt with quotes is the same key.
    error = _refused(tmp_path, HEADER + "registers:\n" + LINE + '"id": other\n')
    assert error.details["name"] == "id"


def test_yaml_alias_bombs_are_refused_and_small_aliases_still_work(
    tmp_path: Path,
) -> None:
    """A billion laughs (9**9 values from 10 lines) is refused as soon as it is read.

    Anchors and merge keys within reason are plain YAML and keep working.
    """
    bomb = 'lol: &lol "lol"\n' + "".join(
        f"lol{n}: &lol{n} [{', '.join([f'*lol{n - 1}' if n > 1 else '*lol'] * 9)}]\n"
        for n in range(1, 10)
    )
    error = _refused(
        tmp_path,
        bomb + HEADER + "defaults: {not_available: *lol9}\nregisters:\n" + LINE,
    )
    assert error.refusal is Refusal.TOO_MANY_VALUES
    assert error.details["limit"] == str(MAX_YAML_VALUES)
    assert len(error.reason) < 500
    error = _refused(tmp_path, HEADER + "defaults: &loop {not_available: [*loop]}\n")
    assert error.refusal is Refusal.TOO_MANY_VALUES  # an alias inside its own anchor

    merged = tmp_path / "merged.yaml"
    merged.write_text(
        HEADER
        + "registers:\n"
        + "  power_total: &kw {address: 0x10, unit: kW, scale: 0.1}\n"
        + "  power_l1: {<<: *kw, address: 0x12}\n"
    )
    profile = load_profile_file(merged)
    power_l1 = profile.spec(Quantity.POWER_L1)
    assert power_l1 is not None
    assert (power_l1.address, power_l1.unit, power_l1.scale) == (0x12, Unit.KW, 0.1)


def test_a_file_that_is_not_utf8_is_a_profile_error(tmp_path: Path) -> None:
    """Saved in Latin-1: the file is refused with the position of the bad byte."""
    error = _refused(
        tmp_path,
        (HEADER + "registers:\n" + LINE).replace("Mine", "Café").encode("latin-1"),
    )
    assert error.refusal is Refusal.NOT_UTF8
    assert error.details == {"byte": "0xe9", "position": str(HEADER.index("Mine") + 3)}


def test_an_oversized_file_is_refused_unread(tmp_path: Path) -> None:
    """A valid profile padded past the limit: refused by its size alone."""
    padding = ("# " + "x" * 1021 + "\n") * (MAX_PROFILE_BYTES // 1024 + 1)
    error = _refused(tmp_path, HEADER + "registers:\n" + LINE + padding)
    assert error.refusal is Refusal.TOO_LARGE
    assert error.details["limit"] == str(MAX_PROFILE_BYTES)
    assert int(error.details["size"]) > MAX_PROFILE_BYTES


def test_too_many_registers_too_many_values_and_too_deep(tmp_path: Path) -> None:
    """Each bound has its own reason; none of them gets as far as the schema."""
    lines = "".join(
        f"  r{n}: {{address: {n}, unit: W}}\n" for n in range(MAX_REGISTERS + 1)
    )
    error = _refused(tmp_path, HEADER + "registers:\n" + lines)
    assert error.refusal is Refusal.TOO_MANY_REGISTERS
    assert error.key == "registers"
    assert error.details == {
        "count": str(MAX_REGISTERS + 1),
        "limit": str(MAX_REGISTERS),
    }

    values = "defaults: {not_available: [" + ", ".join(["1"] * MAX_YAML_VALUES) + "]}\n"
    error = _refused(tmp_path, HEADER + values)
    assert error.refusal is Refusal.TOO_MANY_VALUES

    error = _refused(tmp_path, HEADER + "defaults: " + "[" * 5000 + "]" * 5000 + "\n")
    assert error.refusal is Refusal.INVALID
    assert "nested" in error.reason

    error = _refused(tmp_path, HEADER + "name: !!python/object/apply:os.system [ls]\n")
    assert error.key == "(yaml)"  # safe loading still holds
