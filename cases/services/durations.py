"""Response and resolution durations, in calendar and business time, fixed when they happen."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from cases.business_hours import BusinessCalendar, calendar_for
from cases.models import Team, TeamClosure
from cases.services.sql import execute_binary

# timestamp field → (calendar seconds field, business seconds field)
DURATION_FIELDS = {
    "first_response_at": ("first_response_seconds", "first_response_business_seconds"),
    "resolved_at": ("resolution_seconds", "resolution_business_seconds"),
}


def team_calendar(team: Team | None) -> BusinessCalendar | None:
    """The team's business calendar (cached per distinct schedule), or None without a team."""
    if team is None:
        return None
    return calendar_for(
        tz=team.timezone,
        weekly=team.business_hours,
        country=team.holiday_country,
        subdivision=team.holiday_subdivision,
        closed_dates=tuple(team.closures.values_list("date", flat=True)),
    )


def team_calendars(team_ids: Iterable[int]) -> dict[int, BusinessCalendar]:
    """``team_calendar`` for many teams in one query (teams with their closures), for code
    that computes durations for a batch of cases."""
    ids = sorted(set(team_ids))
    if not ids:
        return {}
    rows = execute_binary(
        "SELECT t.id, t.timezone, t.business_hours::text, t.holiday_country, "
        "t.holiday_subdivision, array_remove(array_agg(c.date), NULL) "
        f"FROM {Team._meta.db_table} t LEFT JOIN {TeamClosure._meta.db_table} c "
        "ON c.team_id = t.id WHERE t.id = ANY(%b) GROUP BY t.id",
        [ids],
    )
    return {
        pk: calendar_for(
            tz=tz,
            weekly=json.loads(weekly),
            country=country,
            subdivision=subdivision,
            closed_dates=tuple(closed),
        )
        for pk, tz, weekly, country, subdivision, closed in rows
    }


def duration_updates(
    *,
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any],
    calendar: BusinessCalendar | None,
) -> dict[str, int | None]:
    """Durations for the timestamps that changed between ``before`` and ``after``.

    Durations of unchanged timestamps are left alone: they were fixed when their event
    happened, under the schedule of that time. Without a calendar (a case no team owns) the
    business duration stays None: there are no opening hours to measure against.
    """
    updates: dict[str, int | None] = {}
    opened_at: datetime = after["opened_at"]
    opened_changed = before is None or before.get("opened_at") != opened_at
    for stamp, (calendar_field, business_field) in DURATION_FIELDS.items():
        value = after.get(stamp)
        if not opened_changed and before is not None and before.get(stamp) == value:
            continue
        if value is None:
            updates[calendar_field] = updates[business_field] = None
            continue
        updates[calendar_field] = round((value - opened_at).total_seconds())
        updates[business_field] = (
            calendar.seconds_between(opened_at, value) if calendar is not None else None
        )
    return updates
