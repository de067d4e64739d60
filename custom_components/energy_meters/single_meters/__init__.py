"""Meters that are not on Modbus: MQTT and HTTP meters, and guarded sensors.

Each is an entry of its own, one meter with the same filters, counter store
and repair issues as a gateway's meter; only how values arrive differs.
"""
