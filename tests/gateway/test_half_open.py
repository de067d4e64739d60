"""A half-open gateway (accepts the connection, never answers): found in one poll.

Such a gateway used to be taken for silent meters: each meter timed out on
every poll and was backed off one by one, so meters went unavailable only
after 82 s, and were fresh 12-42 s after the gateway came back.
"""

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from homeassistant.config_entries import SOURCE_USER
from homeassistant.core import HomeAssistant

from custom_components.energy_meters.const import SUBENTRY_METER
from simulator.server import ModbusSimulator
from tests.helpers import async_add_gateway


@asynccontextmanager
async def _silent_gateway(port: int) -> AsyncIterator[None]:
    """A TCP server on `port` that takes every request and answers none."""
    held: list[asyncio.StreamWriter] = []

    async def swallow(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        held.append(writer)
        while await reader.read(256):
            pass

    server = await asyncio.start_server(swallow, "127.0.0.1", port)
    try:
        yield
    finally:
        server.close()
        for writer in held:
            writer.close()
        await server.wait_closed()


async def _timed_poll(hass: HomeAssistant, refresh: Callable[[], object]) -> float:
    started = hass.loop.time()
    await refresh()  # type: ignore[misc]
    await hass.async_block_till_done()
    return hass.loop.time() - started


async def test_half_open_gateway_costs_one_timeout_per_poll_and_recovers(
    hass: HomeAssistant, simulator: ModbusSimulator
) -> None:
    """Unavailable after three polls of one timeout each; fresh at the first poll back."""
    entry = await async_add_gateway(hass, simulator, name="Heat pump")
    result: Any = await hass.config_entries.subentries.async_init(
        (entry.entry_id, SUBENTRY_METER), context={"source": SOURCE_USER}
    )
    await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"unit_id": 2, "profile": "wago_879_30xx", "name": "House"}
    )
    await hass.async_block_till_done()
    coordinator = entry.runtime_data
    port = simulator.port
    await simulator.stop()
    async with _silent_gateway(port):
        durations = [
            await _timed_poll(hass, coordinator.async_refresh) for _ in range(3)
        ]
        for meter in ("heat_pump", "house"):
            state = hass.states.get(f"sensor.{meter}_power")
            assert state is not None
            assert state.state == "unavailable", meter
        connectivity = [
            s
            for s in hass.states.async_all("binary_sensor")
            if "connectivity" in s.entity_id
        ]
        assert [s.state for s in connectivity] == ["off"]
    # Timeout 1 s, two meters: one timeout per poll, not one per meter.
    assert max(durations) < 1.9, durations
    await simulator.start()
    await _timed_poll(hass, coordinator.async_refresh)
    for meter in ("heat_pump", "house"):
        state = hass.states.get(f"sensor.{meter}_power")
        assert state is not None
        assert state.state not in ("unknown", "unavailable"), meter
