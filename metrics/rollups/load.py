"""Case load from stored facts: each rep's assignments and attributed resolutions, and a
daily count of them, kept current by triggers so the default load request reads a few
thousand rows instead of every event of the window.

Case load counts *distinct* cases per rep (metrics.kpis.load), and distinct counts do not
add up over days. They do add up once each event knows the previous event of the same
rep, kind and case: the distinct cases of a rep and kind in [s, e) are

    (events in [s, e)) − (events in [s, e) whose previous same-rep, same-kind event of
                          the case is also ≥ s)

because each distinct case is counted by its first event in the window, and every later
one has a previous event inside the window. The first term adds up over days; the second
reads only the repeats (a partial index).

Tables (raw SQL, like the other rollups; no Django model):

- ``metrics_load_fact``: one row per counted event — an ``assigned`` event to a rep
  (``resolved`` false), or a ``resolved`` event with the rep it is attributed to
  (``resolved`` true; its actor, else ``UNATTRIBUTED_RESOLVER_SQL``, decided here when the
  fact is written, exactly as the raw query decides it) — with ``prev_at``, the time of the
  previous fact of the same case, kind and rep (NULL for the first).
- ``metrics_load_day``: the facts per rep and UTC day (``taken_on``, ``resolved``),
  written only by the one transaction that holds ``FOLD_LOCK``; ``metrics_load_pending``:
  the per-statement changes appended by the triggers and not folded in yet (appending
  contends for no row, so concurrent writers never wait for each other there). Readers
  add both.

How the facts stay exact: a fact depends on its event and, for a resolution without an
actor, on the case's ``resolved_at``/``resolved_by`` and its earlier ``assigned`` events;
``prev_at`` depends on the case's other facts. So every statement that changes any of
these *recomputes the facts of the cases it touched* from the event and case tables
(``metrics_load_refresh``: the same SQL as the raw path, per case) and writes only the
difference, with its ±1 per rep and day into the pending table. Backdated events, moved
or deleted events, reassignments and re-resolutions are all "the case changed": its facts
are recomputed. Two transactions touching the same case are serialised by a row lock on
the case (``FOR NO KEY UPDATE``, taken in case-id order before reading): the second
recomputes from what the first committed. ``metrics_load_rebuild()`` recomputes
everything.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connection, transaction

FACT = "metrics_load_fact"
DAY = "metrics_load_day"
PENDING = "metrics_load_pending"
REFRESH = "metrics_load_refresh"
FOLD = "metrics_load_fold"
REBUILD = "metrics_load_rebuild"
CASE_TABLE = "cases_case"
EVENT_TABLE = "cases_caseevent"
# The transaction-scoped advisory lock of the one writer that folds (a number nothing else
# in the database uses).
FOLD_LOCK = 7_236_101_961
TRIGGER_EVENTS = ("insert", "update", "delete", "truncate")

# The rep a resolution without an actor counts for. metrics.kpis.load exports the same
# text (the raw path); a copy here keeps this module free of the KPI module, and a test
# checks the two are equal.
UNATTRIBUTED_RESOLVER_SQL = """CASE WHEN rc.resolved_at = e.occurred_at THEN rc.resolved_by_id
         ELSE (SELECT a.assignee_id FROM cases_caseevent a
                WHERE a.case_id = e.case_id AND a.event_type = 'assigned'
                  AND (a.occurred_at, a.id) < (e.occurred_at, e.id)
                ORDER BY a.occurred_at DESC, a.id DESC LIMIT 1)
    END"""


def facts_sql(condition: str) -> str:
    """The facts of the events that satisfy ``condition`` (on event ``e``), with
    ``prev_at`` — complete only when the condition selects whole cases.

    As the raw query: an ``assigned`` event counts for its assignee; a ``resolved`` event
    for its actor, else (only if its case exists) for the resolver of
    ``UNATTRIBUTED_RESOLVER_SQL``; events that count for nobody are left out.
    """
    return f"""SELECT x.case_id, x.resolved, x.at, x.rep_id,
           lag(x.at) OVER (PARTITION BY x.case_id, x.resolved, x.rep_id ORDER BY x.at)
             AS prev_at
      FROM (SELECT e.case_id, e.event_type = 'resolved' AS resolved, e.occurred_at AS at,
                   CASE WHEN e.event_type = 'assigned' THEN e.assignee_id
                        WHEN e.actor_id IS NOT NULL THEN e.actor_id
                        WHEN rc.id IS NULL THEN NULL
                        ELSE {UNATTRIBUTED_RESOLVER_SQL} END AS rep_id
              FROM {EVENT_TABLE} e
              LEFT JOIN {CASE_TABLE} rc ON rc.id = e.case_id AND e.event_type = 'resolved'
                                       AND e.actor_id IS NULL
             WHERE e.event_type IN ('assigned', 'resolved') AND {condition}) x
     WHERE x.rep_id IS NOT NULL"""


def table_sql() -> list[str]:
    return [
        f"""CREATE TABLE {FACT} (
    case_id bigint NOT NULL,
    resolved boolean NOT NULL,
    at timestamptz NOT NULL,
    rep_id bigint NOT NULL,
    prev_at timestamptz,
    PRIMARY KEY (case_id, resolved, at, rep_id)
)""",
        # The window's partial days at its edges: an index-only range scan.
        f"CREATE INDEX metrics_load_fact_at ON {FACT} (at) INCLUDE (rep_id, resolved)",
        # The repeats (a second fact of the same case, kind and rep): few.
        f"CREATE INDEX metrics_load_fact_repeat ON {FACT} (prev_at) "
        "INCLUDE (at, rep_id, resolved) WHERE prev_at IS NOT NULL",
        f"""CREATE TABLE {DAY} (
    rep_id bigint NOT NULL,
    day date NOT NULL,
    taken_on integer NOT NULL,
    resolved integer NOT NULL,
    PRIMARY KEY (rep_id, day)
)""",
        f"""CREATE TABLE {PENDING} (
    rep_id bigint NOT NULL,
    day date NOT NULL,
    taken_on integer NOT NULL,
    resolved integer NOT NULL
)""",
    ]


def refresh_function_sql() -> str:
    """``metrics_load_refresh(ids)``: recompute the facts of the cases ``ids``, write the
    difference, append its per-rep-and-day change, and fold if nobody else is folding."""
    key = "case_id, resolved, at, rep_id"
    same = " AND ".join(f"k.{c} = n.{c}" for c in key.split(", "))
    same_f = " AND ".join(f"f.{c} = g.{c}" for c in key.split(", "))
    return f"""CREATE OR REPLACE FUNCTION {REFRESH}(ids bigint[]) RETURNS void
