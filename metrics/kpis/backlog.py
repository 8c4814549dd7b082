"""Backlog: what is open now, how it got there, and whether a rep's backlog stays high.

Definitions (docs/metrics.md#backlog):
- *Open* means status new, open or pending. "Open now" is evaluated at ``now``.
- Age = ``now − opened_at``, bucketed <1 d, 1–3 d, 3–7 d, 7–30 d, >30 d (lower bound inclusive).
- The daily trend is the number open at the end of each calendar day of the window, from
  the event history: +1 when a case is opened, −1 at each ``resolved`` event, +1 at each
  ``reopened`` event. It is a start count plus a running sum of the daily deltas — never a
  range join over cases × days.
- A case is sliced by its current team, assignee, category, channel and priority.

The trend and the per-rep weeks read the rollup tables (metrics.rollups) when those answer
the request exactly, the case and event tables otherwise; the answers are the same.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, time, timedelta

from django.db.models import Count, F, Q

from cases.models import OPEN_STATUSES, Case
from metrics.params import case_slice_q
from metrics.rollups.read import (
    before,
    moment_params,
    rollup_slice_sql,
    segments_cte,
    serves,
    span,
)
from metrics.rollups.spec import BACKLOG_DAY, REP_DAY
from metrics.sql import fetch_dicts, slice_sql
from metrics.types import KpiFilter

DEFINITION_VERSION = 1
AGE_BUCKETS: tuple[tuple[str, int, int | None], ...] = (
    ("lt_1d", 0, 1),
    ("d1_3", 1, 3),
    ("d3_7", 3, 7),
    ("d7_30", 7, 30),
    ("gt_30d", 30, None),
)
GROUP_FIELDS = {
    "rep": "assignee_id",
    "team": "team_id",
    "category": "category_id",
    "priority": "priority",
    "channel": "channel",
}


@dataclass(frozen=True)
class BacklogGroup:
    key: object
    n: int
    age: dict[str, int]


@dataclass(frozen=True)
class BacklogDay:
    day: str
    open_at_end: int
    opened: int
    resolved: int
    reopened: int


@dataclass(frozen=True)
class BacklogResult:
    open_now: int
    age: dict[str, int]
    groups: list[BacklogGroup]
    trend: list[BacklogDay]


def _age_counts(now: datetime) -> dict[str, Count]:
    counts = {}
    for name, low, high in AGE_BUCKETS:
        condition = Q(opened_at__lte=now - timedelta(days=low))
        if high is not None:
            condition &= Q(opened_at__gt=now - timedelta(days=high))
        counts[name] = Count("opened_at", filter=condition)
    return counts


def kpi_backlog(*, f: KpiFilter, now: datetime, group_by: str | None = "rep") -> BacklogResult:
    """Open cases now by age bucket (overall and per group) and the daily trend over the window."""
    open_now = Case.objects.filter(case_slice_q(f), status__in=OPEN_STATUSES, opened_at__lte=now)
    # Counted on opened_at (never null), not id: the default slices (team, rep) and the age
    # buckets then read only columns of the partial index on open cases, so PostgreSQL
    # answers from the index alone, without visiting the case rows (12 ms, not 90, at 1M).
    ages = _age_counts(now)
    groups: list[BacklogGroup] = []
    if group_by is None:
        overall = open_now.aggregate(n=Count("opened_at"), **ages)
    else:
        rows = list(
            open_now.annotate(group=F(GROUP_FIELDS[group_by]))
            .values("group")
            .annotate(n=Count("opened_at"), **ages)
            .order_by("group")
        )
        groups = [
            BacklogGroup(key=r["group"], n=r["n"], age={b[0]: r[b[0]] for b in AGE_BUCKETS})
            for r in rows
        ]
        # Every open case is in exactly one group (unassigned ones in the null group), so
        # the overall counts are the groups' sums: one scan instead of two.
        overall = {k: sum(r[k] for r in rows) for k in ("n", *(b[0] for b in AGE_BUCKETS))}
    return BacklogResult(
        open_now=overall["n"],
        age={b[0]: overall[b[0]] for b in AGE_BUCKETS},
        groups=groups,
        trend=backlog_trend(f=f, now=now),
    )


TREND_SQL = """
WITH bounds AS (
    SELECT (%(start)s::timestamptz AT TIME ZONE %(tz)s)::date AS first_day,
           ((%(end)s::timestamptz - interval '1 microsecond') AT TIME ZONE %(tz)s)::date AS last_day
),
{sources}
SELECT d.day::date AS day,
       coalesce(o.n, 0) AS opened,
       coalesce(ch.resolved, 0) AS resolved,
       coalesce(ch.reopened, 0) AS reopened,
       (SELECT open_count FROM before_start)
         + sum(coalesce(o.n, 0) - coalesce(ch.resolved, 0) + coalesce(ch.reopened, 0))
           OVER (ORDER BY d.day) AS open_at_end
  FROM bounds b
 CROSS JOIN generate_series(b.first_day, b.last_day, interval '1 day') AS d(day)
  LEFT JOIN opened o ON o.day = d.day::date
  LEFT JOIN changes ch ON ch.day = d.day::date
 ORDER BY d.day
