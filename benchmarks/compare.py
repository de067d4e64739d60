"""The read-plan benchmark of another revision and of this tree, side by side.

    scripts/bench --compare REV [--repeats 3] [bench options...]

A change to the link or the reader is judged by the figures it moves, and a
figure measured once says nothing about its noise. So this runs
`benchmarks/bench.py` of revision REV (exported with `git archive` into a
scratch folder) and of this working tree in turns, before, after, before,
after..., with the same interpreter and options, and prints every figure of
both with its spread.

Noise is measured, not assumed: for each figure it is the larger of the two
spreads (highest minus lowest) over the repeated runs of the same code. A
figure is called worse only when the medians differ by more than that in the
figure's bad direction; a change inside it is "within noise".
"""

import argparse
from collections.abc import Sequence
import json
from pathlib import Path
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent

# The figures compared, and whether a higher value is the worse one.
FIGURES: tuple[tuple[str, str, bool], ...] = (
    ("requests_per_poll", "requests per poll", True),
    ("bus_bytes_per_poll", "bytes on the bus per poll", True),
    ("poll_ms", "poll duration, ms", True),
    ("bus_bound_ms", "bus-time lower bound, ms", True),
    ("poll_vs_bound", "poll / lower bound", True),
    ("meters_per_bus_at_10s", "meters per bus at 10 s poll", False),
    ("meters_per_bus_at_10s_with_rtu_silences", "  with RTU silences", False),
    ("cpu_ms_per_meter_poll", "HA CPU per meter-poll, ms", True),
    ("cpu_decode_and_rest_ms", "  decode + coordinator", True),
    ("cpu_filter_ms", "  data-quality filters", True),
    ("cpu_entities_ms", "  entity state writes", True),
)


def export_revision(rev: str, into: Path) -> str:
    """Write revision `rev`'s files into `into`; returns its short hash."""
    short = subprocess.run(
        ["git", "rev-parse", "--short", rev],  # noqa: S607 (git from PATH, as scripts do)
        cwd=REPO_ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    archive = subprocess.run(
        ["git", "archive", "--format=tar", rev],  # noqa: S607
        cwd=REPO_ROOT,
        check=True,
        capture_output=True,
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)  # noqa: S607
    return short


def run_bench(tree: Path, options: Sequence[str]) -> dict[str, dict[str, Any]]:
    """One run of a tree's benchmark, its JSON figures per profile."""
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench", "--json", *options],
        cwd=tree,
        check=True,
        capture_output=True,
        text=True,
    )
    figures: dict[str, dict[str, Any]] = json.loads(done.stdout)
    return figures


def summarise(
    before: list[dict[str, dict[str, Any]]], after: list[dict[str, dict[str, Any]]]
) -> dict[str, dict[str, dict[str, Any]]]:
    """Per profile and figure: both medians, both spreads, noise and verdict."""
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for profile in before[0]:
        rows: dict[str, dict[str, Any]] = {}
        for key, _, higher_is_worse in FIGURES:
            old = [float(run[profile][key]) for run in before if key in run[profile]]
            new = [float(run[profile][key]) for run in after if key in run[profile]]
            if not old or not new:
                continue
            noise = max(max(old) - min(old), max(new) - min(new))
            change = statistics.median(new) - statistics.median(old)
            worse_by = change if higher_is_worse else -change
            verdict = (
                "worse"
                if worse_by > noise
                else "better"
                if -worse_by > noise
                else "within noise"
            )
            rows[key] = {
                "before": statistics.median(old),
                "before_runs": old,
                "after": statistics.median(new),
                "after_runs": new,
                "change": change,
                "noise": noise,
                "verdict": verdict,
            }
        out[profile] = rows
    return out


def table(summary: dict[str, dict[str, dict[str, Any]]], old: str, runs: int) -> str:
    """The comparison as plain text, one block per profile."""
    lines = [
        f"before: {old}; after: this tree; {runs} runs each, taken in turns;",
        "noise: the larger spread (max - min) of one code's runs",
    ]
    for profile, rows in summary.items():
        lines += ["", profile]
        lines.append(
            f"{'':30}{'before':>10}{'after':>10}{'change':>10}{'noise':>9}  verdict"
        )
        for key, label, _ in FIGURES:
            row = rows.get(key)
            if row is None:
                continue
            lines.append(
                f"{label:30}{row['before']:>10.3f}{row['after']:>10.3f}"
                f"{row['change']:>+10.3f}{row['noise']:>9.3f}  {row['verdict']}"
            )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Run both trees' benchmarks in turns and print the comparison."""
    parser = argparse.ArgumentParser(
        prog="scripts/bench --compare", description=__doc__
    )
    parser.add_argument("--compare", required=True, metavar="REV")
    parser.add_argument("--repeats", type=int, default=3, help="runs of each tree")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args, options = parser.parse_known_args(argv)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="bench-before-") as scratch:
        old = export_revision(args.compare, Path(scratch))
        before: list[dict[str, dict[str, Any]]] = []
        after: list[dict[str, dict[str, Any]]] = []
        for _ in range(args.repeats):
            before.append(run_bench(Path(scratch), options))
            after.append(run_bench(REPO_ROOT, options))
    summary = summarise(before, after)
    if args.json:
        print(
            json.dumps(
                {"before": old, "runs": args.repeats, "figures": summary}, indent=2
            )
        )
    else:
        print(table(summary, old, args.repeats))
        print(f"\n(ran in {time.monotonic() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
