# Case load from stored facts (metrics.rollups.load): the fact, daily and pending tables,
# the triggers on the case tables that keep them current, and a first rebuild (the backfill:
# about a minute at 1M cases).
#
# The SQL is a copy of what metrics.rollups.load generated when this migration was written
# (install_sql and uninstall_sql): a migration must not change when that module does.
# tests/metrics/test_load_rollup.py checks that the installed functions still match it.

from django.db import migrations

INSTALL_SQL = [
    (
        "CREATE TABLE metrics_load_fact (\n"
        "    case_id bigint NOT NULL,\n"
        "    resolved boolean NOT NULL,\n"
        "    at timestamptz NOT NULL,\n"
        "    rep_id bigint NOT NULL,\n"
        "    prev_at timestamptz,\n"
        "    PRIMARY KEY (case_id, resolved, at, rep_id)\n"
        ")"
    ),
    "CREATE INDEX metrics_load_fact_at ON metrics_load_fact (at) INCLUDE (rep_id, resolved)",
    "CREATE INDEX metrics_load_fact_repeat ON metrics_load_fact (prev_at) INCLUDE (at, rep_id, resolved) WHERE prev_at IS NOT NULL",
    (
        "CREATE TABLE metrics_load_day (\n"
        "    rep_id bigint NOT NULL,\n"
        "    day date NOT NULL,\n"
        "    taken_on integer NOT NULL,\n"
        "    resolved integer NOT NULL,\n"
        "    PRIMARY KEY (rep_id, day)\n"
        ")"
    ),
    (
        "CREATE TABLE metrics_load_pending (\n"
        "    rep_id bigint NOT NULL,\n"
        "    day date NOT NULL,\n"
        "    taken_on integer NOT NULL,\n"
        "    resolved integer NOT NULL\n"
        ")"
    ),
    (
        "CREATE OR REPLACE FUNCTION metrics_load_refresh(ids bigint[]) RETURNS void\n"
        "LANGUAGE plpgsql AS $body$\n"
        "BEGIN\n"
        "    IF cardinality(ids) = 0 THEN\n"
        "        RETURN;\n"
        "    END IF;\n"
        "    -- One writer per case at a time, in id order (no deadlock between two statements):\n"
        "    -- the statements below then see what an earlier writer of the case committed.\n"
        "    PERFORM 1 FROM cases_case WHERE id = ANY(ids) ORDER BY id FOR NO KEY UPDATE;\n"
        "    WITH fresh AS MATERIALIZED (\n"
        "        SELECT x.case_id, x.resolved, x.at, x.rep_id,\n"
        "           lag(x.at) OVER (PARTITION BY x.case_id, x.resolved, x.rep_id ORDER BY x.at)\n"
        "             AS prev_at\n"
        "      FROM (SELECT e.case_id, e.event_type = 'resolved' AS resolved, e.occurred_at AS at,\n"
        "                   CASE WHEN e.event_type = 'assigned' THEN e.assignee_id\n"
        "                        WHEN e.actor_id IS NOT NULL THEN e.actor_id\n"
        "                        WHEN rc.id IS NULL THEN NULL\n"
        "                        ELSE CASE WHEN rc.resolved_at = e.occurred_at THEN rc.resolved_by_id\n"
        "         ELSE (SELECT a.assignee_id FROM cases_caseevent a\n"
        "                WHERE a.case_id = e.case_id AND a.event_type = 'assigned'\n"
        "                  AND (a.occurred_at, a.id) < (e.occurred_at, e.id)\n"
        "                ORDER BY a.occurred_at DESC, a.id DESC LIMIT 1)\n"
        "    END END AS rep_id\n"
        "              FROM cases_caseevent e\n"
        "              LEFT JOIN cases_case rc ON rc.id = e.case_id AND e.event_type = 'resolved'\n"
        "                                       AND e.actor_id IS NULL\n"
        "             WHERE e.event_type IN ('assigned', 'resolved') AND e.case_id = ANY(ids)) x\n"
        "     WHERE x.rep_id IS NOT NULL\n"
        "    ),\n"
        "    kept AS MATERIALIZED (\n"
        "        SELECT case_id, resolved, at, rep_id, prev_at FROM metrics_load_fact WHERE case_id = ANY(ids)\n"
        "    ),\n"
        "    gone AS (\n"
        "        DELETE FROM metrics_load_fact f\n"
        "         USING (SELECT case_id, resolved, at, rep_id FROM kept EXCEPT SELECT case_id, resolved, at, rep_id FROM fresh) g\n"
        "         WHERE f.case_id = g.case_id AND f.resolved = g.resolved AND f.at = g.at AND f.rep_id = g.rep_id\n"
        "        RETURNING f.rep_id, f.resolved, f.at\n"
        "    ),\n"
        "    moved AS (\n"
        "        UPDATE metrics_load_fact f SET prev_at = n.prev_at\n"
        "          FROM fresh n JOIN kept k ON k.case_id = n.case_id AND k.resolved = n.resolved AND k.at = n.at AND k.rep_id = n.rep_id\n"
        "         WHERE k.prev_at IS DISTINCT FROM n.prev_at\n"
        "           AND f.case_id = n.case_id AND f.resolved = n.resolved AND f.at = n.at\n"
        "           AND f.rep_id = n.rep_id\n"
        "        RETURNING 1\n"
        "    ),\n"
        "    added AS (\n"
        "        INSERT INTO metrics_load_fact (case_id, resolved, at, rep_id, prev_at)\n"
        "        SELECT n.case_id, n.resolved, n.at, n.rep_id, n.prev_at FROM fresh n\n"
        "         WHERE NOT EXISTS (SELECT 1 FROM kept k WHERE k.case_id = n.case_id AND k.resolved = n.resolved AND k.at = n.at AND k.rep_id = n.rep_id)\n"
        "        RETURNING rep_id, resolved, at\n"
        "    ),\n"
        "    delta AS (\n"
        "        SELECT rep_id, resolved, at, -1 AS d FROM gone\n"
        "        UNION ALL\n"
        "        SELECT rep_id, resolved, at, 1 FROM added\n"
        "    )\n"
        "    INSERT INTO metrics_load_pending (rep_id, day, taken_on, resolved)\n"
        "    SELECT rep_id, (at AT TIME ZONE 'UTC')::date,\n"
        "           coalesce(sum(d) FILTER (WHERE NOT resolved), 0),\n"
        "           coalesce(sum(d) FILTER (WHERE resolved), 0)\n"
        "      FROM delta\n"
        "     GROUP BY 1, 2\n"
        "    HAVING coalesce(sum(d) FILTER (WHERE NOT resolved), 0) <> 0\n"
        "        OR coalesce(sum(d) FILTER (WHERE resolved), 0) <> 0;\n"
        "    IF FOUND AND pg_try_advisory_xact_lock(7236101961) THEN\n"
        "        PERFORM metrics_load_fold();\n"
        "    END IF;\n"
        "END\n"
        "$body$"
    ),
    (
        "CREATE OR REPLACE FUNCTION metrics_load_fold() RETURNS void LANGUAGE plpgsql AS $body$\n"
        "BEGIN\n"
        "    WITH folded AS (\n"
        "        DELETE FROM metrics_load_pending RETURNING rep_id, day, taken_on, resolved\n"
        "    )\n"
        "    INSERT INTO metrics_load_day AS t (rep_id, day, taken_on, resolved)\n"
        "    SELECT rep_id, day, sum(taken_on), sum(resolved) FROM folded\n"
        "     GROUP BY rep_id, day ORDER BY rep_id, day\n"
        "    ON CONFLICT (rep_id, day) DO UPDATE\n"
        "       SET taken_on = t.taken_on + excluded.taken_on,\n"
        "           resolved = t.resolved + excluded.resolved;\n"
        "END\n"
        "$body$"
    ),
    (
        "CREATE OR REPLACE FUNCTION metrics_load_rebuild() RETURNS void LANGUAGE plpgsql AS $body$\n"
        "BEGIN\n"
        "    DELETE FROM metrics_load_pending;\n"
        "    DELETE FROM metrics_load_day;\n"
        "    DELETE FROM metrics_load_fact;\n"
        "    INSERT INTO metrics_load_fact (case_id, resolved, at, rep_id, prev_at)\n"
        "    SELECT x.case_id, x.resolved, x.at, x.rep_id,\n"
        "           lag(x.at) OVER (PARTITION BY x.case_id, x.resolved, x.rep_id ORDER BY x.at)\n"
        "             AS prev_at\n"
        "      FROM (SELECT e.case_id, e.event_type = 'resolved' AS resolved, e.occurred_at AS at,\n"
        "                   CASE WHEN e.event_type = 'assigned' THEN e.assignee_id\n"
        "                        WHEN e.actor_id IS NOT NULL THEN e.actor_id\n"
        "                        WHEN rc.id IS NULL THEN NULL\n"
        "                        ELSE CASE WHEN rc.resolved_at = e.occurred_at THEN rc.resolved_by_id\n"
        "         ELSE (SELECT a.assignee_id FROM cases_caseevent a\n"
        "                WHERE a.case_id = e.case_id AND a.event_type = 'assigned'\n"
        "                  AND (a.occurred_at, a.id) < (e.occurred_at, e.id)\n"
        "                ORDER BY a.occurred_at DESC, a.id DESC LIMIT 1)\n"
        "    END END AS rep_id\n"
        "              FROM cases_caseevent e\n"
        "              LEFT JOIN cases_case rc ON rc.id = e.case_id AND e.event_type = 'resolved'\n"
        "                                       AND e.actor_id IS NULL\n"
        "             WHERE e.event_type IN ('assigned', 'resolved') AND TRUE) x\n"
        "     WHERE x.rep_id IS NOT NULL;\n"
        "    INSERT INTO metrics_load_day (rep_id, day, taken_on, resolved)\n"
        "    SELECT rep_id, (at AT TIME ZONE 'UTC')::date, count(*) FILTER (WHERE NOT resolved),\n"
        "           count(*) FILTER (WHERE resolved)\n"
        "      FROM metrics_load_fact GROUP BY 1, 2 ORDER BY 1, 2;\n"
        "END\n"
        "$body$"
    ),
    (
        "CREATE OR REPLACE FUNCTION metrics_load_case_insert() RETURNS trigger LANGUAGE plpgsql AS $body$\n"
        "BEGIN\n"
        "    PERFORM metrics_load_refresh(ARRAY(SELECT DISTINCT t.id FROM (SELECT n.id FROM new_rows n WHERE EXISTS (SELECT 1 FROM cases_caseevent e WHERE e.case_id = n.id AND e.event_type = 'resolved' AND e.actor_id IS NULL)) t(id)));\n"
        "    RETURN NULL;\n"
        "END\n"
        "$body$"
    ),
    (
        "CREATE OR REPLACE FUNCTION metrics_load_case_update() RETURNS trigger LANGUAGE plpgsql AS $body$\n"
        "BEGIN\n"
        "    PERFORM metrics_load_refresh(ARRAY(SELECT DISTINCT t.id FROM (SELECT n.id FROM new_rows n JOIN old_rows o ON o.id = n.id WHERE (o.resolved_at, o.resolved_by_id) IS DISTINCT FROM (n.resolved_at, n.resolved_by_id) AND EXISTS (SELECT 1 FROM cases_caseevent e WHERE e.case_id = n.id AND e.event_type = 'resolved' AND e.actor_id IS NULL)) t(id)));\n"
        "    RETURN NULL;\n"
        "END\n"
        "$body$"
    ),
    (
        "CREATE OR REPLACE FUNCTION metrics_load_case_delete() RETURNS trigger LANGUAGE plpgsql AS $body$\n"
        "BEGIN\n"
        "    PERFORM metrics_load_refresh(ARRAY(SELECT DISTINCT t.id FROM (SELECT o.id FROM old_rows o WHERE EXISTS (SELECT 1 FROM metrics_load_fact f WHERE f.case_id = o.id)) t(id)));\n"
        "    RETURN NULL;\n"
        "END\n"
        "$body$"
    ),
    (
        "CREATE OR REPLACE FUNCTION metrics_load_case_truncate() RETURNS trigger LANGUAGE plpgsql AS $body$\n"
        "BEGIN\n"
        "    DELETE FROM metrics_load_pending;\n"
        "    DELETE FROM metrics_load_day;\n"
        "    DELETE FROM metrics_load_fact;\n"
        "    RETURN NULL;\n"
        "END\n"
        "$body$"
    ),
    (
        "CREATE OR REPLACE FUNCTION metrics_load_event_insert() RETURNS trigger LANGUAGE plpgsql AS $body$\n"
        "BEGIN\n"
        "    PERFORM metrics_load_refresh(ARRAY(SELECT DISTINCT t.id FROM (SELECT case_id FROM new_rows WHERE event_type IN ('assigned', 'resolved')) t(id)));\n"
        "    RETURN NULL;\n"
        "END\n"
        "$body$"
    ),
    (
        "CREATE OR REPLACE FUNCTION metrics_load_event_update() RETURNS trigger LANGUAGE plpgsql AS $body$\n"
        "BEGIN\n"
        "    PERFORM metrics_load_refresh(ARRAY(SELECT DISTINCT t.id FROM (SELECT case_id FROM old_rows WHERE event_type IN ('assigned', 'resolved') UNION SELECT case_id FROM new_rows WHERE event_type IN ('assigned', 'resolved')) t(id)));\n"
        "    RETURN NULL;\n"
        "END\n"
        "$body$"
    ),
    (
        "CREATE OR REPLACE FUNCTION metrics_load_event_delete() RETURNS trigger LANGUAGE plpgsql AS $body$\n"
        "BEGIN\n"
        "    PERFORM metrics_load_refresh(ARRAY(SELECT DISTINCT t.id FROM (SELECT case_id FROM old_rows WHERE event_type IN ('assigned', 'resolved')) t(id)));\n"
        "    RETURN NULL;\n"
        "END\n"
        "$body$"
    ),
    (
        "CREATE OR REPLACE FUNCTION metrics_load_event_truncate() RETURNS trigger LANGUAGE plpgsql AS $body$\n"
        "BEGIN\n"
        "    DELETE FROM metrics_load_pending;\n"
        "    DELETE FROM metrics_load_day;\n"
        "    DELETE FROM metrics_load_fact;\n"
        "    RETURN NULL;\n"
        "END\n"
        "$body$"
    ),
    "CREATE TRIGGER metrics_load_insert AFTER INSERT ON cases_case REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION metrics_load_case_insert()",
    "CREATE TRIGGER metrics_load_update AFTER UPDATE ON cases_case REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION metrics_load_case_update()",
    "CREATE TRIGGER metrics_load_delete AFTER DELETE ON cases_case REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION metrics_load_case_delete()",
    "CREATE TRIGGER metrics_load_truncate AFTER TRUNCATE ON cases_case FOR EACH STATEMENT EXECUTE FUNCTION metrics_load_case_truncate()",
    "CREATE TRIGGER metrics_load_insert AFTER INSERT ON cases_caseevent REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION metrics_load_event_insert()",
    "CREATE TRIGGER metrics_load_update AFTER UPDATE ON cases_caseevent REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION metrics_load_event_update()",
    "CREATE TRIGGER metrics_load_delete AFTER DELETE ON cases_caseevent REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION metrics_load_event_delete()",
    "CREATE TRIGGER metrics_load_truncate AFTER TRUNCATE ON cases_caseevent FOR EACH STATEMENT EXECUTE FUNCTION metrics_load_event_truncate()",
    "SELECT metrics_load_rebuild()",
]

