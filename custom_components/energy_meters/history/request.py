"""What an import is asked to do, from the action's fields or the flow's form.

The action and the flow take the same fields, so both end in the same
`ImportPlan`: the sensors (a meter's eight from the old exporter's names, or
one sensor with a series named by the user), the store, the time range and
the plausibility limit (the meter's rated power from its data-quality
settings, unless given).
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import entity_registry as er
from homeassistant.util import dt as dt_util

from ..const import CONF_MAX_POWER_KW, DEFAULT_MAX_POWER_KW, DOMAIN
from .importer import SeriesRequest
from .sources import InfluxSeries, PrometheusSeries
from .targets import Target, device_targets, entity_target

ATTR_DEVICE_ID: Final = "device_id"
ATTR_ENTITY_ID: Final = "entity_id"
ATTR_SOURCE: Final = "source"
ATTR_URL: Final = "url"
ATTR_METRIC: Final = "metric"
ATTR_SELECTOR: Final = "selector"
ATTR_DATABASE: Final = "database"
ATTR_FIELD: Final = "field"
ATTR_TAGS: Final = "tags"
ATTR_USERNAME: Final = "username"
ATTR_PASSWORD: Final = "password"  # noqa: S105 (a field name)
ATTR_UNIT: Final = "unit"
ATTR_START: Final = "start"
ATTR_END: Final = "end"
ATTR_STEP: Final = "step"
ATTR_MAX_POWER: Final = "max_power"
ATTR_PREVIEW: Final = "preview"

SOURCE_PROMETHEUS: Final = "prometheus"
SOURCE_INFLUXDB: Final = "influxdb"
DEFAULT_STEP_S: Final = 60
DEFAULT_FIELD: Final = "value"
# The old stack keeps a year; asking for more costs nothing.
DEFAULT_SPAN: Final = timedelta(days=366)


@dataclass(frozen=True, slots=True, kw_only=True)
class ImportPlan:
    """The series to import and the time range to import them for."""

    title: str
    requests: list[SeriesRequest]
    start: datetime
    end: datetime


def invalid(key: str, **placeholders: object) -> ServiceValidationError:
    """A translated refusal of the user's input."""
    return ServiceValidationError(
        translation_domain=DOMAIN,
        translation_key=key,
        translation_placeholders={k: str(v) for k, v in placeholders.items()},
    )


def parse_tags(value: Any) -> tuple[tuple[str, str], ...]:
    """`meter=wago, phase=L1` (or a mapping) as InfluxDB tag pairs."""
    if isinstance(value, Mapping):
        return tuple((str(k), str(v)) for k, v in value.items())
    pairs: list[tuple[str, str]] = []
    for part in str(value or "").split(","):
        if not part.strip():
            continue
        key, sep, tag = part.partition("=")
        if not sep or not key.strip():
            raise invalid("history_bad_tags", tags=value)
        pairs.append((key.strip(), tag.strip().strip("'\"")))
    return tuple(pairs)


def _max_power_kw(hass: HomeAssistant, entity_id: str) -> float:
    """The meter's rated power, as its data-quality settings say."""
    entry = er.async_get(hass).async_get(entity_id)
    config = (
        hass.config_entries.async_get_entry(entry.config_entry_id)
        if entry and entry.config_entry_id
        else None
    )
    if entry is None or config is None:
        return DEFAULT_MAX_POWER_KW
    data: Mapping[str, Any] = config.data
    if entry.config_subentry_id and entry.config_subentry_id in config.subentries:
        data = config.subentries[entry.config_subentry_id].data
    return float(data.get(CONF_MAX_POWER_KW, DEFAULT_MAX_POWER_KW))


def _targets(hass: HomeAssistant, data: Mapping[str, Any]) -> tuple[str, list[Target]]:
    if entity_id := data.get(ATTR_ENTITY_ID):
        target = entity_target(
            hass, entity_id, data.get(ATTR_METRIC), data.get(ATTR_UNIT)
        )
        if target is None or not target.old.metric:
            raise invalid("history_not_our_sensor", entity_id=entity_id)
        return entity_id, [target]
    if device_id := data.get(ATTR_DEVICE_ID):
        targets = device_targets(hass, device_id)
        if not targets:
            raise invalid("history_no_sensors", device=device_id)
        if data.get(ATTR_METRIC):
            raise invalid("history_metric_needs_entity")
        registry_entry = er.async_get(hass).async_get(targets[0].entity_id)
        title = device_id
        if registry_entry and registry_entry.device_id:
            from homeassistant.helpers import device_registry as dr  # noqa: PLC0415

            device = dr.async_get(hass).async_get(registry_entry.device_id)
            title = (
                (device.name_by_user or device.name or device_id)
                if device
                else device_id
            )
        return title, targets
    raise invalid("history_target_required")


def _range(data: Mapping[str, Any]) -> tuple[datetime, datetime]:
    end = _aware(data.get(ATTR_END)) or dt_util.utcnow()
    start = _aware(data.get(ATTR_START)) or end - DEFAULT_SPAN
    if start >= end:
        raise invalid("history_bad_range", start=start.isoformat(), end=end.isoformat())
    return start, end


def _aware(value: Any) -> datetime | None:
    if value is None or value == "":
        return None
    moment = (
        value if isinstance(value, datetime) else dt_util.parse_datetime(str(value))
    )
    if moment is None:
        raise invalid("history_bad_time", value=value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt_util.get_default_time_zone())
    return dt_util.as_utc(moment)


def build_plan(hass: HomeAssistant, data: Mapping[str, Any]) -> ImportPlan:
    """The plan for the given fields; a translated error for what cannot be done."""
    title, targets = _targets(hass, data)
    start, end = _range(data)
    url = str(data.get(ATTR_URL, "")).strip()
    if not url.startswith(("http://", "https://")):
        raise invalid("history_bad_url", url=url)
    source = data.get(ATTR_SOURCE, SOURCE_PROMETHEUS)
    requests: list[SeriesRequest] = []
    for target in targets:
        limit = data.get(ATTR_MAX_POWER) or _max_power_kw(hass, target.entity_id)
        series: PrometheusSeries | InfluxSeries
        if source == SOURCE_INFLUXDB:
            if not data.get(ATTR_DATABASE):
                raise invalid("history_database_required")
            series = InfluxSeries(
                url=url,
                database=str(data[ATTR_DATABASE]),
                measurement=target.old.metric,
                field=str(data.get(ATTR_FIELD) or DEFAULT_FIELD),
                tags=parse_tags(data.get(ATTR_TAGS)),
                username=data.get(ATTR_USERNAME) or None,
                password=data.get(ATTR_PASSWORD) or None,
            )
        else:
            series = PrometheusSeries(
                url=url,
                metric=target.old.metric,
                selector=str(data.get(ATTR_SELECTOR) or ""),
                step_s=int(data.get(ATTR_STEP) or DEFAULT_STEP_S),
            )
        requests.append(
            SeriesRequest(target=target, series=series, max_power_kw=float(limit))
        )
    return ImportPlan(title=title, requests=requests, start=start, end=end)
