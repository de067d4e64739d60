"""The `read_registers` action: read any registers of any unit, for writing profiles.

Writing a profile for a new meter means finding out what sits at which
address and how it is encoded. This action reads a block through a
configured gateway and answers with the raw registers and the values they
hold in the chosen data type and byte order, so that can be tried from the
developer tools without any other Modbus tool.

It uses the gateway's running connection: an RS-485 bus carries one request
at a time and many gateways accept a single client, so a second connection
could be refused, or knock the poller off the bus. The request takes its
turn with the meters' polls.

Values are decoded by the same code the profiles are read with, so what the
action shows for a data type and byte order is exactly what a profile entry
with those settings will publish (before its unit and scale).
"""

from typing import Final

from homeassistant.config_entries import ConfigEntry, ConfigEntryState
from homeassistant.const import ATTR_CONFIG_ENTRY_ID, ATTR_DEVICE_ID
from homeassistant.core import (
    HomeAssistant,
    ServiceCall,
    ServiceResponse,
    SupportsResponse,
    callback,
)
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import config_validation as cv, device_registry as dr
from homeassistant.util.json import JsonValueType
import probatio as vol

from ..const import CONF_KIND, CONF_UNIT_ID, DOMAIN, KIND_GATEWAY
from ..meterlib.decode import decode_raw
from ..meterlib.model import (
    ByteOrder,
    DataType,
    FunctionCode,
    Quantity,
    RegisterSpec,
    Unit,
)
from ..meterlib.transport import (
    ILLEGAL_ADDRESS,
    GatewayUnreachableError,
    ModbusExceptionError,
    NoResponseError,
)
from .coordinator import GatewayCoordinator

SERVICE_READ_REGISTERS: Final = "read_registers"

ATTR_UNIT_ID: Final = "unit_id"
ATTR_FUNCTION: Final = "function"
ATTR_ADDRESS: Final = "address"
ATTR_COUNT: Final = "count"
ATTR_DATA_TYPE: Final = "data_type"
ATTR_BYTE_ORDER: Final = "byte_order"

# The Modbus limit for one read of holding or input registers.
MAX_REGISTERS_PER_READ: Final = 125
_ADDRESS_SPACE: Final = 0x10000
_FUNCTIONS: Final = {"holding": FunctionCode.HOLDING, "input": FunctionCode.INPUT}

# Only the shape is checked here; limits are checked by the handler, which
# can say in the user's language what is wrong and what is allowed.
READ_REGISTERS_SCHEMA: Final = vol.Schema(
    {
        vol.Exclusive(ATTR_CONFIG_ENTRY_ID, "gateway"): cv.string,
        vol.Exclusive(ATTR_DEVICE_ID, "gateway"): cv.string,
        vol.Optional(ATTR_UNIT_ID): vol.Coerce(int),
        vol.Optional(ATTR_FUNCTION, default="holding"): vol.In(list(_FUNCTIONS)),
        vol.Required(ATTR_ADDRESS): vol.Coerce(int),
        vol.Optional(ATTR_COUNT): vol.Coerce(int),
        vol.Optional(ATTR_DATA_TYPE, default=DataType.UINT16.value): vol.In(
            [data_type.value for data_type in DataType]
        ),
        # Lower case on the way in: translated option keys must be lower case,
        # and a user writing "CDAB" in YAML means the same.
        vol.Optional(ATTR_BYTE_ORDER, default="abcd"): vol.All(
            cv.string, vol.Lower, vol.In([order.value.lower() for order in ByteOrder])
        ),
    }
)


def _invalid(key: str, **placeholders: object) -> ServiceValidationError:
    return ServiceValidationError(
        translation_domain=DOMAIN,
        translation_key=key,
        translation_placeholders={k: str(v) for k, v in placeholders.items()},
    )


def _failed(key: str, **placeholders: object) -> HomeAssistantError:
    return HomeAssistantError(
        translation_domain=DOMAIN,
        translation_key=key,
        translation_placeholders={k: str(v) for k, v in placeholders.items()},
    )


def _loaded_gateway(entry: ConfigEntry | None, reference: str) -> ConfigEntry:
    """The entry, if it is one of our gateways and running."""
    if (
        entry is None
        or entry.domain != DOMAIN
        or entry.data.get(CONF_KIND, KIND_GATEWAY) != KIND_GATEWAY
    ):
        raise _invalid("gateway_not_found", gateway=reference)
    if entry.state is not ConfigEntryState.LOADED:
        raise _invalid("gateway_not_loaded", gateway=entry.title)
    return entry


