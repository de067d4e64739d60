"""Boot a real Home Assistant with this integration and set it up through the REST API.

This is the code path a person takes in the UI, driven over HTTP instead of by clicks:
Home Assistant is started as its own process on a generated configuration directory, the
owner account is created through the onboarding API, and a Modbus gateway with its first
meter is added through the integration's config flow. The end-to-end test and the demo
(`scripts/develop`) both use it, so the demo shows exactly what the test checks.

Only the standard library is used: the module runs under the test suite's Python, not
inside the Home Assistant it starts, and it must not leave threads or event loops behind.
"""

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
import http.client
import json
import math
import os
from pathlib import Path
import re
import shutil
import signal
import socket
import subprocess
import time
from typing import Any, Self
import unicodedata
import urllib.error
import urllib.parse
import urllib.request

from devtools.ha_websocket import HomeAssistantWebSocket, WebSocketError

REPO_ROOT = Path(__file__).resolve().parent.parent
DOMAIN = "energy_meters"
INTEGRATION_DIR = REPO_ROOT / "custom_components" / DOMAIN

# What every generated configuration names. Home Assistant also sets up its default
# integrations (frontend, backup, automation, ...) whatever the configuration says.
BASE_CONFIG_DOMAINS: tuple[str, ...] = ("http", "api", "config", "onboarding", "logger")
# The demo adds the history graphs, the logbook and the Energy dashboard; all of them ship
# with Home Assistant and need no package beyond what `scripts/setup` pre-installs.
DEMO_CONFIG_DOMAINS: tuple[str, ...] = (
    *BASE_CONFIG_DOMAINS,
    "frontend",
    "energy",
    "history",
    "logbook",
    "automation",
    "script",
    "scene",
)

# Sections that live in files of their own, as in the configuration a new Home Assistant
# installation writes: what the UI saves there (an automation made from a blueprint, a
# script, a scene) is loaded again, and kept when configuration.yaml is rewritten.
_INCLUDED_SECTIONS = {
    "automation": "automations.yaml",
    "script": "scripts.yaml",
    "scene": "scenes.yaml",
}

BLUEPRINTS_DIR = REPO_ROOT / "blueprints"

# Onboarding steps that the generated configuration marks as done before the first start.
# The remaining one, "user", is done through the API and creates the owner account. Skipping
# "core_config" matters: finishing it starts config flows for a weather service, a radio
# directory and more, which would install packages and reach for the internet.
_PRESET_ONBOARDING_STEPS = ("core_config", "analytics", "integration")
_ONBOARDING_STORE_VERSION = 4


class BootstrapError(RuntimeError):
    """Home Assistant or the simulator did not get where it was asked to go."""


class ApiError(BootstrapError):
    """Home Assistant answered an HTTP request with an unexpected status."""

    def __init__(self, method: str, path: str, status: int, body: str) -> None:
        """Keep the request and the answer, for a message that says what went wrong."""
        super().__init__(f"{method} {path} -> HTTP {status}: {body[:2000]}")
        self.status = status
        self.body = body


# --- processes --------------------------------------------------------------------------


