"""The old stack's stores, for the tests, the benchmark and the demo: a year of the exporter.

A synthetic household's year as the old exporter would have left it in
Prometheus (`wago_energy_total_kwh`, `wago_energy_L1_kwh`…, kWh;
`wago_power_total_kw`…, kW), with the exporter's flaws in it: its counter
starting again from 0 after a restart, and a reading of 0 for one scrape.
The power is a smooth function whose integral is known exactly, so the true
consumption of any day is known without the samples (`true_energy`).

Prometheus is Debian's `prometheus`, filled through
`promtool tsdb create-blocks-from openmetrics`; InfluxDB is Debian's
`influxdb` (1.x), written through its HTTP line protocol. Both run on
127.0.0.1 as child processes (`ManagedProcess`) and are stopped by the caller.
"""

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from http import HTTPStatus
import json
import math
from pathlib import Path
import shutil
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request

from devtools.ha_bootstrap import (
    BootstrapError,
    ManagedProcess,
    free_port,
    wait_for_port,
)

DAY = 86400
YEAR = 365 * DAY
_W_DAY = 2 * math.pi / DAY
_W_YEAR = 2 * math.pi / YEAR
# kW: a base load, a daily swing and a seasonal one (winter heating), per phase.
PHASES = {"total": 1.0, "L1": 0.5, "L2": 0.3, "L3": 0.2}
_BASE, _DAILY, _SEASON = 1.2, 0.6, 0.5


def power_kw(t: float, share: float = 1.0) -> float:
    """The household's power at epoch second `t` (always above 0)."""
    return share * (
        _BASE + _DAILY * math.sin(_W_DAY * t) + _SEASON * math.cos(_W_YEAR * t)
    )


def true_energy(t: float, share: float = 1.0) -> float:
    """The exact integral of `power_kw` from epoch 0 to `t`, in kWh."""
    return (
        share
        * (
            _BASE * t
            - _DAILY / _W_DAY * math.cos(_W_DAY * t)
            + _SEASON / _W_YEAR * math.sin(_W_YEAR * t)
        )
        / 3600
    )


