"""Team calendars as day tables: opening time, open seconds and a running business clock.

These mirror ``cases.business_hours.BusinessCalendar`` (same opening hours, the same
``holidays`` package, the same closures) in array form, so agent work can be kept inside
office hours and business durations computed for a million cases at once. Outside
opening hours the clock stands still, which is why reading the local date from the offset
at local noon is exact enough: near midnight both candidate days give the same reading.
"""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import holidays as holidays_lib
import numpy as np

from cases.demo.reference import TeamSpec
from cases.demo.sampling import DAY

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
FIRST = -3  # table day 0 is window day -3: local dates west of UTC start before the window
AFTER = 40  # days past the window, so work pushed beyond `now` still finds an open day


@dataclass(frozen=True)
class Calendars:
    """Per (team, local day) tables; ``day`` indexes are window days minus FIRST."""

    start: int  # Unix seconds of window day 0, read as UTC midnight
    offset: np.ndarray  # UTC offset at local noon, seconds
    opens: np.ndarray  # Unix seconds of the day's opening
    length: np.ndarray  # open seconds that day (0: closed)
    before: np.ndarray  # open seconds from table day 0 up to the day
    next_open: np.ndarray  # the next open table day after each day

    def local_day(self, team: np.ndarray, at: np.ndarray) -> np.ndarray:
        """Table day of the local date of ``at`` (Unix seconds) for each team."""
        last = self.offset.shape[1] - 1
        utc_day = np.clip((at - self.start) // DAY - FIRST, 0, last)
        local = at + self.offset[team, utc_day]
        return np.clip((local - self.start) // DAY - FIRST, 0, last)

    def clock(self, team: np.ndarray, at: np.ndarray) -> np.ndarray:
        """Open seconds between table day 0 and ``at``."""
        day = self.local_day(team, at)
        inside = np.clip(at - self.opens[team, day], 0, self.length[team, day])
        return self.before[team, day] + inside

    def business_seconds(self, team: np.ndarray, start: np.ndarray, end: np.ndarray) -> np.ndarray:
        """Open seconds in [start, end), like ``BusinessCalendar.seconds_between``."""
        return np.maximum(self.clock(team, end) - self.clock(team, start), 0)

    def next_opening(self, team: np.ndarray, at: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(is ``at`` inside opening hours, Unix seconds of the next opening otherwise)."""
        day = self.local_day(team, at)
        opens, length = self.opens[team, day], self.length[team, day]
        inside = (length > 0) & (at >= opens) & (at < opens + length)
        target_day = np.where((length > 0) & (at < opens), day, self.next_open[team, day])
        opening = self.opens[team, target_day]
        # Past the table's last open day there is no next opening to move to: leave the time
        # where it is rather than move it back (a long case pushed beyond the table otherwise
        # got events before its own opening at 5M cases).
        return inside | (opening <= at), opening


def weekly_hours(spec: TeamSpec) -> dict[str, list[list[str]]]:
    """The team's opening hours in ``Team.business_hours`` form."""
    return {day: [[opens, closes]] for day, opens, closes in spec.hours}


def _seconds(hhmm: str) -> int:
    hours, minutes = hhmm.split(":")
    return int(hours) * 3600 + int(minutes) * 60


def build_calendars(
    teams: tuple[TeamSpec, ...], first_day: date, n_days: int, closures: list[list[date]]
) -> Calendars:
    """Tables for window days FIRST .. n_days + AFTER of every team."""
    start = int(datetime(first_day.year, first_day.month, first_day.day, tzinfo=UTC).timestamp())
    days = [first_day + timedelta(days=FIRST + i) for i in range(n_days - FIRST + AFTER)]
    years = range(days[0].year, days[-1].year + 1)
    shape = (len(teams), len(days))
    offset, opens, length = (np.zeros(shape, dtype=np.int64) for _ in range(3))
    for t, spec in enumerate(teams):
        tz = zoneinfo.ZoneInfo(spec.timezone)
        closed = set(closures[t])
        if spec.country:
            found = holidays_lib.country_holidays(
                spec.country, subdiv=spec.subdivision or None, years=years
            )
            closed |= set(found.keys())
        hours = {WEEKDAYS.index(day): (_seconds(o), _seconds(c)) for day, o, c in spec.hours}
        for i, d in enumerate(days):
            noon = datetime(d.year, d.month, d.day, 12, tzinfo=tz).utcoffset()
            offset[t, i] = int(noon.total_seconds()) if noon else 0
            midnight = start + (FIRST + i) * DAY - offset[t, i]
            o, c = hours.get(d.weekday(), (0, 0))
            opens[t, i] = midnight + o
            length[t, i] = 0 if d in closed else c - o
    before = np.cumsum(length, axis=1) - length
    next_open = np.zeros(shape, dtype=np.int64)
    for t in range(len(teams)):
        open_days = np.flatnonzero(length[t] > 0)
        after = np.searchsorted(open_days, np.arange(len(days)), side="right")
        next_open[t] = open_days[np.minimum(after, len(open_days) - 1)]
    return Calendars(start, offset, opens, length, before, next_open)
