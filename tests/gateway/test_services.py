"""The read_registers action, through a gateway's running connection to the simulator."""

import struct
from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import device_registry as dr
import pytest

from custom_components.energy_meters.const import DOMAIN
from custom_components.energy_meters.meterlib.model import Quantity
from simulator.server import ModbusSimulator
from tests.helpers import async_add_gateway, wago_meter

POWER_TOTAL = 0x5012  # WAGO: total power, float32 ABCD, kW
FREQUENCY = 0x5008


async def _read(hass: HomeAssistant, **data: Any) -> dict[str, Any]:
    response = await hass.services.async_call(
        DOMAIN, "read_registers", data, blocking=True, return_response=True
    )
    assert response is not None
    return dict(response)


@pytest.fixture
async def gateway(hass: HomeAssistant, simulator: ModbusSimulator) -> ConfigEntry:
    """A gateway with meter 1 at 1.5 kW and 2.25 kW on L1 (exact in float32)."""
    simulator.meter(1).set_value(Quantity.POWER_TOTAL, 1500.0)
    simulator.meter(1).set_value(Quantity.POWER_L1, 2250.0)
    return await async_add_gateway(hass, simulator)


async def test_read_floats(hass: HomeAssistant, gateway: ConfigEntry) -> None:
    """Two float32 values: the registers on the wire and what they hold."""
    response = await _read(
        hass,
        config_entry_id=gateway.entry_id,
        unit_id=1,
        address=POWER_TOTAL,
        count=4,
        data_type="float32",
    )
    expected = list(struct.unpack(">4H", struct.pack(">2f", 1.5, 2.25)))
    assert response["registers"] == expected
    assert response["values"] == [
        {"address": POWER_TOTAL, "value": 1.5},
        {"address": POWER_TOTAL + 2, "value": 2.25},
    ]
    assert response["function"] == "holding"
    assert response["byte_order"] == "ABCD"


async def test_read_through_a_meter_device(
    hass: HomeAssistant, simulator: ModbusSimulator, gateway: ConfigEntry
) -> None:
    """A meter's device knows its unit id; word-swapped decoding is applied."""
    (subentry_id,) = gateway.subentries
    device = dr.async_get(hass).async_get_device_by_identifier(
        (DOMAIN, f"{gateway.entry_id}_{subentry_id}"), gateway.entry_id
    )
    assert device is not None
    served = simulator.meter(1).served_values()[Quantity.FREQUENCY]
    response = await _read(
        hass, device_id=device.id, address=FREQUENCY, data_type="float32"
    )
    assert response["unit_id"] == 1
    assert response["count"] == 2
    assert response["values"][0]["value"] == pytest.approx(served, rel=1e-6)
    swapped = await _read(
        hass,
        device_id=device.id,
        address=POWER_TOTAL,
        data_type="float32",
        byte_order="CDAB",
    )
    (word_high, word_low) = struct.unpack(">2H", struct.pack(">f", 1.5))
    assert swapped["registers"] == [word_high, word_low]
    (as_cdab,) = struct.unpack(">f", struct.pack(">2H", word_low, word_high))
    assert swapped["values"][0]["value"] == as_cdab


async def test_raw_registers_default_to_uint16(
    hass: HomeAssistant, gateway: ConfigEntry
) -> None:
    """Without a data type, each register is its own unsigned value."""
    response = await _read(
        hass, config_entry_id=gateway.entry_id, unit_id=1, address=POWER_TOTAL, count=2
    )
    assert [v["value"] for v in response["values"]] == response["registers"]
    assert response["registers"] == [0x3FC0, 0x0000]


@pytest.mark.parametrize(
    ("data", "key"),
    [
        ({"unit_id": 1, "address": POWER_TOTAL, "count": 126}, "invalid_count"),
        ({"unit_id": 1, "address": POWER_TOTAL, "count": 0}, "invalid_count"),
        ({"unit_id": 1, "address": 65535, "count": 2}, "invalid_address"),
        (
            {"unit_id": 1, "address": POWER_TOTAL, "count": 3, "data_type": "float32"},
            "count_not_multiple",
        ),
        ({"unit_id": 300, "address": POWER_TOTAL}, "invalid_unit_id"),
        ({"address": POWER_TOTAL}, "unit_id_required"),
    ],
)
async def test_bad_requests_are_refused_before_the_bus(
    hass: HomeAssistant,
    simulator: ModbusSimulator,
    gateway: ConfigEntry,
    data: dict[str, Any],
    key: str,
) -> None:
    """Each mistake gets its own translated message; the meter is not asked."""
    asked = len(simulator.meter(1).requests)
    with pytest.raises(ServiceValidationError) as caught:
        await _read(hass, config_entry_id=gateway.entry_id, **data)
    assert caught.value.translation_domain == DOMAIN
    assert caught.value.translation_key == key
    assert len(simulator.meter(1).requests) == asked


