"""Customer satisfaction: CSAT, response rate, NPS and customer effort, per rep or per group.

Definitions (docs/metrics.md#csat):
- A *response* is a SurveyResponse whose ``responded_at`` is in the window. It belongs to
  ``SurveyResponse.representative``: the rep who resolved the resolution it answers, kept
  even if the case was reassigned since.
- *Satisfied share* (the CSAT score as Chatwoot and Zendesk report it): responses rating
  4 or 5 on the 1–5 scale over all responses, with a 95% Wilson interval.
- *Mean CSAT*: the mean 1–5 rating with mean ± 1.96·sd/√n.
- *Response rate*: of the resolutions in the window (``resolved`` events, the moments a
  survey can be sent), the share that has a response (matched by case and resolution
  number, answered at any time up to now), with a Wilson interval. It is a cohort share, so
  it never exceeds 100%; resolutions of the last days may not have been answered *yet*.
- *NPS* (Bain): % promoters (9–10) − % detractors (0–6) over the responses that answered
  the 0–10 question; its interval is 100 × (mean ± 1.96·sd/√n) of the +1/0/−1 scores.
- *Customer effort* (CES, 1 = very easy … 7 = very hard): the mean over the responses that
  answered it, with mean ± 1.96·sd/√n.
- A rep's figure (rep rows, the monthly trend, and the overall figure of a one-rep view)
  below ``min_n`` answers is "insufficient data": value and interval null, ``n`` and the
  counts still given, as for the other per-rep KPIs. Rows are never ranked: reps come
  alphabetically by display name.
- Cases are sliced (team, category, channel, priority, segment) by their current values;
  the rep filter applies to the rep a response or resolution belongs to. A resolution
  belongs to the event's actor, else to the case's assignee at that moment.

Everything — rows, the overall figure and each rep's monthly trend — is one SQL statement
(``GROUPING SETS`` over responses and resolutions). Per rep, unsliced or sliced by team or
rep only, it reads the CSAT rollup (metrics.rollups.csat): the window's whole UTC days that
lie in one local month from the per-day sums, its other (partial) days from the per-response
and per-resolution facts — exact in any time zone. Otherwise it reads the case tables.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from metrics.kpis.load import UNATTRIBUTED_RESOLVER_SQL
from metrics.rollups import csat as rollup
from metrics.rollups.read import rollups_enabled, sliced_dims
from metrics.sql import fetch_dicts, slice_sql
from metrics.stats import Z95, Proportion, default_min_n, proportion
from metrics.types import KpiFilter

DEFINITION_VERSION = 1
GROUP_BY_CHOICES = ("rep", "team", "category", "channel", "month")
CSAT_SCALE = (1.0, 5.0)
EFFORT_SCALE = (1.0, 7.0)


@dataclass(frozen=True)
class Mean:
    """A mean with mean ± 1.96·sd/√n; for a per-rep figure below the minimum n, null
    (insufficient data)."""

    n: int
    value: float | None
    low: float | None
    high: float | None
    insufficient_data: bool


@dataclass(frozen=True)
class NetPromoterScore:
    """NPS in points (−100 … 100) with its 95% interval and the three counts behind it."""

    n: int
    promoters: int
    passives: int
    detractors: int
    value: float | None
    low: float | None
    high: float | None
    insufficient_data: bool


@dataclass(frozen=True)
class CsatFigures:
    responses: int
    satisfied: Proportion
    csat_mean: Mean
    response_rate: Proportion
    nps: NetPromoterScore
    effort: Mean


@dataclass(frozen=True)
class CsatRow:
    key: object
    label: str | None
    figures: CsatFigures


@dataclass(frozen=True)
class CsatMonth:
    month: str
    responses: int
    satisfied: Proportion
    csat_mean: Mean


@dataclass(frozen=True)
class CsatRepTrend:
    rep: int | None
    label: str | None
    months: list[CsatMonth]


@dataclass(frozen=True)
class CsatResult:
    group_by: str
    min_n: int
    overall: CsatFigures
    rows: list[CsatRow]
    trend: list[CsatRepTrend]


def mean_estimate(
    n: int, mean: float | None, sd: float | None, min_n: int | None, scale: tuple[float, float]
) -> Mean:
    """mean ± 1.96·sd/√n, clipped to the scale; no interval without a standard deviation.
    Pass ``min_n`` only for per-rep figures."""
    if (min_n is not None and n < min_n) or mean is None:
        return Mean(n, None, None, None, min_n is not None and n < min_n)
    if sd is None:
        return Mean(n, mean, None, None, False)
    half = Z95 * sd / math.sqrt(n)
    return Mean(n, mean, max(scale[0], mean - half), min(scale[1], mean + half), False)


def nps_estimate(
    n: int, promoters: int, detractors: int, sd: float | None, min_n: int | None
) -> NetPromoterScore:
    """Bain's NPS with the interval of the mean of the +1/0/−1 scores, in points.
    Pass ``min_n`` only for per-rep figures."""
    passives = n - promoters - detractors
    if (min_n is not None and n < min_n) or n == 0:
        insufficient = min_n is not None and n < min_n
        return NetPromoterScore(n, promoters, passives, detractors, None, None, None, insufficient)
    score = (promoters - detractors) / n
    low = high = None
    if sd is not None:
        half = Z95 * sd / math.sqrt(n)
        low, high = max(-1.0, score - half) * 100, min(1.0, score + half) * 100
    return NetPromoterScore(n, promoters, passives, detractors, score * 100, low, high, False)


CSAT_SQL = """
WITH window_resolutions AS (
    -- The resolver is the event's actor, else the assignee at that moment (as in the load
    -- KPI and the lifecycle fold). A survey answers one resolution of a case, numbered from
    -- 1 in time order: a case never reopened has only the one. Both look-ups are index
    -- lookups that run only for the few events without an actor or on reopened cases.
    SELECT e.case_id, e.occurred_at, coalesce(e.actor_id, {resolver}) AS rep_id,
           rc.team_id, rc.category_id, rc.channel,
           CASE WHEN rc.reopened_count = 0 THEN 1
                ELSE (SELECT count(*) FROM cases_caseevent p
                       WHERE p.case_id = e.case_id AND p.event_type = 'resolved'
                         AND p.occurred_at <= e.occurred_at) END AS resolution_number
      FROM cases_caseevent e
     CROSS JOIN LATERAL (
           -- One primary-key lookup per resolution in the window. OFFSET 0 keeps the
           -- planner from hashing the whole case table instead (it misjudges how few
           -- events a rep or team filter leaves).
           SELECT c.team_id, c.category_id, c.channel, c.reopened_count,
                  c.resolved_at, c.resolved_by_id
             FROM cases_case c
            WHERE c.id = e.case_id AND {slice}
           OFFSET 0) rc
     WHERE e.event_type = 'resolved' AND e.occurred_at >= %(start)s AND e.occurred_at < %(end)s
       -- A rep filter, pushed down to the events: only theirs and those without an actor.
       AND (%(rep_ids)s::bigint[] IS NULL OR e.actor_id IS NULL
            OR e.actor_id = ANY(%(rep_ids)s::bigint[]))
),
resolutions AS (
    SELECT w.rep_id, w.team_id, w.category_id, w.channel,
           date_trunc('month', w.occurred_at AT TIME ZONE %(tz)s)::date AS month,
           -- One unique-index probe per resolution (a join would scan every answer).
           EXISTS (SELECT 1 FROM cases_surveyresponse s
                    WHERE s.case_id = w.case_id AND s.resolution_number = w.resolution_number)
             AS responded
      FROM window_resolutions w
),
responses AS (
    SELECT s.representative_id AS rep_id, c.team_id, c.category_id, c.channel,
           date_trunc('month', s.responded_at AT TIME ZONE %(tz)s)::date AS month,
           s.csat, s.nps, s.effort
      FROM cases_surveyresponse s
      JOIN cases_case c ON c.id = s.case_id
     WHERE s.responded_at >= %(start)s AND s.responded_at < %(end)s AND {slice}
),
facts AS (
    SELECT rep_id, team_id, category_id, channel, month,
           TRUE AS is_response, csat, nps, effort, NULL::boolean AS responded
      FROM responses
    UNION ALL
    SELECT rep_id, team_id, category_id, channel, month,
           FALSE, NULL, NULL, NULL, responded
      FROM resolutions
),
agg AS (
    SELECT CASE WHEN GROUPING(rep_id, month) = 0 THEN 'trend'
                WHEN GROUPING({key}) = 0 THEN 'row'
                ELSE 'overall' END AS kind,
           {key} AS key, rep_id, month,
           count(*) FILTER (WHERE is_response) AS responses,
           count(*) FILTER (WHERE csat >= 4) AS satisfied,
           avg(csat)::float AS csat_mean,
           stddev_samp(csat)::float AS csat_sd,
           count(nps) AS nps_n,
           count(*) FILTER (WHERE nps >= 9) AS promoters,
           count(*) FILTER (WHERE nps <= 6) AS detractors,
           stddev_samp(CASE WHEN nps >= 9 THEN 1 WHEN nps <= 6 THEN -1
                            WHEN nps IS NOT NULL THEN 0 END)::float AS nps_sd,
           count(effort) AS effort_n,
           avg(effort)::float AS effort_mean,
           stddev_samp(effort)::float AS effort_sd,
           count(*) FILTER (WHERE NOT is_response) AS resolutions,
           count(*) FILTER (WHERE responded) AS responded
      FROM facts
     WHERE %(rep_ids)s::bigint[] IS NULL OR rep_id = ANY(%(rep_ids)s::bigint[])
     GROUP BY GROUPING SETS (({key}), (), (rep_id, month))
)
SELECT agg.*,
       CASE WHEN agg.kind = 'trend' THEN r.display_name ELSE {label} END AS label
  FROM agg
  LEFT JOIN cases_representative r ON r.id = agg.rep_id
  {label_join}
 ORDER BY agg.kind, label NULLS LAST, agg.key NULLS LAST, agg.rep_id NULLS LAST, agg.month
