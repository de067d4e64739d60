"""Secrets out of error texts, for the diagnostics download.

Redacting an entry's fields is not enough: an error text repeats what the
request went to ("cannot connect to 192.168.1.5:502", "HTTP 500 from
http://meter.local/api?apikey=…"), and a user attaches the download to a
public bug report. So every URL in a text loses its user, password, host and
query (its scheme and path stay: they tell which endpoint failed), and every
value redacted elsewhere in the download is replaced wherever it occurs. The
rest of the text stays, so the cause remains readable.
"""

from collections.abc import Iterable, Mapping
import re
from typing import Any, Final

from yarl import URL

REDACTED: Final = "**REDACTED**"
_URL: Final = re.compile(r"\b[a-z][a-z0-9+.-]*://[^\s'\"<>]+", re.IGNORECASE)


def secrets_of(data: Mapping[str, Any], keys: Iterable[str]) -> set[str]:
    """The values of `keys` in an entry's data, the ones its download redacts."""
    return {str(data[key]) for key in keys if data.get(key)}


def redact_text(text: str | None, secrets: Iterable[str]) -> str | None:
    """`text` with its URLs stripped to scheme and path, and `secrets` replaced."""
    if text is None:
        return None
    text = _URL.sub(_redacted_url, text)
    # The longest first: a URL secret contains its host, which may be one too.
    for secret in sorted({s for s in secrets if s}, key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    return text


def _redacted_url(match: re.Match[str]) -> str:
    """scheme://**REDACTED**/path: no credentials, host or query string left."""
    try:
        url = URL(match.group(0))
    except ValueError:
        return REDACTED
    path = "" if url.path == "/" else url.path
    return f"{url.scheme}://{REDACTED}{path}"
