"""Numbers out of the payloads that MQTT and HTTP meters send.

Meters that are not on Modbus publish what their firmware's authors chose: a
plain number on one topic per quantity (Shelly, Tasmota's single values,
Home Assistant's statestream), or one JSON object with several quantities,
under names that differ from vendor to vendor (`power_kw`, `power`,
`activePower`, ...). This module turns any of them into our vocabulary, in
canonical units (W and kWh), or says precisely why it cannot:
a payload it cannot read must be reported and skipped, never published as 0.

Pure: no Home Assistant, no I/O, so the MQTT and HTTP meters and the config
flow's test read all parse with the very same code.
"""

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
import json
import math
import re
from typing import Any, Final

from .model import Quantity


class PayloadError(ValueError):
    """A payload (or one value in it) that does not say a number."""


class Field(StrEnum):
    """What a non-Modbus meter can report: one value of each, at most."""

    POWER = "power"
    ENERGY = "energy"
    VOLTAGE = "voltage"
    CURRENT = "current"
    POWER_FACTOR = "power_factor"
    FREQUENCY = "frequency"


# The quantity of our vocabulary each field is filtered and published as.
# Voltage and current are one value for the whole meter, so they take the
# "average" quantities, which have the right physical bounds in the filters.
FIELD_QUANTITY: Final[Mapping[Field, Quantity]] = {
    Field.POWER: Quantity.POWER_TOTAL,
    Field.ENERGY: Quantity.ENERGY_IMPORT_TOTAL,
    Field.VOLTAGE: Quantity.VOLTAGE_AVG,
    Field.CURRENT: Quantity.CURRENT_AVG,
    Field.POWER_FACTOR: Quantity.POWER_FACTOR,
    Field.FREQUENCY: Quantity.FREQUENCY,
}


class PowerUnit(StrEnum):
    """The unit a meter's bare power values are in."""

    W = "W"
    KW = "kW"


class EnergyUnit(StrEnum):
    """The unit a meter's bare energy values are in."""

    WH = "Wh"
    KWH = "kWh"


_FACTOR: Final[Mapping[str, float]] = {"W": 1.0, "kW": 1000.0, "Wh": 0.001, "kWh": 1.0}

# JSON names, tried in this order. A name that carries its unit
# ("power_kw") is read in that unit whatever the meter's setting says; a bare
# name ("power") in the unit chosen for the meter.
_NAMES_WITH_UNIT: Final[Mapping[Field, tuple[tuple[str, str], ...]]] = {
    Field.POWER: (("power_kw", "kW"), ("power_w", "W")),
    Field.ENERGY: (("energy_kwh", "kWh"), ("energy_wh", "Wh")),
}
_BARE_NAMES: Final[Mapping[Field, tuple[str, ...]]] = {
    Field.POWER: ("power", "activePower", "active_power"),
    Field.ENERGY: ("energy", "totalEnergy", "total_energy"),
    Field.VOLTAGE: ("voltage",),
    Field.CURRENT: ("current",),
    Field.POWER_FACTOR: ("power_factor", "powerFactor", "pf"),
    Field.FREQUENCY: ("frequency", "freq"),
}

_PATH_STEP = re.compile(r"([^.\[\]]+)|\[(\d+)\]")
_VALID_PATH = re.compile(r"(\$\.?)?([^.\[\]]+|\[\d+\])(\.[^.\[\]]+|\[\d+\])*")
_EXCERPT = 200  # characters of a payload worth quoting in an error


@dataclass(frozen=True, slots=True)
class PayloadFormat:
    """How to read one meter's payloads: bare units, and JSON paths if any.

    A path ("data.meters[0].p", optionally starting with "$.") picks a value
    out of any JSON shape; a field with a path is read only there.
    """

    power_unit: PowerUnit = PowerUnit.W
    energy_unit: EnergyUnit = EnergyUnit.KWH
    paths: Mapping[Field, str] = field(default_factory=dict)

    def bare_factor(self, which: Field) -> float:
        """What a bare value of `which` is multiplied by to be in W or kWh."""
        if which is Field.POWER:
            return _FACTOR[self.power_unit]
        if which is Field.ENERGY:
            return _FACTOR[self.energy_unit]
        return 1.0


def excerpt(text: str) -> str:
    """A payload shortened to what fits in an error message, on one line."""
    flat = " ".join(text.split())
    return flat if len(flat) <= _EXCERPT else flat[:_EXCERPT] + "…"


