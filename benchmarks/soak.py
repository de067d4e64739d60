"""A simulated day of polls with every fault, through Home Assistant.

    scripts/soak [--json] [--hours 24] [--interval 10] [--fault-rate 0.075]
                 [--framing rtu|tcp] [--seed 1] [--timeout 0.05]

Two simulated WAGO meters (units 1 and 2, each in front of a heat pump) sit
behind one simulated gateway on 127.0.0.1; the integration runs in a Home
Assistant instance in this process. Time is simulated: a `ManualClock`
drives the meters, Home Assistant's clock (`homeassistant.util.dt.utcnow`,
which the counters' plausibility limits read) follows it, and the soak calls
the coordinator's refresh itself, one poll per `--interval` simulated
seconds, as fast as the machine allows (a day of 10 s polls is 8,640 polls).

Along the way:

- every read a meter answers is corrupted with probability `--fault-rate`,
  every kind equally often (`simulator.faults`): spikes, zeros, NaN, swapped
  words, counter drops and jumps, exception answers, silence, late answers
  and dropped connections. The default makes each kind at least 1 % of the
  meter reads (one poll of one meter);
- Home Assistant is stopped and started again twice, on the same
  configuration folder: the counters' store is written at the stop and read
  at the start, while the meters count on for `--restart-gap` seconds;
- the gateway goes away for `--outage` simulated seconds, then returns;
- meter 2 is replaced, once, by a new meter counting from 0.

After every poll the states in Home Assistant's state machine are checked
(`benchmarks.soak_checks`): what the recorder would store. The figures:

- faults_injected (by kind, and as a share of meter reads and of requests);
- readings_held_back: values the filters held back or dropped;
- faults_published: corrupted values that the states showed (must be 0);
- energy_decreases_published (must be 0), energy_above_true_published (a
  counter shown above what the meter truly counted; must be 0);
- power_outside_true_range_published: a newly shown power value that is not
  the power the meter had at that poll, within its accuracy (must be 0);
  other_values_outside_true_range_published: the same for voltage, current,
  frequency and power factor (must be 0);
- final_energy_error_pct: the final energy states against the meters' true
  counters (what they would read had meter 2 not been replaced), worst of
  the two (must be at most 0.1 %); consumed_energy_error_pct: the same error
  against the energy consumed during the run, a far stricter yardstick;
- polls_to_recover_after_outage (must be at most 2), failed and unavailable
  meter-polls, repair issues raised, and the log lines the integration wrote.

The run exits with status 1 when a must-hold figure does not.
"""

import argparse
import asyncio
from collections import Counter
from collections.abc import Sequence
import contextlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
import json
import logging
from pathlib import Path
import shutil
import sys
import tempfile
import time
from typing import Any
from unittest.mock import patch

import custom_components.energy_meters  # noqa: F401  (before HA's test harness)
from custom_components.energy_meters.meterlib.model import Quantity
from custom_components.energy_meters.meterlib.profiles import builtin_profiles
from simulator.clock import ManualClock
from simulator.faults import RANDOM_FAULTS, Fault
from simulator.household import Household
from simulator.meter import SimulatedMeter
from simulator.server import ModbusSimulator

from .soak_checks import Watcher

PROFILE_ID = "wago_879_30xx"
UNITS = (1, 2)
ENTRY_ID = "soak_gateway"
MAX_ENERGY_ERROR_PCT = 0.1
MAX_RECOVERY_POLLS = 2
MUST_BE_ZERO = (
    "faults_published",
    "energy_decreases_published",
    "energy_above_true_published",
    "power_outside_true_range_published",
    "other_values_outside_true_range_published",
)


@dataclass(frozen=True, slots=True)
class Plan:
    """What happens when, in polls."""

    hours: float
    interval_s: float
    fault_rate: float
    seed: int
    framing: str
    timeout_s: float
    outage_s: float
    restart_gap_s: float

    @property
    def polls(self) -> int:
        """Polls in the simulated run."""
        return round(self.hours * 3600 / self.interval_s)

    @property
    def restarts(self) -> tuple[int, int]:
        """Polls before which Home Assistant is restarted."""
        return self.polls // 3, 2 * self.polls // 3

    @property
    def outage(self) -> range:
        """Polls during which the gateway is gone."""
        start = int(self.polls * 0.45)
        return range(start, start + max(1, round(self.outage_s / self.interval_s)))

    @property
    def replacement(self) -> int:
        """Poll before which meter 2 is replaced."""
        return int(self.polls * 0.55)


