"""Reading the rollups: when they can answer a request exactly, and the SQL pieces to do it.

A rollup row holds cumulative counts at each whole UTC hour of its day, so it can answer a
request exactly when

- the request slices only by dimensions the table has (``serves``),
- every boundary the figure uses (window edges, history start, ``now``…) is a whole UTC
  hour, and
- the calendar's time zone maps every UTC hour of the range into one local hour (offsets
  in whole hours, changing only on the hour): then each local hour, day, week and month
  is a run of whole UTC hours. Europe/Berlin, America/New_York and UTC qualify;
  Asia/Kolkata (+05:30) does not, and is answered from the case tables.

Otherwise the KPI reads the case tables as before. ``SUPPORTMETRICS_ROLLUPS = False``
turns every read back to the case tables (the tests compare the two).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings

from metrics.rollups.spec import FILTER_DIMS, RollupTable
from metrics.types import KpiFilter

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
TICK = timedelta(microseconds=1)


def rollups_enabled() -> bool:
    return bool(getattr(settings, "SUPPORTMETRICS_ROLLUPS", True))


def on_the_hour(moment: datetime) -> bool:
    utc = moment.astimezone(UTC)
    return utc.minute == 0 and utc.second == 0 and utc.microsecond == 0


@functools.lru_cache(maxsize=1024)
def _zone_year_on_the_hour(zone: str, year: int) -> bool:
    """Whether every UTC hour of ``year`` lies within one local hour of ``zone``: offsets
    in whole hours, changing only on a UTC hour. Cached: time-zone rules do not change
    while the process runs. (Read from Python's time-zone data, which on a server is the
    same system database PostgreSQL reads.)"""
    tz = ZoneInfo(zone)

    def offset(moment: datetime) -> timedelta | None:
        return moment.astimezone(tz).utcoffset()

    day = datetime(year, 1, 1, tzinfo=UTC)
    while day.year == year:
        start, end = offset(day), offset(day + DAY)
        if start is None or start % HOUR:
            return False
        if end != start:  # a change this day: it must fall on an hour
            for hour in range(24):
                moment = day + hour * HOUR
                before, after = offset(moment + HOUR - TICK), offset(moment + HOUR)
                if before != offset(moment) or after is None or after % HOUR:
                    return False
        day += DAY
    return True


def zone_on_the_hour(zone: str, start: datetime, end: datetime) -> bool:
    """Whether ``zone`` maps each UTC hour of [start, end) into one local hour (see module)."""
    if zone == "UTC":
        return True
    first, last = start.astimezone(UTC).year, (end - HOUR).astimezone(UTC).year
    return all(_zone_year_on_the_hour(zone, year) for year in range(first, last + 1))


def sliced_dims(f: KpiFilter) -> set[str]:
    """The dimensions the request slices by."""
    slices = {
        "team": f.team_ids,
        "rep": f.rep_ids,
        "category": f.category_ids,
        "channel": f.channels,
        "priority": f.priorities,
        "segment": f.segments,
    }
    return {name for name, values in slices.items() if values is not None}


def serves(
    f: KpiFilter,
    table: RollupTable,
    *,
    bounds: Iterable[datetime],
    ignore: Iterable[str] = (),
) -> bool:
    """Whether ``table`` answers a figure of ``f`` exactly: its slice is on ``table``'s
    dimensions (``ignore``: dimensions the figure does not read), and every boundary in
    ``bounds`` is on the hour in a zone whose hours are whole."""
    if not rollups_enabled():
        return False
    available = {name for name, column in FILTER_DIMS.items() if column in table.dims}
    if not sliced_dims(f) - set(ignore) <= available:
        return False
    moments = list(bounds)
    if not all(on_the_hour(m) for m in moments):
        return False
    return zone_on_the_hour(str(f.tz), min(moments), max(moments))


def first_serving(
    f: KpiFilter, tables: Iterable[RollupTable], *, bounds: Iterable[datetime]
) -> RollupTable | None:
    """The first of ``tables`` (list the smallest first) that answers ``f`` exactly."""
    moments = list(bounds)
    return next((t for t in tables if serves(f, t, bounds=moments)), None)


def rollup_slice_sql(
    f: KpiFilter, table: RollupTable, *, alias: str = "r", ignore: Iterable[str] = ()
) -> tuple[str, dict[str, Any]]:
    """The request's slice as a condition on the rollup rows ``alias``, with parameters
    named as ``metrics.sql.slice_sql`` names them."""
    parts, params = ["TRUE"], {}
    slices = {"team": f.team_ids, "rep": f.rep_ids, "category": f.category_ids}
    for name, values in slices.items():
        if values is None or name in ignore:
            continue
        column = FILTER_DIMS[name]
        if column not in table.dims:
            raise ValueError(f"{table.name} has no {name} dimension")
        parts.append(f"{alias}.{column} = ANY(%(rollup_{name})s)")
        params[f"rollup_{name}"] = list(values)
    return " AND ".join(parts), params


def local(expression: str, unit: str) -> str:
    """The local calendar bucket (in %(tz)s) of a UTC-naive timestamp ``expression``: the
    local hour's start (a timestamp) for ``hour``, the first local date otherwise."""
    bucket = f"date_trunc('{unit}', (({expression}) AT TIME ZONE 'UTC') AT TIME ZONE %(tz)s)"
    return bucket if unit == "hour" else f"{bucket}::date"


