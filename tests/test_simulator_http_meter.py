"""The simulated HTTP meter: its documents, overrides, faults and request record.

Expected values are computed here from the household's own `values()`, never
copied from the meter's output, so a wrong key, unit or quantity fails.
"""

import asyncio
from collections.abc import AsyncGenerator
import json
import time
from typing import Any

import aiohttp
import pytest

from custom_components.energy_meters.meterlib.model import Quantity
from simulator.household import Household
from simulator.http_meter import HttpMeter, MeterFault, MeterShape

from .helpers import fixture_household, mean_voltage  # noqa: F401


@pytest.fixture
async def meter(
    socket_enabled: None, household: Household
) -> AsyncGenerator[HttpMeter]:
    """A flat-shape meter on 127.0.0.1, stopped after the test."""
    meter = HttpMeter(household)
    await meter.start()
    yield meter
    await meter.stop()


@pytest.fixture
async def http(socket_enabled: None) -> AsyncGenerator[aiohttp.ClientSession]:
    """A plain HTTP client."""
    async with aiohttp.ClientSession() as session:
        yield session


async def _get(
    http: aiohttp.ClientSession, url: str, method: str = "GET", **kwargs: Any
) -> tuple[int, str, str]:
    """Return (status, content type, body text)."""
    async with http.request(method, url, **kwargs) as response:
        return response.status, response.content_type, await response.text()


async def _json(http: aiohttp.ClientSession, url: str, **kwargs: Any) -> Any:
    status, content_type, text = await _get(http, url, **kwargs)
    assert (status, content_type) == (200, "application/json")
    return json.loads(text)


async def test_url_is_loopback_with_the_real_port(meter: HttpMeter) -> None:
    """The URL names 127.0.0.1, the port the system picked and the path."""
    assert meter.port != 0
    assert meter.url == f"http://127.0.0.1:{meter.port}/meter"


async def test_flat_shape(
    meter: HttpMeter, household: Household, http: aiohttp.ClientSession
) -> None:
    """Power in kW, energy in kWh, mean voltage, L1 current, total PF, Hz."""
    values = household.values()
    body = await _json(http, meter.url)
    assert body == {
        "power_kw": pytest.approx(values[Quantity.POWER_TOTAL] / 1000),
        "energy_kwh": pytest.approx(values[Quantity.ENERGY_IMPORT_TOTAL]),
        "voltage": pytest.approx(mean_voltage(values)),
        "current": pytest.approx(values[Quantity.CURRENT_L1]),
        "power_factor": pytest.approx(values[Quantity.POWER_FACTOR]),
        "frequency": pytest.approx(values[Quantity.FREQUENCY]),
    }


async def test_alternate_shape(
    meter: HttpMeter, household: Household, http: aiohttp.ClientSession
) -> None:
    """CamelCase keys, power in W."""
    meter.shape = MeterShape("alternate")
    values = household.values()
    assert await _json(http, meter.url) == {
        "activePower": pytest.approx(values[Quantity.POWER_TOTAL]),
        "totalEnergy": pytest.approx(values[Quantity.ENERGY_IMPORT_TOTAL]),
        "voltage": pytest.approx(mean_voltage(values)),
    }


async def test_nested_shape(
    socket_enabled: None, household: Household, http: aiohttp.ClientSession
) -> None:
    """Power in W and energy in Wh, deep inside a list, on a custom path."""
    meter = HttpMeter(household, path="/api/v1/status", shape="nested")
    await meter.start()
    try:
        assert meter.url.endswith("/api/v1/status")
        values = household.values()
        body = await _json(http, meter.url)
        assert body == {
            "data": {
                "meters": [
                    {
                        "id": "main",
                        "readings": {
                            "p": pytest.approx(values[Quantity.POWER_TOTAL]),
                            "e": pytest.approx(
                                values[Quantity.ENERGY_IMPORT_TOTAL] * 1000
                            ),
                        },
                    }
                ]
            }
        }
        assert (await _get(http, meter.url.removesuffix("/status")))[0] == 404
    finally:
        await meter.stop()


