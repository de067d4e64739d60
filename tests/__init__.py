"""Tests of the Energy Meters integration."""
