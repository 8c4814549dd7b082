"""Backlog: what is open now, how it got there, and whether a rep's backlog stays high.

Definitions (docs/metrics.md#backlog):
- *Open* means status new, open or pending. "Open now" is evaluated at ``now``.
- Age = ``now − opened_at``, bucketed <1 d, 1–3 d, 3–7 d, 7–30 d, >30 d (lower bound inclusive).
- The daily trend is the number open at the end of each calendar day of the window, from
  the event history: +1 when a case is opened, −1 at each ``resolved`` event, +1 at each
  ``reopened`` event. It is a start count plus a running sum of the daily deltas — never a
  range join over cases × days.
- A case is sliced by its current team, assignee, category, channel and priority.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from django.db.models import Count, F, Q

from cases.models import OPEN_STATUSES, Case
from metrics.params import case_slice_q
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
        counts[name] = Count("id", filter=condition)
    return counts


def kpi_backlog(*, f: KpiFilter, now: datetime, group_by: str | None = "rep") -> BacklogResult:
    """Open cases now by age bucket (overall and per group) and the daily trend over the window."""
    open_now = Case.objects.filter(case_slice_q(f), status__in=OPEN_STATUSES, opened_at__lte=now)
    ages = _age_counts(now)
    overall = open_now.aggregate(n=Count("id"), **ages)
    groups: list[BacklogGroup] = []
    if group_by is not None:
        rows = (
            open_now.annotate(group=F(GROUP_FIELDS[group_by]))
            .values("group")
            .annotate(n=Count("id"), **ages)
            .order_by("group")
        )
        groups = [
            BacklogGroup(key=r["group"], n=r["n"], age={b[0]: r[b[0]] for b in AGE_BUCKETS})
            for r in rows
        ]
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
sliced AS (
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
)
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


def backlog_trend(*, f: KpiFilter, now: datetime) -> list[BacklogDay]:
    """Open cases at the end of each calendar day (in ``f.tz``) of the window."""
    condition, params = slice_sql(f, alias="c")
    rows = fetch_dicts(
        TREND_SQL.format(slice=condition),
        {"start": f.start, "end": min(f.end, _end_of_today(f, now)), "tz": str(f.tz), **params},
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
sliced AS (
    SELECT c.id, c.assignee_id, c.opened_at FROM cases_case c
     WHERE {slice} AND c.assignee_id IN (SELECT id FROM reps)
),
first_week AS (SELECT min(week_start) AS t0 FROM weeks),
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
),
week_deltas AS (SELECT rep, week, sum(delta) AS delta FROM deltas GROUP BY 1, 2)
SELECT r.id AS rep, w.week,
       coalesce(ob.n, 0)
         + sum(coalesce(wd.delta, 0)) OVER (PARTITION BY r.id ORDER BY w.week) AS open_at_end,
       coalesce(rb.n, 0) AS resolved
  FROM reps r CROSS JOIN weeks w
  LEFT JOIN open_before ob ON ob.rep = r.id
  LEFT JOIN week_deltas wd ON wd.rep = r.id AND wd.week = w.week
  LEFT JOIN resolved_by rb ON rb.rep = r.id AND rb.week = w.week
 ORDER BY r.id, w.week
"""


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
    # Resolutions count for the rep who resolved, whoever the case belongs to now.
    any_rep = slice_sql(replace(f, rep_ids=None, team_ids=None), alias="c")[0]
    rows = fetch_dicts(
        REP_WEEKS_SQL.format(slice=condition, slice_any_rep=any_rep),
        {
            "tz": str(f.tz),
            "now": now,
            "n_weeks": history_weeks + HIGH_WEEKS,
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
