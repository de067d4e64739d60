"""The Lovelace dashboard in dashboards/energy_meters.yaml: read it, check it, install it.

The same file is what the documentation offers to users, what the demo installs and
what the test loads into Home Assistant, so the three cannot drift apart. The demo
installs it as a storage-mode dashboard over the WebSocket API (what "Add dashboard"
plus the raw configuration editor do), which leaves it editable in the UI.

Reads YAML with PyYAML, which every Home Assistant environment has.
"""

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml

from devtools.ha_bootstrap import REPO_ROOT, HomeAssistantApi
from devtools.ha_websocket import HomeAssistantWebSocket

DASHBOARD_FILE = REPO_ROOT / "dashboards" / "energy_meters.yaml"
DASHBOARD_URL_PATH = "energy-meters"
DASHBOARD_TITLE = "Energy meters"
DASHBOARD_ICON = "mdi:lightning-bolt-circle"

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


def _cards(node: Any) -> Iterator[Mapping[str, Any]]:
    if isinstance(node, Mapping):
        if isinstance(node.get("type"), str):
            yield node
        for value in node.values():
            yield from _cards(value)
    elif isinstance(node, list):
        for item in node:
            yield from _cards(item)


def install_dashboard(
    api: HomeAssistantApi,
    config: Mapping[str, Any],
    *,
    url_path: str = DASHBOARD_URL_PATH,
    title: str = DASHBOARD_TITLE,
) -> bool:
    """Create the dashboard in the sidebar and save its configuration.

    Returns False, and changes nothing, when a dashboard with this path exists:
    it may have been edited in the UI since.
    """
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
