"""Diagnostics download."""

from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.energy_meters.redaction import redact_text
from simulator.http_meter import HttpMeter
from simulator.server import ModbusSimulator
from tests.helpers import async_add_gateway
from tests.single_meter_fixtures import (  # noqa: F401
    async_add_http_meter,
    fixture_http_meter,
)


async def test_diagnostics_redact_the_host(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    simulator: ModbusSimulator,
) -> None:
    """The host never leaves the house; plans and raw registers do."""
    entry = await async_add_gateway(hass, simulator)
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, entry)
    assert diagnostics["entry"]["data"]["host"] == "**REDACTED**"
    assert "127.0.0.1" not in str(diagnostics)
    (meter,) = diagnostics["meters"].values()
    assert meter["profile"] == "wago_879_30xx"
    assert [(p["address"], p["count"]) for p in meter["plan"]] == [
        (0x5000, 56),
        (0x6000, 62),
    ]
    assert meter["available"] is True
    assert len(meter["reading"]["raw_registers"]["fc3@20480"]) == 56
    assert meter["reading"]["values"]["frequency"] > 45


async def test_error_texts_name_no_host(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    simulator: ModbusSimulator,
) -> None:
    """'cannot connect to <host>:<port>' keeps its cause and loses the host."""
    entry = await async_add_gateway(hass, simulator)
    await simulator.stop()
    await entry.runtime_data.async_refresh()
    await hass.async_block_till_done()
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, entry)
    (meter,) = diagnostics["meters"].values()
    assert meter["last_error"].startswith("cannot connect to **REDACTED**")
    assert "127.0.0.1" not in str(diagnostics)


async def test_an_http_meters_error_keeps_no_key_or_host(
    hass: HomeAssistant, hass_client: ClientSessionGenerator, http_meter: HttpMeter
) -> None:
    """The URL's API key and host are redacted in the error text too."""
    url = f"{http_meter.url}?apikey=s3cret-key"
    entry = await async_add_http_meter(hass, url, access_token="t0ken")
    http_meter.fail("status_500")
    await entry.runtime_data.async_refresh()
    await hass.async_block_till_done()
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, entry)
    assert "500" in diagnostics["last_error"]
    for secret in ("s3cret-key", "t0ken", "127.0.0.1"):
        assert secret not in str(diagnostics)


def test_redact_text_strips_every_url_and_secret() -> None:
    """Credentials, host and query go; the scheme, the path and the cause stay."""
    text = (
        "HTTP 500 from https://user:pw@meter.local:8443/api/v1?apikey=k "
        "(token abc); retry at meter.local"
    )
    assert redact_text(text, {"meter.local", "abc", ""}) == (
        "HTTP 500 from https://**REDACTED**/api/v1 (token **REDACTED**); "
        "retry at **REDACTED**"
    )
    assert redact_text(None, {"x"}) is None
    assert redact_text("no secrets here", set()) == "no secrets here"