async def test_readings_follow_the_household(
    meter: HttpMeter, household: Household, http: aiohttp.ClientSession
) -> None:
    """Each request reads the household anew: the energy counter moves on."""
    before = (await _json(http, meter.url))["energy_kwh"]
    household.advance(600)
    after = await _json(http, meter.url)
    assert after["energy_kwh"] > before
    assert after["energy_kwh"] == pytest.approx(
        household.values()[Quantity.ENERGY_IMPORT_TOTAL]
    )


async def test_get_and_post_are_served_and_recorded(
    meter: HttpMeter, household: Household, http: aiohttp.ClientSession
) -> None:
    """Both methods answer the same document; method, headers and body are kept."""
    assert (meter.requests, meter.last_method) == (0, None)
    got = await _json(http, meter.url, headers={"X-Api-Key": "k1"})
    assert (meter.requests, meter.last_method) == (1, "GET")
    assert meter.last_headers["x-api-key"] == "k1"
    posted = await _json(
        http,
        meter.url,
        method="POST",
        json={"method": "get_status"},
        headers={"Authorization": "Bearer abc"},
    )
    assert posted == got
    assert (meter.requests, meter.last_method) == (2, "POST")
    assert meter.last_headers["Authorization"] == "Bearer abc"
    assert "X-Api-Key" not in meter.last_headers
    assert json.loads(meter.last_body) == {"method": "get_status"}
    assert (await _get(http, meter.url, method="PUT"))[0] == 405
    assert (await _get(http, f"{meter.url}/other"))[0] == 404
    assert meter.requests == 2


async def test_override_serves_exact_numbers(
    meter: HttpMeter, household: Household, http: aiohttp.ClientSession
) -> None:
    """Overridden keys are served as given; the others still follow the household."""
    meter.override = {"power_kw": 1.5, "energy_kwh": 100.0, "temperature": 21.5}
    body = await _json(http, meter.url)
    assert (body["power_kw"], body["energy_kwh"], body["temperature"]) == (
        1.5,
        100.0,
        21.5,
    )
    assert body["frequency"] == pytest.approx(household.values()[Quantity.FREQUENCY])
    meter.override = {"current": None}
    assert (await _json(http, meter.url))["current"] is None
    meter.shape = MeterShape.NESTED
    meter.override = {"p": 2500, "e": 7.0}
    readings = (await _json(http, meter.url))["data"]["meters"][0]["readings"]
    assert readings == {"p": 2500, "e": 7.0}
    meter.override = {}
    readings = (await _json(http, meter.url))["data"]["meters"][0]["readings"]
    assert readings["p"] == pytest.approx(household.values()[Quantity.POWER_TOTAL])


async def test_status_500_until_cleared(
    meter: HttpMeter, http: aiohttp.ClientSession
) -> None:
    """A crashed meter answers 500 with a JSON detail, until the fault is lifted."""
    meter.fail("status_500")
    for _ in range(3):
        status, content_type, text = await _get(http, meter.url)
        assert (status, content_type) == (500, "application/json")
        assert json.loads(text) == {"detail": "meter offline"}
    assert (meter.requests, meter.fault) == (3, MeterFault.STATUS_500)
    meter.clear()
    assert (meter.requests, meter.fault) == (3, None)
    assert "power_kw" in await _json(http, meter.url)


async def test_html_page(meter: HttpMeter, http: aiohttp.ClientSession) -> None:
    """A 200 that is not JSON at all."""
    meter.fail(MeterFault.HTML)
    status, content_type, text = await _get(http, meter.url)
    assert (status, content_type) == (200, "text/html")
    assert text.lstrip().lower().startswith("<!doctype html>")
    with pytest.raises(json.JSONDecodeError):
        json.loads(text)
    meter.clear()
    assert "power_kw" in await _json(http, meter.url)


async def test_truncated_json(
    meter: HttpMeter, household: Household, http: aiohttp.ClientSession
) -> None:
    """Announced as JSON, the body stops half-way and does not parse."""
    meter.fail("truncated")
    status, content_type, text = await _get(http, meter.url)
    assert (status, content_type) == (200, "application/json")
    with pytest.raises(json.JSONDecodeError):
        json.loads(text)
    meter.clear()
    status, _, full = await _get(http, meter.url)
    assert status == 200
    assert full.startswith(text)
    assert len(text) == len(full) // 2


