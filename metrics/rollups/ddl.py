"""The SQL that keeps the rollups current: statement-level triggers on the case tables that
record facts, a fold that moves them into the rollup tables, views that read both, and a
rebuild.

A *fact* (type ``metrics_rollup_fact``) is one thing that happened, with a sign:
(measure, at, d = +1 or −1, team_id, category_id, rep_id) — see metrics.rollups.spec.

- The triggers sum their statement's facts per UTC hour and key and **append** the
  non-zero sums to ``metrics_rollup_pending`` (a status change has none and writes
  nothing). Appending contends for no row, so concurrent writers never wait for each other
  there and cannot deadlock, whatever order their statements run in.
- Then the trigger tries the transaction-scoped advisory lock ``FOLD_LOCK``; the one writer
  that holds it (until it commits) folds every pending row it can see into the rollup
  tables (``metrics_rollups_fold`` → ``metrics_rollups_apply``: per key, ``INSERT … ON
  CONFLICT DO UPDATE`` adding cumulative arrays). The others leave their rows for the next
  folder; nobody waits for the lock. Folding deletes the rows it adds, in the same
  transaction, so every snapshot counts each fact once.
- Readers use the ``<table>_live`` views: the table's rows plus the pending rows
  aggregated the same way. So a figure includes a write as soon as the write commits,
  folded or not.

Triggers (``FOR EACH STATEMENT`` with transition tables, one per event: a bulk statement
costs one aggregation, not one call per row):

- ``cases_case`` INSERT: +1 ``opened`` per new case, and its resolution measures if it is
  resolved.
- ``cases_case`` UPDATE: ``opened`` and the resolution measures of the new rows minus the
  old rows (zero unless ``opened_at``, ``resolved_at``, ``resolved_by``, the response or
  reopen counts, team, category or assignee changed); and the resolved/reopened events of
  each case whose team or assignee changed move from the old values to the new ones.
- ``cases_case`` DELETE: −1 ``opened`` and its resolution measures, and the case's events
  still in the table.
- ``cases_caseevent`` INSERT/UPDATE/DELETE: ± the resolved/reopened events, under their
  case's current dimensions (events of a case deleted earlier in the transaction were
  counted out with it).
- TRUNCATE of ``cases_case`` empties the rollups and the pending facts; of
  ``cases_caseevent``, zeroes the event measures and drops the pending event facts.

An event is counted when it is inserted, under its case as it is then, so its case must
exist by then: every writer inserts cases before their events (the foreign key requires
it at commit). ``metrics_rollups_rebuild()`` recomputes everything, a month at a time.

The migration that installs this holds a copy of the SQL as it was then (a migration must
not change when this module does); a test checks that the database's functions are
exactly what this module generates, so a change here needs a new migration.
"""

from __future__ import annotations

from metrics.rollups.spec import EVENT_MEASURES, PENDING, SLOTS, TABLES, RollupTable

CASE_TABLE = "cases_case"
EVENT_TABLE = "cases_caseevent"
FACT_TYPE = "metrics_rollup_fact"
APPLY = "metrics_rollups_apply"
FOLD = "metrics_rollups_fold"
REBUILD = "metrics_rollups_rebuild"
# The transaction-scoped advisory lock of the one writer that folds (any fixed number that
# nothing else in the database uses).
FOLD_LOCK = 7_236_101_955
ZERO = "'{" + ",".join(["0"] * SLOTS) + "}'::integer[]"
TRIGGER_EVENTS = ("insert", "update", "delete")
# Case columns whose change moves a case's events between rollup rows.
MOVING_COLUMNS = ("team_id", "assignee_id")


# --- facts ----------------------------------------------------------------------------


def case_facts(relation: str, sign: int, where: str = "") -> str:
    """One ``opened`` fact per case row of ``relation``."""
    return (
        f"SELECT 'opened'::text, c.opened_at, {sign}, c.team_id, c.category_id, "
        f"c.assignee_id FROM {relation} c{where}"
    )


