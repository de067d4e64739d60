"""The companion services' config, reconfigure and reauth flows, for real.

Every error the user can meet is produced by a real server on 127.0.0.1:
nothing listening, the other service, an unrelated JSON API, a token
demanded, an HTML page, JSON cut short, an error status.
"""

from collections.abc import AsyncGenerator
from typing import Any

from aiohttp import web
from homeassistant.config_entries import (
    SOURCE_RECONFIGURE,
    SOURCE_USER,
    ConfigEntry,
    ConfigEntryState,
)
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
import pytest
from pytest_homeassistant_custom_component.common import start_reauth_flow

from custom_components.energy_meters.const import DOMAIN
from simulator.services import FaultKind, HeatPumpService, ThermostatService
from simulator.services.server import ServiceServer
from tests.companions_fixtures import (
    async_add_service,
    fixture_fast_timeout,  # noqa: F401  (fixture)
    fixture_heatpump_service,  # noqa: F401  (fixture)
    fixture_thermostat_service,  # noqa: F401  (fixture)
)
from tests.helpers import free_port


@pytest.fixture
async def other_api(hass: HomeAssistant, socket_enabled: None) -> AsyncGenerator[str]:
    """Some other JSON API: answers every GET with an object of its own shape."""

    async def anything(_request: web.Request) -> web.Response:
        return web.json_response({"name": "printer", "status": "idle"})

    app = web.Application()
    app.router.add_get("/{tail:.*}", anything)
    server = ServiceServer(app, "127.0.0.1", 0)
    await server.start()
    yield server.url
    await server.stop()


async def _form(hass: HomeAssistant, kind: str) -> Any:
    result: Any = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    assert result["type"] is FlowResultType.MENU
    assert {"heat_pump", "thermostat"} <= set(result["menu_options"])
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": kind}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == kind
    return result


async def _submit(hass: HomeAssistant, kind: str, url: str, **extra: Any) -> Any:
    result = await _form(hass, kind)
    return await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {"url": url, "verify_ssl": True, "scan_interval": 20, **extra},
    )


async def test_heat_pump_happy_path(
    hass: HomeAssistant, heatpump_service: HeatPumpService
) -> None:
    """URL (trailing slash and all), interval: one entry, loaded."""
    result = await _submit(hass, "heat_pump", heatpump_service.url + "/")
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == f"Heat pump 127.0.0.1:{heatpump_service.port}"
    assert result["data"] == {
        "kind": "heat_pump",
        "url": heatpump_service.url,
        "verify_ssl": True,
        "scan_interval": 20,
    }
    entry: ConfigEntry = result["result"]
    assert entry.unique_id == heatpump_service.url
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert entry.supports_options
    assert entry.supported_subentry_types == {}


async def test_thermostat_happy_path_with_token(
    hass: HomeAssistant, thermostat_service: ThermostatService
) -> None:
    """A proxy wants a token: given in the form, stored, and sent."""
    thermostat_service.faults.token = "abc"
    result = await _submit(
        hass, "thermostat", thermostat_service.url, access_token=" abc "
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"]["access_token"] == "abc"
    assert result["data"]["kind"] == "thermostat"
    entry: ConfigEntry = result["result"]
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert not entry.supports_options


async def test_unreachable(hass: HomeAssistant, socket_enabled: None) -> None:
    """Nothing listens: a clear error, nothing saved."""
    result = await _submit(hass, "heat_pump", f"http://127.0.0.1:{free_port()}")
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "service_unreachable"}
    assert "cannot reach" in result["description_placeholders"]["error"]
    assert not hass.config_entries.async_entries(DOMAIN)


async def test_timeout(
    hass: HomeAssistant, heatpump_service: HeatPumpService, fast_timeout: float
) -> None:
    """A service that does not answer in time is unreachable too."""
    heatpump_service.faults.inject(FaultKind.SLOW, delay=fast_timeout * 2)
    result = await _submit(hass, "heat_pump", heatpump_service.url)
    assert result["errors"] == {"base": "service_unreachable"}
    assert "no answer" in result["description_placeholders"]["error"]