class ManagedProcess:
    """A child process in a session of its own, with its output in a log file.

    Its own session keeps a Ctrl-C in the terminal away from it (the parent decides the
    order of shutdown) and lets `stop` signal everything it started, by its process group.
    """

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        log_path: Path,
        cwd: Path,
    ) -> None:
        """Describe the process; `start` runs it."""
        self.name = name
        self.argv = list(argv)
        self.log_path = log_path
        self.cwd = cwd
        self._popen: subprocess.Popen[bytes] | None = None
        self._stopped = False

    def start(self) -> Self:
        """Start the process, its stdout and stderr going to the log file."""
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self._popen = subprocess.Popen(
                self.argv,
                cwd=self.cwd,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return self

    @property
    def pid(self) -> int:
        """Process id (the process group id too)."""
        return self._require().pid

    def is_running(self) -> bool:
        """Whether the process has been started and not yet exited."""
        return self._popen is not None and self._popen.poll() is None

    def check_running(self) -> None:
        """Raise with the end of the log if the process has exited."""
        popen = self._require()
        if (code := popen.poll()) is not None:
            msg = f"{self.name} exited with code {code}; end of its log:\n{self.log_tail()}"
            raise BootstrapError(msg)

    def stop(self, timeout: float = 30.0) -> int | None:
        """Stop the process group: SIGTERM, then SIGKILL if it has not ended in time."""
        if self._popen is None:
            return None
        if self._stopped:
            return self._popen.returncode
        self._stopped = True
        if self._popen.poll() is None:
            self._signal_group(signal.SIGTERM)
            try:
                self._popen.wait(timeout)
            except subprocess.TimeoutExpired:
                self._signal_group(signal.SIGKILL)
                self._popen.wait(10)
        # Helpers the process started and left behind share its process group.
        self._signal_group(signal.SIGKILL)
        return self._popen.returncode

    def log_tail(self, lines: int = 80) -> str:
        """The last lines of the log file."""
        try:
            text = self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def _signal_group(self, sig: signal.Signals) -> None:
        with suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, sig)

    def _require(self) -> subprocess.Popen[bytes]:
        if self._popen is None:
            msg = f"{self.name} has not been started"
            raise BootstrapError(msg)
        return self._popen


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def port_is_open(host: str, port: int) -> bool:
    """Whether something accepts TCP connections on host:port."""
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def wait_for_port(
    host: str, port: int, process: ManagedProcess, timeout: float
) -> None:
    """Wait until the process accepts connections on host:port."""
    deadline = time.monotonic() + timeout
    while not port_is_open(host, port):
        process.check_running()
        if time.monotonic() > deadline:
            msg = (
                f"{process.name} does not listen on {host}:{port} after {timeout:.0f} s"
            )
            raise BootstrapError(f"{msg}; end of its log:\n{process.log_tail()}")
        time.sleep(0.2)


def start_simulator(
    python: Path | str,
    *,
    host: str,
    port: int,
    unit: int = 1,
    profile: str = "wago_879_30xx",
    log_path: Path,
    timeout: float = 30.0,
    extra_args: Sequence[str] = (),
) -> ManagedProcess:
    """Start the Modbus meter simulator and wait until it accepts connections."""
    argv = [str(python), "-m", "simulator", "--host", host, "--port", str(port)]
    argv += ["--unit", str(unit), "--profile", profile, *extra_args]
    process = ManagedProcess("simulator", argv, log_path, cwd=REPO_ROOT).start()
    try:
        wait_for_port(host, port, process, timeout)
    except BaseException:
        process.stop()
        raise
    return process


def start_home_assistant(
    hass: Path | str, config_dir: Path, log_path: Path
) -> ManagedProcess:
    """Start `hass -c config_dir` (the caller waits for it with `wait_until_serving`)."""
    argv = [str(hass), "-c", str(config_dir), "--log-no-color"]
    return ManagedProcess("home assistant", argv, log_path, cwd=config_dir).start()


# --- configuration directory ------------------------------------------------------------


