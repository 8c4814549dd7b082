"""The per-account rollup: what the account summary and risk KPI sums over a window.

``metrics_rollup_account_month`` holds one row per account × team (the case's current
values) × UTC month, and per measure 32 *cumulative daily* counts: ``m[d]`` is the count
on the month's UTC days before day ``d`` (so ``m[1]`` is 0 and ``m[32]`` the month's
total, whatever its length). Any run of whole UTC days costs two subscripts of one row per
month; an account's figure over a 366-day window reads at most 26 rows of it per team.
``metrics_rollup_account_month_all`` holds the same sums over teams (account × month), for
unsliced requests: a third of the rows.

Measures (docs/metrics.md#account-summary-and-risk):

- ``opened``: a case with an account, at ``opened_at``.
- ``reopened``: a case with an account whose ``reopened_count`` is above 0 **and** that
  has at least one ``reopened`` event (at any time), at ``opened_at``. The KPI counts a
  period's case as reopened when it has a reopening *by now*; the cases whose reopenings
  all lie after ``now`` are subtracted at read time (found through the events after
  ``now``, by index: none for the live endpoint).
- ``responses``, ``csat_sum``, ``csat_sq``, ``detractors``: a survey answer at
  ``responded_at`` under its case's current account and team: 1, its CSAT, its square
  (the standard deviation), and 1 when the CSAT is 1 or 2.

Kept like the other rollups (metrics.rollups.ddl): statement-level triggers on
``cases_case``, ``cases_caseevent`` and ``cases_surveyresponse`` append each statement's
signed changes per account, team and UTC day to ``metrics_rollup_account_pending``; the
writer that gets the advisory lock ``FOLD_LOCK`` folds them into the month rows; readers
use ``metrics_rollup_account_month_live`` (rows plus pending). A case's ``reopened`` fact
depends on its events, so an event trigger locks the cases whose ``reopened`` events it
changes (``FOR NO KEY UPDATE``) before counting their events: two transactions adding a
case's first reopenings at once then see each other's, and count the case once.

``metrics_account_rollup_rebuild()`` recomputes the table from the case, event and
survey tables (weekly job, ``rollups_rebuild``).

Also installed: ``metrics_case_account_open``, a partial index on the open cases
(team, account, opened and first resolution times), so that the "open now" figure reads
an index instead of every open case's row.

The migration that installs this (metrics 0012) holds a copy of the SQL as it was then;
tests/metrics/test_account_rollup.py checks that the database's functions match.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from django.db import connection, transaction

TABLE = "metrics_rollup_account_month"
PENDING = "metrics_rollup_account_pending"
LIVE = f"{TABLE}_live"
KEY = ("team_id", "account_id", "month")
# The same rows summed over teams: what an unsliced request reads (a third of the rows).
TABLE_ALL = "metrics_rollup_account_month_all"
LIVE_ALL = f"{TABLE_ALL}_live"
KEY_ALL = ("account_id", "month")
MEASURES = ("opened", "reopened", "responses", "csat_sum", "csat_sq", "detractors")
SLOTS = 32  # cumulative counts before day 1 … 31 of the month, and the month's total
FOLD = "metrics_account_rollup_fold"
REBUILD = "metrics_account_rollup_rebuild"
# The transaction-scoped advisory lock of the one writer that folds (not the other
# rollups' 7_236_101_955: the two folds are independent).
FOLD_LOCK = 7_236_101_956
ZERO = "'{" + ",".join(["0"] * SLOTS) + "}'::integer[]"
OPEN_INDEX = "metrics_case_account_open"
CASE_TABLE, EVENT_TABLE, SURVEY_TABLE = "cases_case", "cases_caseevent", "cases_surveyresponse"
SOURCES = {"case": CASE_TABLE, "event": EVENT_TABLE, "survey": SURVEY_TABLE}
EVENTS = ("insert", "update", "delete", "truncate")
# A fact row: (account_id, team_id, at, opened, reopened, responses, csat_sum, csat_sq,
# detractors).
FACT_COLUMNS = ("account_id", "team_id", "at", *MEASURES)


# --- facts ----------------------------------------------------------------------------


def _has_reopening(case: str) -> str:
    """1 when case ``case`` (a row with ``id`` and ``reopened_count``) counts as reopened
    in the rollup: a positive count and a stored ``reopened`` event (the probe only for
    cases with a positive count: CASE keeps the order)."""
    return (
        f"CASE WHEN {case}.reopened_count > 0 THEN (CASE WHEN EXISTS (SELECT 1 FROM "
        f"{EVENT_TABLE} e WHERE e.case_id = {case}.id AND e.event_type = 'reopened') "
        "THEN 1 ELSE 0 END) ELSE 0 END"
    )


def case_facts(relation: str, sign: int, where: str = "") -> str:
    """``opened`` and ``reopened`` of each case row of ``relation`` with an account."""
    return (
        f"SELECT c.account_id, c.team_id, c.opened_at, {sign}, {sign} * ({_has_reopening('c')}), "
        f"0, 0, 0, 0 FROM {relation} c WHERE c.account_id IS NOT NULL{where}"
    )


def answer_facts(answers: str, sign: int) -> str:
    """The survey measures of ``answers``: rows (account_id, team_id, responded_at, csat)."""
    s = f"{sign}"
    return (
        f"SELECT a.account_id, a.team_id, a.responded_at, 0, 0, {s}, {s} * a.csat, "
        f"{s} * a.csat * a.csat, {s} * (a.csat <= 2)::int FROM ({answers}) a "
        "WHERE a.account_id IS NOT NULL"
    )


def answers_with_current_case(relation: str) -> str:
    """Survey answers of ``relation`` with their case's current account and team (read
    ``FOR SHARE``, as metrics.rollups.ddl reads an event's case, for the same reason)."""
    return (
        "SELECT c.account_id, c.team_id, s.responded_at, s.csat::int AS csat "
        f"FROM {relation} s CROSS JOIN LATERAL (SELECT c.account_id, c.team_id "
        f"FROM {CASE_TABLE} c WHERE c.id = s.case_id OFFSET 0 FOR SHARE) c"
    )


