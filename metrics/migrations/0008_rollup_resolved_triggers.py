# The triggers and the rebuild also write metrics_rollup_resolved_day (0007); then a rebuild
# fills it (and recomputes the other tables alike): about 2 minutes at 1M cases.
#
# The SQL is a copy of what metrics.rollups.ddl generated when this migration was written
# (install_sql and uninstall_sql): a migration must not change when that module does.
# tests/metrics/test_rollups.py checks that the installed functions still match the module.

from importlib import import_module

from django.db import migrations

INSTALL_SQL = [
    "DROP TRIGGER IF EXISTS metrics_rollups_insert ON cases_case",
    "DROP TRIGGER IF EXISTS metrics_rollups_update ON cases_case",
    "DROP TRIGGER IF EXISTS metrics_rollups_delete ON cases_case",
    "DROP TRIGGER IF EXISTS metrics_rollups_truncate ON cases_case",
    "DROP TRIGGER IF EXISTS metrics_rollups_insert ON cases_caseevent",
    "DROP TRIGGER IF EXISTS metrics_rollups_update ON cases_caseevent",
    "DROP TRIGGER IF EXISTS metrics_rollups_delete ON cases_caseevent",
    "DROP TRIGGER IF EXISTS metrics_rollups_truncate ON cases_caseevent",
    "DROP FUNCTION IF EXISTS metrics_rollups_case_insert()",
    "DROP FUNCTION IF EXISTS metrics_rollups_case_update()",
    "DROP FUNCTION IF EXISTS metrics_rollups_case_delete()",
    "DROP FUNCTION IF EXISTS metrics_rollups_case_truncate()",
    "DROP FUNCTION IF EXISTS metrics_rollups_event_insert()",
    "DROP FUNCTION IF EXISTS metrics_rollups_event_update()",
    "DROP FUNCTION IF EXISTS metrics_rollups_event_delete()",
    "DROP FUNCTION IF EXISTS metrics_rollups_event_truncate()",
    "DROP VIEW IF EXISTS metrics_rollup_category_day_live",
    "DROP VIEW IF EXISTS metrics_rollup_opened_day_live",
    "DROP VIEW IF EXISTS metrics_rollup_backlog_day_live",
    "DROP VIEW IF EXISTS metrics_rollup_rep_day_live",
    "DROP VIEW IF EXISTS metrics_rollup_resolved_day_live",
    "DROP FUNCTION IF EXISTS metrics_rollups_rebuild()",
    "DROP FUNCTION IF EXISTS metrics_rollups_fold()",
    "DROP FUNCTION IF EXISTS metrics_rollups_apply(metrics_rollup_fact[])",
    "DROP TYPE IF EXISTS metrics_rollup_fact",
    "CREATE TYPE metrics_rollup_fact AS (measure text, at timestamptz, d integer, team_id bigint, category_id bigint, rep_id bigint)",
    (
        "CREATE OR REPLACE FUNCTION metrics_rollups_apply(facts metrics_rollup_fact[]) RETURNS void LANGUAGE plpgsql AS $body$\n"
        "BEGIN\n"
        "    IF cardinality(facts) > 0 THEN\n"
        "    INSERT INTO metrics_rollup_category_day AS t (category_id, day, opened)\n"
        "    SELECT category_id, day, opened FROM (\n"
        "        SELECT f.category_id, f.day,\n"
        "               array_replace(ARRAY[0, sum(f.opened) FILTER (WHERE f.hr < 1), sum(f.opened) FILTER (WHERE f.hr < 2), sum(f.opened) FILTER (WHERE f.hr < 3), sum(f.opened) FILTER (WHERE f.hr < 4), sum(f.opened) FILTER (WHERE f.hr < 5), sum(f.opened) FILTER (WHERE f.hr < 6), sum(f.opened) FILTER (WHERE f.hr < 7), sum(f.opened) FILTER (WHERE f.hr < 8), sum(f.opened) FILTER (WHERE f.hr < 9), sum(f.opened) FILTER (WHERE f.hr < 10), sum(f.opened) FILTER (WHERE f.hr < 11), sum(f.opened) FILTER (WHERE f.hr < 12), sum(f.opened) FILTER (WHERE f.hr < 13), sum(f.opened) FILTER (WHERE f.hr < 14), sum(f.opened) FILTER (WHERE f.hr < 15), sum(f.opened) FILTER (WHERE f.hr < 16), sum(f.opened) FILTER (WHERE f.hr < 17), sum(f.opened) FILTER (WHERE f.hr < 18), sum(f.opened) FILTER (WHERE f.hr < 19), sum(f.opened) FILTER (WHERE f.hr < 20), sum(f.opened) FILTER (WHERE f.hr < 21), sum(f.opened) FILTER (WHERE f.hr < 22), sum(f.opened) FILTER (WHERE f.hr < 23), sum(f.opened) FILTER (WHERE f.hr < 24)], NULL, 0)::integer[] AS opened\n"
        "          FROM (SELECT u.category_id, (u.at AT TIME ZONE 'UTC')::date AS day,\n"
        "                       extract(hour FROM u.at AT TIME ZONE 'UTC')::int AS hr, sum(u.d) FILTER (WHERE u.measure = 'opened') AS opened\n"
        "                  FROM unnest(facts) u\n"
        "                 WHERE u.measure IN ('opened')\n"
        "                 GROUP BY u.category_id, day, hr) f\n"
        "         GROUP BY f.category_id, f.day\n"
        "    ) a\n"
        "     WHERE a.opened <> '{0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0}'::integer[]\n"
        "     ORDER BY a.category_id, a.day\n"
        "    ON CONFLICT (category_id, day) DO UPDATE SET\n"
        "        opened = ARRAY[t.opened[1] + excluded.opened[1], t.opened[2] + excluded.opened[2], t.opened[3] + excluded.opened[3], t.opened[4] + excluded.opened[4], t.opened[5] + excluded.opened[5], t.opened[6] + excluded.opened[6], t.opened[7] + excluded.opened[7], t.opened[8] + excluded.opened[8], t.opened[9] + excluded.opened[9], t.opened[10] + excluded.opened[10], t.opened[11] + excluded.opened[11], t.opened[12] + excluded.opened[12], t.opened[13] + excluded.opened[13], t.opened[14] + excluded.opened[14], t.opened[15] + excluded.opened[15], t.opened[16] + excluded.opened[16], t.opened[17] + excluded.opened[17], t.opened[18] + excluded.opened[18], t.opened[19] + excluded.opened[19], t.opened[20] + excluded.opened[20], t.opened[21] + excluded.opened[21], t.opened[22] + excluded.opened[22], t.opened[23] + excluded.opened[23], t.opened[24] + excluded.opened[24], t.opened[25] + excluded.opened[25]];\n"
        "    INSERT INTO metrics_rollup_opened_day AS t (team_id, category_id, day, opened)\n"
        "    SELECT team_id, category_id, day, opened FROM (\n"
        "        SELECT f.team_id, f.category_id, f.day,\n"
        "               array_replace(ARRAY[0, sum(f.opened) FILTER (WHERE f.hr < 1), sum(f.opened) FILTER (WHERE f.hr < 2), sum(f.opened) FILTER (WHERE f.hr < 3), sum(f.opened) FILTER (WHERE f.hr < 4), sum(f.opened) FILTER (WHERE f.hr < 5), sum(f.opened) FILTER (WHERE f.hr < 6), sum(f.opened) FILTER (WHERE f.hr < 7), sum(f.opened) FILTER (WHERE f.hr < 8), sum(f.opened) FILTER (WHERE f.hr < 9), sum(f.opened) FILTER (WHERE f.hr < 10), sum(f.opened) FILTER (WHERE f.hr < 11), sum(f.opened) FILTER (WHERE f.hr < 12), sum(f.opened) FILTER (WHERE f.hr < 13), sum(f.opened) FILTER (WHERE f.hr < 14), sum(f.opened) FILTER (WHERE f.hr < 15), sum(f.opened) FILTER (WHERE f.hr < 16), sum(f.opened) FILTER (WHERE f.hr < 17), sum(f.opened) FILTER (WHERE f.hr < 18), sum(f.opened) FILTER (WHERE f.hr < 19), sum(f.opened) FILTER (WHERE f.hr < 20), sum(f.opened) FILTER (WHERE f.hr < 21), sum(f.opened) FILTER (WHERE f.hr < 22), sum(f.opened) FILTER (WHERE f.hr < 23), sum(f.opened) FILTER (WHERE f.hr < 24)], NULL, 0)::integer[] AS opened\n"
        "          FROM (SELECT u.team_id, u.category_id, (u.at AT TIME ZONE 'UTC')::date AS day,\n"
        "                       extract(hour FROM u.at AT TIME ZONE 'UTC')::int AS hr, sum(u.d) FILTER (WHERE u.measure = 'opened') AS opened\n"
        "                  FROM unnest(facts) u\n"
        "                 WHERE u.measure IN ('opened')\n"
        "                 GROUP BY u.team_id, u.category_id, day, hr) f\n"
        "         GROUP BY f.team_id, f.category_id, f.day\n"
        "    ) a\n"
        "     WHERE a.opened <> '{0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0}'::integer[]\n"
        "     ORDER BY a.team_id, a.category_id, a.day\n"
        "    ON CONFLICT (team_id, category_id, day) DO UPDATE SET\n"
        "        opened = ARRAY[t.opened[1] + excluded.opened[1], t.opened[2] + excluded.opened[2], t.opened[3] + excluded.opened[3], t.opened[4] + excluded.opened[4], t.opened[5] + excluded.opened[5], t.opened[6] + excluded.opened[6], t.opened[7] + excluded.opened[7], t.opened[8] + excluded.opened[8], t.opened[9] + excluded.opened[9], t.opened[10] + excluded.opened[10], t.opened[11] + excluded.opened[11], t.opened[12] + excluded.opened[12], t.opened[13] + excluded.opened[13], t.opened[14] + excluded.opened[14], t.opened[15] + excluded.opened[15], t.opened[16] + excluded.opened[16], t.opened[17] + excluded.opened[17], t.opened[18] + excluded.opened[18], t.opened[19] + excluded.opened[19], t.opened[20] + excluded.opened[20], t.opened[21] + excluded.opened[21], t.opened[22] + excluded.opened[22], t.opened[23] + excluded.opened[23], t.opened[24] + excluded.opened[24], t.opened[25] + excluded.opened[25]];\n"
        "    INSERT INTO metrics_rollup_backlog_day AS t (team_id, day, opened, resolved, reopened)\n"
        "    SELECT team_id, day, opened, resolved, reopened FROM (\n"
        "        SELECT f.team_id, f.day,\n"
        "               array_replace(ARRAY[0, sum(f.opened) FILTER (WHERE f.hr < 1), sum(f.opened) FILTER (WHERE f.hr < 2), sum(f.opened) FILTER (WHERE f.hr < 3), sum(f.opened) FILTER (WHERE f.hr < 4), sum(f.opened) FILTER (WHERE f.hr < 5), sum(f.opened) FILTER (WHERE f.hr < 6), sum(f.opened) FILTER (WHERE f.hr < 7), sum(f.opened) FILTER (WHERE f.hr < 8), sum(f.opened) FILTER (WHERE f.hr < 9), sum(f.opened) FILTER (WHERE f.hr < 10), sum(f.opened) FILTER (WHERE f.hr < 11), sum(f.opened) FILTER (WHERE f.hr < 12), sum(f.opened) FILTER (WHERE f.hr < 13), sum(f.opened) FILTER (WHERE f.hr < 14), sum(f.opened) FILTER (WHERE f.hr < 15), sum(f.opened) FILTER (WHERE f.hr < 16), sum(f.opened) FILTER (WHERE f.hr < 17), sum(f.opened) FILTER (WHERE f.hr < 18), sum(f.opened) FILTER (WHERE f.hr < 19), sum(f.opened) FILTER (WHERE f.hr < 20), sum(f.opened) FILTER (WHERE f.hr < 21), sum(f.opened) FILTER (WHERE f.hr < 22), sum(f.opened) FILTER (WHERE f.hr < 23), sum(f.opened) FILTER (WHERE f.hr < 24)], NULL, 0)::integer[] AS opened,\n"
        "               array_replace(ARRAY[0, sum(f.resolved) FILTER (WHERE f.hr < 1), sum(f.resolved) FILTER (WHERE f.hr < 2), sum(f.resolved) FILTER (WHERE f.hr < 3), sum(f.resolved) FILTER (WHERE f.hr < 4), sum(f.resolved) FILTER (WHERE f.hr < 5), sum(f.resolved) FILTER (WHERE f.hr < 6), sum(f.resolved) FILTER (WHERE f.hr < 7), sum(f.resolved) FILTER (WHERE f.hr < 8), sum(f.resolved) FILTER (WHERE f.hr < 9), sum(f.resolved) FILTER (WHERE f.hr < 10), sum(f.resolved) FILTER (WHERE f.hr < 11), sum(f.resolved) FILTER (WHERE f.hr < 12), sum(f.resolved) FILTER (WHERE f.hr < 13), sum(f.resolved) FILTER (WHERE f.hr < 14), sum(f.resolved) FILTER (WHERE f.hr < 15), sum(f.resolved) FILTER (WHERE f.hr < 16), sum(f.resolved) FILTER (WHERE f.hr < 17), sum(f.resolved) FILTER (WHERE f.hr < 18), sum(f.resolved) FILTER (WHERE f.hr < 19), sum(f.resolved) FILTER (WHERE f.hr < 20), sum(f.resolved) FILTER (WHERE f.hr < 21), sum(f.resolved) FILTER (WHERE f.hr < 22), sum(f.resolved) FILTER (WHERE f.hr < 23), sum(f.resolved) FILTER (WHERE f.hr < 24)], NULL, 0)::integer[] AS resolved,\n"
        "               array_replace(ARRAY[0, sum(f.reopened) FILTER (WHERE f.hr < 1), sum(f.reopened) FILTER (WHERE f.hr < 2), sum(f.reopened) FILTER (WHERE f.hr < 3), sum(f.reopened) FILTER (WHERE f.hr < 4), sum(f.reopened) FILTER (WHERE f.hr < 5), sum(f.reopened) FILTER (WHERE f.hr < 6), sum(f.reopened) FILTER (WHERE f.hr < 7), sum(f.reopened) FILTER (WHERE f.hr < 8), sum(f.reopened) FILTER (WHERE f.hr < 9), sum(f.reopened) FILTER (WHERE f.hr < 10), sum(f.reopened) FILTER (WHERE f.hr < 11), sum(f.reopened) FILTER (WHERE f.hr < 12), sum(f.reopened) FILTER (WHERE f.hr < 13), sum(f.reopened) FILTER (WHERE f.hr < 14), sum(f.reopened) FILTER (WHERE f.hr < 15), sum(f.reopened) FILTER (WHERE f.hr < 16), sum(f.reopened) FILTER (WHERE f.hr < 17), sum(f.reopened) FILTER (WHERE f.hr < 18), sum(f.reopened) FILTER (WHERE f.hr < 19), sum(f.reopened) FILTER (WHERE f.hr < 20), sum(f.reopened) FILTER (WHERE f.hr < 21), sum(f.reopened) FILTER (WHERE f.hr < 22), sum(f.reopened) FILTER (WHERE f.hr < 23), sum(f.reopened) FILTER (WHERE f.hr < 24)], NULL, 0)::integer[] AS reopened\n"
        "          FROM (SELECT u.team_id, (u.at AT TIME ZONE 'UTC')::date AS day,\n"
        "                       extract(hour FROM u.at AT TIME ZONE 'UTC')::int AS hr, sum(u.d) FILTER (WHERE u.measure = 'opened') AS opened, sum(u.d) FILTER (WHERE u.measure = 'resolved') AS resolved, sum(u.d) FILTER (WHERE u.measure = 'reopened') AS reopened\n"
        "                  FROM unnest(facts) u\n"
        "                 WHERE u.measure IN ('opened', 'resolved', 'reopened')\n"
        "                 GROUP BY u.team_id, day, hr) f\n"
        "         GROUP BY f.team_id, f.day\n"
        "    ) a\n"
        "     WHERE a.opened <> '{0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0}'::integer[] OR a.resolved <> '{0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0}'::integer[] OR a.reopened <> '{0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0}'::integer[]\n"
        "     ORDER BY a.team_id, a.day\n"
        "    ON CONFLICT (team_id, day) DO UPDATE SET\n"
        "        opened = ARRAY[t.opened[1] + excluded.opened[1], t.opened[2] + excluded.opened[2], t.opened[3] + excluded.opened[3], t.opened[4] + excluded.opened[4], t.opened[5] + excluded.opened[5], t.opened[6] + excluded.opened[6], t.opened[7] + excluded.opened[7], t.opened[8] + excluded.opened[8], t.opened[9] + excluded.opened[9], t.opened[10] + excluded.opened[10], t.opened[11] + excluded.opened[11], t.opened[12] + excluded.opened[12], t.opened[13] + excluded.opened[13], t.opened[14] + excluded.opened[14], t.opened[15] + excluded.opened[15], t.opened[16] + excluded.opened[16], t.opened[17] + excluded.opened[17], t.opened[18] + excluded.opened[18], t.opened[19] + excluded.opened[19], t.opened[20] + excluded.opened[20], t.opened[21] + excluded.opened[21], t.opened[22] + excluded.opened[22], t.opened[23] + excluded.opened[23], t.opened[24] + excluded.opened[24], t.opened[25] + excluded.opened[25]],\n"
        "        resolved = ARRAY[t.resolved[1] + excluded.resolved[1], t.resolved[2] + excluded.resolved[2], t.resolved[3] + excluded.resolved[3], t.resolved[4] + excluded.resolved[4], t.resolved[5] + excluded.resolved[5], t.resolved[6] + excluded.resolved[6], t.resolved[7] + excluded.resolved[7], t.resolved[8] + excluded.resolved[8], t.resolved[9] + excluded.resolved[9], t.resolved[10] + excluded.resolved[10], t.resolved[11] + excluded.resolved[11], t.resolved[12] + excluded.resolved[12], t.resolved[13] + excluded.resolved[13], t.resolved[14] + excluded.resolved[14], t.resolved[15] + excluded.resolved[15], t.resolved[16] + excluded.resolved[16], t.resolved[17] + excluded.resolved[17], t.resolved[18] + excluded.resolved[18], t.resolved[19] + excluded.resolved[19], t.resolved[20] + excluded.resolved[20], t.resolved[21] + excluded.resolved[21], t.resolved[22] + excluded.resolved[22], t.resolved[23] + excluded.resolved[23], t.resolved[24] + excluded.resolved[24], t.resolved[25] + excluded.resolved[25]],\n"
        "        reopened = ARRAY[t.reopened[1] + excluded.reopened[1], t.reopened[2] + excluded.reopened[2], t.reopened[3] + excluded.reopened[3], t.reopened[4] + excluded.reopened[4], t.reopened[5] + excluded.reopened[5], t.reopened[6] + excluded.reopened[6], t.reopened[7] + excluded.reopened[7], t.reopened[8] + excluded.reopened[8], t.reopened[9] + excluded.reopened[9], t.reopened[10] + excluded.reopened[10], t.reopened[11] + excluded.reopened[11], t.reopened[12] + excluded.reopened[12], t.reopened[13] + excluded.reopened[13], t.reopened[14] + excluded.reopened[14], t.reopened[15] + excluded.reopened[15], t.reopened[16] + excluded.reopened[16], t.reopened[17] + excluded.reopened[17], t.reopened[18] + excluded.reopened[18], t.reopened[19] + excluded.reopened[19], t.reopened[20] + excluded.reopened[20], t.reopened[21] + excluded.reopened[21], t.reopened[22] + excluded.reopened[22], t.reopened[23] + excluded.reopened[23], t.reopened[24] + excluded.reopened[24], t.reopened[25] + excluded.reopened[25]];\n"
        "    INSERT INTO metrics_rollup_rep_day AS t (rep_id, team_id, day, opened, resolved, reopened, resolved_by_rep)\n"
        "    SELECT rep_id, team_id, day, opened, resolved, reopened, resolved_by_rep FROM (\n"
        "        SELECT f.rep_id, f.team_id, f.day,\n"
        "               array_replace(ARRAY[0, sum(f.opened) FILTER (WHERE f.hr < 1), sum(f.opened) FILTER (WHERE f.hr < 2), sum(f.opened) FILTER (WHERE f.hr < 3), sum(f.opened) FILTER (WHERE f.hr < 4), sum(f.opened) FILTER (WHERE f.hr < 5), sum(f.opened) FILTER (WHERE f.hr < 6), sum(f.opened) FILTER (WHERE f.hr < 7), sum(f.opened) FILTER (WHERE f.hr < 8), sum(f.opened) FILTER (WHERE f.hr < 9), sum(f.opened) FILTER (WHERE f.hr < 10), sum(f.opened) FILTER (WHERE f.hr < 11), sum(f.opened) FILTER (WHERE f.hr < 12), sum(f.opened) FILTER (WHERE f.hr < 13), sum(f.opened) FILTER (WHERE f.hr < 14), sum(f.opened) FILTER (WHERE f.hr < 15), sum(f.opened) FILTER (WHERE f.hr < 16), sum(f.opened) FILTER (WHERE f.hr < 17), sum(f.opened) FILTER (WHERE f.hr < 18), sum(f.opened) FILTER (WHERE f.hr < 19), sum(f.opened) FILTER (WHERE f.hr < 20), sum(f.opened) FILTER (WHERE f.hr < 21), sum(f.opened) FILTER (WHERE f.hr < 22), sum(f.opened) FILTER (WHERE f.hr < 23), sum(f.opened) FILTER (WHERE f.hr < 24)], NULL, 0)::integer[] AS opened,\n"
        "               array_replace(ARRAY[0, sum(f.resolved) FILTER (WHERE f.hr < 1), sum(f.resolved) FILTER (WHERE f.hr < 2), sum(f.resolved) FILTER (WHERE f.hr < 3), sum(f.resolved) FILTER (WHERE f.hr < 4), sum(f.resolved) FILTER (WHERE f.hr < 5), sum(f.resolved) FILTER (WHERE f.hr < 6), sum(f.resolved) FILTER (WHERE f.hr < 7), sum(f.resolved) FILTER (WHERE f.hr < 8), sum(f.resolved) FILTER (WHERE f.hr < 9), sum(f.resolved) FILTER (WHERE f.hr < 10), sum(f.resolved) FILTER (WHERE f.hr < 11), sum(f.resolved) FILTER (WHERE f.hr < 12), sum(f.resolved) FILTER (WHERE f.hr < 13), sum(f.resolved) FILTER (WHERE f.hr < 14), sum(f.resolved) FILTER (WHERE f.hr < 15), sum(f.resolved) FILTER (WHERE f.hr < 16), sum(f.resolved) FILTER (WHERE f.hr < 17), sum(f.resolved) FILTER (WHERE f.hr < 18), sum(f.resolved) FILTER (WHERE f.hr < 19), sum(f.resolved) FILTER (WHERE f.hr < 20), sum(f.resolved) FILTER (WHERE f.hr < 21), sum(f.resolved) FILTER (WHERE f.hr < 22), sum(f.resolved) FILTER (WHERE f.hr < 23), sum(f.resolved) FILTER (WHERE f.hr < 24)], NULL, 0)::integer[] AS resolved,\n"
        "               array_replace(ARRAY[0, sum(f.reopened) FILTER (WHERE f.hr < 1), sum(f.reopened) FILTER (WHERE f.hr < 2), sum(f.reopened) FILTER (WHERE f.hr < 3), sum(f.reopened) FILTER (WHERE f.hr < 4), sum(f.reopened) FILTER (WHERE f.hr < 5), sum(f.reopened) FILTER (WHERE f.hr < 6), sum(f.reopened) FILTER (WHERE f.hr < 7), sum(f.reopened) FILTER (WHERE f.hr < 8), sum(f.reopened) FILTER (WHERE f.hr < 9), sum(f.reopened) FILTER (WHERE f.hr < 10), sum(f.reopened) FILTER (WHERE f.hr < 11), sum(f.reopened) FILTER (WHERE f.hr < 12), sum(f.reopened) FILTER (WHERE f.hr < 13), sum(f.reopened) FILTER (WHERE f.hr < 14), sum(f.reopened) FILTER (WHERE f.hr < 15), sum(f.reopened) FILTER (WHERE f.hr < 16), sum(f.reopened) FILTER (WHERE f.hr < 17), sum(f.reopened) FILTER (WHERE f.hr < 18), sum(f.reopened) FILTER (WHERE f.hr < 19), sum(f.reopened) FILTER (WHERE f.hr < 20), sum(f.reopened) FILTER (WHERE f.hr < 21), sum(f.reopened) FILTER (WHERE f.hr < 22), sum(f.reopened) FILTER (WHERE f.hr < 23), sum(f.reopened) FILTER (WHERE f.hr < 24)], NULL, 0)::integer[] AS reopened,\n"
        "               array_replace(ARRAY[0, sum(f.resolved_by_rep) FILTER (WHERE f.hr < 1), sum(f.resolved_by_rep) FILTER (WHERE f.hr < 2), sum(f.resolved_by_rep) FILTER (WHERE f.hr < 3), sum(f.resolved_by_rep) FILTER (WHERE f.hr < 4), sum(f.resolved_by_rep) FILTER (WHERE f.hr < 5), sum(f.resolved_by_rep) FILTER (WHERE f.hr < 6), sum(f.resolved_by_rep) FILTER (WHERE f.hr < 7), sum(f.resolved_by_rep) FILTER (WHERE f.hr < 8), sum(f.resolved_by_rep) FILTER (WHERE f.hr < 9), sum(f.resolved_by_rep) FILTER (WHERE f.hr < 10), sum(f.resolved_by_rep) FILTER (WHERE f.hr < 11), sum(f.resolved_by_rep) FILTER (WHERE f.hr < 12), sum(f.resolved_by_rep) FILTER (WHERE f.hr < 13), sum(f.resolved_by_rep) FILTER (WHERE f.hr < 14), sum(f.resolved_by_rep) FILTER (WHERE f.hr < 15), sum(f.resolved_by_rep) FILTER (WHERE f.hr < 16), sum(f.resolved_by_rep) FILTER (WHERE f.hr < 17), sum(f.resolved_by_rep) FILTER (WHERE f.hr < 18), sum(f.resolved_by_rep) FILTER (WHERE f.hr < 19), sum(f.resolved_by_rep) FILTER (WHERE f.hr < 20), sum(f.resolved_by_rep) FILTER (WHERE f.hr < 21), sum(f.resolved_by_rep) FILTER (WHERE f.hr < 22), sum(f.resolved_by_rep) FILTER (WHERE f.hr < 23), sum(f.resolved_by_rep) FILTER (WHERE f.hr < 24)], NULL, 0)::integer[] AS resolved_by_rep\n"
        "          FROM (SELECT u.rep_id, u.team_id, (u.at AT TIME ZONE 'UTC')::date AS day,\n"
        "                       extract(hour FROM u.at AT TIME ZONE 'UTC')::int AS hr, sum(u.d) FILTER (WHERE u.measure = 'opened') AS opened, sum(u.d) FILTER (WHERE u.measure = 'resolved') AS resolved, sum(u.d) FILTER (WHERE u.measure = 'reopened') AS reopened, sum(u.d) FILTER (WHERE u.measure = 'resolved_by_rep') AS resolved_by_rep\n"
        "                  FROM unnest(facts) u\n"
        "                 WHERE u.measure IN ('opened', 'resolved', 'reopened', 'resolved_by_rep') AND u.rep_id IS NOT NULL\n"
        "                 GROUP BY u.rep_id, u.team_id, day, hr) f\n"
        "         GROUP BY f.rep_id, f.team_id, f.day\n"
        "    ) a\n"
        "     WHERE a.opened <> '{0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0}'::integer[] OR a.resolved <> '{0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0}'::integer[] OR a.reopened <> '{0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0}'::integer[] OR a.resolved_by_rep <> '{0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0}'::integer[]\n"
        "     ORDER BY a.rep_id, a.team_id, a.day\n"
        "    ON CONFLICT (rep_id, team_id, day) DO UPDATE SET\n"
        "        opened = ARRAY[t.opened[1] + excluded.opened[1], t.opened[2] + excluded.opened[2], t.opened[3] + excluded.opened[3], t.opened[4] + excluded.opened[4], t.opened[5] + excluded.opened[5], t.opened[6] + excluded.opened[6], t.opened[7] + excluded.opened[7], t.opened[8] + excluded.opened[8], t.opened[9] + excluded.opened[9], t.opened[10] + excluded.opened[10], t.opened[11] + excluded.opened[11], t.opened[12] + excluded.opened[12], t.opened[13] + excluded.opened[13], t.opened[14] + excluded.opened[14], t.opened[15] + excluded.opened[15], t.opened[16] + excluded.opened[16], t.opened[17] + excluded.opened[17], t.opened[18] + excluded.opened[18], t.opened[19] + excluded.opened[19], t.opened[20] + excluded.opened[20], t.opened[21] + excluded.opened[21], t.opened[22] + excluded.opened[22], t.opened[23] + excluded.opened[23], t.opened[24] + excluded.opened[24], t.opened[25] + excluded.opened[25]],\n"
        "        resolved = ARRAY[t.resolved[1] + excluded.resolved[1], t.resolved[2] + excluded.resolved[2], t.resolved[3] + excluded.resolved[3], t.resolved[4] + excluded.resolved[4], t.resolved[5] + excluded.resolved[5], t.resolved[6] + excluded.resolved[6], t.resolved[7] + excluded.resolved[7], t.resolved[8] + excluded.resolved[8], t.resolved[9] + excluded.resolved[9], t.resolved[10] + excluded.resolved[10], t.resolved[11] + excluded.resolved[11], t.resolved[12] + excluded.resolved[12], t.resolved[13] + excluded.resolved[13], t.resolved[14] + excluded.resolved[14], t.resolved[15] + excluded.resolved[15], t.resolved[16] + excluded.resolved[16], t.resolved[17] + excluded.resolved[17], t.resolved[18] + excluded.resolved[18], t.resolved[19] + excluded.resolved[19], t.resolved[20] + excluded.resolved[20], t.resolved[21] + excluded.resolved[21], t.resolved[22] + excluded.resolved[22], t.resolved[23] + excluded.resolved[23], t.resolved[24] + excluded.resolved[24], t.resolved[25] + excluded.resolved[25]],\n"
        "        reopened = ARRAY[t.reopened[1] + excluded.reopened[1], t.reopened[2] + excluded.reopened[2], t.reopened[3] + excluded.reopened[3], t.reopened[4] + excluded.reopened[4], t.reopened[5] + excluded.reopened[5], t.reopened[6] + excluded.reopened[6], t.reopened[7] + excluded.reopened[7], t.reopened[8] + excluded.reopened[8], t.reopened[9] + excluded.reopened[9], t.reopened[10] + excluded.reopened[10], t.reopened[11] + excluded.reopened[11], t.reopened[12] + excluded.reopened[12], t.reopened[13] + excluded.reopened[13], t.reopened[14] + excluded.reopened[14], t.reopened[15] + excluded.reopened[15], t.reopened[16] + excluded.reopened[16], t.reopened[17] + excluded.reopened[17], t.reopened[18] + excluded.reopened[18], t.reopened[19] + excluded.reopened[19], t.reopened[20] + excluded.reopened[20], t.reopened[21] + excluded.reopened[21], t.reopened[22] + excluded.reopened[22], t.reopened[23] + excluded.reopened[23], t.reopened[24] + excluded.reopened[24], t.reopened[25] + excluded.reopened[25]],\n"
        "        resolved_by_rep = ARRAY[t.resolved_by_rep[1] + excluded.resolved_by_rep[1], t.resolved_by_rep[2] + excluded.resolved_by_rep[2], t.resolved_by_rep[3] + excluded.resolved_by_rep[3], t.resolved_by_rep[4] + excluded.resolved_by_rep[4], t.resolved_by_rep[5] + excluded.resolved_by_rep[5], t.resolved_by_rep[6] + excluded.resolved_by_rep[6], t.resolved_by_rep[7] + excluded.resolved_by_rep[7], t.resolved_by_rep[8] + excluded.resolved_by_rep[8], t.resolved_by_rep[9] + excluded.resolved_by_rep[9], t.resolved_by_rep[10] + excluded.resolved_by_rep[10], t.resolved_by_rep[11] + excluded.resolved_by_rep[11], t.resolved_by_rep[12] + excluded.resolved_by_rep[12], t.resolved_by_rep[13] + excluded.resolved_by_rep[13], t.resolved_by_rep[14] + excluded.resolved_by_rep[14], t.resolved_by_rep[15] + excluded.resolved_by_rep[15], t.resolved_by_rep[16] + excluded.resolved_by_rep[16], t.resolved_by_rep[17] + excluded.resolved_by_rep[17], t.resolved_by_rep[18] + excluded.resolved_by_rep[18], t.resolved_by_rep[19] + excluded.resolved_by_rep[19], t.resolved_by_rep[20] + excluded.resolved_by_rep[20], t.resolved_by_rep[21] + excluded.resolved_by_rep[21], t.resolved_by_rep[22] + excluded.resolved_by_rep[22], t.resolved_by_rep[23] + excluded.resolved_by_rep[23], t.resolved_by_rep[24] + excluded.resolved_by_rep[24], t.resolved_by_rep[25] + excluded.resolved_by_rep[25]];\n"
        "    INSERT INTO metrics_rollup_resolved_day AS t (team_id, day, resolved_cases, zero_touch, touched, one_touch, reopened_cases)\n"
        "    SELECT team_id, day, resolved_cases, zero_touch, touched, one_touch, reopened_cases FROM (\n"
        "        SELECT f.team_id, f.day,\n"
        "               array_replace(ARRAY[0, sum(f.resolved_cases) FILTER (WHERE f.hr < 1), sum(f.resolved_cases) FILTER (WHERE f.hr < 2), sum(f.resolved_cases) FILTER (WHERE f.hr < 3), sum(f.resolved_cases) FILTER (WHERE f.hr < 4), sum(f.resolved_cases) FILTER (WHERE f.hr < 5), sum(f.resolved_cases) FILTER (WHERE f.hr < 6), sum(f.resolved_cases) FILTER (WHERE f.hr < 7), sum(f.resolved_cases) FILTER (WHERE f.hr < 8), sum(f.resolved_cases) FILTER (WHERE f.hr < 9), sum(f.resolved_cases) FILTER (WHERE f.hr < 10), sum(f.resolved_cases) FILTER (WHERE f.hr < 11), sum(f.resolved_cases) FILTER (WHERE f.hr < 12), sum(f.resolved_cases) FILTER (WHERE f.hr < 13), sum(f.resolved_cases) FILTER (WHERE f.hr < 14), sum(f.resolved_cases) FILTER (WHERE f.hr < 15), sum(f.resolved_cases) FILTER (WHERE f.hr < 16), sum(f.resolved_cases) FILTER (WHERE f.hr < 17), sum(f.resolved_cases) FILTER (WHERE f.hr < 18), sum(f.resolved_cases) FILTER (WHERE f.hr < 19), sum(f.resolved_cases) FILTER (WHERE f.hr < 20), sum(f.resolved_cases) FILTER (WHERE f.hr < 21), sum(f.resolved_cases) FILTER (WHERE f.hr < 22), sum(f.resolved_cases) FILTER (WHERE f.hr < 23), sum(f.resolved_cases) FILTER (WHERE f.hr < 24)], NULL, 0)::integer[] AS resolved_cases,\n"
        "               array_replace(ARRAY[0, sum(f.zero_touch) FILTER (WHERE f.hr < 1), sum(f.zero_touch) FILTER (WHERE f.hr < 2), sum(f.zero_touch) FILTER (WHERE f.hr < 3), sum(f.zero_touch) FILTER (WHERE f.hr < 4), sum(f.zero_touch) FILTER (WHERE f.hr < 5), sum(f.zero_touch) FILTER (WHERE f.hr < 6), sum(f.zero_touch) FILTER (WHERE f.hr < 7), sum(f.zero_touch) FILTER (WHERE f.hr < 8), sum(f.zero_touch) FILTER (WHERE f.hr < 9), sum(f.zero_touch) FILTER (WHERE f.hr < 10), sum(f.zero_touch) FILTER (WHERE f.hr < 11), sum(f.zero_touch) FILTER (WHERE f.hr < 12), sum(f.zero_touch) FILTER (WHERE f.hr < 13), sum(f.zero_touch) FILTER (WHERE f.hr < 14), sum(f.zero_touch) FILTER (WHERE f.hr < 15), sum(f.zero_touch) FILTER (WHERE f.hr < 16), sum(f.zero_touch) FILTER (WHERE f.hr < 17), sum(f.zero_touch) FILTER (WHERE f.hr < 18), sum(f.zero_touch) FILTER (WHERE f.hr < 19), sum(f.zero_touch) FILTER (WHERE f.hr < 20), sum(f.zero_touch) FILTER (WHERE f.hr < 21), sum(f.zero_touch) FILTER (WHERE f.hr < 22), sum(f.zero_touch) FILTER (WHERE f.hr < 23), sum(f.zero_touch) FILTER (WHERE f.hr < 24)], NULL, 0)::integer[] AS zero_touch,\n"
        "               array_replace(ARRAY[0, sum(f.touched) FILTER (WHERE f.hr < 1), sum(f.touched) FILTER (WHERE f.hr < 2), sum(f.touched) FILTER (WHERE f.hr < 3), sum(f.touched) FILTER (WHERE f.hr < 4), sum(f.touched) FILTER (WHERE f.hr < 5), sum(f.touched) FILTER (WHERE f.hr < 6), sum(f.touched) FILTER (WHERE f.hr < 7), sum(f.touched) FILTER (WHERE f.hr < 8), sum(f.touched) FILTER (WHERE f.hr < 9), sum(f.touched) FILTER (WHERE f.hr < 10), sum(f.touched) FILTER (WHERE f.hr < 11), sum(f.touched) FILTER (WHERE f.hr < 12), sum(f.touched) FILTER (WHERE f.hr < 13), sum(f.touched) FILTER (WHERE f.hr < 14), sum(f.touched) FILTER (WHERE f.hr < 15), sum(f.touched) FILTER (WHERE f.hr < 16), sum(f.touched) FILTER (WHERE f.hr < 17), sum(f.touched) FILTER (WHERE f.hr < 18), sum(f.touched) FILTER (WHERE f.hr < 19), sum(f.touched) FILTER (WHERE f.hr < 20), sum(f.touched) FILTER (WHERE f.hr < 21), sum(f.touched) FILTER (WHERE f.hr < 22), sum(f.touched) FILTER (WHERE f.hr < 23), sum(f.touched) FILTER (WHERE f.hr < 24)], NULL, 0)::integer[] AS touched,\n"
        "               array_replace(ARRAY[0, sum(f.one_touch) FILTER (WHERE f.hr < 1), sum(f.one_touch) FILTER (WHERE f.hr < 2), sum(f.one_touch) FILTER (WHERE f.hr < 3), sum(f.one_touch) FILTER (WHERE f.hr < 4), sum(f.one_touch) FILTER (WHERE f.hr < 5), sum(f.one_touch) FILTER (WHERE f.hr < 6), sum(f.one_touch) FILTER (WHERE f.hr < 7), sum(f.one_touch) FILTER (WHERE f.hr < 8), sum(f.one_touch) FILTER (WHERE f.hr < 9), sum(f.one_touch) FILTER (WHERE f.hr < 10), sum(f.one_touch) FILTER (WHERE f.hr < 11), sum(f.one_touch) FILTER (WHERE f.hr < 12), sum(f.one_touch) FILTER (WHERE f.hr < 13), sum(f.one_touch) FILTER (WHERE f.hr < 14), sum(f.one_touch) FILTER (WHERE f.hr < 15), sum(f.one_touch) FILTER (WHERE f.hr < 16), sum(f.one_touch) FILTER (WHERE f.hr < 17), sum(f.one_touch) FILTER (WHERE f.hr < 18), sum(f.one_touch) FILTER (WHERE f.hr < 19), sum(f.one_touch) FILTER (WHERE f.hr < 20), sum(f.one_touch) FILTER (WHERE f.hr < 21), sum(f.one_touch) FILTER (WHERE f.hr < 22), sum(f.one_touch) FILTER (WHERE f.hr < 23), sum(f.one_touch) FILTER (WHERE f.hr < 24)], NULL, 0)::integer[] AS one_touch,\n"
        "               array_replace(ARRAY[0, sum(f.reopened_cases) FILTER (WHERE f.hr < 1), sum(f.reopened_cases) FILTER (WHERE f.hr < 2), sum(f.reopened_cases) FILTER (WHERE f.hr < 3), sum(f.reopened_cases) FILTER (WHERE f.hr < 4), sum(f.reopened_cases) FILTER (WHERE f.hr < 5), sum(f.reopened_cases) FILTER (WHERE f.hr < 6), sum(f.reopened_cases) FILTER (WHERE f.hr < 7), sum(f.reopened_cases) FILTER (WHERE f.hr < 8), sum(f.reopened_cases) FILTER (WHERE f.hr < 9), sum(f.reopened_cases) FILTER (WHERE f.hr < 10), sum(f.reopened_cases) FILTER (WHERE f.hr < 11), sum(f.reopened_cases) FILTER (WHERE f.hr < 12), sum(f.reopened_cases) FILTER (WHERE f.hr < 13), sum(f.reopened_cases) FILTER (WHERE f.hr < 14), sum(f.reopened_cases) FILTER (WHERE f.hr < 15), sum(f.reopened_cases) FILTER (WHERE f.hr < 16), sum(f.reopened_cases) FILTER (WHERE f.hr < 17), sum(f.reopened_cases) FILTER (WHERE f.hr < 18), sum(f.reopened_cases) FILTER (WHERE f.hr < 19), sum(f.reopened_cases) FILTER (WHERE f.hr < 20), sum(f.reopened_cases) FILTER (WHERE f.hr < 21), sum(f.reopened_cases) FILTER (WHERE f.hr < 22), sum(f.reopened_cases) FILTER (WHERE f.hr < 23), sum(f.reopened_cases) FILTER (WHERE f.hr < 24)], NULL, 0)::integer[] AS reopened_cases\n"
        "          FROM (SELECT u.team_id, (u.at AT TIME ZONE 'UTC')::date AS day,\n"
        "                       extract(hour FROM u.at AT TIME ZONE 'UTC')::int AS hr, sum(u.d) FILTER (WHERE u.measure = 'resolved_cases') AS resolved_cases, sum(u.d) FILTER (WHERE u.measure = 'zero_touch') AS zero_touch, sum(u.d) FILTER (WHERE u.measure = 'touched') AS touched, sum(u.d) FILTER (WHERE u.measure = 'one_touch') AS one_touch, sum(u.d) FILTER (WHERE u.measure = 'reopened_cases') AS reopened_cases\n"
        "                  FROM unnest(facts) u\n"
        "                 WHERE u.measure IN ('resolved_cases', 'zero_touch', 'touched', 'one_touch', 'reopened_cases')\n"
        "                 GROUP BY u.team_id, day, hr) f\n"
        "         GROUP BY f.team_id, f.day\n"
        "    ) a\n"
        "     WHERE a.resolved_cases <> '{0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0}'::integer[] OR a.zero_touch <> '{0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0}'::integer[] OR a.touched <> '{0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0}'::integer[] OR a.one_touch <> '{0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0}'::integer[] OR a.reopened_cases <> '{0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0}'::integer[]\n"
        "     ORDER BY a.team_id, a.day\n"
        "    ON CONFLICT (team_id, day) DO UPDATE SET\n"
        "        resolved_cases = ARRAY[t.resolved_cases[1] + excluded.resolved_cases[1], t.resolved_cases[2] + excluded.resolved_cases[2], t.resolved_cases[3] + excluded.resolved_cases[3], t.resolved_cases[4] + excluded.resolved_cases[4], t.resolved_cases[5] + excluded.resolved_cases[5], t.resolved_cases[6] + excluded.resolved_cases[6], t.resolved_cases[7] + excluded.resolved_cases[7], t.resolved_cases[8] + excluded.resolved_cases[8], t.resolved_cases[9] + excluded.resolved_cases[9], t.resolved_cases[10] + excluded.resolved_cases[10], t.resolved_cases[11] + excluded.resolved_cases[11], t.resolved_cases[12] + excluded.resolved_cases[12], t.resolved_cases[13] + excluded.resolved_cases[13], t.resolved_cases[14] + excluded.resolved_cases[14], t.resolved_cases[15] + excluded.resolved_cases[15], t.resolved_cases[16] + excluded.resolved_cases[16], t.resolved_cases[17] + excluded.resolved_cases[17], t.resolved_cases[18] + excluded.resolved_cases[18], t.resolved_cases[19] + excluded.resolved_cases[19], t.resolved_cases[20] + excluded.resolved_cases[20], t.resolved_cases[21] + excluded.resolved_cases[21], t.resolved_cases[22] + excluded.resolved_cases[22], t.resolved_cases[23] + excluded.resolved_cases[23], t.resolved_cases[24] + excluded.resolved_cases[24], t.resolved_cases[25] + excluded.resolved_cases[25]],\n"
        "        zero_touch = ARRAY[t.zero_touch[1] + excluded.zero_touch[1], t.zero_touch[2] + excluded.zero_touch[2], t.zero_touch[3] + excluded.zero_touch[3], t.zero_touch[4] + excluded.zero_touch[4], t.zero_touch[5] + excluded.zero_touch[5], t.zero_touch[6] + excluded.zero_touch[6], t.zero_touch[7] + excluded.zero_touch[7], t.zero_touch[8] + excluded.zero_touch[8], t.zero_touch[9] + excluded.zero_touch[9], t.zero_touch[10] + excluded.zero_touch[10], t.zero_touch[11] + excluded.zero_touch[11], t.zero_touch[12] + excluded.zero_touch[12], t.zero_touch[13] + excluded.zero_touch[13], t.zero_touch[14] + excluded.zero_touch[14], t.zero_touch[15] + excluded.zero_touch[15], t.zero_touch[16] + excluded.zero_touch[16], t.zero_touch[17] + excluded.zero_touch[17], t.zero_touch[18] + excluded.zero_touch[18], t.zero_touch[19] + excluded.zero_touch[19], t.zero_touch[20] + excluded.zero_touch[20], t.zero_touch[21] + excluded.zero_touch[21], t.zero_touch[22] + excluded.zero_touch[22], t.zero_touch[23] + excluded.zero_touch[23], t.zero_touch[24] + excluded.zero_touch[24], t.zero_touch[25] + excluded.zero_touch[25]],\n"
        "        touched = ARRAY[t.touched[1] + excluded.touched[1], t.touched[2] + excluded.touched[2], t.touched[3] + excluded.touched[3], t.touched[4] + excluded.touched[4], t.touched[5] + excluded.touched[5], t.touched[6] + excluded.touched[6], t.touched[7] + excluded.touched[7], t.touched[8] + excluded.touched[8], t.touched[9] + excluded.touched[9], t.touched[10] + excluded.touched[10], t.touched[11] + excluded.touched[11], t.touched[12] + excluded.touched[12], t.touched[13] + excluded.touched[13], t.touched[14] + excluded.touched[14], t.touched[15] + excluded.touched[15], t.touched[16] + excluded.touched[16], t.touched[17] + excluded.touched[17], t.touched[18] + excluded.touched[18], t.touched[19] + excluded.touched[19], t.touched[20] + excluded.touched[20], t.touched[21] + excluded.touched[21], t.touched[22] + excluded.touched[22], t.touched[23] + excluded.touched[23], t.touched[24] + excluded.touched[24], t.touched[25] + excluded.touched[25]],\n"
        "        one_touch = ARRAY[t.one_touch[1] + excluded.one_touch[1], t.one_touch[2] + excluded.one_touch[2], t.one_touch[3] + excluded.one_touch[3], t.one_touch[4] + excluded.one_touch[4], t.one_touch[5] + excluded.one_touch[5], t.one_touch[6] + excluded.one_touch[6], t.one_touch[7] + excluded.one_touch[7], t.one_touch[8] + excluded.one_touch[8], t.one_touch[9] + excluded.one_touch[9], t.one_touch[10] + excluded.one_touch[10], t.one_touch[11] + excluded.one_touch[11], t.one_touch[12] + excluded.one_touch[12], t.one_touch[13] + excluded.one_touch[13], t.one_touch[14] + excluded.one_touch[14], t.one_touch[15] + excluded.one_touch[15], t.one_touch[16] + excluded.one_touch[16], t.one_touch[17] + excluded.one_touch[17], t.one_touch[18] + excluded.one_touch[18], t.one_touch[19] + excluded.one_touch[19], t.one_touch[20] + excluded.one_touch[20], t.one_touch[21] + excluded.one_touch[21], t.one_touch[22] + excluded.one_touch[22], t.one_touch[23] + excluded.one_touch[23], t.one_touch[24] + excluded.one_touch[24], t.one_touch[25] + excluded.one_touch[25]],\n"
        "        reopened_cases = ARRAY[t.reopened_cases[1] + excluded.reopened_cases[1], t.reopened_cases[2] + excluded.reopened_cases[2], t.reopened_cases[3] + excluded.reopened_cases[3], t.reopened_cases[4] + excluded.reopened_cases[4], t.reopened_cases[5] + excluded.reopened_cases[5], t.reopened_cases[6] + excluded.reopened_cases[6], t.reopened_cases[7] + excluded.reopened_cases[7], t.reopened_cases[8] + excluded.reopened_cases[8], t.reopened_cases[9] + excluded.reopened_cases[9], t.reopened_cases[10] + excluded.reopened_cases[10], t.reopened_cases[11] + excluded.reopened_cases[11], t.reopened_cases[12] + excluded.reopened_cases[12], t.reopened_cases[13] + excluded.reopened_cases[13], t.reopened_cases[14] + excluded.reopened_cases[14], t.reopened_cases[15] + excluded.reopened_cases[15], t.reopened_cases[16] + excluded.reopened_cases[16], t.reopened_cases[17] + excluded.reopened_cases[17], t.reopened_cases[18] + excluded.reopened_cases[18], t.reopened_cases[19] + excluded.reopened_cases[19], t.reopened_cases[20] + excluded.reopened_cases[20], t.reopened_cases[21] + excluded.reopened_cases[21], t.reopened_cases[22] + excluded.reopened_cases[22], t.reopened_cases[23] + excluded.reopened_cases[23], t.reopened_cases[24] + excluded.reopened_cases[24], t.reopened_cases[25] + excluded.reopened_cases[25]];\n"
        "    END IF;\n"
        "END\n"
        "$body$"
    ),
    (
        "CREATE OR REPLACE FUNCTION metrics_rollups_fold() RETURNS void LANGUAGE plpgsql AS $body$\n"
        "DECLARE\n"
        "    facts metrics_rollup_fact[];\n"
        "BEGIN\n"
        "    WITH folded AS (\n"
        "        DELETE FROM metrics_rollup_pending RETURNING measure, at, d, team_id, category_id, rep_id\n"
        "    )\n"
        "    SELECT array_agg(ROW(f.*)::metrics_rollup_fact) INTO facts FROM folded f;\n"
        "    IF facts IS NOT NULL THEN\n"
        "        PERFORM metrics_rollups_apply(facts);\n"
        "    END IF;\n"
        "END\n"
        "$body$"
    ),
    (
        "CREATE OR REPLACE FUNCTION metrics_rollups_rebuild() RETURNS void LANGUAGE plpgsql AS $body$\n"
        "DECLARE\n"
        "    first_at timestamptz;\n"
        "    last_at timestamptz;\n"
        "    m timestamptz;\n"
        "    next_m timestamptz;\n"
        "BEGIN\n"
        "    DELETE FROM metrics_rollup_pending;\n"
        "    DELETE FROM metrics_rollup_category_day;\n"
        "    DELETE FROM metrics_rollup_opened_day;\n"
        "    DELETE FROM metrics_rollup_backlog_day;\n"
        "    DELETE FROM metrics_rollup_rep_day;\n"
        "    DELETE FROM metrics_rollup_resolved_day;\n"
        "    SELECT least((SELECT min(opened_at) FROM cases_case), (SELECT min(resolved_at) FROM cases_case), (SELECT min(occurred_at) FROM cases_caseevent)), greatest((SELECT max(opened_at) FROM cases_case), (SELECT max(resolved_at) FROM cases_case), (SELECT max(occurred_at) FROM cases_caseevent)) INTO first_at, last_at;\n"
        "    IF first_at IS NULL THEN\n"
        "        RETURN;\n"
        "    END IF;\n"
        "    m := date_trunc('month', first_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC';\n"
        "    WHILE m <= last_at LOOP\n"
        "        -- Month arithmetic in UTC whatever the session's time zone: the months tile time.\n"
        "        next_m := ((m AT TIME ZONE 'UTC') + interval '1 month') AT TIME ZONE 'UTC';\n"
        "        PERFORM metrics_rollups_apply(ARRAY(\n"
        "            SELECT ROW(x.*)::metrics_rollup_fact FROM (\n"
        "            SELECT 'opened'::text, c.opened_at, 1, c.team_id, c.category_id, c.assignee_id FROM cases_case c WHERE c.opened_at >= m AND c.opened_at < next_m\n"
        "            UNION ALL SELECT v.measure, c.resolved_at, 1, c.team_id, NULL::bigint, NULL::bigint FROM cases_case c CROSS JOIN LATERAL (VALUES ('resolved_cases', TRUE), ('zero_touch', c.agent_response_count = 0), ('touched', c.agent_response_count >= 1), ('one_touch', c.agent_response_count = 1 AND c.reopened_count = 0), ('reopened_cases', c.reopened_count > 0)) AS v(measure, counts) WHERE c.resolved_at IS NOT NULL AND c.resolved_at >= m AND c.resolved_at < next_m AND v.counts\n"
        "            UNION ALL SELECT v.measure, x.occurred_at, 1, x.team_id, x.category_id, v.rep_id FROM (SELECT e.event_type, e.occurred_at, e.actor_id, c.team_id, c.category_id, c.assignee_id FROM cases_caseevent e JOIN cases_case c ON c.id = e.case_id WHERE e.event_type IN ('resolved', 'reopened') AND e.occurred_at >= m AND e.occurred_at < next_m) x CROSS JOIN LATERAL (VALUES (x.event_type::text, x.assignee_id), ('resolved_by_rep', x.actor_id)) AS v(measure, rep_id) WHERE v.measure <> 'resolved_by_rep' OR x.event_type = 'resolved') x));\n"
        "        m := next_m;\n"
        "    END LOOP;\n"
        "END\n"
        "$body$"
    ),
    (
        "CREATE VIEW metrics_rollup_category_day_live AS\n"
        "SELECT category_id, day, opened FROM metrics_rollup_category_day\n"
        "UNION ALL\n"
        "SELECT * FROM (\n"
        "        SELECT f.category_id, f.day,\n"
        "               array_replace(ARRAY[0, sum(f.opened) FILTER (WHERE f.hr < 1), sum(f.opened) FILTER (WHERE f.hr < 2), sum(f.opened) FILTER (WHERE f.hr < 3), sum(f.opened) FILTER (WHERE f.hr < 4), sum(f.opened) FILTER (WHERE f.hr < 5), sum(f.opened) FILTER (WHERE f.hr < 6), sum(f.opened) FILTER (WHERE f.hr < 7), sum(f.opened) FILTER (WHERE f.hr < 8), sum(f.opened) FILTER (WHERE f.hr < 9), sum(f.opened) FILTER (WHERE f.hr < 10), sum(f.opened) FILTER (WHERE f.hr < 11), sum(f.opened) FILTER (WHERE f.hr < 12), sum(f.opened) FILTER (WHERE f.hr < 13), sum(f.opened) FILTER (WHERE f.hr < 14), sum(f.opened) FILTER (WHERE f.hr < 15), sum(f.opened) FILTER (WHERE f.hr < 16), sum(f.opened) FILTER (WHERE f.hr < 17), sum(f.opened) FILTER (WHERE f.hr < 18), sum(f.opened) FILTER (WHERE f.hr < 19), sum(f.opened) FILTER (WHERE f.hr < 20), sum(f.opened) FILTER (WHERE f.hr < 21), sum(f.opened) FILTER (WHERE f.hr < 22), sum(f.opened) FILTER (WHERE f.hr < 23), sum(f.opened) FILTER (WHERE f.hr < 24)], NULL, 0)::integer[] AS opened\n"
        "          FROM (SELECT u.category_id, (u.at AT TIME ZONE 'UTC')::date AS day,\n"
        "                       extract(hour FROM u.at AT TIME ZONE 'UTC')::int AS hr, sum(u.d) FILTER (WHERE u.measure = 'opened') AS opened\n"
        "                  FROM metrics_rollup_pending u\n"
        "                 WHERE u.measure IN ('opened')\n"
        "                 GROUP BY u.category_id, day, hr) f\n"
        "         GROUP BY f.category_id, f.day\n"
        ") pending"
    ),
    (
        "CREATE VIEW metrics_rollup_opened_day_live AS\n"
        "SELECT team_id, category_id, day, opened FROM metrics_rollup_opened_day\n"
        "UNION ALL\n"
        "SELECT * FROM (\n"
        "        SELECT f.team_id, f.category_id, f.day,\n"
        "               array_replace(ARRAY[0, sum(f.opened) FILTER (WHERE f.hr < 1), sum(f.opened) FILTER (WHERE f.hr < 2), sum(f.opened) FILTER (WHERE f.hr < 3), sum(f.opened) FILTER (WHERE f.hr < 4), sum(f.opened) FILTER (WHERE f.hr < 5), sum(f.opened) FILTER (WHERE f.hr < 6), sum(f.opened) FILTER (WHERE f.hr < 7), sum(f.opened) FILTER (WHERE f.hr < 8), sum(f.opened) FILTER (WHERE f.hr < 9), sum(f.opened) FILTER (WHERE f.hr < 10), sum(f.opened) FILTER (WHERE f.hr < 11), sum(f.opened) FILTER (WHERE f.hr < 12), sum(f.opened) FILTER (WHERE f.hr < 13), sum(f.opened) FILTER (WHERE f.hr < 14), sum(f.opened) FILTER (WHERE f.hr < 15), sum(f.opened) FILTER (WHERE f.hr < 16), sum(f.opened) FILTER (WHERE f.hr < 17), sum(f.opened) FILTER (WHERE f.hr < 18), sum(f.opened) FILTER (WHERE f.hr < 19), sum(f.opened) FILTER (WHERE f.hr < 20), sum(f.opened) FILTER (WHERE f.hr < 21), sum(f.opened) FILTER (WHERE f.hr < 22), sum(f.opened) FILTER (WHERE f.hr < 23), sum(f.opened) FILTER (WHERE f.hr < 24)], NULL, 0)::integer[] AS opened\n"
        "          FROM (SELECT u.team_id, u.category_id, (u.at AT TIME ZONE 'UTC')::date AS day,\n"
        "                       extract(hour FROM u.at AT TIME ZONE 'UTC')::int AS hr, sum(u.d) FILTER (WHERE u.measure = 'opened') AS opened\n"
        "                  FROM metrics_rollup_pending u\n"
        "                 WHERE u.measure IN ('opened')\n"
        "                 GROUP BY u.team_id, u.category_id, day, hr) f\n"
        "         GROUP BY f.team_id, f.category_id, f.day\n"
        ") pending"
    ),
    (
        "CREATE VIEW metrics_rollup_backlog_day_live AS\n"
        "SELECT team_id, day, opened, resolved, reopened FROM metrics_rollup_backlog_day\n"
        "UNION ALL\n"
        "SELECT * FROM (\n"
        "        SELECT f.team_id, f.day,\n"
        "               array_replace(ARRAY[0, sum(f.opened) FILTER (WHERE f.hr < 1), sum(f.opened) FILTER (WHERE f.hr < 2), sum(f.opened) FILTER (WHERE f.hr < 3), sum(f.opened) FILTER (WHERE f.hr < 4), sum(f.opened) FILTER (WHERE f.hr < 5), sum(f.opened) FILTER (WHERE f.hr < 6), sum(f.opened) FILTER (WHERE f.hr < 7), sum(f.opened) FILTER (WHERE f.hr < 8), sum(f.opened) FILTER (WHERE f.hr < 9), sum(f.opened) FILTER (WHERE f.hr < 10), sum(f.opened) FILTER (WHERE f.hr < 11), sum(f.opened) FILTER (WHERE f.hr < 12), sum(f.opened) FILTER (WHERE f.hr < 13), sum(f.opened) FILTER (WHERE f.hr < 14), sum(f.opened) FILTER (WHERE f.hr < 15), sum(f.opened) FILTER (WHERE f.hr < 16), sum(f.opened) FILTER (WHERE f.hr < 17), sum(f.opened) FILTER (WHERE f.hr < 18), sum(f.opened) FILTER (WHERE f.hr < 19), sum(f.opened) FILTER (WHERE f.hr < 20), sum(f.opened) FILTER (WHERE f.hr < 21), sum(f.opened) FILTER (WHERE f.hr < 22), sum(f.opened) FILTER (WHERE f.hr < 23), sum(f.opened) FILTER (WHERE f.hr < 24)], NULL, 0)::integer[] AS opened,\n"
        "               array_replace(ARRAY[0, sum(f.resolved) FILTER (WHERE f.hr < 1), sum(f.resolved) FILTER (WHERE f.hr < 2), sum(f.resolved) FILTER (WHERE f.hr < 3), sum(f.resolved) FILTER (WHERE f.hr < 4), sum(f.resolved) FILTER (WHERE f.hr < 5), sum(f.resolved) FILTER (WHERE f.hr < 6), sum(f.resolved) FILTER (WHERE f.hr < 7), sum(f.resolved) FILTER (WHERE f.hr < 8), sum(f.resolved) FILTER (WHERE f.hr < 9), sum(f.resolved) FILTER (WHERE f.hr < 10), sum(f.resolved) FILTER (WHERE f.hr < 11), sum(f.resolved) FILTER (WHERE f.hr < 12), sum(f.resolved) FILTER (WHERE f.hr < 13), sum(f.resolved) FILTER (WHERE f.hr < 14), sum(f.resolved) FILTER (WHERE f.hr < 15), sum(f.resolved) FILTER (WHERE f.hr < 16), sum(f.resolved) FILTER (WHERE f.hr < 17), sum(f.resolved) FILTER (WHERE f.hr < 18), sum(f.resolved) FILTER (WHERE f.hr < 19), sum(f.resolved) FILTER (WHERE f.hr < 20), sum(f.resolved) FILTER (WHERE f.hr < 21), sum(f.resolved) FILTER (WHERE f.hr < 22), sum(f.resolved) FILTER (WHERE f.hr < 23), sum(f.resolved) FILTER (WHERE f.hr < 24)], NULL, 0)::integer[] AS resolved,\n"
        "               array_replace(ARRAY[0, sum(f.reopened) FILTER (WHERE f.hr < 1), sum(f.reopened) FILTER (WHERE f.hr < 2), sum(f.reopened) FILTER (WHERE f.hr < 3), sum(f.reopened) FILTER (WHERE f.hr < 4), sum(f.reopened) FILTER (WHERE f.hr < 5), sum(f.reopened) FILTER (WHERE f.hr < 6), sum(f.reopened) FILTER (WHERE f.hr < 7), sum(f.reopened) FILTER (WHERE f.hr < 8), sum(f.reopened) FILTER (WHERE f.hr < 9), sum(f.reopened) FILTER (WHERE f.hr < 10), sum(f.reopened) FILTER (WHERE f.hr < 11), sum(f.reopened) FILTER (WHERE f.hr < 12), sum(f.reopened) FILTER (WHERE f.hr < 13), sum(f.reopened) FILTER (WHERE f.hr < 14), sum(f.reopened) FILTER (WHERE f.hr < 15), sum(f.reopened) FILTER (WHERE f.hr < 16), sum(f.reopened) FILTER (WHERE f.hr < 17), sum(f.reopened) FILTER (WHERE f.hr < 18), sum(f.reopened) FILTER (WHERE f.hr < 19), sum(f.reopened) FILTER (WHERE f.hr < 20), sum(f.reopened) FILTER (WHERE f.hr < 21), sum(f.reopened) FILTER (WHERE f.hr < 22), sum(f.reopened) FILTER (WHERE f.hr < 23), sum(f.reopened) FILTER (WHERE f.hr < 24)], NULL, 0)::integer[] AS reopened\n"
        "          FROM (SELECT u.team_id, (u.at AT TIME ZONE 'UTC')::date AS day,\n"
        "                       extract(hour FROM u.at AT TIME ZONE 'UTC')::int AS hr, sum(u.d) FILTER (WHERE u.measure = 'opened') AS opened, sum(u.d) FILTER (WHERE u.measure = 'resolved') AS resolved, sum(u.d) FILTER (WHERE u.measure = 'reopened') AS reopened\n"
        "                  FROM metrics_rollup_pending u\n"
        "                 WHERE u.measure IN ('opened', 'resolved', 'reopened')\n"
        "                 GROUP BY u.team_id, day, hr) f\n"
        "         GROUP BY f.team_id, f.day\n"
        ") pending"
    ),
    (
        "CREATE VIEW metrics_rollup_rep_day_live AS\n"
        "SELECT rep_id, team_id, day, opened, resolved, reopened, resolved_by_rep FROM metrics_rollup_rep_day\n"
        "UNION ALL\n"
        "SELECT * FROM (\n"
        "        SELECT f.rep_id, f.team_id, f.day,\n"
        "               array_replace(ARRAY[0, sum(f.opened) FILTER (WHERE f.hr < 1), sum(f.opened) FILTER (WHERE f.hr < 2), sum(f.opened) FILTER (WHERE f.hr < 3), sum(f.opened) FILTER (WHERE f.hr < 4), sum(f.opened) FILTER (WHERE f.hr < 5), sum(f.opened) FILTER (WHERE f.hr < 6), sum(f.opened) FILTER (WHERE f.hr < 7), sum(f.opened) FILTER (WHERE f.hr < 8), sum(f.opened) FILTER (WHERE f.hr < 9), sum(f.opened) FILTER (WHERE f.hr < 10), sum(f.opened) FILTER (WHERE f.hr < 11), sum(f.opened) FILTER (WHERE f.hr < 12), sum(f.opened) FILTER (WHERE f.hr < 13), sum(f.opened) FILTER (WHERE f.hr < 14), sum(f.opened) FILTER (WHERE f.hr < 15), sum(f.opened) FILTER (WHERE f.hr < 16), sum(f.opened) FILTER (WHERE f.hr < 17), sum(f.opened) FILTER (WHERE f.hr < 18), sum(f.opened) FILTER (WHERE f.hr < 19), sum(f.opened) FILTER (WHERE f.hr < 20), sum(f.opened) FILTER (WHERE f.hr < 21), sum(f.opened) FILTER (WHERE f.hr < 22), sum(f.opened) FILTER (WHERE f.hr < 23), sum(f.opened) FILTER (WHERE f.hr < 24)], NULL, 0)::integer[] AS opened,\n"
        "               array_replace(ARRAY[0, sum(f.resolved) FILTER (WHERE f.hr < 1), sum(f.resolved) FILTER (WHERE f.hr < 2), sum(f.resolved) FILTER (WHERE f.hr < 3), sum(f.resolved) FILTER (WHERE f.hr < 4), sum(f.resolved) FILTER (WHERE f.hr < 5), sum(f.resolved) FILTER (WHERE f.hr < 6), sum(f.resolved) FILTER (WHERE f.hr < 7), sum(f.resolved) FILTER (WHERE f.hr < 8), sum(f.resolved) FILTER (WHERE f.hr < 9), sum(f.resolved) FILTER (WHERE f.hr < 10), sum(f.resolved) FILTER (WHERE f.hr < 11), sum(f.resolved) FILTER (WHERE f.hr < 12), sum(f.resolved) FILTER (WHERE f.hr < 13), sum(f.resolved) FILTER (WHERE f.hr < 14), sum(f.resolved) FILTER (WHERE f.hr < 15), sum(f.resolved) FILTER (WHERE f.hr < 16), sum(f.resolved) FILTER (WHERE f.hr < 17), sum(f.resolved) FILTER (WHERE f.hr < 18), sum(f.resolved) FILTER (WHERE f.hr < 19), sum(f.resolved) FILTER (WHERE f.hr < 20), sum(f.resolved) FILTER (WHERE f.hr < 21), sum(f.resolved) FILTER (WHERE f.hr < 22), sum(f.resolved) FILTER (WHERE f.hr < 23), sum(f.resolved) FILTER (WHERE f.hr < 24)], NULL, 0)::integer[] AS resolved,\n"
        "               array_replace(ARRAY[0, sum(f.reopened) FILTER (WHERE f.hr < 1), sum(f.reopened) FILTER (WHERE f.hr < 2), sum(f.reopened) FILTER (WHERE f.hr < 3), sum(f.reopened) FILTER (WHERE f.hr < 4), sum(f.reopened) FILTER (WHERE f.hr < 5), sum(f.reopened) FILTER (WHERE f.hr < 6), sum(f.reopened) FILTER (WHERE f.hr < 7), sum(f.reopened) FILTER (WHERE f.hr < 8), sum(f.reopened) FILTER (WHERE f.hr < 9), sum(f.reopened) FILTER (WHERE f.hr < 10), sum(f.reopened) FILTER (WHERE f.hr < 11), sum(f.reopened) FILTER (WHERE f.hr < 12), sum(f.reopened) FILTER (WHERE f.hr < 13), sum(f.reopened) FILTER (WHERE f.hr < 14), sum(f.reopened) FILTER (WHERE f.hr < 15), sum(f.reopened) FILTER (WHERE f.hr < 16), sum(f.reopened) FILTER (WHERE f.hr < 17), sum(f.reopened) FILTER (WHERE f.hr < 18), sum(f.reopened) FILTER (WHERE f.hr < 19), sum(f.reopened) FILTER (WHERE f.hr < 20), sum(f.reopened) FILTER (WHERE f.hr < 21), sum(f.reopened) FILTER (WHERE f.hr < 22), sum(f.reopened) FILTER (WHERE f.hr < 23), sum(f.reopened) FILTER (WHERE f.hr < 24)], NULL, 0)::integer[] AS reopened,\n"
        "               array_replace(ARRAY[0, sum(f.resolved_by_rep) FILTER (WHERE f.hr < 1), sum(f.resolved_by_rep) FILTER (WHERE f.hr < 2), sum(f.resolved_by_rep) FILTER (WHERE f.hr < 3), sum(f.resolved_by_rep) FILTER (WHERE f.hr < 4), sum(f.resolved_by_rep) FILTER (WHERE f.hr < 5), sum(f.resolved_by_rep) FILTER (WHERE f.hr < 6), sum(f.resolved_by_rep) FILTER (WHERE f.hr < 7), sum(f.resolved_by_rep) FILTER (WHERE f.hr < 8), sum(f.resolved_by_rep) FILTER (WHERE f.hr < 9), sum(f.resolved_by_rep) FILTER (WHERE f.hr < 10), sum(f.resolved_by_rep) FILTER (WHERE f.hr < 11), sum(f.resolved_by_rep) FILTER (WHERE f.hr < 12), sum(f.resolved_by_rep) FILTER (WHERE f.hr < 13), sum(f.resolved_by_rep) FILTER (WHERE f.hr < 14), sum(f.resolved_by_rep) FILTER (WHERE f.hr < 15), sum(f.resolved_by_rep) FILTER (WHERE f.hr < 16), sum(f.resolved_by_rep) FILTER (WHERE f.hr < 17), sum(f.resolved_by_rep) FILTER (WHERE f.hr < 18), sum(f.resolved_by_rep) FILTER (WHERE f.hr < 19), sum(f.resolved_by_rep) FILTER (WHERE f.hr < 20), sum(f.resolved_by_rep) FILTER (WHERE f.hr < 21), sum(f.resolved_by_rep) FILTER (WHERE f.hr < 22), sum(f.resolved_by_rep) FILTER (WHERE f.hr < 23), sum(f.resolved_by_rep) FILTER (WHERE f.hr < 24)], NULL, 0)::integer[] AS resolved_by_rep\n"
        "          FROM (SELECT u.rep_id, u.team_id, (u.at AT TIME ZONE 'UTC')::date AS day,\n"
        "                       extract(hour FROM u.at AT TIME ZONE 'UTC')::int AS hr, sum(u.d) FILTER (WHERE u.measure = 'opened') AS opened, sum(u.d) FILTER (WHERE u.measure = 'resolved') AS resolved, sum(u.d) FILTER (WHERE u.measure = 'reopened') AS reopened, sum(u.d) FILTER (WHERE u.measure = 'resolved_by_rep') AS resolved_by_rep\n"
        "                  FROM metrics_rollup_pending u\n"
        "                 WHERE u.measure IN ('opened', 'resolved', 'reopened', 'resolved_by_rep') AND u.rep_id IS NOT NULL\n"
        "                 GROUP BY u.rep_id, u.team_id, day, hr) f\n"
        "         GROUP BY f.rep_id, f.team_id, f.day\n"
        ") pending"
    ),
    (
        "CREATE VIEW metrics_rollup_resolved_day_live AS\n"
        "SELECT team_id, day, resolved_cases, zero_touch, touched, one_touch, reopened_cases FROM metrics_rollup_resolved_day\n"
        "UNION ALL\n"
        "SELECT * FROM (\n"
        "        SELECT f.team_id, f.day,\n"
        "               array_replace(ARRAY[0, sum(f.resolved_cases) FILTER (WHERE f.hr < 1), sum(f.resolved_cases) FILTER (WHERE f.hr < 2), sum(f.resolved_cases) FILTER (WHERE f.hr < 3), sum(f.resolved_cases) FILTER (WHERE f.hr < 4), sum(f.resolved_cases) FILTER (WHERE f.hr < 5), sum(f.resolved_cases) FILTER (WHERE f.hr < 6), sum(f.resolved_cases) FILTER (WHERE f.hr < 7), sum(f.resolved_cases) FILTER (WHERE f.hr < 8), sum(f.resolved_cases) FILTER (WHERE f.hr < 9), sum(f.resolved_cases) FILTER (WHERE f.hr < 10), sum(f.resolved_cases) FILTER (WHERE f.hr < 11), sum(f.resolved_cases) FILTER (WHERE f.hr < 12), sum(f.resolved_cases) FILTER (WHERE f.hr < 13), sum(f.resolved_cases) FILTER (WHERE f.hr < 14), sum(f.resolved_cases) FILTER (WHERE f.hr < 15), sum(f.resolved_cases) FILTER (WHERE f.hr < 16), sum(f.resolved_cases) FILTER (WHERE f.hr < 17), sum(f.resolved_cases) FILTER (WHERE f.hr < 18), sum(f.resolved_cases) FILTER (WHERE f.hr < 19), sum(f.resolved_cases) FILTER (WHERE f.hr < 20), sum(f.resolved_cases) FILTER (WHERE f.hr < 21), sum(f.resolved_cases) FILTER (WHERE f.hr < 22), sum(f.resolved_cases) FILTER (WHERE f.hr < 23), sum(f.resolved_cases) FILTER (WHERE f.hr < 24)], NULL, 0)::integer[] AS resolved_cases,\n"
        "               array_replace(ARRAY[0, sum(f.zero_touch) FILTER (WHERE f.hr < 1), sum(f.zero_touch) FILTER (WHERE f.hr < 2), sum(f.zero_touch) FILTER (WHERE f.hr < 3), sum(f.zero_touch) FILTER (WHERE f.hr < 4), sum(f.zero_touch) FILTER (WHERE f.hr < 5), sum(f.zero_touch) FILTER (WHERE f.hr < 6), sum(f.zero_touch) FILTER (WHERE f.hr < 7), sum(f.zero_touch) FILTER (WHERE f.hr < 8), sum(f.zero_touch) FILTER (WHERE f.hr < 9), sum(f.zero_touch) FILTER (WHERE f.hr < 10), sum(f.zero_touch) FILTER (WHERE f.hr < 11), sum(f.zero_touch) FILTER (WHERE f.hr < 12), sum(f.zero_touch) FILTER (WHERE f.hr < 13), sum(f.zero_touch) FILTER (WHERE f.hr < 14), sum(f.zero_touch) FILTER (WHERE f.hr < 15), sum(f.zero_touch) FILTER (WHERE f.hr < 16), sum(f.zero_touch) FILTER (WHERE f.hr < 17), sum(f.zero_touch) FILTER (WHERE f.hr < 18), sum(f.zero_touch) FILTER (WHERE f.hr < 19), sum(f.zero_touch) FILTER (WHERE f.hr < 20), sum(f.zero_touch) FILTER (WHERE f.hr < 21), sum(f.zero_touch) FILTER (WHERE f.hr < 22), sum(f.zero_touch) FILTER (WHERE f.hr < 23), sum(f.zero_touch) FILTER (WHERE f.hr < 24)], NULL, 0)::integer[] AS zero_touch,\n"
        "               array_replace(ARRAY[0, sum(f.touched) FILTER (WHERE f.hr < 1), sum(f.touched) FILTER (WHERE f.hr < 2), sum(f.touched) FILTER (WHERE f.hr < 3), sum(f.touched) FILTER (WHERE f.hr < 4), sum(f.touched) FILTER (WHERE f.hr < 5), sum(f.touched) FILTER (WHERE f.hr < 6), sum(f.touched) FILTER (WHERE f.hr < 7), sum(f.touched) FILTER (WHERE f.hr < 8), sum(f.touched) FILTER (WHERE f.hr < 9), sum(f.touched) FILTER (WHERE f.hr < 10), sum(f.touched) FILTER (WHERE f.hr < 11), sum(f.touched) FILTER (WHERE f.hr < 12), sum(f.touched) FILTER (WHERE f.hr < 13), sum(f.touched) FILTER (WHERE f.hr < 14), sum(f.touched) FILTER (WHERE f.hr < 15), sum(f.touched) FILTER (WHERE f.hr < 16), sum(f.touched) FILTER (WHERE f.hr < 17), sum(f.touched) FILTER (WHERE f.hr < 18), sum(f.touched) FILTER (WHERE f.hr < 19), sum(f.touched) FILTER (WHERE f.hr < 20), sum(f.touched) FILTER (WHERE f.hr < 21), sum(f.touched) FILTER (WHERE f.hr < 22), sum(f.touched) FILTER (WHERE f.hr < 23), sum(f.touched) FILTER (WHERE f.hr < 24)], NULL, 0)::integer[] AS touched,\n"
        "               array_replace(ARRAY[0, sum(f.one_touch) FILTER (WHERE f.hr < 1), sum(f.one_touch) FILTER (WHERE f.hr < 2), sum(f.one_touch) FILTER (WHERE f.hr < 3), sum(f.one_touch) FILTER (WHERE f.hr < 4), sum(f.one_touch) FILTER (WHERE f.hr < 5), sum(f.one_touch) FILTER (WHERE f.hr < 6), sum(f.one_touch) FILTER (WHERE f.hr < 7), sum(f.one_touch) FILTER (WHERE f.hr < 8), sum(f.one_touch) FILTER (WHERE f.hr < 9), sum(f.one_touch) FILTER (WHERE f.hr < 10), sum(f.one_touch) FILTER (WHERE f.hr < 11), sum(f.one_touch) FILTER (WHERE f.hr < 12), sum(f.one_touch) FILTER (WHERE f.hr < 13), sum(f.one_touch) FILTER (WHERE f.hr < 14), sum(f.one_touch) FILTER (WHERE f.hr < 15), sum(f.one_touch) FILTER (WHERE f.hr < 16), sum(f.one_touch) FILTER (WHERE f.hr < 17), sum(f.one_touch) FILTER (WHERE f.hr < 18), sum(f.one_touch) FILTER (WHERE f.hr < 19), sum(f.one_touch) FILTER (WHERE f.hr < 20), sum(f.one_touch) FILTER (WHERE f.hr < 21), sum(f.one_touch) FILTER (WHERE f.hr < 22), sum(f.one_touch) FILTER (WHERE f.hr < 23), sum(f.one_touch) FILTER (WHERE f.hr < 24)], NULL, 0)::integer[] AS one_touch,\n"
        "               array_replace(ARRAY[0, sum(f.reopened_cases) FILTER (WHERE f.hr < 1), sum(f.reopened_cases) FILTER (WHERE f.hr < 2), sum(f.reopened_cases) FILTER (WHERE f.hr < 3), sum(f.reopened_cases) FILTER (WHERE f.hr < 4), sum(f.reopened_cases) FILTER (WHERE f.hr < 5), sum(f.reopened_cases) FILTER (WHERE f.hr < 6), sum(f.reopened_cases) FILTER (WHERE f.hr < 7), sum(f.reopened_cases) FILTER (WHERE f.hr < 8), sum(f.reopened_cases) FILTER (WHERE f.hr < 9), sum(f.reopened_cases) FILTER (WHERE f.hr < 10), sum(f.reopened_cases) FILTER (WHERE f.hr < 11), sum(f.reopened_cases) FILTER (WHERE f.hr < 12), sum(f.reopened_cases) FILTER (WHERE f.hr < 13), sum(f.reopened_cases) FILTER (WHERE f.hr < 14), sum(f.reopened_cases) FILTER (WHERE f.hr < 15), sum(f.reopened_cases) FILTER (WHERE f.hr < 16), sum(f.reopened_cases) FILTER (WHERE f.hr < 17), sum(f.reopened_cases) FILTER (WHERE f.hr < 18), sum(f.reopened_cases) FILTER (WHERE f.hr < 19), sum(f.reopened_cases) FILTER (WHERE f.hr < 20), sum(f.reopened_cases) FILTER (WHERE f.hr < 21), sum(f.reopened_cases) FILTER (WHERE f.hr < 22), sum(f.reopened_cases) FILTER (WHERE f.hr < 23), sum(f.reopened_cases) FILTER (WHERE f.hr < 24)], NULL, 0)::integer[] AS reopened_cases\n"
        "          FROM (SELECT u.team_id, (u.at AT TIME ZONE 'UTC')::date AS day,\n"
        "                       extract(hour FROM u.at AT TIME ZONE 'UTC')::int AS hr, sum(u.d) FILTER (WHERE u.measure = 'resolved_cases') AS resolved_cases, sum(u.d) FILTER (WHERE u.measure = 'zero_touch') AS zero_touch, sum(u.d) FILTER (WHERE u.measure = 'touched') AS touched, sum(u.d) FILTER (WHERE u.measure = 'one_touch') AS one_touch, sum(u.d) FILTER (WHERE u.measure = 'reopened_cases') AS reopened_cases\n"
        "                  FROM metrics_rollup_pending u\n"
        "                 WHERE u.measure IN ('resolved_cases', 'zero_touch', 'touched', 'one_touch', 'reopened_cases')\n"
        "                 GROUP BY u.team_id, day, hr) f\n"
        "         GROUP BY f.team_id, f.day\n"
        ") pending"
    ),
    (
        "CREATE OR REPLACE FUNCTION metrics_rollups_case_insert() RETURNS trigger LANGUAGE plpgsql AS $body$\n"
        "BEGIN\n"
        "    INSERT INTO metrics_rollup_pending (measure, at, d, team_id, category_id, rep_id)\n"
        "    SELECT x.measure, date_trunc('hour', x.at, 'UTC'), sum(x.d), x.team_id,\n"
        "           x.category_id, x.rep_id\n"
        "      FROM (\n"
        "        SELECT 'opened'::text, c.opened_at, 1, c.team_id, c.category_id, c.assignee_id FROM new_rows c\n"
        "        UNION ALL SELECT v.measure, c.resolved_at, 1, c.team_id, NULL::bigint, NULL::bigint FROM new_rows c CROSS JOIN LATERAL (VALUES ('resolved_cases', TRUE), ('zero_touch', c.agent_response_count = 0), ('touched', c.agent_response_count >= 1), ('one_touch', c.agent_response_count = 1 AND c.reopened_count = 0), ('reopened_cases', c.reopened_count > 0)) AS v(measure, counts) WHERE c.resolved_at IS NOT NULL AND v.counts\n"
        "      ) AS x(measure, at, d, team_id, category_id, rep_id)\n"
        "     GROUP BY 1, 2, 4, 5, 6 HAVING sum(x.d) <> 0;\n"
        "    IF FOUND AND pg_try_advisory_xact_lock(7236101955) THEN\n"
        "        PERFORM metrics_rollups_fold();\n"
        "    END IF;\n"
        "    RETURN NULL;\n"
        "END\n"
        "$body$"
    ),
    (
        "CREATE OR REPLACE FUNCTION metrics_rollups_case_update() RETURNS trigger LANGUAGE plpgsql AS $body$\n"
        "BEGIN\n"
        "    INSERT INTO metrics_rollup_pending (measure, at, d, team_id, category_id, rep_id)\n"
        "    SELECT x.measure, date_trunc('hour', x.at, 'UTC'), sum(x.d), x.team_id,\n"
        "           x.category_id, x.rep_id\n"
        "      FROM (\n"
        "        SELECT 'opened'::text, c.opened_at, 1, c.team_id, c.category_id, c.assignee_id FROM new_rows c\n"
        "        UNION ALL SELECT 'opened'::text, c.opened_at, -1, c.team_id, c.category_id, c.assignee_id FROM old_rows c\n"
        "        UNION ALL SELECT v.measure, c.resolved_at, 1, c.team_id, NULL::bigint, NULL::bigint FROM new_rows c CROSS JOIN LATERAL (VALUES ('resolved_cases', TRUE), ('zero_touch', c.agent_response_count = 0), ('touched', c.agent_response_count >= 1), ('one_touch', c.agent_response_count = 1 AND c.reopened_count = 0), ('reopened_cases', c.reopened_count > 0)) AS v(measure, counts) WHERE c.resolved_at IS NOT NULL AND v.counts\n"
        "        UNION ALL SELECT v.measure, c.resolved_at, -1, c.team_id, NULL::bigint, NULL::bigint FROM old_rows c CROSS JOIN LATERAL (VALUES ('resolved_cases', TRUE), ('zero_touch', c.agent_response_count = 0), ('touched', c.agent_response_count >= 1), ('one_touch', c.agent_response_count = 1 AND c.reopened_count = 0), ('reopened_cases', c.reopened_count > 0)) AS v(measure, counts) WHERE c.resolved_at IS NOT NULL AND v.counts\n"
        "        UNION ALL SELECT v.measure, x.occurred_at, -1, x.team_id, x.category_id, v.rep_id FROM (SELECT e.event_type, e.occurred_at, e.actor_id, m.old_team_id AS team_id, m.old_category_id AS category_id, m.old_assignee_id AS assignee_id FROM (SELECT o.id, o.team_id AS old_team_id, o.category_id AS old_category_id, o.assignee_id AS old_assignee_id, n.team_id AS new_team_id, n.category_id AS new_category_id, n.assignee_id AS new_assignee_id FROM old_rows o JOIN new_rows n ON n.id = o.id WHERE o.team_id IS DISTINCT FROM n.team_id OR o.assignee_id IS DISTINCT FROM n.assignee_id) m CROSS JOIN LATERAL (SELECT e.event_type, e.occurred_at, e.actor_id FROM cases_caseevent e WHERE e.case_id = m.id AND e.event_type IN ('resolved', 'reopened') OFFSET 0) e) x CROSS JOIN LATERAL (VALUES (x.event_type::text, x.assignee_id), ('resolved_by_rep', x.actor_id)) AS v(measure, rep_id) WHERE v.measure <> 'resolved_by_rep' OR x.event_type = 'resolved'\n"
        "        UNION ALL SELECT v.measure, x.occurred_at, 1, x.team_id, x.category_id, v.rep_id FROM (SELECT e.event_type, e.occurred_at, e.actor_id, m.new_team_id AS team_id, m.new_category_id AS category_id, m.new_assignee_id AS assignee_id FROM (SELECT o.id, o.team_id AS old_team_id, o.category_id AS old_category_id, o.assignee_id AS old_assignee_id, n.team_id AS new_team_id, n.category_id AS new_category_id, n.assignee_id AS new_assignee_id FROM old_rows o JOIN new_rows n ON n.id = o.id WHERE o.team_id IS DISTINCT FROM n.team_id OR o.assignee_id IS DISTINCT FROM n.assignee_id) m CROSS JOIN LATERAL (SELECT e.event_type, e.occurred_at, e.actor_id FROM cases_caseevent e WHERE e.case_id = m.id AND e.event_type IN ('resolved', 'reopened') OFFSET 0) e) x CROSS JOIN LATERAL (VALUES (x.event_type::text, x.assignee_id), ('resolved_by_rep', x.actor_id)) AS v(measure, rep_id) WHERE v.measure <> 'resolved_by_rep' OR x.event_type = 'resolved'\n"
        "      ) AS x(measure, at, d, team_id, category_id, rep_id)\n"
        "     GROUP BY 1, 2, 4, 5, 6 HAVING sum(x.d) <> 0;\n"
        "    IF FOUND AND pg_try_advisory_xact_lock(7236101955) THEN\n"
        "        PERFORM metrics_rollups_fold();\n"
        "    END IF;\n"
        "    RETURN NULL;\n"
        "END\n"
        "$body$"
    ),
    (
        "CREATE OR REPLACE FUNCTION metrics_rollups_case_delete() RETURNS trigger LANGUAGE plpgsql AS $body$\n"
        "BEGIN\n"
        "    INSERT INTO metrics_rollup_pending (measure, at, d, team_id, category_id, rep_id)\n"
        "    SELECT x.measure, date_trunc('hour', x.at, 'UTC'), sum(x.d), x.team_id,\n"
        "           x.category_id, x.rep_id\n"
        "      FROM (\n"
        "        SELECT 'opened'::text, c.opened_at, -1, c.team_id, c.category_id, c.assignee_id FROM old_rows c\n"
        "        UNION ALL SELECT v.measure, c.resolved_at, -1, c.team_id, NULL::bigint, NULL::bigint FROM old_rows c CROSS JOIN LATERAL (VALUES ('resolved_cases', TRUE), ('zero_touch', c.agent_response_count = 0), ('touched', c.agent_response_count >= 1), ('one_touch', c.agent_response_count = 1 AND c.reopened_count = 0), ('reopened_cases', c.reopened_count > 0)) AS v(measure, counts) WHERE c.resolved_at IS NOT NULL AND v.counts\n"
        "        UNION ALL SELECT v.measure, x.occurred_at, -1, x.team_id, x.category_id, v.rep_id FROM (SELECT e.event_type, e.occurred_at, e.actor_id, m.team_id AS team_id, m.category_id AS category_id, m.assignee_id AS assignee_id FROM (SELECT * FROM old_rows) m CROSS JOIN LATERAL (SELECT e.event_type, e.occurred_at, e.actor_id FROM cases_caseevent e WHERE e.case_id = m.id AND e.event_type IN ('resolved', 'reopened') OFFSET 0) e) x CROSS JOIN LATERAL (VALUES (x.event_type::text, x.assignee_id), ('resolved_by_rep', x.actor_id)) AS v(measure, rep_id) WHERE v.measure <> 'resolved_by_rep' OR x.event_type = 'resolved'\n"
        "      ) AS x(measure, at, d, team_id, category_id, rep_id)\n"
        "     GROUP BY 1, 2, 4, 5, 6 HAVING sum(x.d) <> 0;\n"
        "    IF FOUND AND pg_try_advisory_xact_lock(7236101955) THEN\n"
        "        PERFORM metrics_rollups_fold();\n"
        "    END IF;\n"
        "    RETURN NULL;\n"
        "END\n"
        "$body$"
    ),
    (
        "CREATE OR REPLACE FUNCTION metrics_rollups_case_truncate() RETURNS trigger LANGUAGE plpgsql AS $body$\n"
        "BEGIN\n"
        "    DELETE FROM metrics_rollup_pending;\n"
        "    DELETE FROM metrics_rollup_category_day;\n"
        "    DELETE FROM metrics_rollup_opened_day;\n"
        "    DELETE FROM metrics_rollup_backlog_day;\n"
        "    DELETE FROM metrics_rollup_rep_day;\n"
        "    DELETE FROM metrics_rollup_resolved_day;\n"
        "    RETURN NULL;\n"
        "END\n"
        "$body$"
    ),
    (
        "CREATE OR REPLACE FUNCTION metrics_rollups_event_insert() RETURNS trigger LANGUAGE plpgsql AS $body$\n"
        "BEGIN\n"
        "    INSERT INTO metrics_rollup_pending (measure, at, d, team_id, category_id, rep_id)\n"
        "    SELECT x.measure, date_trunc('hour', x.at, 'UTC'), sum(x.d), x.team_id,\n"
        "           x.category_id, x.rep_id\n"
        "      FROM (\n"
        "        SELECT v.measure, x.occurred_at, 1, x.team_id, x.category_id, v.rep_id FROM (SELECT e.event_type, e.occurred_at, e.actor_id, c.team_id, c.category_id, c.assignee_id FROM new_rows e CROSS JOIN LATERAL (SELECT c.team_id, c.category_id, c.assignee_id FROM cases_case c WHERE c.id = e.case_id OFFSET 0 FOR SHARE) c WHERE e.event_type IN ('resolved', 'reopened')) x CROSS JOIN LATERAL (VALUES (x.event_type::text, x.assignee_id), ('resolved_by_rep', x.actor_id)) AS v(measure, rep_id) WHERE v.measure <> 'resolved_by_rep' OR x.event_type = 'resolved'\n"
        "      ) AS x(measure, at, d, team_id, category_id, rep_id)\n"
        "     GROUP BY 1, 2, 4, 5, 6 HAVING sum(x.d) <> 0;\n"
        "    IF FOUND AND pg_try_advisory_xact_lock(7236101955) THEN\n"
        "        PERFORM metrics_rollups_fold();\n"
        "    END IF;\n"
        "    RETURN NULL;\n"
        "END\n"
        "$body$"
    ),
    (
        "CREATE OR REPLACE FUNCTION metrics_rollups_event_update() RETURNS trigger LANGUAGE plpgsql AS $body$\n"
        "BEGIN\n"
        "    INSERT INTO metrics_rollup_pending (measure, at, d, team_id, category_id, rep_id)\n"
        "    SELECT x.measure, date_trunc('hour', x.at, 'UTC'), sum(x.d), x.team_id,\n"
        "           x.category_id, x.rep_id\n"
        "      FROM (\n"
        "        SELECT v.measure, x.occurred_at, 1, x.team_id, x.category_id, v.rep_id FROM (SELECT e.event_type, e.occurred_at, e.actor_id, c.team_id, c.category_id, c.assignee_id FROM new_rows e CROSS JOIN LATERAL (SELECT c.team_id, c.category_id, c.assignee_id FROM cases_case c WHERE c.id = e.case_id OFFSET 0 FOR SHARE) c WHERE e.event_type IN ('resolved', 'reopened')) x CROSS JOIN LATERAL (VALUES (x.event_type::text, x.assignee_id), ('resolved_by_rep', x.actor_id)) AS v(measure, rep_id) WHERE v.measure <> 'resolved_by_rep' OR x.event_type = 'resolved'\n"
        "        UNION ALL SELECT v.measure, x.occurred_at, -1, x.team_id, x.category_id, v.rep_id FROM (SELECT e.event_type, e.occurred_at, e.actor_id, c.team_id, c.category_id, c.assignee_id FROM old_rows e CROSS JOIN LATERAL (SELECT c.team_id, c.category_id, c.assignee_id FROM cases_case c WHERE c.id = e.case_id OFFSET 0 FOR SHARE) c WHERE e.event_type IN ('resolved', 'reopened')) x CROSS JOIN LATERAL (VALUES (x.event_type::text, x.assignee_id), ('resolved_by_rep', x.actor_id)) AS v(measure, rep_id) WHERE v.measure <> 'resolved_by_rep' OR x.event_type = 'resolved'\n"
        "      ) AS x(measure, at, d, team_id, category_id, rep_id)\n"
        "     GROUP BY 1, 2, 4, 5, 6 HAVING sum(x.d) <> 0;\n"
        "    IF FOUND AND pg_try_advisory_xact_lock(7236101955) THEN\n"
        "        PERFORM metrics_rollups_fold();\n"
        "    END IF;\n"
        "    RETURN NULL;\n"
        "END\n"
        "$body$"
    ),
    (
        "CREATE OR REPLACE FUNCTION metrics_rollups_event_delete() RETURNS trigger LANGUAGE plpgsql AS $body$\n"
        "BEGIN\n"
        "    INSERT INTO metrics_rollup_pending (measure, at, d, team_id, category_id, rep_id)\n"
        "    SELECT x.measure, date_trunc('hour', x.at, 'UTC'), sum(x.d), x.team_id,\n"
        "           x.category_id, x.rep_id\n"
        "      FROM (\n"
        "        SELECT v.measure, x.occurred_at, -1, x.team_id, x.category_id, v.rep_id FROM (SELECT e.event_type, e.occurred_at, e.actor_id, c.team_id, c.category_id, c.assignee_id FROM old_rows e CROSS JOIN LATERAL (SELECT c.team_id, c.category_id, c.assignee_id FROM cases_case c WHERE c.id = e.case_id OFFSET 0 FOR SHARE) c WHERE e.event_type IN ('resolved', 'reopened')) x CROSS JOIN LATERAL (VALUES (x.event_type::text, x.assignee_id), ('resolved_by_rep', x.actor_id)) AS v(measure, rep_id) WHERE v.measure <> 'resolved_by_rep' OR x.event_type = 'resolved'\n"
        "      ) AS x(measure, at, d, team_id, category_id, rep_id)\n"
        "     GROUP BY 1, 2, 4, 5, 6 HAVING sum(x.d) <> 0;\n"
        "    IF FOUND AND pg_try_advisory_xact_lock(7236101955) THEN\n"
        "        PERFORM metrics_rollups_fold();\n"
        "    END IF;\n"
        "    RETURN NULL;\n"
        "END\n"
        "$body$"
    ),
    (
        "CREATE OR REPLACE FUNCTION metrics_rollups_event_truncate() RETURNS trigger LANGUAGE plpgsql AS $body$\n"
        "BEGIN\n"
        "    DELETE FROM metrics_rollup_pending WHERE measure IN ('resolved', 'reopened', 'resolved_by_rep');\n"
        "    UPDATE metrics_rollup_backlog_day SET resolved = '{0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0}'::integer[], reopened = '{0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0}'::integer[] WHERE resolved <> '{0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0}'::integer[] OR reopened <> '{0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0}'::integer[];\n"
        "    UPDATE metrics_rollup_rep_day SET resolved = '{0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0}'::integer[], reopened = '{0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0}'::integer[], resolved_by_rep = '{0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0}'::integer[] WHERE resolved <> '{0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0}'::integer[] OR reopened <> '{0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0}'::integer[] OR resolved_by_rep <> '{0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0}'::integer[];\n"
        "    RETURN NULL;\n"
        "END\n"
        "$body$"
    ),
    "CREATE TRIGGER metrics_rollups_insert AFTER INSERT ON cases_case REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION metrics_rollups_case_insert()",
    "CREATE TRIGGER metrics_rollups_update AFTER UPDATE ON cases_case REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION metrics_rollups_case_update()",
    "CREATE TRIGGER metrics_rollups_delete AFTER DELETE ON cases_case REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION metrics_rollups_case_delete()",
    "CREATE TRIGGER metrics_rollups_truncate AFTER TRUNCATE ON cases_case FOR EACH STATEMENT EXECUTE FUNCTION metrics_rollups_case_truncate()",
    "CREATE TRIGGER metrics_rollups_insert AFTER INSERT ON cases_caseevent REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION metrics_rollups_event_insert()",
    "CREATE TRIGGER metrics_rollups_update AFTER UPDATE ON cases_caseevent REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION metrics_rollups_event_update()",
    "CREATE TRIGGER metrics_rollups_delete AFTER DELETE ON cases_caseevent REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION metrics_rollups_event_delete()",
    "CREATE TRIGGER metrics_rollups_truncate AFTER TRUNCATE ON cases_caseevent FOR EACH STATEMENT EXECUTE FUNCTION metrics_rollups_event_truncate()",
]