def write_config_dir(
    config_dir: Path,
    *,
    host: str,
    port: int,
    domains: Sequence[str] = BASE_CONFIG_DOMAINS,
    integration_dir: Path = INTEGRATION_DIR,
) -> None:
    """Write configuration.yaml, link the integration in, and preset onboarding.

    The configuration is rewritten on every call; the `.storage` folder, where Home
    Assistant keeps users and config entries, is kept, so a second start resumes.

    The HTTP settings are written only before the first start. Home Assistant 2026.10 and
    newer import YAML `http:` settings once into `.storage/http`, as a trial the user has
    to confirm (`confirm_http_settings` does) and ignore the YAML afterwards, with a
    repair issue while it is still there.
    """
    config_dir.mkdir(parents=True, exist_ok=True)
    if (config_dir / ".storage" / "http").exists():
        domains = [domain for domain in domains if domain != "http"]
    (config_dir / "configuration.yaml").write_text(
        render_configuration(host=host, port=port, domains=domains)
    )
    for domain, file_name in _INCLUDED_SECTIONS.items():
        included = config_dir / file_name
        if domain in domains and not included.exists():
            included.write_text("[]\n" if domain != "script" else "{}\n")
    _link_integration(config_dir, integration_dir)
    _link_blueprints(config_dir)
    _preset_onboarding(config_dir)


def stored_http_address(config_dir: Path) -> tuple[list[str], int] | None:
    """The listen addresses and port that `.storage/http` holds, if it exists.

    The settings that a start will use: the unconfirmed ("pending") ones if there are
    some, else the confirmed ("stable") ones.
    """
    try:
        data = json.loads((config_dir / ".storage" / "http").read_text())["data"]
        settings = data.get("pending") or data["stable"]
        hosts = settings.get("server_host") or ["0.0.0.0"]  # noqa: S104 - the default
        return list(hosts), int(settings.get("server_port", 8123))
    except OSError, ValueError, KeyError, TypeError, AttributeError:
        return None


def render_configuration(*, host: str, port: int, domains: Sequence[str]) -> str:
    """The configuration.yaml text: each domain with an empty section unless set below."""
    sections = {
        "http": f"http:\n  server_host: {host}\n  server_port: {port}\n",
        "logger": (
            "logger:\n  default: warning\n  logs:\n"
            "    homeassistant.bootstrap: info\n"
            f"    custom_components.{DOMAIN}: debug\n"
            # Start-up noise about optional system tools (ffmpeg, libturbojpeg, zlib-ng)
            # that Home Assistant's default integrations look for; nothing here uses them.
            "    haffmpeg: critical\n"
            "    homeassistant.components.camera.img_util: critical\n"
            "    aiohttp_fast_zlib: error\n"
        ),
    }
    sections |= {
        domain: f"{domain}: !include {file_name}\n"
        for domain, file_name in _INCLUDED_SECTIONS.items()
    }
    header = (
        "# Generated by devtools/ha_bootstrap.py on every start: edits to this file are\n"
        "# lost. Automations, scripts and scenes made in the UI are saved in their own\n"
        "# files (automations.yaml, ...) and kept.\n"
    )
    lines = [header]
    lines += [sections.get(domain, f"{domain}:\n") for domain in domains]
    return "".join(lines)


def _link_integration(config_dir: Path, integration_dir: Path) -> None:
    """Make `<config>/custom_components/energy_meters` point at the working tree."""
    link = config_dir / "custom_components" / integration_dir.name
    link.parent.mkdir(exist_ok=True)
    if link.is_symlink() or link.exists():
        if link.is_symlink() and link.resolve() == integration_dir.resolve():
            return
        link.unlink()
    link.symlink_to(integration_dir.resolve(), target_is_directory=True)


def _link_blueprints(config_dir: Path) -> None:
    """Offer the repository's blueprints, as a user who imported them has them.

    Copied, not linked: Home Assistant finds blueprints with Path.glob, which
    does not follow a symbolic link to a folder. Copied again at every start.
    """
    for source in sorted(BLUEPRINTS_DIR.glob("*/*")):
        if not source.is_dir():
            continue
        target = config_dir / "blueprints" / source.parent.name / source.name
        if target.is_symlink():
            target.unlink()
        shutil.copytree(source, target, dirs_exist_ok=True)