def stored_answers_of(cases: str, prefix: str = "") -> str:
    """Survey answers in the table of the case rows ``cases`` (``id``,
    ``{prefix}account_id``, ``{prefix}team_id``), under those values."""
    return (
        f"SELECT m.{prefix}account_id AS account_id, m.{prefix}team_id AS team_id, "
        "s.responded_at, s.csat::int AS csat "
        f"FROM ({cases}) m JOIN {SURVEY_TABLE} s ON s.case_id = m.id"
    )


# Cases whose opened or reopened fact may have changed in an UPDATE.
CHANGED_CASES = (
    "SELECT o.id FROM old_rows o JOIN new_rows n ON n.id = o.id WHERE "
    "o.account_id IS DISTINCT FROM n.account_id OR o.team_id IS DISTINCT FROM n.team_id "
    "OR o.opened_at <> n.opened_at OR (o.reopened_count > 0) <> (n.reopened_count > 0)"
)
# Cases whose answers move to another account or team.
MOVED_CASES = (
    "SELECT o.id, o.account_id AS old_account_id, o.team_id AS old_team_id, "
    "n.account_id AS new_account_id, n.team_id AS new_team_id "
    "FROM old_rows o JOIN new_rows n ON n.id = o.id WHERE "
    "o.account_id IS DISTINCT FROM n.account_id OR o.team_id IS DISTINCT FROM n.team_id"
)


def reopening_facts(event: str) -> str:
    """The change of each case's ``reopened`` fact by an event statement: the cases of the
    statement's ``reopened`` rows, with their count of reopenings now and before it
    (now − added + removed); the fact is 1 when the count is positive and the case's
    ``reopened_count`` is."""
    parts = []
    if event in ("insert", "update"):
        parts.append("SELECT case_id, 1 AS added, 0 AS removed FROM new_rows")
    if event in ("update", "delete"):
        parts.append("SELECT case_id, 0 AS added, 1 AS removed FROM old_rows")
    changed = " UNION ALL ".join(
        f"SELECT * FROM ({p} WHERE event_type = 'reopened') p{i}" for i, p in enumerate(parts)
    )
    return (
        "SELECT c.account_id, c.team_id, c.opened_at, 0, "
        "(CASE WHEN k.now_n > 0 THEN 1 ELSE 0 END) "
        "- (CASE WHEN k.now_n - x.added + x.removed > 0 THEN 1 ELSE 0 END), 0, 0, 0, 0 "
        f"FROM (SELECT case_id, sum(added) AS added, sum(removed) AS removed FROM ({changed}) z "
        "GROUP BY case_id) x "
        "CROSS JOIN LATERAL (SELECT c.account_id, c.team_id, c.opened_at, c.reopened_count "
        f"FROM {CASE_TABLE} c WHERE c.id = x.case_id OFFSET 0) c "
        f"CROSS JOIN LATERAL (SELECT count(*) AS now_n FROM {EVENT_TABLE} e "
        "WHERE e.case_id = x.case_id AND e.event_type = 'reopened') k "
        "WHERE c.account_id IS NOT NULL AND c.reopened_count > 0"
    )


