"""Meter profiles: the YAML schema, its validation and the loaders.

A profile file names a meter model and maps our quantity vocabulary onto its
registers. Defaults at the top of the file (function code, data type, byte
order) keep a typical map to one line per quantity, and `numbering` lets the
addresses be copied from a manual as printed (1-based, or Modicon 30001/40001)
instead of converted by hand, the most common way a hand-written map goes
wrong. Validation happens here, once, so that a broken user file is reported
with the file and the key that is wrong and never reaches the bus.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
import itertools
from pathlib import Path
from typing import Any

import voluptuous as vol
import yaml

from .model import (
    ByteOrder,
    DataType,
    FunctionCode,
    PlausibleRange,
    Profile,
    Quantity,
    RegisterSpec,
    Unit,
)
from .sunspec import MODEL_HEADER_LENGTH

BUILTIN_PROFILE_DIR = Path(__file__).parent.parent / "profiles"
DEFAULT_PROFILE_ID = "wago_879_30xx"

_FUNCTIONS = {
    "holding": FunctionCode.HOLDING,
    "input": FunctionCode.INPUT,
    3: FunctionCode.HOLDING,
    4: FunctionCode.INPUT,
}


def _function(value: Any) -> FunctionCode:
    """Accept `holding`/`input` or the numeric function code 3/4."""
    try:
        return _FUNCTIONS[value]
    except KeyError, TypeError:
        msg = f"expected holding, input, 3 or 4, got {value!r}"
        raise vol.Invalid(msg) from None


def _enum(kind: type[DataType | ByteOrder | Unit]) -> Any:
    """A validator that accepts the values of a string enum, case-insensitively for names."""
    allowed = {member.value.lower(): member for member in kind}

    def validate(value: Any) -> Any:
        if isinstance(value, str) and value.lower() in allowed:
            return allowed[value.lower()]
        if value is None and "" in allowed:
            return allowed[""]
        choices = ", ".join(repr(member.value) for member in kind)
        msg = f"expected one of {choices}, got {value!r}"
        raise vol.Invalid(msg)

    return validate


def _integer(value: Any) -> int:
    """An integer, not a bool (YAML's `yes` would otherwise be register 1)."""
    if isinstance(value, bool) or not isinstance(value, int):
        msg = f"expected an integer, got {value!r}"
        raise vol.Invalid(msg)
    return value


# Addresses are checked against 0..0xFFFF once the numbering style has turned
# them into wire addresses (Modicon numbers are larger than that).
_NUMBER = vol.All(_integer, vol.Range(min=0, max=465536))
_MAX_ADDRESS = 0xFFFF

NUMBERING_WIRE = "wire"
NUMBERING_ONE_BASED = "one_based"
NUMBERING_MODICON = "modicon"

# Modicon reference numbers: the leading digit names the table, the rest counts
# from 1. Six-digit numbers reach the whole 16-bit address range.
_MODICON_RANGES = (
    (400001, 465536, FunctionCode.HOLDING),
    (300001, 365536, FunctionCode.INPUT),
    (40001, 49999, FunctionCode.HOLDING),
    (30001, 39999, FunctionCode.INPUT),
)


def _sentinels(value: Any) -> Any:
    """`standard` (the type's usual markers), `none`, or a list of raw values."""
    if value in ("standard", "none"):
        return value
    if isinstance(value, list) and all(
        isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in value
    ):
        return frozenset(value)
    msg = f"expected standard, none or a list of non-negative integers, got {value!r}"
    raise vol.Invalid(msg)


_DEFAULTS_SCHEMA = vol.Schema(
    {
        vol.Optional("not_available", default="none"): _sentinels,
        vol.Optional("function", default="holding"): _function,
        vol.Optional("data_type", default="float32"): _enum(DataType),
        vol.Optional("byte_order", default="ABCD"): _enum(ByteOrder),
    }
)

_REGISTER_SCHEMA = vol.Schema(
    {
        vol.Required("address"): _NUMBER,
        vol.Required("unit"): _enum(Unit),
        vol.Optional("function"): _function,
        vol.Optional("data_type"): _enum(DataType),
        vol.Optional("byte_order"): _enum(ByteOrder),
        vol.Optional("scale", default=1.0): vol.All(
            vol.Coerce(float), vol.NotIn([0.0], msg="scale must not be 0")
        ),
        vol.Optional("offset", default=0.0): vol.Coerce(float),
        vol.Optional("not_available"): _sentinels,
        vol.Optional("scale_factor"): _NUMBER,
    }
)

_SUNSPEC_SCHEMA = vol.Schema(
    {vol.Required("model"): vol.All(_integer, vol.Range(min=1, max=0xFFFE))}
)

_RANGE_SCHEMA = vol.All(
    [vol.Coerce(float)],
    vol.Length(min=2, max=2, msg="expected [minimum, maximum]"),
)

_PROFILE_SCHEMA = vol.Schema(
    {
        vol.Required("id"): vol.All(str, vol.Match(r"^[a-z0-9_]+$")),
        vol.Required("name"): str,
        vol.Required("manufacturer"): str,
        vol.Required("model"): str,
        vol.Required("source"): str,
        vol.Optional("default_unit_id", default=1): vol.All(
            _integer, vol.Range(min=0, max=255)
        ),
        vol.Optional("max_registers_per_request", default=125): vol.All(
            _integer, vol.Range(min=1, max=125)
        ),
        vol.Optional("numbering", default=NUMBERING_WIRE): vol.In(
            [NUMBERING_WIRE, NUMBERING_ONE_BASED, NUMBERING_MODICON]
        ),
        vol.Optional("sunspec"): _SUNSPEC_SCHEMA,
        vol.Optional("defaults", default={}): _DEFAULTS_SCHEMA,
        vol.Optional("probe", default={}): {vol.Coerce(Quantity): _RANGE_SCHEMA},
        vol.Required("registers"): vol.All(
            {vol.Coerce(Quantity): _REGISTER_SCHEMA}, vol.Length(min=1)
        ),
    }
)


class ProfileError(Exception):
    """A profile file that cannot be used, with where and why."""

    def __init__(self, source: str, key: str, reason: str) -> None:
        """Keep the parts separately so a repair issue can show each one."""
        super().__init__(f"{source}: {key}: {reason}")
        self.source = source
        self.key = key
        self.reason = reason


def _key_path(error: vol.Invalid) -> str:
    """The dotted path of the key a voluptuous error is about."""
    return ".".join(str(part) for part in error.path) or "(top level)"


def _build(document: Mapping[str, Any]) -> Profile:
    """Turn a validated document into a Profile, applying the file's defaults."""
    sunspec = document.get("sunspec")
    if sunspec is not None and document["numbering"] != NUMBERING_WIRE:
        raise ProfileError(
            "", "numbering", "a SunSpec profile gives offsets into its model block"
        )
    registers = tuple(
        _register(quantity, raw, document)
        for quantity, raw in document["registers"].items()
    )
    mapped = {spec.quantity for spec in registers}
    probe: list[PlausibleRange] = []
    for quantity, (minimum, maximum) in document["probe"].items():
        if quantity not in mapped:
            msg = f"{quantity} is not one of this profile's registers"
            raise ProfileError("", f"probe.{quantity}", msg)
        if minimum > maximum:
            msg = f"minimum {minimum:g} is above maximum {maximum:g}"
            raise ProfileError("", f"probe.{quantity}", msg)
        probe.append(
            PlausibleRange(quantity=quantity, minimum=minimum, maximum=maximum)
        )
    return Profile(
        id=document["id"],
        name=document["name"],
        manufacturer=document["manufacturer"],
        model=document["model"],
        source=document["source"],
        registers=registers,
        max_registers_per_request=document["max_registers_per_request"],
        default_unit_id=document["default_unit_id"],
        probe=tuple(probe),
        sunspec_model=sunspec["model"] if sunspec is not None else None,
    )


def _register(
    quantity: Quantity, raw: Mapping[str, Any], document: Mapping[str, Any]
) -> RegisterSpec:
    """One register line, with the file's defaults and numbering applied."""
    defaults = document["defaults"]
    key = f"registers.{quantity}"
    data_type: DataType = raw.get("data_type", defaults["data_type"])
    function, address = _wire_address(
        raw["address"], document["numbering"], f"{key}.address"
    )
    function = _agreeing_function(function, raw.get("function"), key)
    spec = RegisterSpec(
        quantity=quantity,
        address=address,
        function=function or defaults["function"],
        data_type=data_type,
        byte_order=raw.get("byte_order", defaults["byte_order"]),
        unit=raw["unit"],
        scale=raw["scale"],
        offset=raw["offset"],
        not_available=_resolve_sentinels(
            raw.get("not_available", defaults["not_available"]), data_type
        ),
        scale_factor=_scale_factor(raw, document, function, key),
    )
    _check_register(spec, document, key)
    return spec


def _wire_address(
    number: int, numbering: str, key: str
) -> tuple[FunctionCode | None, int]:
    """The wire address (and, for Modicon numbers, the table) a printed number means."""
    function: FunctionCode | None = None
    address = number
    if numbering == NUMBERING_ONE_BASED:
        address = number - 1
    elif numbering == NUMBERING_MODICON:
        for first, last, table in _MODICON_RANGES:
            if first <= number <= last:
                function, address = table, number - first
                break
        else:
            msg = f"{number} is not a Modicon number (30001-39999, 40001-49999, 300001-365536 or 400001-465536)"
            raise ProfileError("", key, msg)
    if not 0 <= address <= _MAX_ADDRESS:
        msg = f"wire address {address} is outside 0..{_MAX_ADDRESS}"
        raise ProfileError("", key, msg)
    return function, address


def _agreeing_function(
    from_number: FunctionCode | None, given: FunctionCode | None, key: str
) -> FunctionCode | None:
    """The function code a register line asks for; a Modicon number must agree."""
    if from_number is not None and given is not None and given is not from_number:
        msg = f"the Modicon number says {from_number.name.lower()}, the line says {given.name.lower()}"
        raise ProfileError("", f"{key}.function", msg)
    return given or from_number


def _scale_factor(
    raw: Mapping[str, Any],
    document: Mapping[str, Any],
    function: FunctionCode | None,
    key: str,
) -> int | None:
    """The wire address of the register's scale factor, if it has one."""
    if "scale_factor" not in raw:
        return None
    sf_function, address = _wire_address(
        raw["scale_factor"], document["numbering"], f"{key}.scale_factor"
    )
    if sf_function is not None and function is not None and sf_function is not function:
        msg = "the scale factor must be read with the same function code as the value"
        raise ProfileError("", f"{key}.scale_factor", msg)
    return address


def _check_register(spec: RegisterSpec, document: Mapping[str, Any], key: str) -> None:
    """What the schema cannot see: widths, scale factor placement, SunSpec offsets."""
    width = 16 * spec.count
    too_wide = sorted(v for v in spec.not_available if v >> width)
    if too_wide:
        msg = f"{too_wide[0]:#x} does not fit in {spec.data_type} ({width} bits)"
        raise ProfileError("", f"{key}.not_available", msg)
    if spec.address + spec.count > _MAX_ADDRESS + 1:
        msg = f"{spec.data_type} at {spec.address} runs past the last address"
        raise ProfileError("", f"{key}.address", msg)
    if spec.scale_factor is not None:
        ceiling = document["max_registers_per_request"]
        if spec.scale_factor < spec.address + spec.count:
            msg = "the scale factor register must come after the value it scales"
            raise ProfileError("", f"{key}.scale_factor", msg)
        if spec.end - spec.address > ceiling:
            msg = f"value and scale factor span more than one request ({ceiling} registers)"
            raise ProfileError("", f"{key}.scale_factor", msg)
    if document.get("sunspec") is not None and spec.address < MODEL_HEADER_LENGTH:
        msg = "offsets 0 and 1 are the model's ID and length; points start at 2"
        raise ProfileError("", f"{key}.address", msg)


def _resolve_sentinels(
    choice: str | frozenset[int], data_type: DataType
) -> frozenset[int]:
    """The raw values that mean "not available" for one register."""
    if choice == "standard":
        return data_type.standard_sentinels
    if choice == "none" or isinstance(choice, str):
        return frozenset()
    return choice


def _check_overlaps(profile: Profile) -> None:
    """Two quantities sharing a register is always a typo in the map.

    So is a scale factor that sits inside a value (values may share one
    scale factor: SunSpec scales all phase currents with one).
    """
    by_function: dict[FunctionCode, list[RegisterSpec]] = {}
    for spec in profile.registers:
        by_function.setdefault(spec.function, []).append(spec)
    for specs in by_function.values():
        ordered = sorted(specs, key=lambda s: s.address)
        for before, after in itertools.pairwise(ordered):
            if after.address < before.address + before.count:
                msg = f"overlaps {before.quantity} at address {before.address}"
                raise ProfileError("", f"registers.{after.quantity}", msg)
        for spec in specs:
            if spec.scale_factor is None:
                continue
            for other in specs:
                if other.address <= spec.scale_factor < other.address + other.count:
                    msg = f"is inside {other.quantity} at address {other.address}"
                    raise ProfileError(
                        "", f"registers.{spec.quantity}.scale_factor", msg
                    )


def parse_profile(document: Any, source: str) -> Profile:
    """Validate a profile document (already parsed YAML) and build it."""
    try:
        validated = _PROFILE_SCHEMA(document)
    except vol.MultipleInvalid as err:
        first = err.errors[0]
        raise ProfileError(source, _key_path(first), first.msg) from err
    except vol.Invalid as err:
        raise ProfileError(source, _key_path(err), err.msg) from err
    try:
        profile = _build(validated)
        _check_overlaps(profile)
    except ProfileError as err:
        raise ProfileError(source, err.key, err.reason) from err
    return profile


def load_profile_file(path: Path) -> Profile:
    """Read, validate and build one profile file."""
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise ProfileError(path.name, "(file)", str(err)) from err
    except yaml.YAMLError as err:
        raise ProfileError(path.name, "(yaml)", str(err)) from err
    return parse_profile(document, path.name)


@dataclass(frozen=True, slots=True)
class ProfileSet:
    """Profiles found in one or more folders, and the files that failed."""

    profiles: Mapping[str, Profile]
    errors: tuple[ProfileError, ...]


def load_profile_dirs(directories: Iterable[Path]) -> ProfileSet:
    """Load every `*.yaml` in the folders; later folders cannot shadow earlier ids.

    A broken file is collected, not raised, so one bad user file never takes
    the working profiles down with it.
    """
    profiles: dict[str, Profile] = {}
    errors: list[ProfileError] = []
    for directory in directories:
        if not directory.is_dir():
            continue
        for path in sorted(directory.glob("*.yaml")):
            try:
                profile = load_profile_file(path)
            except ProfileError as err:
                errors.append(err)
                continue
            if profile.id in profiles:
                errors.append(
                    ProfileError(path.name, "id", f"{profile.id!r} is already defined")
                )
                continue
            profiles[profile.id] = profile
    return ProfileSet(profiles=profiles, errors=tuple(errors))


def builtin_profiles() -> Mapping[str, Profile]:
    """The profiles shipped with the integration (they must all be valid)."""
    loaded = load_profile_dirs([BUILTIN_PROFILE_DIR])
    if loaded.errors:
        raise loaded.errors[0]
    return loaded.profiles
