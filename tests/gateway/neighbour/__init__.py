"""The test-only neighbour integration (see custom_components/modbus_neighbour)."""
