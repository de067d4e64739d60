"""Meter profiles: the YAML schema, its validation and the loaders.

A profile file names a meter model and maps our quantity vocabulary onto its
registers. Defaults at the top of the file (function code, data type, byte
order) keep a typical map to one line per quantity. Validation happens here,
once, so that a broken user file is reported with the file and the key that is
wrong and never reaches the bus.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
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
    except (KeyError, TypeError):
        msg = f"expected holding, input, 3 or 4, got {value!r}"
        raise vol.Invalid(msg) from None


def _enum(kind: type[DataType] | type[ByteOrder] | type[Unit]) -> Any:
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


_ADDRESS = vol.All(int, vol.Range(min=0, max=0xFFFF))

def _sentinels(value: Any) -> Any:
    """`standard` (the type's usual markers), `none`, or a list of raw values."""
    if value in ("standard", "none"):
        return value
    if isinstance(value, list) and all(isinstance(v, int) and v >= 0 for v in value):
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
        vol.Required("address"): _ADDRESS,
        vol.Required("unit"): _enum(Unit),
        vol.Optional("function"): _function,
        vol.Optional("data_type"): _enum(DataType),
        vol.Optional("byte_order"): _enum(ByteOrder),
        vol.Optional("scale", default=1.0): vol.All(
            vol.Coerce(float), vol.NotIn([0.0], msg="scale must not be 0")
        ),
        vol.Optional("offset", default=0.0): vol.Coerce(float),
        vol.Optional("not_available"): _sentinels,
    }
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
            int, vol.Range(min=0, max=255)
        ),
        vol.Optional("max_registers_per_request", default=125): vol.All(
            int, vol.Range(min=1, max=125)
        ),
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
    defaults = document["defaults"]
    registers: list[RegisterSpec] = []
    for quantity, raw in document["registers"].items():
        data_type: DataType = raw.get("data_type", defaults["data_type"])
        registers.append(
            RegisterSpec(
                quantity=quantity,
                address=raw["address"],
                function=raw.get("function", defaults["function"]),
                data_type=data_type,
                byte_order=raw.get("byte_order", defaults["byte_order"]),
                unit=raw["unit"],
                scale=raw["scale"],
                offset=raw["offset"],
                not_available=_resolve_sentinels(
                    raw.get("not_available", defaults["not_available"]), data_type
                ),
            )
        )
    probe = tuple(
        PlausibleRange(quantity=quantity, minimum=bounds[0], maximum=bounds[1])
        for quantity, bounds in document["probe"].items()
    )
    return Profile(
        id=document["id"],
        name=document["name"],
        manufacturer=document["manufacturer"],
        model=document["model"],
        source=document["source"],
        registers=tuple(registers),
        max_registers_per_request=document["max_registers_per_request"],
        default_unit_id=document["default_unit_id"],
        probe=probe,
    )


def _resolve_sentinels(choice: str | frozenset[int], data_type: DataType) -> frozenset[int]:
    """The raw values that mean "not available" for one register."""
    if choice == "standard":
        return data_type.standard_sentinels
    if choice == "none":
        return frozenset()
    assert isinstance(choice, frozenset)
    return choice


def _check_overlaps(profile: Profile) -> None:
    """Two quantities sharing a register is always a typo in the map."""
    by_function: dict[FunctionCode, list[RegisterSpec]] = {}
    for spec in profile.registers:
        by_function.setdefault(spec.function, []).append(spec)
    for specs in by_function.values():
        ordered = sorted(specs, key=lambda s: s.address)
        for before, after in zip(ordered, ordered[1:], strict=False):
            if after.address < before.end:
                msg = f"overlaps {before.quantity} at address {before.address}"
                raise ProfileError("", f"registers.{after.quantity}", msg)


def parse_profile(document: Any, source: str) -> Profile:
    """Validate a profile document (already parsed YAML) and build it."""
    try:
        validated = _PROFILE_SCHEMA(document)
    except vol.MultipleInvalid as err:
        first = err.errors[0]
        raise ProfileError(source, _key_path(first), first.msg) from err
    except vol.Invalid as err:
        raise ProfileError(source, _key_path(err), err.msg) from err
    profile = _build(validated)
    try:
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
