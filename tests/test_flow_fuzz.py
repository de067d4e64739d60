"""Hostile values in every field of every flow step, posted as the frontend posts them.

Each case opens the step through Home Assistant's HTTP API (the views the
frontend talks to), posts a valid form with one field replaced by a hostile
value, and closes the dialog as the frontend does. Whatever the value:

- never HTTP 500 (an unhandled exception in a step);
- nothing saved: no entry, subentry, data or option changed;
- no flow left in progress once the dialog is closed;
- every error shown is translated, in English and German.

In the steps of this integration's own forms a wrong number or name must
also be a form error on its field (HTTP 200): a value the schema refuses is
answered with HTTP 400 "Schema validation failed" and an English text the
frontend shows raw. A value of a type the frontend never sends (a list for a
text field), or an option a dropdown does not offer, may get that 400.

Set FLOW_FUZZ_TABLE to a file name to have the answers written there as a
table (hostile input -> what the user sees).
"""

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
import json
import os
from pathlib import Path
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import (
    ClientSessionGenerator,
    MqttMockHAClient,
)

from custom_components.energy_meters.const import DOMAIN, SUBENTRY_METER
from simulator.http_meter import HttpMeter
from simulator.serial_port import VirtualSerialPort
from simulator.server import ModbusSimulator
from simulator.services import HeatPumpService, ThermostatService

from .companions_fixtures import (  # noqa: F401
    fixture_heatpump_service,
    fixture_thermostat_service,
)
from .helpers import async_add_gateway, wago_meter
from .single_meter_fixtures import fixture_http_meter, fixture_mqtt  # noqa: F401

TRANSLATIONS = (
    Path(__file__).parent.parent / "custom_components/energy_meters/translations"
)
STRINGS = {
    language: json.loads((TRANSLATIONS / f"{language}.json").read_text("utf-8"))
    for language in ("en", "de")
}
API = "/api/config/config_entries"
INDEX = {
    "config": f"{API}/flow",
    "options": f"{API}/options/flow",
    "subentries": f"{API}/subentries/flow",
}
ERRORS_AT = {
    "config": ("config",),
    "options": ("options",),
    "subentries": ("config_subentries", SUBENTRY_METER),
}
DONE = {"reconfigure_successful", "standalone_reconfigured", "site_reconfigured"}


@dataclass(frozen=True)
class Wrong:
    """A hostile value; `typed` if no frontend sends that type (400 is fine then)."""

    value: Any
    typed: bool = False

    def __repr__(self) -> str:
        """The value as the table shows it: long texts cut, their length said."""
        text = repr(self.value)
        return (
            text if len(text) <= 24 else f"{text[:12]}…({len(str(self.value))} chars)"
        )


WRONG_TYPES = [Wrong(None, True), Wrong([], True), Wrong({}, True), Wrong(True, True)]


def numbers(minimum: float, maximum: float, *, whole: bool = False) -> list[Wrong]:
    """Every kind of number a number box must refuse, for this range."""
    values: list[Any] = [
        "nan",
        "inf",
        "-inf",
        1e308,
        -1e308,
        minimum - 1,
        maximum + 1,
        "abc",
        "",
    ]
    if whole:
        values.append(minimum + 0.5)
    return [Wrong(value) for value in values] + WRONG_TYPES


NAMES = [Wrong(v) for v in ("", "   ", "x" * 10_000, "a\x00b", "a\r\nb")] + [
    Wrong(5, True),
    Wrong(None, True),
]
TEXT = [Wrong(v) for v in ("x" * 10_000, "a\x00b", "a\r\nb")] + [Wrong(5, True)]
SELECT = [Wrong("no such option", True), Wrong("", True), Wrong(7, True)]


def few(minimum: float, maximum: float, *, whole: bool = False) -> list[Wrong]:
    """The values that broke entries, for a field whose check is fuzzed in full elsewhere."""
    values: list[Any] = ["nan", "inf", minimum - 1, maximum + 1]
    if whole:
        values.append(minimum + 0.5)
    return [Wrong(value) for value in values]


def quality(
    kind: Callable[..., list[Wrong]] = numbers,
) -> dict[str, list[Wrong]]:
    """The data-quality section's fields."""
    return {
        "data_quality.max_power_kw": kind(0.1, 10000),
        "data_quality.confirmations": kind(1, 10, whole=True),
    }


