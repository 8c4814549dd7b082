"""The CSAT rollup: survey responses and resolutions per rep × team × UTC day, kept exact by
triggers, and the facts behind it.

Two tables (plus a pending table, as in metrics.rollups.ddl):

- ``metrics_csat_fact``: one row per survey response and one per ``resolved`` CaseEvent,
  as the CSAT KPI (metrics.kpis.csat) attributes it — the moment (``responded_at`` /
  ``occurred_at``), the rep (the response's ``representative``; the resolution's actor,
  else the case's assignee at that moment), the case's *current* team, the answers, and
  whether the resolution has a response (matched by case and resolution number). The
  window's partial UTC days are read from here, exactly, in any time zone.
- ``metrics_rollup_csat_day``: the facts summed per (team, UTC day, rep): counts, sums and
  sums of squares, from which means and standard deviations are exact. The window's whole
  UTC days (each inside one local month) are read from here.

Everything a case's facts depend on is on the case's own rows: its team, ``resolved_at``,
``resolved_by`` and reopen count; its ``resolved`` and ``assigned`` events; its survey
responses. So every statement-level trigger does the same thing for the cases its
statement touched (``metrics_csat_refresh(ids)``): under a row lock on each case (two
writers of one case take turns, and the second sees the first's commit), delete the
case's stored facts, insert them recomputed from the case tables, and append the
difference per (team, day, rep) to ``metrics_rollup_csat_pending``. A later response that
flips a resolution's "responded", a reassignment to another team, a reopen that renumbers
resolutions, a backdated assignment that changes who resolved: all are such recomputes.
As in metrics.rollups.ddl, one writer at a time (a transaction-scoped advisory try-lock)
folds the pending rows into the day table; readers read ``metrics_rollup_csat_day_live``
(rows plus pending), so a figure is exact whether or not its facts are folded.

As with the other rollups, a writer inserts a case before its events and responses.
``metrics_csat_rebuild()`` recomputes everything. The migration that installs this holds a
copy of the SQL as it was then; a test checks the database's functions against this module.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connection, transaction

FACT = "metrics_csat_fact"
DAY = "metrics_rollup_csat_day"
PENDING = "metrics_rollup_csat_pending"
LIVE = f"{DAY}_live"
REFRESH = "metrics_csat_refresh"
FOLD = "metrics_csat_fold"
REBUILD = "metrics_csat_rebuild"
# The advisory lock of the one writer that folds (nothing else in the database uses it).
FOLD_LOCK = 7_236_101_956

# The summed measures, in column order.
MEASURES = (
    "responses",
    "satisfied",
    "csat_sum",
    "csat_sq",
    "nps_n",
    "promoters",
    "detractors",
    "effort_n",
    "effort_sum",
    "effort_sq",
    "resolutions",
    "responded",
)

# Each measure of one fact row ``f`` of metrics_csat_fact (csat, nps, effort are NULL on a
# resolution; responded is NULL on a response).
FACT_MEASURES = {
    "responses": "f.is_response::int",
    "satisfied": "(f.is_response AND f.csat >= 4)::int",
    "csat_sum": "coalesce(f.csat, 0)",
    "csat_sq": "coalesce(f.csat * f.csat, 0)",
    "nps_n": "(f.nps IS NOT NULL)::int",
    "promoters": "coalesce(f.nps >= 9, FALSE)::int",
    "detractors": "coalesce(f.nps <= 6, FALSE)::int",
    "effort_n": "(f.effort IS NOT NULL)::int",
    "effort_sum": "coalesce(f.effort, 0)",
    "effort_sq": "coalesce(f.effort * f.effort, 0)",
    "resolutions": "(NOT f.is_response)::int",
    "responded": "coalesce(f.responded, FALSE)::int",
}

# The rep of a ``resolved`` event ``e`` without an actor, on its case ``rc``: a copy of
# metrics.kpis.load.UNATTRIBUTED_RESOLVER_SQL (a test checks they are the same; the copy
# keeps this module's SQL, and the migration's, fixed when that module changes).
UNATTRIBUTED_RESOLVER_SQL = """CASE WHEN rc.resolved_at = e.occurred_at THEN rc.resolved_by_id
         ELSE (SELECT a.assignee_id FROM cases_caseevent a
                WHERE a.case_id = e.case_id AND a.event_type = 'assigned'
                  AND (a.occurred_at, a.id) < (e.occurred_at, e.id)
                ORDER BY a.occurred_at DESC, a.id DESC LIMIT 1)
    END"""

FACT_COLUMNS = "case_id, at, rep_id, team_id, is_response, csat, nps, effort, responded"


def facts_sql(cases: str) -> str:
    """The facts of the cases matching ``cases`` (a condition on a case id expression
    ``{id}``), computed from the case tables as metrics.kpis.csat's raw SQL computes them."""
    return f"""SELECT e.case_id, e.occurred_at, coalesce(e.actor_id, {UNATTRIBUTED_RESOLVER_SQL}),
           rc.team_id, FALSE, NULL::smallint, NULL::smallint, NULL::smallint,
           EXISTS (SELECT 1 FROM cases_surveyresponse s
                    WHERE s.case_id = e.case_id AND s.resolution_number =
                          CASE WHEN rc.reopened_count = 0 THEN 1
                               ELSE (SELECT count(*) FROM cases_caseevent p
                                      WHERE p.case_id = e.case_id AND p.event_type = 'resolved'
                                        AND p.occurred_at <= e.occurred_at) END)
      FROM cases_caseevent e JOIN cases_case rc ON rc.id = e.case_id
     WHERE e.event_type = 'resolved' AND {cases.format(id="e.case_id")}
    UNION ALL
    SELECT s.case_id, s.responded_at, s.representative_id, c.team_id, TRUE,
           s.csat::smallint, s.nps::smallint, s.effort::smallint, NULL::boolean
      FROM cases_surveyresponse s JOIN cases_case c ON c.id = s.case_id
     WHERE {cases.format(id="s.case_id")}"""


