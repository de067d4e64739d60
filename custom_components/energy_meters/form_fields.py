"""Form values the step checks itself, so that a wrong one is a translated error.

Why the schema does not refuse them: a value a flow's schema rejects makes
Home Assistant answer the frontend with HTTP 400 "Schema validation failed"
and the validator's English text (“Value 0 is too small”), which the dialog
shows as it is, in every language. And the number selector is not the check
it looks like: every comparison with NaN is false, so "nan" passes its range
and was saved (as null in the JSON of the entry, which broke the entry at the
next start); its step of 1 does not make a number whole, and the Coerce(int)
behind it cut 1.5 down to 1.

So the number fields' selectors (`Bounds.selector`) only describe the box to
the frontend (its range, step and unit) and hand on whatever was sent; the
step reads each value with `Bounds.read`, the same bounds, and puts an error
of its own, translated and on the field, on anything that is not a finite
number in range, or not whole where it must be. Names and host names are
checked here for the same reason.
"""

from dataclasses import dataclass
import ipaddress
import math
import re
from typing import Any, Final, override
import unicodedata

from homeassistant.helpers.selector import (
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
)
from yarl import URL

from .const import MAX_UNIT_ID, MIN_UNIT_ID

# A name becomes the device name and the start of every entity id; past this
# the entity ids (`sensor.<name>_energy_import`) are no longer readable, and
# Home Assistant cuts them at 255 characters.
MAX_NAME_LENGTH: Final = 100
# RFC 1035: 253 characters in all, 63 in a label.
_MAX_HOST_LENGTH: Final = 253
_LABEL: Final = re.compile(r"^(?!-)[a-z0-9_-]{1,63}(?<!-)$")


class FormNumberSelector(NumberSelector):
    """A number box whose value the step checks (see the module's docstring).

    It serialises exactly like Home Assistant's number selector: the frontend
    sees no difference.
    """

    @override
    def __call__(self, data: Any) -> Any:
        """Hand the value on unchecked: the step reads it with its `Bounds`."""
        return data


@dataclass(frozen=True, slots=True)
class Bounds:
    """A number field's range: what its box offers and what its step accepts."""

    minimum: float
    maximum: float
    step: float = 1
    unit: str | None = None
    whole: bool = False

    def selector(self) -> FormNumberSelector:
        """The box for the form, with this range, step and unit."""
        config = NumberSelectorConfig(
            min=self.minimum,
            max=self.maximum,
            step=self.step,
            mode=NumberSelectorMode.BOX,
        )
        if self.unit is not None:
            config["unit_of_measurement"] = self.unit
        return FormNumberSelector(config)

    def read(self, value: Any) -> float | None:
        """The value as a finite number in range (whole if it must be); else None.

        A number may come as text (the API takes JSON from anyone); a boolean
        is not a number here, although Python would count True as 1.
        """
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            return None
        try:
            number = float(value)
        except ValueError:
            return None
        if not math.isfinite(number) or not self.minimum <= number <= self.maximum:
            return None
        if self.whole and not number.is_integer():
            return None
        return number

    def value(self, value: Any) -> float:
        """A value `read` accepted, as a float; ValueError for one it refused."""
        number = self.read(value)
        if number is None:
            raise ValueError(f"{value!r} is not a number from {self}")
        return number

    def whole_value(self, value: Any) -> int:
        """A whole value `read` accepted, as an int; ValueError for any other."""
        return int(self.value(value))


# The fields more than one form has.
PORT: Final = Bounds(1, 65535, whole=True)
# How long to wait for a Modbus answer: a TCP gateway answers in milliseconds,
# a 1200 baud bus behind it may take seconds; longer than 30 s only stalls
# every other meter on the bus when one is silent.
TIMEOUT: Final = Bounds(0.5, 30, step=0.5, unit="s")
# Modbus addresses a meter can have (0 is broadcast, 248-255 are reserved).
UNIT_ID: Final = Bounds(MIN_UNIT_ID, MAX_UNIT_ID, whole=True)


def has_control_characters(text: str) -> bool:
    """Whether the text holds a control character (NUL, CR, LF, tab, ESC...).

    None of them belongs in a name, a host, a device path or a token; in an
    HTTP header CR and LF are refused by the client when the request is
    already being sent.
    """
    return any(unicodedata.category(char) == "Cc" for char in text)


def clean_name(value: Any) -> str | None:
    """A name as it is saved (stripped); None when it is empty, too long or odd.

    An empty name gave entity ids with nothing of the meter in them
    (`sensor.power`); a very long one, entity ids of 255 characters.
    """
    if not isinstance(value, str):
        return None
    name = value.strip()
    if not name or len(name) > MAX_NAME_LENGTH or has_control_characters(name):
        return None
    return name


def could_resolve(host: str) -> bool:
    """Whether a (stripped, lower-cased) host is an address or a possible name.

    False for a name no resolver accepts (over 253 characters, a label over
    63, a NUL or a space in it): it is refused before the resolver is asked,
    as the resolver would refuse it too. A name that passes still has to
    resolve.
    """
    try:
        ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        return True
    try:
        ascii_host = host.encode("idna").decode("ascii")
    except UnicodeError:
        return False
    labels = ascii_host.removesuffix(".").split(".")
    return len(ascii_host) <= _MAX_HOST_LENGTH and all(map(_LABEL.match, labels))


def sendable_url(text: str) -> URL | None:
    """The URL when it is one a request can be sent to; None for any other.

    yarl raises ValueError for some texts (an unclosed "[", a port out of
    range, a host name the IDNA codec refuses), and a host no resolver
    could take, or a control character, would fail in the middle of the
    request, as an HTTP 500 of the flow.
    """
    try:
        url = URL(text)
        _ = url.port
    except ValueError:
        return None
    if (
        has_control_characters(text)
        or url.scheme not in ("http", "https")
        or not url.host
        or not could_resolve(url.host.lower())
    ):
        return None
    return url
