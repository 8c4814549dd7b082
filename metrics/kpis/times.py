"""First response time and resolution time: mean, median, p90, histogram and SLA attainment.

Definitions (docs/metrics.md#first-response-time, #resolution-time):
- *First response time* of a case = ``first_response_at − opened_at`` (the first agent
  response). The cases measured are those whose first response falls in the window
  ``[start, end)``; ``group_by=rep`` attributes a case to its ``first_responder``.
- *Resolution time* of a case = ``resolved_at − opened_at`` where ``resolved_at`` is the
  latest resolution (a reopened case is measured to its final resolution, reopen time
  included). The cases measured are those whose latest resolution falls in the window and
  that are resolved or closed now (a case reopened and still open has no ``resolved_at``);
  ``group_by=rep`` attributes a case to ``resolved_by``.
- ``f.basis`` picks the stored duration: calendar seconds or business seconds (the team's
  opening hours, fixed when the event happened). A case without a duration in the chosen
  basis (business time of a case no team owns) is in ``cases`` but not in ``n``.
- Mean, median and p90 are exact (``avg``, ``percentile_cont``) over the group's cases.
  The mean carries a normal 95% interval, mean ± 1.96·sd/√n (sd = ``stddev_samp``),
  floored at 0; per-rep rows below ``min_n`` report ``insufficient_data`` and no figures.
- The histogram has fixed buckets (lower bound inclusive): <1 h, 1–4 h, 4–8 h, 8–24 h,
  1–3 d, 3–7 d, ≥7 d — business hours when the basis is business.
- *SLA attainment* (resolution only): the share of measured cases whose category has a
  ``target_resolution_hours`` that were resolved within it (duration ≤ target, in the chosen
  basis), with a Wilson interval; cases whose category has no target are left out of the
  SLA and counted in ``no_target``.

The default request (no group, calendar basis, no slice but team) reads the duration
rollup (metrics.rollups.durations) for the whole UTC months and days inside the window and
the case table for the partial UTC days at its edges: counts, mean, sd, the fixed
histogram and the SLA stay exact; the median and p90 are estimated from log-spaced bucket
counts, within 2% of percentile_cont (√1.04 − 1 ≈ 1.98% at worst, exact below 64 s).
``SUPPORTMETRICS_ROLLUPS = False`` reads the case table only (exact percentiles).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from metrics.rollups import durations
from metrics.rollups.read import rollups_enabled, sliced_dims
from metrics.sql import fetch_dicts, slice_sql
from metrics.stats import Z95, Proportion, default_min_n, proportion
from metrics.types import DurationStats, KpiFilter

DEFINITION_VERSION = 1

HOUR = 3600
DAY = 24 * HOUR
# (name, lower bound inclusive, upper bound exclusive) in seconds of the chosen basis.
HISTOGRAM_BUCKETS: tuple[tuple[str, int, int | None], ...] = (
    ("lt_1h", 0, HOUR),
    ("h1_4", HOUR, 4 * HOUR),
    ("h4_8", 4 * HOUR, 8 * HOUR),
    ("h8_24", 8 * HOUR, DAY),
    ("d1_3", DAY, 3 * DAY),
    ("d3_7", 3 * DAY, 7 * DAY),
    ("gte_7d", 7 * DAY, None),
)
TIME_GROUPS = ("day", "week", "month")
# group_by → the case column it groups on (rep is the column the measure attributes to).
COLUMN_GROUPS = {
    "team": "team_id",
    "category": "category_id",
    "channel": "channel",
    "priority": "priority",
}
# group_by → (table, column) that names a group's key.
LABELS = {
    "rep": ("cases_representative", "display_name"),
    "team": ("cases_team", "name"),
    "category": ("cases_category", "name"),
}


# --- shared by the load, times and FCR KPIs ----------------------------------------------


def group_key_sql(group_by: str, *, stamp: str, rep_column: str, alias: str = "c") -> str:
    """SQL for a case's group key: a column, or its calendar bucket of ``stamp`` in %(tz)s."""
    if group_by == "rep":
        return f"{alias}.{rep_column}"
    if group_by in TIME_GROUPS:
        return f"date_trunc('{group_by}', {alias}.{stamp} AT TIME ZONE %(tz)s)::date"
    return f"{alias}.{COLUMN_GROUPS[group_by]}"


# Every calendar bucket (local date of its start) that overlaps the window, in %(tz)s.
BUCKETS_SQL = """
    SELECT b::date AS key
      FROM generate_series(
             date_trunc(%(unit)s, %(start)s::timestamptz AT TIME ZONE %(tz)s),
             date_trunc(%(unit)s, (%(end)s::timestamptz - interval '1 microsecond')
                                  AT TIME ZONE %(tz)s),
             ('1 ' || %(unit)s)::interval) AS b
"""