"""

# before_start, opened and changes from the case and event tables.
TREND_SOURCES = """sliced AS (
    SELECT c.id, c.opened_at FROM cases_case c WHERE {slice}
),
before_start AS (
    SELECT (SELECT count(*) FROM sliced WHERE opened_at < %(start)s)
         + (SELECT coalesce(sum(CASE WHEN e.event_type = 'resolved' THEN -1 ELSE 1 END), 0)
              FROM cases_caseevent e JOIN sliced s ON s.id = e.case_id
             WHERE e.event_type IN ('resolved', 'reopened') AND e.occurred_at < %(start)s)
           AS open_count
),
opened AS (
    SELECT (opened_at AT TIME ZONE %(tz)s)::date AS day, count(*) AS n
      FROM sliced WHERE opened_at >= %(start)s AND opened_at < %(end)s GROUP BY 1
),
changes AS (
    SELECT (e.occurred_at AT TIME ZONE %(tz)s)::date AS day,
           count(*) FILTER (WHERE e.event_type = 'resolved') AS resolved,
           count(*) FILTER (WHERE e.event_type = 'reopened') AS reopened
      FROM cases_caseevent e JOIN sliced s ON s.id = e.case_id
     WHERE e.event_type IN ('resolved', 'reopened')
       AND e.occurred_at >= %(start)s AND e.occurred_at < %(end)s
     GROUP BY 1
)"""

# The same from the per-team rollup (metrics_rollup_backlog_day_live): the flows of each local
# day are sums over runs of whole UTC hours, the count before the window a sum of whole
# days and the hours before the window's first hour.
TREND_ROLLUP_SOURCES = f"""{{segments}},
flows AS (
    SELECT s.bucket AS day, sum({span("opened")}) AS opened,
           sum({span("resolved")}) AS resolved, sum({span("reopened")}) AS reopened
      FROM day_segments s JOIN metrics_rollup_backlog_day_live r ON r.day = s.day
     WHERE {{slice}}
     GROUP BY s.bucket
),
before_start AS (
    SELECT {before("opened", day="%(start_day)s", slot="%(start_slot)s")}
         - ({before("resolved", day="%(start_day)s", slot="%(start_slot)s")})
         + {before("reopened", day="%(start_day)s", slot="%(start_slot)s")} AS open_count
      FROM metrics_rollup_backlog_day_live r
     WHERE r.day <= %(start_day)s AND {{slice}}
),
opened AS (SELECT day, opened AS n FROM flows),
changes AS (SELECT day, resolved, reopened FROM flows)"""


def backlog_trend(*, f: KpiFilter, now: datetime) -> list[BacklogDay]:
    """Open cases at the end of each calendar day (in ``f.tz``) of the window."""
    end = min(f.end, _end_of_today(f, now))
    if serves(f, BACKLOG_DAY, bounds=(f.start, max(end, f.start))):
        condition, params = rollup_slice_sql(f, BACKLOG_DAY)
        sources = TREND_ROLLUP_SOURCES.format(
            segments=segments_cte(
                "day_segments", "day", start="%(start)s::timestamptz", end="%(end)s::timestamptz"
            ),
            slice=condition,
        )
        params |= moment_params("start", f.start)
    else:
        condition, params = slice_sql(f, alias="c")
        sources = TREND_SOURCES.format(slice=condition)
    rows = fetch_dicts(
        TREND_SQL.format(sources=sources),
        {"start": f.start, "end": end, "tz": str(f.tz), **params},
    )
    return [
        BacklogDay(
            day=r["day"].isoformat(),
            open_at_end=int(r["open_at_end"]),
            opened=int(r["opened"]),
            resolved=int(r["resolved"]),
            reopened=int(r["reopened"]),
        )
        for r in rows
    ]


def _end_of_today(f: KpiFilter, now: datetime) -> datetime:
    """The trend stops at the end of today: days that have not started have no backlog yet."""
    local = now.astimezone(f.tz)
    tomorrow = (local + timedelta(days=1)).date()
    return datetime.combine(tomorrow, datetime.min.time(), tzinfo=f.tz)


@dataclass(frozen=True)
class RepBacklogWeek:
    week: str
    open_at_end: int
    resolved: int
    ratio: float


@dataclass(frozen=True)
class RepBacklogTrend:
    rep: int
    open_now: int
    ratio_now: float | None
    baseline_ratio: float | None
    persistently_high: bool
    weeks: list[RepBacklogWeek]


HIGH_FACTOR = 1.5
HIGH_WEEKS = 2
MIN_OPEN_FOR_FLAG = 5

REP_WEEKS_SQL = """
WITH weeks AS (
    SELECT w::date AS week,
           (w::timestamp AT TIME ZONE %(tz)s) AS week_start,
           least((w + interval '1 week')::timestamp AT TIME ZONE %(tz)s, %(now)s) AS week_end
      FROM generate_series(
             date_trunc('week', (%(now)s::timestamptz AT TIME ZONE %(tz)s))
               - (%(n_weeks)s - 1) * interval '1 week',
             date_trunc('week', (%(now)s::timestamptz AT TIME ZONE %(tz)s)),
             interval '1 week') AS w
),
reps AS (
    SELECT r.id FROM cases_representative r
     WHERE r.active AND r.role = 'rep'
       AND (%(team_ids)s::bigint[] IS NULL OR r.team_id = ANY(%(team_ids)s::bigint[]))
       AND (%(rep_ids)s::bigint[] IS NULL OR r.id = ANY(%(rep_ids)s::bigint[]))
),
first_week AS (SELECT min(week_start) AS t0 FROM weeks),
{sources},
week_deltas AS (SELECT rep, week, sum(delta) AS delta FROM deltas GROUP BY 1, 2),
week_resolved AS (SELECT rep, week, sum(n) AS n FROM resolved_by GROUP BY 1, 2)
SELECT r.id AS rep, w.week,
       coalesce(ob.n, 0)
         + sum(coalesce(wd.delta, 0)) OVER (PARTITION BY r.id ORDER BY w.week) AS open_at_end,
       coalesce(rb.n, 0) AS resolved
  FROM reps r CROSS JOIN weeks w
  LEFT JOIN open_before ob ON ob.rep = r.id
  LEFT JOIN week_deltas wd ON wd.rep = r.id AND wd.week = w.week
  LEFT JOIN week_resolved rb ON rb.rep = r.id AND rb.week = w.week
 ORDER BY r.id, w.week
