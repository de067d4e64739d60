"""Ways a companion service can misbehave, switchable at run time.

Tests (and a curious user of the demo) make a running fake service answer
badly, the way real deployments do: a crash (HTTP 500), a reverse proxy's HTML
page, a JSON body cut short, an answer that comes too late, or a bearer token
demanded by a proxy. A fault applies to every request, or only to some paths,
until cleared or for a given number of requests. The `/_sim/...` control API
itself is never affected, so a fault can always be lifted again.
"""

import asyncio
from collections.abc import Awaitable, Callable, Collection
import contextlib
from dataclasses import dataclass
from enum import StrEnum
import json

from aiohttp import web

SIM_PREFIX = "/_sim/"

type Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class FaultKind(StrEnum):
    """How the service answers while a fault is active."""

    SERVER_ERROR = "server_error"
    """HTTP 500 with FastAPI's error body."""
    HTML = "html"
    """HTTP 200 with an HTML page, as a captive portal or proxy sends."""
    TRUNCATED = "truncated"
    """HTTP 200 whose JSON body stops half-way."""
    SLOW = "slow"
    """The real answer, but only after `delay` seconds."""
    UNAUTHORIZED = "unauthorized"
    """HTTP 401, as a proxy in front of the service answers a wrong token."""


@dataclass(slots=True)
class Fault:
    """One active fault."""

    kind: FaultKind
    paths: frozenset[str] | None = None
    """Only these request paths misbehave; None for every path."""
    remaining: int | None = None
    """Requests left before the fault clears itself; None for until cleared."""
    delay: float = 30.0

    def applies_to(self, path: str) -> bool:
        """Whether a request for this path misbehaves."""
        return self.paths is None or path in self.paths


_HTML_PAGE = (
    "<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head>"
    "<body><h1>502 Bad Gateway</h1><hr><center>nginx</center></body></html>"
)


class FaultInjector:
    """The fault (if any) and the bearer token (if any) a fake service enforces."""

    def __init__(self) -> None:
        """Start healthy and open, as the real services are by default."""
        self.fault: Fault | None = None
        self.token: str | None = None
        self.requests: list[tuple[str, str]] = []
        """(method, path) of every request served, control API excluded."""
        self._released = asyncio.Event()

    def inject(
        self,
        kind: FaultKind | str,
        *,
        paths: Collection[str] | None = None,
        count: int | None = None,
        delay: float = 30.0,
    ) -> None:
        """Make requests misbehave from now on."""
        self.fault = Fault(
            FaultKind(kind),
            frozenset(paths) if paths is not None else None,
            count,
            delay,
        )

    def clear(self) -> None:
        """Answer normally again."""
        self.fault = None

    def release(self) -> None:
        """End every slow answer now: the server is stopping and must not linger."""
        self.fault = None
        self._released.set()

    async def _hold(self, delay: float) -> None:
        """Wait `delay` seconds, or until released."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._released.wait(), delay)

    def _take(self, path: str) -> Fault | None:
        """The fault for this request, counting it down."""
        fault = self.fault
        if fault is None or not fault.applies_to(path):
            return None
        if fault.remaining is not None:
            fault.remaining -= 1
            if fault.remaining <= 0:
                self.fault = None
        return fault

    @web.middleware
    async def middleware(
        self, request: web.Request, handler: Handler
    ) -> web.StreamResponse:
        """Check the token, then misbehave if asked to; the control API is exempt."""
        if request.path.startswith(SIM_PREFIX):
            return await handler(request)
        self.requests.append((request.method, request.path))
        if self.token is not None:
            expected = f"Bearer {self.token}"
            if request.headers.get("Authorization") != expected:
                return web.json_response({"detail": "Not authenticated"}, status=401)
        fault = self._take(request.path)
        if fault is None:
            return await handler(request)
        return await self._misbehave(fault, request, handler)

    async def _misbehave(
        self, fault: Fault, request: web.Request, handler: Handler
    ) -> web.StreamResponse:
        """Answer the request the way the fault says."""
        match fault.kind:
            case FaultKind.SLOW:
                await self._hold(fault.delay)
                return await handler(request)
            case FaultKind.SERVER_ERROR:
                return web.json_response(
                    {"detail": "Internal Server Error"}, status=500
                )
            case FaultKind.UNAUTHORIZED:
                return web.json_response({"detail": "Not authenticated"}, status=401)
            case FaultKind.HTML:
                return web.Response(text=_HTML_PAGE, content_type="text/html")
            case FaultKind.TRUNCATED:
                return _truncated(await handler(request))

    def routes(self) -> list[web.RouteDef]:
        """The control API: `POST /_sim/fault`, `DELETE /_sim/fault`, `POST /_sim/token`."""
        return [
            web.post(f"{SIM_PREFIX}fault", self._post_fault),
            web.delete(f"{SIM_PREFIX}fault", self._delete_fault),
            web.post(f"{SIM_PREFIX}token", self._post_token),
        ]

    async def _post_fault(self, request: web.Request) -> web.Response:
        body = await request.json()
        try:
            self.inject(
                body["kind"],
                paths=body.get("paths"),
                count=body.get("count"),
                delay=float(body.get("delay", 30.0)),
            )
        except (KeyError, ValueError, TypeError) as err:
            return web.json_response({"detail": str(err)}, status=422)
        return web.json_response({"fault": body["kind"]})

    async def _delete_fault(self, _request: web.Request) -> web.Response:
        self.clear()
        return web.json_response({"fault": None})

    async def _post_token(self, request: web.Request) -> web.Response:
        body = await request.json()
        token = body.get("token")
        self.token = str(token) if token else None
        return web.json_response({"token_required": self.token is not None})


def _truncated(response: web.StreamResponse) -> web.Response:
    """The same answer with its JSON body cut in half (the length header matches)."""
    body = response.body if isinstance(response, web.Response) else None
    text = body.decode() if isinstance(body, bytes) else json.dumps({"detail": "ok"})
    return web.Response(
        text=text[: max(1, len(text) // 2)],
        status=response.status,
        content_type="application/json",
    )
