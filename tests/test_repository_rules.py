"""The HACS and hassfest rules that can be checked offline, as tests CI runs.

hassfest (Home Assistant's validator) and the HACS action run against GitHub; neither
runs here. These tests check the same rules on the files themselves, and some that
neither tool can check for a custom integration, because they need to know what the
code uses (see code_inventory.py):

- manifest.json: the keys and values a custom integration needs, sorted as hassfest
  wants, requirements that Home Assistant's own pins admit;
- hacs.json: only the keys HACS knows, a minimum Home Assistant version this one meets;
- the brand icon: a 256 x 256 PNG (and 512 x 512 for @2x);
- translations: en.json (and de.json) pass the schema hassfest validates en.json with
  (translation keys, selector options included, no HTML, placeholders, no URL...);
  every entity, config-flow step, error, abort, selector, exception and repair issue
  the code uses is in en.json; de.json has exactly en.json's keys and placeholders;
  services.yaml and the translations' "services" agree;
- icons.json: an icon for every entity translation key (and every state of an enum)
  and every action;
- quality_scale.yaml: every rule of the integration quality scale, each done, exempt
  or todo, the last two with a reason; hassfest's runtime-data rule (entry.runtime_data
  set, and the typed ConfigEntry alias in every entry function and the options flow),
  which hassfest itself checks for core integrations only.

Adding an entity without a translation or an icon makes these tests fail.
"""

import ast
from collections.abc import Callable, Iterator, Mapping
import copy
import importlib.util
import json
from pathlib import Path
import re
import string
import struct
from types import ModuleType
from typing import Any

from awesomeversion import AwesomeVersion, AwesomeVersionStrategy
from homeassistant import const as ha_const
import homeassistant.components
from homeassistant.const import Platform
from homeassistant.helpers import config_validation as cv
from packaging.requirements import Requirement
from packaging.version import Version
import probatio as vol
from probatio.humanize import humanize_error
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


def _modbus_pins() -> dict[str, Version]:
    """What Home Assistant's `modbus` integration pins: the shared link's libraries."""
    manifest = _json(HA_COMPONENTS / "modbus" / "manifest.json")
    pins: dict[str, Version] = {}
    for text in manifest["requirements"]:
        requirement = Requirement(text)
        (pin,) = requirement.specifier
        pins[requirement.name.lower()] = Version(pin.version)
    return pins


def test_requirements_admit_what_home_assistant_pins() -> None:
    """PEP 508 strings admitting every version Home Assistant pins.

    Home Assistant installs a custom integration's requirements with its own
    constraints: a range that excludes a pinned version does not install. The
    Modbus link is the core `modbus` integration's (a dependency), so its
    library must be admitted at the version that integration pins, and
    pymodbus (only the simulator's server) is not asked for at all.
    """
    requirements = [Requirement(text) for text in MANIFEST["requirements"]]
    by_name = {requirement.name.lower(): requirement for requirement in requirements}
    assert "modbus" in MANIFEST["dependencies"]
    assert "pymodbus" not in by_name
    pins = {**_home_assistant_pins(), **_modbus_pins()}
    assert "modbus-connection" in by_name
    assert "tmodbus" in by_name["modbus-connection"].extras
    for name, requirement in by_name.items():
        if name in pins:
            assert requirement.specifier.contains(pins[name]), (name, pins[name])


def test_loggers_name_the_libraries() -> None:
    """The loggers list names the Modbus link's libraries, whose logs a user may need."""
    assert isinstance(MANIFEST["loggers"], list)
    assert all(isinstance(name, str) and name for name in MANIFEST["loggers"])
    assert {"modbus_connection", "tmodbus"} <= set(MANIFEST["loggers"])


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
    """Every key is a lower-case slug, selector option values included.

    hassfest checks the keys it names (selector options, entity keys and states,
    services...; see `_hassfest_strings_schema`); step, field, error and abort keys
    are names the code uses, and held to the same rule here.
    """
    for language in ("en", "de"):
        strings = _json(PACKAGE_DIR / "translations" / f"{language}.json")
        for path, _value in _leaves(strings):
            for part in path.split("."):
                assert SLUG.match(part), f"{language}.json: {path}"


