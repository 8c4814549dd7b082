"""Prioritized queue: the open cases of a rep, a team or everyone, most urgent first.

Definition (docs/metrics.md#prioritized-queue): every open case (status new, open or
pending) gets a priority score of 0–100, the sum of four capped, linear components:

- ``priority``: the case's priority — urgent 30, high 20, normal 10, low 0 points;
- ``waiting``: hours since the customer last waited on us — since their last message
  (``last_customer_activity_at``), or since the case was opened when they have not written
  since — 35 points at 48 h or more. A *pending* case waits on the customer, not on us: it
  scores no waiting points (it ranks lower until the customer answers);
- ``age``: days since the case was opened, 15 points at 14 days or more;
- ``effort``: work so far, agent responses + 2 × reopens, 20 points at 8 or more (a case
  that keeps coming back or needs many replies is hurting the customer).

Times are calendar time at ``now``. Ties are broken by the longer wait, then the case id.
The queue holds no requester personal data: no requester name or e-mail, and no subject.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from metrics.sql import fetch_dicts, slice_sql
from metrics.types import KpiFilter

DEFINITION_VERSION = 1

PRIORITY_POINTS = {"urgent": 30, "high": 20, "normal": 10, "low": 0}
WAITING_WEIGHT, WAITING_FULL_HOURS = 35, 48
AGE_WEIGHT, AGE_FULL_DAYS = 15, 14
EFFORT_WEIGHT, EFFORT_FULL = 20, 8
REOPEN_EFFORT = 2  # a reopen counts as this many responses
assert max(PRIORITY_POINTS.values()) + WAITING_WEIGHT + AGE_WEIGHT + EFFORT_WEIGHT == 100


@dataclass(frozen=True)
class QueueComponent:
    raw: float | str
    unit: str
    points: float


@dataclass(frozen=True)
class QueueCase:
    case_id: int
    source: str
    external_id: str
    status: str
    priority: str
    channel: str
    category_id: int
    team_id: int | None
    assignee_id: int | None
    account_id: int | None
    opened_at: datetime
    waiting_since: datetime
    agent_responses: int
    reopens: int
    score: float
    components: dict[str, QueueComponent]


@dataclass(frozen=True)
class QueuePage:
    total: int
    rows: list[QueueCase]


QUEUE_SQL = """
WITH open_cases AS NOT MATERIALIZED (
    -- Only columns the partial index on open cases holds (``case_open_now`` includes
    -- them), so the ranking is an index-only scan that never visits the case rows. Not
    -- materialized: the ranking and the count each scan the index (a CTE used twice would
    -- otherwise be stored in full first).
    SELECT c.id, c.status, c.priority, c.opened_at, c.agent_response_count, c.reopened_count,
           coalesce(c.last_customer_activity_at, c.opened_at) AS waiting_since
      FROM cases_case c
     WHERE c.status IN ('new', 'open', 'pending') AND c.opened_at <= %(now)s AND {slice}
),
scored AS (
    SELECT o.id, o.waiting_since, w.waiting_hours, w.age_hours,
           o.agent_response_count + {reopen_effort} * o.reopened_count AS effort,
           CASE o.priority {priority_cases} ELSE 0 END::float8 AS priority_points,
           CASE WHEN o.status = 'pending' THEN 0::float8
                ELSE {waiting_weight} * least(1, w.waiting_hours / {waiting_full})
           END AS waiting_points,
           {age_weight} * least(1, w.age_hours / (24.0 * {age_full})) AS age_points,
           {effort_weight} * least(1, (o.agent_response_count + {reopen_effort} * o.reopened_count)
                                      / {effort_full}::float8) AS effort_points
      FROM open_cases o
     CROSS JOIN LATERAL (
           -- date_part, not extract: float8 arithmetic rather than numeric (about 2× faster
           -- over every open case); the hours are float8 either way.
           SELECT greatest(0, date_part('epoch', %(now)s::timestamptz - o.waiting_since) / 3600)
                    AS waiting_hours,
                  greatest(0, date_part('epoch', %(now)s::timestamptz - o.opened_at) / 3600)
                    AS age_hours) w
),
page AS (
    -- ORDER BY … LIMIT alone lets PostgreSQL keep only the top rows (a top-N heap sort)
    -- instead of sorting every open case; the total is a separate count below.
    SELECT s.*, s.priority_points + s.waiting_points + s.age_points + s.effort_points AS score
      FROM scored s
     ORDER BY score DESC, s.waiting_since, s.id
     LIMIT %(limit)s OFFSET %(offset)s
)
SELECT p.*, c.source, c.external_id, c.status, c.priority, c.channel, c.category_id,
       c.team_id, c.assignee_id, c.account_id, c.opened_at, c.agent_response_count,
       c.reopened_count, (SELECT count(*) FROM open_cases) AS total
  FROM page p
  JOIN cases_case c ON c.id = p.id
 ORDER BY p.score DESC, p.waiting_since, p.id