def _preset_onboarding(config_dir: Path) -> None:
    """Mark the onboarding steps other than "user" as done, on a fresh directory only."""
    storage = config_dir / ".storage"
    store = storage / "onboarding"
    if store.exists() or (storage / "auth").exists():
        return
    storage.mkdir(exist_ok=True)
    data = {
        "version": _ONBOARDING_STORE_VERSION,
        "minor_version": 1,
        "key": "onboarding",
        "data": {"done": list(_PRESET_ONBOARDING_STEPS)},
    }
    store.write_text(json.dumps(data, indent=2))


# --- REST API ---------------------------------------------------------------------------


class HomeAssistantApi:
    """A minimal client of Home Assistant's HTTP API."""

    def __init__(self, base_url: str, token: str | None = None) -> None:
        """Talk to base_url (http://host:port), with a bearer token once there is one."""
        self.base_url = base_url.rstrip("/")
        self.token = token
        # Ignore proxy variables: everything here is on this machine.
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    @property
    def client_id(self) -> str:
        """The OAuth client id (IndieAuth: a URL on the same host)."""
        return f"{self.base_url}/"

    def request(
        self,
        method: str,
        path: str,
        body: Mapping[str, Any] | None = None,
        *,
        form: Mapping[str, str] | None = None,
        expect: Sequence[int] = (200,),
    ) -> Any:
        """Send a request and return the decoded JSON answer (None for an empty one)."""
        headers = {"Accept": "application/json"}
        data: bytes | None = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        elif form is not None:
            data = urllib.parse.urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        req = urllib.request.Request(
            self.base_url + path, data=data, headers=headers, method=method
        )
        try:
            with self._opener.open(req, timeout=30) as resp:
                status, text = resp.status, resp.read().decode()
        except urllib.error.HTTPError as err:
            status, text = err.code, err.read().decode(errors="replace")
        if status not in expect:
            raise ApiError(method, path, status, text)
        return json.loads(text) if text.strip() else None

    def get(self, path: str) -> Any:
        """GET path and return the decoded JSON answer."""
        return self.request("GET", path)

    def post(self, path: str, body: Mapping[str, Any]) -> Any:
        """POST a JSON body to path and return the decoded JSON answer."""
        return self.request("POST", path, body)


@dataclass(frozen=True)
class Account:
    """The Home Assistant owner account to create or to log in with."""

    username: str
    password: str
    name: str = "Demo"
    language: str = "en"


def wait_until_serving(
    api: HomeAssistantApi, process: ManagedProcess, timeout: float = 180.0
) -> bool:
    """Wait until Home Assistant's auth API answers; return whether an owner exists.

    `/auth/providers` answers 400 "onboarding_required" until the owner account exists
    and 200 afterwards, so one request tells both that the server is up and which way to
    get a token.
    """
    deadline = time.monotonic() + timeout
    while True:
        process.check_running()
        try:
            api.request("GET", "/auth/providers")
        except ApiError as err:
            if err.status == http.client.BAD_REQUEST and "onboarding" in err.body:
                return False
        except OSError:
            pass  # not listening yet
        else:
            return True
        if time.monotonic() > deadline:
            msg = f"Home Assistant does not answer at {api.base_url} after {timeout:.0f} s"
            raise BootstrapError(f"{msg}; end of its log:\n{process.log_tail()}")
        time.sleep(0.5)


def create_owner(api: HomeAssistantApi, account: Account) -> str:
    """Create the owner account through onboarding; return an access token."""
    answer = api.request(
        "POST",
        "/api/onboarding/users",
        {
            "client_id": api.client_id,
            "name": account.name,
            "username": account.username,
            "password": account.password,
            "language": account.language,
        },
    )
    return _exchange_auth_code(api, answer["auth_code"])


def log_in(api: HomeAssistantApi, account: Account) -> str:
    """Log in with username and password through the login flow; return an access token."""
    return _exchange_auth_code(api, login_code(api, account))