def _resolve_target(
    hass: HomeAssistant, call: ServiceCall
) -> tuple[GatewayCoordinator, int]:
    """The gateway's coordinator and the unit id to ask.

    A meter's device stands for its gateway and its unit id, so reading "one
    more register of this meter" needs no unit id; a gateway needs one.
    """
    unit_id: int | None = call.data.get(ATTR_UNIT_ID)
    if (entry_id := call.data.get(ATTR_CONFIG_ENTRY_ID)) is not None:
        entry = _loaded_gateway(hass.config_entries.async_get_entry(entry_id), entry_id)
    elif (device_id := call.data.get(ATTR_DEVICE_ID)) is not None:
        device = dr.async_get(hass).async_get(device_id)
        entry = _loaded_gateway(
            hass.config_entries.async_get_entry(device.config_entry_id)
            if device is not None
            else None,
            device_id,
        )
        if unit_id is None and device is not None and device.config_subentry_id:
            subentry = entry.subentries.get(device.config_subentry_id)
            if subentry is not None:
                unit_id = int(subentry.data[CONF_UNIT_ID])
    else:
        raise _invalid("gateway_required")
    if unit_id is None:
        raise _invalid("unit_id_required")
    if not 0 <= unit_id <= 255:  # noqa: PLR2004 (the Modbus unit id is one byte)
        raise _invalid("invalid_unit_id", unit_id=unit_id)
    coordinator: GatewayCoordinator = entry.runtime_data
    return coordinator, unit_id


def _check_block(address: int, count: int, data_type: DataType) -> None:
    """Refuse what no meter could answer, before anything goes on the bus."""
    if not 1 <= count <= MAX_REGISTERS_PER_READ:
        raise _invalid("invalid_count", count=count, max=MAX_REGISTERS_PER_READ)
    if address < 0 or address + count > _ADDRESS_SPACE:
        raise _invalid("invalid_address", address=address, count=count)
    if count % data_type.register_count:
        raise _invalid(
            "count_not_multiple",
            count=count,
            data_type=data_type.value,
            size=data_type.register_count,
        )


def decode_block(
    registers: list[int],
    address: int,
    function: FunctionCode,
    data_type: DataType,
    byte_order: ByteOrder,
) -> list[JsonValueType]:
    """Each value in the block, with its address; NaN and infinity as None.

    Built as a profile entry would be (no unit, no scale), so the decoding
    is the profiles' own. The quantity is only a label the decoder needs.
    Integer types come back as integers, as the registers hold them.
    """
    size = data_type.register_count
    values: list[JsonValueType] = []
    for offset in range(0, len(registers), size):
        spec = RegisterSpec(
            quantity=Quantity.POWER_TOTAL,
            address=address + offset,
            function=function,
            data_type=data_type,
            byte_order=byte_order,
            unit=Unit.NONE,
        )
        value = decode_raw(spec, registers[offset : offset + size])
        if value is not None and not data_type.startswith("float"):
            values.append({"address": spec.address, "value": int(value)})
        else:
            values.append({"address": spec.address, "value": value})
    return values


async def _async_read_registers(call: ServiceCall) -> ServiceResponse:
    """Read a block and answer with its raw registers and decoded values."""
    coordinator, unit_id = _resolve_target(call.hass, call)
    function = _FUNCTIONS[call.data[ATTR_FUNCTION]]
    data_type = DataType(call.data[ATTR_DATA_TYPE])
    byte_order = ByteOrder(call.data[ATTR_BYTE_ORDER].upper())
    address = int(call.data[ATTR_ADDRESS])
    count = int(call.data.get(ATTR_COUNT, data_type.register_count))
    _check_block(address, count, data_type)
    try:
        registers = await coordinator.transport.read(function, address, count, unit_id)
    except GatewayUnreachableError as err:
        raise _failed("read_gateway_unreachable", error=err) from err
    except NoResponseError as err:
        raise _failed("read_no_response", unit_id=unit_id, error=err) from err
    except ModbusExceptionError as err:
        if err.code == ILLEGAL_ADDRESS:
            raise _invalid(
                "read_illegal_address", unit_id=unit_id, address=address, count=count
            ) from err
        raise _failed("read_modbus_exception", unit_id=unit_id, code=err.code) from err
    return {
        "gateway": coordinator.config_entry.title,
        "unit_id": unit_id,
        "function": call.data[ATTR_FUNCTION],
        "address": address,
        "count": count,
        "data_type": data_type.value,
        "byte_order": byte_order.value,
        "registers": list(registers),
        "values": decode_block(registers, address, function, data_type, byte_order),
    }


@callback
def async_setup_services(hass: HomeAssistant) -> None:
    """Register the integration's actions (once, when the integration loads)."""
    hass.services.async_register(
        DOMAIN,
        SERVICE_READ_REGISTERS,
        _async_read_registers,
        schema=READ_REGISTERS_SCHEMA,
        supports_response=SupportsResponse.ONLY,
    )
