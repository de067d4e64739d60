"""Meters on a local RS-485 adapter: the serial port as a gateway.

A USB RS-485 stick (or a HAT) plays the part of the network gateway: one
config entry per port, the meters on its bus as subentries, polled in turn
over one connection like any other gateway. What differs is only where the
bus is and its line settings, kept here so the flow and the coordinator
share one reading of the entry's data.
"""

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

from homeassistant.const import CONF_DEVICE
from homeassistant.core import HomeAssistant
from homeassistant.helpers.selector import (
    SelectOptionDict,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
)
import probatio as vol
from serial.tools import list_ports

from ..const import CONF_FRAMING, CONF_TIMEOUT, DEFAULT_TIMEOUT
from ..form_fields import TIMEOUT, has_control_characters
from ..meterlib.transport import Framing, Parity, SerialSettings

CONF_BAUDRATE: Final = "baudrate"
CONF_PARITY: Final = "parity"
CONF_STOPBITS: Final = "stopbits"
CONF_BYTESIZE: Final = "bytesize"

DEFAULT_BAUDRATE: Final = 9600
# The form's parity options, and the letters the serial link wants for
# them. Option values are translation keys, which hassfest wants to be
# lower-case slugs ("N" is not one), so the form offers slugs and the entry
# stores the slug; entries saved before store the letter, and both are read.
PARITY_OPTIONS: Final[Mapping[str, Parity]] = {
    "none": Parity.NONE,
    "even": Parity.EVEN,
    "odd": Parity.ODD,
}
# 8N1 is the factory setting of most meters; the WAGO 879-30x0 manual names
# 8E1 in some editions and 8N1 in others, so the user picks, never us.
DEFAULT_PARITY: Final = "none"
BAUDRATES: Final = (1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200)
BYTESIZE: Final = 8  # Modbus RTU is always 8 data bits

_BY_ID = Path("/dev/serial/by-id")


def is_serial(data: Mapping[str, Any]) -> bool:
    """Whether a gateway entry's data describes a local serial port."""
    return data.get(CONF_FRAMING) == Framing.SERIAL


def parity_of(value: object) -> Parity:
    """The parity of a stored or entered value: a slug, or a letter ("N", "E", "O").

    Entries saved before the form offered slugs hold pyserial's letter.
    """
    text = str(value)
    if text in PARITY_OPTIONS:
        return PARITY_OPTIONS[text]
    return Parity(text)


def parity_option(value: object) -> str:
    """The form's option (a slug) for a stored or entered parity."""
    parity = parity_of(value)
    return next(slug for slug, known in PARITY_OPTIONS.items() if known is parity)


def serial_settings(data: Mapping[str, Any]) -> SerialSettings:
    """The line settings stored in a serial gateway entry."""
    return SerialSettings(
        device=str(data[CONF_DEVICE]),
        baudrate=int(data[CONF_BAUDRATE]),
        parity=parity_of(data[CONF_PARITY]),
        stopbits=int(data[CONF_STOPBITS]),
        bytesize=int(data.get(CONF_BYTESIZE, BYTESIZE)),
    )


def serial_errors(user_input: Mapping[str, Any]) -> dict[str, str]:
    """What is wrong with the serial form itself, before the port is opened.

    A path with a NUL in it makes the operating system's open() raise
    ValueError, not the OSError the transport reports as "cannot open".
    """
    errors: dict[str, str] = {}
    device = str(user_input[CONF_DEVICE]).strip()
    if not device or has_control_characters(device):
        errors[CONF_DEVICE] = "invalid_device"
    if TIMEOUT.read(user_input.get(CONF_TIMEOUT)) is None:
        errors[CONF_TIMEOUT] = "invalid_timeout"
    return errors


def serial_data(user_input: Mapping[str, Any]) -> dict[str, Any]:
    """Normalise the serial form (checked by `serial_errors`) into entry data."""
    return {
        CONF_FRAMING: Framing.SERIAL.value,
        CONF_DEVICE: str(user_input[CONF_DEVICE]).strip(),
        CONF_BAUDRATE: int(user_input[CONF_BAUDRATE]),
        CONF_PARITY: parity_option(user_input[CONF_PARITY]),
        CONF_STOPBITS: int(user_input[CONF_STOPBITS]),
        CONF_BYTESIZE: BYTESIZE,
        CONF_TIMEOUT: TIMEOUT.value(user_input[CONF_TIMEOUT]),
    }


def _list_ports() -> list[SelectOptionDict]:
    """The serial ports on this machine, stable by-id names first (blocking).

    A /dev/ttyUSB number can change at the next boot; the by-id link names
    the adapter itself, so it is offered instead whenever there is one.
    """
    links: dict[str, str] = {}
    if _BY_ID.is_dir():
        for link in sorted(_BY_ID.iterdir()):
            links.setdefault(str(link.resolve()), str(link))
    options: list[SelectOptionDict] = []
    for port in sorted(list_ports.comports(), key=lambda p: p.device):
        path = links.get(str(Path(port.device).resolve()), port.device)
        label = f"{path} ({port.description})" if port.description else path
        options.append(SelectOptionDict(value=path, label=label))
    return options


async def async_serial_schema(hass: HomeAssistant) -> vol.Schema:
    """The serial form, offering the ports found (any path may be typed in)."""
    ports = await hass.async_add_executor_job(_list_ports)
    return vol.Schema(
        {
            vol.Required(CONF_DEVICE): SelectSelector(
                SelectSelectorConfig(
                    options=ports, custom_value=True, mode=SelectSelectorMode.DROPDOWN
                )
            ),
            vol.Required(CONF_BAUDRATE, default=str(DEFAULT_BAUDRATE)): vol.All(
                SelectSelector(
                    SelectSelectorConfig(
                        options=[str(rate) for rate in BAUDRATES],
                        mode=SelectSelectorMode.DROPDOWN,
                    )
                ),
                vol.Coerce(int),
            ),
            vol.Required(CONF_PARITY, default=DEFAULT_PARITY): SelectSelector(
                SelectSelectorConfig(
                    options=list(PARITY_OPTIONS),
                    translation_key=CONF_PARITY,
                    mode=SelectSelectorMode.LIST,
                )
            ),
            vol.Required(CONF_STOPBITS, default="1"): vol.All(
                SelectSelector(
                    SelectSelectorConfig(
                        options=["1", "2"], mode=SelectSelectorMode.LIST
                    )
                ),
                vol.Coerce(int),
            ),
            vol.Required(CONF_TIMEOUT, default=DEFAULT_TIMEOUT): TIMEOUT.selector(),
        }
    )


def suggested_values(data: Mapping[str, Any]) -> dict[str, Any]:
    """A serial entry's data, or the form as sent, as the form shows it.

    Select values are strings; the timeout is shown as it was typed, even
    when it was refused.
    """
    return {
        CONF_DEVICE: data[CONF_DEVICE],
        CONF_BAUDRATE: str(data[CONF_BAUDRATE]),
        CONF_PARITY: parity_option(data[CONF_PARITY]),
        CONF_STOPBITS: str(data[CONF_STOPBITS]),
        CONF_TIMEOUT: data[CONF_TIMEOUT],
    }