UNINSTALL_SQL = [
    "DROP TRIGGER IF EXISTS metrics_rollups_insert ON cases_case",
    "DROP TRIGGER IF EXISTS metrics_rollups_update ON cases_case",
    "DROP TRIGGER IF EXISTS metrics_rollups_delete ON cases_case",
    "DROP TRIGGER IF EXISTS metrics_rollups_truncate ON cases_case",
    "DROP TRIGGER IF EXISTS metrics_rollups_insert ON cases_caseevent",
    "DROP TRIGGER IF EXISTS metrics_rollups_update ON cases_caseevent",
    "DROP TRIGGER IF EXISTS metrics_rollups_delete ON cases_caseevent",
    "DROP TRIGGER IF EXISTS metrics_rollups_truncate ON cases_caseevent",
    "DROP FUNCTION IF EXISTS metrics_rollups_case_insert()",
    "DROP FUNCTION IF EXISTS metrics_rollups_case_update()",
    "DROP FUNCTION IF EXISTS metrics_rollups_case_delete()",
    "DROP FUNCTION IF EXISTS metrics_rollups_case_truncate()",
    "DROP FUNCTION IF EXISTS metrics_rollups_event_insert()",
    "DROP FUNCTION IF EXISTS metrics_rollups_event_update()",
    "DROP FUNCTION IF EXISTS metrics_rollups_event_delete()",
    "DROP FUNCTION IF EXISTS metrics_rollups_event_truncate()",
    "DROP VIEW IF EXISTS metrics_rollup_category_day_live",
    "DROP VIEW IF EXISTS metrics_rollup_opened_day_live",
    "DROP VIEW IF EXISTS metrics_rollup_backlog_day_live",
    "DROP VIEW IF EXISTS metrics_rollup_rep_day_live",
    "DROP VIEW IF EXISTS metrics_rollup_resolved_day_live",
    "DROP FUNCTION IF EXISTS metrics_rollups_rebuild()",
    "DROP FUNCTION IF EXISTS metrics_rollups_fold()",
    "DROP FUNCTION IF EXISTS metrics_rollups_apply(metrics_rollup_fact[])",
    "DROP TYPE IF EXISTS metrics_rollup_fact",
]

# Undoing this migration puts back the functions and views of 0006.
PREVIOUS_INSTALL_SQL = import_module("metrics.migrations.0006_rollup_hourly_first").INSTALL_SQL


class Migration(migrations.Migration):
    dependencies = [
        ("metrics", "0007_rollup_resolved_day"),
    ]

    operations = [
        migrations.RunSQL(INSTALL_SQL, reverse_sql=[*UNINSTALL_SQL, *PREVIOUS_INSTALL_SQL]),
        migrations.RunSQL("SELECT metrics_rollups_rebuild()", reverse_sql=migrations.RunSQL.noop),
    ]
