"""`python -m simulator`: starts, says where it listens, serves, stops on a signal."""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
import re
import signal
import subprocess

from pymodbus.client import ModbusTcpClient
from pymodbus.framer import FramerType
import pytest

from custom_components.energy_meters.meterlib.decode import decode
from custom_components.energy_meters.meterlib.model import Quantity
from custom_components.energy_meters.meterlib.profiles import builtin_profiles
from simulator.cli import main

from .helpers import running_module

LISTENING = re.compile(
    r"^Simulator listening on 127\.0\.0\.1:(\d+) \((tcp|rtu)\), units (.+)$"
)
USER_PROFILE = """
id: tiny_meter
name: Tiny meter
manufacturer: Test
model: T1
source: test
defaults: {function: input, data_type: int16}
registers:
  power_total: {address: 0, unit: W}
  voltage_l1: {address: 1, unit: V, scale: 0.1}
"""


@contextmanager
def _running(*args: str) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """Run the simulator; yield the process and its first line; always end it."""
    with running_module("simulator", "--port", "0", *args) as process:
        assert process.stdout is not None
        yield process, process.stdout.readline().strip()


@pytest.mark.usefixtures("socket_enabled")
@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_cli_serves_several_meters_and_stops_on_a_signal(
    tmp_path: Path, stop_signal: signal.Signals
) -> None:
    """Two units (a built-in and a user profile) over RTU framing, then a clean exit."""
    (tmp_path / "tiny.yaml").write_text(USER_PROFILE, encoding="utf-8")
    args = ["--unit", "1", "--unit", "7", "--profile", "wago_879_30xx"]
    args += ["--profile", "tiny_meter", "--profile-dir", str(tmp_path)]
    args += ["--framing", "rtu", "--seed", "3", "--speed", "60"]
    with _running(*args) as (process, line):
        match = LISTENING.match(line)
        assert match, line
        assert match[2] == "rtu"
        assert match[3] == "1 (wago_879_30xx), 7 (tiny_meter)"
        client = ModbusTcpClient(
            "127.0.0.1", port=int(match[1]), framer=FramerType.RTU, timeout=2, retries=0
        )
        try:
            assert client.connect()  # type: ignore[no-untyped-call]
            wago = client.read_holding_registers(0x5008, count=2, device_id=1)
            assert not wago.isError(), wago
            spec = builtin_profiles()["wago_879_30xx"].spec(Quantity.FREQUENCY)
            assert spec is not None
            value = decode(spec, wago.registers)
            assert value is not None
            assert 49.8 <= value <= 50.2
            tiny = client.read_input_registers(0, count=2, device_id=7)
            assert not tiny.isError(), tiny
            assert 0 < tiny.registers[0] < 3000  # W
            assert 2100 < tiny.registers[1] < 2500  # 0.1 V
        finally:
            client.close()  # type: ignore[no-untyped-call]
        process.send_signal(stop_signal)
        assert process.wait(timeout=10) == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--unit", "1", "--profile", "no_such_profile"], "unknown profile"),
        (
            ["--unit", "1", "--unit", "2"] + ["--profile", "wago_879_30xx"] * 3,
            "once per --unit",
        ),
        (["--unit", "0"], "unit id"),
        (["--unit", "1", "--unit", "1"], "share a unit id"),
        (["--speed", "0"], "--speed"),
        (["--fault-rate", "1.5"], "--fault-rate must be between 0 and 1"),
        (["--fault-rate", "0.1", "--faults", "spike,bogus"], "unknown fault 'bogus'"),
        (["--late-delay", "0"], "--late-delay must be positive"),
    ],
)
def test_cli_rejects_bad_arguments(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Mistakes end with a usage error (status 2) that says what is wrong."""
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err
