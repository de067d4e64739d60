"""The Lovelace dashboard in dashboards/energy_meters.yaml: read it, check it, install it.

The same file is what the documentation offers to users, what the demo installs and
what the test loads into Home Assistant, so the three cannot drift apart. The demo
installs it as a storage-mode dashboard over the WebSocket API (what "Add dashboard"
plus the raw configuration editor do), which leaves it editable in the UI.

Reads YAML with PyYAML, which every Home Assistant environment has.
"""

import argparse
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml

from devtools.ha_bootstrap import REPO_ROOT, HomeAssistantApi
from devtools.ha_websocket import HomeAssistantWebSocket

DASHBOARDS_DIR = REPO_ROOT / "dashboards"
DASHBOARD_FILE = DASHBOARDS_DIR / "energy_meters.yaml"
TRANSLATIONS_DIR = DASHBOARDS_DIR / "translations"
DASHBOARD_URL_PATH = "energy-meters"
DASHBOARD_TITLE = "Energy meters"
DASHBOARD_ICON = "mdi:lightning-bolt-circle"

# The keys whose values a person reads: card titles, names and headings. Cards
# without a name show the entity's name, which Home Assistant translates itself.
TEXT_KEYS = frozenset({"title", "name", "heading"})

# Where a card names entities: `entity: x`, `entities: [x, {entity: x}]`.
_ENTITY_KEYS = frozenset({"entity"})
_ENTITY_LIST_KEYS = frozenset({"entities"})


def load_dashboard(path: Path = DASHBOARD_FILE) -> dict[str, Any]:
    """The dashboard configuration (views, cards) from its YAML file."""
    config = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(config, dict) or not isinstance(config.get("views"), list):
        msg = f"{path}: not a dashboard (a mapping with a list of views)"
        raise TypeError(msg)
    return config


def languages() -> list[str]:
    """The languages the dashboard is translated into, besides English."""
    return sorted(path.stem for path in TRANSLATIONS_DIR.glob("*.yaml"))


def localized_file(language: str) -> Path:
    """Where the dashboard in `language` is kept (the English one for "en")."""
    if language == "en":
        return DASHBOARD_FILE
    return DASHBOARDS_DIR / f"energy_meters.{language}.yaml"


def texts(config: Any) -> list[str]:
    """Every text of the dashboard a person reads, in order of appearance."""
    found: list[str] = []
    _walk_texts(config, found.append)
    return found


def localize(config: Any, language: str) -> Any:
    """The dashboard with its texts in `language`; KeyError names a missing one.

    Lovelace has no translations of its own: a dashboard is one text per
    language. The English file is the original and a table per language
    gives the rest, so the German file cannot miss a card the English one has.
    """
    if language == "en":
        return config
    table = yaml.safe_load(
        (TRANSLATIONS_DIR / f"{language}.yaml").read_text(encoding="utf-8")
    )
    return _translated(config, table)


def _translated(node: Any, table: Mapping[str, str]) -> Any:
    if isinstance(node, Mapping):
        return {
            key: table[value]
            if key in TEXT_KEYS and isinstance(value, str)
            else _translated(value, table)
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_translated(item, table) for item in node]
    return node


def _walk_texts(node: Any, found: Callable[[str], None]) -> None:
    if isinstance(node, Mapping):
        for key, value in node.items():
            if key in TEXT_KEYS and isinstance(value, str):
                found(value)
            else:
                _walk_texts(value, found)
    elif isinstance(node, list):
        for item in node:
            _walk_texts(item, found)


def render_localized(language: str) -> str:
    """The text of the dashboard file in `language`, as it is kept in dashboards/."""
    config = localize(load_dashboard(), language)
    header = (
        f"# Energy Meters dashboard, language {language!r}: made from\n"
        f"# energy_meters.yaml and translations/{language}.yaml by\n"
        "# `python -m devtools.dashboard --write`; change those, not this file.\n"
        "# docs/dashboard.md explains the cards and how to adapt the entity ids.\n"
    )
    return header + yaml.safe_dump(config, allow_unicode=True, sort_keys=False)


def referenced_entities(config: Any) -> set[str]:
    """Every entity id a dashboard configuration names, in any card or badge."""
    return set(_entity_ids(config))


