"""Tests of the companion services: the heat pump and the thermostat."""