def segments_cte(name: str, unit: str, *, start: str, end: str) -> str:
    """CTE ``name`` (day, bucket, h0, h1): the UTC hours [h0, h1) of each UTC ``day`` in
    [start, end) that fall into local bucket ``bucket`` (``unit`` = hour/day/week/month).

    ``start``/``end`` are SQL timestamptz expressions on the hour. A day wholly inside the
    range and inside one bucket is one segment [0, 24); only the other days are looked at
    hour by hour (hours of a day in one bucket are consecutive: local time only moves on).
    Sum a rollup measure ``m`` over a segment as ``m[h1 + 1] − m[h0 + 1]``.
    """
    first, last = f"({start} AT TIME ZONE 'UTC')", f"({end} AT TIME ZONE 'UTC')"
    hour = "d.day + h.hr * interval '1 hour'"
    return f"""{name}_days AS (
    SELECT g.day::date AS day,
           g.day >= {first} AND g.day + interval '1 day' <= {last}
             AND {local("g.day", unit)} = {local("g.day + interval '23 hours'", unit)} AS whole
      FROM generate_series(date_trunc('day', {first}), {last} - interval '1 hour',
                           interval '1 day') AS g(day)
),
{name} AS (
    SELECT d.day, {local("d.day::timestamp", unit)} AS bucket, 0 AS h0, 24 AS h1
      FROM {name}_days d
     WHERE d.whole
    UNION ALL
    SELECT x.day, x.bucket, min(x.hr) AS h0, max(x.hr) + 1 AS h1
      FROM (SELECT d.day, h.hr, {local(hour, unit)} AS bucket
              FROM {name}_days d CROSS JOIN generate_series(0, 23) AS h(hr)
             WHERE NOT d.whole AND {hour} >= {first} AND {hour} < {last}) x
     GROUP BY x.day, x.bucket
)"""


def span(measure: str, *, rows: str = "r", segments: str = "s") -> str:
    """The count of ``measure`` of rollup rows ``rows`` in the hours of ``segments``."""
    return f"{rows}.{measure}[{segments}.h1 + 1] - {rows}.{measure}[{segments}.h0 + 1]"


def before(measure: str, *, rows: str = "r", day: str, slot: str) -> str:
    """The count of ``measure`` of rows ``rows`` strictly before a moment on the hour, given
    as its UTC ``day`` and ``slot`` (hour + 1): whole earlier days plus the hours before."""
    return (
        f"coalesce(sum({rows}.{measure}[25]) FILTER (WHERE {rows}.day < {day}), 0)"
        f" + coalesce(sum({rows}.{measure}[{slot}]) FILTER (WHERE {rows}.day = {day}), 0)"
    )


def moment_params(prefix: str, moment: datetime) -> dict[str, Any]:
    """``{prefix}_day`` and ``{prefix}_slot`` of a moment on the hour, for ``before``."""
    utc = moment.astimezone(UTC)
    return {f"{prefix}_day": utc.date(), f"{prefix}_slot": utc.hour + 1}
