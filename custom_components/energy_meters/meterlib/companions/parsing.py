"""Read typed fields out of decoded JSON, or say precisely what is wrong.

Payloads come from other programs over the network: a field can be missing,
null or of another type. Every accessor raises `MalformedPayloadError` naming
the payload and the field, so a log line tells what the service sent instead
of a bare `KeyError`.
"""

from collections.abc import Mapping
from datetime import UTC, datetime
import math
from typing import Any

from .errors import MalformedPayloadError


class Fields:
    """Typed access to the fields of one JSON object."""

    def __init__(self, payload: object, what: str) -> None:
        """Check that the payload is a JSON object at all."""
        if not isinstance(payload, Mapping):
            raise MalformedPayloadError(
                f"{what}: expected a JSON object, got {type(payload).__name__}"
            )
        self.raw: Mapping[str, Any] = payload
        self.what = what

    def _missing(self, key: str, expected: str) -> MalformedPayloadError:
        value = self.raw.get(key)
        found = "missing" if key not in self.raw else f"{value!r}"
        return MalformedPayloadError(
            f"{self.what}: field '{key}' is {found}, expected {expected}"
        )

    def has(self, key: str) -> bool:
        """Whether the field is present and not null."""
        return self.raw.get(key) is not None

    def number(self, key: str) -> float:
        """Return a finite number (int or float, but not a boolean).

        Python's JSON decoder accepts the bare words NaN and Infinity, which a
        service writing its JSON with Python sends for a broken reading; they
        are refused here, since nothing downstream can compute with them.
        """
        value = self.raw.get(key)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self._missing(key, "a number")
        if not math.isfinite(value):
            raise self._missing(key, "a finite number")
        return float(value)

    def measurement(self, key: str, low: float, high: float) -> float | None:
        """Return a reading within [low, high], or None when it cannot be one.

        Absent, null, NaN, infinite or physically impossible values all mean
        "no reading": an entity shows unknown for one poll instead of
        publishing (and integrating) garbage. Only a value of the wrong type
        raises, since that is another payload altogether.
        """
        value = self.raw.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self._missing(key, "a number")
        if not math.isfinite(value) or not low <= value <= high:
            return None
        return float(value)

    def whole_measurement(self, key: str, low: int, high: int) -> int | None:
        """Return a whole-number reading within [low, high], or None (see above)."""
        value = self.measurement(key, low, high)
        return None if value is None or not value.is_integer() else int(value)

    def optional_number(self, key: str) -> float | None:
        """Return a number, or None when the field is absent or null."""
        return self.number(key) if self.has(key) else None

    def integer(self, key: str) -> int:
        """Return a whole number; 3.0 is accepted, 3.5 is not."""
        value = self.raw.get(key)
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self._missing(key, "a whole number")
        return value

    def flag(self, key: str) -> bool:
        """Return a JSON boolean."""
        value = self.raw.get(key)
        if not isinstance(value, bool):
            raise self._missing(key, "true or false")
        return value

    def optional_flag(self, key: str) -> bool | None:
        """Return a boolean, or None when the field is absent or null."""
        return self.flag(key) if self.has(key) else None

    def text(self, key: str) -> str:
        """Return a string."""
        value = self.raw.get(key)
        if not isinstance(value, str):
            raise self._missing(key, "a string")
        return value

    def optional_text(self, key: str) -> str | None:
        """Return a string, or None when the field is absent or null."""
        return self.text(key) if self.has(key) else None

    def child(self, key: str) -> Fields:
        """Return a nested JSON object."""
        if not isinstance(self.raw.get(key), Mapping):
            raise self._missing(key, "an object")
        return Fields(self.raw[key], f"{self.what}.{key}")

    def optional_child(self, key: str) -> Fields | None:
        """Return a nested JSON object, or None when absent or null."""
        return self.child(key) if self.has(key) else None

    def array(self, key: str) -> list[Any]:
        """Return a JSON array."""
        value = self.raw.get(key)
        if not isinstance(value, list):
            raise self._missing(key, "a list")
        return value

    def timestamp(self, key: str) -> datetime:
        """Return an ISO 8601 timestamp; one without a zone is taken as UTC."""
        text = self.text(key)
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            raise self._missing(key, "an ISO 8601 timestamp") from None
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)

    def optional_timestamp(self, key: str) -> datetime | None:
        """Return a timestamp, or None when absent or null."""
        return self.timestamp(key) if self.has(key) else None


def json_list(payload: object, what: str) -> list[Any]:
    """Return a top-level JSON array."""
    if not isinstance(payload, list):
        raise MalformedPayloadError(
            f"{what}: expected a JSON list, got {type(payload).__name__}"
        )
    return payload
