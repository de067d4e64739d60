"""The HTTP layer both companion clients share.

The caller owns the aiohttp session (Home Assistant shares one per TLS
setting), so this layer never opens or closes one. It adds the optional bearer
token, bounds every request with a timeout, and turns every way a request can
fail into one of the library's errors: a service behind a reverse proxy can
answer with an HTML login page, a 502 from the proxy or a body cut short, and
each must surface as a clear message rather than a stack trace.
"""

from collections.abc import Collection, Mapping
from dataclasses import dataclass
import json
from typing import Any

import aiohttp

from .errors import (
    CompanionAuthError,
    CompanionConnectionError,
    CompanionHttpError,
    CompanionResponseError,
    CompanionTimeoutError,
)

DEFAULT_TIMEOUT = 10.0
DEFAULT_WRITE_TIMEOUT = 45.0
"""Writes wait longer: the heat pump's power-on takes up to 19 s on a slow link,
and reporting failure for a write the service then completes is worse than
waiting."""
_DETAIL_LIMIT = 200  # characters of an error body worth keeping in a message


@dataclass(frozen=True, slots=True)
class Reply:
    """A decoded JSON answer and the status it came with."""

    status: int
    payload: Any


def normalize_base_url(url: str) -> str:
    """Return the base URL as requests are built from it: no trailing slash, no spaces.

    Also what the integration uses to recognise the same service twice.
    """
    return url.strip().rstrip("/")


def _detail(payload: Any, text: str) -> str:
    """Return the most useful short explanation an error body offers."""
    if isinstance(payload, Mapping) and "detail" in payload:
        detail = payload["detail"]
        if isinstance(detail, list):  # FastAPI's validation errors: field and message
            detail = "; ".join(_validation_message(item) for item in detail)
        return str(detail)[:_DETAIL_LIMIT]
    return " ".join(text.split())[:_DETAIL_LIMIT]


def _validation_message(item: Any) -> str:
    """Return "field: message" for one FastAPI validation error."""
    if not isinstance(item, Mapping):
        return str(item)
    location = item.get("loc")
    field = str(location[-1]) if isinstance(location, list) and location else ""
    message = str(item.get("msg", item))
    return f"{field}: {message}" if field else message


def _decode(text: str, content_type: str) -> Any:
    """Decode a JSON body, naming HTML and truncation for what they are."""
    stripped = text.lstrip()
    body = " ".join(text.split())[:_DETAIL_LIMIT]
    if "html" in content_type or stripped.startswith("<"):
        raise CompanionResponseError(
            "the service answered with an HTML page, not JSON "
            "(a proxy, a login page or another web server at this address?)",
            body,
        )
    try:
        return json.loads(text)
    except ValueError as err:
        raise CompanionResponseError(
            f"the service answered with malformed JSON ({err})", body
        ) from None


class CompanionClient:
    """A JSON-over-HTTP client for one service at one base URL."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        base_url: str,
        *,
        token: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        write_timeout: float = DEFAULT_WRITE_TIMEOUT,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        """Remember where the service is; the session stays the caller's.

        `timeout` bounds reads, `write_timeout` every POST (at least `timeout`).

        `headers` are sent with every request (an API key, say); a token
        becomes the Authorization header and wins over one given there.
        """
        self.base_url = normalize_base_url(base_url)
        self._session = session
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._write_timeout = aiohttp.ClientTimeout(total=max(timeout, write_timeout))
        self._headers = {"Accept": "application/json", **(headers or {})}
        if token:
            self._headers["Authorization"] = f"Bearer {token}"

    async def request(
        self,
        method: str,
        path: str,
        *,
        body: Mapping[str, Any] | None = None,
        params: Mapping[str, str] | None = None,
        accept: Collection[int] = (200,),
    ) -> Reply:
        """Send one request; return its JSON when the status is one of `accept`."""
        url = f"{self.base_url}{path}"
        timeout = self._timeout if method == "GET" else self._write_timeout
        try:
            async with self._session.request(
                method,
                url,
                json=body,
                params=params,
                headers=self._headers,
                timeout=timeout,
            ) as response:
                status = response.status
                content_type = response.headers.get("Content-Type", "").lower()
                text = await response.text(errors="replace")
        except TimeoutError:
            raise CompanionTimeoutError(
                f"no answer from {self.base_url} within {timeout.total:g} s"
            ) from None
        except aiohttp.ClientPayloadError as err:
            raise CompanionResponseError(
                f"the answer from {self.base_url} was cut short ({err})"
            ) from None
        except aiohttp.ClientError as err:
            raise CompanionConnectionError(
                f"cannot reach {self.base_url}: {err or type(err).__name__}"
            ) from None
        if status in {401, 403}:
            raise CompanionAuthError(status)
        if status not in accept:
            try:
                payload = json.loads(text)
            except ValueError:
                payload = None
            raise CompanionHttpError(status, _detail(payload, text))
        return Reply(status, _decode(text, content_type))
