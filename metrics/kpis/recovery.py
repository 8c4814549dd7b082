"""Detractor recovery: how fast the team gets back to an unhappy customer, and how often it
wins them back. Closing the loop after a poor survey answer.

Definitions (docs/metrics.md#detractor-recovery):
- The *alerts* measured are the detractor alerts (a survey answer with CSAT ≤ 2 or NPS ≤ 6)
  whose ``created_at`` (the moment of the answer) is in the window ``[start, end)``.
- An alert belongs to its ``team`` (the case's team when the customer answered: the team
  whose managers were told) and to its ``representative`` (the rep who resolved the answered
  resolution). The other slices (category, channel, priority, segment) are the case's
  current values.
- Everything is as of ``now``: an alert counts as *contacted* when ``contacted_at ≤ now``
  and as *closed* / *recovered* when ``closed_at ≤ now``, so a past ``now`` reproduces what
  the figures said then.
- *Time to first contact* of a contacted alert = ``contacted_at − created_at`` in calendar
  seconds: mean, median and p90 (exact, ``percentile_cont``) over the contacted alerts;
  ``n`` is their number. Alerts not contacted yet are not in it (``alerts − contacted`` of
  them are waiting).
- *Recovery rate* = recovered / closed (recovered or not recovered), with a 95% Wilson
  interval; alerts still open or contacted are not in it.
- A rep's figures (rep rows, and the overall figure of a one-rep view) below ``min_n``
  (contacted alerts for the time, closed alerts for the rate) are "insufficient data";
  the counts are always given. Teams and the overall figure always show their values.
  Reps are listed by display name and teams by name, never ranked.

One SQL statement: ``GROUPING SETS ((), (team), (rep))`` over the window's alerts.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from metrics.sql import fetch_dicts, slice_sql
from metrics.stats import Proportion, default_min_n, proportion
from metrics.types import KpiFilter

DEFINITION_VERSION = 1


@dataclass(frozen=True)
class TimeToFirstContact:
    """Seconds from the customer's answer to the first contact, over ``n`` contacted alerts."""

    n: int
    mean: float | None
    median: float | None
    p90: float | None
    insufficient_data: bool


@dataclass(frozen=True)
class RecoveryFigures:
    alerts: int
    contacted: int
    closed: int
    recovered: int
    time_to_first_contact: TimeToFirstContact
    recovery_rate: Proportion


@dataclass(frozen=True)
class RecoveryRow:
    key: int | None  # the team's or rep's id; None: alerts without a team / rep
    label: str | None
    figures: RecoveryFigures


@dataclass(frozen=True)
class RecoveryResult:
    min_n: int
    overall: RecoveryFigures
    teams: list[RecoveryRow]
    reps: list[RecoveryRow]


RECOVERY_SQL = """
WITH measured AS (
    SELECT a.team_id, a.representative_id AS rep_id,
           a.contacted_at <= %(now)s AS contacted,
           CASE WHEN a.contacted_at <= %(now)s
                THEN extract(epoch FROM a.contacted_at - a.created_at)::float8 END AS seconds,
           a.closed_at <= %(now)s AS closed,
           a.closed_at <= %(now)s AND a.status = 'recovered' AS recovered
      FROM cases_detractoralert a{case_join}
     WHERE a.created_at >= %(start)s AND a.created_at < %(end)s
       AND (%(team_ids)s::bigint[] IS NULL OR a.team_id = ANY(%(team_ids)s::bigint[]))
       AND (%(rep_ids)s::bigint[] IS NULL OR a.representative_id = ANY(%(rep_ids)s::bigint[]))
       AND {case_slice}
),
agg AS (
    SELECT CASE WHEN GROUPING(team_id) = 0 THEN 'team'
                WHEN GROUPING(rep_id) = 0 THEN 'rep'
                ELSE 'overall' END AS kind,
           team_id, rep_id,
           count(*) AS alerts,
           count(*) FILTER (WHERE contacted) AS contacted,
           avg(seconds) AS mean,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY seconds) AS median,
           percentile_cont(0.9) WITHIN GROUP (ORDER BY seconds) AS p90,
           count(*) FILTER (WHERE closed) AS closed,
           count(*) FILTER (WHERE recovered) AS recovered
      FROM measured
     GROUP BY GROUPING SETS ((), (team_id), (rep_id))
)
SELECT agg.*,
       CASE agg.kind WHEN 'team' THEN t.name WHEN 'rep' THEN r.display_name END AS label
  FROM agg
  LEFT JOIN cases_team t ON agg.kind = 'team' AND t.id = agg.team_id
  LEFT JOIN cases_representative r ON agg.kind = 'rep' AND r.id = agg.rep_id
 ORDER BY agg.kind, label NULLS LAST, agg.team_id NULLS LAST, agg.rep_id NULLS LAST
"""


def kpi_detractor_recovery(
    *, f: KpiFilter, now: datetime, min_n: int | None = None
) -> RecoveryResult:
    """Time to first contact and recovery rate of the detractor alerts raised in the window,
    overall, per team and per rep (see the module doc for the definitions), as of ``now``."""
    min_n = default_min_n() if min_n is None else min_n
    case_slice, params = slice_sql(replace(f, team_ids=None, rep_ids=None), alias="c")
    # The case is read only for a slice by its own columns: team and rep are the alert's,
    # and every alert has its case, so without such a slice the join changes nothing (and
    # was most of the statement's time).
    case_join = "\n      JOIN cases_case c ON c.id = a.case_id" if params else ""
    rows = fetch_dicts(
        RECOVERY_SQL.format(case_slice=case_slice, case_join=case_join),
        {
            "start": f.start,
            "end": f.end,
            "now": now,
            "team_ids": list(f.team_ids) if f.team_ids is not None else None,
            "rep_ids": list(f.rep_ids) if f.rep_ids is not None else None,
            **params,
        },
    )
    one_rep = f.rep_ids is not None and len(f.rep_ids) == 1
    overall = next((r for r in rows if r["kind"] == "overall"), {})
    return RecoveryResult(
        min_n=min_n,
        overall=_figures(overall, min_n if one_rep else None),
        teams=[
            RecoveryRow(key=r["team_id"], label=r["label"], figures=_figures(r, None))
            for r in rows
            if r["kind"] == "team"
        ],
        reps=[
            RecoveryRow(key=r["rep_id"], label=r["label"], figures=_figures(r, min_n))
            for r in rows
            if r["kind"] == "rep"
        ],
    )


def _figures(r: dict[str, Any], min_n: int | None) -> RecoveryFigures:
    """Counts always; the time and the rate only from ``min_n`` up (None: a group's figure)."""

    def count(name: str) -> int:
        return int(r.get(name) or 0)

    contacted = count("contacted")
    too_few = min_n is not None and contacted < min_n
    time = TimeToFirstContact(
        n=contacted,
        mean=None if too_few else r.get("mean"),
        median=None if too_few else r.get("median"),
        p90=None if too_few else r.get("p90"),
        insufficient_data=too_few,
    )
    return RecoveryFigures(
        alerts=count("alerts"),
        contacted=contacted,
        closed=count("closed"),
        recovered=count("recovered"),
        time_to_first_contact=time,
        recovery_rate=proportion(count("recovered"), count("closed"), min_n=min_n),
    )
