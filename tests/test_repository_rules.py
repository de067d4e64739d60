"""The HACS and hassfest rules that can be checked offline, as tests CI runs.

hassfest (Home Assistant's validator) and the HACS action run against GitHub; neither
runs here. These tests check the same rules on the files themselves, and some that
neither tool can check for a custom integration, because they need to know what the
code uses (see code_inventory.py):

- manifest.json: the keys and values a custom integration needs, sorted as hassfest
  wants, requirements that Home Assistant's own pins admit;
- hacs.json: only the keys HACS knows, a minimum Home Assistant version this one meets;
- the brand icon: a 256 x 256 PNG (and 512 x 512 for @2x);
- translations: every entity, config-flow step, error, abort, selector, exception and
  repair issue the code uses is in en.json; de.json has exactly en.json's keys and
  placeholders; services.yaml and the translations' "services" agree;
- icons.json: an icon for every entity translation key (and every state of an enum)
  and every action;
- quality_scale.yaml: every rule of the integration quality scale, each done, exempt
  or todo, the last two with a reason.

Adding an entity without a translation or an icon makes these tests fail.
"""

from collections.abc import Iterator, Mapping
import importlib.util
import json
from pathlib import Path
import re
import struct
from types import ModuleType
from typing import Any

from awesomeversion import AwesomeVersion, AwesomeVersionStrategy
from homeassistant import const as ha_const
import homeassistant.components
from packaging.requirements import Requirement
from packaging.version import Version
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
import yaml

from custom_components.energy_meters.config_flow import EnergyMetersConfigFlow

from .code_inventory import (
    PACKAGE_DIR,
    entity_keys,
    flow_classes,
    flow_facts,
    read_source,
)

REPO_ROOT = PACKAGE_DIR.parent.parent
HA_COMPONENTS = Path(homeassistant.components.__file__).parent
SLUG = re.compile(r"^[a-z0-9_-]+$")
PLACEHOLDER = re.compile(r"(?<!\{)\{([a-z0-9_]+)\}(?!\})")


def _json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


MANIFEST: dict[str, Any] = _json(PACKAGE_DIR / "manifest.json")
EN: dict[str, Any] = _json(PACKAGE_DIR / "translations" / "en.json")


@pytest.fixture(scope="module")
def source() -> Any:
    """The facts read from the integration's source, once per module."""
    return read_source()


def _get(tree: Mapping[str, Any], *path: str) -> Any:
    """tree[path[0]][path[1]]...; None where a level is missing."""
    node: Any = tree
    for part in path:
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return node


def _leaves(tree: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    for key, value in tree.items():
        path = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, Mapping):
            yield from _leaves(value, path)
        else:
            yield path, value


# --- manifest.json ---------------------------------------------------------------------

CUSTOM_MANIFEST_KEYS = {
    "domain",
    "name",
    "after_dependencies",
    "bluetooth",
    "codeowners",
    "config_flow",
    "dependencies",
    "dhcp",
    "disabled",
    "documentation",
    "homekit",
    "import_executor",
    "integration_type",
    "iot_class",
    "issue_tracker",
    "loggers",
    "mqtt",
    "quality_scale",
    "requirements",
    "single_config_entry",
    "ssdp",
    "usb",
    "version",
    "zeroconf",
}
IOT_CLASSES = {
    "assumed_state",
    "calculated",
    "cloud_polling",
    "cloud_push",
    "local_polling",
    "local_push",
}
INTEGRATION_TYPES = {
    "device",
    "entity",
    "hardware",
    "helper",
    "hub",
    "service",
    "system",
}


def test_manifest_has_what_a_custom_integration_needs() -> None:
    """The keys HACS and Home Assistant require, and none hassfest does not know."""
    required = {
        "domain",
        "name",
        "version",
        "documentation",
        "issue_tracker",
        "codeowners",
        "config_flow",
        "iot_class",
        "integration_type",
        "requirements",
        "loggers",
    }
    assert required <= MANIFEST.keys(), required - MANIFEST.keys()
    assert MANIFEST.keys() <= CUSTOM_MANIFEST_KEYS, (
        MANIFEST.keys() - CUSTOM_MANIFEST_KEYS
    )


