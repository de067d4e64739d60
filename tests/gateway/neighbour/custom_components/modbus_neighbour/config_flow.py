"""Entries are made by the tests; Home Assistant still wants a flow to exist."""

from homeassistant.config_entries import ConfigFlow


class NeighbourConfigFlow(ConfigFlow, domain="modbus_neighbour"):
    """No steps: the tests add the entries directly."""