"""

# group_by → (grouping column, its label, the join the label needs)
_GROUPS: dict[str, tuple[str, str, str]] = {
    "rep": ("rep_id", "r.display_name", ""),
    "team": ("team_id", "t.name", "LEFT JOIN cases_team t ON t.id = agg.key"),
    "category": ("category_id", "g.name", "LEFT JOIN cases_category g ON g.id = agg.key"),
    "channel": ("channel", "agg.key", ""),
    "month": ("month", "to_char(agg.key, 'YYYY-MM')", ""),
}


def _sum_columns() -> str:
    sums = ",\n           ".join(f"sum({m})::bigint AS {m}" for m in rollup.MEASURES)
    return sums


def _mean(n: str, total: str, squares: str, name: str) -> str:
    """The mean and the sample standard deviation (as avg and stddev_samp give them) from
    a count, a sum and a sum of squares, in numeric: exact up to the final rounding."""
    return (
        f"CASE WHEN {n} > 0 THEN ({total}::numeric / {n})::float END AS {name}_mean, "
        f"CASE WHEN {n} > 1 THEN sqrt(greatest(0, ({n}::numeric * {squares} - "
        f"{total}::numeric * {total}) / ({n}::numeric * ({n} - 1))))::float END AS {name}_sd"
    )


CSAT_ROLLUP_SQL = f"""
WITH parts AS (
    -- Whole UTC days inside one local month: the day sums.
    SELECT r.rep_id,
           date_trunc('month', (r.day::timestamp AT TIME ZONE 'UTC') AT TIME ZONE %(tz)s)::date
             AS month,
           {", ".join(f"r.{m}" for m in rollup.MEASURES)}
      FROM {rollup.LIVE} r
     WHERE r.day >= %(first_day)s AND r.day <= %(last_day)s
       AND NOT (r.day = ANY(%(cut_days)s::date[])) AND {{day_slice}}
    UNION ALL
    -- The partial days (window edges, days a local month starts in): the facts.
    SELECT f.rep_id, date_trunc('month', f.at AT TIME ZONE %(tz)s)::date,
           {", ".join(f"{rollup.FACT_MEASURES[m]}" for m in rollup.MEASURES)}
      FROM unnest(%(edge_starts)s::timestamptz[], %(edge_ends)s::timestamptz[]) AS w(lo, hi)
     -- Each stretch by the facts' time index (OFFSET 0 keeps the subquery apart): as a
     -- plain join sliced by team, the planner scanned every fact (140 ms at 1M cases).
     CROSS JOIN LATERAL (SELECT * FROM {rollup.FACT} f
                          WHERE f.at >= w.lo AND f.at < w.hi OFFSET 0) f
     WHERE {{fact_slice}}
),
agg AS (
    SELECT CASE WHEN GROUPING(rep_id, month) = 0 THEN 'trend'
                WHEN GROUPING(rep_id) = 0 THEN 'row'
                ELSE 'overall' END AS kind,
           rep_id AS key, rep_id, month,
           {_sum_columns()}
      FROM parts
     GROUP BY GROUPING SETS ((rep_id), (), (rep_id, month))
     -- A rep (or rep-month) with no response and no resolution is not a row, as in the
     -- case tables' answer (a day row can hold zeros after its facts were deleted).
    HAVING GROUPING(rep_id) = 1 OR sum(responses) + sum(resolutions) > 0
)
SELECT agg.kind, agg.key, agg.rep_id, agg.month, agg.responses, agg.satisfied,
       {_mean("agg.responses", "agg.csat_sum", "agg.csat_sq", "csat")},
       agg.nps_n, agg.promoters, agg.detractors,
       CASE WHEN agg.nps_n > 1 THEN sqrt(greatest(0, (agg.nps_n::numeric
            * (agg.promoters + agg.detractors) - (agg.promoters - agg.detractors)::numeric
            * (agg.promoters - agg.detractors)) / (agg.nps_n::numeric * (agg.nps_n - 1))))::float
       END AS nps_sd,
       agg.effort_n, {_mean("agg.effort_n", "agg.effort_sum", "agg.effort_sq", "effort")},
       agg.resolutions, agg.responded, r.display_name AS label
  FROM agg
  LEFT JOIN cases_representative r ON r.id = agg.rep_id
 ORDER BY agg.kind, label NULLS LAST, agg.key NULLS LAST, agg.rep_id NULLS LAST, agg.month
