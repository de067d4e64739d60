"""The defects a fuzzed config flow found (issue 17), one test each.

Each value here was accepted, truncated or crashed the flow before: "nan"
saved as null, 1.5 cut to port 1, unit ids the bus reserves, names that give
`sensor.power`, credentials twice over, a CR/LF in a token, host names no
resolver takes, a profile gone while its form was open. Now each is an error
on the field the user has to change, translated, and the dialog stays open
with nothing saved. tests/test_flow_fuzz.py throws the same kind of values at
every field of every step; these tests pin each defect down by name.
"""

from pathlib import Path
from typing import Any

from homeassistant.config_entries import SOURCE_RECONFIGURE, SOURCE_USER
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
import pytest

from custom_components.energy_meters.const import DOMAIN, SUBENTRY_METER
from custom_components.energy_meters.gateway.profiles import user_profile_dir
from simulator.http_meter import HttpMeter
from simulator.server import ModbusSimulator
from simulator.services import HeatPumpService

from .companions_fixtures import fixture_heatpump_service  # noqa: F401
from .helpers import async_add_gateway
from .single_meter_fixtures import (  # noqa: F401
    fixture_http_meter,
    http_form,
    start_http_flow,
)

BUILTIN_WAGO = (
    Path(__file__).parent.parent
    / "custom_components"
    / "energy_meters"
    / "profiles"
    / "wago_879_30xx.yaml"
)


async def _menu(hass: HomeAssistant, step: str) -> Any:
    result: Any = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    return await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": step}
    )


def _gateway(port: float, **changed: Any) -> dict[str, Any]:
    return {
        "host": "127.0.0.1",
        "port": port,
        "framing": "tcp",
        "timeout": 1,
        **changed,
    }


def _meter(**changed: Any) -> dict[str, Any]:
    return {"unit_id": 1, "profile": "wago_879_30xx", "name": "House", **changed}


async def _meter_form(hass: HomeAssistant, port: int) -> Any:
    result = await _menu(hass, "gateway")
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], _gateway(port)
    )
    assert result["step_id"] == "meter"
    return result


def _assert_refused(hass: HomeAssistant, result: Any, errors: dict[str, str]) -> None:
    """The form again, with exactly these errors; nothing saved."""
    assert result["type"] is FlowResultType.FORM, result
    assert result["errors"] == errors
    assert not hass.config_entries.async_entries(DOMAIN)


# --- defect 3: nan in a number field -------------------------------------------


@pytest.mark.parametrize("wait", ["nan", float("nan"), "inf"])
async def test_timeout_nan_is_refused(
    hass: HomeAssistant, simulator: ModbusSimulator, wait: Any
) -> None:
    """A timeout of nan was saved as null; the gateway then failed its setup."""
    result = await _menu(hass, "gateway")
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], _gateway(simulator.port, timeout=wait)
    )
    _assert_refused(hass, result, {"timeout": "invalid_timeout"})


async def test_rated_power_nan_is_refused(
    hass: HomeAssistant, simulator: ModbusSimulator
) -> None:
    """A rated power of nan kept power and current unknown for good."""
    result = await _meter_form(hass, simulator.port)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        _meter(data_quality={"max_power_kw": "nan", "confirmations": 2}),
    )
    _assert_refused(hass, result, {"data_quality": "invalid_max_power"})


async def test_threshold_nan_is_refused(
    hass: HomeAssistant, simulator: ModbusSimulator
) -> None:
    """A load threshold of nan would put every reading in no band at all."""
    result = await _meter_form(hass, simulator.port)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], _meter(signals={"load_high_kw": "nan"})
    )
    _assert_refused(hass, result, {"signals": "invalid_threshold"})


# --- defect 4: HTTP 500s ---------------------------------------------------------


async def test_http_meter_credentials_in_the_url_and_a_token(
    hass: HomeAssistant, http_meter: HttpMeter
) -> None:
    """Both would make aiohttp refuse the request: that crashed the flow (HTTP 500).

    The crashed flow had claimed the meter's unique id, so the next try was
    aborted as already in progress.
    """
    url = f"http://user:secret@127.0.0.1:{http_meter.port}{http_meter.path}"
    result = await start_http_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], http_form(url, access_token="abc")
    )
    _assert_refused(hass, result, {"access_token": "credentials_twice"})
    # The open dialog holds no claim on the meter: another one can add it.
    other = await start_http_flow(hass)
    other = await hass.config_entries.flow.async_configure(
        other["flow_id"], http_form(url)
    )
    assert other["type"] is FlowResultType.CREATE_ENTRY, other
    await hass.async_block_till_done()


