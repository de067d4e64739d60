"""Tests of the device library (`meterlib`), which knows nothing of Home Assistant."""