LANGUAGE plpgsql AS $body$
BEGIN
    IF cardinality(ids) = 0 THEN
        RETURN;
    END IF;
    -- One writer per case at a time, in id order (no deadlock between two statements):
    -- the statements below then see what an earlier writer of the case committed.
    PERFORM 1 FROM {CASE_TABLE} WHERE id = ANY(ids) ORDER BY id FOR NO KEY UPDATE;
    WITH fresh AS MATERIALIZED (
        {facts_sql("e.case_id = ANY(ids)")}
    ),
    kept AS MATERIALIZED (
        SELECT {key}, prev_at FROM {FACT} WHERE case_id = ANY(ids)
    ),
    gone AS (
        DELETE FROM {FACT} f
         USING (SELECT {key} FROM kept EXCEPT SELECT {key} FROM fresh) g
         WHERE {same_f}
        RETURNING f.rep_id, f.resolved, f.at
    ),
    moved AS (
        UPDATE {FACT} f SET prev_at = n.prev_at
          FROM fresh n JOIN kept k ON {same}
         WHERE k.prev_at IS DISTINCT FROM n.prev_at
           AND f.case_id = n.case_id AND f.resolved = n.resolved AND f.at = n.at
           AND f.rep_id = n.rep_id
        RETURNING 1
    ),
    added AS (
        INSERT INTO {FACT} ({key}, prev_at)
        SELECT n.case_id, n.resolved, n.at, n.rep_id, n.prev_at FROM fresh n
         WHERE NOT EXISTS (SELECT 1 FROM kept k WHERE {same})
        RETURNING rep_id, resolved, at
    ),
    delta AS (
        SELECT rep_id, resolved, at, -1 AS d FROM gone
        UNION ALL
        SELECT rep_id, resolved, at, 1 FROM added
    )
    INSERT INTO {PENDING} (rep_id, day, taken_on, resolved)
    SELECT rep_id, (at AT TIME ZONE 'UTC')::date,
           coalesce(sum(d) FILTER (WHERE NOT resolved), 0),
           coalesce(sum(d) FILTER (WHERE resolved), 0)
      FROM delta
     GROUP BY 1, 2
    HAVING coalesce(sum(d) FILTER (WHERE NOT resolved), 0) <> 0
        OR coalesce(sum(d) FILTER (WHERE resolved), 0) <> 0;
    IF FOUND AND pg_try_advisory_xact_lock({FOLD_LOCK}) THEN
        PERFORM {FOLD}();
    END IF;
