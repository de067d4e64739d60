"""Running an import: progress while it runs, a summary when it is done.

Progress and the summary are a persistent notification (one per import, by
its title), so they reach the user whether the import was started from the
flow or by an automation, and stay until dismissed. An import waits for
the network and the recorder, and computes in an executor; the event loop
is never held for long.
"""

import asyncio
from collections.abc import Sequence
from typing import Any, Final

from homeassistant.components import persistent_notification
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.translation import async_get_translations
from homeassistant.util import slugify

from ..const import DOMAIN
from .importer import PreparedSeries, async_commit, async_prepare
from .request import ImportPlan
from .sources import SourceError

# At most one import per target at a time: two at once would write the
# same rows from two sets of answers.
_RUNNING: Final = f"{DOMAIN}_history_running"


def _notification_id(plan: ImportPlan) -> str:
    return f"{DOMAIN}_history_{slugify(plan.title)}"


_FAILURES: Final = {
    "unreachable": "history_unreachable",
    "refused": "history_refused",
    "bad_answer": "history_bad_answer",
    "ambiguous": "history_ambiguous",
    "bad_query": "history_bad_query",
}
_NOTICES: Final = (
    "history_notice_progress_title",
    "history_notice_progress",
    "history_notice_done_title",
    "history_notice_line_energy",
    "history_notice_line_power",
)


def failed(err: SourceError) -> HomeAssistantError:
    """A store that could not be read, in the user's language."""
    return HomeAssistantError(
        translation_domain=DOMAIN,
        translation_key=_FAILURES.get(err.reason, "history_refused"),
        translation_placeholders={"detail": err.detail},
    )


async def _notices(hass: HomeAssistant) -> dict[str, str]:
    """The notification texts in Home Assistant's language."""
    found = await async_get_translations(
        hass, hass.config.language, "exceptions", {DOMAIN}
    )
    prefix = f"component.{DOMAIN}.exceptions."
    return {key: found.get(f"{prefix}{key}.message", key) for key in _NOTICES}


async def async_preview(hass: HomeAssistant, plan: ImportPlan) -> list[PreparedSeries]:
    """Fetch and compute every series, writing nothing."""
    session = async_get_clientsession(hass)
    try:
        return await async_prepare(
            hass, session, plan.requests, (plan.start, plan.end), lambda _d, _e: None
        )
    except SourceError as err:
        raise failed(err) from err


async def async_import(
    hass: HomeAssistant,
    plan: ImportPlan,
    prepared: Sequence[PreparedSeries] | None = None,
) -> list[PreparedSeries]:
    """Import the plan (from `prepared` if the preview already fetched it)."""
    running: set[str] = hass.data.setdefault(_RUNNING, set())
    notification_id = _notification_id(plan)
    if notification_id in running:
        raise HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key="history_running",
            translation_placeholders={"title": plan.title},
        )
    running.add(notification_id)
    texts = await _notices(hass)
    title = texts["history_notice_progress_title"].format(title=plan.title)

    def show(done: float, entity_id: str) -> None:
        persistent_notification.async_create(
            hass,
            texts["history_notice_progress"].format(
                percent=round(done * 100), entity_id=entity_id or "…"
            ),
            title=title,
            notification_id=notification_id,
        )

    try:
        show(0.0, "")
        if prepared is None:
            session = async_get_clientsession(hass)
            prepared = await async_prepare(
                hass,
                session,
                plan.requests,
                (plan.start, plan.end),
                lambda done, entity_id: show(done / 2, entity_id),
            )
            await async_commit(hass, prepared, lambda done, e: show(0.5 + done / 2, e))
        else:
            await async_commit(hass, prepared, show)
    except SourceError as err:
        persistent_notification.async_dismiss(hass, notification_id)
        raise failed(err) from err
    except asyncio.CancelledError:
        persistent_notification.async_dismiss(hass, notification_id)
        raise
    finally:
        running.discard(notification_id)
    persistent_notification.async_create(
        hass,
        summary(texts, prepared),
        title=texts["history_notice_done_title"].format(title=plan.title),
        notification_id=notification_id,
    )
    return list(prepared)


def summary(texts: dict[str, str], prepared: Sequence[PreparedSeries]) -> str:
    """One line per sensor: hours written, energy, resets and glitches left out."""
    lines = []
    for series in prepared:
        facts: dict[str, Any] = series.as_dict()
        key = "energy" if facts["kind"] == "energy" else "power"
        lines.append(texts[f"history_notice_line_{key}"].format(**facts))
    return "\n".join(lines)
