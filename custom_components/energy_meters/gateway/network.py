"""Host names to addresses, for telling one gateway from another.

A user may type `localhost`, `127.0.0.1` or a name from the router's DNS for
the same box; only the resolved address says whether two entries would talk
to one gateway.
"""

import ipaddress
import socket

from homeassistant.core import HomeAssistant


async def async_resolve_host(hass: HomeAssistant, host: str) -> list[str]:
    """The host's addresses, IPv4 first; empty when it does not resolve.

    IPv4 comes first because that is what a Modbus gateway nearly always has
    and what the connection tries first; a name that also has an IPv6
    address (`localhost`) thus gets the same id as its IPv4 literal. An
    address literal is returned as it is, without asking the resolver.
    """
    try:
        return [str(ipaddress.ip_address(host))]
    except ValueError:
        pass
    try:
        infos = await hass.loop.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except OSError, UnicodeError, ValueError:
        # gaierror for unknown names; UnicodeError and ValueError for names
        # no resolver accepts (a label over 63 characters, a NUL byte).
        return []
    ordered = sorted(infos, key=lambda info: info[0] != socket.AF_INET)
    addresses: list[str] = []
    for info in ordered:
        address = str(info[4][0])
        if address not in addresses:
            addresses.append(address)
    return addresses