END
$body$"""


def fold_function_sql() -> str:
    """``metrics_load_fold()``: move the pending changes this transaction can see into the
    daily table (the caller holds ``FOLD_LOCK``; rows in key order)."""
    return f"""CREATE OR REPLACE FUNCTION {FOLD}() RETURNS void LANGUAGE plpgsql AS $body$
BEGIN
    WITH folded AS (
        DELETE FROM {PENDING} RETURNING rep_id, day, taken_on, resolved
    )
    INSERT INTO {DAY} AS t (rep_id, day, taken_on, resolved)
    SELECT rep_id, day, sum(taken_on), sum(resolved) FROM folded
     GROUP BY rep_id, day ORDER BY rep_id, day
    ON CONFLICT (rep_id, day) DO UPDATE
       SET taken_on = t.taken_on + excluded.taken_on,
           resolved = t.resolved + excluded.resolved;
END
$body$"""


def rebuild_function_sql() -> str:
    """``metrics_load_rebuild()``: every fact and daily count again from the case tables."""
    return f"""CREATE OR REPLACE FUNCTION {REBUILD}() RETURNS void LANGUAGE plpgsql AS $body$
BEGIN
    DELETE FROM {PENDING};
    DELETE FROM {DAY};
    DELETE FROM {FACT};
    INSERT INTO {FACT} (case_id, resolved, at, rep_id, prev_at)
    {facts_sql("TRUE")};
    INSERT INTO {DAY} (rep_id, day, taken_on, resolved)
    SELECT rep_id, (at AT TIME ZONE 'UTC')::date, count(*) FILTER (WHERE NOT resolved),
           count(*) FILTER (WHERE resolved)
      FROM {FACT} GROUP BY 1, 2 ORDER BY 1, 2;
END
$body$"""


# The cases whose facts a statement may have changed, per trigger. An event trigger: the
# cases of its assigned/resolved events. A case trigger: cases with a resolution without
# an actor (its attribution reads resolved_at/resolved_by), and deleted cases with facts.
ACTORLESS = (
    f"EXISTS (SELECT 1 FROM {EVENT_TABLE} e WHERE e.case_id = {{id}} "
    "AND e.event_type = 'resolved' AND e.actor_id IS NULL)"
)
COUNTED = "event_type IN ('assigned', 'resolved')"
TOUCHED = {
    ("event", "insert"): f"SELECT case_id FROM new_rows WHERE {COUNTED}",
    ("event", "update"): (
        f"SELECT case_id FROM old_rows WHERE {COUNTED} "
        f"UNION SELECT case_id FROM new_rows WHERE {COUNTED}"
    ),
    ("event", "delete"): f"SELECT case_id FROM old_rows WHERE {COUNTED}",
    ("case", "insert"): f"SELECT n.id FROM new_rows n WHERE {ACTORLESS.format(id='n.id')}",
    ("case", "update"): (
        "SELECT n.id FROM new_rows n JOIN old_rows o ON o.id = n.id "
        "WHERE (o.resolved_at, o.resolved_by_id) IS DISTINCT FROM "
        f"(n.resolved_at, n.resolved_by_id) AND {ACTORLESS.format(id='n.id')}"
    ),
    ("case", "delete"): (
        f"SELECT o.id FROM old_rows o WHERE EXISTS (SELECT 1 FROM {FACT} f WHERE f.case_id = o.id)"
    ),
}
TRANSITIONS = {
    "insert": "REFERENCING NEW TABLE AS new_rows ",
    "update": "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows ",
    "delete": "REFERENCING OLD TABLE AS old_rows ",
    "truncate": "",
}
RELATIONS = {"case": CASE_TABLE, "event": EVENT_TABLE}


def function_name(source: str, event: str) -> str:
    return f"metrics_load_{source}_{event}"


def trigger_function_sql(source: str, event: str) -> str:
    if event == "truncate":
        # DELETE, not TRUNCATE: a TRUNCATE of the case tables may list these tables too.
        body = f"DELETE FROM {PENDING};\n    DELETE FROM {DAY};\n    DELETE FROM {FACT}"
    else:
        touched = TOUCHED[source, event]
        body = f"PERFORM {REFRESH}(ARRAY(SELECT DISTINCT t.id FROM ({touched}) t(id)))"
    return (
        f"CREATE OR REPLACE FUNCTION {function_name(source, event)}() RETURNS trigger "
        f"LANGUAGE plpgsql AS $body$\nBEGIN\n    {body};\n    RETURN NULL;\nEND\n$body$"
    )


def function_sql() -> dict[str, str]:
    """Every function this module defines, by name."""
    functions = {
        REFRESH: refresh_function_sql(),
        FOLD: fold_function_sql(),
        REBUILD: rebuild_function_sql(),
    }
    for source in RELATIONS:
        for event in TRIGGER_EVENTS:
            functions[function_name(source, event)] = trigger_function_sql(source, event)
    return functions


def triggers_sql() -> list[str]:
    return [
        f"CREATE TRIGGER metrics_load_{event} AFTER {event.upper()} ON {relation} "
        f"{TRANSITIONS[event]}FOR EACH STATEMENT EXECUTE FUNCTION {function_name(source, event)}()"
        for source, relation in RELATIONS.items()
        for event in TRIGGER_EVENTS
    ]


def install_sql() -> list[str]:
    """The tables, the functions, the triggers, and a first rebuild (the backfill)."""
    return [*table_sql(), *function_sql().values(), *triggers_sql(), f"SELECT {REBUILD}()"]


def uninstall_sql() -> list[str]:
    statements = [
        f"DROP TRIGGER IF EXISTS metrics_load_{event} ON {relation}"
        for relation in RELATIONS.values()
        for event in TRIGGER_EVENTS
    ]
    statements += [
        f"DROP FUNCTION IF EXISTS {name}()" for name in function_sql() if name != REFRESH
    ]
    statements.append(f"DROP FUNCTION IF EXISTS {REFRESH}(bigint[])")
    statements += [f"DROP TABLE IF EXISTS {t}" for t in (PENDING, DAY, FACT)]
    return statements


def function_bodies() -> dict[str, str]:
    """Each function's body (what PostgreSQL stores as ``prosrc``)."""
    return {name: sql.split("$body$")[1] for name, sql in function_sql().items()}


