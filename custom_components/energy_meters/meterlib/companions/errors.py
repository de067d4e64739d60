"""What can go wrong when talking to a companion service, sorted for the user.

Each class answers a different question the user has to act on: is the
service there at all, does it want other credentials, is it the service we
think it is, or did it answer with something broken. Callers catch
`CompanionError` to handle them all; nothing else (no `KeyError`, no aiohttp
exception) leaves the library.
"""


class CompanionError(Exception):
    """Any failure to get a usable answer from a companion service."""


class CompanionConnectionError(CompanionError):
    """The service could not be reached (refused, reset, DNS, TLS)."""


class CompanionTimeoutError(CompanionConnectionError):
    """The service did not answer in time."""


class CompanionAuthError(CompanionError):
    """The service (or a proxy in front of it) refused our credentials: 401/403."""

    def __init__(self, status: int) -> None:
        """Keep the status: 401 means no or wrong token, 403 a forbidden one."""
        super().__init__(f"HTTP {status}: the service refused the access token")
        self.status = status


class CompanionHttpError(CompanionError):
    """The service answered with an HTTP status we did not ask for."""

    def __init__(self, status: int, detail: str) -> None:
        """Keep the status so callers can tell 'not here' (404) from 'broken' (5xx)."""
        super().__init__(f"HTTP {status}{': ' + detail if detail else ''}")
        self.status = status
        self.detail = detail


class CompanionResponseError(CompanionError):
    """The body is not JSON: HTML from a proxy or a login page, or cut short."""

    def __init__(self, message: str, body: str = "") -> None:
        """Keep the start of the body: a flow shows the user what really came back."""
        super().__init__(message)
        self.body = body


class MalformedPayloadError(CompanionResponseError):
    """Valid JSON, but not shaped like this service's answer.

    Usually another web service at that address, or an incompatible version.
    """
