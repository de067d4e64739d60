"""Devices that behave like the real ones, for tests, the demo and benchmarks.

Import the parts from their modules:

- `simulator.household.Household`: a heat pump behind a three-phase meter,
  every quantity in canonical units, energy integrated exactly;
- `simulator.meter.SimulatedMeter`: serves any meter profile from such a model,
  with test controls (pin, freeze, refuse);
- `simulator.server.ModbusSimulator`: a TCP gateway with meters behind it;
- `simulator.clock`: the clocks that drive the models;
- `simulator.http_meter.HttpMeter`, `simulator.mqtt_meter.MqttMeterPublisher`
  and `simulator.mqtt_broker.MqttBroker`: meters that are not on Modbus, a
  JSON endpoint and MQTT messages, and a broker to carry the messages.

The package reuses the integration's pure meter library (profiles, encode and
decode), so the simulator and the integration can never disagree about a
register map.
"""

from .clock import Clock, ManualClock, WallClock
from .heatpump import LoadState
from .household import Household
from .meter import ReadRecord, SimulatedMeter, ValueSource
from .server import ModbusSimulator

__all__ = [
    "Clock",
    "Household",
    "LoadState",
    "ManualClock",
    "ModbusSimulator",
    "ReadRecord",
    "SimulatedMeter",
    "ValueSource",
    "WallClock",
]