def resolution_facts(relation: str, sign: int, where: str = "") -> str:
    """The resolution measures of each resolved case row of ``relation`` (``resolved_at``
    set), at ``resolved_at``, under its team: a row per measure it counts in
    (metrics.rollups.spec; the definitions are metrics.kpis.fcr's). Category and rep are
    left out (NULL): no table keys these measures by them, and without them a statement's
    facts collapse into a few pending rows per hour and team."""
    condition = " AND ".join(filter(None, ["c.resolved_at IS NOT NULL", where]))
    return (
        f"SELECT v.measure, c.resolved_at, {sign}, c.team_id, NULL::bigint, "
        f"NULL::bigint FROM {relation} c CROSS JOIN LATERAL (VALUES "
        "('resolved_cases', TRUE), ('zero_touch', c.agent_response_count = 0), "
        "('touched', c.agent_response_count >= 1), "
        "('one_touch', c.agent_response_count = 1 AND c.reopened_count = 0), "
        "('reopened_cases', c.reopened_count > 0)) AS v(measure, counts) "
        f"WHERE {condition} AND v.counts"
    )


def event_facts(events: str, sign: int) -> str:
    """Facts of ``events``, rows (event_type, occurred_at, actor_id, team_id, category_id,
    assignee_id) of resolved/reopened events with their case's dimensions. A resolution is
    also a ``resolved_by_rep`` fact of its actor."""
    return (
        f"SELECT v.measure, x.occurred_at, {sign}, x.team_id, x.category_id, v.rep_id "
        f"FROM ({events}) x CROSS JOIN LATERAL (VALUES (x.event_type::text, x.assignee_id), "
        "('resolved_by_rep', x.actor_id)) AS v(measure, rep_id) "
        "WHERE v.measure <> 'resolved_by_rep' OR x.event_type = 'resolved'"
    )


def events_with_current_case(relation: str) -> str:
    """Resolved/reopened events of ``relation`` with their case's current dimensions: a
    primary-key lookup per event (OFFSET 0 keeps the planner from hashing every case).

    The case row is read ``FOR SHARE``: a transaction changing the case's team or assignee
    holds it, so this waits for that commit and reads the new values; or this holds it, so
    that transaction waits, and its trigger then sees this event and moves it. Without the
    lock, each would miss the other's uncommitted change.
    """
    return (
        "SELECT e.event_type, e.occurred_at, e.actor_id, c.team_id, c.category_id, "
        f"c.assignee_id FROM {relation} e CROSS JOIN LATERAL (SELECT c.team_id, "
        f"c.category_id, c.assignee_id FROM {CASE_TABLE} c WHERE c.id = e.case_id "
        "OFFSET 0 FOR SHARE) c "
        "WHERE e.event_type IN ('resolved', 'reopened')"
    )


def stored_events_of(cases: str, prefix: str = "") -> str:
    """Resolved/reopened events in the event table of the case rows ``cases`` (an ``id``
    and ``{prefix}team_id``, ``{prefix}category_id``, ``{prefix}assignee_id``), with those
    dimensions: an index probe per case."""
    return (
        f"SELECT e.event_type, e.occurred_at, e.actor_id, m.{prefix}team_id AS team_id, "
        f"m.{prefix}category_id AS category_id, m.{prefix}assignee_id AS assignee_id "
        f"FROM ({cases}) m "
        "CROSS JOIN LATERAL (SELECT e.event_type, e.occurred_at, e.actor_id "
        f"FROM {EVENT_TABLE} e WHERE e.case_id = m.id "
        "AND e.event_type IN ('resolved', 'reopened') OFFSET 0) e"
    )


MOVED_CASES = (
    "SELECT o.id, o.team_id AS old_team_id, o.category_id AS old_category_id, "
    "o.assignee_id AS old_assignee_id, n.team_id AS new_team_id, "
    "n.category_id AS new_category_id, n.assignee_id AS new_assignee_id "
    "FROM old_rows o JOIN new_rows n ON n.id = o.id WHERE "
    + " OR ".join(f"o.{c} IS DISTINCT FROM n.{c}" for c in MOVING_COLUMNS)
)


