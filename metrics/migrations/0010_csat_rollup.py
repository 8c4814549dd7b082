# The CSAT rollup (metrics.rollups.csat): the per-response and per-resolution facts, their
# sums per team × UTC day × rep, the triggers on cases, events and survey responses that keep
# both exact, and a first rebuild that fills them.
#
# The SQL is a copy of what metrics.rollups.csat generated when this migration was written
# (a migration must not change when that module does);
# tests/metrics/test_rollup_functions.py checks that the installed functions still match it.

from django.db import migrations

TABLES_SQL = [
    (
        "CREATE TABLE metrics_csat_fact (\n"
        "    case_id bigint NOT NULL,\n"
        "    at timestamptz NOT NULL,\n"
        "    rep_id bigint,\n"
        "    team_id bigint,\n"
        "    is_response boolean NOT NULL,\n"
        "    csat smallint,\n"
        "    nps smallint,\n"
        "    effort smallint,\n"
        "    responded boolean\n"
        ")"
    ),
    "CREATE INDEX metrics_csat_fact_case ON metrics_csat_fact (case_id)",
    "CREATE INDEX metrics_csat_fact_at ON metrics_csat_fact (at) INCLUDE (team_id, rep_id, is_response, csat, nps, effort, responded)",
    (
        "CREATE TABLE metrics_rollup_csat_day (\n"
        "    team_id bigint,\n"
        "    day date NOT NULL,\n"
        "    rep_id bigint,\n"
        "    responses bigint NOT NULL DEFAULT 0,\n"
        "    satisfied bigint NOT NULL DEFAULT 0,\n"
        "    csat_sum bigint NOT NULL DEFAULT 0,\n"
        "    csat_sq bigint NOT NULL DEFAULT 0,\n"
        "    nps_n bigint NOT NULL DEFAULT 0,\n"
        "    promoters bigint NOT NULL DEFAULT 0,\n"
        "    detractors bigint NOT NULL DEFAULT 0,\n"
        "    effort_n bigint NOT NULL DEFAULT 0,\n"
        "    effort_sum bigint NOT NULL DEFAULT 0,\n"
        "    effort_sq bigint NOT NULL DEFAULT 0,\n"
        "    resolutions bigint NOT NULL DEFAULT 0,\n"
        "    responded bigint NOT NULL DEFAULT 0\n"
        ")"
    ),
    "CREATE UNIQUE INDEX metrics_rollup_csat_day_key ON metrics_rollup_csat_day (team_id, day, rep_id) NULLS NOT DISTINCT",
    "CREATE INDEX metrics_rollup_csat_day_day ON metrics_rollup_csat_day (day)",
    (
        "CREATE TABLE metrics_rollup_csat_pending (\n"
        "    team_id bigint,\n"
        "    day date NOT NULL,\n"
        "    rep_id bigint,\n"
        "    responses bigint NOT NULL DEFAULT 0,\n"
        "    satisfied bigint NOT NULL DEFAULT 0,\n"
        "    csat_sum bigint NOT NULL DEFAULT 0,\n"
        "    csat_sq bigint NOT NULL DEFAULT 0,\n"
        "    nps_n bigint NOT NULL DEFAULT 0,\n"
        "    promoters bigint NOT NULL DEFAULT 0,\n"
        "    detractors bigint NOT NULL DEFAULT 0,\n"
        "    effort_n bigint NOT NULL DEFAULT 0,\n"
        "    effort_sum bigint NOT NULL DEFAULT 0,\n"
        "    effort_sq bigint NOT NULL DEFAULT 0,\n"
        "    resolutions bigint NOT NULL DEFAULT 0,\n"
        "    responded bigint NOT NULL DEFAULT 0\n"
        ")"
    ),
]

DROP_TABLES_SQL = [
    "DROP TABLE IF EXISTS metrics_rollup_csat_pending",
    "DROP TABLE IF EXISTS metrics_rollup_csat_day",
    "DROP TABLE IF EXISTS metrics_csat_fact",
]