def test_manifest_values_are_valid() -> None:
    """Domain matches its folder and no core integration; valid class, type, version."""
    assert MANIFEST["domain"] == PACKAGE_DIR.name
    assert not (HA_COMPONENTS / MANIFEST["domain"]).exists(), "collides with core"
    assert isinstance(MANIFEST["name"], str)
    assert MANIFEST["name"]
    assert MANIFEST["config_flow"] is True
    assert MANIFEST["iot_class"] in IOT_CLASSES
    assert MANIFEST["integration_type"] in INTEGRATION_TYPES
    version = AwesomeVersion(MANIFEST["version"])
    assert version.strategy in {
        AwesomeVersionStrategy.CALVER,
        AwesomeVersionStrategy.SEMVER,
        AwesomeVersionStrategy.SIMPLEVER,
        AwesomeVersionStrategy.BUILDVER,
        AwesomeVersionStrategy.PEP440,
    }, MANIFEST["version"]
    for key in ("documentation", "issue_tracker"):
        assert re.match(r"^https://[^/\s]+/\S*$", MANIFEST[key]), MANIFEST[key]
    assert MANIFEST["codeowners"]
    assert all(re.match(r"^@[\w.-]+(/[\w.-]+)?$", o) for o in MANIFEST["codeowners"])
    for key in ("dependencies", "after_dependencies"):
        for domain in MANIFEST.get(key, []):
            assert (HA_COMPONENTS / domain / "manifest.json").exists(), domain


def test_manifest_keys_are_sorted_as_hassfest_wants() -> None:
    """Domain, name, then the rest in alphabetical order."""
    keys = list(MANIFEST)
    assert keys[:2] == ["domain", "name"]
    assert keys[2:] == sorted(keys[2:])


def _home_assistant_pins() -> dict[str, Version]:
    """Packages Home Assistant pins exactly (package_constraints.txt)."""
    pins: dict[str, Version] = {}
    text = (HA_COMPONENTS.parent / "package_constraints.txt").read_text()
    for raw in text.splitlines():
        line = raw.split("#")[0].strip()
        if "==" in line and ";" not in line:
            name, _, version = line.partition("==")
            pins[name.strip().lower()] = Version(version.strip())
    return pins


def test_requirements_admit_what_home_assistant_pins() -> None:
    """PEP 508 strings; pymodbus 3.13.1 and every other pinned version admitted.

    Home Assistant installs a custom integration's requirements with its own
    constraints: a range that excludes a pinned version does not install.
    """
    requirements = [Requirement(text) for text in MANIFEST["requirements"]]
    by_name = {requirement.name.lower(): requirement for requirement in requirements}
    assert "pymodbus" in by_name
    assert by_name["pymodbus"].specifier.contains("3.13.1")
    pins = _home_assistant_pins()
    for name, requirement in by_name.items():
        if name in pins:
            assert requirement.specifier.contains(pins[name]), (name, pins[name])


def test_loggers_name_the_libraries() -> None:
    """The loggers list names the Modbus library, whose logs a user may need."""
    assert isinstance(MANIFEST["loggers"], list)
    assert all(isinstance(name, str) and name for name in MANIFEST["loggers"])
    assert "pymodbus" in MANIFEST["loggers"]


# --- hacs.json and the brand ----------------------------------------------------------

HACS_KEYS = {
    "name",
    "content_in_root",
    "zip_release",
    "filename",
    "hide_default_branch",
    "country",
    "homeassistant",
    "hacs",
    "persistent_directory",
    "render_readme",
}


def test_hacs_json() -> None:
    """Known keys only, a name, and a minimum Home Assistant this one satisfies."""
    hacs = _json(REPO_ROOT / "hacs.json")
    assert hacs.keys() <= HACS_KEYS, hacs.keys() - HACS_KEYS
    assert isinstance(hacs["name"], str)
    assert hacs["name"]
    assert isinstance(hacs.get("render_readme", False), bool)
    assert not hacs.get("content_in_root", False), (
        "the integration is in custom_components/"
    )
    minimum = AwesomeVersion(hacs["homeassistant"])
    assert minimum.strategy is AwesomeVersionStrategy.CALVER, hacs["homeassistant"]
    assert AwesomeVersion(ha_const.__version__) >= minimum
    integrations = [
        p
        for p in (REPO_ROOT / "custom_components").iterdir()
        if p.is_dir() and p.name != "__pycache__"
    ]
    assert integrations == [PACKAGE_DIR], "HACS expects one integration per repository"


def _png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n", f"{path.name} is not a PNG"
    width, height = struct.unpack(">II", header[16:24])
    return width, height


def test_brand_icon() -> None:
    """brand/icon.png is 256 x 256; icon@2x.png, if there, 512 x 512."""
    brand = PACKAGE_DIR / "brand"
    assert _png_size(brand / "icon.png") == (256, 256)
    if (brand / "icon@2x.png").exists():
        assert _png_size(brand / "icon@2x.png") == (512, 512)