def trigger_facts(source: str, event: str) -> list[str]:
    """The fact queries of the trigger on ``source`` (``case``/``event``) for ``event``."""
    if source == "case":
        return {
            "insert": [case_facts("new_rows", +1), resolution_facts("new_rows", +1)],
            "update": [
                case_facts("new_rows", +1),
                case_facts("old_rows", -1),
                resolution_facts("new_rows", +1),
                resolution_facts("old_rows", -1),
                event_facts(stored_events_of(MOVED_CASES, "old_"), -1),
                event_facts(stored_events_of(MOVED_CASES, "new_"), +1),
            ],
            "delete": [
                case_facts("old_rows", -1),
                resolution_facts("old_rows", -1),
                event_facts(stored_events_of("SELECT * FROM old_rows"), -1),
            ],
        }[event]
    return {
        "insert": [event_facts(events_with_current_case("new_rows"), +1)],
        "update": [
            event_facts(events_with_current_case("new_rows"), +1),
            event_facts(events_with_current_case("old_rows"), -1),
        ],
        "delete": [event_facts(events_with_current_case("old_rows"), -1)],
    }[event]


# --- applying facts -----------------------------------------------------------------------


def cumulative(measure: str) -> str:
    """The 25 cumulative hourly sums of ``measure`` over the hourly rows ``f`` of one key."""
    slots = ", ".join(f"sum(f.{measure}) FILTER (WHERE f.hr < {k})" for k in range(1, SLOTS))
    return f"array_replace(ARRAY[0, {slots}], NULL, 0)::integer[]"


def aggregate_sql(table: RollupTable, source: str) -> str:
    """The facts of ``source`` (rows with the fact type's columns) summed per key of
    ``table``: its key columns and a cumulative array per measure.

    First per key and UTC hour, a column per measure (one cheap hash aggregation that
    merges the facts of other dimensions and measures), then the 24 slots per key.
    """
    dims = ", ".join(f"f.{d}" for d in table.dims)
    inner_dims = ", ".join(f"u.{d}" for d in table.dims)
    measures = ", ".join(f"'{m}'" for m in table.measures)
    required = "".join(f" AND u.{d} IS NOT NULL" for d in table.required)
    hourly = ", ".join(f"sum(u.d) FILTER (WHERE u.measure = '{m}') AS {m}" for m in table.measures)
    arrays = ",\n               ".join(f"{cumulative(m)} AS {m}" for m in table.measures)
    return f"""SELECT {dims}, f.day,
               {arrays}
          FROM (SELECT {inner_dims}, (u.at AT TIME ZONE 'UTC')::date AS day,
                       extract(hour FROM u.at AT TIME ZONE 'UTC')::int AS hr, {hourly}
                  FROM {source} u
                 WHERE u.measure IN ({measures}){required}
                 GROUP BY {inner_dims}, day, hr) f
         GROUP BY {dims}, f.day"""


def upsert_sql(table: RollupTable) -> str:
    """Add the sums of the facts ``facts`` (the function's argument) to ``table``."""
    key = ", ".join(table.key)
    columns = ", ".join((*table.key, *table.measures))
    nonzero = " OR ".join(f"a.{m} <> {ZERO}" for m in table.measures)
    updates = ",\n        ".join(
        f"{m} = ARRAY[{', '.join(f't.{m}[{i}] + excluded.{m}[{i}]' for i in range(1, SLOTS + 1))}]"
        for m in table.measures
    )
    return f"""    INSERT INTO {table.name} AS t ({columns})
    SELECT {columns} FROM (
        {aggregate_sql(table, "unnest(facts)")}
    ) a
     WHERE {nonzero}
     ORDER BY {", ".join(f"a.{k}" for k in table.key)}
    ON CONFLICT ({key}) DO UPDATE SET
        {updates}"""


def view_sql(table: RollupTable) -> str:
    """``<table>_live``: the table's rows and the pending facts summed the same way (a key
    may appear twice; readers sum)."""
    columns = ", ".join((*table.key, *table.measures))
    return f"""CREATE VIEW {table.live} AS
SELECT {columns} FROM {table.name}
UNION ALL
SELECT * FROM (
        {aggregate_sql(table, PENDING)}
) pending"""


def fold_function_sql() -> str:
    """``metrics_rollups_fold()``: move every pending fact this transaction can see into
    the rollup tables (the caller holds ``FOLD_LOCK``)."""
    return f"""CREATE OR REPLACE FUNCTION {FOLD}() RETURNS void LANGUAGE plpgsql AS $body$
DECLARE
    facts {FACT_TYPE}[];
BEGIN
    WITH folded AS (
        DELETE FROM {PENDING} RETURNING measure, at, d, team_id, category_id, rep_id
    )
    SELECT array_agg(ROW(f.*)::{FACT_TYPE}) INTO facts FROM folded f;
    IF facts IS NOT NULL THEN
        PERFORM {APPLY}(facts);
    END IF;
END
$body$"""