def _entity_ids(node: Any) -> Iterator[str]:
    if isinstance(node, Mapping):
        for key, value in node.items():
            if key in _ENTITY_KEYS and isinstance(value, str):
                yield value
            elif key in _ENTITY_LIST_KEYS and isinstance(value, list):
                for item in value:
                    if isinstance(item, str):
                        yield item
                    elif isinstance(item, Mapping) and isinstance(
                        item.get("entity"), str
                    ):
                        yield item["entity"]
            yield from _entity_ids(value)
    elif isinstance(node, list):
        for item in node:
            yield from _entity_ids(item)


def statistics_entities(config: Any) -> set[str]:
    """Entities shown from long-term statistics (statistic, statistics-graph cards).

    Only sensors with a state class have statistics; the test checks that.
    """
    found: set[str] = set()
    for card in _cards(config):
        if card.get("type") in {"statistic", "statistics-graph"}:
            found |= referenced_entities(card)
    return found


def shown_once_enabled(config: Any) -> set[str]:
    """Entities whose cards hide themselves while the entity is not there.

    A card with a visibility condition "not unavailable" on its own entity is
    hidden in the frontend while that entity is disabled (it has no state), so
    the dashboard may name entities that are disabled by default.
    """
    found: set[str] = set()
    for card in _cards(config):
        entity = card.get("entity")
        conditions = card.get("visibility")
        if not isinstance(entity, str) or not isinstance(conditions, list):
            continue
        if any(
            isinstance(condition, Mapping)
            and condition.get("condition") == "state"
            and condition.get("entity") == entity
            and condition.get("state_not") == "unavailable"
            for condition in conditions
        ):
            found.add(entity)
    return found


def as_shown_by_default(config: Any) -> Any:
    """The dashboard without the cards hidden while their entity is disabled.

    What a new installation shows: the cards of `shown_once_enabled` are
    not rendered until their entities are enabled.
    """
    hidden = shown_once_enabled(config)

    def strip(node: Any) -> Any:
        if isinstance(node, Mapping):
            return {key: strip(value) for key, value in node.items()}
        if isinstance(node, list):
            return [
                strip(item)
                for item in node
                if not (isinstance(item, Mapping) and item.get("entity") in hidden)
            ]
        return node

    return strip(config)


def _cards(node: Any) -> Iterator[Mapping[str, Any]]:
    if isinstance(node, Mapping):
        if isinstance(node.get("type"), str):
            yield node
        for value in node.values():
            yield from _cards(value)
    elif isinstance(node, list):
        for item in node:
            yield from _cards(item)


def dashboard_for(language: str) -> dict[str, Any]:
    """The dashboard in Home Assistant's language, English when it has none."""
    config: dict[str, Any] = localize(
        load_dashboard(), language if language in languages() else "en"
    )
    return config


def install_dashboard(
    api: HomeAssistantApi,
    config: Mapping[str, Any] | None = None,
    *,
    url_path: str = DASHBOARD_URL_PATH,
    title: str | None = None,
) -> bool:
    """Create the dashboard in the sidebar and save its configuration.

    Without a configuration, the dashboard in Home Assistant's language is
    installed; the sidebar entry takes its title. Returns False, and changes
    nothing, when a dashboard with this path exists: it may have been edited
    in the UI since.
    """
    if config is None:
        config = dashboard_for(str(api.get("/api/config").get("language", "en")))
    if title is None:
        title = str(config.get("title", DASHBOARD_TITLE))
    with HomeAssistantWebSocket(api.base_url, api.token or "") as ws:
        existing = ws.call("lovelace/dashboards/list")
        if any(item.get("url_path") == url_path for item in existing):
            return False
        ws.call(
            "lovelace/dashboards/create",
            url_path=url_path,
            title=title,
            icon=DASHBOARD_ICON,
            mode="storage",
            show_in_sidebar=True,
            require_admin=False,
        )
        ws.call("lovelace/config/save", url_path=url_path, config=dict(config))
    return True


def main() -> None:
    """Write (or, with --check, compare) the translated dashboard files."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="write the files")
    args = parser.parse_args()
    stale = []
    for language in languages():
        path = localized_file(language)
        text = render_localized(language)
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if current != text:
            stale.append(path)
            if args.write:
                path.write_text(text, encoding="utf-8")
    for path in stale:
        print(f"{'wrote' if args.write else 'out of date'}: {path}")
    if stale and not args.write:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