def trigger_facts(source: str, event: str) -> list[str]:
    if source == "case":
        changed = f" AND c.id IN ({CHANGED_CASES})"
        return {
            "insert": [case_facts("new_rows", +1)],
            "update": [
                case_facts("new_rows", +1, changed),
                case_facts("old_rows", -1, changed),
                answer_facts(stored_answers_of(MOVED_CASES, "new_"), +1),
                answer_facts(stored_answers_of(MOVED_CASES, "old_"), -1),
            ],
            "delete": [
                case_facts("old_rows", -1),
                answer_facts(stored_answers_of("SELECT * FROM old_rows"), -1),
            ],
        }[event]
    if source == "event":
        return [reopening_facts(event)]
    return {
        "insert": [answer_facts(answers_with_current_case("new_rows"), +1)],
        "update": [
            answer_facts(answers_with_current_case("new_rows"), +1),
            answer_facts(answers_with_current_case("old_rows"), -1),
        ],
        "delete": [answer_facts(answers_with_current_case("old_rows"), -1)],
    }[event]


# --- rows -------------------------------------------------------------------------------


def monthly_sql(source: str, key: tuple[str, ...] = KEY) -> str:
    """The daily rows ``source`` (account_id, team_id, day, measures) summed per ``key``
    (with or without the team): a cumulative array per measure (slot ``d`` = the days
    before day ``d``)."""

    def cumulative(m: str) -> str:
        slots = ", ".join(f"sum(f.{m}) FILTER (WHERE f.dom < {k})" for k in range(2, SLOTS + 1))
        return f"array_replace(ARRAY[0, {slots}], NULL, 0)::integer[] AS {m}"

    dims = [d for d in key if d != "month"]
    sums = ", ".join(f"sum(u.{m}) AS {m}" for m in MEASURES)
    arrays = ",\n           ".join(cumulative(m) for m in MEASURES)
    outer = ", ".join(f"f.{d}" for d in dims)
    inner = ", ".join(f"u.{d}" for d in dims)
    return f"""SELECT {outer}, f.month,
           {arrays}
      FROM (SELECT {inner}, date_trunc('month', u.day)::date AS month,
                   extract(day FROM u.day)::int AS dom, {sums}
              FROM {source} u
             GROUP BY {inner}, u.day) f
     GROUP BY {outer}, f.month"""


def daily_sql(facts: str) -> str:
    """Fact rows summed per account, team and UTC day, non-zero sums only."""
    sums = ", ".join(f"sum(x.{m})" for m in MEASURES)
    nonzero = " OR ".join(f"sum(x.{m}) <> 0" for m in MEASURES)
    return (
        f"SELECT x.account_id, x.team_id, (x.at AT TIME ZONE 'UTC')::date, {sums}\n"
        f"      FROM ({facts}) AS x({', '.join(FACT_COLUMNS)})\n"
        f"     GROUP BY 1, 2, 3 HAVING {nonzero}"
    )


def upsert_sql(source: str, table: str = TABLE, key: tuple[str, ...] = KEY) -> str:
    columns = ", ".join((*key, *MEASURES))
    nonzero = " OR ".join(f"a.{m} <> {ZERO}" for m in MEASURES)
    updates = ",\n        ".join(
        f"{m} = ARRAY[{', '.join(f't.{m}[{i}] + excluded.{m}[{i}]' for i in range(1, SLOTS + 1))}]"
        for m in MEASURES
    )
    return f"""INSERT INTO {table} AS t ({columns})
    SELECT {columns} FROM (
        {monthly_sql(source, key)}
    ) a
     WHERE {nonzero}
     ORDER BY {", ".join(f"a.{k}" for k in key)}
    ON CONFLICT ({", ".join(key)}) DO UPDATE SET
        {updates}"""