def type_sql() -> str:
    return (
        f"CREATE TYPE {FACT_TYPE} AS (measure text, at timestamptz, d integer, "
        "team_id bigint, category_id bigint, rep_id bigint)"
    )


def apply_function_sql() -> str:
    """``metrics_rollups_apply(facts)``: add the facts to every rollup table."""
    body = ";\n".join(upsert_sql(table) for table in TABLES)
    return (
        f"CREATE OR REPLACE FUNCTION {APPLY}(facts {FACT_TYPE}[]) RETURNS void "
        f"LANGUAGE plpgsql AS $body$\nBEGIN\n    IF cardinality(facts) > 0 THEN\n{body};\n"
        "    END IF;\nEND\n$body$"
    )


def rebuild_function_sql() -> str:
    """``metrics_rollups_rebuild()``: empty the rollups and apply every case and event
    again, a UTC month at a time (cases by ``opened_at`` and by ``resolved_at``, events by
    ``occurred_at``, so each month's rows are written once and memory stays bounded)."""
    deletes = "\n".join(f"    DELETE FROM {t};" for t in (PENDING, *(t.name for t in TABLES)))
    month = " WHERE c.opened_at >= m AND c.opened_at < next_m"
    events = (
        "SELECT e.event_type, e.occurred_at, e.actor_id, c.team_id, c.category_id, "
        f"c.assignee_id FROM {EVENT_TABLE} e JOIN {CASE_TABLE} c ON c.id = e.case_id "
        "WHERE e.event_type IN ('resolved', 'reopened') "
        "AND e.occurred_at >= m AND e.occurred_at < next_m"
    )
    resolved = "c.resolved_at >= m AND c.resolved_at < next_m"
    facts = (
        f"{case_facts(CASE_TABLE, +1, month)}\n"
        f"            UNION ALL {resolution_facts(CASE_TABLE, +1, resolved)}\n"
        f"            UNION ALL {event_facts(events, +1)}"
    )
    bounds = (
        f"SELECT least((SELECT min(opened_at) FROM {CASE_TABLE}), "
        f"(SELECT min(resolved_at) FROM {CASE_TABLE}), "
        f"(SELECT min(occurred_at) FROM {EVENT_TABLE})), "
        f"greatest((SELECT max(opened_at) FROM {CASE_TABLE}), "
        f"(SELECT max(resolved_at) FROM {CASE_TABLE}), "
        f"(SELECT max(occurred_at) FROM {EVENT_TABLE}))"
    )
    return f"""CREATE OR REPLACE FUNCTION {REBUILD}() RETURNS void LANGUAGE plpgsql AS $body$
DECLARE
    first_at timestamptz;
    last_at timestamptz;
    m timestamptz;
    next_m timestamptz;
BEGIN
{deletes}
    {bounds} INTO first_at, last_at;
    IF first_at IS NULL THEN
        RETURN;
    END IF;
    m := date_trunc('month', first_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC';
    WHILE m <= last_at LOOP
        -- Month arithmetic in UTC whatever the session's time zone: the months tile time.
        next_m := ((m AT TIME ZONE 'UTC') + interval '1 month') AT TIME ZONE 'UTC';
        PERFORM {APPLY}(ARRAY(
            SELECT ROW(x.*)::{FACT_TYPE} FROM (
            {facts}) x));
        m := next_m;
    END LOOP;
END
$body$"""


# --- triggers -------------------------------------------------------------------------


def function_name(source: str, event: str) -> str:
    return f"metrics_rollups_{source}_{event}"