"""


def rollup_serves(f: KpiFilter, group_by: str) -> bool:
    """Whether the CSAT rollup answers: per rep, sliced by nothing but team and rep (the
    rollup's dimensions). Any window and time zone: partial days come from the facts."""
    return rollups_enabled() and group_by == "rep" and sliced_dims(f) <= {"team", "rep"}


def window_days(f: KpiFilter) -> tuple[list[date], list[tuple[datetime, datetime]]]:
    """The window split into the UTC days the day sums answer — wholly inside the window
    and inside one local month of ``f.tz`` — and the other stretches (UTC ranges, adjacent
    ones merged) that the facts answer."""
    whole: list[date] = []
    edges: list[tuple[datetime, datetime]] = []
    day = f.start.astimezone(UTC).date()
    last = (f.end - TICK).astimezone(UTC).date()
    while day <= last:
        lo = datetime.combine(day, time(0), tzinfo=UTC)
        hi = lo + timedelta(days=1)
        first, final = lo.astimezone(f.tz), (hi - TICK).astimezone(f.tz)
        # Local time only moves forward within the day unless its offset falls back, so
        # equal months at both ends mean one month throughout; a fall-back day is partial.
        offsets = first.utcoffset(), final.utcoffset()
        one_month = (first.year, first.month) == (final.year, final.month)
        forward = None not in offsets and offsets[0] <= offsets[1]  # type: ignore[operator]
        if lo >= f.start and hi <= f.end and one_month and forward:
            whole.append(day)
        else:
            start, end = max(lo, f.start), min(hi, f.end)
            if edges and edges[-1][1] == start:
                edges[-1] = (edges[-1][0], end)
            else:
                edges.append((start, end))
        day += timedelta(days=1)
    return whole, edges


def _from_rollup(f: KpiFilter) -> list[dict[str, Any]]:
    whole, edges = window_days(f)
    conditions, params = [], {}
    if f.team_ids is not None:
        conditions.append("{a}.team_id = ANY(%(rollup_team)s::bigint[])")
        params["rollup_team"] = list(f.team_ids)
    if f.rep_ids is not None:
        conditions.append("{a}.rep_id = ANY(%(rollup_rep)s::bigint[])")
        params["rollup_rep"] = list(f.rep_ids)
    condition = " AND ".join(["TRUE", *conditions])
    whole_set = set(whole)
    return fetch_dicts(
        CSAT_ROLLUP_SQL.format(
            day_slice=condition.format(a="r"), fact_slice=condition.format(a="f")
        ),
        {
            "tz": str(f.tz),
            "first_day": whole[0] if whole else None,
            "last_day": whole[-1] if whole else None,
            "cut_days": [
                whole[0] + timedelta(days=i)
                for i in range((whole[-1] - whole[0]).days + 1 if whole else 0)
                if whole[0] + timedelta(days=i) not in whole_set
            ],
            "edge_starts": [lo for lo, _ in edges],
            "edge_ends": [hi for _, hi in edges],
            **params,
        },
    )


TICK = timedelta(microseconds=1)


def kpi_csat_by_representative(
    *, f: KpiFilter, now: datetime, group_by: str = "rep", min_n: int | None = None
) -> CsatResult:
    """CSAT, response rate, NPS and effort per rep (or team/category/channel/month), the
    overall figure for the slice, and each rep's monthly trend (months in ``f.tz``).

    Responses count when ``responded_at`` is in ``[f.start, f.end)``; resolutions when their
    ``resolved`` event is. ``now`` is unused: survey figures depend only on the window.
    """
    del now
    min_n = default_min_n() if min_n is None else min_n
    rows = _from_rollup(f) if rollup_serves(f, group_by) else _from_cases(f, group_by)
    overall = next((r for r in rows if r["kind"] == "overall"), None)
    # The minimum sample is for one rep's figures: rep rows, the trend, and the overall
    # figure when it is one rep's (their own view, or ?rep=).
    one_rep = f.rep_ids is not None and len(f.rep_ids) == 1
    result_rows = [
        CsatRow(
            key=_month_label(r["key"]) if group_by == "month" else r["key"],
            label=r["label"],
            figures=_figures(r, min_n if group_by == "rep" or one_rep else None),
        )
        for r in rows
        if r["kind"] == "row"
    ]
    return CsatResult(
        group_by=group_by,
        min_n=min_n,
        overall=_figures(overall or {}, min_n if one_rep else None),
        rows=result_rows,
        trend=_trends([r for r in rows if r["kind"] == "trend"], window_months(f), min_n),
    )


def _from_cases(f: KpiFilter, group_by: str) -> list[dict[str, Any]]:
    key, label, label_join = _GROUPS[group_by]
    condition, params = slice_sql(replace(f, rep_ids=None), alias="c")
    return fetch_dicts(
        CSAT_SQL.format(
            slice=condition,
            resolver=UNATTRIBUTED_RESOLVER_SQL,
            key=key,
            label=label,
            label_join=label_join,
        ),
        {
            "start": f.start,
            "end": f.end,
            "tz": str(f.tz),
            "rep_ids": list(f.rep_ids) if f.rep_ids is not None else None,
            **params,
        },
    )


def _figures(r: dict[str, Any], min_n: int | None) -> CsatFigures:
    def count(name: str) -> int:
        return int(r.get(name) or 0)

    return CsatFigures(
        responses=count("responses"),
        satisfied=proportion(count("satisfied"), count("responses"), min_n=min_n),
        csat_mean=mean_estimate(
            count("responses"), r.get("csat_mean"), r.get("csat_sd"), min_n, CSAT_SCALE
        ),
        response_rate=proportion(count("responded"), count("resolutions"), min_n=min_n),
        nps=nps_estimate(
            count("nps_n"), count("promoters"), count("detractors"), r.get("nps_sd"), min_n
        ),
        effort=mean_estimate(
            count("effort_n"), r.get("effort_mean"), r.get("effort_sd"), min_n, EFFORT_SCALE
        ),
    )


def _trends(rows: list[dict[str, Any]], months: list[date], min_n: int) -> list[CsatRepTrend]:
    """One entry per rep (SQL order: alphabetical), every month of the window filled in."""
    by_rep: dict[int | None, tuple[str | None, dict[date, dict[str, Any]]]] = {}
    for r in rows:  # rep × month rows, already aggregated
        by_rep.setdefault(r["rep_id"], (r["label"], {}))[1][r["month"]] = r
    trends = []
    for rep, (name, cells) in by_rep.items():
        entries = []
        for month in months:
            cell = cells.get(month, {})
            responses = int(cell.get("responses") or 0)
            entries.append(
                CsatMonth(
                    month=_month_label(month),
                    responses=responses,
                    satisfied=proportion(int(cell.get("satisfied") or 0), responses, min_n=min_n),
                    csat_mean=mean_estimate(
                        responses, cell.get("csat_mean"), cell.get("csat_sd"), min_n, CSAT_SCALE
                    ),
                )
            )
        trends.append(CsatRepTrend(rep=rep, label=name, months=entries))
    return trends


def window_months(f: KpiFilter) -> list[date]:
    """First days of the calendar months (in ``f.tz``) that the window touches."""
    first = f.start.astimezone(f.tz).date().replace(day=1)
    # Half-open: a window ending at local midnight on the 1st does not touch that month.
    last_day = (f.end - timedelta(microseconds=1)).astimezone(f.tz).date()
    months, month = [], first
    while month <= last_day:
        months.append(month)
        month = _next_month(month)
    return months


def month_bounds(month: date, f: KpiFilter) -> tuple[datetime, datetime]:
    """The month in ``f.tz`` as a UTC half-open range, clipped to the window."""
    start = datetime(month.year, month.month, 1, tzinfo=f.tz).astimezone(UTC)
    following = _next_month(month)
    end = datetime(following.year, following.month, 1, tzinfo=f.tz).astimezone(UTC)
    return max(start, f.start), min(end, f.end)


def _next_month(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def _month_label(month: date) -> str:
    return f"{month.year:04d}-{month.month:02d}"