# hassfest validates translations/en.json of a custom integration with the schema of
# script/hassfest/translations.py (home-assistant/core, commit 00a70521db04); what
# follows is that schema, with the same validators of Home Assistant's
# config_validation. hassfest reads only en.json; de.json is held to it as well.
_TRANSLATION_KEY = re.compile(r"^(?!.+[_-]{2})(?![_-])[a-z0-9-_]+(?<![_-])$")
_COMBINED_REFERENCE = re.compile(r"(.+\[%)|(%\].+)")
_QUOTED_PLACEHOLDER = re.compile(r"'{\w+}'")
_URL = re.compile(
    r"(((ftp|ftps|scp|http|https|mqtt|mqtts|socket|socks5):\/\/|www\.)"
    r"[a-z0-9]+([\-\.]{1}[a-z0-9]+)*\.[a-z]{2,5}(:[0-9]{1,5})?(\/.*)?)",
    re.IGNORECASE,
)


def _translation_key(value: Any) -> str:
    """Hassfest's translation_key_validator: [a-z0-9-_]+, no _ or - at an end or twice."""
    if not isinstance(value, str) or _TRANSLATION_KEY.match(value) is None:
        raise vol.Invalid(f"invalid translation key {value!r}")
    return value


def _text(*, placeholders: bool = True) -> Callable[[Any], str]:
    """Hassfest's validate_translation_value.

    No HTML (Home Assistant's own check: anything like `<tag ...>`), no placeholder in
    single quotes, placeholders valid identifiers (and none where not allowed), no
    combined `[%key:...%]` references, no leading or trailing space, no URL.
    """

    def validate(value: Any) -> str:
        text = cv.string_with_no_html(value)
        if _QUOTED_PLACEHOLDER.search(text):
            raise vol.Invalid("placeholder inside single quotes")
        for _literal, field_name, _spec, _conversion in string.Formatter().parse(text):
            if field_name and not placeholders:
                raise vol.Invalid("placeholders are not supported in this value")
            if field_name and not field_name.isidentifier():
                raise vol.Invalid("placeholders must be valid identifiers")
        if _COMBINED_REFERENCE.search(text):
            raise vol.Invalid("combined translations")
        if text != text.strip():
            raise vol.Invalid("leading or trailing spaces")
        if _URL.search(text):
            raise vol.Invalid("URL: use a description placeholder")
        return text

    return validate


def _data_entry_schema(*, subentry_flow: bool = False) -> Callable[[Any], Any]:
    """gen_data_entry_schema, as hassfest calls it for config, subentry and options flows."""
    text = _text()
    fields = {
        vol.Optional("data"): {str: text},
        vol.Optional("data_description"): {str: text},
    }
    schema: dict[Any, Any] = {
        vol.Optional("flow_title"): text,
        vol.Required("step"): {
            str: {
                vol.Optional("title"): text,
                vol.Optional("description"): text,
                **fields,
                vol.Optional("menu_options"): {str: text},
                vol.Optional("menu_option_descriptions"): {str: text},
                vol.Optional("submit"): text,
                vol.Optional("sections"): {
                    str: {
                        **fields,
                        vol.Optional("description"): text,
                        vol.Optional("name"): text,
                    },
                },
            }
        },
        vol.Optional("error"): {str: text},
        vol.Optional("abort"): {str: text},
        vol.Optional("progress"): {str: text},
        vol.Optional("create_entry"): {str: text},
        # config.title moved to the root long ago: a warning for a custom integration.
        vol.Optional("title"): cv.string,
    }
    if subentry_flow:
        schema[vol.Required("entry_type")] = text
        schema[vol.Required("initiate_flow")] = {vol.Required("user"): text, str: text}
    else:
        schema[vol.Optional("initiate_flow")] = {vol.Required("user"): text}

    def data_description_in_data(value: dict[str, Any]) -> dict[str, Any]:
        for step_id, step in value["step"].items():
            for key in step.get("data_description", {}):
                if key not in step.get("data", {}):
                    raise vol.Invalid(
                        f"step {step_id}: data_description {key} not in data"
                    )
        return value

    return vol.All(vol.Schema(schema), data_description_in_data)