def bucket_bounds(f: KpiFilter, unit: str, first_day: date) -> tuple[datetime, datetime]:
    """The UTC bounds of the calendar bucket starting on ``first_day``, clipped to the window."""
    if unit == "day":
        next_day = first_day + timedelta(days=1)
    elif unit == "week":
        next_day = first_day + timedelta(weeks=1)
    else:
        next_day = (first_day.replace(day=28) + timedelta(days=4)).replace(day=1)
    start = datetime.combine(first_day, time(0), tzinfo=f.tz)
    end = datetime.combine(next_day, time(0), tzinfo=f.tz)
    return max(start, f.start), min(end, f.end)


# --- first response time and resolution time ---------------------------------------------


@dataclass(frozen=True)
class Sla:
    """Resolution within the category's target, over the cases whose category has one."""

    attainment: Proportion
    no_target: int


@dataclass(frozen=True)
class DurationFigure:
    cases: int  # cases in the set (with or without a duration in the basis)
    stats: DurationStats  # n = cases with a duration in the basis
    mean_low: float | None
    mean_high: float | None
    insufficient_data: bool
    histogram: dict[str, int]
    sla: Sla | None  # resolution time only


@dataclass(frozen=True)
class DurationRow:
    key: object  # the group's id, name or local start date (None: no rep / no team)
    label: str | None  # display name of a rep, name of a team or category
    figure: DurationFigure


@dataclass(frozen=True)
class DurationResult:
    measure: str  # "first_response" or "resolution"
    basis: str
    group_by: str | None
    overall: DurationFigure
    rows: list[DurationRow]


@dataclass(frozen=True)
class _Measure:
    stamp: str  # the case timestamp that puts a case in the window
    rep_column: str  # whom a case is attributed to
    seconds: dict[str, str]  # basis → stored duration column
    sla: bool


MEASURES = {
    "first_response": _Measure(
        stamp="first_response_at",
        rep_column="first_responder_id",
        seconds={
            "calendar": "first_response_seconds",
            "business": "first_response_business_seconds",
        },
        sla=False,
    ),
    "resolution": _Measure(
        stamp="resolved_at",
        rep_column="resolved_by_id",
        seconds={"calendar": "resolution_seconds", "business": "resolution_business_seconds"},
        sla=True,
    ),
}

DURATIONS_SQL = """
WITH measured AS (
    SELECT c.id, {key} AS key, c.{seconds} AS d, {target} AS target
      FROM cases_case c {target_join}
     WHERE c.{stamp} >= %(start)s AND c.{stamp} < %(end)s AND {slice}
){buckets},
agg AS (
    SELECT {overall} AS overall, {group_key} AS key,
           count(m.id) AS cases,
           count(m.d) AS n,
           avg(m.d)::float8 AS mean,
           stddev_samp(m.d)::float8 AS sd,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY m.d) AS median,
           percentile_cont(0.9) WITHIN GROUP (ORDER BY m.d) AS p90,
           {histogram},
           count(m.d) FILTER (WHERE m.target IS NOT NULL) AS sla_n,
           count(*) FILTER (WHERE m.d <= m.target) AS sla_met,
           count(m.d) FILTER (WHERE m.target IS NULL) AS no_target
      FROM {source}
     GROUP BY GROUPING SETS ({grouping_sets})
)
SELECT agg.*, {label} AS label
  FROM agg {label_join}
 ORDER BY agg.overall DESC, label NULLS LAST, agg.key NULLS LAST
"""


def _histogram_sql() -> str:
    parts = []
    for name, low, high in HISTOGRAM_BUCKETS:
        condition = f"m.d >= {low}" + (f" AND m.d < {high}" if high is not None else "")
        parts.append(f"count(*) FILTER (WHERE {condition}) AS h_{name}")
    return ",\n           ".join(parts)