# --- translations ---------------------------------------------------------------------


def test_translation_keys_are_slugs() -> None:
    """Keys are lower-case slugs, as hassfest wants (selector option values aside)."""
    for path, _value in _leaves(EN):
        parts = path.split(".")
        for index, part in enumerate(parts):
            if index >= 2 and parts[index - 1] == "options" and parts[0] == "selector":
                continue  # option values are the data, e.g. parity "N"
            assert SLUG.match(part), path


def test_every_entity_translation_key_is_translated() -> None:
    """Each entity description's translation_key has a name (and its states)."""
    missing: list[str] = []
    for item in entity_keys():
        entry = _get(EN, "entity", item.platform, item.key)
        if entry is None:
            missing.append(f"entity.{item.platform}.{item.key} ({item.where})")
            continue
        if item.has_name and not isinstance(entry.get("name"), str):
            missing.append(f"entity.{item.platform}.{item.key}.name")
        missing += [
            f"entity.{item.platform}.{item.key}.state.{state}"
            for state in item.states
            if _get(entry, "state", state) is None
        ]
    assert not missing, missing


def test_the_entity_check_finds_a_new_entity() -> None:
    """A description or entity class added anywhere is found, with its platform."""
    from homeassistant.components.binary_sensor import (  # noqa: PLC0415
        BinarySensorEntity,
    )
    from homeassistant.components.sensor import (  # noqa: PLC0415
        SensorDeviceClass,
        SensorEntityDescription,
    )

    class NewEntity(BinarySensorEntity):
        _attr_translation_key = "brand_new_problem"

    module = ModuleType("custom_components.energy_meters.brand_new")
    module.NEW = (  # type: ignore[attr-defined]
        SensorEntityDescription(
            key="x",
            translation_key="brand_new_level",
            device_class=SensorDeviceClass.ENUM,
            options=["a", "b"],
        ),
    )
    NewEntity.__module__ = module.__name__
    module.NewEntity = NewEntity  # type: ignore[attr-defined]
    found = {(k.platform, k.key): k for k in entity_keys([module])}
    assert found.keys() == {
        ("sensor", "brand_new_level"),
        ("binary_sensor", "brand_new_problem"),
    }
    assert found["sensor", "brand_new_level"].states == ("a", "b")
    assert _get(EN, "entity", "sensor", "brand_new_level") is None


def test_no_entity_translation_is_left_over(source: Any) -> None:
    """Translations of entities that no longer exist are dead text to maintain."""
    used = {(item.platform, item.key) for item in entity_keys()}
    stale = [
        f"{platform}.{key}"
        for platform, keys in EN.get("entity", {}).items()
        for key in keys
        if (platform, key) not in used and key not in source.entity_literals
    ]
    assert not stale, stale


_FLOW_SECTIONS = {
    "ConfigFlow": "config",
    "OptionsFlow": "options",
    "OptionsFlowWithReload": "options",
}


def _flow_sections(source: Any) -> Iterator[tuple[str, str]]:
    """(flow class, translation section) for every flow handler of the integration."""
    for base, section in _FLOW_SECTIONS.items():
        for name in flow_classes(source, base):
            if name == "EnergyMetersConfigFlow" or section != "config":
                yield name, section
    gateway = MockConfigEntry(domain=PACKAGE_DIR.name, data={})
    subentry_flows = EnergyMetersConfigFlow.async_get_supported_subentry_types(gateway)
    for subentry_type, flow in subentry_flows.items():
        yield flow.__name__, f"config_subentries.{subentry_type}"


def test_config_flow_steps_errors_and_aborts_are_translated(source: Any) -> None:
    """Every step, menu option, error and abort reason a flow can show."""
    missing: list[str] = []
    seen_sections: set[str] = set()
    for class_name, section in _flow_sections(source):
        seen_sections.add(section)
        node = _get(EN, *section.split("."))
        assert node is not None, f"no {section} in en.json ({class_name})"
        facts = flow_facts(source, class_name)
        missing += [
            f"{section}.step.{step} ({class_name})"
            for step in facts.steps
            if _get(node, "step", step) is None
        ]
        missing += [
            f"{section}.step.{step}.menu_options.{option}"
            for step, options in facts.menus.items()
            for option in options
            if _get(node, "step", step, "menu_options", option) is None
        ]
        missing += [
            f"{section}.error.{error} ({class_name})"
            for error in facts.errors
            if _get(node, "error", error) is None
        ]
        missing += [
            f"{section}.abort.{reason} ({class_name})"
            for reason in facts.aborts
            if _get(node, "abort", reason) is None
        ]
    assert {"config", "options", "config_subentries.meter"} <= seen_sections
    assert not missing, sorted(missing)