async def test_http_meter_credentials_in_the_url_and_an_authorization_header(
    hass: HomeAssistant, http_meter: HttpMeter
) -> None:
    """The header is the second answer here: the error goes on the headers field."""
    url = f"http://user:secret@127.0.0.1:{http_meter.port}{http_meter.path}"
    result = await start_http_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], http_form(url, headers="Authorization: Basic eA==")
    )
    _assert_refused(hass, result, {"headers": "credentials_twice"})


async def test_reconfigure_http_meter_with_credentials_twice(
    hass: HomeAssistant, http_meter: HttpMeter
) -> None:
    """Reconfigure checks the form before reading: the entry keeps its URL."""
    result = await start_http_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], http_form(http_meter.url)
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY, result
    await hass.async_block_till_done()
    (entry,) = hass.config_entries.async_entries(DOMAIN)
    url = f"http://user:secret@127.0.0.1:{http_meter.port}{http_meter.path}"
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_RECONFIGURE, "entry_id": entry.entry_id}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], http_form(url, access_token="abc")
    )
    assert result["type"] is FlowResultType.FORM, result
    assert result["errors"] == {"access_token": "credentials_twice"}
    assert entry.data["url"] == http_meter.url


async def test_http_meter_token_with_a_line_break(
    hass: HomeAssistant, http_meter: HttpMeter
) -> None:
    """A CR/LF in the token would end the Authorization header early."""
    result = await start_http_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        http_form(http_meter.url, access_token="a\r\nX: y"),
    )
    _assert_refused(hass, result, {"access_token": "invalid_token"})


@pytest.mark.parametrize(
    ("userinfo", "token"),
    [("user:secret@", "abc"), ("", "a\r\nX: y")],
    ids=["credentials_and_token", "token_with_crlf"],
)
async def test_heat_pump_credentials_or_token_crash_the_flow(
    hass: HomeAssistant, heatpump_service: HeatPumpService, userinfo: str, token: str
) -> None:
    """The same two inputs in the heat-pump step: a form error, nothing stuck."""
    url = f"http://{userinfo}127.0.0.1:{heatpump_service.port}"
    result = await _menu(hass, "heat_pump")
    try:
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"],
            {
                "url": url,
                "access_token": token,
                "verify_ssl": True,
                "scan_interval": 15,
            },
        )
    finally:
        for flow in hass.config_entries.flow.async_progress():
            hass.config_entries.flow.async_abort(flow["flow_id"])
    assert result["type"] is FlowResultType.FORM
    assert result["errors"]


@pytest.mark.parametrize(
    "host",
    ["a" * 300, "gate\x00way", "a" * 64 + ".example"],
    ids=["300_characters", "nul", "label_of_64"],
)
async def test_a_host_no_resolver_takes_never_reaches_one(
    hass: HomeAssistant, host: str
) -> None:
    """Refused before any lookup (the harness's resolver raises RuntimeError)."""
    result = await _menu(hass, "gateway")
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], _gateway(502, host=host)
    )
    _assert_refused(hass, result, {"host": "unknown_host"})


async def test_reconfigure_onto_an_overlong_host(
    hass: HomeAssistant, simulator: ModbusSimulator
) -> None:
    """The gateway's reconfigure step refuses it the same way; the entry stays."""
    entry = await async_add_gateway(hass, simulator)
    result: Any = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_RECONFIGURE, "entry_id": entry.entry_id}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], _gateway(simulator.port, host="a" * 300)
    )
    assert result["errors"] == {"host": "unknown_host"}
    assert entry.data["host"] == "127.0.0.1"


@pytest.mark.parametrize("device", ["/dev/tty\x00USB0", "   "], ids=["nul", "spaces"])
async def test_a_serial_path_no_system_opens(hass: HomeAssistant, device: str) -> None:
    """A NUL made open() raise ValueError, which is not "cannot open"."""
    result = await _menu(hass, "serial")
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {
            "device": device,
            "baudrate": "9600",
            "parity": "none",
            "stopbits": "1",
            "timeout": 1,
        },
    )
    _assert_refused(hass, result, {"device": "invalid_device"})


async def test_http_meter_url_with_an_overlong_host(hass: HomeAssistant) -> None:
    """A host the IDNA codec refuses is not a usable URL."""
    result = await start_http_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], http_form("http://" + "a" * 300 + "/")
    )
    _assert_refused(hass, result, {"url": "invalid_url"})