def signals(
    kind: Callable[..., list[Wrong]] = numbers,
) -> dict[str, list[Wrong]]:
    """The load and grid signals section's fields."""
    return {
        "signals.load_idle_w": kind(0, 100000),
        "signals.load_medium_kw": kind(0.01, 10000),
        "signals.load_high_kw": kind(0.01, 10000),
        "signals.frequency_min": kind(40, 70),
        "signals.frequency_max": kind(40, 70),
        "signals.power_factor_min": kind(0, 1),
    }


def read_rates(
    kind: Callable[..., list[Wrong]] = numbers,
) -> dict[str, list[Wrong]]:
    """The read rates section's fields."""
    return {
        "read_rates.fast_group": SELECT,
        "read_rates.fast_interval": kind(1, 10, whole=True),
    }


@dataclass
class Context:
    """What the steps are opened against: the running fakes and entries."""

    hass: HomeAssistant
    client: Any
    port: int = 0
    url: str = ""
    entry_id: str = ""
    subentry_id: str = ""
    device: str = ""
    records: list[str] = field(default_factory=list)

    async def post(self, url: str, body: Any) -> tuple[int, Any]:
        """POST JSON as the frontend does; the status and the decoded answer."""
        response = await self.client.post(url, json=body)
        text = await response.text()
        try:
            return response.status, json.loads(text)
        except ValueError:
            return response.status, text

    async def menu(self, choice: str) -> tuple[str, str]:
        """Open "Add integration" and pick a menu entry; the flow at its form."""
        status, result = await self.post(INDEX["config"], {"handler": DOMAIN})
        assert status == HTTPStatus.OK, result
        status, result = await self.post(
            f"{INDEX['config']}/{result['flow_id']}", {"next_step_id": choice}
        )
        assert status == HTTPStatus.OK, result
        assert result["type"] == "form", result
        return "config", result["flow_id"]

    async def start(self, kind: str, body: Mapping[str, Any]) -> tuple[str, str]:
        """Open a reconfigure, options or subentry flow; the flow at its form."""
        status, result = await self.post(INDEX[kind], dict(body))
        assert status == HTTPStatus.OK, result
        assert result["type"] == "form", result
        return kind, result["flow_id"]


type Opener = Callable[[Context], Awaitable[tuple[str, str]]]


@dataclass(frozen=True)
class Step:
    """One step: how to reach its form, a valid form, the fields to spoil."""

    open: Opener
    form: Callable[[Context], dict[str, Any]]
    fields: Mapping[str, list[Wrong]]


def _gateway_form(ctx: Context) -> dict[str, Any]:
    return {"host": "127.0.0.1", "port": ctx.port, "framing": "tcp", "timeout": 1}


def _meter_form(ctx: Context) -> dict[str, Any]:
    return {"unit_id": 1, "profile": "wago_879_30xx", "name": "House"}


async def _open_meter(ctx: Context) -> tuple[str, str]:
    kind, flow_id = await ctx.menu("gateway")
    status, result = await ctx.post(f"{INDEX[kind]}/{flow_id}", _gateway_form(ctx))
    assert status == HTTPStatus.OK, result
    assert result["step_id"] == "meter", result
    return kind, flow_id


GATEWAY_FIELDS = {
    "host": [Wrong(v) for v in ("", "   ", "a" * 300, "gate\x00way", "a\r\nb")]
    + [Wrong(5, True)],
    "port": numbers(1, 65535, whole=True),
    "timeout": numbers(0.5, 30),
    "framing": SELECT,
}
METER_FIELDS = {
    "unit_id": [Wrong(255), *numbers(1, 247, whole=True)],  # 0 and 248 are in it
    "profile": SELECT,
    "name": NAMES,
    "role": SELECT,
    **quality(),
    **signals(),
    **read_rates(),
}
# "Add meter" and its reconfigure check the sections with the same function as
# the first meter's step: the values that broke entries are enough there.
SUBENTRY_FIELDS = {
    **METER_FIELDS,
    **quality(few),
    **signals(few),
    **read_rates(few),
}


def _http_url(ctx: Context, userinfo: str = "") -> str:
    return ctx.url.replace("http://", f"http://{userinfo}", 1)


def _http_form(ctx: Context) -> dict[str, Any]:
    return {
        "name": "Garage meter",
        "role": "zone",
        "url": ctx.url,
        "method": "GET",
        "verify_ssl": True,
        "scan_interval": 30,
        "power_unit": "W",
        "energy_unit": "kWh",
    }