def upsert_both_sql(source: str) -> str:
    """Add the daily rows of the CTE ``source`` to both tables, in one statement."""
    return f"""team_rows AS (
    {upsert_sql(source)}
    RETURNING 1
)
{upsert_sql(source, TABLE_ALL, KEY_ALL)}"""


# --- DDL --------------------------------------------------------------------------------


def tables_sql() -> list[str]:
    arrays = ", ".join(f"{m} integer[] NOT NULL" for m in MEASURES)
    counts = ", ".join(f"{m} integer NOT NULL" for m in MEASURES)
    return [
        f"CREATE TABLE {TABLE} (team_id bigint, account_id bigint NOT NULL, "
        f"month date NOT NULL, {arrays})",
        f"CREATE UNIQUE INDEX {TABLE}_key ON {TABLE} ({', '.join(KEY)}) NULLS NOT DISTINCT",
        f"CREATE INDEX {TABLE}_month ON {TABLE} (month)",
        f"CREATE TABLE {TABLE_ALL} (account_id bigint NOT NULL, month date NOT NULL, {arrays})",
        f"CREATE UNIQUE INDEX {TABLE_ALL}_key ON {TABLE_ALL} ({', '.join(KEY_ALL)})",
        f"CREATE INDEX {TABLE_ALL}_month ON {TABLE_ALL} (month)",
        f"CREATE TABLE {PENDING} (account_id bigint NOT NULL, team_id bigint, "
        f"day date NOT NULL, {counts})",
        f"CREATE INDEX {OPEN_INDEX} ON {CASE_TABLE} (team_id, account_id) "
        "INCLUDE (id, opened_at, first_resolved_at) "
        "WHERE status IN ('new', 'open', 'pending') AND account_id IS NOT NULL",
    ]


def drop_tables_sql() -> list[str]:
    return [
        f"DROP INDEX IF EXISTS {OPEN_INDEX}",
        f"DROP TABLE IF EXISTS {PENDING}",
        f"DROP TABLE IF EXISTS {TABLE_ALL}",
        f"DROP TABLE IF EXISTS {TABLE}",
    ]


def view_sql(table: str = TABLE, live: str = LIVE, key: tuple[str, ...] = KEY) -> str:
    columns = ", ".join((*key, *MEASURES))
    return f"""CREATE VIEW {live} AS
SELECT {columns} FROM {table}
UNION ALL
SELECT * FROM (
    {monthly_sql(PENDING, key)}
) pending"""


def fold_function_sql() -> str:
    """Move every pending row this transaction can see into the table (the caller holds
    ``FOLD_LOCK``); deleting and adding in one statement, so every snapshot counts each
    change once."""
    return f"""CREATE OR REPLACE FUNCTION {FOLD}() RETURNS void LANGUAGE plpgsql AS $body$
BEGIN
    WITH folded AS (DELETE FROM {PENDING} RETURNING *),
    {upsert_both_sql("folded")};
END
$body$"""


def rebuild_function_sql() -> str:
    """Empty the table and recompute it from every case, event and answer."""
    facts = (
        f"{case_facts(CASE_TABLE, +1)}\n"
        f"        UNION ALL {answer_facts(answers_with_current_case(SURVEY_TABLE), +1)}"
    ).replace(" FOR SHARE", "")
    return f"""CREATE OR REPLACE FUNCTION {REBUILD}() RETURNS void LANGUAGE plpgsql AS $body$
BEGIN
    DELETE FROM {PENDING};
    DELETE FROM {TABLE};
    DELETE FROM {TABLE_ALL};
    WITH daily AS (
        SELECT d.*
          FROM ({daily_sql(facts)}) AS d(account_id, team_id, day, {", ".join(MEASURES)})
    ),
    {upsert_both_sql("daily")};
END
$body$"""


def function_name(source: str, event: str) -> str:
    return f"metrics_account_rollup_{source}_{event}"