INSTALL_SQL = [
    "DROP TRIGGER IF EXISTS metrics_csat_update ON cases_case",
    "DROP TRIGGER IF EXISTS metrics_csat_delete ON cases_case",
    "DROP TRIGGER IF EXISTS metrics_csat_truncate ON cases_case",
    "DROP TRIGGER IF EXISTS metrics_csat_insert ON cases_caseevent",
    "DROP TRIGGER IF EXISTS metrics_csat_update ON cases_caseevent",
    "DROP TRIGGER IF EXISTS metrics_csat_delete ON cases_caseevent",
    "DROP TRIGGER IF EXISTS metrics_csat_truncate ON cases_caseevent",
    "DROP TRIGGER IF EXISTS metrics_csat_insert ON cases_surveyresponse",
    "DROP TRIGGER IF EXISTS metrics_csat_update ON cases_surveyresponse",
    "DROP TRIGGER IF EXISTS metrics_csat_delete ON cases_surveyresponse",
    "DROP TRIGGER IF EXISTS metrics_csat_truncate ON cases_surveyresponse",
    "DROP FUNCTION IF EXISTS metrics_csat_case_update()",
    "DROP FUNCTION IF EXISTS metrics_csat_case_delete()",
    "DROP FUNCTION IF EXISTS metrics_csat_case_truncate()",
    "DROP FUNCTION IF EXISTS metrics_csat_event_insert()",
    "DROP FUNCTION IF EXISTS metrics_csat_event_update()",
    "DROP FUNCTION IF EXISTS metrics_csat_event_delete()",
    "DROP FUNCTION IF EXISTS metrics_csat_event_truncate()",
    "DROP FUNCTION IF EXISTS metrics_csat_survey_insert()",
    "DROP FUNCTION IF EXISTS metrics_csat_survey_update()",
    "DROP FUNCTION IF EXISTS metrics_csat_survey_delete()",
    "DROP FUNCTION IF EXISTS metrics_csat_survey_truncate()",
    "DROP VIEW IF EXISTS metrics_rollup_csat_day_live",
    "DROP FUNCTION IF EXISTS metrics_csat_rebuild()",
    "DROP FUNCTION IF EXISTS metrics_csat_refresh(bigint[])",
    "DROP FUNCTION IF EXISTS metrics_csat_fold()",
    "CREATE VIEW metrics_rollup_csat_day_live AS SELECT team_id, day, rep_id, responses, satisfied, csat_sum, csat_sq, nps_n, promoters, detractors, effort_n, effort_sum, effort_sq, resolutions, responded FROM metrics_rollup_csat_day UNION ALL SELECT team_id, day, rep_id, responses, satisfied, csat_sum, csat_sq, nps_n, promoters, detractors, effort_n, effort_sum, effort_sq, resolutions, responded FROM metrics_rollup_csat_pending",
    (
        "CREATE OR REPLACE FUNCTION metrics_csat_fold() RETURNS void LANGUAGE sql AS $body$\n"
        "    WITH folded AS (DELETE FROM metrics_rollup_csat_pending RETURNING *)\n"
        "    INSERT INTO metrics_rollup_csat_day AS t (team_id, day, rep_id, responses, satisfied, csat_sum, csat_sq, nps_n, promoters, detractors, effort_n, effort_sum, effort_sq, resolutions, responded)\n"
        "    SELECT p.team_id, p.day, p.rep_id, sum(p.responses), sum(p.satisfied), sum(p.csat_sum), sum(p.csat_sq), sum(p.nps_n), sum(p.promoters), sum(p.detractors), sum(p.effort_n), sum(p.effort_sum), sum(p.effort_sq), sum(p.resolutions), sum(p.responded) FROM folded p\n"
        "     GROUP BY p.team_id, p.day, p.rep_id\n"
        "     ORDER BY p.team_id, p.day, p.rep_id\n"
        "    ON CONFLICT (team_id, day, rep_id) DO UPDATE SET responses = t.responses + excluded.responses, satisfied = t.satisfied + excluded.satisfied, csat_sum = t.csat_sum + excluded.csat_sum, csat_sq = t.csat_sq + excluded.csat_sq, nps_n = t.nps_n + excluded.nps_n, promoters = t.promoters + excluded.promoters, detractors = t.detractors + excluded.detractors, effort_n = t.effort_n + excluded.effort_n, effort_sum = t.effort_sum + excluded.effort_sum, effort_sq = t.effort_sq + excluded.effort_sq, resolutions = t.resolutions + excluded.resolutions, responded = t.responded + excluded.responded\n"
        "$body$"
    ),
    (
        "CREATE OR REPLACE FUNCTION metrics_csat_refresh(ids bigint[]) RETURNS void LANGUAGE plpgsql AS $body$\n"
        "BEGIN\n"
        "    IF ids IS NULL OR cardinality(ids) = 0 THEN\n"
        "        RETURN;\n"
        "    END IF;\n"
        "    -- Row locks in id order (two writers of several cases cannot wait for each other);\n"
        "    -- not advisory locks, which fill the shared lock table on a large import.\n"
        "    PERFORM 1 FROM cases_case WHERE id = ANY(ids) ORDER BY id FOR NO KEY UPDATE;\n"
        "    -- A new statement, so a new snapshot: it sees what a writer we waited for committed.\n"
        "    WITH old AS (\n"
        "        DELETE FROM metrics_csat_fact o WHERE o.case_id = ANY(ids) RETURNING -1 AS d, o.case_id, o.at, o.rep_id, o.team_id, o.is_response, o.csat, o.nps, o.effort, o.responded\n"
        "    ),\n"
        "    new AS (\n"
        "        INSERT INTO metrics_csat_fact (case_id, at, rep_id, team_id, is_response, csat, nps, effort, responded)\n"
        "        SELECT e.case_id, e.occurred_at, coalesce(e.actor_id, CASE WHEN rc.resolved_at = e.occurred_at THEN rc.resolved_by_id\n"
        "         ELSE (SELECT a.assignee_id FROM cases_caseevent a\n"
        "                WHERE a.case_id = e.case_id AND a.event_type = 'assigned'\n"
        "                  AND (a.occurred_at, a.id) < (e.occurred_at, e.id)\n"
        "                ORDER BY a.occurred_at DESC, a.id DESC LIMIT 1)\n"
        "    END),\n"
        "           rc.team_id, FALSE, NULL::smallint, NULL::smallint, NULL::smallint,\n"
        "           EXISTS (SELECT 1 FROM cases_surveyresponse s\n"
        "                    WHERE s.case_id = e.case_id AND s.resolution_number =\n"
        "                          CASE WHEN rc.reopened_count = 0 THEN 1\n"
        "                               ELSE (SELECT count(*) FROM cases_caseevent p\n"
        "                                      WHERE p.case_id = e.case_id AND p.event_type = 'resolved'\n"
        "                                        AND p.occurred_at <= e.occurred_at) END)\n"
        "      FROM cases_caseevent e JOIN cases_case rc ON rc.id = e.case_id\n"
        "     WHERE e.event_type = 'resolved' AND e.case_id = ANY(ids)\n"
        "    UNION ALL\n"
        "    SELECT s.case_id, s.responded_at, s.representative_id, c.team_id, TRUE,\n"
        "           s.csat::smallint, s.nps::smallint, s.effort::smallint, NULL::boolean\n"
        "      FROM cases_surveyresponse s JOIN cases_case c ON c.id = s.case_id\n"
        "     WHERE s.case_id = ANY(ids)\n"
        "        RETURNING 1 AS d, case_id, at, rep_id, team_id, is_response, csat, nps, effort, responded\n"
        "    ),\n"
        "    changes AS (SELECT * FROM old UNION ALL SELECT * FROM new)\n"
        "    INSERT INTO metrics_rollup_csat_pending (team_id, day, rep_id, responses, satisfied, csat_sum, csat_sq, nps_n, promoters, detractors, effort_n, effort_sum, effort_sq, resolutions, responded)\n"
        "    SELECT f.team_id, (f.at AT TIME ZONE 'UTC')::date AS day, f.rep_id, sum(f.d * f.is_response::int) AS responses, sum(f.d * (f.is_response AND f.csat >= 4)::int) AS satisfied, sum(f.d * coalesce(f.csat, 0)) AS csat_sum, sum(f.d * coalesce(f.csat * f.csat, 0)) AS csat_sq, sum(f.d * (f.nps IS NOT NULL)::int) AS nps_n, sum(f.d * coalesce(f.nps >= 9, FALSE)::int) AS promoters, sum(f.d * coalesce(f.nps <= 6, FALSE)::int) AS detractors, sum(f.d * (f.effort IS NOT NULL)::int) AS effort_n, sum(f.d * coalesce(f.effort, 0)) AS effort_sum, sum(f.d * coalesce(f.effort * f.effort, 0)) AS effort_sq, sum(f.d * (NOT f.is_response)::int) AS resolutions, sum(f.d * coalesce(f.responded, FALSE)::int) AS responded FROM changes f GROUP BY 1, 2, 3 HAVING sum(f.d * f.is_response::int) <> 0 OR sum(f.d * (f.is_response AND f.csat >= 4)::int) <> 0 OR sum(f.d * coalesce(f.csat, 0)) <> 0 OR sum(f.d * coalesce(f.csat * f.csat, 0)) <> 0 OR sum(f.d * (f.nps IS NOT NULL)::int) <> 0 OR sum(f.d * coalesce(f.nps >= 9, FALSE)::int) <> 0 OR sum(f.d * coalesce(f.nps <= 6, FALSE)::int) <> 0 OR sum(f.d * (f.effort IS NOT NULL)::int) <> 0 OR sum(f.d * coalesce(f.effort, 0)) <> 0 OR sum(f.d * coalesce(f.effort * f.effort, 0)) <> 0 OR sum(f.d * (NOT f.is_response)::int) <> 0 OR sum(f.d * coalesce(f.responded, FALSE)::int) <> 0;\n"
        "    IF FOUND AND pg_try_advisory_xact_lock(7236101956) THEN\n"
        "        PERFORM metrics_csat_fold();\n"
        "    END IF;\n"
        "END\n"
        "$body$"
    ),
    (
        "CREATE OR REPLACE FUNCTION metrics_csat_rebuild() RETURNS void LANGUAGE plpgsql AS $body$\n"
        "BEGIN\n"
        "    DELETE FROM metrics_rollup_csat_pending;\n"
        "    DELETE FROM metrics_rollup_csat_day;\n"
        "    DELETE FROM metrics_csat_fact;\n"
        "    INSERT INTO metrics_csat_fact (case_id, at, rep_id, team_id, is_response, csat, nps, effort, responded)\n"
        "    SELECT e.case_id, e.occurred_at, coalesce(e.actor_id, CASE WHEN rc.resolved_at = e.occurred_at THEN rc.resolved_by_id\n"
        "         ELSE (SELECT a.assignee_id FROM cases_caseevent a\n"
        "                WHERE a.case_id = e.case_id AND a.event_type = 'assigned'\n"
        "                  AND (a.occurred_at, a.id) < (e.occurred_at, e.id)\n"
        "                ORDER BY a.occurred_at DESC, a.id DESC LIMIT 1)\n"
        "    END),\n"
        "           rc.team_id, FALSE, NULL::smallint, NULL::smallint, NULL::smallint,\n"
        "           EXISTS (SELECT 1 FROM cases_surveyresponse s\n"
        "                    WHERE s.case_id = e.case_id AND s.resolution_number =\n"
        "                          CASE WHEN rc.reopened_count = 0 THEN 1\n"
        "                               ELSE (SELECT count(*) FROM cases_caseevent p\n"
        "                                      WHERE p.case_id = e.case_id AND p.event_type = 'resolved'\n"
        "                                        AND p.occurred_at <= e.occurred_at) END)\n"
        "      FROM cases_caseevent e JOIN cases_case rc ON rc.id = e.case_id\n"
        "     WHERE e.event_type = 'resolved' AND TRUE\n"
        "    UNION ALL\n"
        "    SELECT s.case_id, s.responded_at, s.representative_id, c.team_id, TRUE,\n"
        "           s.csat::smallint, s.nps::smallint, s.effort::smallint, NULL::boolean\n"
        "      FROM cases_surveyresponse s JOIN cases_case c ON c.id = s.case_id\n"
        "     WHERE TRUE;\n"
        "    INSERT INTO metrics_rollup_csat_day (team_id, day, rep_id, responses, satisfied, csat_sum, csat_sq, nps_n, promoters, detractors, effort_n, effort_sum, effort_sq, resolutions, responded)\n"
        "    SELECT * FROM (SELECT f.team_id, (f.at AT TIME ZONE 'UTC')::date AS day, f.rep_id, sum(1 * f.is_response::int) AS responses, sum(1 * (f.is_response AND f.csat >= 4)::int) AS satisfied, sum(1 * coalesce(f.csat, 0)) AS csat_sum, sum(1 * coalesce(f.csat * f.csat, 0)) AS csat_sq, sum(1 * (f.nps IS NOT NULL)::int) AS nps_n, sum(1 * coalesce(f.nps >= 9, FALSE)::int) AS promoters, sum(1 * coalesce(f.nps <= 6, FALSE)::int) AS detractors, sum(1 * (f.effort IS NOT NULL)::int) AS effort_n, sum(1 * coalesce(f.effort, 0)) AS effort_sum, sum(1 * coalesce(f.effort * f.effort, 0)) AS effort_sq, sum(1 * (NOT f.is_response)::int) AS resolutions, sum(1 * coalesce(f.responded, FALSE)::int) AS responded FROM metrics_csat_fact f GROUP BY 1, 2, 3 HAVING sum(1 * f.is_response::int) <> 0 OR sum(1 * (f.is_response AND f.csat >= 4)::int) <> 0 OR sum(1 * coalesce(f.csat, 0)) <> 0 OR sum(1 * coalesce(f.csat * f.csat, 0)) <> 0 OR sum(1 * (f.nps IS NOT NULL)::int) <> 0 OR sum(1 * coalesce(f.nps >= 9, FALSE)::int) <> 0 OR sum(1 * coalesce(f.nps <= 6, FALSE)::int) <> 0 OR sum(1 * (f.effort IS NOT NULL)::int) <> 0 OR sum(1 * coalesce(f.effort, 0)) <> 0 OR sum(1 * coalesce(f.effort * f.effort, 0)) <> 0 OR sum(1 * (NOT f.is_response)::int) <> 0 OR sum(1 * coalesce(f.responded, FALSE)::int) <> 0) s ORDER BY team_id, day, rep_id;\n"
        "END\n"
        "$body$"
    ),
    (
        "CREATE OR REPLACE FUNCTION metrics_csat_case_update() RETURNS trigger LANGUAGE plpgsql AS $body$\n"
        "BEGIN\n"
        "    PERFORM metrics_csat_refresh(ARRAY(SELECT n.id FROM old_rows o JOIN new_rows n ON n.id = o.id WHERE o.team_id IS DISTINCT FROM n.team_id OR o.resolved_at IS DISTINCT FROM n.resolved_at OR o.resolved_by_id IS DISTINCT FROM n.resolved_by_id OR o.reopened_count IS DISTINCT FROM n.reopened_count));\n"
        "    RETURN NULL;\n"
        "END\n"
        "$body$"
    ),
    (
        "CREATE OR REPLACE FUNCTION metrics_csat_case_delete() RETURNS trigger LANGUAGE plpgsql AS $body$\n"
        "BEGIN\n"
        "    PERFORM metrics_csat_refresh(ARRAY(SELECT r.id FROM old_rows r));\n"
        "    RETURN NULL;\n"
        "END\n"
        "$body$"
    ),
    (
        "CREATE OR REPLACE FUNCTION metrics_csat_case_truncate() RETURNS trigger LANGUAGE plpgsql AS $body$\n"
        "BEGIN\n"
        "    DELETE FROM metrics_rollup_csat_pending;\n"
        "    DELETE FROM metrics_rollup_csat_day;\n"
        "    DELETE FROM metrics_csat_fact;\n"
        "    RETURN NULL;\n"
        "END\n"
        "$body$"
    ),
    (
        "CREATE OR REPLACE FUNCTION metrics_csat_event_insert() RETURNS trigger LANGUAGE plpgsql AS $body$\n"
        "BEGIN\n"
        "    PERFORM metrics_csat_refresh(ARRAY(SELECT r.case_id FROM new_rows r WHERE r.event_type IN ('resolved', 'assigned')));\n"
        "    RETURN NULL;\n"
        "END\n"
        "$body$"
    ),
    (
        "CREATE OR REPLACE FUNCTION metrics_csat_event_update() RETURNS trigger LANGUAGE plpgsql AS $body$\n"
        "BEGIN\n"
        "    PERFORM metrics_csat_refresh(ARRAY(SELECT r.case_id FROM old_rows r WHERE r.event_type IN ('resolved', 'assigned') UNION SELECT r.case_id FROM new_rows r WHERE r.event_type IN ('resolved', 'assigned')));\n"
        "    RETURN NULL;\n"
        "END\n"
        "$body$"
    ),
    (
        "CREATE OR REPLACE FUNCTION metrics_csat_event_delete() RETURNS trigger LANGUAGE plpgsql AS $body$\n"
        "BEGIN\n"
        "    PERFORM metrics_csat_refresh(ARRAY(SELECT r.case_id FROM old_rows r WHERE r.event_type IN ('resolved', 'assigned')));\n"
        "    RETURN NULL;\n"
        "END\n"
        "$body$"
    ),
    (
        "CREATE OR REPLACE FUNCTION metrics_csat_event_truncate() RETURNS trigger LANGUAGE plpgsql AS $body$\n"
        "BEGIN\n"
        "    PERFORM metrics_csat_rebuild();\n"
        "    RETURN NULL;\n"
        "END\n"
        "$body$"
    ),
    (
        "CREATE OR REPLACE FUNCTION metrics_csat_survey_insert() RETURNS trigger LANGUAGE plpgsql AS $body$\n"
        "BEGIN\n"
        "    PERFORM metrics_csat_refresh(ARRAY(SELECT r.case_id FROM new_rows r));\n"
        "    RETURN NULL;\n"
        "END\n"
        "$body$"
    ),
    (
        "CREATE OR REPLACE FUNCTION metrics_csat_survey_update() RETURNS trigger LANGUAGE plpgsql AS $body$\n"
        "BEGIN\n"
        "    PERFORM metrics_csat_refresh(ARRAY(SELECT r.case_id FROM old_rows r UNION SELECT r.case_id FROM new_rows r));\n"
        "    RETURN NULL;\n"
        "END\n"
        "$body$"
    ),
    (
        "CREATE OR REPLACE FUNCTION metrics_csat_survey_delete() RETURNS trigger LANGUAGE plpgsql AS $body$\n"
        "BEGIN\n"
        "    PERFORM metrics_csat_refresh(ARRAY(SELECT r.case_id FROM old_rows r));\n"
        "    RETURN NULL;\n"
        "END\n"
        "$body$"
    ),
    (
        "CREATE OR REPLACE FUNCTION metrics_csat_survey_truncate() RETURNS trigger LANGUAGE plpgsql AS $body$\n"
        "BEGIN\n"
        "    PERFORM metrics_csat_rebuild();\n"
        "    RETURN NULL;\n"
        "END\n"
        "$body$"
    ),
    "CREATE TRIGGER metrics_csat_update AFTER UPDATE ON cases_case REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION metrics_csat_case_update()",
    "CREATE TRIGGER metrics_csat_delete AFTER DELETE ON cases_case REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION metrics_csat_case_delete()",
    "CREATE TRIGGER metrics_csat_truncate AFTER TRUNCATE ON cases_case FOR EACH STATEMENT EXECUTE FUNCTION metrics_csat_case_truncate()",
    "CREATE TRIGGER metrics_csat_insert AFTER INSERT ON cases_caseevent REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION metrics_csat_event_insert()",
    "CREATE TRIGGER metrics_csat_update AFTER UPDATE ON cases_caseevent REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION metrics_csat_event_update()",
    "CREATE TRIGGER metrics_csat_delete AFTER DELETE ON cases_caseevent REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION metrics_csat_event_delete()",
    "CREATE TRIGGER metrics_csat_truncate AFTER TRUNCATE ON cases_caseevent FOR EACH STATEMENT EXECUTE FUNCTION metrics_csat_event_truncate()",
    "CREATE TRIGGER metrics_csat_insert AFTER INSERT ON cases_surveyresponse REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION metrics_csat_survey_insert()",
    "CREATE TRIGGER metrics_csat_update AFTER UPDATE ON cases_surveyresponse REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION metrics_csat_survey_update()",
    "CREATE TRIGGER metrics_csat_delete AFTER DELETE ON cases_surveyresponse REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION metrics_csat_survey_delete()",
    "CREATE TRIGGER metrics_csat_truncate AFTER TRUNCATE ON cases_surveyresponse FOR EACH STATEMENT EXECUTE FUNCTION metrics_csat_survey_truncate()",
]

