"""The Modbus gateway: one connection, one bus, each meter behind it a subentry.

Its coordinator polls every meter in turn through the meter library's read
plans; its flow tests the gateway and each meter before anything is saved.
"""