def login_code(api: HomeAssistantApi, account: Account) -> str:
    """Run the login flow with username and password; return the authorization code.

    The code is what the login page hands to the frontend, which exchanges it for
    tokens itself (`screenshot` opens the frontend with one).
    """
    flow = api.request(
        "POST",
        "/auth/login_flow",
        {
            "client_id": api.client_id,
            "handler": ["homeassistant", None],
            "redirect_uri": f"{api.client_id}?auth_callback=1",
        },
    )
    result = api.request(
        "POST",
        f"/auth/login_flow/{flow['flow_id']}",
        {
            "client_id": api.client_id,
            "username": account.username,
            "password": account.password,
        },
    )
    if result.get("type") != "create_entry":
        msg = f"logging in as {account.username!r} failed: {result.get('errors')}"
        raise BootstrapError(msg)
    code: str = result["result"]
    return code


def _exchange_auth_code(api: HomeAssistantApi, code: str) -> str:
    tokens = api.request(
        "POST",
        "/auth/token",
        form={
            "grant_type": "authorization_code",
            "code": code,
            "client_id": api.client_id,
        },
    )
    token: str = tokens["access_token"]
    return token


def obtain_token(
    api: HomeAssistantApi, process: ManagedProcess, account: Account, timeout: float
) -> str:
    """Wait for Home Assistant, then onboard or log in; the token is also kept in `api`."""
    has_owner = wait_until_serving(api, process, timeout)
    api.token = log_in(api, account) if has_owner else create_owner(api, account)
    return api.token


def wait_until_running(
    api: HomeAssistantApi, process: ManagedProcess, timeout: float = 180.0
) -> None:
    """Wait until Home Assistant reports it has finished starting (state RUNNING)."""
    deadline = time.monotonic() + timeout
    while (state := api.get("/api/config").get("state")) != "RUNNING":
        process.check_running()
        if time.monotonic() > deadline:
            msg = f"Home Assistant still {state} after {timeout:.0f} s"
            raise BootstrapError(f"{msg}; end of its log:\n{process.log_tail()}")
        time.sleep(0.5)


def confirm_http_settings(api: HomeAssistantApi) -> None:
    """Confirm HTTP settings that Home Assistant started with on trial.

    Since 2026.10, new HTTP settings (from YAML or the UI) are a trial: unless confirmed
    within five minutes, Home Assistant restores the previous ones and restarts. The UI
    asks the user; this does what the "Confirm" button does. Older releases have no such
    command, and nothing to confirm.
    """
    with HomeAssistantWebSocket(api.base_url, api.token or "") as ws:
        try:
            settings = ws.call("http/config")
        except WebSocketError as err:
            if err.code == "unknown_command":
                return
            raise
        pending = settings.get("pending")
        if pending and not pending.get("error"):
            ws.call("http/config/promote")
        # The notice that YAML `http:` settings were imported is moot: the generated
        # configuration leaves them out from the next start on, which clears it for good.
        issues = ws.call("repairs/list_issues").get("issues", [])
        if any(
            i.get("domain") == "http" and i.get("issue_id") == "deprecated_yaml"
            for i in issues
        ):
            ws.call(
                "repairs/ignore_issue",
                domain="http",
                issue_id="deprecated_yaml",
                ignore=True,
            )


# --- the integration's config flow -------------------------------------------------------


@dataclass(frozen=True)
class Gateway:
    """What the "Modbus gateway" step asks for."""

    host: str
    port: int = 502
    framing: str = "tcp"
    timeout: float = 3.0


@dataclass(frozen=True)
class Meter:
    """What the "meter" step asks for."""

    name: str
    unit_id: int = 1
    profile: str = "wago_879_30xx"


class FlowError(BootstrapError):
    """The config flow answered with something other than the next expected step."""


def _expect(result: Mapping[str, Any], kind: str, step_id: str | None = None) -> None:
    if result.get("type") != kind or (
        step_id is not None and result.get("step_id") != step_id
    ):
        wanted = f"{kind} {step_id or ''}".strip()
        msg = f"config flow: expected {wanted}, got {json.dumps(result)[:2000]}"
        raise FlowError(msg)