@dataclass(frozen=True, kw_only=True)
class OldYear:
    """What the exporter published over [start, end) every `step_s` seconds.

    `reset_at`: the counter starts again from 0 after this sample time;
    `glitch_at`: the sample at this time reads 0.
    """

    start: int
    end: int
    step_s: int = 30
    phases: Sequence[str] = ("total", "L1", "L2", "L3")
    reset_at: int | None = None
    glitch_at: int | None = None
    instance: str = "wago"
    offset_kwh: float = 12_000.0

    def times(self) -> range:
        """The sample times."""
        first = -(-self.start // self.step_s) * self.step_s
        return range(first, self.end, self.step_s)

    def counter(self, t: int, phase: str) -> float:
        """What the exporter published for a phase's energy at `t`."""
        share = PHASES[phase]
        if t == self.glitch_at:
            return 0.0
        if self.reset_at is not None and t > self.reset_at:
            return true_energy(t, share) - true_energy(self.reset_at, share)
        return (
            self.offset_kwh * share
            + true_energy(t, share)
            - true_energy(self.start, share)
        )

    def energy_metric(self, phase: str) -> str:
        """The exporter's metric name for a phase's energy."""
        return f"wago_energy_{phase}_kwh"

    def power_metric(self, phase: str) -> str:
        """The exporter's metric name for a phase's power."""
        return f"wago_power_{phase}_kw"

    def openmetrics(self, path: Path) -> None:
        """Write every series as OpenMetrics text, one family after another."""
        labels = f'{{instance="{self.instance}",job="wago_exporter"}}'
        with path.open("w", encoding="ascii") as out:
            for phase in self.phases:
                name = self.energy_metric(phase)
                out.write(f"# TYPE {name} gauge\n")
                out.writelines(
                    f"{name}{labels} {self.counter(t, phase):.6f} {t}\n"
                    for t in self.times()
                )
                name = self.power_metric(phase)
                out.write(f"# TYPE {name} gauge\n")
                share = PHASES[phase]
                out.writelines(
                    f"{name}{labels} {power_kw(t, share):.6f} {t}\n"
                    for t in self.times()
                )
            out.write("# EOF\n")

    def line_protocol(self) -> Iterator[str]:
        """Every series as InfluxDB line protocol (measurement = metric, field `value`)."""
        tags = f"instance={self.instance}"
        for phase in self.phases:
            share = PHASES[phase]
            for t in self.times():
                yield f"{self.energy_metric(phase)},{tags} value={self.counter(t, phase):.6f} {t}"
                yield f"{self.power_metric(phase)},{tags} value={power_kw(t, share):.6f} {t}"


# The demo's year is sampled every 5 minutes; the import reads it at that step.
DEMO_STEP_S = 300


def demo_year(now: int) -> OldYear:
    """The year `scripts/develop --old-history` and the browser test put into Prometheus.

    The last year up to `now`, every phase, with the exporter's restart (its counter
    from 0 again) half a year ago: the Energy dashboard's months before the switch
    come out of it, and the reset must not show up as a spike.
    """
    return OldYear(
        start=now - YEAR, end=now, step_s=DEMO_STEP_S, reset_at=now - YEAR // 2
    )


def import_action(device_id: str, url: str) -> str:
    """The one action that imports the demo's year, as YAML for Settings → Tools → Actions."""
    return (
        "action: energy_meters.import_history\n"
        "data:\n"
        f"  device_id: {device_id}\n"
        f"  url: {url}\n"
        f"  step: {DEMO_STEP_S}\n"
    )


@dataclass
class Store:
    """A running store: its URL and the process behind it."""

    url: str
    process: ManagedProcess
    folder: Path
    notes: list[str] = field(default_factory=list)

    def stop(self) -> None:
        """Stop the process group."""
        self.process.stop(timeout=20)


def missing_tools() -> list[str]:
    """What the stores need that this machine lacks (Debian: prometheus, influxdb)."""
    return [
        f"{tool} (Debian package {package})"
        for tool, package in (
            ("prometheus", "prometheus"),
            ("promtool", "prometheus"),
            ("influxd", "influxdb"),
        )
        if shutil.which(tool) is None
    ]


def _wait_http(url: str, process: ManagedProcess, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        process.check_running()
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status < HTTPStatus.MULTIPLE_CHOICES:
                    return
        except urllib.error.URLError, ConnectionError, TimeoutError:
            pass
        if time.monotonic() > deadline:
            msg = f"{process.name} not ready at {url}; log:\n{process.log_tail()}"
            raise BootstrapError(msg)
        time.sleep(0.3)


def start_prometheus(year: OldYear, folder: Path) -> Store:
    """A Prometheus on 127.0.0.1 holding `year`, built with promtool."""
    folder.mkdir(parents=True, exist_ok=True)
    source = folder / "year.om"
    data = folder / "data"
    year.openmetrics(source)
    subprocess.run(
        [
            shutil.which("promtool") or "promtool",
            "tsdb",
            "create-blocks-from",
            "openmetrics",
            "--max-block-duration=744h",
            str(source),
            str(data),
        ],
        check=True,
        capture_output=True,
    )
    source.unlink()
    config = folder / "prometheus.yml"
    config.write_text("global:\n  scrape_interval: 1h\nscrape_configs: []\n")
    port = free_port()
    process = ManagedProcess(
        "prometheus",
        [
            shutil.which("prometheus") or "prometheus",
            f"--config.file={config}",
            f"--storage.tsdb.path={data}",
            "--storage.tsdb.retention.time=5y",
            f"--web.listen-address=127.0.0.1:{port}",
            "--log.level=warn",
        ],
        folder / "prometheus.log",
        folder,
    ).start()
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_http(f"{url}/-/ready", process, 60)
    except BaseException:
        process.stop()
        raise
    return Store(url, process, folder)


def start_influxdb(folder: Path) -> Store:
    """An InfluxDB 1.x on 127.0.0.1 with its files in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    port, rpc = free_port(), free_port()
    config = folder / "influxdb.conf"
    config.write_text(
        f'reporting-disabled = true\nbind-address = "127.0.0.1:{rpc}"\n'
        f'[meta]\n  dir = "{folder / "meta"}"\n'
        f'[data]\n  dir = "{folder / "data"}"\n  wal-dir = "{folder / "wal"}"\n'
        "  query-log-enabled = false\n"
        f'[http]\n  bind-address = "127.0.0.1:{port}"\n  log-enabled = false\n'
        "[monitor]\n  store-enabled = false\n"
    )
    process = ManagedProcess(
        "influxd",
        [shutil.which("influxd") or "influxd", "-config", str(config)],
        folder / "influxd.log",
        folder,
    ).start()
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_port("127.0.0.1", port, process, 60)
        _wait_http(f"{url}/ping", process, 60)
    except BaseException:
        process.stop()
        raise
    return Store(url, process, folder)


def influx_write(
    url: str, database: str, lines: Iterator[str], batch: int = 20_000
) -> None:
    """Create the database and write the lines (precision: seconds)."""
    _post(f"{url}/query", {"q": f'CREATE DATABASE "{database}"'}, b"")
    chunk: list[str] = []
    for line in lines:
        chunk.append(line)
        if len(chunk) >= batch:
            _post(
                f"{url}/write",
                {"db": database, "precision": "s"},
                "\n".join(chunk).encode(),
            )
            chunk.clear()
    if chunk:
        _post(
            f"{url}/write",
            {"db": database, "precision": "s"},
            "\n".join(chunk).encode(),
        )


def _post(url: str, params: dict[str, str], body: bytes) -> None:
    request = urllib.request.Request(
        f"{url}?{urllib.parse.urlencode(params)}", data=body, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            response.read()
    except urllib.error.HTTPError as err:
        detail = err.read().decode(errors="replace")
        raise BootstrapError(f"{url}: HTTP {err.code}: {json.dumps(detail)}") from err


def device_of(base_url: str, token: str | None, entity_id: str) -> str:
    """The device id of an entity, from Home Assistant's template API (plain text)."""
    request = urllib.request.Request(
        f"{base_url}/api/template",
        data=json.dumps({"template": f"{{{{ device_id('{entity_id}') }}}}"}).encode(),
        headers={
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
        },
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return str(response.read().decode()).strip()


@contextmanager
def running(store: Store) -> Iterator[Store]:
    """The store, stopped on the way out."""
    try:
        yield store
    finally:
        store.stop()