def grouped_parts(*, group_by: str | None, key: str) -> dict[str, str]:
    """The parts of a ``GROUPING SETS ((), (key))`` query over ``measured m`` that the
    duration and FCR KPIs share: the overall row first, then one row per group; with a
    calendar group every bucket of the window appears, empty ones too; rep, team and
    category groups carry their name as ``label``."""
    parts = {
        "key": key if group_by else "NULL::int",
        "buckets": "",
        "source": "measured m",
        "group_key": "m.key" if group_by else "NULL::int",
        "overall": "TRUE",
        "grouping_sets": "()",
        "label": "NULL::text",
        "label_join": "",
    }
    if group_by in TIME_GROUPS:
        parts.update(
            buckets=f",\nbuckets AS ({BUCKETS_SQL})",
            source="buckets b LEFT JOIN measured m ON m.key = b.key",
            group_key="b.key",
        )
    if group_by:
        parts.update(
            overall=f"grouping({parts['group_key']}) = 1",
            grouping_sets=f"(), ({parts['group_key']})",
        )
    if group_by in LABELS:
        table, column = LABELS[group_by]
        parts.update(
            label=f"l.{column}",
            label_join=f"LEFT JOIN {table} l ON NOT agg.overall AND l.id = agg.key",
        )
    return parts


def kpi_duration(
    *,
    f: KpiFilter,
    now: datetime,
    measure: str,
    group_by: str | None = None,
    min_n: int | None = None,
) -> DurationResult:
    """First response time (``measure="first_response"``) or resolution time
    (``"resolution"``) over the window, overall and per group, in one statement.

    ``now`` is not used: both measures are fixed once their event has happened.
    """
    del now
    spec = MEASURES[measure]
    min_n = default_min_n() if min_n is None else min_n
    if group_by is None and rollup_serves(f):
        row = _from_rollup(f, measure)
        return DurationResult(
            measure=measure,
            basis=f.basis,
            group_by=None,
            overall=_figure(row, per_rep=False, min_n=min_n, sla=spec.sla),
            rows=[],
        )
    condition, params = slice_sql(f, alias="c", rep_column=spec.rep_column)
    key = group_key_sql(group_by, stamp=spec.stamp, rep_column=spec.rep_column) if group_by else ""
    parts = grouped_parts(group_by=group_by, key=key)
    sql = DURATIONS_SQL.format(
        **parts,
        seconds=spec.seconds[f.basis],
        stamp=spec.stamp,
        slice=condition,
        target="cat.target_resolution_hours::bigint * 3600" if spec.sla else "NULL::bigint",
        target_join="JOIN cases_category cat ON cat.id = c.category_id" if spec.sla else "",
        histogram=_histogram_sql(),
    )
    rows = fetch_dicts(
        sql,
        {"start": f.start, "end": f.end, "tz": str(f.tz), "unit": group_by or "day", **params},
    )
    overall = _figure(rows[0], per_rep=False, min_n=min_n, sla=spec.sla)
    return DurationResult(
        measure=measure,
        basis=f.basis,
        group_by=group_by,
        overall=overall,
        rows=[
            DurationRow(
                key=r["key"],
                label=r["label"],
                figure=_figure(r, per_rep=group_by == "rep", min_n=min_n, sla=spec.sla),
            )
            for r in rows[1:]  # one row per group, already aggregated
        ],
    )


# --- the default request from the duration rollup -----------------------------------------


def rollup_serves(f: KpiFilter) -> bool:
    """Whether the duration rollup answers ``f`` (ungrouped): calendar basis, no slice but
    team. Any window and time zone: the partial UTC days at the edges come from the cases."""
    return rollups_enabled() and f.basis == "calendar" and sliced_dims(f) <= {"team"}


