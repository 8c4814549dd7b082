"""First contact resolution (one-touch resolution) and the reopen rate beside it.

Definitions (docs/metrics.md#first-contact-resolution):
- The cases: those whose latest resolution (``resolved_at``) falls in the window — resolved
  or closed now, the same set as resolution time. A case reopened and not yet resolved
  again is not in any window's set until it is resolved again.
- *Zero-touch* resolution: a resolved case with no agent response
  (``agent_response_count = 0``: spam, duplicates, a customer who solved it themselves).
  Zero-touch cases are left out of FCR — neither a success nor a failure — and counted in
  ``zero_touch``.
- *FCR* = cases resolved with exactly one agent response and never reopened
  (``agent_response_count = 1 AND reopened_count = 0``) / cases resolved with at least one
  agent response. This is Zendesk's "one-touch tickets" (solved with one agent reply) over
  the solved tickets an agent replied to.
- *Reopen rate* = cases reopened at least once (``reopened_count > 0``) / all the resolved
  cases of the set, zero-touch included.
- ``group_by=rep`` attributes a case to ``resolved_by`` (the rep of the latest resolution).
- Both rates carry a 95% Wilson interval and their own n; per-rep rates below ``min_n``
  report ``insufficient_data`` and no value.
- The counts are the case's folded history (responses and reopens so far), so a window's
  FCR can fall later when one of its cases is reopened — as Zendesk's does.

Overall and per team, the counts come from the per-team rollup
(``metrics_rollup_resolved_day``, metrics.rollups) when it answers exactly: no slice but
team, window edges on whole UTC hours in a whole-hour zone. Otherwise from the cases.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from metrics.kpis.times import LABELS, group_key_sql, grouped_parts
from metrics.rollups.read import moment_params, rollup_slice_sql, serves
from metrics.rollups.spec import RESOLVED_DAY
from metrics.sql import fetch_dicts, slice_sql
from metrics.stats import Proportion, default_min_n, proportion
from metrics.types import KpiFilter

DEFINITION_VERSION = 1
GROUP_BY_CHOICES = ("rep", "team", "category", "channel", "priority")


@dataclass(frozen=True)
class FcrFigure:
    resolved: int  # cases of the set: the reopen rate's n
    zero_touch: int  # resolved without an agent response: outside FCR
    fcr: Proportion  # n = resolved with ≥ 1 agent response
    reopen_rate: Proportion  # n = resolved


@dataclass(frozen=True)
class FcrRow:
    key: object
    label: str | None
    figure: FcrFigure


@dataclass(frozen=True)
class FcrResult:
    group_by: str | None
    overall: FcrFigure
    rows: list[FcrRow]


FCR_SQL = """
WITH measured AS (
    SELECT c.id, {key} AS key, c.agent_response_count AS responses,
           c.reopened_count AS reopens
      FROM cases_case c
     WHERE c.resolved_at >= %(start)s AND c.resolved_at < %(end)s AND {slice}
),
agg AS (
    SELECT {overall} AS overall, {group_key} AS key,
           count(*) AS resolved,
           count(*) FILTER (WHERE m.responses = 0) AS zero_touch,
           count(*) FILTER (WHERE m.responses >= 1) AS touched,
           count(*) FILTER (WHERE m.responses = 1 AND m.reopens = 0) AS one_touch,
           count(*) FILTER (WHERE m.reopens > 0) AS reopened
      FROM measured m
     GROUP BY GROUPING SETS ({grouping_sets})
)
SELECT agg.*, {label} AS label
  FROM agg {label_join}
 ORDER BY agg.overall DESC, label NULLS LAST, agg.key NULLS LAST
