"""A simulated meter that answers with a JSON document over HTTP.

Many meters, and the gateways people put in front of Modbus ones (Shelly,
Tasmota, an ESP running home-made firmware, a vendor's local API), publish
their readings as a JSON document. The integration's HTTP meter reads such a
document and picks numbers out of it by JSON path, scaling units as told. This
fake serves one `Household`'s readings in the document shapes a user meets, so
the demo has something to point at and the tests can check paths, unit scaling
and error handling against values they compute from the household themselves:

- ``flat``: ``{"power_kw", "energy_kwh", "voltage", "current", "power_factor",
  "frequency"}``, power in kW, the rest in canonical units;
- ``alternate``: ``{"activePower", "totalEnergy", "voltage"}``, power in W,
  camelCase keys, fewer fields;
- ``nested``: ``{"data": {"meters": [{"id": "main", "readings": {"p", "e"}}]}}``,
  power in W and energy in Wh, only reachable with a path such as
  ``data.meters[0].readings.p``.

Values are served unrounded: JSON carries a float exactly, so a test can check
a client's scaling without tolerances for the meter's own rounding.

A test pins exact numbers with `override`, makes the meter misbehave the ways
real ones do with `fail` (an HTTP 500, a proxy's HTML page, a body cut short, a
number that is not one, no answer in time), demands a bearer token with
`token`, and checks what the client sent with `requests`, `last_method`,
`last_headers` and `last_body`.
"""

import asyncio
import contextlib
from dataclasses import dataclass
from enum import StrEnum
import json
from typing import Any

from aiohttp import hdrs, web
from multidict import CIMultiDict, CIMultiDictProxy

from .household import Household
from .services.server import ServiceServer
from .single_meter import flat_document, single_meter_view

DEFAULT_SILENCE_S = 5.0
"""How long a silent meter keeps a request waiting: longer than a client's timeout."""

NOT_A_NUMBER = "n/a"
"""What the power field holds during a `not_a_number` fault."""

type JsonScalar = float | int | str | bool | None


class MeterShape(StrEnum):
    """The JSON documents the meter can serve (see the module docstring)."""

    FLAT = "flat"
    ALTERNATE = "alternate"
    NESTED = "nested"


class MeterFault(StrEnum):
    """How the meter answers while a fault is active."""

    STATUS_500 = "status_500"
    """HTTP 500 with ``{"detail": "meter offline"}``, as a crashed gateway answers."""
    HTML = "html"
    """HTTP 200 with an HTML page (text/html), as a captive portal or proxy sends."""
    TRUNCATED = "truncated"
    """HTTP 200, application/json, but the document stops half-way."""
    NOT_A_NUMBER = "not_a_number"
    """The usual document, with the power field holding the string "n/a"."""
    SILENCE = "silence"
    """The usual document, but only after `delay` seconds (or when stopped)."""


_POWER_KEY = {
    MeterShape.FLAT: "power_kw",
    MeterShape.ALTERNATE: "activePower",
    MeterShape.NESTED: "p",
}

_HTML_PAGE = (
    "<!DOCTYPE html><html><head><title>Meter</title></head>"
    "<body><h1>Welcome</h1><p>Please log in to see your meter.</p></body></html>"
)


def _choice[E: StrEnum](kind: type[E], value: E | str, what: str) -> E:
    """`value` as a member of `kind`, or a ValueError that lists the choices."""
    try:
        return kind(value)
    except ValueError:
        choices = ", ".join(member.value for member in kind)
        raise ValueError(f"unknown {what} {value!r}: choose {choices}") from None


@dataclass(slots=True)
class _Fault:
    kind: MeterFault
    remaining: int | None
    """Requests left before the fault clears itself; None for until cleared."""
    delay: float