def test_the_flow_check_sees_what_the_flows_use(source: Any) -> None:
    """The source reading finds known keys (so the check above can fail)."""
    config = flow_facts(source, "EnergyMetersConfigFlow")
    assert {"user", "gateway", "meter", "heat_pump", "thermostat"} <= config.steps
    assert {
        "cannot_connect",
        "no_response",
        "implausible",
        "invalid_url",
    } <= config.errors
    assert {"wrong_service", "service_unreachable"} <= config.errors  # via a helper
    assert "already_configured" in config.aborts
    assert {"gateway", "heat_pump", "thermostat"} <= config.menus["user"]
    meter = flow_facts(source, "MeterSubentryFlow")
    assert {"user", "reconfigure"} <= meter.steps
    assert "invalid_url" not in meter.errors


def test_selectors_are_translated(source: Any) -> None:
    """Select selectors with a translation_key: every option has a label."""
    missing: list[str] = []
    for key, options in source.selectors.items():
        node = _get(EN, "selector", key, "options")
        if node is None:
            missing.append(f"selector.{key}")
            continue
        missing += [
            f"selector.{key}.options.{o}" for o in options or () if o not in node
        ]
    assert source.selectors, "no selector found: the source reading is broken"
    assert not missing, missing


def test_exceptions_and_issues_are_translated(source: Any) -> None:
    """Exceptions raised with a translation_key, and repair issues, have their text."""
    assert {"gateway_silent", "gateway_not_found"} <= source.exceptions
    missing = [
        f"exceptions.{key}.message"
        for key in sorted(source.exceptions)
        if not isinstance(_get(EN, "exceptions", key, "message"), str)
    ]
    assert source.issues, "no repair issue found: the source reading is broken"
    for key in sorted(source.issues):
        issue = _get(EN, "issues", key)
        if issue is None or "title" not in issue:
            missing.append(f"issues.{key}.title")
        elif "description" not in issue and "fix_flow" not in issue:
            missing.append(f"issues.{key}.description")
    assert not missing, missing


def _services() -> dict[str, Any]:
    services: dict[str, Any] = yaml.safe_load(
        (PACKAGE_DIR / "services.yaml").read_text(encoding="utf-8")
    )
    return services or {}


def test_services_yaml_and_translations_agree() -> None:
    """Each action and field has a name and description; selectors have labels."""
    services = _services()
    translated = EN.get("services", {})
    assert set(services) == set(translated), set(services) ^ set(translated)
    missing: list[str] = []
    for service, spec in services.items():
        text = translated[service]
        missing += [
            f"services.{service}.{k}" for k in ("name", "description") if k not in text
        ]
        fields = (spec or {}).get("fields", {})
        assert set(fields) == set(text.get("fields", {})), service
        for name, field in fields.items():
            missing += [
                f"services.{service}.fields.{name}.{k}"
                for k in ("name", "description")
                if k not in text["fields"][name]
            ]
            select = _get(field, "selector", "select") or {}
            if key := select.get("translation_key"):
                for option in select.get("options", []):
                    value = option["value"] if isinstance(option, Mapping) else option
                    if _get(EN, "selector", key, "options", str(value)) is None:
                        missing.append(f"selector.{key}.options.{value}")
    assert not missing, missing


def test_german_has_exactly_the_english_keys_and_placeholders() -> None:
    """de.json: the same keys as en.json, each text with the same {placeholders}."""
    german = dict(_leaves(_json(PACKAGE_DIR / "translations" / "de.json")))
    english = dict(_leaves(EN))
    assert set(german) == set(english), {
        "missing in de": sorted(set(english) - set(german)),
        "only in de": sorted(set(german) - set(english)),
    }
    wrong = [
        path
        for path, text in english.items()
        if set(PLACEHOLDER.findall(str(text)))
        != set(PLACEHOLDER.findall(str(german[path])))
    ]
    assert not wrong, wrong
    untranslated = [
        path
        for path, text in english.items()
        if len(str(text)) > 20 and text == german[path]
    ]
    assert not untranslated, untranslated


# --- icons.json -------------------------------------------------------------------------


def _icons() -> dict[str, Any]:
    icons: dict[str, Any] = _json(PACKAGE_DIR / "icons.json")
    return icons


