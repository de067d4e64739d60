"""Tests of the Modbus gateway: its flow, coordinator, meters and entities."""
