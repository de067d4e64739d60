"""An HTTP meter: a JSON endpoint polled at an interval.

Like a Modbus meter, one failed request is no reason to blank a graph: the
last values stay shown through a few failed polls, and the entities go
unavailable only after `FAILED_POLLS_BEFORE_UNAVAILABLE` in a row, with one
log line on loss and one on recovery. An answer that is not readable (HTML,
broken JSON, a value that is not a number) counts as a failed poll too, and
changes nothing that was published.
"""

from collections.abc import Mapping
from typing import Any, Final, override

from homeassistant.const import CONF_ACCESS_TOKEN, CONF_URL, CONF_VERIFY_SSL
from homeassistant.core import HomeAssistant
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.update_coordinator import UpdateFailed

from .. import const
from ..const import (
    CONF_SCAN_INTERVAL,
    DOMAIN,
    FAILED_POLLS_BEFORE_UNAVAILABLE,
    LOGGER as _LOGGER,
)
from ..meterlib.companions import CompanionError
from ..meterlib.http_meter import ALL_FIELDS, HttpMeterClient, parse_headers
from ..meterlib.payload import PayloadError
from .meter import SingleMeter, SingleMeterConfigEntry, payload_format

CONF_METHOD: Final = "method"
CONF_HEADERS: Final = "headers"
DEFAULT_HTTP_SCAN_INTERVAL: Final = 30
MIN_HTTP_SCAN_INTERVAL: Final = 5


def http_client(hass: HomeAssistant, data: Mapping[str, Any]) -> HttpMeterClient:
    """The client for an HTTP meter's settings (also used by the config flow)."""
    return HttpMeterClient(
        async_get_clientsession(hass, verify_ssl=bool(data.get(CONF_VERIFY_SSL, True))),
        str(data[CONF_URL]),
        payload_format(data),
        method=str(data.get(CONF_METHOD, "GET")),
        headers=parse_headers(str(data.get(CONF_HEADERS, ""))),
        token=data.get(CONF_ACCESS_TOKEN) or None,
        timeout=const.COMPANION_REQUEST_TIMEOUT,
    )


class HttpMeter(SingleMeter):
    """A meter read from a JSON endpoint every `scan_interval` seconds."""

    def __init__(self, hass: HomeAssistant, entry: SingleMeterConfigEntry) -> None:
        """Every field the answer may hold; the client from the entry's settings."""
        fmt = payload_format(entry.data)
        fields = frozenset(fmt.paths) or ALL_FIELDS
        super().__init__(
            hass,
            entry,
            fields,
            update_interval_s=float(
                entry.data.get(CONF_SCAN_INTERVAL, DEFAULT_HTTP_SCAN_INTERVAL)
            ),
        )
        self.client = http_client(hass, entry.data)
        self.consecutive_failures = 0
        self.answered_once = False

    @property
    @override
    def available(self) -> bool:
        """Shown through a few failed polls; unavailable after that."""
        return (
            self.answered_once
            and self.consecutive_failures < FAILED_POLLS_BEFORE_UNAVAILABLE
        )

    @override
    async def _async_setup(self) -> None:
        await self.async_restore()

    @override
    async def _async_update_data(self) -> None:
        """Read the endpoint once; a failure keeps the last values."""
        try:
            values = await self.client.read()
        except (CompanionError, PayloadError) as err:
            self._failed(str(err))
            return
        if self.consecutive_failures >= FAILED_POLLS_BEFORE_UNAVAILABLE:
            _LOGGER.info("%s is answering again", self.name)
        self.consecutive_failures = 0
        self.answered_once = True
        self.ingest(values)

    def _failed(self, reason: str) -> None:
        """Count a failed poll; fail setup if the very first one fails."""
        self.consecutive_failures += 1
        self.status.rejected_total += 1
        self.status.last_error = reason
        if not self.answered_once:
            # Only at setup (which needs one answer): Home Assistant retries.
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key="http_meter_failed",
                translation_placeholders={"error": reason},
            )
        if self.consecutive_failures == FAILED_POLLS_BEFORE_UNAVAILABLE:
            _LOGGER.warning(
                "%s did not answer %d polls in a row: %s",
                self.name,
                self.consecutive_failures,
                reason,
            )
