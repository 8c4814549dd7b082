"""Case load: how many cases each rep took on and resolved, and how evenly a team shares them.

Definitions (docs/metrics.md#case-load):
- *Taken on*: the distinct cases with an ``assigned`` event to the rep in the window
  (assignment at creation included; an unassignment is not an assignment).
- *Resolved*: the distinct cases with a ``resolved`` event attributed to the rep in the
  window — every resolution counts, not only the latest, so a case the rep resolved and
  that was reopened later still counts. The event is the rep's when its actor is the rep;
  an event without an actor (a help-desk integration) belongs, as in the lifecycle fold, to
  the case's assignee at that moment: ``resolved_by`` for the latest resolution, else the
  last ``assigned`` event before it (an index lookup on the few such events).
- A case counts once per rep and period however often it was assigned to or resolved by
  the rep in it; so a per-period series can add up to more than the window's total.
- Reps are sliced by their own team (``f.team_ids``) and id (``f.rep_ids``); the cases by
  category, channel, priority and segment only — a rep's work on another team's case is
  still the rep's.
- *Spread* over a team's active reps with role ``rep``: each one's share of the team's
  total (their count / the sum over those reps) against the equal share 1 / their number,
  with a Wilson interval (n = the team's total; ``insufficient_data`` below ``min_n``); and
  the Gini coefficient of their counts (0 = perfectly even). A manager, or a rep who is
  inactive now, is listed with their counts but is outside the spread (no share).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, time, timedelta
from typing import Any

from metrics.kpis.times import BUCKETS_SQL, TIME_GROUPS
from metrics.rollups.read import rollups_enabled
from metrics.sql import fetch_dicts, slice_sql
from metrics.stats import Proportion, default_min_n, gini, proportion
from metrics.types import KpiFilter

DEFINITION_VERSION = 1
DAY = timedelta(days=1)


@dataclass(frozen=True)
class LoadPeriod:
    period: str  # the local date the day/week/month starts on
    taken_on: int
    resolved: int


@dataclass(frozen=True)
class LoadCount:
    """One rep's count and, for reps in the spread, their share of the team's total."""

    n: int
    share: Proportion | None  # n = the team's total
    equal_share: float | None


@dataclass(frozen=True)
class RepLoad:
    rep: int
    name: str
    team: int
    in_spread: bool  # an active rep with role rep
    taken_on: LoadCount
    resolved: LoadCount
    series: list[LoadPeriod] = field(default_factory=list)


@dataclass(frozen=True)
class TeamSpread:
    team: int
    name: str
    reps: int  # active reps with role rep: the equal share is 1 / reps
    equal_share: float | None
    taken_on: int
    resolved: int
    taken_on_gini: float | None
    resolved_gini: float | None


@dataclass(frozen=True)
class LoadResult:
    group_by: str | None
    reps: list[RepLoad]
    teams: list[TeamSpread]


# The rep a `resolved` event e without an actor counts for, as the lifecycle fold decides:
# the case's assignee at that moment — `resolved_by` if e is the case's latest resolution,
# else the last assignment before e (an index lookup; few events lack an actor).
UNATTRIBUTED_RESOLVER_SQL = """CASE WHEN rc.resolved_at = e.occurred_at THEN rc.resolved_by_id
         ELSE (SELECT a.assignee_id FROM cases_caseevent a
                WHERE a.case_id = e.case_id AND a.event_type = 'assigned'
                  AND (a.occurred_at, a.id) < (e.occurred_at, e.id)
                ORDER BY a.occurred_at DESC, a.id DESC LIMIT 1)
    END"""

# The teams and reps asked for (both paths).
SCOPE_SQL = """
WITH teams AS (
    -- The teams whose spread is asked for: a rep filter still needs the whole team's total.
    SELECT t.id, t.name FROM cases_team t
     WHERE (%(team_ids)s::bigint[] IS NULL OR t.id = ANY(%(team_ids)s::bigint[]))
       AND (%(rep_ids)s::bigint[] IS NULL OR t.id IN (
             SELECT team_id FROM cases_representative WHERE id = ANY(%(rep_ids)s::bigint[])))
),
reps AS (
    SELECT r.id, r.display_name, r.team_id, (r.active AND r.role = 'rep') AS in_spread
      FROM cases_representative r WHERE r.team_id IN (SELECT id FROM teams)
),"""

# The rows out of `counted` (rep, period, taken_on, resolved): every rep in the spread and
# every other rep with a count (both paths).
OUTPUT_SQL = """
SELECT r.id AS rep, r.display_name AS name, r.team_id AS team, tm.name AS team_name,
       r.in_spread, p.period,
       coalesce(k.taken_on, 0) AS taken_on, coalesce(k.resolved, 0) AS resolved
  FROM reps r
  JOIN teams tm ON tm.id = r.team_id
 CROSS JOIN (SELECT NULL::date AS period {bucket_periods}) p
  LEFT JOIN counted k ON k.rep = r.id AND k.period IS NOT DISTINCT FROM p.period
 WHERE r.in_spread OR r.id IN (SELECT rep FROM counted)
 ORDER BY r.display_name, r.id, p.period NULLS FIRST
