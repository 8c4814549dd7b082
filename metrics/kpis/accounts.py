"""Accounts: per-account support experience, an explainable risk score, and turnover.

Definitions (docs/metrics.md#account-summary-and-risk):
- The *period* is ``[f.start, min(f.end, now))``; the *previous period* is the same duration
  immediately before it. Cases count by ``opened_at``.
- *Open now*: the case was open at ``now`` by its event history — opened at or before
  ``now`` and, at ``now``, either never resolved yet or reopened since its last resolution.
  Only cases resolved before ``now`` and reopened since need their events read, so the live
  figure (``now`` = the clock) equals "status new/open/pending", and a back-test at a past
  ``now`` sees no later event.
- *Reopened*: cases opened in the period that were reopened at least once by ``now``.
- *CSAT*: survey responses (``SurveyResponse.csat``, 1–5) received in the period for the
  account's cases; a *detractor* answered 1 or 2.
- *Cases per 10,000 of annual value*: cases in the period × 10,000 / ``annual_value``.
- *Risk* (0–100): the sum of six capped, linear factor scores (``FACTORS``); each factor
  reports its raw value, the adjusted value it is scored on, and its points. Rates over few
  cases or responses are shrunk toward the peer rate (pseudo-counts), so one bad answer
  moves the score a little, not fully.
- *Peers*: the accounts in the caller's scope active at ``now`` (segment and ``min_risk``
  filters only narrow the listed rows; they never change anyone's score).
- *Turnover* (logo churn rate): accounts churned in the period over accounts active at its
  start.

Scope: the filter's slice (team, rep, category, channel, priority) selects the cases
behind every figure; a sliced caller lists the accounts with in-scope activity (a case in
the period or the previous one, a case open now, an answer in the period) and may open any
account with an in-scope case. Unsliced (an admin), every account created by ``now``.

Unsliced or sliced by team, the period's cases, reopenings and answers come from the
per-account rollup (metrics.rollups.accounts): whole UTC days from its rows, the rest of
each boundary's day from the case tables; the same figures exactly (``uses_rollup``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from fractions import Fraction
from typing import Any

from metrics.rollups.accounts import boundary, boundary_params, slot_sql
from metrics.rollups.read import rollups_enabled, sliced_dims
from metrics.sql import fetch_dicts, slice_sql
from metrics.stats import Z95, wilson_interval
from metrics.types import Interval, KpiFilter

DEFINITION_VERSION = 1

# Pseudo-counts: how many responses/cases at the peer rate are blended into an account's own.
CSAT_PSEUDO_RESPONSES = 3
REOPEN_PSEUDO_CASES = 5
# Added to both sides of the volume ratio and to the backlog denominator so that tiny
# accounts (0 → 1 case) do not read as a tripling.
VOLUME_SMOOTHING = 2


@dataclass(frozen=True)
class FactorDef:
    """One risk factor: ``weight`` points when the adjusted value reaches ``full_at``,
    none at or beyond ``zero_at`` on the other side, linear in between."""

    name: str
    weight: float
    zero_at: float
    full_at: float
    adjusted: str  # how the adjusted value is computed (documentation)


FACTORS: tuple[FactorDef, ...] = (
    FactorDef(
        "volume_trend", 20, 1.0, 2.5, "(cases + 2) / (previous_cases + 2): growth in contacts"
    ),
    FactorDef(
        "volume_vs_value",
        10,
        1.0,
        4.0,
        "cases per 10,000 of annual value / the peers' median (accounts with cases)",
    ),
    FactorDef("csat", 20, 4.0, 2.5, "mean CSAT with 3 responses at the peer mean blended in"),
    FactorDef(
        "detractors", 15, 0.10, 0.40, "share of CSAT 1–2, 3 responses at the peer share blended in"
    ),
    FactorDef(
        "reopens", 15, 0.08, 0.30, "share of the period's cases reopened, 5 peer cases blended in"
    ),
    FactorDef("open_backlog", 20, 0.10, 0.50, "open cases now / (cases in the period + 2)"),
)
assert sum(fd.weight for fd in FACTORS) == 100

ORDERINGS = {
    "-risk": "risk DESC, id",
    "risk": "risk ASC, id",
    "name": "name, id",
    "-cases": "cases DESC, id",
    "-open_now": "open_now DESC, id",
}


@dataclass(frozen=True)
class RiskFactor:
    name: str
    weight: float
    raw: float | None  # the account's own figure
    adjusted: float | None  # what is scored (smoothed or relative to peers)
    zero_at: float
    full_at: float
    points: float
    n: int  # cases or responses behind the raw figure


@dataclass(frozen=True)
class MeanCsat:
    n: int
    mean: float | None
    low: float | None
    high: float | None
    insufficient_data: bool
    detractors: int
    detractor_rate: Interval


@dataclass(frozen=True)
class AccountFigures:
    account_id: int
    external_id: str
    name: str
    segment: str
    annual_value: float
    status: str  # at ``now``: "active" or "churned"
    churned_at: datetime | None
    cases: int
    previous_cases: int
    open_now: int
    reopened: int
    reopen_rate: Interval
    csat: MeanCsat
    cases_per_10k_value: float | None
    risk: float
    factors: list[RiskFactor]


@dataclass(frozen=True)
class PeerFigures:
    accounts: int
    csat_mean: float | None
    detractor_rate: float | None
    reopen_rate: float | None
    cases_per_10k_median: float | None


@dataclass(frozen=True)
class AccountRiskPage:
    total: int
    period_start: datetime
    period_end: datetime
    previous_start: datetime
    peers: PeerFigures
    rows: list[AccountFigures]


@dataclass(frozen=True)
class Turnover:
    n: int  # accounts active at the period's start
    churned: int
    rate: Interval
    new_accounts: int


def _points_sql(fd: FactorDef, adjusted: str) -> str:
    """Capped linear points, rounded to 0.1 so that the listed points add up to the score."""
    span = fd.full_at - fd.zero_at
    return (
        f"coalesce(round(({fd.weight}::float8 * least(1, greatest(0, "
        f"({adjusted} - {fd.zero_at}::float8) / {span}::float8)))::numeric, 1), 0)"
    )


ADJUSTED = {
    "volume_trend": (
        f"(a.cases + {VOLUME_SMOOTHING})::float8 / (a.previous_cases + {VOLUME_SMOOTHING})"
    ),
    "volume_vs_value": "a.cases_per_10k / nullif(p.cases_per_10k_median, 0)",
    "csat": (
        f"(coalesce(a.csat_sum, 0) + {CSAT_PSEUDO_RESPONSES} * p.csat_mean)"
        f" / (a.responses + {CSAT_PSEUDO_RESPONSES})"
    ),
    "detractors": (
        f"(a.detractors + {CSAT_PSEUDO_RESPONSES} * p.detractor_rate)"
        f" / (a.responses + {CSAT_PSEUDO_RESPONSES})"
    ),
    "reopens": (
        f"(a.reopened + {REOPEN_PSEUDO_CASES} * p.reopen_rate) / (a.cases + {REOPEN_PSEUDO_CASES})"
    ),
    "open_backlog": f"a.open_now::float8 / (a.cases + {VOLUME_SMOOTHING})",
}

# "Open now": the status-open cases (the partial index metrics_case_account_open answers
# them without reading the case rows) and the cases resolved after ``now``, as two disjoint
# parts (a case is status-open exactly when ``resolved_at`` is null); then the events of
# those resolved before ``now`` (a few hundred at 1M cases).
OPEN_SQL = """
open_figures AS (
    -- Open at now ⇒ open now, or resolved (for the last time) after now. Never resolved
    -- by now: open. Resolved by now: open when reopened at least as often as resolved.
    SELECT account_id, sum(n) AS open_now FROM (
        SELECT c.account_id, count(*) AS n
          FROM cases_case c
         WHERE c.account_id IS NOT NULL AND {slice} AND c.opened_at <= %(now)s
           AND c.status IN ('new', 'open', 'pending')
           AND (c.first_resolved_at IS NULL OR c.first_resolved_at > %(now)s)
         GROUP BY c.account_id
        UNION ALL
        SELECT c.account_id, count(*)
          FROM cases_case c
         WHERE c.account_id IS NOT NULL AND {slice} AND c.opened_at <= %(now)s
           AND c.resolved_at > %(now)s
           AND (c.first_resolved_at IS NULL OR c.first_resolved_at > %(now)s)
         GROUP BY c.account_id
        UNION ALL
        SELECT h.account_id, count(*) FROM (
            SELECT o.account_id,
                   count(*) FILTER (WHERE e.event_type = 'reopened') AS reopens,
                   count(*) FILTER (WHERE e.event_type = 'resolved') AS resolutions
              FROM (SELECT c.id, c.account_id FROM cases_case c
                     WHERE c.account_id IS NOT NULL AND {slice} AND c.opened_at <= %(now)s
                       AND c.status IN ('new', 'open', 'pending')
                       AND c.first_resolved_at <= %(now)s
                    UNION ALL
                    SELECT c.id, c.account_id FROM cases_case c
                     WHERE c.account_id IS NOT NULL AND {slice} AND c.opened_at <= %(now)s
                       AND c.resolved_at > %(now)s AND c.first_resolved_at <= %(now)s) o
              JOIN cases_caseevent e ON e.case_id = o.id
             WHERE e.event_type IN ('resolved', 'reopened') AND e.occurred_at <= %(now)s
             GROUP BY o.id, o.account_id) h
         WHERE h.reopens >= h.resolutions
         GROUP BY h.account_id
    ) parts
     GROUP BY account_id
)"""

# The period's figures from the case and survey tables: every case of both periods.
RAW_FIGURES_SQL = """
recent AS (
    SELECT c.id, c.account_id, c.opened_at, c.reopened_count
      FROM cases_case c
     WHERE c.account_id IS NOT NULL AND {slice}
       AND c.opened_at >= %(previous_start)s AND c.opened_at < %(period_end)s
),
case_figures AS (
    SELECT r.account_id,
           count(*) FILTER (WHERE r.opened_at >= %(start)s) AS cases,
           count(*) FILTER (WHERE r.opened_at < %(start)s) AS previous_cases
      FROM recent r
     GROUP BY r.account_id
),
reopen_figures AS (
    -- Only the period's cases with a reopen count need their events.
    SELECT r.account_id, count(*) AS reopened
      FROM recent r
     WHERE r.reopened_count > 0 AND r.opened_at >= %(start)s
       AND EXISTS (SELECT 1 FROM cases_caseevent e
                    WHERE e.case_id = r.id AND e.event_type = 'reopened'
                      AND e.occurred_at <= %(now)s)
     GROUP BY r.account_id
),
survey_figures AS (
    -- From the period's answers to their cases by primary key: OFFSET 0 keeps the planner
    -- from hashing every case of the slice to join a few thousand answers.
    SELECT c.account_id, count(*) AS responses, sum(s.csat) AS csat_sum,
           sum(s.csat * s.csat) AS csat_sq, count(*) FILTER (WHERE s.csat <= 2) AS detractors
      FROM cases_surveyresponse s
      CROSS JOIN LATERAL (
            SELECT c.account_id FROM cases_case c
             WHERE c.id = s.case_id AND c.account_id IS NOT NULL AND {slice}
            OFFSET 0) c
     WHERE s.responded_at >= %(start)s AND s.responded_at < %(period_end)s
     GROUP BY c.account_id
)"""

# The same figures from metrics_rollup_account_month (metrics.rollups.accounts): whole UTC
# days from the rollup rows of the months involved, the rest of each boundary's day (at
# most 12 hours, before or after its nearest midnight) from the case and survey tables by
# index, and the reopenings the rollup counts but ``now`` has not reached yet subtracted.
# Boundaries: p = previous_start, s = start, e = period_end.
ROLLUP_FIGURES_SQL = """
rolled AS (
    SELECT r.account_id,
           sum(r.opened[i.e] - r.opened[i.s]) AS cases,
           sum(r.opened[i.s] - r.opened[i.p]) AS previous_cases,
           sum(r.reopened[i.e] - r.reopened[i.s]) AS reopened,
           sum(r.responses[i.e] - r.responses[i.s]) AS responses,
           sum(r.csat_sum[i.e] - r.csat_sum[i.s]) AS csat_sum,
           sum(r.csat_sq[i.e] - r.csat_sq[i.s]) AS csat_sq,
           sum(r.detractors[i.e] - r.detractors[i.s]) AS detractors
      FROM {live} r
     CROSS JOIN LATERAL (SELECT {slot_p} AS p, {slot_s} AS s, {slot_e} AS e) i
     WHERE r.month >= %(p_month)s AND r.month <= %(e_month)s AND {rollup_slice}
     GROUP BY r.account_id
),
edge_cases AS (
    SELECT c.account_id, b.k, b.sign, c.opened_at,
           CASE WHEN c.reopened_count > 0 AND EXISTS (
                    SELECT 1 FROM cases_caseevent e
                     WHERE e.case_id = c.id AND e.event_type = 'reopened'
                       AND e.occurred_at <= %(now)s) THEN 1 ELSE 0 END AS reopened
      FROM (VALUES ('p', %(p_lo)s::timestamptz, %(p_hi)s::timestamptz, %(p_sign)s::int),
                   ('s', %(s_lo)s::timestamptz, %(s_hi)s::timestamptz, %(s_sign)s::int),
                   ('e', %(e_lo)s::timestamptz, %(e_hi)s::timestamptz, %(e_sign)s::int))
           AS b(k, lo, hi, sign)
      CROSS JOIN LATERAL (
            SELECT c.id, c.account_id, c.opened_at, c.reopened_count FROM cases_case c
             WHERE c.opened_at >= b.lo AND c.opened_at < b.hi
               AND c.account_id IS NOT NULL AND {slice}
            OFFSET 0) c
),
edge_answers AS (
    SELECT c.account_id, b.sign, s.csat
      FROM (VALUES (%(s_lo)s::timestamptz, %(s_hi)s::timestamptz, 0 - %(s_sign)s::int),
                   (%(e_lo)s::timestamptz, %(e_hi)s::timestamptz, %(e_sign)s::int))
           AS b(lo, hi, sign)
      JOIN cases_surveyresponse s ON s.responded_at >= b.lo AND s.responded_at < b.hi
      CROSS JOIN LATERAL (
            SELECT c.account_id FROM cases_case c
             WHERE c.id = s.case_id AND c.account_id IS NOT NULL AND {slice}
            OFFSET 0) c
),
late_reopenings AS (
    -- Counted by the rollup (a reopening exists) but not reopened by now: every
    -- reopening after now. Only cases of the rollup's whole days [s midnight, e midnight).
    SELECT c.account_id, count(*) AS n
      FROM (SELECT DISTINCT e.case_id FROM cases_caseevent e
             WHERE e.event_type = 'reopened' AND e.occurred_at > %(now)s) x
      CROSS JOIN LATERAL (
            SELECT c.id, c.account_id FROM cases_case c
             WHERE c.id = x.case_id AND c.account_id IS NOT NULL AND {slice}
               AND c.reopened_count > 0
               AND c.opened_at >= %(s_midnight)s AND c.opened_at < %(e_midnight)s
            OFFSET 0) c
     WHERE NOT EXISTS (SELECT 1 FROM cases_caseevent e
                        WHERE e.case_id = c.id AND e.event_type = 'reopened'
                          AND e.occurred_at <= %(now)s)
     GROUP BY c.account_id
),
parts AS (
    SELECT account_id, cases, previous_cases, reopened, responses, csat_sum, csat_sq,
           detractors
      FROM rolled
    UNION ALL
    -- A boundary's edge adds to the count before it: + to the period after it, − to the
    -- one before it.
    SELECT account_id,
           sum(sign * CASE k WHEN 'e' THEN 1 WHEN 's' THEN -1 ELSE 0 END),
           sum(sign * CASE k WHEN 's' THEN 1 WHEN 'p' THEN -1 ELSE 0 END),
           sum(sign * reopened * CASE k WHEN 'e' THEN 1 WHEN 's' THEN -1 ELSE 0 END),
           0, 0, 0, 0
      FROM edge_cases GROUP BY account_id
    UNION ALL
    SELECT account_id, 0, 0, 0, sum(sign), sum(sign * csat), sum(sign * csat * csat),
           sum(sign) FILTER (WHERE csat <= 2)
      FROM edge_answers GROUP BY account_id
    UNION ALL
    SELECT account_id, 0, 0, -n, 0, 0, 0, 0 FROM late_reopenings
),
figures AS (
    SELECT account_id, sum(cases)::bigint AS cases,
           sum(previous_cases)::bigint AS previous_cases, sum(reopened)::bigint AS reopened,
           sum(responses)::bigint AS responses, sum(csat_sum)::bigint AS csat_sum,
           sum(csat_sq)::bigint AS csat_sq, coalesce(sum(detractors), 0)::bigint AS detractors
      FROM parts GROUP BY account_id
),
-- As the case-table figures: rows only for accounts with a case / a reopening / an answer.
case_figures AS (
    SELECT account_id, cases, previous_cases FROM figures WHERE cases + previous_cases > 0
),
reopen_figures AS (
    SELECT account_id, reopened FROM figures WHERE reopened > 0
),
survey_figures AS (
    SELECT account_id, responses, csat_sum, csat_sq, detractors FROM figures
     WHERE responses > 0
)"""

RISK_SQL = """
WITH
{figures},
{open},
accounts AS (
    SELECT acc.id, acc.external_id, acc.name, acc.segment, acc.annual_value::float8 AS annual_value,
           acc.churned_at, (acc.churned_at IS NULL OR acc.churned_at > %(now)s) AS active_now,
           coalesce(cf.cases, 0) AS cases, coalesce(cf.previous_cases, 0) AS previous_cases,
           coalesce(rf.reopened, 0) AS reopened, coalesce(o.open_now, 0) AS open_now,
           coalesce(sf.responses, 0) AS responses, sf.csat_sum::float8 AS csat_sum,
           coalesce(sf.csat_sq, 0)::bigint AS csat_sq, coalesce(sf.detractors, 0) AS detractors,
           CASE WHEN acc.annual_value > 0
                THEN coalesce(cf.cases, 0) * 10000.0::float8 / acc.annual_value::float8
           END AS cases_per_10k
      FROM cases_account acc
      LEFT JOIN case_figures cf ON cf.account_id = acc.id
      LEFT JOIN reopen_figures rf ON rf.account_id = acc.id
      LEFT JOIN open_figures o ON o.account_id = acc.id
      LEFT JOIN survey_figures sf ON sf.account_id = acc.id
     WHERE acc.created_at <= %(now)s {population}
),
peers AS (
    SELECT count(*) AS peer_accounts,
           sum(csat_sum) / nullif(sum(responses), 0) AS peer_csat_mean,
           sum(detractors)::float8 / nullif(sum(responses), 0) AS peer_detractor_rate,
           sum(reopened)::float8 / nullif(sum(cases), 0) AS peer_reopen_rate,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY cases_per_10k)
             FILTER (WHERE cases > 0) AS peer_cases_per_10k_median
      FROM accounts WHERE active_now
),
adjusted AS (
    SELECT a.*, {adjusted_columns}
      FROM accounts a CROSS JOIN (
           SELECT peer_csat_mean AS csat_mean, peer_detractor_rate AS detractor_rate,
                  peer_reopen_rate AS reopen_rate,
                  peer_cases_per_10k_median AS cases_per_10k_median FROM peers) p
),
pointed AS MATERIALIZED (
    -- Materialized so that each point is computed once, not again for the sum, the
    -- min_risk filter and the sort.
    SELECT ad.*, {points_columns} FROM adjusted ad
),
scored AS (
    SELECT pointed.*, {points_sum} AS risk FROM pointed
),
filtered AS (
    SELECT * FROM scored
     WHERE (active_now OR %(include_churned)s)
       AND (%(segments)s::text[] IS NULL OR segment = ANY(%(segments)s::text[]))
       AND (%(account_id)s::bigint IS NULL OR id = %(account_id)s::bigint)
       AND risk >= %(min_risk)s
),
page AS (
    SELECT * FROM filtered ORDER BY {ordering} LIMIT %(limit)s OFFSET %(offset)s
)
SELECT peers.*, (SELECT count(*) FROM filtered) AS total, page.*
  FROM peers LEFT JOIN page ON TRUE
 ORDER BY {ordering}
