"""The soak run, shortened to two simulated hours: every invariant must hold.

The run is its own process (`python -m benchmarks.soak`, what `scripts/soak`
starts), with its own Home Assistant instances, so it exercises the script
end to end; the test reads its JSON figures.
"""

import json
from pathlib import Path
import subprocess
import sys

import pytest

from simulator.faults import RANDOM_FAULTS

REPO = Path(__file__).parent.parent


@pytest.mark.timeout(600)
def test_two_hour_soak_shows_no_wrong_number() -> None:
    """Every fault kind injected; nothing wrong shown; energy right; fast recovery."""
    completed = subprocess.run(
        [sys.executable, "-m", "benchmarks.soak", "--hours", "2", "--json"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=540,
        check=False,
    )
    assert completed.stdout, completed.stderr[-3000:]
    figures = json.loads(completed.stdout.strip().splitlines()[-1])
    assert completed.returncode == 0, figures
    assert figures["simulated_hours"] == 2
    by_kind = figures["faults_injected_by_kind"]
    assert {kind.value for kind in RANDOM_FAULTS} <= {
        k for k, n in by_kind.items() if n
    }
    assert figures["meter_replacements"] == 1
    assert figures["readings_held_back"] > 0
    assert figures["ha_restarts"] == 2
    assert figures["faults_published"] == 0
    assert figures["energy_decreases_published"] == 0
    assert figures["energy_above_true_published"] == 0
    assert figures["power_outside_true_range_published"] == 0
    assert figures["other_values_outside_true_range_published"] == 0
    assert figures["final_energy_error_pct"] <= 0.1
    assert figures["polls_to_recover_after_outage"] <= 2
    assert figures["repair_issues_raised"] > 0  # the replaced meter was reported