def add_gateway_with_meter(
    api: HomeAssistantApi, gateway: Gateway, meter: Meter
) -> dict[str, Any]:
    """Run the config flow as the UI does: menu -> gateway -> meter -> entry created."""
    flow_path = "/api/config/config_entries/flow"
    result = api.post(flow_path, {"handler": DOMAIN, "show_advanced_options": False})
    _expect(result, "menu")
    step = f"{flow_path}/{result['flow_id']}"
    result = api.post(step, {"next_step_id": "gateway"})
    _expect(result, "form", "gateway")
    result = api.post(
        step,
        {
            "host": gateway.host,
            "port": gateway.port,
            "framing": gateway.framing,
            "timeout": gateway.timeout,
        },
    )
    _expect(result, "form", "meter")
    result = api.post(
        step, {"unit_id": meter.unit_id, "profile": meter.profile, "name": meter.name}
    )
    _expect(result, "create_entry")
    entry: dict[str, Any] = result
    return entry


def config_entries(api: HomeAssistantApi, domain: str = DOMAIN) -> list[dict[str, Any]]:
    """The config entries of a domain."""
    query = urllib.parse.urlencode({"domain": domain})
    entries: list[dict[str, Any]] = api.get(f"/api/config/config_entries/entry?{query}")
    return entries


# --- the meter's entities ----------------------------------------------------------------


def slugify(text: str) -> str:
    """Home Assistant's slug of a name, as used in entity ids ("Heat pump" -> "heat_pump")."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "_", ascii_text.lower()).strip("_")


@dataclass(frozen=True)
class SensorState:
    """One sensor's state as /api/states reports it."""

    entity_id: str
    state: str
    device_class: str | None
    unit: str | None
    last_updated: str
    last_reported: str

    @classmethod
    def from_api(cls, item: Mapping[str, Any]) -> Self:
        """Build from one element of /api/states."""
        attributes = item.get("attributes", {})
        return cls(
            entity_id=item["entity_id"],
            state=item["state"],
            device_class=attributes.get("device_class"),
            unit=attributes.get("unit_of_measurement"),
            last_updated=item.get("last_updated", ""),
            last_reported=item.get("last_reported") or item.get("last_updated", ""),
        )

    @property
    def value(self) -> float | None:
        """The numeric state, or None for unknown/unavailable/non-numeric states."""
        try:
            number = float(self.state)
        except ValueError:
            return None
        return number if math.isfinite(number) else None


@dataclass(frozen=True)
class MeterSnapshot:
    """The sensors of one meter at one moment, with the ones a check needs picked out."""

    sensors: dict[str, SensorState]

    def of_class(self, device_class: str) -> list[SensorState]:
        """The sensors of a device class, sorted by entity id."""
        found = [s for s in self.sensors.values() if s.device_class == device_class]
        return sorted(found, key=lambda s: s.entity_id)

    def first(self, device_class: str, suffix: str = "") -> SensorState | None:
        """The sensor of a class whose id ends with suffix, else the first of that class."""
        candidates = self.of_class(device_class)
        for sensor in candidates:
            if suffix and sensor.entity_id.endswith(suffix):
                return sensor
        return candidates[0] if candidates else None

    @property
    def power(self) -> SensorState | None:
        """The total active power sensor."""
        return self.first("power", "_power")

    @property
    def energy(self) -> SensorState | None:
        """The imported energy counter."""
        return self.first("energy", "_energy_import")

    @property
    def frequency(self) -> SensorState | None:
        """The grid frequency sensor."""
        return self.first("frequency")

    @property
    def voltages(self) -> list[SensorState]:
        """The voltage sensors (disabled by default: only those enabled)."""
        return self.of_class("voltage")

    @property
    def currents(self) -> list[SensorState]:
        """The current sensors."""
        return self.of_class("current")

    def has_live_values(self) -> bool:
        """Whether power, energy, frequency and a current all have numeric states."""
        if not self.currents:
            return False
        picked = [self.power, self.energy, self.frequency, self.currents[0]]
        return all(s is not None and s.value is not None for s in picked)

    def describe(self) -> str:
        """One line per sensor: id, state and unit."""
        return "\n".join(
            f"  {s.entity_id} = {s.state} {s.unit or ''}".rstrip()
            for s in sorted(self.sensors.values(), key=lambda s: s.entity_id)
        )