def _hassfest_strings_schema() -> vol.Schema:
    """gen_strings_schema: the root of an integration's strings."""
    text = _text()
    state_text = _text(placeholders=False)
    states = cv.schema_with_slug_keys(state_text, slug_validator=_translation_key)
    fields = cv.schema_with_slug_keys(
        {
            vol.Required("name"): str,
            vol.Required("description"): text,
            vol.Optional("example"): text,
        },
        slug_validator=_translation_key,
    )

    def config_panel(value: Any) -> Any:
        if isinstance(value, dict):
            for key, item in value.items():
                if key != "_":
                    _translation_key(key)
                config_panel(item)
            return value
        return text(value)

    return vol.Schema(
        {
            vol.Optional("title"): text,
            vol.Optional("config"): _data_entry_schema(),
            vol.Optional("config_subentries"): cv.schema_with_slug_keys(
                _data_entry_schema(subentry_flow=True),
                slug_validator=vol.Any("_", cv.slug),
            ),
            vol.Optional("options"): _data_entry_schema(),
            vol.Optional("preview_features"): cv.schema_with_slug_keys(
                {
                    vol.Required("name"): text,
                    vol.Required("description"): text,
                    vol.Optional("enable_confirmation"): text,
                    vol.Optional("disable_confirmation"): text,
                },
                slug_validator=_translation_key,
            ),
            vol.Optional("selector"): cv.schema_with_slug_keys(
                {
                    vol.Optional("choices"): cv.schema_with_slug_keys(
                        text, slug_validator=_translation_key
                    ),
                    vol.Optional("options"): cv.schema_with_slug_keys(
                        text, slug_validator=_translation_key
                    ),
                    vol.Optional("unit_of_measurement"): cv.schema_with_slug_keys(
                        text, slug_validator=_translation_key
                    ),
                    vol.Optional("fields"): vol.Any(
                        cv.schema_with_slug_keys(str),
                        cv.schema_with_slug_keys(
                            {
                                vol.Required("name"): str,
                                vol.Required("description"): text,
                            },
                            slug_validator=_translation_key,
                        ),
                    ),
                },
                slug_validator=vol.Any("_", cv.slug),
            ),
            vol.Optional("device_automation"): {
                vol.Optional(key): {str: text}
                for key in (
                    "action_type",
                    "condition_type",
                    "trigger_type",
                    "trigger_subtype",
                    "extra_fields",
                    "extra_fields_descriptions",
                )
            },
            vol.Optional("system_health"): {
                vol.Optional("info"): cv.schema_with_slug_keys(
                    text, slug_validator=_translation_key
                ),
            },
            vol.Optional("config_panel"): config_panel,
            vol.Optional("application_credentials"): {
                vol.Optional("description"): text,
            },
            vol.Optional("issues"): {
                str: vol.All(
                    cv.has_at_least_one_key("description", "fix_flow"),
                    vol.Schema(
                        {
                            vol.Required("title"): text,
                            vol.Exclusive("description", "fixable"): text,
                            vol.Exclusive("fix_flow", "fixable"): _data_entry_schema(),
                        }
                    ),
                )
            },
            vol.Optional("entity_component"): cv.schema_with_slug_keys(
                {
                    vol.Optional("name"): str,
                    vol.Optional("state"): states,
                    vol.Optional("state_attributes"): cv.schema_with_slug_keys(
                        {vol.Optional("name"): str, vol.Optional("state"): states},
                        slug_validator=_translation_key,
                    ),
                },
                slug_validator=vol.Any("_", cv.slug),
            ),
            vol.Optional("device"): cv.schema_with_slug_keys(
                {vol.Optional("name"): text}, slug_validator=_translation_key
            ),
            vol.Optional("entity"): cv.schema_with_slug_keys(
                cv.schema_with_slug_keys(
                    {
                        vol.Optional("name"): text,
                        vol.Optional("state"): states,
                        vol.Optional("state_attributes"): cv.schema_with_slug_keys(
                            {
                                vol.Optional("name"): state_text,
                                vol.Optional("state"): states,
                            },
                            slug_validator=_translation_key,
                        ),
                        vol.Optional("unit_of_measurement"): state_text,
                    },
                    slug_validator=_translation_key,
                ),
                slug_validator=cv.slug,
            ),
            vol.Optional("exceptions"): cv.schema_with_slug_keys(
                {vol.Optional("message"): text}, slug_validator=cv.slug
            ),
            vol.Optional("services"): cv.schema_with_slug_keys(
                {
                    vol.Required("name"): text,
                    vol.Required("description"): text,
                    vol.Optional("fields"): fields,
                    vol.Optional("sections"): cv.schema_with_slug_keys(
                        {vol.Required("name"): str, vol.Optional("description"): text},
                        slug_validator=_translation_key,
                    ),
                },
                slug_validator=_translation_key,
            ),
            **{
                vol.Optional(kind): cv.schema_with_slug_keys(
                    {
                        vol.Required("name"): text,
                        vol.Required("description"): text,
                        vol.Optional("fields"): fields,
                    },
                    slug_validator=cv.underscore_slug,
                )
                for kind in ("conditions", "triggers")
            },
            vol.Optional("conversation"): {
                vol.Required("agent"): {vol.Required("done"): text},
            },
            vol.Optional("common"): vol.Schema({cv.slug: text}),
        }
    )