def to_number(value: Any, what: str) -> float:
    """A JSON value or text as a finite number; PayloadError otherwise.

    Booleans are not numbers here ("true" is no power), and NaN and infinity
    are what broken firmware sends for "no value".
    """
    if isinstance(value, bool) or value is None:
        raise PayloadError(f"{what} is {json.dumps(value)}, not a number")
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            raise PayloadError(
                f"{what} is {excerpt(repr(value))}, not a number"
            ) from None
    else:
        raise PayloadError(f"{what} is {excerpt(json.dumps(value))}, not a number")
    if not math.isfinite(number):
        raise PayloadError(f"{what} is {number}, not a finite number")
    return number


def decode(text: str) -> Any:
    """A payload as JSON; a plain number is JSON too. PayloadError otherwise."""
    stripped = text.strip()
    if not stripped:
        raise PayloadError("the payload is empty")
    if stripped.startswith("<"):
        raise PayloadError(f"the payload is HTML, not JSON: {excerpt(stripped)}")
    try:
        return json.loads(stripped)
    except ValueError:
        raise PayloadError(
            f"the payload is neither a number nor JSON: {excerpt(stripped)}"
        ) from None


def follow(document: Any, path: str) -> Any:
    """The value at `path` in a JSON document; PayloadError naming the missing step."""
    steps = path.strip().removeprefix("$").lstrip(".")
    here = document
    walked = "$"
    for match in _PATH_STEP.finditer(steps):
        key, index = match.groups()
        if index is not None:
            position = int(index)
            if not isinstance(here, list) or position >= len(here):
                raise PayloadError(f"{walked} has no item [{position}]")
            here = here[position]
            walked += f"[{position}]"
        else:
            if not isinstance(here, Mapping) or key not in here:
                raise PayloadError(f"{walked} has no key {key!r}")
            here = here[key]
            walked += f".{key}"
    return here


def valid_path(path: str) -> bool:
    """Whether a JSON path is made of keys and [index] steps only."""
    return _VALID_PATH.fullmatch(path.strip()) is not None


def _by_name(
    document: Mapping[str, Any], which: Field, fmt: PayloadFormat
) -> float | None:
    """One field out of a JSON object by its known names; None if it is not there."""
    for name, unit in _NAMES_WITH_UNIT.get(which, ()):
        if name in document:
            return to_number(document[name], name) * _FACTOR[unit]
    for name in _BARE_NAMES[which]:
        if name in document:
            return to_number(document[name], name) * fmt.bare_factor(which)
    return None


def extract(
    document: Any, fields: Collection[Field], fmt: PayloadFormat
) -> dict[Field, float]:
    """The values of `fields` in a decoded payload, in W, kWh, V, A, Hz.

    A bare number is the value of the one field asked for (a topic per
    quantity). In a JSON object, a field is looked up by its path when it has
    one (a missing path is an error: the user said it is there), else by its
    known names (a field that is not there is simply not in this payload).
    A value that is there but not a number is always an error: it is what a
    meter sends when it is broken, and must not pass as "no news".
    """
    if isinstance(document, int | float | str) and not isinstance(document, bool):
        if len(fields) != 1:
            raise PayloadError(
                "a plain number cannot say which of "
                + ", ".join(sorted(fields))
                + " it is: send JSON or use one topic per value"
            )
        (which,) = fields
        if which in fmt.paths:
            raise PayloadError(f"a plain number has no {fmt.paths[which]!r} in it")
        return {which: to_number(document, "the payload") * fmt.bare_factor(which)}
    values: dict[Field, float] = {}
    for which in fields:
        if which in fmt.paths:
            path = fmt.paths[which]
            values[which] = to_number(follow(document, path), path) * fmt.bare_factor(
                which
            )
        elif isinstance(document, Mapping):
            value = _by_name(document, which, fmt)
            if value is not None:
                values[which] = value
    return values


def parse(
    text: str, fields: Collection[Field], fmt: PayloadFormat
) -> dict[Field, float]:
    """`extract` on a raw payload; PayloadError when it holds none of `fields`."""
    document = decode(text)
    values = extract(document, fields, fmt)
    if not values:
        keys = (
            ", ".join(sorted(str(key) for key in document))
            if isinstance(document, Mapping)
            else type(document).__name__
        )
        raise PayloadError(
            "none of "
            + ", ".join(sorted(fields))
            + f" found (the payload has: {keys or 'nothing'})"
        )
    return values