def meter_snapshot(api: HomeAssistantApi, meter_name: str) -> MeterSnapshot:
    """The meter's sensors: the entities whose ids start with sensor.<slug(name)>_."""
    prefix = f"sensor.{slugify(meter_name)}_"
    states = api.get("/api/states")
    return MeterSnapshot(
        {
            item["entity_id"]: SensorState.from_api(item)
            for item in states
            if item["entity_id"].startswith(prefix)
        }
    )


def wait_for_live_values(
    api: HomeAssistantApi,
    meter_name: str,
    process: ManagedProcess,
    timeout: float = 120.0,
) -> MeterSnapshot:
    """Poll /api/states until the meter's main sensors show numbers."""
    deadline = time.monotonic() + timeout
    while not (snapshot := meter_snapshot(api, meter_name)).has_live_values():
        process.check_running()
        if time.monotonic() > deadline:
            msg = (
                f"no live values for {meter_name!r} after {timeout:.0f} s; sensors:\n"
                f"{snapshot.describe() or '  (none)'}\nend of the log:\n{process.log_tail()}"
            )
            raise BootstrapError(msg)
        time.sleep(1)
    return snapshot


# --- all of it ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Stack:
    """A simulator and a Home Assistant that reads it, both running."""

    simulator: ManagedProcess
    home_assistant: ManagedProcess
    api: HomeAssistantApi
    simulator_host: str
    simulator_port: int


@contextmanager
def running_stack(
    *,
    python: Path | str,
    hass: Path | str,
    config_dir: Path,
    http_host: str,
    http_port: int,
    simulator_port: int,
    domains: Sequence[str] = BASE_CONFIG_DOMAINS,
    log_dir: Path,
    simulator_args: Sequence[str] = (),
) -> Iterator[Stack]:
    """Start the simulator and Home Assistant; stop both when the block ends.

    Home Assistant stops first: it holds connections to the simulator.
    """
    write_config_dir(config_dir, host=http_host, port=http_port, domains=domains)
    simulator_host = "127.0.0.1"
    simulator = start_simulator(
        python,
        host=simulator_host,
        port=simulator_port,
        log_path=log_dir / "simulator.log",
        extra_args=simulator_args,
    )
    home_assistant: ManagedProcess | None = None
    try:
        home_assistant = start_home_assistant(hass, config_dir, log_dir / "hass.log")
        api = HomeAssistantApi(f"http://{http_host}:{http_port}")
        yield Stack(simulator, home_assistant, api, simulator_host, simulator_port)
    finally:
        if home_assistant is not None:
            home_assistant.stop(timeout=60)
        simulator.stop(timeout=10)


def set_up_meter(
    stack: Stack,
    *,
    account: Account,
    gateway: Gateway,
    meter: Meter,
    timeout: float = 180.0,
) -> dict[str, Any] | None:
    """Get a token, wait for the start, confirm HTTP settings, add the gateway if missing.

    Returns the flow's create_entry result, or None when an entry already existed (a demo
    directory from an earlier run).
    """
    obtain_token(stack.api, stack.home_assistant, account, timeout)
    wait_until_running(stack.api, stack.home_assistant, timeout)
    confirm_http_settings(stack.api)
    if config_entries(stack.api):
        return None
    return add_gateway_with_meter(stack.api, gateway, meter)
