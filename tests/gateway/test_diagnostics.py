"""Diagnostics download."""

from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from simulator.server import ModbusSimulator
from tests.helpers import async_add_gateway


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