async def test_unknown_gateway(hass: HomeAssistant, gateway: ConfigEntry) -> None:
    """An entry id that is not one of our gateways, or no gateway at all."""
    with pytest.raises(ServiceValidationError) as caught:
        await _read(hass, config_entry_id="no-such-entry", unit_id=1, address=0)
    assert caught.value.translation_key == "gateway_not_found"
    assert caught.value.translation_placeholders == {"gateway": "no-such-entry"}
    with pytest.raises(ServiceValidationError) as caught:
        await _read(hass, device_id="no-such-device", unit_id=1, address=0)
    assert caught.value.translation_key == "gateway_not_found"
    with pytest.raises(ServiceValidationError) as caught:
        await _read(hass, unit_id=1, address=0)
    assert caught.value.translation_key == "gateway_required"


async def test_gateway_not_loaded(hass: HomeAssistant, gateway: ConfigEntry) -> None:
    """An unloaded gateway has no connection to lend."""
    assert await hass.config_entries.async_unload(gateway.entry_id)
    with pytest.raises(ServiceValidationError) as caught:
        await _read(hass, config_entry_id=gateway.entry_id, unit_id=1, address=0)
    assert caught.value.translation_key == "gateway_not_loaded"


async def test_no_response_from_unit(hass: HomeAssistant, gateway: ConfigEntry) -> None:
    """Unit 9 is not on the bus: the gateway stays silent until the timeout."""
    with pytest.raises(HomeAssistantError) as caught:
        await _read(hass, config_entry_id=gateway.entry_id, unit_id=9, address=0)
    assert not isinstance(caught.value, ServiceValidationError)
    assert caught.value.translation_key == "read_no_response"
    assert caught.value.translation_placeholders is not None
    assert caught.value.translation_placeholders["unit_id"] == "9"


async def test_exception_2_names_the_address(
    hass: HomeAssistant, gateway: ConfigEntry
) -> None:
    """The meter has nothing at 0x4000: exception 2, a mistake the user can fix."""
    with pytest.raises(ServiceValidationError) as caught:
        await _read(
            hass, config_entry_id=gateway.entry_id, unit_id=1, address=0x4000, count=2
        )
    assert caught.value.translation_key == "read_illegal_address"
    assert caught.value.translation_placeholders == {
        "unit_id": "1",
        "address": str(0x4000),
        "count": "2",
    }
    # The gateway's polling goes on as before.
    await gateway.runtime_data.async_refresh()
    assert gateway.runtime_data.last_update_success


async def test_input_registers_the_meter_lacks(
    hass: HomeAssistant, gateway: ConfigEntry
) -> None:
    """The WAGO serves holding registers only: function 4 is refused with exception 2."""
    with pytest.raises(ServiceValidationError) as caught:
        await _read(
            hass,
            config_entry_id=gateway.entry_id,
            unit_id=1,
            function="input",
            address=POWER_TOTAL,
            count=2,
        )
    assert caught.value.translation_key == "read_illegal_address"


async def test_gateway_reports_the_unit_silent(
    hass: HomeAssistant, socket_enabled: None
) -> None:
    """A gateway that answers exception 0x0B for a silent unit: no response too."""
    async with ModbusSimulator(
        [wago_meter(1)], host="127.0.0.1", port=0, unknown_unit="gateway_exception"
    ) as sim:
        entry = await async_add_gateway(hass, sim)
        with pytest.raises(HomeAssistantError) as caught:
            await _read(hass, config_entry_id=entry.entry_id, unit_id=9, address=0)
        assert caught.value.translation_key == "read_no_response"
        assert await hass.config_entries.async_unload(entry.entry_id)