class _LogCounter(logging.Handler):
    """Counts the integration's log lines about meters lost and found."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lost = 0
        self.back = 0

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        self.lost += "polls in a row" in message
        self.back += "is answering again" in message


class Soak:
    """One soak run: the meters, the gateway, Home Assistant and the tallies."""

    def __init__(self, plan: Plan, config_dir: Path) -> None:
        """Build the simulated meters; nothing runs until `run`."""
        self.plan = plan
        self.config_dir = config_dir
        self.clock = ManualClock()
        self.epoch = datetime.now(UTC)
        profile = builtin_profiles()[PROFILE_ID]
        self.meters = [
            SimulatedMeter(
                profile,
                unit,
                Household(seed=plan.seed + unit, clock=self.clock, start_hour=0.0),
            )
            for unit in UNITS
        ]
        self.start_energy = {
            m.unit_id: m.source.values()[Quantity.ENERGY_IMPORT_TOTAL]
            for m in self.meters
        }
        for meter in self.meters:
            meter.faults.randomize(
                plan.fault_rate, seed=plan.seed * 100 + meter.unit_id
            )
            meter.faults.late_delay_s = plan.timeout_s * 1.5
        self.sim = ModbusSimulator(
            self.meters,
            host="127.0.0.1",
            port=0,
            framing="rtu" if plan.framing == "rtu" else "tcp",
        )
        self.watchers: dict[int, Watcher] = {}
        self.stack = contextlib.AsyncExitStack()
        self.hass: Any = None
        self.entry: Any = None
        self.tally: Counter[str] = Counter()
        self.logs = _LogCounter()

    # --- Home Assistant --------------------------------------------------------

    def utcnow(self) -> datetime:
        """Home Assistant's clock: the simulated one."""
        return self.epoch + timedelta(seconds=self.clock())

    async def start_home_assistant(self) -> None:
        """A fresh Home Assistant on the same configuration folder, entry set up.

        Setting up takes the first reading: a poll at the current time.
        """
        from homeassistant import loader  # noqa: PLC0415  (heavy; only here)
        from homeassistant.config_entries import ConfigEntryState  # noqa: PLC0415
        from pytest_homeassistant_custom_component.common import (  # type: ignore[import-untyped]  # noqa: PLC0415
            MockConfigEntry,
            async_test_home_assistant,
        )

        hass = await self.stack.enter_async_context(
            async_test_home_assistant(config_dir=str(self.config_dir))
        )
        hass.data.pop(loader.DATA_CUSTOM_COMPONENTS)
        entry = MockConfigEntry(
            domain="energy_meters",
            entry_id=ENTRY_ID,
            title="Soak gateway",
            unique_id=f"127.0.0.1:{self.sim.port}",
            data={
                "host": "127.0.0.1",
                "port": self.sim.port,
                "framing": "rtu_over_tcp" if self.plan.framing == "rtu" else "tcp",
                "timeout": self.plan.timeout_s,
            },
            # The soak polls by itself; Home Assistant's own timer never fires.
            options={"scan_interval": 3600},
            subentries_data=[
                {
                    "data": {"unit_id": unit, "profile": PROFILE_ID},
                    "subentry_type": "meter",
                    "title": f"Meter {unit}",
                    "unique_id": str(unit),
                    "subentry_id": f"meter_{unit}",
                }
                for unit in UNITS
            ],
        )
        entry.add_to_hass(hass)
        await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
        while entry.state is not ConfigEntryState.LOADED:
            # Nothing answered the first poll: what Home Assistant retries
            # later by itself, the soak retries one interval later.
            self.tally["setup_retries"] += 1
            self.clock.advance(self.plan.interval_s)
            await hass.config_entries.async_reload(entry.entry_id)
            await hass.async_block_till_done()
        self.hass, self.entry = hass, entry
        if not self.watchers:
            self.watchers = {unit: Watcher(self._entities(unit)) for unit in UNITS}
        for watcher in self.watchers.values():
            watcher.forget_states()

    def _entities(self, unit: int) -> dict[Quantity, str]:
        """The meter's enabled sensors, by quantity."""
        from homeassistant.helpers import entity_registry as er  # noqa: PLC0415

        from custom_components.energy_meters.meter_descriptions import (  # noqa: PLC0415
            DESCRIPTIONS,
        )

        registry = er.async_get(self.hass)
        found: dict[Quantity, str] = {}
        for description in DESCRIPTIONS:
            entity_id = registry.async_get_entity_id(
                "sensor",
                "energy_meters",
                f"{ENTRY_ID}_meter_{unit}_{description.key}",
            )
            if entity_id and self.hass.states.get(entity_id) is not None:
                found[description.quantity] = entity_id
        return found

    async def stop_home_assistant(self) -> None:
        """Stop Home Assistant as it stops for real (no unload: a final write)."""
        from homeassistant.helpers import issue_registry as ir  # noqa: PLC0415

        coordinator = self.entry.runtime_data
        for status in coordinator.statuses.values():
            self.tally["readings_held_back"] += status.held_back_total
            self.tally["failed_meter_polls"] += status.failed_polls_total
        self.tally["repair_issues_raised"] += sum(
            1
            for domain, _ in ir.async_get(self.hass).issues
            if domain == "energy_meters"
        )
        # The gateway's link is Home Assistant's shared Modbus connection;
        # leaving the process closes its socket (Home Assistant 2026.11 also
        # closes it on stop, 2026.10 leaves that to the process's end).
        from homeassistant.components.modbus.connection import (  # noqa: PLC0415
            DATA_MODBUS_CONNECTIONS,
        )

        links = list(self.hass.data.get(DATA_MODBUS_CONNECTIONS, {}).values())
        await self.hass.async_stop()
        for link in links:
            await link.connection.close()  # what leaving the process does
        await self.stack.aclose()
        self.hass = self.entry = None

    # --- polls -------------------------------------------------------------------

    async def poll(self, label: str) -> None:
        """One poll, `interval` after the last, checked."""
        self.clock.advance(self.plan.interval_s)
        await self._checked(label, self.entry.runtime_data.async_refresh())

    async def _checked(self, label: str, step: Any) -> None:
        """Run a step that polls, then check the states against the truth then."""
        truth = {m.unit_id: m.current_values() for m in self.meters}
        counted = {m.unit_id: dict(m.source.values()) for m in self.meters}
        await step
        await self.hass.async_block_till_done()
        self.tally["polls"] += 1
        for meter in self.meters:
            watcher = self.watchers[meter.unit_id]
            watcher.observe(
                self.hass,
                truth[meter.unit_id],
                counted[meter.unit_id],
                f"meter {meter.unit_id} {label}",
                list(meter.faults.log),
            )
            self.tally["faults_published"] += watcher.faults_shown(
                self.hass, meter.faults.log, f"meter {meter.unit_id} {label}"
            )
            meter.faults.log.clear()

    async def restart(self, label: str) -> None:
        """Stop Home Assistant, let the meters count on, start it again."""
        await self.stop_home_assistant()
        self.clock.advance(self.plan.restart_gap_s)
        self.tally["ha_restarts"] += 1
        await self._checked(label, self.start_home_assistant())

    def _all_available(self) -> bool:
        return all(
            self.hass.states.get(w.entities[Quantity.POWER_TOTAL]).state
            != "unavailable"
            for w in self.watchers.values()
        )

    async def run(self) -> dict[str, Any]:
        """The whole run; returns the figures."""
        plan = self.plan
        integration_log = logging.getLogger("custom_components.energy_meters")
        integration_log.addHandler(self.logs)
        integration_log.setLevel(logging.INFO)
        integration_log.propagate = False  # counted, not printed
        await self.sim.start()
        recovering: int | None = None
        with patch("homeassistant.util.dt.utcnow", self.utcnow):
            await self._checked("start", self.start_home_assistant())
            for index in range(plan.polls):
                label = f"poll {index} ({self.clock() / 3600:.2f} h)"
                if index in plan.restarts:
                    await self.restart(f"restart before {label}")
                if index == plan.outage.start:
                    await self.sim.stop()
                if index == plan.outage.stop:
                    await self.sim.start()
                    recovering = 0
                if index == plan.replacement:
                    self.meters[1].faults.inject(Fault.REPLACE)
                await self.poll(label)
                if recovering is not None:
                    recovering += 1
                    if self._all_available():
                        self.tally["polls_to_recover_after_outage"] = recovering
                        recovering = None
            await self.stop_home_assistant()
        await self.sim.stop()
        integration_log.removeHandler(self.logs)
        integration_log.propagate = True
        return self.figures()

    # --- the report ----------------------------------------------------------------

    def figures(self) -> dict[str, Any]:
        """Every figure of the run."""
        plan = self.plan
        injected: Counter[Fault] = Counter()
        for meter in self.meters:
            injected.update(meter.faults.injected)
        meter_reads = plan.polls * len(self.meters)
        requests = sum(meter.faults.reads for meter in self.meters)
        wrong: Counter[str] = Counter()
        examples: list[str] = []
        for watcher in self.watchers.values():
            wrong.update(watcher.wrong)
            examples += watcher.examples
        errors, consumed_errors = [], []
        for meter in self.meters:
            watcher = self.watchers[meter.unit_id]
            true_end = meter.source.values()[Quantity.ENERGY_IMPORT_TOTAL]
            shown = watcher.last_energy[Quantity.ENERGY_IMPORT_TOTAL]
            errors.append(abs(shown - true_end) / true_end * 100)
            consumed = true_end - self.start_energy[meter.unit_id]
            consumed_errors.append(abs(shown - true_end) / consumed * 100)
        kinds = sorted(RANDOM_FAULTS)
        return {
            "simulated_hours": plan.hours,
            "poll_interval_s": plan.interval_s,
            "polls": self.tally["polls"],
            "meters": len(self.meters),
            "framing": "rtu_over_tcp" if plan.framing == "rtu" else "tcp",
            "fault_rate_per_request": plan.fault_rate,
            "faults_injected": sum(injected.values()),
            "faults_injected_by_kind": {k.value: injected[k] for k in sorted(injected)},
            "min_fault_share_of_meter_reads_pct": round(
                min(injected[k] for k in kinds) / meter_reads * 100, 3
            ),
            "min_fault_share_of_requests_pct": round(
                min(injected[k] for k in kinds) / requests * 100, 3
            ),
            "meter_replacements": injected[Fault.REPLACE],
            "readings_held_back": self.tally["readings_held_back"],
            "faults_published": self.tally["faults_published"],
            "energy_decreases_published": wrong["energy_decrease"],
            "energy_above_true_published": wrong["energy_above_true"],
            "power_outside_true_range_published": wrong["power"],
            "other_values_outside_true_range_published": wrong["other"],
            "final_energy_error_pct": round(max(errors), 5),
            "consumed_energy_error_pct": round(max(consumed_errors), 4),
            "ha_restarts": self.tally["ha_restarts"],
            "setup_retries": self.tally["setup_retries"],
            "gateway_outage_polls": len(plan.outage),
            "polls_to_recover_after_outage": self.tally.get(
                "polls_to_recover_after_outage"
            ),
            "failed_meter_polls": self.tally["failed_meter_polls"],
            "unavailable_meter_polls": sum(
                w.unavailable_polls for w in self.watchers.values()
            ),
            "repair_issues_raised": self.tally["repair_issues_raised"],
            "log_lines_meter_lost": self.logs.lost,
            "log_lines_meter_back": self.logs.back,
            "first_wrong_values": examples,
        }