def _next_month(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def rollup_periods(
    start: datetime, end: datetime
) -> tuple[datetime, datetime, list[date], list[date]]:
    """Split [start, end) into the rollup's part and the edges: ``lo`` and ``hi`` (the
    first and last UTC midnights inside, or both ``end`` when there is no whole UTC day),
    the whole UTC months of [lo, hi) and its other whole UTC days. The cases of
    [start, lo) and [hi, end) are read from the case table."""
    first = start.astimezone(UTC)
    lo_day = first.date() + timedelta(days=0 if first.time() == time(0) else 1)
    hi_day = end.astimezone(UTC).date()
    if lo_day >= hi_day:
        return end, end, [], []
    months, days = [], []
    day = lo_day
    while day < hi_day:
        if day.day == 1 and _next_month(day) <= hi_day:
            months.append(day)
            day = _next_month(day)
        else:
            days.append(day)
            day += timedelta(days=1)
    lo = datetime.combine(lo_day, time(0), tzinfo=UTC)
    hi = datetime.combine(hi_day, time(0), tzinfo=UTC)
    return lo, hi, months, days


ROLLUP_SQL = """
WITH edge_cases AS MATERIALIZED (
    SELECT c.team_id, c.{seconds} AS d, {target} AS target
      FROM cases_case c {target_join}
     WHERE (c.{stamp} >= %(start)s AND c.{stamp} < %(lo)s)
        OR (c.{stamp} >= %(hi)s AND c.{stamp} < %(end)s)
),
edge AS (
    -- The team filter after the stamp's index (MATERIALIZED above): the edges hold a few
    -- thousand cases, and ANDing them with the team's index would read all its cases.
    SELECT c.d, c.target FROM edge_cases c WHERE {slice}
),
r AS MATERIALIZED (
    SELECT r.cases, r.n, r.total, r.sumsq, r.fixed, r.no_target, r.sla_met
      FROM metrics_duration_rollup r
     WHERE r.measure = %(measure)s
       AND ((r.grain = 1 AND r.day = ANY(%(months)s::date[]))
            OR (r.grain = 0 AND r.day = ANY(%(days)s::date[])))
       AND {rollup_slice}
),
hist AS (
    SELECT x.b, sum(x.v) AS v
      FROM (SELECT h.bucket AS b, h.cases AS v
              FROM metrics_duration_bucket h
             WHERE h.measure = %(measure)s
               AND ((h.grain = 1 AND h.day = ANY(%(months)s::date[]))
                    OR (h.grain = 0 AND h.day = ANY(%(days)s::date[])))
               AND {bucket_slice}
            UNION ALL
            SELECT {bucket}, 1 FROM edge e WHERE e.d IS NOT NULL) x
     GROUP BY x.b
    HAVING sum(x.v) <> 0
),
totals AS (
    SELECT sum(y.cases) AS cases, sum(y.n) AS n, sum(y.total) AS total,
           sum(y.sumsq) AS sumsq, {fixed_sums},
           sum(y.no_target) AS no_target, sum(y.sla_met) AS sla_met
      FROM (SELECT r.cases, r.n, r.total, r.sumsq, {fixed_items}, r.no_target, r.sla_met
              FROM r
            UNION ALL
            SELECT count(*), count(e.d), coalesce(sum(e.d), 0)::numeric,
                   coalesce(sum(e.d::numeric * e.d), 0), {edge_fixed},
                   count(e.d) FILTER (WHERE {sla} AND e.target IS NULL),
                   count(*) FILTER (WHERE e.d <= e.target)
              FROM edge e) y
)
SELECT coalesce(t.cases, 0) AS cases, coalesce(t.n, 0) AS n,
       (t.total / nullif(t.n, 0))::float8 AS mean,
       CASE WHEN t.n > 1 THEN
            CASE WHEN t.n * t.sumsq - t.total * t.total <= 0 THEN 0::float8 ELSE
                 round(sqrt(v.variance), scale(v.variance))::float8 END
       END AS sd,
       {fixed_out},
       coalesce(t.n, 0) - coalesce(t.no_target, 0) AS sla_n,
       coalesce(t.sla_met, 0) AS sla_met, coalesce(t.no_target, 0) AS no_target,
       (SELECT array_agg(h.b ORDER BY h.b) FROM hist h) AS hist_b,
       (SELECT array_agg(h.v ORDER BY h.b) FROM hist h) AS hist_v
  FROM totals t
 CROSS JOIN LATERAL (SELECT CASE WHEN t.n > 1 AND t.n * t.sumsq - t.total * t.total > 0
                                 THEN (t.n * t.sumsq - t.total * t.total) / (t.n * (t.n - 1))
                            END AS variance) v
"""


def rollup_sql(measure: str, f: KpiFilter) -> tuple[str, dict[str, Any]]:
    """The default request's statement and parameters (see ``rollup_periods``)."""
    spec = MEASURES[measure]
    condition, params = slice_sql(f, alias="c", rep_column=spec.rep_column)
    rollup_slice = f"r.team_id = {durations.EVERY_TEAM}"
    if f.team_ids is not None:
        rollup_slice = "r.team_id = ANY(%(rollup_team)s)"
        params["rollup_team"] = list(f.team_ids)
    names = [name for name, _, _ in HISTOGRAM_BUCKETS]
    sql = ROLLUP_SQL.format(
        seconds=spec.seconds["calendar"],
        stamp=spec.stamp,
        slice=condition,
        target="cat.target_resolution_hours::bigint * 3600" if spec.sla else "NULL::bigint",
        target_join="JOIN cases_category cat ON cat.id = c.category_id" if spec.sla else "",
        rollup_slice=rollup_slice,
        bucket_slice=rollup_slice.replace("r.team_id", "h.team_id"),
        bucket=durations.bucket_sql("e.d"),
        sla="TRUE" if spec.sla else "FALSE",
        fixed_sums=", ".join(f"sum(y.h_{name}) AS h_{name}" for name in names),
        fixed_items=", ".join(f"r.fixed[{i + 1}] AS h_{name}" for i, name in enumerate(names)),
        edge_fixed=", ".join(
            f"count(*) FILTER (WHERE e.d >= {low}"
            + (f" AND e.d < {high})" if high is not None else ")")
            for _, low, high in HISTOGRAM_BUCKETS
        ),
        fixed_out=", ".join(f"coalesce(t.h_{name}, 0) AS h_{name}" for name in names),
    )
    lo, hi, months, days = rollup_periods(f.start, f.end)
    measure_id = durations.FIRST_RESPONSE if measure == "first_response" else durations.RESOLUTION
    params.update(
        start=f.start, end=f.end, lo=lo, hi=hi, months=months, days=days, measure=measure_id
    )
    return sql, params


def _from_rollup(f: KpiFilter, measure: str) -> dict[str, Any]:
    """The overall row of ``f`` (as DURATIONS_SQL gives it) from the rollup and the edges."""
    sql, params = rollup_sql(measure, f)
    row = fetch_dicts(sql, params)[0]
    counts = list(zip(row.pop("hist_b") or [], row.pop("hist_v") or [], strict=True))
    row["median"] = durations.percentile(counts, 0.5)
    row["p90"] = durations.percentile(counts, 0.9)
    return row


def _figure(r: dict[str, Any], *, per_rep: bool, min_n: int, sla: bool) -> DurationFigure:
    n = int(r["n"])
    histogram = {name: int(r[f"h_{name}"]) for name, _, _ in HISTOGRAM_BUCKETS}
    sla_figure = (
        Sla(
            attainment=proportion(
                int(r["sla_met"]), int(r["sla_n"]), min_n=min_n if per_rep else None
            ),
            no_target=int(r["no_target"]),
        )
        if sla
        else None
    )
    if per_rep and n < min_n:
        return DurationFigure(
            cases=int(r["cases"]),
            stats=DurationStats(n=n, mean=None, median=None, p90=None),
            mean_low=None,
            mean_high=None,
            insufficient_data=True,
            histogram=histogram,
            sla=sla_figure,
        )
    low, high = mean_interval(r["mean"], r["sd"], n)
    return DurationFigure(
        cases=int(r["cases"]),
        stats=DurationStats(n=n, mean=r["mean"], median=r["median"], p90=r["p90"]),
        mean_low=low,
        mean_high=high,
        insufficient_data=False,
        histogram=histogram,
        sla=sla_figure,
    )


def mean_interval(
    mean: float | None, sd: float | None, n: int
) -> tuple[float | None, float | None]:
    """Normal 95% interval of a mean of durations, floored at 0 (durations are ≥ 0)."""
    if mean is None or sd is None or n < 2:
        return None, None
    half = Z95 * sd / math.sqrt(n)
    return max(0.0, mean - half), mean + half


def kpi_first_response_time(
    *, f: KpiFilter, now: datetime, group_by: str | None = None, min_n: int | None = None
) -> DurationResult:
    """First response time of the cases first responded to in the window (see module doc)."""
    return kpi_duration(f=f, now=now, measure="first_response", group_by=group_by, min_n=min_n)


def kpi_resolution_time(
    *, f: KpiFilter, now: datetime, group_by: str | None = None, min_n: int | None = None
) -> DurationResult:
    """Resolution time and SLA attainment of the cases resolved in the window (module doc)."""
    return kpi_duration(f=f, now=now, measure="resolution", group_by=group_by, min_n=min_n)


def percentile_error(f: KpiFilter, measure: str) -> dict[str, float | None]:
    """How far the rollup's median and p90 of ``f`` are from percentile_cont, relatively
    (``|estimate − exact| / exact``; None where there is nothing to measure): for the
    benchmark and docs/performance.md. Reads the case table as the raw path does, so it
    costs what the endpoint cost before the rollup."""
    if not rollup_serves(f):
        raise ValueError("The duration rollup does not answer this request.")
    estimate = _from_rollup(f, measure)
    spec = MEASURES[measure]
    condition, params = slice_sql(f, alias="c", rep_column=spec.rep_column)
    exact = fetch_dicts(
        f"""SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY c.{spec.seconds["calendar"]})
                   AS median,
                   percentile_cont(0.9) WITHIN GROUP (ORDER BY c.{spec.seconds["calendar"]})
                   AS p90
              FROM cases_case c
             WHERE c.{spec.stamp} >= %(start)s AND c.{spec.stamp} < %(end)s AND {condition}""",
        {"start": f.start, "end": f.end, **params},
    )[0]
    errors: dict[str, float | None] = {}
    for name in ("median", "p90"):
        want, got = exact[name], estimate[name]
        errors[name] = abs(got - want) / want if want and got is not None else None
    return errors