"""


def _sliced(f: KpiFilter) -> bool:
    return any(
        v is not None for v in (f.team_ids, f.rep_ids, f.category_ids, f.channels, f.priorities)
    )


def _population_sql(f: KpiFilter, condition: str) -> str:
    """Which accounts a sliced caller (a manager, a rep, a team or category filter) sees:
    those with in-scope activity — a case opened in the period or the previous one, a case
    open now, or an answer in the period — plus, when one account is asked for, that
    account if it has any in-scope case at all. Unsliced (an admin): every account.

    Accounts without activity have no cases and no answers, so they never move the peer
    figures; listing them or not changes no score."""
    if not _sliced(f):
        return ""
    return (
        "AND (cf.account_id IS NOT NULL OR o.account_id IS NOT NULL"
        " OR sf.account_id IS NOT NULL"
        " OR (acc.id = %(account_id)s::bigint AND EXISTS (SELECT 1 FROM cases_case c"
        f" WHERE c.account_id = acc.id AND c.opened_at <= %(now)s AND {condition})))"
    )


def _turnover_population_sql(
    f: KpiFilter, condition: str, now: datetime, period_end: datetime
) -> tuple[str, dict[str, Any]]:
    """A sliced caller's turnover counts the accounts the slice served by the period's end:
    with a case of the slice opened before it. From the rollup when it answers (its cases
    before the end's UTC day, and that day's cases from the case table), else the cases."""
    if not _sliced(f):
        return "", {}
    if not uses_rollup(f, now):
        return (
            "AND acc.id IN (SELECT c.account_id FROM cases_case c"
            f" WHERE c.opened_at < %(period_end)s AND {condition})"
        ), {}
    utc = period_end.astimezone(UTC)
    day = datetime(utc.year, utc.month, utc.day, tzinfo=UTC)
    params: dict[str, Any] = {
        "end_day": day,
        "end_month": date(day.year, day.month, 1),
        "end_slot": day.day,
        "rollup_team": list(f.team_ids or ()),
    }
    return (
        "AND acc.id IN (SELECT r.account_id FROM metrics_rollup_account_month_live r"
        " WHERE r.team_id = ANY(%(rollup_team)s) AND r.month <= %(end_month)s"
        " GROUP BY r.account_id HAVING sum(CASE WHEN r.month < %(end_month)s"
        " THEN r.opened[32] ELSE r.opened[%(end_slot)s] END) > 0"
        " UNION SELECT c.account_id FROM cases_case c"
        " WHERE c.opened_at >= %(end_day)s AND c.opened_at < %(period_end)s"
        f" AND c.account_id IS NOT NULL AND {condition})"
    ), params


def _periods(f: KpiFilter, now: datetime) -> tuple[datetime, datetime, datetime]:
    """(previous_start, start, period_end): the period stops at ``now`` (no peeking ahead),
    and the previous period has the same elapsed duration."""
    period_end = max(min(f.end, now), f.start)
    return f.start - (period_end - f.start), f.start, period_end


def uses_rollup(f: KpiFilter, now: datetime) -> bool:
    """Whether the period's figures come from metrics_rollup_account_month: rollups on and
    no slice but team (segments only filter the listed rows). Any window, time zone and
    ``now``: the boundaries' partial days are read from the case tables, and the
    reopenings after ``now`` (none for the live endpoint; a back-test's whole future) are
    subtracted by index."""
    del now
    return rollups_enabled() and not sliced_dims(f) - {"team", "segment"}


def _figures_sql(
    f: KpiFilter,
    now: datetime,
    previous_start: datetime,
    start: datetime,
    period_end: datetime,
    condition: str,
) -> tuple[str, dict[str, Any]]:
    """The CTEs case_figures, reopen_figures and survey_figures (and their parameters),
    from the rollup when it answers, else from the case tables: the same rows either way."""
    if not uses_rollup(f, now):
        return RAW_FIGURES_SQL.strip().format(slice=condition), {}
    # Unsliced, the rows summed over teams (a third as many).
    params: dict[str, Any] = {}
    live, rollup_slice = "metrics_rollup_account_month_all_live", "TRUE"
    if f.team_ids is not None:
        live, rollup_slice = "metrics_rollup_account_month_live", "r.team_id = ANY(%(rollup_team)s)"
        params = {"rollup_team": list(f.team_ids)}
    bounds = {"p": previous_start, "s": start, "e": period_end}
    for name, moment in bounds.items():
        params.update(boundary_params(name, boundary(moment)))
    slots = {f"slot_{name}": slot_sql(name) for name in bounds}
    return (
        ROLLUP_FIGURES_SQL.strip().format(
            slice=condition, rollup_slice=rollup_slice, live=live, **slots
        ),
        params,
    )


def kpi_account_risk(
    *,
    f: KpiFilter,
    now: datetime,
    account_id: int | None = None,
    min_risk: float = 0,
    include_churned: bool = False,
    ordering: str = "-risk",
    limit: int | None = 50,
    offset: int = 0,
    min_n: int = 10,
) -> AccountRiskPage:
    """Per-account cases (this period vs the previous one), open now, reopens, CSAT,
    volume per value and the explainable risk score, in one SQL statement.

    ``f.segments`` filters the listed accounts by their segment (not the peers);
    ``account_id`` returns that account only (its score is still relative to all peers).
    ``min_n`` is the minimum number of responses for the account's mean CSAT to be shown.
    """
    previous_start, start, period_end = _periods(f, now)
    condition, params = slice_sql(replace(f, segments=None), alias="c")
    figures_sql, figure_params = _figures_sql(f, now, previous_start, start, period_end, condition)
    adjusted_columns = ", ".join(f"{ADJUSTED[fd.name]} AS adj_{fd.name}" for fd in FACTORS)
    points_columns = ", ".join(
        f"{_points_sql(fd, f'ad.adj_{fd.name}')} AS pts_{fd.name}" for fd in FACTORS
    )
    points_sum = " + ".join(f"pts_{fd.name}" for fd in FACTORS)
    sql = RISK_SQL.format(
        figures=figures_sql,
        open=OPEN_SQL.strip().format(slice=condition),
        slice=condition,
        population=_population_sql(f, condition),
        adjusted_columns=adjusted_columns,
        points_columns=points_columns,
        points_sum=points_sum,
        ordering=ORDERINGS[ordering],
    )
    rows = fetch_dicts(
        sql,
        {
            **params,
            **figure_params,
            "now": now,
            "start": start,
            "period_end": period_end,
            "previous_start": previous_start,
            "include_churned": include_churned,
            "segments": list(f.segments) if f.segments is not None else None,
            "account_id": account_id,
            "min_risk": min_risk,
            "limit": limit,
            "offset": offset,
        },
    )
    head = rows[0]  # the peers row is always there, with or without a page
    peers = PeerFigures(
        accounts=int(head["peer_accounts"]),
        csat_mean=head["peer_csat_mean"],
        detractor_rate=head["peer_detractor_rate"],
        reopen_rate=head["peer_reopen_rate"],
        cases_per_10k_median=head["peer_cases_per_10k_median"],
    )
    figures = [_account(r, min_n) for r in rows if r["id"] is not None]
    return AccountRiskPage(
        total=int(head["total"]),
        period_start=start,
        period_end=period_end,
        previous_start=previous_start,
        peers=peers,
        rows=figures,
    )


def _sample_sd(n: int, total: int, squares: int) -> float | None:
    """The sample standard deviation of ``n`` integer answers from their sum and sum of
    squares, computed exactly (a fraction) before the square root: the same float whichever
    path summed them."""
    if n < 2:
        return None
    return math.sqrt(Fraction(n * squares - total * total, n * (n - 1)))


def _account(r: dict[str, Any], min_n: int) -> AccountFigures:
    """One already-aggregated account row → its figures (no per-case work here)."""
    responses = int(r["responses"])
    mean = r["csat_sum"] / responses if responses else None
    sd = _sample_sd(responses, int(r["csat_sum"] or 0), int(r["csat_sq"]))
    half = Z95 * sd / responses**0.5 if sd is not None else None
    shown = responses >= min_n
    csat = MeanCsat(
        n=responses,
        mean=mean if shown else None,
        low=max(1.0, mean - half) if shown and mean is not None and half is not None else None,
        high=min(5.0, mean + half) if shown and mean is not None and half is not None else None,
        insufficient_data=not shown,
        detractors=int(r["detractors"]),
        detractor_rate=wilson_interval(int(r["detractors"]), responses),
    )
    cases, previous = int(r["cases"]), int(r["previous_cases"])
    raw = {
        "volume_trend": (cases / previous if previous else None, cases + previous),
        "volume_vs_value": (r["cases_per_10k"], cases),
        "csat": (mean, responses),
        "detractors": (int(r["detractors"]) / responses if responses else None, responses),
        "reopens": (int(r["reopened"]) / cases if cases else None, cases),
        "open_backlog": (float(r["open_now"]), cases),
    }
    factors = [
        RiskFactor(
            name=fd.name,
            weight=fd.weight,
            raw=raw[fd.name][0],
            adjusted=r[f"adj_{fd.name}"],
            zero_at=fd.zero_at,
            full_at=fd.full_at,
            points=float(r[f"pts_{fd.name}"]),
            n=raw[fd.name][1],
        )
        for fd in FACTORS
    ]
    return AccountFigures(
        account_id=r["id"],
        external_id=r["external_id"],
        name=r["name"],
        segment=r["segment"],
        annual_value=r["annual_value"],
        status="active" if r["active_now"] else "churned",
        churned_at=r["churned_at"],
        cases=cases,
        previous_cases=previous,
        open_now=int(r["open_now"]),
        reopened=int(r["reopened"]),
        reopen_rate=wilson_interval(int(r["reopened"]), cases),
        csat=csat,
        cases_per_10k_value=r["cases_per_10k"],
        risk=float(r["risk"]),
        factors=factors,
    )


TURNOVER_SQL = """
SELECT count(*) FILTER (WHERE acc.created_at < %(start)s
                          AND (acc.churned_at IS NULL OR acc.churned_at >= %(start)s))
         AS active_at_start,
       count(*) FILTER (WHERE acc.created_at < %(start)s
                          AND acc.churned_at >= %(start)s AND acc.churned_at < %(period_end)s)
         AS churned,
       count(*) FILTER (WHERE acc.created_at >= %(start)s AND acc.created_at < %(period_end)s)
         AS new_accounts
  FROM cases_account acc
 WHERE (%(segments)s::text[] IS NULL OR acc.segment = ANY(%(segments)s::text[])) {population}
"""


def kpi_account_turnover(*, f: KpiFilter, now: datetime) -> Turnover:
    """Logo churn rate: accounts churned in ``[start, min(end, now))`` among the accounts
    active at ``start`` (created before it, not churned before it), with a Wilson interval.

    Accounts created during the period are counted separately (``new_accounts``) and are in
    neither the numerator nor the denominator. A sliced caller's population is the accounts
    with at least one case in the slice opened before the period's end.
    """
    _, start, period_end = _periods(f, now)
    condition, params = slice_sql(replace(f, segments=None), alias="c")
    population, population_params = _turnover_population_sql(f, condition, now, period_end)
    (row,) = fetch_dicts(
        TURNOVER_SQL.format(population=population),
        {
            **params,
            **population_params,
            "start": start,
            "period_end": period_end,
            "segments": list(f.segments) if f.segments is not None else None,
        },
    )
    n, churned = int(row["active_at_start"]), int(row["churned"])
    return Turnover(
        n=n,
        churned=churned,
        rate=wilson_interval(churned, n),
        new_accounts=int(row["new_accounts"]),
    )