def failures(figures: dict[str, Any]) -> list[str]:
    """The must-hold figures that do not hold."""
    found = [f"{key} = {figures[key]}" for key in MUST_BE_ZERO if figures[key]]
    if figures["final_energy_error_pct"] > MAX_ENERGY_ERROR_PCT:
        found.append(f"final_energy_error_pct = {figures['final_energy_error_pct']}")
    recovered = figures["polls_to_recover_after_outage"]
    if recovered is None or recovered > MAX_RECOVERY_POLLS:
        found.append(f"polls_to_recover_after_outage = {recovered}")
    return found


def table(figures: dict[str, Any]) -> str:
    """The figures as plain text."""
    lines = []
    for key, value in figures.items():
        if key == "faults_injected_by_kind":
            lines.append("faults_injected_by_kind")
            lines += [f"  {kind:<24}{count:>10}" for kind, count in value.items()]
        elif key == "first_wrong_values":
            lines += [f"wrong: {example}" for example in value]
        else:
            lines.append(f"{key:<44}{value!s:>12}")
    return "\n".join(lines)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="scripts/soak",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--hours", type=float, default=24.0, help="simulated hours")
    parser.add_argument("--interval", type=float, default=10.0, help="poll interval, s")
    parser.add_argument(
        "--fault-rate", type=float, default=0.075, help="share of requests corrupted"
    )
    parser.add_argument("--framing", choices=("rtu", "tcp"), default="rtu")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--timeout", type=float, default=0.05, help="the gateway's reply timeout, s"
    )
    parser.add_argument(
        "--outage", type=float, default=600.0, help="gateway outage, simulated s"
    )
    parser.add_argument(
        "--restart-gap",
        type=float,
        default=120.0,
        help="simulated s Home Assistant is down at each restart",
    )
    return parser


async def run_soak(plan: Plan) -> dict[str, Any]:
    """Run one soak in a temporary configuration folder; return its figures."""
    config_dir = Path(tempfile.mkdtemp(prefix="energy-meters-soak-"))
    try:
        return await Soak(plan, config_dir).run()
    finally:
        shutil.rmtree(config_dir, ignore_errors=True)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the soak and print the figures; status 1 if a must-hold one fails."""
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.ERROR)
    logging.getLogger("pymodbus").setLevel(logging.CRITICAL)  # timeouts are the point
    plan = Plan(
        hours=args.hours,
        interval_s=args.interval,
        fault_rate=args.fault_rate,
        seed=args.seed,
        framing=args.framing,
        timeout_s=args.timeout,
        outage_s=args.outage,
        restart_gap_s=args.restart_gap,
    )
    started = time.monotonic()
    figures = asyncio.run(run_soak(plan))
    figures["wall_seconds"] = round(time.monotonic() - started, 1)
    problems = failures(figures)
    if args.json:
        print(json.dumps(figures))
    else:
        print(table(figures))
        print("FAILED: " + "; ".join(problems) if problems else "all checks hold")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
