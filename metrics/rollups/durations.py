"""The duration rollup: first response and resolution times per team and UTC day or month.

``metrics_duration_rollup`` holds, per measure (1 = first response, 2 = resolution),
team (0 = no team; −1 = every team, so that an unfiltered figure reads one row per
period, not one per team), grain (0 = a UTC day, 1 = a UTC month) and the period's first UTC
date, the figures of the cases whose ``first_response_at`` / ``resolved_at`` falls in the
period, in the calendar basis (``first_response_seconds`` / ``resolution_seconds``):

- ``cases`` (every case of the set), ``n`` (those with a duration), ``total`` and
  ``sumsq`` (exact sums of the durations and of their squares, numeric): the mean and the
  sample standard deviation follow exactly;
- ``fixed``: the counts in the seven fixed histogram buckets of metrics.kpis.times;
- in ``metrics_duration_bucket``, one row per key and non-empty bucket: counts in
  ``BUCKETS`` log-spaced buckets — durations below ``EXACT`` seconds each have their own
  bucket, then each bucket is ``RATIO`` times as wide as the one before — from which the
  median and p90 are estimated (``percentile``) with a relative error of at most
  √RATIO − 1 < 2% (proved in ``percentile``'s docstring). Sparse rows, not an array per
  key: a statement adds to the few buckets its cases fall in, where merging a 464-element
  array per touched key made the duration triggers most of the bulk API's cost;
- resolution only: ``no_target`` (cases with a duration whose category has no
  ``target_resolution_hours``) and ``sla_met`` (duration ≤ the category's target), both
  under each category's *current* target.

Kept by statement-level triggers on ``cases_case`` (transition tables): an insert adds
its rows' facts, a delete subtracts them, an update subtracts the old and adds the new
version of the rows whose team, category, stamps or durations changed (a reassignment, a
reopen clearing ``resolved_at``, a new resolution). Each statement's facts are summed per
key and upserted in key order. A change of a category's target is applied by a trigger on
``cases_category``: it recounts ``no_target`` and ``sla_met`` for that category's
resolved cases, old target against new. The case triggers read the categories of the
rows they count ``FOR SHARE``, so a target change and a case write never pass each other
unseen: whichever comes second waits for the first to commit and then sees it.

Readers (metrics.kpis.times) take whole UTC months and days inside a window from the
rollup and the partial UTC days at its edges from the case tables (by the stamp's index);
both are exact, so the sums are. ``metrics_duration_rollup_rebuild()`` recomputes the
table from the case table.

The migration that installs this (metrics/0009) holds a copy of the SQL as it was then;
tests/metrics/test_duration_rollup.py checks the installed functions still match.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import connection, transaction

TABLE = "metrics_duration_rollup"
BUCKET_TABLE = "metrics_duration_bucket"
REBUILD = "metrics_duration_rollup_rebuild"
CASE_TABLE = "cases_case"
CATEGORY_TABLE = "cases_category"

FIRST_RESPONSE, RESOLUTION = 1, 2
NO_TEAM, EVERY_TEAM = 0, -1  # team_id of cases without a team; of the rows over every team
DAY_GRAIN, MONTH_GRAIN = 0, 1

# Log-spaced buckets: 0 … EXACT − 1 seconds exactly, then [EXACT·RATIO^k, EXACT·RATIO^(k+1)).
EXACT = 64
RATIO = 1.04
LOG_BUCKETS = 400  # the last one ends at EXACT·RATIO^400 ≈ 13 years
BUCKETS = EXACT + LOG_BUCKETS
# The fixed histogram's lower bounds (seconds), as metrics.kpis.times.HISTOGRAM_BUCKETS.
FIXED_BOUNDS = (0, 3600, 4 * 3600, 8 * 3600, 24 * 3600, 3 * 24 * 3600, 7 * 24 * 3600)

# (measure id, stamp column, duration column) — the calendar basis only.
MEASURE_COLUMNS = (
    (FIRST_RESPONSE, "first_response_at", "first_response_seconds"),
    (RESOLUTION, "resolved_at", "resolution_seconds"),
)
# The case columns the rollup reads: an update that changes none of them writes nothing.
WATCHED_COLUMNS = (
    "team_id",
    "category_id",
    "first_response_at",
    "first_response_seconds",
    "resolved_at",
    "resolution_seconds",
)
KEY = ("measure", "team_id", "grain", "day")


# --- the bucket scheme (the SQL and Python forms must agree) -------------------------------


def bucket_sql(d: str) -> str:
    """The log bucket (0-based) of a duration ``d`` (bigint seconds ≥ 0) in SQL."""
    return (
        f"CASE WHEN {d} < {EXACT} THEN {d}::int ELSE least({EXACT} + "
        f"floor(ln({d}::float8 / {EXACT}) / ln({RATIO}::float8))::int, {BUCKETS - 1}) END"
    )


def bucket_of(seconds: int) -> int:
    """The log bucket of a duration, as ``bucket_sql`` computes it."""
    if seconds < EXACT:
        return seconds
    return min(EXACT + math.floor(math.log(seconds / EXACT) / math.log(RATIO)), BUCKETS - 1)


def bucket_bounds(index: int) -> tuple[float, float]:
    """[low, high) of a log bucket in seconds (an exact bucket holds one whole second)."""
    if index < EXACT:
        return float(index), float(index + 1)
    k = index - EXACT
    return EXACT * RATIO**k, EXACT * RATIO ** (k + 1)


def bucket_value(index: int) -> float:
    """The value that stands for every duration of a bucket: the duration itself in an
    exact bucket, the geometric middle of a log bucket (at most √RATIO − 1 from any
    duration in it, relatively)."""
    if index < EXACT:
        return float(index)
    low, high = bucket_bounds(index)
    return math.sqrt(low * high)


def max_relative_error() -> float:
    """The scheme's worst-case relative error of one duration's stand-in value."""
    worst = 0.0
    for index in range(EXACT, BUCKETS):
        low, high = bucket_bounds(index)
        value = bucket_value(index)
        worst = max(worst, (value - low) / low, (high - value) / high)
    return worst


def percentile(counts: Sequence[tuple[int, int]], q: float) -> float | None:
    """``percentile_cont(q)`` estimated from log-bucket counts ``(bucket, count)``.

    percentile_cont interpolates between the k-th and (k+1)-th smallest durations
    (k = ⌊q·(n − 1)⌋, 0-based) with weight f = q·(n − 1) − k. The cumulative counts say
    exactly which bucket each of the two lies in; each is replaced by its bucket's
    stand-in value, within relative error e = √RATIO − 1 of it. The interpolation
    (1 − f)·a + f·b is a convex combination, so its error is at most
    (1 − f)·e·x_k + f·e·x_k+1 = e·(the exact percentile): the estimate is within e of
    percentile_cont, whatever the data (and exact below EXACT seconds).
    """
    ordered = sorted((b, c) for b, c in counts if c)
    n = sum(c for _, c in ordered)
    if n == 0:
        return None
    position = q * (n - 1)
    k = math.floor(position)
    fraction = position - k

    def nth(rank: int) -> float:
        seen = 0
        for index, count in ordered:
            seen += count
            if rank < seen:
                return bucket_value(index)
        return bucket_value(ordered[-1][0])

    low = nth(k)
    if fraction == 0:
        return low
    return low + fraction * (nth(k + 1) - low)


# --- the SQL that writes the table ---------------------------------------------------------


def table_sql() -> list[str]:
    return [
        f"""CREATE TABLE {TABLE} (
    measure smallint NOT NULL,
    team_id bigint NOT NULL,
    grain smallint NOT NULL,
    day date NOT NULL,
    cases bigint NOT NULL,
    n bigint NOT NULL,
    total numeric NOT NULL,
    sumsq numeric NOT NULL,
    fixed bigint[] NOT NULL,
    no_target bigint NOT NULL,
    sla_met bigint NOT NULL,
    PRIMARY KEY (measure, grain, day, team_id)
)""",
        f"""CREATE TABLE {BUCKET_TABLE} (
    measure smallint NOT NULL,
    team_id bigint NOT NULL,
    grain smallint NOT NULL,
    day date NOT NULL,
    bucket smallint NOT NULL,
    cases integer NOT NULL,
    PRIMARY KEY (measure, grain, day, team_id, bucket)
)""",
    ]


def facts_sql(relation: str, sign: int, where: str = "") -> str:
    """The facts (measure, team_id, at, d, target, s) of the case rows of ``relation``:
    one per measure whose stamp is set, with the duration, the category's target in
    seconds (resolution only; from the CTE ``cat``) and the sign ``s``."""
    extra = f" AND {where}" if where else ""
    first, second = MEASURE_COLUMNS
    return (
        f"SELECT {first[0]}::smallint, coalesce(c.team_id, 0), c.{first[1]}, c.{first[2]}, "
        f"NULL::bigint, {sign} FROM {relation} c WHERE c.{first[1]} IS NOT NULL{extra}\n"
        f"        UNION ALL SELECT {second[0]}::smallint, coalesce(c.team_id, 0), "
        f"c.{second[1]}, c.{second[2]}, k.target_resolution_hours::bigint * 3600, {sign} "
        f"FROM {relation} c JOIN cat k ON k.id = c.category_id "
        f"WHERE c.{second[1]} IS NOT NULL{extra}"
    )


def _fixed_sql() -> str:
    parts = []
    for i, low in enumerate(FIXED_BOUNDS):
        high = FIXED_BOUNDS[i + 1] if i + 1 < len(FIXED_BOUNDS) else None
        condition = f"k.d >= {low}" + (f" AND k.d < {high}" if high is not None else "")
        parts.append(f"coalesce(sum(k.s) FILTER (WHERE {condition}), 0)")
    return "ARRAY[" + ", ".join(parts) + "]::bigint[]"


def _merge(column: str) -> str:
    return (
        f"{column} = (SELECT array_agg(u.a + u.b ORDER BY u.i) FROM "
        f"unnest(t.{column}, excluded.{column}) WITH ORDINALITY AS u(a, b, i))"
    )


def apply_sql(cat: str, facts: str) -> str:
    """Sum ``facts`` (rows of facts_sql's columns) per key, for the day and the month of
    each, and add the sums to the table. ``cat`` selects the categories (id, target)."""
    key = ", ".join(f"k.{c}" for c in KEY)
    return f"""WITH cat AS MATERIALIZED ({cat}),
facts AS MATERIALIZED (
        {facts}
),
keyed AS (
    SELECT f.measure, w.team_id, g.grain, g.day, f.d, f.target, f.s
      FROM facts AS f(measure, team_id, at, d, target, s)
     CROSS JOIN LATERAL (VALUES ({DAY_GRAIN}::smallint, (f.at AT TIME ZONE 'UTC')::date),
            ({MONTH_GRAIN}::smallint, date_trunc('month', f.at AT TIME ZONE 'UTC')::date))
            AS g(grain, day)
     CROSS JOIN LATERAL (VALUES (f.team_id), ({EVERY_TEAM}::bigint)) AS w(team_id)
),
totals AS (
    SELECT {key},
           sum(k.s) AS cases,
           coalesce(sum(k.s) FILTER (WHERE k.d IS NOT NULL), 0) AS n,
           coalesce(sum(k.s * k.d::numeric), 0) AS total,
           coalesce(sum(k.s * k.d::numeric * k.d), 0) AS sumsq,
           {_fixed_sql()} AS fixed,
           coalesce(sum(k.s) FILTER (WHERE k.d IS NOT NULL AND k.measure = {RESOLUTION}
                                       AND k.target IS NULL), 0) AS no_target,
           coalesce(sum(k.s) FILTER (WHERE k.d <= k.target), 0) AS sla_met
      FROM keyed k
     GROUP BY {key}
),
buckets AS (
    SELECT {key}, {bucket_sql("k.d")} AS b, sum(k.s)::int AS v
      FROM keyed k
     WHERE k.d IS NOT NULL
     GROUP BY {key}, b
    HAVING sum(k.s) <> 0
),
bucketed AS (
    INSERT INTO {BUCKET_TABLE} AS t ({", ".join(KEY)}, bucket, cases)
    SELECT {key}, k.b, k.v FROM buckets k
     ORDER BY k.measure, k.grain, k.day, k.team_id, k.b
    ON CONFLICT (measure, grain, day, team_id, bucket) DO UPDATE SET
        cases = t.cases + excluded.cases
)
INSERT INTO {TABLE} AS t ({", ".join(KEY)}, cases, n, total, sumsq, fixed, no_target, sla_met)
SELECT {key}, k.cases, k.n, k.total, k.sumsq, k.fixed, k.no_target, k.sla_met
  FROM totals k
 ORDER BY k.measure, k.grain, k.day, k.team_id
ON CONFLICT (measure, grain, day, team_id) DO UPDATE SET
    cases = t.cases + excluded.cases,
    n = t.n + excluded.n,
    total = t.total + excluded.total,
    sumsq = t.sumsq + excluded.sumsq,
    {_merge("fixed")},
    no_target = t.no_target + excluded.no_target,
    sla_met = t.sla_met + excluded.sla_met"""


def locked_categories(relations: Sequence[str]) -> str:
    """The categories of the resolved rows of ``relations``, read FOR SHARE (see module)."""
    ids = " UNION ".join(
        f"SELECT category_id FROM {r} WHERE resolved_at IS NOT NULL" for r in relations
    )
    return (
        f"SELECT k.id, k.target_resolution_hours FROM {CATEGORY_TABLE} k "
        f"WHERE k.id IN ({ids}) ORDER BY k.id FOR SHARE"
    )


CHANGED = (
    "SELECT o.id FROM old_rows o JOIN new_rows n ON n.id = o.id WHERE ("
    + ", ".join(f"o.{c}" for c in WATCHED_COLUMNS)
    + ") IS DISTINCT FROM ("
    + ", ".join(f"n.{c}" for c in WATCHED_COLUMNS)
    + ")"
)


def case_trigger_statement(event: str) -> str:
    if event == "insert":
        return apply_sql(locked_categories(["new_rows"]), facts_sql("new_rows", +1))
    if event == "delete":
        return apply_sql(locked_categories(["old_rows"]), facts_sql("old_rows", -1))
    if event == "update":
        moved = f"c.id IN ({CHANGED})"
        old, new = facts_sql("old_rows", -1, moved), facts_sql("new_rows", +1, moved)
        facts = f"{old}\n        UNION ALL {new}"
        return apply_sql(locked_categories(["old_rows", "new_rows"]), facts)
    return f"DELETE FROM {TABLE};\n    DELETE FROM {BUCKET_TABLE}"  # truncate


def category_trigger_statement() -> str:
    """A target change: recount ``no_target`` and ``sla_met`` of the category's resolved
    cases, per key, new target against old."""
    return f"""UPDATE {TABLE} AS t
       SET no_target = t.no_target + x.no_target, sla_met = t.sla_met + x.sla_met
      FROM (
        SELECT {RESOLUTION}::smallint AS measure, w.team_id, g.grain, g.day,
               sum((ch.new_t IS NULL)::int - (ch.old_t IS NULL)::int) AS no_target,
               sum(coalesce((c.resolution_seconds <= ch.new_t)::int, 0)
                   - coalesce((c.resolution_seconds <= ch.old_t)::int, 0)) AS sla_met
          FROM (SELECT o.id, o.target_resolution_hours::bigint * 3600 AS old_t,
                       n.target_resolution_hours::bigint * 3600 AS new_t
                  FROM old_rows o JOIN new_rows n ON n.id = o.id
                 WHERE o.target_resolution_hours IS DISTINCT FROM n.target_resolution_hours
               ) ch
          JOIN {CASE_TABLE} c ON c.category_id = ch.id
         CROSS JOIN LATERAL (VALUES
               ({DAY_GRAIN}::smallint, (c.resolved_at AT TIME ZONE 'UTC')::date),
               ({MONTH_GRAIN}::smallint,
                date_trunc('month', c.resolved_at AT TIME ZONE 'UTC')::date)) AS g(grain, day)
         CROSS JOIN LATERAL (VALUES (coalesce(c.team_id, 0)), ({EVERY_TEAM}::bigint))
               AS w(team_id)
         WHERE c.resolved_at IS NOT NULL AND c.resolution_seconds IS NOT NULL
         GROUP BY 1, 2, 3, 4
      ) x
     WHERE (t.measure, t.grain, t.day, t.team_id) = (x.measure, x.grain, x.day, x.team_id)
       AND (x.no_target <> 0 OR x.sla_met <> 0)"""


def rebuild_statement() -> str:
    return apply_sql(
        f"SELECT k.id, k.target_resolution_hours FROM {CATEGORY_TABLE} k",
        facts_sql(CASE_TABLE, +1),
    )


def _function(name: str, body: str, returns: str = "trigger") -> str:
    tail = "RETURN NULL;\n" if returns == "trigger" else ""
    return (
        f"CREATE OR REPLACE FUNCTION {name}() RETURNS {returns} LANGUAGE plpgsql AS $body$\n"
        f"BEGIN\n    {body};\n    {tail}END\n$body$"
    )


CASE_EVENTS = ("insert", "update", "delete", "truncate")
TRANSITIONS = {
    "insert": "REFERENCING NEW TABLE AS new_rows ",
    "update": "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows ",
    "delete": "REFERENCING OLD TABLE AS old_rows ",
    "truncate": "",
}


def function_sql() -> dict[str, str]:
    """Every function this module installs, by name."""
    functions = {
        f"metrics_durations_case_{event}": _function(
            f"metrics_durations_case_{event}", case_trigger_statement(event)
        )
        for event in CASE_EVENTS
    }
    functions["metrics_durations_category_update"] = _function(
        "metrics_durations_category_update", category_trigger_statement()
    )
    functions[REBUILD] = _function(
        REBUILD,
        f"DELETE FROM {TABLE};\n    DELETE FROM {BUCKET_TABLE};\n    {rebuild_statement()}",
        returns="void",
    )
    return functions


def triggers_sql() -> list[str]:
    statements = [
        f"CREATE TRIGGER metrics_durations_{event} AFTER {event.upper()} ON {CASE_TABLE} "
        f"{TRANSITIONS[event]}FOR EACH STATEMENT EXECUTE FUNCTION "
        f"metrics_durations_case_{event}()"
        for event in CASE_EVENTS
    ]
    statements.append(
        f"CREATE TRIGGER metrics_durations_update AFTER UPDATE ON {CATEGORY_TABLE} "
        f"{TRANSITIONS['update']}FOR EACH STATEMENT EXECUTE FUNCTION "
        "metrics_durations_category_update()"
    )
    return statements


def install_sql() -> list[str]:
    """The table, the functions, the triggers, and a first rebuild."""
    return [
        *table_sql(),
        *function_sql().values(),
        *triggers_sql(),
        f"SELECT {REBUILD}()",
    ]


def uninstall_sql() -> list[str]:
    statements = [
        f"DROP TRIGGER IF EXISTS metrics_durations_{e} ON {CASE_TABLE}" for e in CASE_EVENTS
    ]
    statements.append(f"DROP TRIGGER IF EXISTS metrics_durations_update ON {CATEGORY_TABLE}")
    statements += [f"DROP FUNCTION IF EXISTS {name}()" for name in function_sql()]
    statements.append(f"DROP TABLE IF EXISTS {TABLE}, {BUCKET_TABLE}")
    return statements


def function_bodies() -> dict[str, str]:
    """Each function's body (what PostgreSQL stores as ``prosrc``)."""
    return {name: sql.split("$body$")[1] for name, sql in function_sql().items()}


# --- rebuild and check -----------------------------------------------------------------------


def _lock(cursor) -> None:  # type: ignore[no-untyped-def]
    # EXCLUSIVE blocks the triggers' writes, not readers (as metrics.rollups.services).
    cursor.execute(f"LOCK TABLE {TABLE}, {BUCKET_TABLE} IN EXCLUSIVE MODE")


@transaction.atomic
def durations_rebuild() -> int:
    """Recompute every row from the case table in one transaction; the number of rows."""
    with connection.cursor() as cursor:
        _lock(cursor)
        cursor.execute(f"SELECT {REBUILD}()")
        cursor.execute(f"SELECT count(*) FROM {TABLE}")
        return int(cursor.fetchone()[0])


NONZERO = {
    TABLE: (
        f"SELECT {', '.join(KEY)}, cases, n, total, sumsq, fixed, no_target, sla_met "
        f"FROM {TABLE} WHERE cases <> 0 OR n <> 0 OR total <> 0 OR sumsq <> 0 "
        "OR no_target <> 0 OR sla_met <> 0 OR fixed <> array_fill(0::bigint, ARRAY[7])"
    ),
    BUCKET_TABLE: f"SELECT {', '.join(KEY)}, bucket, cases FROM {BUCKET_TABLE} WHERE cases <> 0",
}


@dataclass(frozen=True)
class DurationsDifference:
    stale: int  # rows only in the tables as the triggers kept them
    missing: int  # rows only in a rebuild


def durations_check() -> DurationsDifference | None:
    """Compare both tables with a fresh rebuild (rolled back); None when they are equal
    (all-zero rows aside)."""
    stale = missing = 0
    with transaction.atomic(), connection.cursor() as cursor:
        _lock(cursor)
        for table, rows in NONZERO.items():
            cursor.execute(f"CREATE TEMPORARY TABLE kept_{table} ON COMMIT DROP AS {rows}")
        sid = transaction.savepoint()
        cursor.execute(f"SELECT {REBUILD}()")
        for table, rows in NONZERO.items():
            cursor.execute(
                f"SELECT (SELECT count(*) FROM (SELECT * FROM kept_{table} EXCEPT ALL {rows}) s), "
                f"(SELECT count(*) FROM ({rows} EXCEPT ALL SELECT * FROM kept_{table}) m)"
            )
            table_stale, table_missing = cursor.fetchone()
            stale, missing = stale + table_stale, missing + table_missing
        transaction.savepoint_rollback(sid)
        for table in NONZERO:
            cursor.execute(f"DROP TABLE kept_{table}")
    return DurationsDifference(stale, missing) if stale or missing else None
