"""Tests of the history import: the counter logic, Prometheus, InfluxDB, the flow."""