UNINSTALL_SQL = [
    "DROP TRIGGER IF EXISTS metrics_load_insert ON cases_case",
    "DROP TRIGGER IF EXISTS metrics_load_update ON cases_case",
    "DROP TRIGGER IF EXISTS metrics_load_delete ON cases_case",
    "DROP TRIGGER IF EXISTS metrics_load_truncate ON cases_case",
    "DROP TRIGGER IF EXISTS metrics_load_insert ON cases_caseevent",
    "DROP TRIGGER IF EXISTS metrics_load_update ON cases_caseevent",
    "DROP TRIGGER IF EXISTS metrics_load_delete ON cases_caseevent",
    "DROP TRIGGER IF EXISTS metrics_load_truncate ON cases_caseevent",
    "DROP FUNCTION IF EXISTS metrics_load_fold()",
    "DROP FUNCTION IF EXISTS metrics_load_rebuild()",
    "DROP FUNCTION IF EXISTS metrics_load_case_insert()",
    "DROP FUNCTION IF EXISTS metrics_load_case_update()",
    "DROP FUNCTION IF EXISTS metrics_load_case_delete()",
    "DROP FUNCTION IF EXISTS metrics_load_case_truncate()",
    "DROP FUNCTION IF EXISTS metrics_load_event_insert()",
    "DROP FUNCTION IF EXISTS metrics_load_event_update()",
    "DROP FUNCTION IF EXISTS metrics_load_event_delete()",
    "DROP FUNCTION IF EXISTS metrics_load_event_truncate()",
    "DROP FUNCTION IF EXISTS metrics_load_refresh(bigint[])",
    "DROP TABLE IF EXISTS metrics_load_pending",
    "DROP TABLE IF EXISTS metrics_load_day",
    "DROP TABLE IF EXISTS metrics_load_fact",
]


class Migration(migrations.Migration):
    dependencies = [("metrics", "0010_csat_rollup")]

    operations = [migrations.RunSQL(INSTALL_SQL, UNINSTALL_SQL)]
