"""The integration's layout: one package per kind of entry, none importing another.

A kind's package (gateway, companions, single meters, site) may import the
shared modules and the device library, never another kind's package: what
the Site needs of the meters is handed to it (`meter_power`). The shared
modules import no kind's package either, except the few whose job is to join
the kinds: the table (`kinds.py`), `__init__`, the config flow, diagnostics and
the platform modules, which Home Assistant requires at the package top.
"""

import ast
from pathlib import Path

from homeassistant.const import Platform

PACKAGE = Path(__file__).parent.parent / "custom_components" / "energy_meters"
PACKAGE_NAME = "custom_components.energy_meters"
KIND_PACKAGES = frozenset({"gateway", "companions", "single_meters", "site"})
# Not a kind either, but kept apart like one: the history import works on any
# kind's sensors through the entity registry and imports no kind's package,
# and no kind imports it (only the joiners: the action in `__init__`, the
# flow in `config_flow`).
FEATURE_PACKAGES = frozenset({"history"})
APART = KIND_PACKAGES | FEATURE_PACKAGES
# Not a kind: the device library, free of Home Assistant (test_meterlib_is_pure).
LIBRARY = "meterlib"
JOINERS = frozenset(
    {"__init__", "kinds", "config_flow", "diagnostics"}
    | {platform.value for platform in Platform}
)


def imported_packages(source: str, module: str) -> set[str]:
    """The integration's top-level modules or packages that `module` imports.

    `module` is the dotted path inside the integration ("gateway.flow",
    "const", "site"): relative imports are resolved against it, absolute ones
    are taken when they name the integration.
    """
    parts = module.split(".")
    package = parts[:-1]  # the package the module is in, as Python resolves
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names = [node.module or ""]
            names += [f"{node.module}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            up = node.level - 1
            if up > len(package):
                found.add("<outside>")
                continue
            base = package[: len(package) - up] if up else package
            target = [*base, *(node.module or "").split(".")] if node.module else base
            if target:
                found.add(target[0])
            else:  # `from . import x` at the top: x itself is the module
                found |= {alias.name.split(".")[0] for alias in node.names}
            continue
        else:
            continue
        for name in names:
            if name.startswith(PACKAGE_NAME + "."):
                found.add(name.removeprefix(PACKAGE_NAME + ".").split(".")[0])
    return found


def breaches(modules: dict[str, str]) -> list[str]:
    """Every import that crosses from one kind to another, or into a kind from shared.

    `modules` maps a module's dotted path inside the integration to its source.
    """
    found: list[str] = []
    for module, source in sorted(modules.items()):
        top = module.split(".")[0]
        if top == LIBRARY:
            continue
        imported = imported_packages(source, module) & (APART | {"<outside>"})
        if top in APART and "." in module:
            found += [f"{module} imports {other}" for other in imported - {top}]
        elif top not in JOINERS:
            found += [f"{module} imports {other}" for other in imported]
    return found


def integration_sources() -> dict[str, str]:
    """The integration's modules by dotted path inside it, with their source."""
    return {
        ".".join(path.relative_to(PACKAGE).with_suffix("").parts): path.read_text(
            encoding="utf-8"
        )
        for path in sorted(PACKAGE.rglob("*.py"))
    }


def test_each_kind_has_its_package() -> None:
    """The four packages exist, and no module of a kind is left at the top."""
    for name in KIND_PACKAGES:
        assert (PACKAGE / name / "__init__.py").is_file(), name
    top = {path.stem for path in PACKAGE.glob("*.py")}
    left = {
        stem
        for stem in top
        if stem.startswith(("standalone", "companion", "site", "mqtt", "http"))
    }
    assert left == set()


def test_no_kind_imports_another() -> None:
    """Kinds import only shared modules and the library; shared modules no kind."""
    sources = integration_sources()
    assert "gateway.coordinator" in sources
    assert "kinds" in sources
    assert breaches(sources) == []


def test_the_layout_check_finds_a_breach() -> None:
    """Relative and absolute imports across kinds, and from a shared module, are found."""
    planted = {
        "site.tracker": "from ..gateway.coordinator import GatewayCoordinator\n",
        "site.sensor": "from ...energy_meters.gateway import flow\n",
        "companions.flow": (
            "import custom_components.energy_meters.single_meters.meter\n"
        ),
        "single_meters.guard": (
            "def f():\n    from custom_components.energy_meters.site import tracker\n"
        ),
        "gateway.setup": "from .. import companions\n",
        "gateway.flow": "from ..history.run import async_import\n",
        "history.targets": "from ..gateway.entity import MeterEntity\n",
        "roles": "from .site.tracker import SiteTracker\n",
        "signals": "from . import gateway\n",
        # Allowed: the table, a platform, a kind's own package, shared and library.
        "kinds": "from .gateway.coordinator import GatewayCoordinator\n",
        "sensor": "from .site.sensor import async_setup_site_sensors\n",
        "gateway.sensor": "from .coordinator import X\nfrom ..const import DOMAIN\n",
        "site.flow": "from ..meterlib.model import Quantity\nfrom . import tracker\n",
        "config_flow": "from .history.flow import HistorySubentryFlow\n",
    }
    assert breaches(planted) == [
        "companions.flow imports single_meters",
        "gateway.flow imports history",
        "gateway.setup imports companions",
        "history.targets imports gateway",
        "roles imports site",
        "signals imports gateway",
        "single_meters.guard imports site",
        "site.sensor imports <outside>",
        "site.tracker imports gateway",
    ]


def test_every_kind_forwards_to_the_platforms_it_has_entities_on() -> None:
    """The table's platforms are exactly the platform modules at the top."""
    from custom_components.energy_meters.kinds import KINDS  # noqa: PLC0415

    used = {platform for kind in KINDS.values() for platform in kind.platforms}
    modules = {
        Platform(path.stem)
        for path in PACKAGE.glob("*.py")
        if path.stem in {platform.value for platform in Platform}
    }
    assert used == modules