@pytest.mark.parametrize(
    ("shape", "path"),
    [
        ("flat", ("power_kw",)),
        ("alternate", ("activePower",)),
        ("nested", ("data", "meters", 0, "readings", "p")),
    ],
)
async def test_not_a_number_spoils_only_the_power(
    meter: HttpMeter,
    household: Household,
    http: aiohttp.ClientSession,
    shape: str,
    path: tuple[str | int, ...],
) -> None:
    """The power field holds "n/a" in every shape; the energy stays a number."""
    meter.shape = MeterShape(shape)
    meter.fail("not_a_number", count=1)
    body = await _json(http, meter.url)
    node: Any = body
    for step in path:
        node = node[step]
    assert node == "n/a"
    assert "n/a" not in json.dumps(body).replace('"n/a"', "", 1)
    body = await _json(http, meter.url)
    node = body
    for step in path:
        node = node[step]
    assert isinstance(node, float)
    assert meter.fault is None


async def test_count_limits_a_fault(
    meter: HttpMeter, http: aiohttp.ClientSession
) -> None:
    """`count` requests misbehave, then the meter heals by itself."""
    meter.fail("status_500", count=2)
    statuses = [(await _get(http, meter.url))[0] for _ in range(4)]
    assert statuses == [500, 500, 200, 200]
    assert meter.requests == 4
    assert meter.fault is None


async def test_silence_outlasts_the_client_timeout(
    meter: HttpMeter, http: aiohttp.ClientSession
) -> None:
    """A silent meter lets the client time out; a short delay answers late."""
    meter.fail("silence", count=1)
    timeout = aiohttp.ClientTimeout(total=0.2)
    with pytest.raises(TimeoutError):
        await _get(http, meter.url, timeout=timeout)
    assert meter.requests == 1
    meter.fail("silence", count=1, delay=0.2)
    started = time.monotonic()
    body = await _json(http, meter.url)
    assert time.monotonic() - started >= 0.2
    assert "power_kw" in body


async def test_stop_does_not_wait_for_a_silent_request(
    socket_enabled: None, household: Household, http: aiohttp.ClientSession
) -> None:
    """Stopping wakes a request held for 60 s, instead of waiting it out."""
    meter = HttpMeter(household)
    await meter.start()
    meter.fail("silence", delay=60.0)
    request = asyncio.create_task(_get(http, meter.url))
    for _ in range(500):  # until the request is being held
        if meter.requests:
            break
        await asyncio.sleep(0.01)
    assert meter.requests == 1
    started = time.monotonic()
    async with asyncio.timeout(5):
        await meter.stop()
    assert time.monotonic() - started < 2.0
    try:
        async with asyncio.timeout(5):
            await request
    except aiohttp.ClientError:
        pass  # the connection closed under the request: also fine


async def test_bearer_token(
    socket_enabled: None, household: Household, http: aiohttp.ClientSession
) -> None:
    """With a token, only ``Authorization: Bearer <token>`` gets the reading."""
    meter = HttpMeter(household, token="s3cret")
    await meter.start()
    try:
        status, _, text = await _get(http, meter.url)
        assert status == 401
        assert json.loads(text) == {"detail": "Not authenticated"}
        wrong = {"Authorization": "Bearer nope"}
        assert (await _get(http, meter.url, headers=wrong))[0] == 401
        good = {"Authorization": "Bearer s3cret"}
        assert "power_kw" in await _json(http, meter.url, headers=good)
        assert meter.requests == 3
        assert meter.last_headers["authorization"] == "Bearer s3cret"
    finally:
        await meter.stop()


def test_bad_arguments(household: Household) -> None:
    """Unknown shapes and fault kinds, relative paths and empty counts are refused."""
    with pytest.raises(ValueError, match="shape"):
        HttpMeter(household, shape="deep")
    with pytest.raises(ValueError, match="path"):
        HttpMeter(household, path="meter")
    meter = HttpMeter(household)
    with pytest.raises(ValueError, match="kind"):
        meter.fail("explode")
    with pytest.raises(ValueError, match="count"):
        meter.fail("html", count=0)
    with pytest.raises(ValueError, match="delay"):
        meter.fail("silence", delay=-1)
    assert meter.fault is None
