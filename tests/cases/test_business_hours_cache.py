"""The business clock caches each day it reads and the last reading; a cached reading is the
one a fresh calendar computes, whatever was read before (time zones with DST, holidays)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from cases.business_hours import BusinessCalendar

SCHEDULE = {
    "tz": "America/New_York",
    "weekly": {
        "mon": [["08:00", "12:00"], ["13:00", "19:00"]],
        "tue": [["08:00", "19:00"]],
        "fri": [["22:00", "24:00"]],
        "sat": [["00:00", "24:00"]],
    },
    "country": "US",
    "subdivision": "NY",
}
START = datetime(2025, 1, 1, tzinfo=UTC)
moments = st.integers(min_value=0, max_value=2 * 365 * 86400 * 10**6).map(
    lambda us: START + timedelta(microseconds=us)
)
zones = st.sampled_from([UTC, ZoneInfo("America/New_York"), ZoneInfo("Asia/Kolkata")])


@settings(max_examples=50, deadline=None)
@given(pairs=st.lists(st.tuples(moments, moments, zones), min_size=1, max_size=10))
def test_a_warm_calendar_answers_as_a_fresh_one(pairs):
    warm = BusinessCalendar(**SCHEDULE)
    for start, end, zone in pairs:
        start, end = start.astimezone(zone), end.astimezone(zone)
        fresh = BusinessCalendar(**SCHEDULE)
        assert warm.seconds_between(start, end) == fresh.seconds_between(start, end)
        # the same instant read twice in a row (the memo), and the clock of each alone
        assert warm.clock(start) == warm.clock(start) == BusinessCalendar(**SCHEDULE).clock(start)


def test_the_same_instant_from_another_object_is_read_again():
    calendar = BusinessCalendar(**SCHEDULE)
    monday_9 = datetime(2026, 3, 2, 14, tzinfo=UTC)  # 09:00 in New York
    assert calendar.clock(monday_9) - calendar.clock(monday_9 - timedelta(hours=1)) == 3600
    later = monday_9 + timedelta(hours=1)
    assert calendar.clock(later) - calendar.clock(monday_9) == 3600
    assert calendar.seconds_between(monday_9, later) == 3600