def trigger_function_body(source: str, event: str) -> str:
    if event == "truncate" and source == "case":
        # DELETE, not TRUNCATE: a TRUNCATE of the case tables may list the rollups too
        # (Django's flush does), and a table cannot be truncated twice in one statement.
        statement = ";\n    ".join(f"DELETE FROM {t}" for t in (PENDING, *(t.name for t in TABLES)))
    elif event == "truncate":
        event_measures = ", ".join(f"'{m}'" for m in EVENT_MEASURES)
        statement = ";\n    ".join(
            [f"DELETE FROM {PENDING} WHERE measure IN ({event_measures})"]
            + [
                f"UPDATE {t.name} SET "
                + ", ".join(f"{m} = {ZERO}" for m in t.event_measures)
                + " WHERE "
                + " OR ".join(f"{m} <> {ZERO}" for m in t.event_measures)
                for t in TABLES
                if t.event_measures
            ]
        )
    else:
        union = "\n        UNION ALL ".join(trigger_facts(source, event))
        statement = (
            f"INSERT INTO {PENDING} (measure, at, d, team_id, category_id, rep_id)\n"
            "    SELECT x.measure, date_trunc('hour', x.at, 'UTC'), sum(x.d), x.team_id,\n"
            "           x.category_id, x.rep_id\n"
            "      FROM (\n"
            f"        {union}\n"
            "      ) AS x(measure, at, d, team_id, category_id, rep_id)\n"
            "     GROUP BY 1, 2, 4, 5, 6 HAVING sum(x.d) <> 0;\n"
            f"    IF FOUND AND pg_try_advisory_xact_lock({FOLD_LOCK}) THEN\n"
            f"        PERFORM {FOLD}();\n"
            "    END IF"
        )
    return f"\nBEGIN\n    {statement};\n    RETURN NULL;\nEND\n"


def trigger_functions_sql() -> list[str]:
    return [
        f"CREATE OR REPLACE FUNCTION {function_name(source, event)}() RETURNS trigger "
        f"LANGUAGE plpgsql AS $body${trigger_function_body(source, event)}$body$"
        for source in ("case", "event")
        for event in (*TRIGGER_EVENTS, "truncate")
    ]


def triggers_sql() -> list[str]:
    """CREATE TRIGGER for each event on both case tables (transition tables need one
    trigger per event)."""
    tables = {
        "insert": "REFERENCING NEW TABLE AS new_rows ",
        "update": "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows ",
        "delete": "REFERENCING OLD TABLE AS old_rows ",
        "truncate": "",
    }
    return [
        f"CREATE TRIGGER metrics_rollups_{event} AFTER {event.upper()} ON {relation} "
        f"{tables[event]}FOR EACH STATEMENT EXECUTE FUNCTION {function_name(source, event)}()"
        for source, relation in (("case", CASE_TABLE), ("event", EVENT_TABLE))
        for event in (*TRIGGER_EVENTS, "truncate")
    ]


def install_sql() -> list[str]:
    """Everything, in order: the fact type, the functions, the triggers (after dropping any
    earlier version, so that installing twice is harmless)."""
    return [
        *uninstall_sql(),
        type_sql(),
        apply_function_sql(),
        fold_function_sql(),
        rebuild_function_sql(),
        *(view_sql(table) for table in TABLES),
        *trigger_functions_sql(),
        *triggers_sql(),
    ]


def uninstall_sql() -> list[str]:
    """The reverse of ``install_sql``."""
    statements = [
        f"DROP TRIGGER IF EXISTS metrics_rollups_{event} ON {relation}"
        for relation in (CASE_TABLE, EVENT_TABLE)
        for event in (*TRIGGER_EVENTS, "truncate")
    ]
    statements += [
        f"DROP FUNCTION IF EXISTS {function_name(source, event)}()"
        for source in ("case", "event")
        for event in (*TRIGGER_EVENTS, "truncate")
    ]
    statements += [f"DROP VIEW IF EXISTS {table.live}" for table in TABLES]
    statements += [
        f"DROP FUNCTION IF EXISTS {REBUILD}()",
        f"DROP FUNCTION IF EXISTS {FOLD}()",
        f"DROP FUNCTION IF EXISTS {APPLY}({FACT_TYPE}[])",
        f"DROP TYPE IF EXISTS {FACT_TYPE}",
    ]
    return statements


def function_names() -> list[str]:
    """Every function this module defines (a test compares their bodies with the database)."""
    names = [APPLY, FOLD, REBUILD]
    names += [
        function_name(source, event)
        for source in ("case", "event")
        for event in (*TRIGGER_EVENTS, "truncate")
    ]
    return names


def function_bodies() -> dict[str, str]:
    """Each function's body (what PostgreSQL stores as ``prosrc``)."""
    bodies = {}
    functions = (apply_function_sql(), fold_function_sql(), rebuild_function_sql())
    for statement in (*functions, *trigger_functions_sql()):
        name = statement.split("FUNCTION ", 1)[1].split("(", 1)[0]
        bodies[name] = statement.split("$body$")[1]
    return bodies