def trigger_function_body(source: str, event: str) -> str:
    if event == "truncate":
        if source == "case":
            statement = (
                f"DELETE FROM {PENDING};\n    DELETE FROM {TABLE};\n    DELETE FROM {TABLE_ALL}"
            )
        else:
            measures = ("reopened",) if source == "event" else MEASURES[2:]
            zero_rows = " OR ".join(f"{m} <> {ZERO}" for m in measures)
            statement = "".join(
                f"UPDATE {t} SET {', '.join(f'{m} = {ZERO}' for m in measures)} "
                f"WHERE {zero_rows};\n    "
                for t in (TABLE, TABLE_ALL)
            ) + (
                f"    UPDATE {PENDING} SET {', '.join(f'{m} = 0' for m in measures)} "
                f"WHERE {' OR '.join(f'{m} <> 0' for m in measures)}"
            )
        return f"\nBEGIN\n    {statement};\n    RETURN NULL;\nEND\n"
    lock = ""
    if source == "event":
        relations = {"insert": ["new_rows"], "update": ["new_rows", "old_rows"]}.get(
            event, ["old_rows"]
        )
        ids = " UNION ".join(
            f"SELECT case_id FROM {r} WHERE event_type = 'reopened'" for r in relations
        )
        lock = (
            f"PERFORM 1 FROM {CASE_TABLE} c WHERE c.id IN ({ids}) "
            "ORDER BY c.id FOR NO KEY UPDATE;\n    "
        )
    union = "\n        UNION ALL ".join(trigger_facts(source, event))
    return (
        f"\nBEGIN\n    {lock}INSERT INTO {PENDING} (account_id, team_id, day, "
        f"{', '.join(MEASURES)})\n    {daily_sql(union)};\n"
        f"    IF FOUND AND pg_try_advisory_xact_lock({FOLD_LOCK}) THEN\n"
        f"        PERFORM {FOLD}();\n    END IF;\n    RETURN NULL;\nEND\n"
    )


def trigger_functions_sql() -> list[str]:
    return [
        f"CREATE OR REPLACE FUNCTION {function_name(source, event)}() RETURNS trigger "
        f"LANGUAGE plpgsql AS $body${trigger_function_body(source, event)}$body$"
        for source in SOURCES
        for event in EVENTS
    ]


def triggers_sql() -> list[str]:
    tables = {
        "insert": "REFERENCING NEW TABLE AS new_rows ",
        "update": "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows ",
        "delete": "REFERENCING OLD TABLE AS old_rows ",
        "truncate": "",
    }
    return [
        f"CREATE TRIGGER metrics_account_rollup_{event} AFTER {event.upper()} ON {relation} "
        f"{tables[event]}FOR EACH STATEMENT EXECUTE FUNCTION {function_name(source, event)}()"
        for source, relation in SOURCES.items()
        for event in EVENTS
    ]


def install_sql() -> list[str]:
    """Functions, view and triggers (the tables come first: ``tables_sql``)."""
    return [
        *uninstall_sql(),
        fold_function_sql(),
        rebuild_function_sql(),
        view_sql(),
        view_sql(TABLE_ALL, LIVE_ALL, KEY_ALL),
        *trigger_functions_sql(),
        *triggers_sql(),
    ]


def uninstall_sql() -> list[str]:
    statements = [
        f"DROP TRIGGER IF EXISTS metrics_account_rollup_{event} ON {relation}"
        for relation in SOURCES.values()
        for event in EVENTS
    ]
    statements += [
        f"DROP FUNCTION IF EXISTS {function_name(source, event)}()"
        for source in SOURCES
        for event in EVENTS
    ]
    statements += [
        f"DROP VIEW IF EXISTS {LIVE}",
        f"DROP VIEW IF EXISTS {LIVE_ALL}",
        f"DROP FUNCTION IF EXISTS {REBUILD}()",
        f"DROP FUNCTION IF EXISTS {FOLD}()",
    ]
    return statements


def function_bodies() -> dict[str, str]:
    """Each function's body (what PostgreSQL stores as ``prosrc``)."""
    bodies = {}
    for statement in (fold_function_sql(), rebuild_function_sql(), *trigger_functions_sql()):
        name = statement.split("FUNCTION ", 1)[1].split("(", 1)[0]
        bodies[name] = statement.split("$body$")[1]
    return bodies


# --- services ---------------------------------------------------------------------------


def _lock(cursor) -> None:  # type: ignore[no-untyped-def]
    # As metrics.rollups.services: writers wait at their trigger, readers do not.
    cursor.execute(f"LOCK TABLE {PENDING}, {TABLE}, {TABLE_ALL} IN EXCLUSIVE MODE")