@pytest.mark.parametrize(
    ("kind", "other"), [("heat_pump", "thermostat"), ("thermostat", "heat_pump")]
)
async def test_the_other_service_is_not_this_one(
    hass: HomeAssistant,
    heatpump_service: HeatPumpService,
    thermostat_service: ThermostatService,
    kind: str,
    other: str,
) -> None:
    """The thermostat's URL given for the heat pump (and back): wrong service."""
    urls = {"heat_pump": heatpump_service.url, "thermostat": thermostat_service.url}
    result = await _submit(hass, kind, urls[other])
    assert result["errors"] == {"base": "wrong_service"}
    assert "404" in result["description_placeholders"]["error"]


@pytest.mark.parametrize("kind", ["heat_pump", "thermostat"])
async def test_some_other_json_api(
    hass: HomeAssistant, other_api: str, kind: str
) -> None:
    """JSON, but not shaped like this service's: wrong service, the field named."""
    result = await _submit(hass, kind, other_api)
    assert result["errors"] == {"base": "wrong_service"}
    assert "field" in result["description_placeholders"]["error"]


async def test_token_required(
    hass: HomeAssistant, heatpump_service: HeatPumpService
) -> None:
    """401 without the token, then the same form accepts the right one."""
    heatpump_service.faults.token = "right"
    result = await _submit(
        hass, "heat_pump", heatpump_service.url, access_token="wrong"
    )
    assert result["errors"] == {"base": "invalid_auth"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {
            "url": heatpump_service.url,
            "access_token": "right",
            "verify_ssl": True,
            "scan_interval": 15,
        },
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        (FaultKind.HTML, "invalid_response"),
        (FaultKind.TRUNCATED, "invalid_response"),
        (FaultKind.SERVER_ERROR, "service_error"),
        (FaultKind.UNAUTHORIZED, "invalid_auth"),
    ],
)
async def test_broken_answers(
    hass: HomeAssistant,
    thermostat_service: ThermostatService,
    fault: FaultKind,
    error: str,
) -> None:
    """An HTML page, JSON cut short, HTTP 500, 401: each its own message."""
    thermostat_service.faults.inject(fault)
    result = await _submit(hass, "thermostat", thermostat_service.url)
    assert result["errors"] == {"base": error}
    assert result["description_placeholders"]["error"]


async def test_heat_pump_not_ready_yet(
    hass: HomeAssistant, socket_enabled: None
) -> None:
    """Before its first poll the service answers 500: the message says why."""
    service = HeatPumpService(polled=False)
    await service.start()
    try:
        result = await _submit(hass, "heat_pump", service.url)
        assert result["errors"] == {"base": "service_error"}
        assert "500" in result["description_placeholders"]["error"]
    finally:
        await service.stop()


@pytest.mark.parametrize(
    "url", ["127.0.0.1:8002", "ftp://127.0.0.1", "http://", "http://[::1"]
)
async def test_invalid_url(hass: HomeAssistant, url: str) -> None:
    """A URL without http(s) or host: the error sits on the URL field."""
    result = await _submit(hass, "heat_pump", url)
    assert result["errors"] == {"url": "invalid_url"}


async def test_same_url_twice_is_aborted(
    hass: HomeAssistant, heatpump_service: HeatPumpService
) -> None:
    """One entry per base URL, however it is spelt."""
    await async_add_service(hass, "heat_pump", heatpump_service.url)
    result = await _submit(
        hass, "heat_pump", heatpump_service.url.replace("http://", "HTTP://") + "/"
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "service_already_configured"


async def _reconfigure(hass: HomeAssistant, entry: ConfigEntry) -> Any:
    result: Any = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_RECONFIGURE, "entry_id": entry.entry_id}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reconfigure_service"
    return result


