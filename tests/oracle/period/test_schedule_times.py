"""The daily schedule's wake-up times in local time, across DST changes."""

from __future__ import annotations

from datetime import UTC, datetime

from oracle.schedule import next_run


def test_next_run_is_later_today_or_tomorrow_in_local_time():
    before = datetime(2026, 11, 25, 0, 10, tzinfo=UTC)  # 01:10 in Rome
    assert next_run(before, 1, 30).isoformat() == "2026-11-25T01:30:00+01:00"
    after = datetime(2026, 11, 25, 0, 40, tzinfo=UTC)  # 01:40 in Rome
    assert next_run(after, 1, 30).isoformat() == "2026-11-26T01:30:00+01:00"


def test_next_run_across_the_autumn_change_keeps_the_wall_clock_time():
    saturday = datetime(2026, 10, 24, 12, 0, tzinfo=UTC)
    wake = next_run(saturday, 3, 30)
    assert wake.isoformat() == "2026-10-25T03:30:00+01:00"  # CET after the change, same wall-clock time