def test_icons_json_shape() -> None:
    """Only "entity" and "services"; every icon an mdi: name."""
    icons = _icons()
    assert icons.keys() <= {"entity", "services"}
    for path, value in _leaves(icons):
        assert isinstance(value, str), path
        assert re.match(r"^mdi:[a-z0-9-]+$", value), f"{path}: {value}"
        assert (
            path.split(".")[-1] in {"default", "service"} or ".state." in f".{path}"
        ), path


def test_every_entity_translation_key_has_an_icon() -> None:
    """A default icon for each key, and one for each state of an enum or select."""
    icons = _icons()
    missing: list[str] = []
    for item in entity_keys():
        entry = _get(icons, "entity", item.platform, item.key)
        if item.platform == "climate":
            continue  # the climate entity keeps its component's icons; presets checked at run time
        if entry is None or "default" not in entry:
            missing.append(f"entity.{item.platform}.{item.key}.default")
            continue
        missing += [
            f"entity.{item.platform}.{item.key}.state.{state}"
            for state in item.states
            if _get(entry, "state", state) is None
        ]
    assert not missing, missing


def test_icons_exist_in_the_frontend() -> None:
    """Each mdi: name is one the installed frontend knows (a typo shows no icon)."""
    spec = importlib.util.find_spec("hass_frontend")
    if spec is None or spec.origin is None:
        pytest.skip("the frontend package is not installed (scripts/setup installs it)")
    icon_list = Path(spec.origin).parent / "static" / "mdi" / "iconList.json"
    known = {icon["name"] for icon in _json(icon_list)}
    unknown = sorted(
        f"{path}: {value}"
        for path, value in _leaves(_icons())
        if value.removeprefix("mdi:") not in known
    )
    assert not unknown, unknown


def test_every_action_has_an_icon() -> None:
    """services.yaml's actions each have an icon."""
    icons = _icons().get("services", {})
    missing = [s for s in _services() if "service" not in icons.get(s, {})]
    assert not missing, missing


# --- quality_scale.yaml -----------------------------------------------------------------


def _all_quality_rules() -> set[str]:
    """Every rule of the quality scale, as Home Assistant's own Platinum integrations list."""
    rules: set[str] = set()
    for domain in ("peblar", "solaredge_modbus", "homewizard"):
        path = HA_COMPONENTS / domain / "quality_scale.yaml"
        if path.exists():
            rules |= set(yaml.safe_load(path.read_text())["rules"])
    return rules


def test_quality_scale_lists_every_rule_with_a_status() -> None:
    """Done, or exempt/todo with a comment saying why."""
    ours = yaml.safe_load((PACKAGE_DIR / "quality_scale.yaml").read_text())["rules"]
    every = _all_quality_rules()
    assert len(every) >= 50, "the rule list could not be read from Home Assistant"
    assert set(ours) == every, {
        "missing": every - set(ours),
        "unknown": set(ours) - every,
    }
    for rule, value in ours.items():
        if value == "done":
            continue
        assert isinstance(value, dict), rule
        assert value.get("status") in {"exempt", "todo", "done"}, rule
        if value["status"] != "done":
            assert str(value.get("comment", "")).strip(), f"{rule} needs a reason"


# --- documentation ----------------------------------------------------------------------

_LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def _anchors(markdown: str) -> set[str]:
    """The anchors GitHub gives a file's headings."""
    anchors: set[str] = set()
    in_code = False
    for line in markdown.splitlines():
        if line.startswith("```"):
            in_code = not in_code
        if in_code or not line.startswith("#"):
            continue
        title = line.lstrip("#").strip().lower()
        anchors.add(re.sub(r"[^\w\- ]", "", title).replace(" ", "-"))
    return anchors


def test_documentation_links_resolve() -> None:
    """Relative links in README.md and docs/ point at files and headings that exist."""
    pages = [REPO_ROOT / "README.md", *sorted((REPO_ROOT / "docs").glob("*.md"))]
    broken: list[str] = []
    for page in pages:
        for target in _LINK.findall(page.read_text(encoding="utf-8")):
            if re.match(r"^[a-z]+:", target):
                continue  # http(s), mailto
            path_part, _, anchor = target.partition("#")
            path = (page.parent / path_part).resolve() if path_part else page
            if not path.exists():
                broken.append(f"{page.name}: {target}")
            elif (
                anchor
                and path.suffix == ".md"
                and anchor not in _anchors(path.read_text(encoding="utf-8"))
            ):
                broken.append(f"{page.name}: {target} (no such heading)")
    assert not broken, broken