@transaction.atomic
def account_rollup_rebuild() -> int:
    """Recompute the account rollup from the case, event and survey tables; its rows."""
    with connection.cursor() as cursor:
        _lock(cursor)
        cursor.execute(f"SELECT {REBUILD}()")
        cursor.execute(f"SELECT count(*) FROM {TABLE}")
        return int(cursor.fetchone()[0])


def account_rollup_check() -> tuple[int, int]:
    """(stale, missing): rows only in the kept tables, rows only in a rebuild (all-zero
    rows ignored, pending changes folded first), over both tables; (0, 0) means they are
    the same. The rebuild is rolled back."""
    nonzero = " OR ".join(f"{m} <> {ZERO}" for m in MEASURES)
    tables = {TABLE: KEY, TABLE_ALL: KEY_ALL}
    stale = missing = 0
    with transaction.atomic(), connection.cursor() as cursor:
        _lock(cursor)
        cursor.execute(f"SELECT {FOLD}()")
        rows = {
            t: f"SELECT {', '.join((*k, *MEASURES))} FROM {t} WHERE {nonzero}"
            for t, k in tables.items()
        }
        for t in tables:
            cursor.execute(f"CREATE TEMPORARY TABLE kept_{t} ON COMMIT DROP AS {rows[t]}")
        sid = transaction.savepoint()
        cursor.execute(f"SELECT {REBUILD}()")
        for t in tables:
            cursor.execute(
                f"SELECT (SELECT count(*) FROM (SELECT * FROM kept_{t} EXCEPT ALL {rows[t]}) s),"
                f" (SELECT count(*) FROM ({rows[t]} EXCEPT ALL SELECT * FROM kept_{t}) m)"
            )
            table_stale, table_missing = cursor.fetchone()
            stale, missing = stale + table_stale, missing + table_missing
        transaction.savepoint_rollback(sid)
        for t in tables:
            cursor.execute(f"DROP TABLE kept_{t}")
    return int(stale), int(missing)


def account_rollup_compact() -> bool:
    """``CLUSTER`` the table on its key and ``VACUUM FULL`` the pending rows (after a bulk
    load or a rebuild); nothing inside a transaction."""
    if connection.in_atomic_block:
        return False
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM (FULL, ANALYZE) {PENDING}")
        for table in (TABLE, TABLE_ALL):
            cursor.execute(f"CLUSTER {table} USING {table}_key")
            cursor.execute(f"ANALYZE {table}")
    return True


# --- reading ------------------------------------------------------------------------------

HALF_DAY = timedelta(hours=12)


@dataclass(frozen=True)
class Boundary:
    """A moment split into a UTC midnight the rollup answers (``month``, ``slot``) and the
    rest, read from the case tables: the moments in [lo, hi) count with ``sign`` (+1 when
    the midnight is before the moment, −1 after it; at most 12 hours either way)."""

    month: date
    slot: int
    lo: datetime
    hi: datetime
    sign: int

    @property
    def midnight(self) -> datetime:
        return datetime(self.month.year, self.month.month, self.slot, tzinfo=UTC)


def boundary(moment: datetime) -> Boundary:
    utc = moment.astimezone(UTC)
    day = datetime(utc.year, utc.month, utc.day, tzinfo=UTC)
    if utc - day <= HALF_DAY:
        return Boundary(date(day.year, day.month, 1), day.day, day, utc, +1)
    nxt = day + timedelta(days=1)
    return Boundary(date(nxt.year, nxt.month, 1), nxt.day, utc, nxt, -1)


def boundary_params(name: str, b: Boundary) -> dict[str, object]:
    return {
        f"{name}_month": b.month,
        f"{name}_slot": b.slot,
        f"{name}_lo": b.lo,
        f"{name}_hi": b.hi,
        f"{name}_sign": b.sign,
        f"{name}_midnight": b.midnight,
    }


def slot_sql(name: str, rows: str = "r") -> str:
    """The slot of a rollup row that holds its count before boundary ``name``'s midnight:
    the month's total for an earlier month, slot 1 (always 0) for a later one."""
    return (
        f"CASE WHEN {rows}.month < %({name}_month)s THEN {SLOTS} "
        f"WHEN {rows}.month = %({name}_month)s THEN %({name}_slot)s ELSE 1 END"
    )