"""


def kpi_queue(*, f: KpiFilter, now: datetime, limit: int = 50, offset: int = 0) -> QueuePage:
    """The open cases of the filter's slice ranked by priority score, one page of them.

    One SQL statement over the partial index of open cases (``case_open_now``); the
    filter's period is not used — the queue is always "open now".
    """
    condition, params = slice_sql(f, alias="c")
    sql = QUEUE_SQL.format(
        slice=condition,
        reopen_effort=REOPEN_EFFORT,
        priority_cases=" ".join(
            f"WHEN '{name}' THEN {points}" for name, points in PRIORITY_POINTS.items()
        ),
        waiting_weight=WAITING_WEIGHT,
        waiting_full=WAITING_FULL_HOURS,
        age_weight=AGE_WEIGHT,
        age_full=AGE_FULL_DAYS,
        effort_weight=EFFORT_WEIGHT,
        effort_full=EFFORT_FULL,
    )
    rows = fetch_dicts(sql, {**params, "now": now, "limit": limit, "offset": offset})
    total = int(rows[0]["total"]) if rows else _count_beyond_last_page(f, now, offset)
    return QueuePage(total=total, rows=[_row(r) for r in rows])


def _count_beyond_last_page(f: KpiFilter, now: datetime, offset: int) -> int:
    """An empty page: zero cases, or an offset past the end (then say how many there are)."""
    if offset == 0:
        return 0
    condition, params = slice_sql(f, alias="c")
    (row,) = fetch_dicts(
        "SELECT count(*) AS n FROM cases_case c WHERE c.status IN ('new', 'open', 'pending') "
        f"AND c.opened_at <= %(now)s AND {condition}",
        {**params, "now": now},
    )
    return int(row["n"])


def _row(r: dict) -> QueueCase:
    return QueueCase(
        case_id=r["id"],
        source=r["source"],
        external_id=r["external_id"],
        status=r["status"],
        priority=r["priority"],
        channel=r["channel"],
        category_id=r["category_id"],
        team_id=r["team_id"],
        assignee_id=r["assignee_id"],
        account_id=r["account_id"],
        opened_at=r["opened_at"],
        waiting_since=r["waiting_since"],
        agent_responses=int(r["agent_response_count"]),
        reopens=int(r["reopened_count"]),
        score=round(float(r["score"]), 2),
        components={
            "priority": QueueComponent(
                r["priority"], "priority", round(float(r["priority_points"]), 2)
            ),
            "waiting": QueueComponent(
                round(float(r["waiting_hours"]), 2), "hours", round(float(r["waiting_points"]), 2)
            ),
            "age": QueueComponent(
                round(float(r["age_hours"]) / 24, 2), "days", round(float(r["age_points"]), 2)
            ),
            "effort": QueueComponent(
                int(r["effort"]), "responses + 2 × reopens", round(float(r["effort_points"]), 2)
            ),
        },
    )
