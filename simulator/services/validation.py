"""Request validation the way the real (FastAPI) services answer it: HTTP 422.

The body lists what was wrong, in FastAPI's shape, so a client sees the same
error document it would get from the real service.
"""

from collections.abc import Mapping
import math
from typing import Any

from aiohttp import web


class InvalidFieldError(Exception):
    """A request field that the real service's model would reject."""

    def __init__(self, field: str, message: str, value: Any = None) -> None:
        """Name the field as FastAPI does: ("body", field)."""
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message
        self.value = value

    def response(self) -> web.Response:
        """The 422 answer FastAPI sends for this error."""
        return web.json_response(
            {
                "detail": [
                    {
                        "type": "value_error",
                        "loc": ["body", self.field],
                        "msg": self.message,
                        "input": self.value,
                    }
                ]
            },
            status=422,
        )


async def json_body(request: web.Request) -> Mapping[str, Any]:
    """The request's JSON object, or `InvalidFieldError` when there is none."""
    try:
        body = await request.json()
    except ValueError:
        raise InvalidFieldError("body", "JSON decode error") from None
    if not isinstance(body, Mapping):
        raise InvalidFieldError("body", "Input should be a valid dictionary", body)
    return body


def number(
    body: Mapping[str, Any], field: str, low: float, high: float, *, whole: bool = False
) -> float:
    """A number field within [low, high] (whole numbers only if `whole`)."""
    if field not in body:
        raise InvalidFieldError(field, "Field required")
    value = body[field]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidFieldError(field, "Input should be a valid number", value)
    if not math.isfinite(value):
        raise InvalidFieldError(field, "Input should be a finite number", value)
    if whole and not float(value).is_integer():
        raise InvalidFieldError(field, "Input should be a valid integer", value)
    if not low <= value <= high:
        raise InvalidFieldError(
            field, f"Input should be between {low:g} and {high:g}", value
        )
    return float(value)


def lenient_number(
    body: Mapping[str, Any], field: str, low: float, high: float, *, whole: bool = False
) -> float:
    """A number field as pydantic's lax mode takes it: "22" and 30.0 pass too.

    The thermostat service's model is lenient like that, so a client sending
    a string or a float for a whole number is not refused.
    """
    value = body.get(field)
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            raise InvalidFieldError(
                field, "Input should be a valid number", value
            ) from None
        return number({field: value}, field, low, high, whole=whole)
    return number(body, field, low, high, whole=whole)


def flag(body: Mapping[str, Any], field: str) -> bool:
    """A boolean field."""
    value = body.get(field)
    if not isinstance(value, bool):
        raise InvalidFieldError(field, "Input should be a valid boolean", value)
    return value
