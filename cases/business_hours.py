"""Business time: how much of a span fell inside a team's opening hours.

A team's calendar is its IANA time zone, weekly opening intervals in local wall-clock time
(e.g. Mon–Fri 09:00–17:00), public holidays from the ``holidays`` package for its country
(and subdivision), and its own closure dates. Durations are computed when the event
happens and stored, so a later schedule change does not rewrite history.

The calendar is a *business clock*: ``clock(t)`` is the number of open seconds between a
fixed reference day and ``t``; the business time between two instants is the difference of
two clock readings. Per-day totals and their running sums are cached per year, so a reading
costs a few dictionary look-ups, whatever the span (a year-long case costs no more than an
hour-long one). Interval ends are converted to UTC before subtracting, so a DST change
inside opening hours counts the real elapsed time.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays as holidays_lib

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DEFAULT_WEEKLY_HOURS: dict[str, list[list[str]]] = {
    day: [["09:00", "17:00"]] for day in WEEKDAYS[:5]
}
# Any fixed day works (only differences of clock readings matter); the holidays package
# has no data before 2001, so the reference stays well after that.
REFERENCE_DAY = date(2020, 1, 1)
# Per calendar: about 55 years of days (a few MB at most).
_MAX_CACHED_DAYS = 20_000


def parse_weekly_hours(
    weekly: dict[str, list[list[str]]],
) -> dict[int, tuple[tuple[time, time], ...]]:
    """Validate ``{"mon": [["09:00", "17:00"]], ...}`` into weekday → sorted intervals.

    Raises ValueError naming the problem: unknown day, malformed time, an interval that
    ends before it starts, or overlapping intervals. "24:00" closes at midnight.
    """
    parsed: dict[int, tuple[tuple[time, time], ...]] = {}
    for key, intervals in weekly.items():
        if key not in WEEKDAYS:
            raise ValueError(f"Unknown day {key!r}; use {', '.join(WEEKDAYS)}.")
        spans: list[tuple[time, time]] = []
        for interval in intervals:
            if not isinstance(interval, list | tuple) or len(interval) != 2:
                raise ValueError(f"{key}: each interval is [open, close], e.g. ['09:00', '17:00'].")
            opens, closes = (_parse_time(v, key) for v in interval)
            if closes != time.max and closes <= opens:
                raise ValueError(f"{key}: {interval[0]}–{interval[1]} closes before it opens.")
            spans.append((opens, closes))
        spans.sort()
        for (_, first_close), (second_open, _) in itertools.pairwise(spans):
            if second_open < first_close:
                raise ValueError(f"{key}: opening intervals overlap.")
        parsed[WEEKDAYS.index(key)] = tuple(spans)
    return parsed


def _parse_time(value: str, day: str) -> time:
    if value == "24:00":
        return time.max
    try:
        return time.fromisoformat(value)
    except (TypeError, ValueError):
        raise ValueError(f"{day}: {value!r} is not a time like '09:00'.") from None


class BusinessCalendar:
    """Opening hours of one team; immutable once built."""

    def __init__(
        self,
        *,
        tz: str,
        weekly: dict[str, list[list[str]]],
        country: str = "",
        subdivision: str = "",
        closed_dates: Iterable[date] = (),
    ) -> None:
        self.tz = ZoneInfo(tz)
        self.weekly = parse_weekly_hours(weekly)
        self.country = country
        self.subdivision = subdivision
        self.closed_dates = frozenset(closed_dates)
        self._holiday_years: dict[int, frozenset[date]] = {}
        self._year_prefix: dict[int, list[float]] = {}
        self._year_base: dict[int, float] = {}
        # local day → (clock at its start, its opening intervals in UTC): a reading then
        # costs one look-up instead of rebuilding the day's intervals (bulk ingest reads the
        # clock twice per duration). At most _MAX_CACHED_DAYS days are kept.
        self._days: dict[date, tuple[float, list[tuple[datetime, datetime]]]] = {}
        self._last: tuple[datetime | None, float] = (None, 0.0)

    # -- days ---------------------------------------------------------------------------
    def is_closed(self, day: date) -> bool:
        return day in self.closed_dates or day in self._holidays(day.year)

    def _holidays(self, year: int) -> frozenset[date]:
        if year not in self._holiday_years:
            if self.country:
                found = holidays_lib.country_holidays(
                    self.country, subdiv=self.subdivision or None, years=year
                )
                self._holiday_years[year] = frozenset(found.keys())
            else:
                self._holiday_years[year] = frozenset()
        return self._holiday_years[year]

    def _intervals(self, day: date) -> list[tuple[datetime, datetime]]:
        """The day's opening intervals as aware datetimes (UTC), empty on a closed day."""
        if self.is_closed(day):
            return []
        spans = []
        for opens, closes in self.weekly.get(day.weekday(), ()):
            start = datetime.combine(day, opens, tzinfo=self.tz)
            end = (
                datetime.combine(day + timedelta(days=1), time(0), tzinfo=self.tz)
                if closes == time.max
                else datetime.combine(day, closes, tzinfo=self.tz)
            )
            spans.append((start.astimezone(UTC), end.astimezone(UTC)))
        return spans

    def open_seconds(self, day: date) -> float:
        return sum((end - start).total_seconds() for start, end in self._intervals(day))

    # -- the clock ------------------------------------------------------------------------
    def _prefix(self, year: int) -> list[float]:
        """prefix[i] = open seconds from 1 January of ``year`` up to (not incl.) day i."""
        if year not in self._year_prefix:
            first = date(year, 1, 1)
            days = (date(year + 1, 1, 1) - first).days
            prefix = [0.0]
            for i in range(days):
                prefix.append(prefix[-1] + self.open_seconds(first + timedelta(days=i)))
            self._year_prefix[year] = prefix
        return self._year_prefix[year]

    def _base(self, year: int) -> float:
        """Open seconds from REFERENCE_DAY to 1 January of ``year`` (negative before it)."""
        if year not in self._year_base:
            ref = REFERENCE_DAY.year
            if year == ref:
                self._year_base[year] = 0.0
            elif year > ref:
                self._year_base[year] = self._base(year - 1) + self._prefix(year - 1)[-1]
            else:
                self._year_base[year] = self._base(year + 1) - self._prefix(year)[-1]
        return self._year_base[year]

    def clock(self, moment: datetime) -> float:
        """Open seconds between REFERENCE_DAY and ``moment`` (an aware datetime)."""
        last = self._last  # durations read the same opened_at twice in a row
        if last[0] is moment:
            return last[1]
        local_day = moment.astimezone(self.tz).date()
        try:
            elapsed, intervals = self._days[local_day]
        except KeyError:
            elapsed = (
                self._base(local_day.year)
                + self._prefix(local_day.year)[local_day.timetuple().tm_yday - 1]
            )
            intervals = self._intervals(local_day)
            if len(self._days) >= _MAX_CACHED_DAYS:
                self._days.clear()
            self._days[local_day] = (elapsed, intervals)
        instant = moment if moment.tzinfo is UTC else moment.astimezone(UTC)
        for start, end in intervals:
            if instant > start:
                elapsed += (min(instant, end) - start).total_seconds()
        self._last = (moment, elapsed)  # one assignment: threads never see a mixed pair
        return elapsed

    def seconds_between(self, start: datetime, end: datetime) -> int:
        """Business seconds in [start, end); 0 when end ≤ start."""
        if end <= start:
            return 0
        return round(self.clock(end) - self.clock(start))


@lru_cache(maxsize=64)
def _cached(key: tuple) -> BusinessCalendar:
    tz, weekly_items, country, subdivision, closed = key
    weekly = {day: [list(i) for i in intervals] for day, intervals in weekly_items}
    return BusinessCalendar(
        tz=tz, weekly=weekly, country=country, subdivision=subdivision, closed_dates=closed
    )


def calendar_for(
    *,
    tz: str,
    weekly: dict[str, list[list[str]]],
    country: str = "",
    subdivision: str = "",
    closed_dates: Iterable[date] = (),
) -> BusinessCalendar:
    """A cached calendar for these settings (teams share one per distinct schedule)."""
    key = (
        tz,
        tuple(sorted((d, tuple(tuple(i) for i in v)) for d, v in weekly.items())),
        country,
        subdivision,
        frozenset(closed_dates),
    )
    return _cached(key)