URLS = [
    Wrong(v)
    for v in (
        "",
        "x" * 10_000,
        "javascript:alert(1)",
        "http://[::1",
        "http://127.0.0.1:99999/",
        "http://" + "a" * 300 + "/",
        "http://gate\x00way/",
        "http://a\r\nb/",
    )
] + [Wrong(5, True)]
# Two fields at once: given as the dict of the fields changed (see `_spoil`).
CREDENTIALS_TWICE = "url+access_token"


def _service_form(ctx: Context) -> dict[str, Any]:
    return {"url": ctx.url, "verify_ssl": True, "scan_interval": 15}


SERVICE_FIELDS = {
    "url": URLS,
    "access_token": [Wrong("a\r\nb"), Wrong("a\x00b"), Wrong(5, True)],
    CREDENTIALS_TWICE: [Wrong("user:secret@")],
    "scan_interval": numbers(5, 3600, whole=True),
}

STEPS: dict[str, Step] = {
    "gateway": Step(lambda ctx: ctx.menu("gateway"), _gateway_form, GATEWAY_FIELDS),
    "serial": Step(
        lambda ctx: ctx.menu("serial"),
        lambda ctx: {
            "device": ctx.device,
            "baudrate": "9600",
            "parity": "none",
            "stopbits": "1",
            "timeout": 1,
        },
        {
            "device": [Wrong(v) for v in ("", "   ", "/dev/tty\x00USB0", "a\r\nb")]
            + [Wrong("x" * 10_000), Wrong(5, True)],
            "timeout": numbers(0.5, 30),
            "baudrate": [*SELECT, Wrong("123", True)],
            "parity": SELECT,
            "stopbits": SELECT,
        },
    ),
    "meter": Step(_open_meter, _meter_form, METER_FIELDS),
    "gateway_reconfigure": Step(
        lambda ctx: ctx.start("config", {"handler": DOMAIN, "entry_id": ctx.entry_id}),
        _gateway_form,
        GATEWAY_FIELDS,
    ),
    "options": Step(
        lambda ctx: ctx.start("options", {"handler": ctx.entry_id}),
        lambda _ctx: {"scan_interval": 10},
        {"scan_interval": numbers(2, 3600, whole=True)},
    ),
    "meter_subentry": Step(
        lambda ctx: ctx.start(
            "subentries", {"handler": [ctx.entry_id, SUBENTRY_METER]}
        ),
        lambda ctx: {**_meter_form(ctx), "unit_id": 2},
        SUBENTRY_FIELDS,
    ),
    "meter_subentry_reconfigure": Step(
        lambda ctx: ctx.start(
            "subentries",
            {"handler": [ctx.entry_id, SUBENTRY_METER], "subentry_id": ctx.subentry_id},
        ),
        _meter_form,
        SUBENTRY_FIELDS,
    ),
    "http_meter": Step(
        lambda ctx: ctx.menu("http_meter"),
        _http_form,
        {
            "name": NAMES,
            "url": URLS,
            "headers": [
                Wrong(v)
                for v in ("no colon", "Bad Name: v", "X-A: a\x00b", "(x): y", "é: v")
            ],
            "access_token": [Wrong("a\r\nb"), Wrong("a\x00b"), Wrong(5, True)],
            CREDENTIALS_TWICE: [Wrong("user:secret@")],
            "scan_interval": numbers(5, 3600, whole=True),
            "method": SELECT,
            "power_unit": SELECT,
            "role": SELECT,
            "json_paths.power_path": [Wrong(v) for v in ("a..b", "[x]", "a\x00b")],
            **quality(),
        },
    ),
    "mqtt_meter": Step(
        lambda ctx: ctx.menu("mqtt_meter"),
        lambda _ctx: {
            "name": "Shelly EM",
            "role": "zone",
            "power_unit": "W",
            "energy_unit": "kWh",
            "power_topic": "home/em/power",
        },
        {
            "name": NAMES,
            "power_topic": [
                Wrong(v) for v in ("home/+/power", "home/#", "a\x00b", "a\r\nb")
            ]
            + [Wrong("x" * 70_000), Wrong(5, True)],
            "availability_topic": [Wrong(v) for v in ("home/+", "a\x00b")],
            "power_unit": SELECT,
            "json_paths.power_path": [Wrong(v) for v in ("a..b", "a\x00b")],
            "role": SELECT,
            **quality(),
        },
    ),
    "guard": Step(
        lambda ctx: ctx.menu("guard"),
        lambda _ctx: {"source_entity_id": "sensor.grid_power", "role": "zone"},
        {
            "source_entity_id": [
                Wrong("sensor.nothing_here"),
                Wrong("not an entity id", True),
                Wrong("", True),
                Wrong(5, True),
            ],
            "name": [Wrong(v) for v in ("x" * 10_000, "a\x00b", "a\r\nb")]
            + [Wrong(5, True)],
            "role": SELECT,
            **quality(),
        },
    ),
    "site": Step(
        lambda ctx: ctx.menu("site"),
        lambda _ctx: {"capacity_kw": 30},
        {"capacity_kw": numbers(0.1, 10000)},
    ),
    "site_reconfigure": Step(
        lambda ctx: ctx.start("config", {"handler": DOMAIN, "entry_id": ctx.entry_id}),
        lambda _ctx: {"capacity_kw": 30},
        {"capacity_kw": numbers(0.1, 10000)},
    ),
    "site_options": Step(
        lambda ctx: ctx.start("options", {"handler": ctx.entry_id}),
        lambda _ctx: {"capacity_kw": 30},
        {"capacity_kw": numbers(0.1, 10000)},
    ),
    "heat_pump": Step(lambda ctx: ctx.menu("heat_pump"), _service_form, SERVICE_FIELDS),
    "thermostat": Step(
        lambda ctx: ctx.menu("thermostat"), _service_form, SERVICE_FIELDS
    ),
}


