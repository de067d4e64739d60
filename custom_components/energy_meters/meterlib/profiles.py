"""Meter profiles: the YAML schema, its validation and the loaders.

A profile file names a meter model and maps our quantity vocabulary onto its
registers. Defaults at the top of the file (function code, data type, byte
order) keep a typical map to one line per quantity, and `numbering` lets the
addresses be copied from a manual as printed (1-based, or Modicon 30001/40001)
instead of converted by hand, the most common way a hand-written map goes
wrong. Validation happens here, once, so that a broken user file is reported
with the file and the key that is wrong and never reaches the bus.

User files come from anywhere (a forum post, a download), so reading one is
bounded before it is parsed: its size, the number of values its YAML expands
to (aliases included: a few hundred bytes of "billion laughs" expand to 10**9
values, whose error message alone takes gigabytes), its nesting and its
register count. Duplicate keys are refused: YAML keeps the last one, so
10,000 copies of a register line silently load as one. Each refusal names the
file and why, like any other mistake in a profile.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
import itertools
from pathlib import Path
from typing import Any, override

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

# The built-in profiles are 1-5 KiB, with generous comments. A megabyte is
# far more than any meter needs, and small enough to parse in about a second.
MAX_PROFILE_BYTES = 1024 * 1024
# Values (scalars, lists, mappings) a file may expand to, counting each alias
# as the values it stands for. A 40-register profile is about 500.
MAX_YAML_VALUES = 20_000
# A profile is four levels deep (registers, a line, a key, a list of markers).
MAX_YAML_DEPTH = 20
# The vocabulary has about 40 quantities: more lines than this is not a map.
MAX_REGISTERS = 256
# A reason quotes the value it refuses; a huge value must not make a huge
# message (log line, repair issue).
MAX_REASON_CHARS = 300

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


class Refusal(StrEnum):
    """Why a file is refused, for a message in the user's language.

    INVALID is any mistake in the content (YAML syntax, schema, overlaps):
    its `reason` says what, in English. The others are files refused before
    the schema sees them, while they are read and parsed; their `details`
    hold the numbers the translated messages show.
    """

    INVALID = "invalid"
    TOO_LARGE = "too_large"
    NOT_UTF8 = "not_utf8"
    DUPLICATE_KEY = "duplicate_key"
    TOO_MANY_VALUES = "too_many_values"
    TOO_MANY_REGISTERS = "too_many_registers"


class ProfileError(Exception):
    """A profile file that cannot be used, with where and why."""

    def __init__(
        self,
        source: str,
        key: str,
        reason: str,
        refusal: Refusal = Refusal.INVALID,
        details: Mapping[str, str] | None = None,
    ) -> None:
        """Keep the parts separately so a repair issue can show each one.

        The reason is cut short: it may quote a value from the file.
        """
        if len(reason) > MAX_REASON_CHARS:
            reason = reason[: MAX_REASON_CHARS - 1] + "…"
        super().__init__(f"{source}: {key}: {reason}")
        self.source = source
        self.key = key
        self.reason = reason
        self.refusal = refusal
        self.details: Mapping[str, str] = dict(details or {})

    def in_file(self, source: str) -> ProfileError:
        """The same error, named after the file it was found in."""
        return ProfileError(source, self.key, self.reason, self.refusal, self.details)


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
        raise err.in_file(source) from err
    return profile


_MERGE_TAG = "tag:yaml.org,2002:merge"


def _line(mark: Any) -> str:
    """The 1-based line a YAML mark points at, as the user's editor counts."""
    return str(mark.line + 1) if mark is not None else "?"


