"""Print the Python packages Home Assistant would install at its first start.

Home Assistant installs an integration's requirements (the frontend, the voice pipeline's
libraries, ...) when it first sets the integration up, with pip or uv, one integration at a
time: slow, and noisy when there is no network. `scripts/setup` installs them ahead instead,
with this list. It is read from the installed Home Assistant's own manifests, so it is right
for whichever version a virtual env holds.

Run it with the Python of the virtual env that holds Home Assistant, from the repository root:

    .venv/bin/python -m devtools.ha_requirements            # requirement lines
    .venv/bin/python -m devtools.ha_requirements --constraints   # path of HA's pins
"""

import argparse
from collections.abc import Iterable
import json
from pathlib import Path

import homeassistant
from homeassistant import bootstrap

from devtools.ha_bootstrap import DEMO_CONFIG_DOMAINS, INTEGRATION_DIR

COMPONENTS_DIR = Path(homeassistant.__file__).parent / "components"
CONSTRAINTS_FILE = Path(homeassistant.__file__).parent / "package_constraints.txt"


def _manifest(domain: str) -> dict[str, object] | None:
    path = COMPONENTS_DIR / domain / "manifest.json"
    if not path.is_file():
        return None
    manifest: dict[str, object] = json.loads(path.read_text())
    return manifest


def _strings(value: object) -> list[str]:
    return (
        [item for item in value if isinstance(item, str)]
        if isinstance(value, list)
        else []
    )


def domains_to_set_up(configured: Iterable[str]) -> set[str]:
    """The configured domains, the ones Home Assistant always sets up, and the integration's."""
    domains = (
        set(configured) | bootstrap.CORE_INTEGRATIONS | bootstrap.DEFAULT_INTEGRATIONS
    )
    integration = INTEGRATION_DIR / "manifest.json"
    if integration.is_file():
        manifest = json.loads(integration.read_text())
        # Home Assistant also installs the requirements of an integration's
        # after_dependencies (MQTT's client library, for the MQTT meter) before
        # it sets the integration up, whether they are configured or not.
        domains |= set(_strings(manifest.get("dependencies")))
        domains |= set(_strings(manifest.get("after_dependencies")))
    return domains


def requirements(configured: Iterable[str]) -> list[str]:
    """Requirements of the domains and of all their dependencies, recursively.

    Home Assistant resolves `dependencies` the same way before it sets anything up;
    the `after_dependencies` of Home Assistant's own integrations only order the
    setup, but a custom integration's get their requirements installed too.
    """
    pending = sorted(domains_to_set_up(configured))
    seen: set[str] = set()
    found: set[str] = set()
    while pending:
        domain = pending.pop()
        if domain in seen:
            continue
        seen.add(domain)
        if (manifest := _manifest(domain)) is None:
            continue
        pending += _strings(manifest.get("dependencies"))
        found |= set(_strings(manifest.get("requirements")))
    integration = INTEGRATION_DIR / "manifest.json"
    if integration.is_file():
        found |= set(_strings(json.loads(integration.read_text()).get("requirements")))
    return sorted(found, key=str.lower)


def main() -> None:
    """Print the requirement lines, or the path of Home Assistant's package constraints."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--constraints",
        action="store_true",
        help="print the path of Home Assistant's package_constraints.txt instead",
    )
    parser.add_argument(
        "domains",
        nargs="*",
        default=list(DEMO_CONFIG_DOMAINS),
        help="domains named in configuration.yaml (default: the demo's)",
    )
    args = parser.parse_args()
    if args.constraints:
        print(CONSTRAINTS_FILE)
        return
    for line in requirements(args.domains):
        print(line)


if __name__ == "__main__":
    main()