# --- rebuild and check -----------------------------------------------------------------------


def _lock(cursor) -> None:  # type: ignore[no-untyped-def]
    # EXCLUSIVE blocks the triggers' writes, not readers (as metrics.rollups.services).
    cursor.execute(f"LOCK TABLE {PENDING}, {DAY}, {FACT} IN EXCLUSIVE MODE")


@transaction.atomic
def load_rollup_rebuild() -> int:
    """Recompute every fact and daily count from the case tables in one transaction;
    returns the number of facts. Idempotent."""
    with connection.cursor() as cursor:
        _lock(cursor)
        cursor.execute(f"SELECT {REBUILD}()")
        cursor.execute(f"SELECT count(*) FROM {FACT}")
        return int(cursor.fetchone()[0])


def load_rollup_compact() -> bool:
    """Rewrite the tables compactly after a bulk load or a rebuild (``VACUUM FULL``);
    nothing inside a transaction (returns False)."""
    if connection.in_atomic_block:
        return False
    with connection.cursor() as cursor:
        for table in (PENDING, DAY, FACT):
            cursor.execute(f"VACUUM (FULL, ANALYZE) {table}")
    return True


@dataclass(frozen=True)
class LoadRollupDifference:
    facts_stale: int  # facts only in the table as the triggers kept it
    facts_missing: int  # facts only in a rebuild
    days_stale: int  # daily counts (table + pending, non-zero) only as kept
    days_missing: int  # … only in a rebuild


DAYS = (
    f"SELECT rep_id, day, sum(taken_on) AS taken_on, sum(resolved) AS resolved FROM "
    f"(SELECT * FROM {DAY} UNION ALL SELECT * FROM {PENDING}) d GROUP BY rep_id, day "
    "HAVING sum(taken_on) <> 0 OR sum(resolved) <> 0"
)


def load_rollup_check() -> LoadRollupDifference | None:
    """Compare the facts and daily counts with a fresh rebuild (rolled back); None when
    they are equal."""
    with transaction.atomic(), connection.cursor() as cursor:
        _lock(cursor)
        cursor.execute(f"CREATE TEMPORARY TABLE kept_load_fact ON COMMIT DROP AS TABLE {FACT}")
        cursor.execute(f"CREATE TEMPORARY TABLE kept_load_day ON COMMIT DROP AS {DAYS}")
        sid = transaction.savepoint()
        cursor.execute(f"SELECT {REBUILD}()")
        counts = []
        for kept, rebuilt in (("kept_load_fact", f"TABLE {FACT}"), ("kept_load_day", DAYS)):
            cursor.execute(
                f"SELECT (SELECT count(*) FROM (TABLE {kept} EXCEPT ALL {rebuilt}) s), "
                f"(SELECT count(*) FROM ({rebuilt} EXCEPT ALL TABLE {kept}) m)"
            )
            counts.extend(cursor.fetchone())
        transaction.savepoint_rollback(sid)
        cursor.execute("DROP TABLE kept_load_fact, kept_load_day")
    return LoadRollupDifference(*counts) if any(counts) else None
