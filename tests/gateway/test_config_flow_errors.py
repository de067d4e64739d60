"""The config flow's rarer errors, each on the field the user has to change.

Modbus exceptions come from real servers: the simulator (exception 4, a meter
failure) and a gateway whose serial side is gone, which answers every request
with exception 10 in hand-encoded Modbus TCP frames, as such a gateway does.
"""

import asyncio
from collections.abc import AsyncIterator, Callable
import logging
import socket
import struct
from typing import Any

from homeassistant.config_entries import (
    SOURCE_RECONFIGURE,
    SOURCE_USER,
    ConfigEntryState,
)
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
import pytest
from pytest_homeassistant_custom_component import plugins as ha_test_plugins

from custom_components.energy_meters.const import DOMAIN, SUBENTRY_METER
from custom_components.energy_meters.meterlib.companions.errors import CompanionError
from custom_components.energy_meters.single_meters.flow import _http_read_error
from simulator.faults import Fault
from simulator.server import ModbusSimulator
from tests.helpers import async_add_gateway


@pytest.fixture
async def pathless_gateway(socket_enabled: None) -> AsyncIterator[int]:
    """A Modbus TCP gateway that answers every request with exception 10."""

    async def answer(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        try:
            while True:
                header = await reader.readexactly(7)
                transaction, _, length, unit = struct.unpack(">HHHB", header)
                pdu = await reader.readexactly(length - 1)
                reply = bytes([pdu[0] | 0x80, 10])
                writer.write(
                    struct.pack(">HHHB", transaction, 0, len(reply) + 1, unit) + reply
                )
                await writer.drain()
        except asyncio.IncompleteReadError, ConnectionError:
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    yield server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()


async def _meter_form(hass: HomeAssistant, port: int) -> Any:
    result: Any = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "gateway"}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {"host": "127.0.0.1", "port": port, "framing": "tcp", "timeout": 1},
    )
    assert result["step_id"] == "meter"
    return result


async def test_gateway_without_its_serial_side(
    hass: HomeAssistant, pathless_gateway: int
) -> None:
    """Exception 10 is the gateway's fault, not the profile's: said on the unit id."""
    result = await _meter_form(hass, pathless_gateway)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"unit_id": 1, "profile": "wago_879_30xx", "name": "X"}
    )
    assert result["errors"] == {"unit_id": "gateway_path"}


async def test_meter_failure_is_not_a_wrong_profile(
    hass: HomeAssistant, simulator: ModbusSimulator
) -> None:
    """Exception 4 (the meter's own failure) names the register, not the profile."""
    result = await _meter_form(hass, simulator.port)
    simulator.meters[0].faults.inject(Fault.EXCEPTION, count=None)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"unit_id": 1, "profile": "wago_879_30xx", "name": "X"}
    )
    assert result["errors"] == {"unit_id": "device_failure"}
    assert result["description_placeholders"]["code"] == "4"


async def test_gateway_gone_before_the_meter_step(
    hass: HomeAssistant, simulator: ModbusSimulator
) -> None:
    """The gateway answered the first step and is gone at the second."""
    result = await _meter_form(hass, simulator.port)
    await simulator.stop()
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"unit_id": 1, "profile": "wago_879_30xx", "name": "X"}
    )
    assert result["errors"] == {"base": "cannot_connect"}


async def test_reconfigure_onto_a_host_that_does_not_resolve(
    hass: HomeAssistant, simulator: ModbusSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The gateway keeps its address; the host field says why."""
    entry = await async_add_gateway(hass, simulator)
    monkeypatch.setattr(socket, "getaddrinfo", ha_test_plugins._real_getaddrinfo)
    result: Any = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_RECONFIGURE, "entry_id": entry.entry_id}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {"host": "gate\x00way", "port": simulator.port, "framing": "tcp", "timeout": 1},
    )
    assert result["errors"] == {"host": "unknown_host"}
    assert entry.data["host"] == "127.0.0.1"


async def test_add_meter_while_the_gateway_is_not_loaded(
    hass: HomeAssistant, simulator: ModbusSimulator
) -> None:
    """A gateway waiting to retry its setup: the new meter is read over a new link."""
    entry = await async_add_gateway(hass, simulator)
    await hass.config_entries.async_unload(entry.entry_id)
    assert entry.state is ConfigEntryState.NOT_LOADED
    result: Any = await hass.config_entries.subentries.async_init(
        (entry.entry_id, SUBENTRY_METER), context={"source": SOURCE_USER}
    )
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"unit_id": 2, "profile": "wago_879_30xx", "name": "House"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()


def test_an_unforeseen_service_error_is_still_an_answer() -> None:
    """A failure of a kind the HTTP meter's form does not name keeps its text."""
    assert _http_read_error(CompanionError("odd")) == (
        "http_invalid_response",
        {"error": "odd"},
    )


async def test_a_silent_unit_logs_nothing_of_pymodbus(
    hass: HomeAssistant, simulator: ModbusSimulator, caplog: pytest.LogCaptureFixture
) -> None:
    """A unit-id probe is a question, not a fault: no ERROR lines, no hex dumps.

    The manifest names pymodbus among the integration's loggers, so its lines
    land in Settings -> System -> Logs as this integration's errors.
    """
    result = await _meter_form(hass, simulator.port)
    caplog.clear()
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"unit_id": 9, "profile": "wago_879_30xx", "name": "X"}
    )
    assert result["errors"] == {"unit_id": "no_response"}
    noisy = [
        record.getMessage()
        for record in caplog.records
        if record.name.startswith("pymodbus") and record.levelno >= logging.INFO
    ]
    assert noisy == []


def _no_such_name(
    name: str,
) -> Callable[..., list[tuple[Any, ...]]]:
    """The resolver's answer for a name no DNS server knows (none answers here)."""

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> list[tuple[Any, ...]]:
        if host == name:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        result: list[tuple[Any, ...]] = ha_test_plugins._real_getaddrinfo(
            host, *args, **kwargs
        )
        return result

    return getaddrinfo


async def test_a_gateway_name_that_does_not_resolve(
    hass: HomeAssistant, socket_enabled: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A well-formed name the resolver does not know: an error on the host field."""
    monkeypatch.setattr(socket, "getaddrinfo", _no_such_name("gateway.home.arpa"))
    result: Any = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "gateway"}
    )
    form = {"host": "gateway.home.arpa", "port": 502, "framing": "tcp", "timeout": 1}
    result = await hass.config_entries.flow.async_configure(result["flow_id"], form)
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"host": "unknown_host"}
    assert not hass.config_entries.async_entries(DOMAIN)


async def test_reconfigure_onto_a_name_that_does_not_resolve(
    hass: HomeAssistant, simulator: ModbusSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The gateway keeps its address when the new name is unknown to the resolver."""
    entry = await async_add_gateway(hass, simulator)
    monkeypatch.setattr(socket, "getaddrinfo", _no_such_name("gateway.home.arpa"))
    result: Any = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_RECONFIGURE, "entry_id": entry.entry_id}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {
            "host": "gateway.home.arpa",
            "port": simulator.port,
            "framing": "tcp",
            "timeout": 1,
        },
    )
    assert result["errors"] == {"host": "unknown_host"}
    assert entry.data["host"] == "127.0.0.1"