def _spoil(ctx: Context, form: dict[str, Any], name: str, value: Any) -> dict[str, Any]:
    """The valid form with one field (`section.field` inside a section) replaced."""
    data = dict(form)
    if name == CREDENTIALS_TWICE:
        return {**data, "url": _http_url(ctx, value), "access_token": "abc"}
    section, _, inner = name.rpartition(".")
    if section:
        data[section] = {**data.get(section, {}), inner: value}
    else:
        data[name] = value
    return data


def _snapshot(hass: HomeAssistant) -> list[Any]:
    """Everything a flow could save: entries, their data, options and subentries."""
    return [
        (
            entry.entry_id,
            entry.title,
            dict(entry.data),
            dict(entry.options),
            {
                subentry_id: (subentry.title, dict(subentry.data))
                for subentry_id, subentry in entry.subentries.items()
            },
        )
        for entry in hass.config_entries.async_entries(DOMAIN)
    ]


def _in_progress(hass: HomeAssistant) -> list[Any]:
    entries = hass.config_entries
    return [
        *entries.flow.async_progress(),
        *entries.options.async_progress(),
        *entries.subentries.async_progress(),
    ]


def _untranslated(kind: str, errors: Mapping[str, str]) -> list[str]:
    missing = []
    for language, strings in STRINGS.items():
        node: Any = strings
        for key in ERRORS_AT[kind]:
            node = node.get(key, {})
        missing += [
            f"{language}: {error}"
            for error in errors.values()
            if error not in node.get("error", {})
        ]
    return missing


def _answer(status: int, result: Any) -> str:
    """What the user sees, in a few words."""
    if status != HTTPStatus.OK:
        return f"HTTP {status}" + (" schema error" if status == 400 else "")
    kind = result.get("type")
    if kind == "form":
        return f"form {result.get('step_id')}: {result.get('errors') or {}}"
    if kind == "abort":
        return f"abort: {result.get('reason')}"
    return str(kind)


def _status_verdict(step: Step, name: str, wrong: Wrong, status: int) -> list[str]:
    """What is wrong with an answer that is not HTTP 200."""
    if status == HTTPStatus.BAD_REQUEST:
        if not wrong.typed and name != CREDENTIALS_TWICE:
            return ["HTTP 400 with an untranslated schema error"]
        return []
    return [f"HTTP {status}"]


def _verdict(
    step: Step, flow: tuple[str, str], name: str, wrong: Wrong, answer: tuple[int, Any]
) -> list[str]:
    """What is wrong with one answer (nothing when it is right)."""
    status, result = answer
    if status != HTTPStatus.OK:
        return _status_verdict(step, name, wrong, status)
    kind = result.get("type")
    if kind == "create_entry" or (kind == "abort" and result["reason"] in DONE):
        return ["accepted: saved"]
    if kind != "form":
        # An abort refuses too, but closes the dialog on a typo in our forms.
        return [f"dialog closed: {kind}"] if not wrong.typed else []
    errors = result.get("errors") or {}
    problems = [f"untranslated {item}" for item in _untranslated(flow[0], errors)]
    if not errors:
        problems.append(f"accepted: went on to {result['step_id']}")
    elif not wrong.typed:
        top = "url" if name == CREDENTIALS_TWICE else name.partition(".")[0]
        if top not in errors and not (
            name == CREDENTIALS_TWICE and "access_token" in errors
        ):
            problems.append(f"error not on the field: {errors}")
    return problems


