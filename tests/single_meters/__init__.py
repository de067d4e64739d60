"""Tests of the meters that are not on Modbus: MQTT, HTTP, guarded sensors."""