class HttpMeter:
    """A household's meter as a JSON endpoint on ``http://host:port/path``.

    GET and POST on `path` both answer with the current document (some
    devices want a POST with an RPC body); every other path is a 404.
    """

    def __init__(
        self,
        household: Household | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        path: str = "/meter",
        shape: MeterShape | str = MeterShape.FLAT,
        token: str | None = None,
    ) -> None:
        """Build the meter; it listens after `start`.

        Without a household it follows a default one on the wall clock, which
        is what the demo wants; tests pass one on a `ManualClock`.
        """
        if not path.startswith("/"):
            raise ValueError(f"the path must start with '/', got {path!r}")
        self.household = household if household is not None else Household()
        self.path = path
        self.shape = _choice(MeterShape, shape, "shape")
        self.token = token
        """When set, requests without ``Authorization: Bearer <token>`` get a 401."""
        self.override: dict[str, JsonScalar] = {}
        """Values served instead of the household's, by key of the served shape.

        Keys are the shape's reading keys: ``power_kw``, ``energy_kwh``, … for
        ``flat``; ``activePower``, ``totalEnergy``, ``voltage`` for
        ``alternate``; ``p`` and ``e`` (the keys under ``readings``) for
        ``nested``. A key the shape lacks is served next to the others, so a
        test can also add a field. Values are served as given, in the shape's
        units, and may be any JSON scalar (a string or None to test a client).
        """
        self.requests = 0
        """Requests served on `path` (faulty and unauthorized answers included)."""
        self.last_method: str | None = None
        self.last_headers: CIMultiDictProxy[str] = CIMultiDictProxy(CIMultiDict())
        """The last request's headers; look-ups ignore case, as HTTP does."""
        self.last_body = b""
        self._fault: _Fault | None = None
        self._released = asyncio.Event()
        app = web.Application()
        app.add_routes(
            [
                web.get(path, self._handle, allow_head=False),
                web.post(path, self._handle),
            ]
        )
        self.server = ServiceServer(app, host, port)

    # --- lifecycle -------------------------------------------------------------

    @property
    def url(self) -> str:
        """The meter's full URL, path included (the real port once started)."""
        return f"{self.server.url}{self.path}"

    @property
    def port(self) -> int:
        """The port it listens on (the real one once started)."""
        return self.server.port

    async def start(self) -> None:
        """Listen; with port 0 the system picks a free port, see `url`."""
        self._released = asyncio.Event()
        await self.server.start()

    async def stop(self) -> None:
        """Wake any request held by a `silence` fault, then stop listening.

        A held request would otherwise keep the server's shutdown waiting, and
        the test that stops it, for the whole delay.
        """
        self._released.set()
        await self.server.stop()

    # --- what tests control ----------------------------------------------------

    def fail(
        self,
        kind: MeterFault | str,
        count: int | None = None,
        *,
        delay: float = DEFAULT_SILENCE_S,
    ) -> None:
        """Answer the next `count` requests (None: all, until `clear`) badly.

        `delay` is how long a `silence` fault keeps each request waiting.
        """
        if count is not None and count < 1:
            raise ValueError(f"count must be at least 1, got {count}")
        if delay < 0:
            raise ValueError(f"delay must not be negative, got {delay}")
        self._fault = _Fault(_choice(MeterFault, kind, "fault kind"), count, delay)

    def clear(self) -> None:
        """Answer normally again."""
        self._fault = None

    @property
    def fault(self) -> MeterFault | None:
        """The fault the next request gets; None once cleared or used up."""
        return self._fault.kind if self._fault is not None else None

    def document(self) -> dict[str, Any]:
        """The JSON document a healthy meter serves now, override applied."""
        readings = self._readings()
        readings.update(self.override)
        return self._wrap(readings)

    # --- serving -----------------------------------------------------------------

    def _readings(self) -> dict[str, JsonScalar]:
        """The household's values now, under the shape's keys and in its units."""
        view = single_meter_view(self.household)
        match self.shape:
            case MeterShape.FLAT:
                return dict(flat_document(view))
            case MeterShape.ALTERNATE:
                return {
                    "activePower": view["power"],
                    "totalEnergy": view["energy"],
                    "voltage": view["voltage"],
                }
            case MeterShape.NESTED:
                return {"p": view["power"], "e": view["energy"] * 1000.0}

    def _wrap(self, readings: dict[str, JsonScalar]) -> dict[str, Any]:
        """Put the readings where the shape keeps them."""
        if self.shape == MeterShape.NESTED:  # also when a test assigned a plain str
            return {"data": {"meters": [{"id": "main", "readings": readings}]}}
        return dict(readings)

    def _take(self) -> _Fault | None:
        """The fault for this request, counting it down."""
        fault = self._fault
        if fault is not None and fault.remaining is not None:
            fault.remaining -= 1
            if fault.remaining <= 0:
                self._fault = None
        return fault

    async def _hold(self, delay: float) -> None:
        """Wait `delay` seconds, or until the meter stops."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._released.wait(), delay)

    async def _handle(self, request: web.Request) -> web.Response:
        """Record the request, check the token, then answer (or misbehave)."""
        self.requests += 1
        self.last_method = request.method
        self.last_headers = CIMultiDictProxy(CIMultiDict(request.headers))
        self.last_body = await request.read()
        if self.token is not None and (
            request.headers.get(hdrs.AUTHORIZATION) != f"Bearer {self.token}"
        ):
            return web.json_response(
                {"detail": "Not authenticated"},
                status=401,
                headers={hdrs.WWW_AUTHENTICATE: "Bearer"},
            )
        fault = self._take()
        if fault is None:
            return web.json_response(self.document())
        return await self._misbehave(fault)

    async def _misbehave(self, fault: _Fault) -> web.Response:
        """Answer the way the fault says."""
        match fault.kind:
            case MeterFault.STATUS_500:
                return web.json_response({"detail": "meter offline"}, status=500)
            case MeterFault.HTML:
                return web.Response(text=_HTML_PAGE, content_type="text/html")
            case MeterFault.TRUNCATED:
                text = json.dumps(self.document())
                return web.Response(
                    text=text[: len(text) // 2], content_type="application/json"
                )
            case MeterFault.NOT_A_NUMBER:
                readings = self._readings()
                readings.update(self.override)
                readings[_POWER_KEY[self.shape]] = NOT_A_NUMBER
                return web.json_response(self._wrap(readings))
            case MeterFault.SILENCE:
                await self._hold(fault.delay)
                return web.json_response(self.document())