async def _close(ctx: Context, flow: tuple[str, str]) -> list[str]:
    """Close the dialog as the frontend does (DELETE); what was left behind."""
    kind, flow_id = flow
    if any(f["flow_id"] == flow_id for f in _in_progress(ctx.hass)):
        response = await ctx.client.delete(f"{INDEX[kind]}/{flow_id}")
        assert response.status == HTTPStatus.OK
    left = _in_progress(ctx.hass)
    for flow_left in left:  # so that the next case starts clean
        ctx.hass.config_entries.flow.async_abort(flow_left["flow_id"])
    return ["flow left in progress"] if left else []


async def _fuzz(ctx: Context, step_name: str, names: list[str] | None = None) -> None:
    """Every hostile value of the step's fields; assert once, listing every failure.

    Like a user who types one wrong value after another, each is sent to the
    dialog still open; a new dialog is opened only when one ended (or
    crashed), and closed at the end.
    """
    hass = ctx.hass
    step = STEPS[step_name]
    before = _snapshot(hass)
    failures: list[str] = []
    flow: tuple[str, str] | None = None
    for name in names or list(step.fields):
        for wrong in step.fields[name]:
            if flow is None:
                flow = await step.open(ctx)
            kind, flow_id = flow
            data = _spoil(ctx, step.form(ctx), name, wrong.value)
            status, result = await ctx.post(f"{INDEX[kind]}/{flow_id}", data)
            await hass.async_block_till_done()
            problems = _verdict(step, flow, name, wrong, (status, result))
            still_open = not problems and (
                status == HTTPStatus.BAD_REQUEST
                or (
                    status == HTTPStatus.OK
                    and result.get("type") == "form"
                    and bool(result.get("errors"))
                )
            )
            if not still_open:
                # A crash leaves its flow behind; the frontend cannot close it.
                if status == HTTPStatus.INTERNAL_SERVER_ERROR and _in_progress(hass):
                    problems.append("flow left in progress")
                problems += await _close(ctx, flow)
                flow = None
            if _snapshot(hass) != before:
                problems.append("entries changed")
                await _restore(hass, before)
            shown = f"{step_name} | {name} | {wrong!r} | {_answer(status, result)}"
            ctx.records.append(shown)
            failures += [f"{shown}: {problem}" for problem in problems]
    if flow is not None:
        failures += [f"{step_name}: {p}" for p in await _close(ctx, flow)]
    assert not failures, "\n".join(failures)


async def _restore(hass: HomeAssistant, before: list[Any]) -> None:
    """Remove the entries a case created wrongly, so the next case is judged alone."""
    known = {item[0]: item for item in before}
    for entry in hass.config_entries.async_entries(DOMAIN):
        if entry.entry_id not in known:
            await hass.config_entries.async_remove(entry.entry_id)
            continue
        _, title, data, options, subentries = known[entry.entry_id]
        for subentry_id in set(entry.subentries) - set(subentries):
            hass.config_entries.async_remove_subentry(entry, subentry_id)
        hass.config_entries.async_update_entry(
            entry, title=title, data=data, options=options
        )
    await hass.async_block_till_done()


@pytest.fixture(name="ctx")
async def fixture_ctx(
    hass: HomeAssistant, hass_client: ClientSessionGenerator
) -> AsyncIterator[Context]:
    """The flow API set up, and a client logged in as the frontend is."""
    assert await async_setup_component(hass, "config", {})
    ctx = Context(hass, await hass_client())
    yield ctx
    table = os.environ.get("FLOW_FUZZ_TABLE")
    if table:
        await hass.async_add_executor_job(_append_table, Path(table), ctx.records)


def _append_table(path: Path, records: list[str]) -> None:
    with path.open("a", encoding="utf-8") as out:
        out.writelines(f"| {line} |\n" for line in records)


@pytest.fixture(name="bus")
async def fixture_bus(socket_enabled: None) -> AsyncIterator[str]:
    """A WAGO meter on a virtual serial port; yields the port's device path."""
    async with (
        ModbusSimulator([wago_meter(1)], host="127.0.0.1", framing="rtu") as sim,
        VirtualSerialPort("127.0.0.1", sim.port) as port,
    ):
        yield port.device