"""

LOAD_SQL = (
    SCOPE_SQL
    + """
in_window AS MATERIALIZED (
    SELECT e.id, e.case_id, e.event_type, e.occurred_at, e.actor_id, e.assignee_id
      FROM cases_caseevent e {case_join}
     WHERE e.event_type IN ('assigned', 'resolved')
       AND e.occurred_at >= %(start)s AND e.occurred_at < %(end)s
),
events AS (
    SELECT e.assignee_id AS rep, e.case_id, e.occurred_at, TRUE AS taken_on
      FROM in_window e WHERE e.event_type = 'assigned'
    UNION ALL
    SELECT e.actor_id, e.case_id, e.occurred_at, FALSE
      FROM in_window e WHERE e.event_type = 'resolved' AND e.actor_id IS NOT NULL
    UNION ALL
    SELECT {resolver}, e.case_id, e.occurred_at, FALSE
      FROM in_window e JOIN cases_case rc ON rc.id = e.case_id
     WHERE e.event_type = 'resolved' AND e.actor_id IS NULL
),
counted AS (
    SELECT rep, {period} AS period,
           count(DISTINCT case_id) FILTER (WHERE taken_on) AS taken_on,
           count(DISTINCT case_id) FILTER (WHERE NOT taken_on) AS resolved
      FROM events WHERE rep IN (SELECT id FROM reps)
     GROUP BY GROUPING SETS ({grouping_sets})
){buckets}"""
    + OUTPUT_SQL
)

# The default request (no series, no case slice) from the stored facts (metrics.rollups.
# load): the facts of the window, minus the repeats — facts whose previous fact of the same
# case, kind and rep is in the window too — leave one per distinct case. The window's
# whole UTC days [day0, day1) come from the daily counts, its partial days at the edges
# ([start, edge0) and [edge1, end)) from the facts themselves.
LOAD_ROLLUP_SQL = (
    SCOPE_SQL
    + """