def day_sums_sql(source: str, sign: str = "1") -> str:
    """Rows of ``source`` (fact rows ``f``, with a column ``d`` when ``sign`` is ``f.d``)
    summed per (team, UTC day, rep), all-zero sums left out."""
    sums = ", ".join(f"sum({sign} * {FACT_MEASURES[m]}) AS {m}" for m in MEASURES)
    nonzero = " OR ".join(f"sum({sign} * {FACT_MEASURES[m]}) <> 0" for m in MEASURES)
    return (
        f"SELECT f.team_id, (f.at AT TIME ZONE 'UTC')::date AS day, f.rep_id, {sums} "
        f"FROM {source} f GROUP BY 1, 2, 3 HAVING {nonzero}"
    )


COLUMNS = f"team_id, day, rep_id, {', '.join(MEASURES)}"


def tables_sql() -> list[str]:
    measures = ",\n    ".join(f"{m} bigint NOT NULL DEFAULT 0" for m in MEASURES)
    return [
        f"""CREATE TABLE {FACT} (
    case_id bigint NOT NULL,
    at timestamptz NOT NULL,
    rep_id bigint,
    team_id bigint,
    is_response boolean NOT NULL,
    csat smallint,
    nps smallint,
    effort smallint,
    responded boolean
)""",
        f"CREATE INDEX {FACT}_case ON {FACT} (case_id)",
        # The partial days of a window: an index-only range scan.
        f"CREATE INDEX {FACT}_at ON {FACT} (at) INCLUDE "
        "(team_id, rep_id, is_response, csat, nps, effort, responded)",
        f"""CREATE TABLE {DAY} (
    team_id bigint,
    day date NOT NULL,
    rep_id bigint,
    {measures}
)""",
        f"CREATE UNIQUE INDEX {DAY}_key ON {DAY} (team_id, day, rep_id) NULLS NOT DISTINCT",
        f"CREATE INDEX {DAY}_day ON {DAY} (day)",
        f"""CREATE TABLE {PENDING} (
    team_id bigint,
    day date NOT NULL,
    rep_id bigint,
    {measures}
)""",
    ]


def drop_tables_sql() -> list[str]:
    return [f"DROP TABLE IF EXISTS {t}" for t in (PENDING, DAY, FACT)]


def view_sql() -> str:
    return (
        f"CREATE VIEW {LIVE} AS SELECT {COLUMNS} FROM {DAY} "
        f"UNION ALL SELECT {COLUMNS} FROM {PENDING}"
    )


def fold_function_sql() -> str:
    """``metrics_csat_fold()``: move the pending sums this transaction sees into the day
    table, in key order (the caller holds ``FOLD_LOCK``)."""
    sums = ", ".join(f"sum(p.{m})" for m in MEASURES)
    updates = ", ".join(f"{m} = t.{m} + excluded.{m}" for m in MEASURES)
    return f"""CREATE OR REPLACE FUNCTION {FOLD}() RETURNS void LANGUAGE sql AS $body$
    WITH folded AS (DELETE FROM {PENDING} RETURNING *)
    INSERT INTO {DAY} AS t ({COLUMNS})
    SELECT p.team_id, p.day, p.rep_id, {sums} FROM folded p
     GROUP BY p.team_id, p.day, p.rep_id
     ORDER BY p.team_id, p.day, p.rep_id
    ON CONFLICT (team_id, day, rep_id) DO UPDATE SET {updates}
$body$"""