"""


def _window_count(measure: str) -> str:
    """A row's count of ``measure`` in [start, end): its cumulative count before ``end``
    minus its count before ``start`` (rows of days before ``start`` are not read)."""
    at_end = (
        f"CASE WHEN r.day < %(end_day)s THEN r.{measure}[25] ELSE r.{measure}[%(end_slot)s] END"
    )
    at_start = f"CASE WHEN r.day = %(start_day)s THEN r.{measure}[%(start_slot)s] ELSE 0 END"
    return f"coalesce(sum(({at_end}) - ({at_start})), 0)"


# The same counts from the per-team rollup (overall, or per team).
FCR_ROLLUP_SQL = f"""
WITH agg AS (
    SELECT {{overall}} AS overall, {{group_key}} AS key,
           {_window_count("resolved_cases")} AS resolved,
           {_window_count("zero_touch")} AS zero_touch,
           {_window_count("touched")} AS touched,
           {_window_count("one_touch")} AS one_touch,
           {_window_count("reopened_cases")} AS reopened
      FROM metrics_rollup_resolved_day_live r
     WHERE r.day >= %(start_day)s AND r.day <= %(end_day)s AND {{slice}}
     GROUP BY GROUPING SETS ({{grouping_sets}})
)
SELECT agg.*, {{label}} AS label
  FROM agg {{label_join}}
 WHERE agg.overall OR agg.resolved <> 0
 ORDER BY agg.overall DESC, label NULLS LAST, agg.key NULLS LAST
"""


def _from_rollup(f: KpiFilter, group_by: str | None) -> list[dict[str, Any]] | None:
    """The overall and per-team rows from the rollup, or None when it cannot answer."""
    if group_by not in (None, "team") or not serves(f, RESOLVED_DAY, bounds=(f.start, f.end)):
        return None
    condition, params = rollup_slice_sql(f, RESOLVED_DAY)
    parts = {
        "overall": "TRUE",
        "group_key": "NULL::bigint",
        "grouping_sets": "()",
        "label": "NULL::text",
        "label_join": "",
    }
    if group_by == "team":
        table, column = LABELS["team"]
        parts = {
            "overall": "grouping(r.team_id) = 1",
            "group_key": "r.team_id",
            "grouping_sets": "(), (r.team_id)",
            "label": f"l.{column}",
            "label_join": f"LEFT JOIN {table} l ON NOT agg.overall AND l.id = agg.key",
        }
    sql = FCR_ROLLUP_SQL.format(**parts, slice=condition)
    return fetch_dicts(
        sql, {**moment_params("start", f.start), **moment_params("end", f.end), **params}
    )


def kpi_first_contact_resolution(
    *, f: KpiFilter, now: datetime, group_by: str | None = None, min_n: int | None = None
) -> FcrResult:
    """FCR (one-touch, never reopened, zero-touch excluded) and the reopen rate of the cases
    resolved in the window, overall and per group, in one statement (see module doc).

    ``now`` is not used: the figures read the cases' folded history as it stands.
    """
    del now
    if group_by is not None and group_by not in GROUP_BY_CHOICES:
        raise ValueError(f"FCR cannot be grouped by {group_by!r}.")
    min_n = default_min_n() if min_n is None else min_n
    rows = _from_rollup(f, group_by)
    if rows is None:
        condition, params = slice_sql(f, alias="c", rep_column="resolved_by_id")
        key = (
            group_key_sql(group_by, stamp="resolved_at", rep_column="resolved_by_id")
            if group_by
            else ""
        )
        parts = grouped_parts(group_by=group_by, key=key)
        sql = FCR_SQL.format(**parts, slice=condition)
        rows = fetch_dicts(sql, {"start": f.start, "end": f.end, **params})
    return FcrResult(
        group_by=group_by,
        overall=_figure(rows[0], min_n=None),
        rows=[
            FcrRow(
                key=r["key"],
                label=r["label"],
                figure=_figure(r, min_n=min_n if group_by == "rep" else None),
            )
            for r in rows[1:]  # one row per group, already aggregated
        ],
    )


def _figure(r: dict[str, Any], *, min_n: int | None) -> FcrFigure:
    return FcrFigure(
        resolved=int(r["resolved"]),
        zero_touch=int(r["zero_touch"]),
        fcr=proportion(int(r["one_touch"]), int(r["touched"]), min_n=min_n),
        reopen_rate=proportion(int(r["reopened"]), int(r["resolved"]), min_n=min_n),
    )