@pytest.mark.parametrize(
    "step",
    [
        "gateway",
        "meter",
        "gateway_reconfigure",
        "options",
        "meter_subentry",
        "meter_subentry_reconfigure",
    ],
)
async def test_modbus_steps(
    ctx: Context, simulator: ModbusSimulator, step: str
) -> None:
    """The gateway, its first meter, "Add meter", both reconfigures, the options."""
    ctx.port = simulator.port
    if step not in {"gateway", "meter"}:
        entry = await async_add_gateway(ctx.hass, simulator)
        ctx.entry_id = entry.entry_id
        ctx.subentry_id = next(iter(entry.subentries))
    await _fuzz(ctx, step)


async def test_serial_step(ctx: Context, bus: str) -> None:
    """The RS-485 adapter's step, against a virtual serial port."""
    ctx.device = bus
    await _fuzz(ctx, "serial")


async def test_http_meter_step(ctx: Context, http_meter: HttpMeter) -> None:
    """The HTTP meter, read from the simulator's endpoint."""
    ctx.url = http_meter.url
    await _fuzz(ctx, "http_meter")


async def test_mqtt_meter_step(mqtt: MqttMockHAClient, ctx: Context) -> None:
    """The MQTT meter, with Home Assistant's MQTT set up (before the API client)."""
    await _fuzz(ctx, "mqtt_meter")


async def test_guard_step(ctx: Context) -> None:
    """A guarded power sensor."""
    ctx.hass.states.async_set(
        "sensor.grid_power",
        "120",
        {"unit_of_measurement": "W", "device_class": "power"},
    )
    await _fuzz(ctx, "guard")


async def test_site_steps(ctx: Context) -> None:
    """The site's capacity: when added, in "Reconfigure" and in the options."""
    await _fuzz(ctx, "site")
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id="site",
        title="Site",
        data={"kind": "site"},
        options={"capacity_kw": 30.0},
    )
    entry.add_to_hass(ctx.hass)
    ctx.entry_id = entry.entry_id
    await _fuzz(ctx, "site_reconfigure")
    await _fuzz(ctx, "site_options")


def _companion_cases() -> list[Any]:
    return [
        pytest.param(step, name, id=f"{step}-{name}")
        for step in ("heat_pump", "thermostat")
        for name in STEPS[step].fields
    ]


@pytest.mark.parametrize(("step", "name"), _companion_cases())
async def test_companion_steps(
    ctx: Context,
    heatpump_service: HeatPumpService,
    thermostat_service: ThermostatService,
    step: str,
    name: str,
) -> None:
    """The heat-pump and thermostat services (their flow is companions/flow.py)."""
    service = heatpump_service if step == "heat_pump" else thermostat_service
    ctx.url = service.url
    await _fuzz(ctx, step, [name])


def _field_names(schema: Any) -> set[str]:
    """A schema's fields, `section.field` inside a section."""
    found: set[str] = set()
    for marker, value in schema.schema.items():
        inner = getattr(value, "schema", None)
        found |= (
            {f"{marker}.{name}" for name in _field_names(inner)}
            if hasattr(inner, "schema")
            else {str(marker)}
        )
    return found


def test_every_field_of_the_fixed_forms_is_fuzzed() -> None:
    """A field added to a form without hostile values here fails this test.

    Booleans, units and the JSON paths of the other fields are left out: a
    boolean selector takes any value as true or false, the unit dropdowns are
    the method's kind, the paths are all read by one function.
    """
    from custom_components.energy_meters.gateway import (  # noqa: PLC0415
        flow as gateway_flow,
    )
    from custom_components.energy_meters.single_meters import (  # noqa: PLC0415
        flow as single_meter_flow,
    )
    from custom_components.energy_meters.site import (  # noqa: PLC0415
        flow as site_flow,
    )

    unfuzzed = {"verify_ssl", "energy_unit"}
    assert _field_names(gateway_flow.GATEWAY_SCHEMA) == set(GATEWAY_FIELDS)
    assert _field_names(site_flow.CAPACITY_SCHEMA) == set(STEPS["site"].fields)
    for schema, step in (
        (single_meter_flow.HTTP_SCHEMA, "http_meter"),
        (single_meter_flow.MQTT_SCHEMA, "mqtt_meter"),
        (single_meter_flow.GUARD_SCHEMA, "guard"),
    ):
        fields = {
            name
            for name in _field_names(schema) - unfuzzed
            if not name.startswith("json_paths.") and not name.endswith("_topic")
        }
        assert fields <= set(STEPS[step].fields), step