def refresh_function_sql() -> str:
    """``metrics_csat_refresh(ids)``: recompute the facts of the cases ``ids`` and append
    the difference to the pending sums (see the module docstring)."""
    old = "-1 AS d, " + ", ".join(f"o.{column}" for column in FACT_COLUMNS.split(", "))
    header = f"CREATE OR REPLACE FUNCTION {REFRESH}(ids bigint[]) RETURNS void LANGUAGE plpgsql"
    return f"""{header} AS $body$
BEGIN
    IF ids IS NULL OR cardinality(ids) = 0 THEN
        RETURN;
    END IF;
    -- Row locks in id order (two writers of several cases cannot wait for each other);
    -- not advisory locks, which fill the shared lock table on a large import.
    PERFORM 1 FROM cases_case WHERE id = ANY(ids) ORDER BY id FOR NO KEY UPDATE;
    -- A new statement, so a new snapshot: it sees what a writer we waited for committed.
    WITH old AS (
        DELETE FROM {FACT} o WHERE o.case_id = ANY(ids) RETURNING {old}
    ),
    new AS (
        INSERT INTO {FACT} ({FACT_COLUMNS})
        {facts_sql("{id} = ANY(ids)")}
        RETURNING 1 AS d, {FACT_COLUMNS}
    ),
    changes AS (SELECT * FROM old UNION ALL SELECT * FROM new)
    INSERT INTO {PENDING} ({COLUMNS})
    {day_sums_sql("changes", "f.d")};
    IF FOUND AND pg_try_advisory_xact_lock({FOLD_LOCK}) THEN
        PERFORM {FOLD}();
    END IF;
END
$body$"""


def rebuild_function_sql() -> str:
    """``metrics_csat_rebuild()``: every fact and day row again from the case tables."""
    return f"""CREATE OR REPLACE FUNCTION {REBUILD}() RETURNS void LANGUAGE plpgsql AS $body$
BEGIN
    DELETE FROM {PENDING};
    DELETE FROM {DAY};
    DELETE FROM {FACT};
    INSERT INTO {FACT} ({FACT_COLUMNS})
    {facts_sql("TRUE")};
    INSERT INTO {DAY} ({COLUMNS})
    SELECT * FROM ({day_sums_sql(FACT)}) s ORDER BY team_id, day, rep_id;
END
$body$"""


# The trigger sources: (relation, short name, the case-id expression of a row ``r``, and a
# condition on an (old ``o``, new ``n``) pair of an update for the rows that matter).
CASE_COLUMNS = ("team_id", "resolved_at", "resolved_by_id", "reopened_count")
SOURCES = {
    "case": ("cases_case", "r.id"),
    "event": ("cases_caseevent", "r.case_id"),
    "survey": ("cases_surveyresponse", "r.case_id"),
}
TRIGGER_EVENTS = ("insert", "update", "delete")


def _ids(source: str, relation: str) -> str:
    _, expression = SOURCES[source]
    where = " WHERE r.event_type IN ('resolved', 'assigned')" if source == "event" else ""
    return f"SELECT {expression} FROM {relation} r{where}"


def trigger_function_body(source: str, event: str) -> str:
    if event == "truncate":
        if source == "case":
            # DELETE, not TRUNCATE (a flush may truncate the case tables in one statement).
            statement = f"DELETE FROM {PENDING};\n    DELETE FROM {DAY};\n    DELETE FROM {FACT}"
        else:
            statement = f"PERFORM {REBUILD}()"
        return f"\nBEGIN\n    {statement};\n    RETURN NULL;\nEND\n"
    if source == "case" and event == "update":
        changed = " OR ".join(f"o.{c} IS DISTINCT FROM n.{c}" for c in CASE_COLUMNS)
        ids = f"SELECT n.id FROM old_rows o JOIN new_rows n ON n.id = o.id WHERE {changed}"
    elif source == "case" and event == "insert":
        raise ValueError("a new case has no facts yet")
    elif event == "update":
        ids = f"{_ids(source, 'old_rows')} UNION {_ids(source, 'new_rows')}"
    else:
        ids = _ids(source, "new_rows" if event == "insert" else "old_rows")
    return f"\nBEGIN\n    PERFORM {REFRESH}(ARRAY({ids}));\n    RETURN NULL;\nEND\n"


def _triggers() -> list[tuple[str, str]]:
    """(source, event) of every trigger: a new case has no facts (its events and responses
    come after it), so the case table has no insert trigger."""
    return [
        (source, event)
        for source in SOURCES
        for event in (*TRIGGER_EVENTS, "truncate")
        if (source, event) != ("case", "insert")
    ]


def function_name(source: str, event: str) -> str:
    return f"metrics_csat_{source}_{event}"


def trigger_functions_sql() -> list[str]:
    return [
        f"CREATE OR REPLACE FUNCTION {function_name(source, event)}() RETURNS trigger "
        f"LANGUAGE plpgsql AS $body${trigger_function_body(source, event)}$body$"
        for source, event in _triggers()
    ]