async def test_reconfigure_changes_url_and_interval(
    hass: HomeAssistant, heatpump_service: HeatPumpService, socket_enabled: None
) -> None:
    """The service moved to another port: tested, saved, reloaded; ids stay."""
    entry = await async_add_service(hass, "heat_pump", heatpump_service.url)
    moved = HeatPumpService()
    await moved.start()
    try:
        result = await _reconfigure(hass, entry)
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"],
            {
                "url": f"http://127.0.0.1:{free_port()}",
                "verify_ssl": True,
                "scan_interval": 30,
            },
        )
        assert result["errors"] == {"base": "service_unreachable"}
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"],
            {"url": moved.url, "verify_ssl": False, "scan_interval": 30},
        )
        assert result["type"] is FlowResultType.ABORT
        assert result["reason"] == "reconfigure_successful"
        await hass.async_block_till_done()
        assert entry.data["url"] == moved.url
        assert entry.data["scan_interval"] == 30
        assert entry.data["verify_ssl"] is False
        assert entry.unique_id == moved.url
        assert entry.title == f"Heat pump 127.0.0.1:{moved.port}"
        assert entry.state is ConfigEntryState.LOADED
        assert entry.runtime_data.client.base_url == moved.url
        await hass.config_entries.async_unload(entry.entry_id)
    finally:
        await moved.stop()


async def test_reconfigure_checks_kind_url_and_duplicates(
    hass: HomeAssistant,
    heatpump_service: HeatPumpService,
    thermostat_service: ThermostatService,
) -> None:
    """A thermostat entry cannot be pointed at the heat pump, nor at a configured URL."""
    await async_add_service(hass, "heat_pump", heatpump_service.url)
    entry = await async_add_service(hass, "thermostat", thermostat_service.url)
    result = await _reconfigure(hass, entry)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"url": "nonsense", "verify_ssl": True, "scan_interval": 15}
    )
    assert result["errors"] == {"url": "invalid_url"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {"url": heatpump_service.url, "verify_ssl": True, "scan_interval": 15},
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "service_already_configured"


async def test_reauth_with_a_wrong_then_the_right_token(
    hass: HomeAssistant, thermostat_service: ThermostatService
) -> None:
    """Setup refused (401): a reauth flow; a wrong token is refused, the right one reloads."""
    entry = await async_add_service(hass, "thermostat", thermostat_service.url)
    await hass.config_entries.async_unload(entry.entry_id)
    thermostat_service.faults.token = "fresh"
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.SETUP_ERROR
    (flow,) = [
        flow
        for flow in hass.config_entries.flow.async_progress_by_handler(DOMAIN)
        if flow["context"]["source"] == "reauth"
    ]
    result = await hass.config_entries.flow.async_configure(
        flow["flow_id"], {"access_token": "stale"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reauth_confirm"
    assert result["errors"] == {"base": "invalid_auth"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"access_token": "fresh"}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    await hass.async_block_till_done()
    assert entry.data["access_token"] == "fresh"
    assert entry.state is ConfigEntryState.LOADED


async def test_reauth_can_remove_the_token(
    hass: HomeAssistant, thermostat_service: ThermostatService
) -> None:
    """The proxy is gone: an empty token field removes the stored token."""
    thermostat_service.faults.token = "old"
    entry = await async_add_service(
        hass, "thermostat", thermostat_service.url, access_token="old"
    )
    thermostat_service.faults.token = None
    result = await start_reauth_flow(hass, entry)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["reason"] == "reauth_successful"
    await hass.async_block_till_done()
    assert "access_token" not in entry.data


async def test_a_broken_answer_shows_what_came_back(
    hass: HomeAssistant, thermostat_service: ThermostatService
) -> None:
    """An HTML page: the form quotes its start (tags defused), not only "HTML"."""
    thermostat_service.faults.inject(FaultKind.HTML)
    result = await _submit(hass, "thermostat", thermostat_service.url)
    shown = result["description_placeholders"]["error"]
    assert "502 Bad Gateway" in shown
    assert "<" not in shown


async def test_a_thermostat_at_a_configured_heat_pumps_url_is_the_wrong_service(
    hass: HomeAssistant, heatpump_service: HeatPumpService
) -> None:
    """Not "already configured": the URL belongs to the heat pump, and the form says so."""
    await async_add_service(hass, "heat_pump", heatpump_service.url)
    result = await _submit(hass, "thermostat", heatpump_service.url)
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "wrong_service"}