UNINSTALL_SQL = [
    "DROP TRIGGER IF EXISTS metrics_csat_update ON cases_case",
    "DROP TRIGGER IF EXISTS metrics_csat_delete ON cases_case",
    "DROP TRIGGER IF EXISTS metrics_csat_truncate ON cases_case",
    "DROP TRIGGER IF EXISTS metrics_csat_insert ON cases_caseevent",
    "DROP TRIGGER IF EXISTS metrics_csat_update ON cases_caseevent",
    "DROP TRIGGER IF EXISTS metrics_csat_delete ON cases_caseevent",
    "DROP TRIGGER IF EXISTS metrics_csat_truncate ON cases_caseevent",
    "DROP TRIGGER IF EXISTS metrics_csat_insert ON cases_surveyresponse",
    "DROP TRIGGER IF EXISTS metrics_csat_update ON cases_surveyresponse",
    "DROP TRIGGER IF EXISTS metrics_csat_delete ON cases_surveyresponse",
    "DROP TRIGGER IF EXISTS metrics_csat_truncate ON cases_surveyresponse",
    "DROP FUNCTION IF EXISTS metrics_csat_case_update()",
    "DROP FUNCTION IF EXISTS metrics_csat_case_delete()",
    "DROP FUNCTION IF EXISTS metrics_csat_case_truncate()",
    "DROP FUNCTION IF EXISTS metrics_csat_event_insert()",
    "DROP FUNCTION IF EXISTS metrics_csat_event_update()",
    "DROP FUNCTION IF EXISTS metrics_csat_event_delete()",
    "DROP FUNCTION IF EXISTS metrics_csat_event_truncate()",
    "DROP FUNCTION IF EXISTS metrics_csat_survey_insert()",
    "DROP FUNCTION IF EXISTS metrics_csat_survey_update()",
    "DROP FUNCTION IF EXISTS metrics_csat_survey_delete()",
    "DROP FUNCTION IF EXISTS metrics_csat_survey_truncate()",
    "DROP VIEW IF EXISTS metrics_rollup_csat_day_live",
    "DROP FUNCTION IF EXISTS metrics_csat_rebuild()",
    "DROP FUNCTION IF EXISTS metrics_csat_refresh(bigint[])",
    "DROP FUNCTION IF EXISTS metrics_csat_fold()",
]


class Migration(migrations.Migration):
    dependencies = [("metrics", "0009_duration_rollup")]

    operations = [
        migrations.RunSQL(TABLES_SQL, reverse_sql=DROP_TABLES_SQL),
        migrations.RunSQL(INSTALL_SQL, reverse_sql=UNINSTALL_SQL),
        migrations.RunSQL(
            [
                "SELECT metrics_csat_rebuild()",
                "ANALYZE metrics_csat_fact",
                "ANALYZE metrics_rollup_csat_day",
            ],
            reverse_sql=migrations.RunSQL.noop,
        ),
    ]