def _write_user_profile(hass: HomeAssistant) -> Path:
    """The WAGO profile again, as a user's own file with the id `mine`."""
    text = BUILTIN_WAGO.read_text(encoding="utf-8")
    text = text.replace("id: wago_879_30xx", "id: mine").replace(
        "name: WAGO 879-30x0", "name: Mine"
    )
    folder = user_profile_dir(hass)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "mine.yaml"
    path.write_text(text, encoding="utf-8")
    return path


async def test_profile_removed_while_the_form_is_open(
    hass: HomeAssistant, simulator: ModbusSimulator
) -> None:
    """The dropdown offered it; by the submit its file is gone (was a KeyError)."""
    profile = _write_user_profile(hass)
    result = await _meter_form(hass, simulator.port)
    profile.unlink()
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], _meter(profile="mine")
    )
    _assert_refused(hass, result, {"profile": "unknown_profile"})


async def test_profile_removed_while_the_add_meter_form_is_open(
    hass: HomeAssistant, simulator: ModbusSimulator
) -> None:
    """The same in "Add meter" behind a running gateway."""
    entry = await async_add_gateway(hass, simulator)
    profile = _write_user_profile(hass)
    result: Any = await hass.config_entries.subentries.async_init(
        (entry.entry_id, SUBENTRY_METER), context={"source": SOURCE_USER}
    )
    profile.unlink()
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], _meter(unit_id=2, profile="mine")
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"profile": "unknown_profile"}
    assert len(entry.subentries) == 1


# --- defect 7: input accepted that should not be ----------------------------------


@pytest.mark.parametrize("unit_id", [0, 248, 255])
async def test_reserved_unit_ids_are_a_form_error(
    hass: HomeAssistant, simulator: ModbusSimulator, unit_id: int
) -> None:
    """Broadcast and reserved addresses: a translated error, not HTTP 400."""
    result = await _meter_form(hass, simulator.port)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], _meter(unit_id=unit_id)
    )
    _assert_refused(hass, result, {"unit_id": "invalid_unit_id"})


async def test_fractional_unit_id_in_add_meter(
    hass: HomeAssistant, simulator: ModbusSimulator
) -> None:
    """1.5 is no unit id: not cut to 1 (which is taken: that would abort)."""
    entry = await async_add_gateway(hass, simulator)
    result: Any = await hass.config_entries.subentries.async_init(
        (entry.entry_id, SUBENTRY_METER), context={"source": SOURCE_USER}
    )
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], _meter(unit_id=1.5)
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"unit_id": "invalid_unit_id"}


@pytest.mark.parametrize("port", [1.5, 0, 65536])
async def test_port_must_be_whole_and_in_range(
    hass: HomeAssistant, simulator: ModbusSimulator, port: float
) -> None:
    """1.5 was cut to 1 without a word."""
    result = await _menu(hass, "gateway")
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], _gateway(port)
    )
    _assert_refused(hass, result, {"port": "invalid_port"})


@pytest.mark.parametrize(
    "name",
    ["", "   ", "x" * 10_000, "x" * 101, "a\x00b"],
    ids=["empty", "spaces", "10000_characters", "101_characters", "nul"],
)
async def test_meter_name_is_needed_and_bounded(
    hass: HomeAssistant, simulator: ModbusSimulator, name: str
) -> None:
    """Empty gave `sensor.power`; 10,000 characters gave 255-character entity ids."""
    result = await _meter_form(hass, simulator.port)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], _meter(name=name)
    )
    _assert_refused(hass, result, {"name": "invalid_name"})


async def test_a_name_is_saved_stripped(
    hass: HomeAssistant, simulator: ModbusSimulator
) -> None:
    """Spaces around a name are not part of it; 100 characters are fine."""
    result = await _meter_form(hass, simulator.port)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], _meter(name="  Zähler ⚡ Küche  ")
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    (subentry,) = result["result"].subentries.values()
    assert subentry.title == "Zähler ⚡ Küche"
    assert result["data"]["port"] == simulator.port


@pytest.mark.parametrize("name", ["", "x" * 10_000], ids=["empty", "10000_characters"])
async def test_http_meter_name_is_needed_and_bounded(
    hass: HomeAssistant, http_meter: HttpMeter, name: str
) -> None:
    """The meters that are not on Modbus have the same rule."""
    result = await start_http_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], http_form(http_meter.url, name=name)
    )
    _assert_refused(hass, result, {"name": "invalid_name"})
