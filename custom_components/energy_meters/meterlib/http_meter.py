"""A meter behind an HTTP JSON endpoint: a smart-meter gateway, a utility API, a script.

It rides on the companion services' HTTP layer (`companions.http`), which
already turns every way a request fails (refused, timed out, 401, 5xx, an
HTML login page, a body cut short) into one of the library's errors; this
module adds what is particular to a meter: the method and headers the
endpoint wants, and reading the quantities out of whatever shape the answer
has (`payload`).
"""

from collections.abc import Mapping
import json

import aiohttp

from .companions.http import CompanionClient
from .payload import Field, PayloadError, PayloadFormat, excerpt, extract

ALL_FIELDS = frozenset(Field)
METHODS = ("GET", "POST")


class HttpPayloadError(PayloadError):
    """The endpoint answered JSON in which no meter value could be read."""

    def __init__(self, message: str, body: str) -> None:
        """Keep the answer: the config flow shows it, so the user can set a path."""
        super().__init__(message)
        self.body = body


def parse_headers(text: str) -> dict[str, str]:
    """Headers written one per line as "Name: value"; ValueError on a bad line.

    A text box is what a user can fill in on a phone; a blank line is fine.
    """
    headers: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        name, colon, value = line.partition(":")
        name = name.strip()
        if not colon or not name or any(c.isspace() for c in name):
            raise ValueError(f"line {number} is not 'Name: value'")
        headers[name] = value.strip()
    return headers


class HttpMeterClient:
    """Reads one HTTP meter: one request, every quantity its answer holds."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        url: str,
        fmt: PayloadFormat,
        *,
        method: str = "GET",
        headers: Mapping[str, str] | None = None,
        token: str | None = None,
        timeout: float = 10.0,
    ) -> None:
        """Remember the endpoint; the session stays the caller's."""
        self.url = url.strip()
        self.method = method.upper()
        self.fmt = fmt
        self._client = CompanionClient(
            session, self.url, token=token, timeout=timeout, headers=headers
        )

    async def read(self) -> dict[Field, float]:
        """The meter's values now, in W, kWh, V, A and Hz.

        Raises a `CompanionError` when the request fails and an
        `HttpPayloadError` (with the answer) when no value can be read in it.
        """
        reply = await self._client.request(self.method, "")
        body = excerpt(json.dumps(reply.payload))
        try:
            values = extract(reply.payload, ALL_FIELDS, self.fmt)
        except PayloadError as err:
            raise HttpPayloadError(str(err), body) from None
        if not values:
            raise HttpPayloadError(
                "none of the known names (power, power_kw, activePower, energy, "
                "energy_kwh, totalEnergy, voltage, …) is in the answer: set a JSON "
                "path for each value",
                body,
            )
        return values