def _hassfest_translation_error(strings: Mapping[str, Any]) -> str | None:
    """What hassfest would say about these strings; None if they pass."""
    try:
        _hassfest_strings_schema()(strings)
    except vol.Invalid as err:
        return humanize_error(dict(strings), err)
    return None


@pytest.mark.parametrize("language", ["en", "de"])
def test_translations_pass_hassfest(language: str) -> None:
    """The schema hassfest validates en.json with: keys, no HTML, placeholders, URLs."""
    strings = _json(PACKAGE_DIR / "translations" / f"{language}.json")
    assert _hassfest_translation_error(strings) is None


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("selector", "parity", "options", "N"), "None"),
        (("selector", "Parity", "options", "none"), "None"),
        (("selector", "parity", "options", "odd_"), "Odd"),
        (("config", "step", "guard", "data_description", "name"), "Or “<name>”."),
        (("config", "step", "guard", "description"), "See <b>this</b>."),
        (("config", "step", "guard", "description"), "See https://example.com/x"),
        (("config", "step", "guard", "description"), " Leading space."),
        (("config", "step", "guard", "description"), "Quoted '{name}'."),
        (("config", "step", "guard", "description"), "Not {an-identifier}."),
        (("config", "step", "guard", "data_description", "nowhere"), "No field."),
        (("config", "step", "guard", "surprise"), "Unknown key."),
        (("entity", "sensor", "Power", "name"), "Power"),
        (("entity", "sensor", "load_level", "state", "idle"), "Idle {name}"),
        (("exceptions", "gateway_silent", "message"), "<i>Silent</i>"),
    ],
)
def test_the_hassfest_translation_check_finds_a_breach(
    path: tuple[str, ...], value: str
) -> None:
    """A key, text or structure hassfest rejects, planted in en.json, is found."""
    assert _hassfest_translation_error(EN) is None
    strings = copy.deepcopy(EN)
    node = strings
    for part in path[:-1]:
        node = node.setdefault(part, {})
    node[path[-1]] = value
    assert _hassfest_translation_error(strings) is not None, path


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
    # Meter models are product names, the same in every language.
    untranslated = [
        path
        for path, text in english.items()
        if len(str(text)) > 20
        and text == german[path]
        and not path.startswith("selector.profile.options.")
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


# hassfest's runtime-data rule (script/hassfest/quality_scale_validation/runtime_data.py,
# home-assistant/core commit 02e6124621fb), with its strict-typing extra. hassfest runs
# the quality-scale validators for core integrations only (validate_iqs_file returns
# early for a custom one), so nothing but this test checks them here. Like hassfest,
# the checks apply when quality_scale.yaml marks the rule done.
_TYPED_ENTRY = re.compile(r"^[A-Za-z]+ConfigEntry$")
_ENTRY_FUNCTIONS: dict[str, dict[str, int]] = {
    "__init__": {  # ComponentProtocol
        "async_migrate_entry": 2,
        "async_remove_config_entry_device": 2,
        "async_remove_entry": 2,
        "async_setup_entry": 2,
        "async_unload_entry": 2,
    },
    "diagnostics": {  # DiagnosticsProtocol
        "async_get_config_entry_diagnostics": 2,
        "async_get_device_diagnostics": 2,
    },
    **{platform.value: {"async_setup_entry": 2} for platform in Platform},
}


def _module_function(module: ast.Module, name: str) -> ast.AsyncFunctionDef | None:
    """A module-level `async def` (hassfest looks no further)."""
    for item in module.body:
        if isinstance(item, ast.AsyncFunctionDef) and item.name == name:
            return item
    return None


def _untyped_entry(
    function: ast.FunctionDef | ast.AsyncFunctionDef, position: int
) -> str | None:
    """The argument at `position` (1-based) must be annotated with a `...ConfigEntry` name.

    A name, not `ConfigEntry` itself, a subscript (`ConfigEntry[X]`) or a string.
    """
    if len(function.args.args) < position:
        return f"{function.name} has incorrect signature"
    annotation = function.args.args[position - 1].annotation
    if isinstance(annotation, ast.Name) and _TYPED_ENTRY.match(annotation.id):
        return None
    return f"{function.name} does not use typed ConfigEntry"


def _runtime_data_errors(sources: Mapping[str, str], rules_done: set[str]) -> list[str]:
    """Hassfest's runtime-data validation of the modules' sources (by module name)."""
    init = ast.parse(sources["__init__"])
    setup = _module_function(init, "async_setup_entry")
    if setup is None:
        return ["no async_setup_entry in __init__.py"]
    if len(setup.args.args) != 2:
        return ["async_setup_entry has incorrect signature in __init__.py"]
    entry_name = setup.args.args[1].arg
    errors: list[str] = []
    if not any(
        isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id == entry_name
        and node.attr == "runtime_data"
        and isinstance(node.ctx, ast.Store)
        for node in ast.walk(setup)
    ):
        errors.append("__init__.py: async_setup_entry does not set entry.runtime_data")
    if "strict-typing" not in rules_done:
        return errors
    for module_name, functions in _ENTRY_FUNCTIONS.items():
        if module_name not in sources:
            continue
        module = ast.parse(sources[module_name])
        for name, position in functions.items():
            function = _module_function(module, name)
            if function is not None and (error := _untyped_entry(function, position)):
                errors.append(f"{module_name}.py: {error}")
    errors += [
        f"config_flow.py: {node.name}.{error}"
        for node in ast.parse(sources["config_flow"]).body
        if isinstance(node, ast.ClassDef)
        for item in node.body
        if isinstance(item, ast.FunctionDef)
        and item.name == "async_get_options_flow"
        and (error := _untyped_entry(item, 1))
    ]
    return errors


def _sources() -> dict[str, str]:
    """The integration's top-level modules, by name (the files hassfest reads)."""
    return {
        path.stem: path.read_text(encoding="utf-8")
        for path in sorted(PACKAGE_DIR.glob("*.py"))
    }


def _rules_done() -> set[str]:
    rules = yaml.safe_load((PACKAGE_DIR / "quality_scale.yaml").read_text())["rules"]
    return {
        rule
        for rule, value in rules.items()
        if (value["status"] if isinstance(value, dict) else value) == "done"
    }


def test_runtime_data_and_typed_config_entries() -> None:
    """Hassfest's runtime-data rule: entry.runtime_data set, typed entries everywhere.

    async_setup_entry of __init__ sets entry.runtime_data; with strict-typing done,
    the entry of every entry function of __init__, diagnostics and each platform, and
    of async_get_options_flow, is annotated with the integration's typed alias.
    """
    rules_done = _rules_done()
    assert {"runtime-data", "strict-typing"} <= rules_done, "the checks below apply"
    assert _runtime_data_errors(_sources(), rules_done) == []


def test_the_runtime_data_check_finds_a_breach() -> None:
    """An untyped entry in a platform or the options flow, or no runtime_data, is found."""
    sources = _sources()
    assert "entry: EnergyMetersConfigEntry," in sources["switch"]
    assert "entry: EnergyMetersConfigEntry" in sources["diagnostics"]
    assert "config_entry: EnergyMetersConfigEntry" in sources["config_flow"]
    assert "entry.runtime_data = " in sources["__init__"]
    rules_done = {"runtime-data", "strict-typing"}
    breached = {
        **sources,
        "switch": sources["switch"].replace(
            "entry: EnergyMetersConfigEntry,", "entry: ConfigEntry,"
        ),
        "light": (
            "async def async_setup_entry(hass, entry: 'LightConfigEntry', add):\n"
            "    pass\n"
        ),
        "diagnostics": sources["diagnostics"].replace(
            "entry: EnergyMetersConfigEntry", "entry: ConfigEntry[GatewayCoordinator]"
        ),
        "config_flow": sources["config_flow"].replace(
            "config_entry: EnergyMetersConfigEntry", "config_entry: ConfigEntry"
        ),
        "__init__": sources["__init__"].replace(
            "entry.runtime_data = ", "coordinator.entry_data = "
        ),
    }
    errors = _runtime_data_errors(breached, rules_done)
    assert errors == [
        "__init__.py: async_setup_entry does not set entry.runtime_data",
        (
            "diagnostics.py: async_get_config_entry_diagnostics does not use typed"
            " ConfigEntry"
        ),
        "light.py: async_setup_entry does not use typed ConfigEntry",
        "switch.py: async_setup_entry does not use typed ConfigEntry",
        (
            "config_flow.py: EnergyMetersConfigFlow.async_get_options_flow does not use"
            " typed ConfigEntry"
        ),
    ], errors
    # Without strict-typing done, hassfest checks runtime_data only.
    assert _runtime_data_errors(breached, {"runtime-data"}) == errors[:1]


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