def triggers_sql() -> list[str]:
    tables = {
        "insert": "REFERENCING NEW TABLE AS new_rows ",
        "update": "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows ",
        "delete": "REFERENCING OLD TABLE AS old_rows ",
        "truncate": "",
    }
    return [
        f"CREATE TRIGGER metrics_csat_{event} AFTER {event.upper()} ON {SOURCES[source][0]} "
        f"{tables[event]}FOR EACH STATEMENT EXECUTE FUNCTION {function_name(source, event)}()"
        for source, event in _triggers()
    ]


def install_sql() -> list[str]:
    """The functions, the view and the triggers (after dropping any earlier version)."""
    return [
        *uninstall_sql(),
        view_sql(),
        fold_function_sql(),
        refresh_function_sql(),
        rebuild_function_sql(),
        *trigger_functions_sql(),
        *triggers_sql(),
    ]


def uninstall_sql() -> list[str]:
    statements = [
        f"DROP TRIGGER IF EXISTS metrics_csat_{event} ON {SOURCES[source][0]}"
        for source, event in _triggers()
    ]
    statements += [
        f"DROP FUNCTION IF EXISTS {function_name(source, event)}()" for source, event in _triggers()
    ]
    statements += [
        f"DROP VIEW IF EXISTS {LIVE}",
        f"DROP FUNCTION IF EXISTS {REBUILD}()",
        f"DROP FUNCTION IF EXISTS {REFRESH}(bigint[])",
        f"DROP FUNCTION IF EXISTS {FOLD}()",
    ]
    return statements


def function_bodies() -> dict[str, str]:
    """Each function's body (what PostgreSQL stores as ``prosrc``)."""
    bodies = {}
    functions = (fold_function_sql(), refresh_function_sql(), rebuild_function_sql())
    for statement in (*functions, *trigger_functions_sql()):
        name = statement.split("FUNCTION ", 1)[1].split("(", 1)[0]
        bodies[name] = statement.split("$body$")[1]
    return bodies


# --- services -----------------------------------------------------------------------------


def _lock(cursor) -> None:  # type: ignore[no-untyped-def]
    # As metrics.rollups.services: writers wait at their trigger, readers do not.
    cursor.execute(f"LOCK TABLE {PENDING}, {DAY}, {FACT} IN EXCLUSIVE MODE")


@transaction.atomic
def csat_rollup_rebuild() -> dict[str, int]:
    """Recompute the CSAT facts and day rows from the case tables, in one transaction.

    Idempotent. Writers of cases, events and responses wait for it; readers do not.
    Returns the number of rows per table."""
    with connection.cursor() as cursor:
        _lock(cursor)
        cursor.execute(f"SELECT {REBUILD}()")
        counts = {}
        for table in (FACT, DAY):
            cursor.execute(f"SELECT count(*) FROM {table}")
            counts[table] = cursor.fetchone()[0]
    return counts


@dataclass(frozen=True)
class CsatRollupDifference:
    """Rows only in the table as the triggers kept it (``stale``) or only in a rebuild
    (``missing``); all-zero day rows ignored."""

    table: str
    stale: int
    missing: int


def csat_rollup_check() -> list[CsatRollupDifference]:
    """Compare the facts and the day sums with a fresh rebuild, and leave them as they were
    (the rebuild runs in a savepoint that is rolled back). Empty means exact."""
    nonzero = " OR ".join(f"{m} <> 0" for m in MEASURES)
    relations = {
        FACT: f"SELECT {FACT_COLUMNS} FROM {FACT}",
        DAY: f"SELECT {COLUMNS} FROM {DAY} WHERE {nonzero}",
    }
    differences = []
    with transaction.atomic(), connection.cursor() as cursor:
        _lock(cursor)
        cursor.execute(f"SELECT {FOLD}()")
        for table, rows in relations.items():
            cursor.execute(f"CREATE TEMPORARY TABLE kept_{table} ON COMMIT DROP AS {rows}")
        sid = transaction.savepoint()
        cursor.execute(f"SELECT {REBUILD}()")
        for table, rows in relations.items():
            kept = f"kept_{table}"
            cursor.execute(
                f"SELECT (SELECT count(*) FROM (SELECT * FROM {kept} EXCEPT ALL {rows}) s), "
                f"(SELECT count(*) FROM ({rows} EXCEPT ALL SELECT * FROM {kept}) m)"
            )
            stale, missing = cursor.fetchone()
            if stale or missing:
                differences.append(CsatRollupDifference(table, stale, missing))
        transaction.savepoint_rollback(sid)
        for table in relations:
            cursor.execute(f"DROP TABLE kept_{table}")
    return differences
