"""The Home Assistant process benchmark's arithmetic, without Home Assistant.

The benchmark runs for minutes and asserts nothing; what it prints is only as
good as the counting of polls, periods, bus time and CPU ticks, checked here
on made-up records.
"""

import json
import math
from pathlib import Path

import pytest

from benchmarks.ha_process import (
    BusExchange,
    Request,
    bus_busy_in_window,
    cpu_seconds_from_stat,
    group_cpu_seconds,
    parse_records,
    percentile,
    periods_in_window,
    poll_starts,
    polls_in_window,
    process_group_of,
)

# A /proc/<pid>/stat line whose command name holds a space and a parenthesis:
# utime 1200, stime 300, cutime 40, cstime 10 ticks; process group 4242.
STAT = (
    "4242 (python3 (hass)) S 1 4242 4242 0 -1 4194560 90000 0 12 0 "
    "1200 300 40 10 20 0 25 0 1000 900000000 50000"
)


def test_cpu_of_a_stat_line_counts_user_system_and_waited_children() -> None:
    """Fields are counted after the name, however odd the name is."""
    assert cpu_seconds_from_stat(STAT, 100) == pytest.approx(15.5)
    assert process_group_of(STAT) == 4242


def test_group_cpu_adds_up_the_processes_of_the_group(tmp_path: Path) -> None:
    """Home Assistant and what it started count; other processes do not."""
    (tmp_path / "4242").mkdir()
    (tmp_path / "4242" / "stat").write_text(STAT)
    child = STAT.replace("4242 (python3 (hass))", "4300 (go2rtc)", 1)
    (tmp_path / "4300").mkdir()
    (tmp_path / "4300" / "stat").write_text(child)
    other = STAT.replace("S 1 4242", "S 1 999", 1)
    (tmp_path / "999").mkdir()
    (tmp_path / "999" / "stat").write_text(other)
    (tmp_path / "self").mkdir()  # not a process id: skipped
    expected = 2 * cpu_seconds_from_stat(STAT, 100)
    assert group_cpu_seconds(4242, tmp_path, 100) == pytest.approx(expected)


def test_requests_of_one_burst_are_one_poll() -> None:
    """Back-to-back requests to one unit are one poll; its next burst the next."""
    # Meter 1: polls at 0 and 10 s, two requests each; meter 2 right after it.
    requests = [
        Request(0.0, 1),
        Request(0.15, 1),
        Request(0.3, 2),
        Request(0.45, 2),
        Request(10.0, 1),
        Request(10.15, 1),
        Request(10.3, 2),
        Request(10.45, 2),
    ]
    starts = poll_starts(requests)
    assert starts == {1: [0.0, 10.0], 2: [0.3, 10.3]}
    assert polls_in_window(starts, 0.0, 10.2) == 3


def test_periods_only_between_polls_inside_the_window() -> None:
    """A period counts when both its polls are inside the window."""
    starts = {1: [0.0, 10.0, 20.5, 31.0], 2: [5.0, 15.0]}
    assert sorted(periods_in_window(starts, 5.0, 25.0)) == [10.0, 10.5]
    assert periods_in_window(starts, 40.0, 50.0) == []


def test_percentile_interpolates_and_has_no_value_for_nothing() -> None:
    """Between ranks the quantile is interpolated; no values, no figure."""
    assert percentile([10.0, 20.0, 30.0, 40.0, 50.0], 0.5) == 30.0
    assert percentile([10.0, 20.0], 0.95) == pytest.approx(19.5)
    assert percentile([7.0], 0.95) == 7.0
    assert math.isnan(percentile([], 0.95))


def test_bus_time_is_cut_at_the_window_edges() -> None:
    """Only the part of an exchange inside the window counts."""
    exchanges = [BusExchange(1.0, 0.5), BusExchange(2.2, 0.4), BusExchange(9.0, 1.0)]
    # 0.5..1.0 outside; 1.8..2.2 half inside from 2.0; 8.0..9.0 all inside.
    assert bus_busy_in_window(exchanges, 2.0, 10.0) == pytest.approx(1.2)


def test_records_file_lines_and_a_cut_off_last_line() -> None:
    """Both kinds of lines are read; a line cut off mid-write is skipped."""
    lines = [
        json.dumps({"kind": "request", "t": 1.5, "unit": 3, "function": 3}),
        json.dumps({"kind": "bus", "end": 1.7, "busy_s": 0.14}),
        '{"kind": "requ',
    ]
    requests, exchanges = parse_records(lines)
    assert requests == [Request(1.5, 3)]
    assert exchanges == [BusExchange(1.7, 0.14)]