counted AS (
    SELECT c.rep_id AS rep, NULL::date AS period,
           sum(c.taken_on) AS taken_on, sum(c.resolved) AS resolved
      FROM (SELECT d.rep_id, d.taken_on, d.resolved FROM metrics_load_day d
             WHERE d.day >= %(day0)s AND d.day < %(day1)s
               AND d.rep_id IN (SELECT id FROM reps)
            UNION ALL
            SELECT d.rep_id, d.taken_on, d.resolved FROM metrics_load_pending d
             WHERE d.day >= %(day0)s AND d.day < %(day1)s
               AND d.rep_id IN (SELECT id FROM reps)
            UNION ALL
            SELECT f.rep_id, (NOT f.resolved)::int, f.resolved::int FROM metrics_load_fact f
             WHERE (f.at >= %(start)s AND f.at < %(edge0)s
                    OR f.at >= %(edge1)s AND f.at < %(end)s)
               AND f.rep_id IN (SELECT id FROM reps)
            UNION ALL
            SELECT f.rep_id, -(NOT f.resolved)::int, -(f.resolved::int)
              FROM metrics_load_fact f
             WHERE f.prev_at IS NOT NULL AND f.prev_at >= %(start)s AND f.at < %(end)s
               AND f.rep_id IN (SELECT id FROM reps)) c
     GROUP BY c.rep_id
    HAVING sum(c.taken_on) <> 0 OR sum(c.resolved) <> 0
)"""
    + OUTPUT_SQL.format(bucket_periods="")
)


def kpi_case_load(
    *, f: KpiFilter, now: datetime, group_by: str | None = None, min_n: int | None = None
) -> LoadResult:
    """Cases taken on and resolved per rep in the window (with a per-period series when
    ``group_by`` is day, week or month) and how evenly each team spreads them (module doc).

    ``now`` is not used: the figures count events that have happened.
    """
    del now
    if group_by is not None and group_by not in TIME_GROUPS:
        raise ValueError(f"Case load is grouped by day, week or month, not {group_by!r}.")
    min_n = default_min_n() if min_n is None else min_n
    case_slice = (f.category_ids, f.channels, f.priorities, f.segments)
    if group_by is None and all(s is None for s in case_slice) and rollups_enabled():
        return _spread(_rows_from_facts(f), f=f, group_by=None, min_n=min_n)
    # Reps are sliced by their own team below; the cases only by what they are about.
    condition, params = slice_sql(replace(f, team_ids=None, rep_ids=None), alias="c")
    period = f"date_trunc('{group_by}', occurred_at AT TIME ZONE %(tz)s)::date"
    # Without a case slice the events need no case row (the common, cheaper plan).
    case_join = (
        "" if condition == "TRUE" else f"JOIN cases_case c ON c.id = e.case_id AND {condition}"
    )
    sql = LOAD_SQL.format(
        case_join=case_join,
        resolver=UNATTRIBUTED_RESOLVER_SQL,
        period=period if group_by else "NULL::date",
        grouping_sets="(rep), (rep, period)" if group_by else "(rep)",
        buckets=f",\nbuckets AS ({BUCKETS_SQL})" if group_by else "",
        bucket_periods="UNION ALL SELECT key FROM buckets" if group_by else "",
    )
    rows = fetch_dicts(
        sql,
        {
            "start": f.start,
            "end": f.end,
            "tz": str(f.tz),
            "unit": group_by or "day",
            **_scope_params(f),
            **params,
        },
    )
    return _spread(rows, f=f, group_by=group_by, min_n=min_n)


def _scope_params(f: KpiFilter) -> dict[str, Any]:
    return {
        "team_ids": list(f.team_ids) if f.team_ids is not None else None,
        "rep_ids": list(f.rep_ids) if f.rep_ids is not None else None,
    }


def _rows_from_facts(f: KpiFilter) -> list[dict[str, Any]]:
    """Each rep's totals from the stored facts (``LOAD_ROLLUP_SQL``): exact in any time
    zone and for any window, as the partial days are read from the facts."""
    start, end = f.start.astimezone(UTC), f.end.astimezone(UTC)
    day0 = start.date() if start.timetz() == time(0, tzinfo=UTC) else start.date() + DAY
    day1 = end.date()
    if day0 >= day1:  # no whole UTC day inside: all from the facts
        edge0 = edge1 = end
        day0 = day1
    else:
        edge0 = datetime.combine(day0, time(0), tzinfo=UTC)
        edge1 = datetime.combine(day1, time(0), tzinfo=UTC)
    return fetch_dicts(
        LOAD_ROLLUP_SQL,
        {
            "start": start,
            "end": end,
            "day0": day0,
            "day1": day1,
            "edge0": edge0,
            "edge1": edge1,
            **_scope_params(f),
        },
    )


def _spread(
    rows: list[dict[str, Any]], *, f: KpiFilter, group_by: str | None, min_n: int
) -> LoadResult:
    """Shares and Gini from the per-rep totals (one row per rep and period, from SQL)."""
    totals = [r for r in rows if r["period"] is None]
    series: dict[int, list[LoadPeriod]] = {}
    for r in rows:
        if r["period"] is not None:
            series.setdefault(r["rep"], []).append(
                LoadPeriod(r["period"].isoformat(), int(r["taken_on"]), int(r["resolved"]))
            )

    teams: dict[int, dict[str, Any]] = {}
    for r in totals:
        team = teams.setdefault(r["team"], {"name": r["team_name"], "taken_on": [], "resolved": []})
        if r["in_spread"]:
            team["taken_on"].append(int(r["taken_on"]))
            team["resolved"].append(int(r["resolved"]))

    def count(r: dict[str, Any], what: str) -> LoadCount:
        n = int(r[what])
        if not r["in_spread"]:
            return LoadCount(n=n, share=None, equal_share=None)
        counts = teams[r["team"]][what]
        return LoadCount(
            n=n, share=proportion(n, sum(counts), min_n=min_n), equal_share=1 / len(counts)
        )

    reps = [
        RepLoad(
            rep=r["rep"],
            name=r["name"],
            team=r["team"],
            in_spread=r["in_spread"],
            taken_on=count(r, "taken_on"),
            resolved=count(r, "resolved"),
            series=series.get(r["rep"], []),
        )
        for r in totals
        if f.rep_ids is None or r["rep"] in f.rep_ids
    ]
    spreads = [
        TeamSpread(
            team=team_id,
            name=t["name"],
            reps=len(t["resolved"]),
            equal_share=1 / len(t["resolved"]) if t["resolved"] else None,
            taken_on=sum(t["taken_on"]),
            resolved=sum(t["resolved"]),
            taken_on_gini=gini([float(v) for v in t["taken_on"]]),
            resolved_gini=gini([float(v) for v in t["resolved"]]),
        )
        for team_id, t in sorted(teams.items(), key=lambda item: item[1]["name"])
    ]
    return LoadResult(group_by=group_by, reps=reps, teams=spreads)