class _BoundedLoader(yaml.SafeLoader):
    """YAML's safe loader, with bounds and without silently dropped keys.

    PyYAML's pure-Python loader, not libyaml's: it gives up the interpreter
    lock between instructions, so Home Assistant's event loop keeps running
    while a worker thread parses; a C parser would hold it for the whole
    file. The bounds are checked while the file is composed, so a file is
    refused as soon as it crosses one, without building what follows.
    """

    def __init__(self, stream: str) -> None:
        """A loader for one file's text; a loader holds state, so one per file."""
        super().__init__(stream)
        self._values = 0
        self._depth = 0
        # Values an anchored node stands for, once it is complete.
        self._anchor_sizes: dict[str, int] = {}
        # Plain keys seen in each mapping being composed: (tag, text) -> line.
        self._keys: dict[int, dict[tuple[str, str], str]] = {}

    @override
    def compose_node(self, parent: yaml.Node | None, index: Any) -> Any:
        """Count what each node expands to; refuse a key seen before in its mapping."""
        event: Any = self.peek_event()  # type: ignore[no-untyped-call]
        if isinstance(event, yaml.AliasEvent):
            size = self._anchor_sizes.get(str(event.anchor))
            node = super().compose_node(parent, index)  # refuses an unknown alias
            # An alias inside its own anchor is an endless value.
            self._count(size if size is not None else MAX_YAML_VALUES + 1, event)
            return node
        self._count(1, event)
        self._depth += 1
        if self._depth > MAX_YAML_DEPTH:
            msg = f"line {_line(event.start_mark)}: values nested more than {MAX_YAML_DEPTH} levels deep"
            raise ProfileError("", "(yaml)", msg)
        before = self._values - 1
        node = super().compose_node(parent, index)
        self._depth -= 1
        anchor = getattr(event, "anchor", None)
        if anchor is not None:
            self._anchor_sizes[anchor] = self._values - before
        if isinstance(node, yaml.MappingNode):
            self._keys.pop(id(node), None)
        if isinstance(parent, yaml.MappingNode) and index is None:
            self._check_key(parent, node)  # a key, its value still to come
        return node

    def _count(self, values: int, event: Any) -> None:
        """Add what a node stands for; refuse the file past the limit."""
        self._values += values
        if self._values > MAX_YAML_VALUES:
            line = _line(event.start_mark)
            msg = (
                f"line {line}: the file expands to more than {MAX_YAML_VALUES} "
                "values (YAML aliases count as what they stand for)"
            )
            raise ProfileError(
                "",
                "(yaml)",
                msg,
                Refusal.TOO_MANY_VALUES,
                {"line": line, "limit": str(MAX_YAML_VALUES)},
            )

    def _check_key(self, mapping: yaml.MappingNode, key: Any) -> None:
        """Refuse a key its mapping already has, compared by resolved tag and text.

        So `"a"` is `a`. Merge keys (`<<: *base`) exist to be overridden, and
        are left to the constructor.
        """
        if not isinstance(key, yaml.ScalarNode) or key.tag == _MERGE_TAG:
            return
        seen = self._keys.setdefault(id(mapping), {})
        line = _line(key.start_mark)
        first = seen.get((key.tag, key.value))
        if first is None:
            seen[(key.tag, key.value)] = line
            return
        name = str(key.value)[:80]
        msg = f"line {line}: duplicate key {name!r} (first on line {first})"
        raise ProfileError(
            "",
            "(yaml)",
            msg,
            Refusal.DUPLICATE_KEY,
            {"name": name, "line": line, "first_line": first},
        )


def _read_text(path: Path) -> str:
    """The file's text, read no further than the size limit allows."""
    with path.open("rb") as file:
        data = file.read(MAX_PROFILE_BYTES + 1)
        if len(data) > MAX_PROFILE_BYTES:
            size = max(path.stat().st_size, len(data))
            msg = f"the file is {size} bytes; a profile may be at most {MAX_PROFILE_BYTES}"
            raise ProfileError(
                path.name,
                "(file)",
                msg,
                Refusal.TOO_LARGE,
                {"size": str(size), "limit": str(MAX_PROFILE_BYTES)},
            )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        byte = f"{data[err.start]:#04x}"
        msg = f"not UTF-8 text: byte {byte} at position {err.start}"
        raise ProfileError(
            path.name,
            "(file)",
            msg,
            Refusal.NOT_UTF8,
            {"byte": byte, "position": str(err.start)},
        ) from err


def _parse_yaml(text: str) -> Any:
    """One YAML document, within the bounds; every way YAML fails is a ProfileError."""
    loader = _BoundedLoader(text)
    try:
        return loader.get_single_data()
    except yaml.YAMLError as err:
        raise ProfileError("", "(yaml)", str(err)) from err
    except (ValueError, OverflowError, RecursionError) as err:
        # Values YAML recognises but Python refuses: a timestamp on 31 February,
        # an integer of more than 4300 digits.
        raise ProfileError("", "(yaml)", f"{type(err).__name__}: {err}") from err
    finally:
        loader.dispose()


def _check_register_count(document: Any) -> None:
    """More register lines than quantities exist is not a map: refused unvalidated."""
    registers = document.get("registers") if isinstance(document, dict) else None
    if isinstance(registers, dict) and len(registers) > MAX_REGISTERS:
        count = str(len(registers))
        msg = f"{count} register lines; a profile has at most {MAX_REGISTERS}"
        raise ProfileError(
            "",
            "registers",
            msg,
            Refusal.TOO_MANY_REGISTERS,
            {"count": count, "limit": str(MAX_REGISTERS)},
        )


def load_profile_file(path: Path) -> Profile:
    """Read, validate and build one profile file (blocking: run it in a worker).

    Whatever is wrong with the file, the answer is a Profile or a
    ProfileError: one file must never fail the loading of the others.
    """
    try:
        text = _read_text(path)
    except OSError as err:
        raise ProfileError(path.name, "(file)", str(err)) from err
    try:
        document = _parse_yaml(text)
        _check_register_count(document)
    except ProfileError as err:
        raise err.in_file(path.name) from err
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
