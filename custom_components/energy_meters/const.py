"""Constants shared by the integration's modules."""

from collections.abc import Mapping
from datetime import timedelta
import logging
from typing import Any, Final

DOMAIN: Final = "energy_meters"
# One logger for the whole integration, whichever package a module is in.
LOGGER: Final = logging.getLogger(__package__)

CONF_FRAMING: Final = "framing"
CONF_TIMEOUT: Final = "timeout"
CONF_UNIT_ID: Final = "unit_id"
# Modbus addresses a meter can have: 0 is broadcast (no answer), 248-255 are reserved.
MIN_UNIT_ID: Final = 1
MAX_UNIT_ID: Final = 247
CONF_PROFILE: Final = "profile"
CONF_SCAN_INTERVAL: Final = "scan_interval"
CONF_MAX_POWER_KW: Final = "max_power_kw"
CONF_CONFIRMATIONS: Final = "confirmations"

SUBENTRY_METER: Final = "meter"
# Not a subentry that is ever created: the gateway's "Import history" flow.
SUBENTRY_HISTORY: Final = "history"
SECTION_DATA_QUALITY: Final = "data_quality"

DEFAULT_PORT: Final = 502
DEFAULT_TIMEOUT: Final = 3.0
DEFAULT_SCAN_INTERVAL: Final = 10
MIN_SCAN_INTERVAL: Final = 2
MAX_SCAN_INTERVAL: Final = 3600

# A meter is shown unavailable only after this many failed polls in a row:
# one lost reply on a busy RS-485 bus is normal and must not blank a graph.
FAILED_POLLS_BEFORE_UNAVAILABLE: Final = 3

# A meter that stays silent is asked again after 1, 3, 7 … skipped polls, at
# most this many: a dead meter must not cost its neighbours a timeout each poll.
MAX_POLLS_TO_SKIP: Final = 6

# Filter defaults: a 3 x 63 A house connection is about 43 kW; 50 kW leaves room.
DEFAULT_MAX_POWER_KW: Final = 50.0
DEFAULT_CONFIRMATIONS: Final = 2


def scan_interval(seconds: float) -> timedelta:
    """The coordinator's update interval for a configured number of seconds."""
    return timedelta(seconds=seconds)


# --- companion services (heat-pump controller, thermostat) -----------------------
# Gateway entries have no kind in their data (they came first); the companion
# services' entries say what they are, and setup, platforms, flows and
# diagnostics dispatch on it.
CONF_KIND: Final = "kind"
KIND_GATEWAY: Final = "gateway"
KIND_HEAT_PUMP: Final = "heat_pump"
KIND_THERMOSTAT: Final = "thermostat"
# The Site (site/): sums the meters of every kind; one per installation.
KIND_SITE: Final = "site"
# Meters that are not on Modbus (single_meters/): each is an entry of its own.
KIND_MQTT_METER: Final = "mqtt_meter"
KIND_HTTP_METER: Final = "http_meter"
KIND_GUARD: Final = "guard"


def stored_kind(data: Mapping[str, Any]) -> str:
    """The kind an entry's data names; none means a gateway (gateways came first)."""
    return str(data.get(CONF_KIND, KIND_GATEWAY))


# Heat-pump options: the meter power sensor in front of the heat pump (for COP).
CONF_POWER_ENTITY: Final = "power_entity"

# The heat-pump service polls the pump itself; polling it faster than every
# 15 s only re-reads its cache.
DEFAULT_COMPANION_SCAN_INTERVAL: Final = 15
MIN_COMPANION_SCAN_INTERVAL: Final = 5
# A read from a companion service that takes longer than this has failed.
COMPANION_REQUEST_TIMEOUT: Final = 10.0
# Writes wait longer: the heat pump's power-on is three Modbus writes of up to
# three tries each, 19 s measured on a slow link; a shorter timeout reports
# failure for a write the service then completes.
COMPANION_WRITE_TIMEOUT: Final = 45.0
# A written value shows at once and is held until the service's status confirms
# it, or this long at most: the heat-pump service shows a write only after its
# next poll of the pump (up to 30 s), read by our next poll (up to 15 s later).
COMPANION_OPTIMISTIC_HOLD_S: Final = 60.0
# The heat-pump service's reading is stale past 30 s; that happens at every few
# polls, so a stale reading is still shown until it is older than this.
COMPANION_STALE_LIMIT_S: Final = 120.0
