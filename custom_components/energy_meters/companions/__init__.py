"""The companion services: a heat-pump controller and a thermostat, over HTTP.

Each is an entry of its own with one coordinator that polls the service and
writes its controls; neither has a bus or meters.
"""
