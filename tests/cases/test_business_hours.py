"""Business time, hand-computed, plus the properties that must always hold."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cases import services
from cases.business_hours import DEFAULT_WEEKLY_HOURS, calendar_for, parse_weekly_hours
from cases.models import CaseEvent, TeamClosure

BERLIN = ZoneInfo("Europe/Berlin")
HOUR = 3600
EVERY_DAY = {d: [["00:00", "24:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


def berlin(*args: int) -> datetime:
    return datetime(*args, tzinfo=BERLIN)


@pytest.fixture
def office():
    return calendar_for(tz="Europe/Berlin", weekly=DEFAULT_WEEKLY_HOURS, country="DE")


@pytest.mark.parametrize(
    ("start", "end", "hours"),
    [
        (berlin(2026, 3, 2, 9), berlin(2026, 3, 2, 17), 8),  # one full Monday
        (berlin(2026, 3, 2, 8), berlin(2026, 3, 2, 9, 30), 0.5),  # before opening counts 0
        (berlin(2026, 3, 2, 9), berlin(2026, 3, 3, 10), 9),  # overnight skipped
        (berlin(2026, 3, 6, 16), berlin(2026, 3, 9, 10), 2),  # weekend skipped
        (berlin(2026, 12, 24, 16), berlin(2026, 12, 28, 10), 2),  # 25, 26 Dec: holidays
        (berlin(2026, 3, 2, 18), berlin(2026, 3, 2, 20), 0),  # entirely after hours
        (berlin(2026, 3, 2, 12), berlin(2026, 3, 2, 11), 0),  # end before start
        (berlin(2026, 3, 2, 9), berlin(2026, 3, 9, 9), 40),  # a whole week
    ],
)
def test_hand_computed_spans(office, start, end, hours):
    assert office.seconds_between(start, end) == hours * HOUR


def test_closure_dates_and_spring_forward():
    closed = calendar_for(
        tz="Europe/Berlin",
        weekly=DEFAULT_WEEKLY_HOURS,
        closed_dates=(berlin(2026, 3, 3, 0).date(),),
    )
    assert closed.seconds_between(berlin(2026, 3, 2, 9), berlin(2026, 3, 4, 17)) == 16 * HOUR
    always = calendar_for(tz="Europe/Berlin", weekly=EVERY_DAY)
    # 29 March 2026: clocks jump from 02:00 to 03:00 — that day has 23 real hours.
    assert always.seconds_between(berlin(2026, 3, 28, 12), berlin(2026, 3, 29, 12)) == 23 * HOUR
    assert always.seconds_between(berlin(2026, 10, 24, 12), berlin(2026, 10, 25, 12)) == 25 * HOUR


@pytest.mark.parametrize(
    ("weekly", "message"),
    [
        ({"monday": [["09:00", "17:00"]]}, "Unknown day"),
        ({"mon": [["9am", "17:00"]]}, "is not a time"),
        ({"mon": [["17:00", "09:00"]]}, "closes before it opens"),
        ({"mon": [["09:00", "13:00"], ["12:00", "17:00"]]}, "overlap"),
        ({"mon": [["09:00"]]}, "each interval"),
    ],
)
def test_invalid_schedules_say_why(weekly, message):
    with pytest.raises(ValueError, match=message):
        parse_weekly_hours(weekly)


moments = st.datetimes(
    min_value=datetime(2024, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC)
)


@settings(max_examples=150, deadline=None)
@given(
    a=moments,
    b=moments,
    c=moments,
    zone=st.sampled_from(["Europe/Berlin", "America/New_York", "Asia/Kolkata", "UTC"]),
)
def test_business_time_splits_add_up_and_never_exceed_calendar_time(a, b, c, zone):
    a, b, c = sorted((a, b, c))
    cal = calendar_for(tz=zone, weekly=DEFAULT_WEEKLY_HOURS, country="US")
    whole = cal.seconds_between(a, c)
    assert abs(whole - (cal.seconds_between(a, b) + cal.seconds_between(b, c))) <= 1  # rounding
    assert 0 <= whole <= (c - a).total_seconds() + 1
    always = calendar_for(tz=zone, weekly=EVERY_DAY)
    assert abs(always.seconds_between(a, c) - (c - a).total_seconds()) <= 1


@pytest.mark.django_db
def test_durations_are_fixed_when_the_event_happens(org):
    team = org.team_a  # Europe/Berlin, Mon–Fri 09–17 by default
    case, _ = services.case_create(
        external_id="bh-1",
        category=org.category,
        channel="email",
        opened_at=berlin(2026, 3, 6, 16),  # Friday 16:00
        assignee=org.rep_a1,
    )
    services.case_event_record(
        case=case,
        event_type=CaseEvent.Type.AGENT_RESPONSE,
        occurred_at=berlin(2026, 3, 9, 10),  # Monday 10:00
        actor=org.rep_a1,
    )
    case.refresh_from_db()
    assert case.first_response_seconds == (66 * HOUR)
    assert case.first_response_business_seconds == 2 * HOUR

    # The team closes that Monday after the fact: history is not rewritten.
    TeamClosure.objects.create(team=team, date=berlin(2026, 3, 9, 0).date())
    services.case_event_record(
        case=case,
        event_type=CaseEvent.Type.RESOLVED,
        occurred_at=berlin(2026, 3, 10, 9) + timedelta(minutes=30),
        actor=org.rep_a1,
    )
    case.refresh_from_db()
    assert case.first_response_business_seconds == 2 * HOUR
    # Resolution under the new calendar: Fri 1 h + (Mon closed) + Tue 0.5 h.
    assert case.resolution_business_seconds == int(1.5 * HOUR)
    assert case.resolution_seconds == int((3 * 24 + 17.5) * HOUR)