"""

# open_before, deltas and resolved_by from the case and event tables.
REP_WEEKS_SOURCES = """sliced AS (
    SELECT c.id, c.assignee_id, c.opened_at FROM cases_case c
     WHERE {slice} AND c.assignee_id IN (SELECT id FROM reps)
),
open_before AS (
    SELECT rep, sum(n) AS n FROM (
        SELECT s.assignee_id AS rep, count(*) AS n
          FROM sliced s, first_week f WHERE s.opened_at < f.t0 GROUP BY 1
        UNION ALL
        SELECT s.assignee_id, sum(CASE WHEN e.event_type = 'resolved' THEN -1 ELSE 1 END)
          FROM cases_caseevent e JOIN sliced s ON s.id = e.case_id, first_week f
         WHERE e.event_type IN ('resolved', 'reopened') AND e.occurred_at < f.t0
         GROUP BY 1
    ) x GROUP BY rep
),
deltas AS (
    SELECT s.assignee_id AS rep, w.week, count(*) AS delta
      FROM sliced s JOIN weeks w ON s.opened_at >= w.week_start AND s.opened_at < w.week_end
     GROUP BY 1, 2
    UNION ALL
    SELECT s.assignee_id, w.week, sum(CASE WHEN e.event_type = 'resolved' THEN -1 ELSE 1 END)
      FROM cases_caseevent e JOIN sliced s ON s.id = e.case_id
      JOIN weeks w ON e.occurred_at >= w.week_start AND e.occurred_at < w.week_end
     WHERE e.event_type IN ('resolved', 'reopened')
     GROUP BY 1, 2
),
resolved_by AS (
    SELECT e.actor_id AS rep, w.week, count(*) AS n
      FROM cases_caseevent e
      JOIN cases_case c ON c.id = e.case_id
      JOIN weeks w ON e.occurred_at >= w.week_start AND e.occurred_at < w.week_end
     WHERE e.event_type = 'resolved' AND e.actor_id IN (SELECT id FROM reps)
       AND {slice_any_rep}
     GROUP BY 1, 2
)"""

# The same from the per-rep rollup (metrics_rollup_rep_day_live) up to the last whole hour
# before now, and from the case tables for the minutes of the current hour: the weeks end
# at now, not on the hour. The slice is by team and rep only (the rollup's dimensions).
_T0_DAY = "(SELECT (t0 AT TIME ZONE 'UTC')::date FROM first_week)"
_T0_SLOT = "(SELECT extract(hour FROM t0 AT TIME ZONE 'UTC')::int + 1 FROM first_week)"
REP_WEEKS_ROLLUP_SOURCES = f"""{{segments}},
open_before AS (
    SELECT r.rep_id AS rep,
           {before("opened", day=_T0_DAY, slot=_T0_SLOT)}
           - ({before("resolved", day=_T0_DAY, slot=_T0_SLOT)})
           + {before("reopened", day=_T0_DAY, slot=_T0_SLOT)} AS n
      FROM metrics_rollup_rep_day_live r
     WHERE r.rep_id IN (SELECT id FROM reps) AND {{slice}} AND r.day <= {_T0_DAY}
     GROUP BY r.rep_id
),
deltas AS (
    SELECT r.rep_id AS rep, s.bucket AS week,
           sum({span("opened")} - ({span("resolved")}) + {span("reopened")}) AS delta
      FROM week_segments s JOIN metrics_rollup_rep_day_live r ON r.day = s.day
     WHERE r.rep_id IN (SELECT id FROM reps) AND {{slice}} AND r.day >= {_T0_DAY}
     GROUP BY 1, 2
    UNION ALL
    SELECT c.assignee_id, w.week, count(*)
      FROM cases_case c JOIN weeks w ON c.opened_at >= w.week_start AND c.opened_at < w.week_end
     WHERE {{case_slice}} AND c.assignee_id IN (SELECT id FROM reps)
       AND c.opened_at >= %(now_hour)s AND c.opened_at < %(now)s
     GROUP BY 1, 2
    UNION ALL
    SELECT c.assignee_id, w.week, sum(CASE WHEN e.event_type = 'resolved' THEN -1 ELSE 1 END)
      FROM cases_caseevent e JOIN cases_case c ON c.id = e.case_id
      JOIN weeks w ON e.occurred_at >= w.week_start AND e.occurred_at < w.week_end
     WHERE e.event_type IN ('resolved', 'reopened')
       AND e.occurred_at >= %(now_hour)s AND e.occurred_at < %(now)s
       AND {{case_slice}} AND c.assignee_id IN (SELECT id FROM reps)
     GROUP BY 1, 2
),
resolved_by AS (
    SELECT r.rep_id AS rep, s.bucket AS week, sum({span("resolved_by_rep")}) AS n
      FROM week_segments s JOIN metrics_rollup_rep_day_live r ON r.day = s.day
     WHERE r.rep_id IN (SELECT id FROM reps) AND r.day >= {_T0_DAY}
     GROUP BY 1, 2
    UNION ALL
    SELECT e.actor_id, w.week, count(*)
      FROM cases_caseevent e
      JOIN weeks w ON e.occurred_at >= w.week_start AND e.occurred_at < w.week_end
     WHERE e.event_type = 'resolved' AND e.actor_id IN (SELECT id FROM reps)
       AND e.occurred_at >= %(now_hour)s AND e.occurred_at < %(now)s
     GROUP BY 1, 2
)"""


def kpi_backlog_by_rep_history(
    *, f: KpiFilter, now: datetime, history_weeks: int = 8
) -> list[RepBacklogTrend]:
    """Each rep's open-to-resolved ratio per week against the rep's own trailing history.

    ratio = open at the week's end / max(resolved that week by the rep, 1). The baseline is
    the median ratio of the ``history_weeks`` weeks before the last ``HIGH_WEEKS``; the
    backlog "stays high" when each of the last ``HIGH_WEEKS`` weeks (the current, partial one
    included) is above ``HIGH_FACTOR`` × baseline with at least ``MIN_OPEN_FOR_FLAG`` open.
    """
    condition, params = slice_sql(f, alias="c")
    n_weeks = history_weeks + HIGH_WEEKS
    now_hour = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    # The zone's hours must be whole from a day before the first week's start (a local
    # Monday midnight, computed by the query itself) to now.
    local_now = now.astimezone(f.tz)
    first_monday = local_now.date() - timedelta(days=local_now.weekday(), weeks=n_weeks - 1)
    earliest = datetime.combine(first_monday, time(0), tzinfo=UTC) - timedelta(days=2)
    if serves(f, REP_DAY, bounds=(earliest, now_hour)):
        rollup_condition, rollup_params = rollup_slice_sql(f, REP_DAY)
        sources = REP_WEEKS_ROLLUP_SOURCES.format(
            segments=segments_cte(
                "week_segments",
                "week",
                start="(SELECT t0 FROM first_week)",
                end="%(now_hour)s::timestamptz",
            ),
            slice=rollup_condition,
            case_slice=condition,
        )
        params |= rollup_params | {"now_hour": now_hour}
    else:
        # Resolutions count for the rep who resolved, whoever the case belongs to now.
        any_rep = slice_sql(replace(f, rep_ids=None, team_ids=None), alias="c")[0]
        sources = REP_WEEKS_SOURCES.format(slice=condition, slice_any_rep=any_rep)
    rows = fetch_dicts(
        REP_WEEKS_SQL.format(sources=sources),
        {
            "tz": str(f.tz),
            "now": now,
            "n_weeks": n_weeks,
            "team_ids": list(f.team_ids) if f.team_ids is not None else None,
            "rep_ids": list(f.rep_ids) if f.rep_ids is not None else None,
            **params,
        },
    )
    by_rep: dict[int, list[RepBacklogWeek]] = {}
    for r in rows:  # one row per rep × week, already aggregated in SQL
        open_end, resolved = int(r["open_at_end"]), int(r["resolved"])
        by_rep.setdefault(r["rep"], []).append(
            RepBacklogWeek(r["week"].isoformat(), open_end, resolved, open_end / max(resolved, 1))
        )
    return [_rep_trend(rep, weeks) for rep, weeks in by_rep.items()]


def _rep_trend(rep: int, weeks: list[RepBacklogWeek]) -> RepBacklogTrend:
    history = sorted(w.ratio for w in weeks[:-HIGH_WEEKS])
    baseline = _median(history)
    recent = weeks[-HIGH_WEEKS:]
    high = baseline is not None and all(
        w.ratio > HIGH_FACTOR * max(baseline, 0.1) and w.open_at_end >= MIN_OPEN_FOR_FLAG
        for w in recent
    )
    return RepBacklogTrend(
        rep=rep,
        open_now=weeks[-1].open_at_end,
        ratio_now=weeks[-1].ratio,
        baseline_ratio=baseline,
        persistently_high=high,
        weeks=weeks,
    )


def _median(values: list[float]) -> float | None:
    if not values:
        return None
    mid = len(values) // 2
    return values[mid] if len(values) % 2 else (values[mid - 1] + values[mid]) / 2
