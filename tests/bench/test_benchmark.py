"""The benchmark's machinery on a tiny data set: every endpoint measured, the floor's SQL
returns what Django got, ingest cleaned up, results written. No timing is asserted."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from django.db import connection

from bench import dataset as datasets
from bench import floor as floors
from bench import report
from bench.runner import Options, run
from cases.models import Case
from metrics import urls as metric_urls
from tests.factories import CaseFactory, RepresentativeFactory

pytestmark = [
    # BusinessCalendar counts open days from 2000, before the holidays package's range.
    pytest.mark.filterwarnings("ignore:Requested Holidays are available only"),
]

NOW = datetime(2026, 11, 23, 12, tzinfo=UTC)
CASES = 2000
ROUTES = {
    str(p.pattern).replace("<int:account_id>", "{account_id}").replace("<int:rep_id>", "{rep_id}")
    for p in metric_urls.urlpatterns
} | {"dashboard/overview/"}


@pytest.mark.django_db(transaction=True)
def test_benchmark_end_to_end_through_gunicorn(tmp_path):
    results = run(
        Options(
            cases=CASES,
            now=NOW,
            runs=1,
            warmup=1,
            bulk_cases=200,
            bulk_clients=2,
            csv_rows=300,
            output=tmp_path,
        ),
        log=lambda message: None,
    )

    latest = tmp_path / "latest.json"
    dated = tmp_path / f"{CASES}-{results['started_at'][:10]}.json"
    assert json.loads(dated.read_text()) == results
    document = json.loads(latest.read_text())
    assert document["newest"] == str(CASES)
    assert document["runs"] == {str(CASES): results}

    assert results["dataset"]["cases"] == CASES
    assert results["dataset"]["seeded"] is True
    assert results["dataset"]["events"] > CASES
    marker = datasets.read_marker()
    assert (marker["cases"], marker["seed"], marker["now"]) == (CASES, 1, NOW.isoformat())

    # Every endpoint of metrics.urls and the dashboard overview, per window and scope, once.
    keys = sorted((r["endpoint"], r["window"]["label"], r["scope"]) for r in results["endpoints"])
    assert keys == sorted(
        (route, window, scope)
        for route in ROUTES
        for window in ("90d", "2y")
        for scope in ("all", "team")
    )
    for row in results["endpoints"]:
        where = (row["endpoint"], row["window"]["label"], row["scope"], row.get("error"))
        assert row["status"] == 200, where
        assert "error" not in row, where
        assert row["median_ms"] > 0 and row["floor_ms"] > 0 and row["ratio"] > 0, where
        assert row["runs"] == 1 and len(row["runs_ms"]) == 1, where
        assert row["statements"] >= row["floor_statements"] >= 1, where
        assert row["statements"] == (row["floor_statements"] + row["auth_statements"]), (
            where
        )  # no transaction control in a read
        assert len(row["floor_detail"]) == row["floor_statements"], where
        # The floor re-ran the very statements the request ran, and got the very same rows.
        assert row["floor_method"] == "re-run", where
        assert row["rows_match"] == "same", (where, row["mismatches"])
    windows = {w["label"]: w for w in results["windows"]}
    assert windows["90d"]["days"] == 90
    assert windows["2y"]["requested_days"] == 730

    # The rollup's percentile estimates, measured against percentile_cont: 2 measures ×
    # 2 windows × 2 scopes, each within the documented bound.
    errors = results["percentile_errors"]
    assert len(errors["rows"]) == 8
    measured = [r[k] for r in errors["rows"] for k in ("median", "p90") if r[k] is not None]
    assert measured and max(measured) <= errors["bound"] < 0.02
    assert errors["within_bound"] is True

    bulk = results["ingest"]["bulk_api"]
    assert bulk["results"] == {"created": 200} and bulk["errors"] == []
    assert (bulk["stored"], bulk["failed_batches"]) == (200, 0)
    assert bulk["cases_per_s"] > 0
    assert bulk["copy_floor"]["cases"] == 200 and bulk["copy_floor"]["events"] > 200
    imported = results["ingest"]["csv_import"]
    assert imported["cases"] == {"rows": 300, "created": 300, "updated": 0, "unchanged": 0}
    assert imported["copy_floor"]["cases"] == 300
    assert imported["copy_floor"]["events"] == imported["events_created"]
    # What the ingest wrote is gone again: the data set is the seeded one.
    assert Case.objects.count() == CASES
    assert not Case.objects.filter(source__startswith=datasets.INGEST_SOURCE_PREFIX).exists()

    memory = results["memory"]
    assert len(memory["workers_peak_mb"]) == 2
    assert memory["total_peak_mb"] >= memory["worker_peak_mb"] > 0
    assert memory["master_peak_mb"] > 0
    for key in ("cores", "memory_gb", "cpu_model", "load_average_at_start"):
        assert results["machine"][key], key
    for key in ("python", "django", "postgresql", "git_commit"):
        assert results["versions"][key], key

    table = report.text_table(results)
    assert all(route in table for route in ROUTES)
    assert "bulk API:" in table and "CSV import:" in table and "peak RSS" in table

    # --reuse: the same data set is in place, so nothing is seeded again.
    again = run(
        Options(
            cases=CASES,
            now=NOW,
            reuse=True,
            runs=1,
            server=False,
            windows=("90d",),
            only=("fcr",),
            ingest=False,
            output=None,
        ),
        log=lambda message: None,
    )
    assert again["dataset"]["seeded"] is False
    assert [(r["endpoint"], r["scope"], r["rows_match"]) for r in again["endpoints"]] == [
        ("fcr/", "all", "same"),
        ("fcr/", "team", "same"),
    ]

    # A figure whose statements outlast the statement timeout is recorded as such.
    slow = run(
        Options(
            cases=CASES,
            now=NOW,
            reuse=True,
            runs=1,
            server=False,
            windows=("90d",),
            only=("seasonality",),
            ingest=False,
            statement_timeout_s=0.001,
            output=None,
        ),
        log=lambda message: None,
    )
    assert [(r["scope"], r.get("timed_out")) for r in slow["endpoints"]] == [
        ("all", True),
        ("team", True),
    ]
    assert all("statement timeout" in r["error"] for r in slow["endpoints"])
    assert "timed out" in report.text_table(slow)


@pytest.mark.django_db
def test_refuses_a_database_with_data_it_did_not_seed():
    CaseFactory(assignee=RepresentativeFactory())  # and so a team
    spec = datasets.DatasetSpec(cases=10, seed=1, now=NOW)
    with pytest.raises(datasets.BenchmarkError) as error:
        datasets.prepare(
            spec, reuse=False, reset=False, migrate=False, started=NOW, log=lambda m: None
        )
    assert "holds data the benchmark did not seed (1 cases and 1 teams)" in str(error.value)
    assert "--reset" in str(error.value)
    assert Case.objects.count() == 1


@pytest.mark.django_db
def test_floor_compares_the_rerun_rows_with_the_captured_ones():
    sql = "SELECT n FROM (VALUES (1.0::float8), (2.0::float8)) AS t(n) ORDER BY n"

    def floor_of(captured_rows):
        statement = floors.Statement(sql, captured_rows, "figure", (), 0.0)
        raw = floors.raw_connection()
        try:
            return floors.time_floor(raw, [statement], runs=1, warmup=0)
        finally:
            raw.close()

    assert floor_of([(1.0,), (2.0,)]).rows_match == "same"
    assert floor_of([(2.0,), (1.0,)]).rows_match == "same rows, other order"
    assert floor_of([(1.0 + 1e-12,), (2.0,)]).rows_match == "same within float rounding"
    assert floor_of([(1.0 + 1e-6,), (2.0,)]).rows_match == "differ"
    differ = floor_of([(1.0,)])
    assert differ.rows_match == "differ"
    assert differ.mismatches == [sql]


@pytest.mark.django_db
def test_statements_are_sorted_into_auth_control_and_figure():
    assert connection.introspection.table_names()  # the known tables come from here
    token = (
        'SELECT "authtoken_token"."key", "auth_user"."id" FROM "authtoken_token" '
        'INNER JOIN "auth_user" ON ("authtoken_token"."user_id" = "auth_user"."id")'
    )
    assert floors.classify(token) == ("auth", ("authtoken_token", "auth_user"))
    assert floors.classify('SAVEPOINT "s1"') == ("control", ())
    kpi = (
        "WITH sliced AS (SELECT * FROM cases_case c) "
        "SELECT count(*) FROM sliced JOIN cases_caseevent e ON e.case_id = sliced.id"
    )
    assert floors.classify(kpi) == ("figure", ("cases_case", "cases_caseevent"))
    scope = 'SELECT 1 FROM "cases_representative" WHERE "cases_representative"."user_id" = 1'
    assert floors.classify(scope) == ("figure", ("cases_representative",))


@pytest.mark.django_db
def test_reuse_accepts_a_data_set_this_run_migrated_forward():
    spec = datasets.DatasetSpec(cases=0, seed=1, now=NOW)
    current = datasets.migrations_digest()
    marker = {"cases": 0, "seed": 1, "now": NOW.isoformat(), "migrations": "before"}
    # Seeded under the migrations this run found before applying the pending ones: reused.
    assert datasets._reuse_refusal(spec, marker, NOW, migrated_from="before") == ""
    # Seeded under some other migration state: seeded again.
    assert (
        datasets._reuse_refusal(spec, marker, NOW, migrated_from=current)
        == "migrations were applied since it was seeded"
    )
    assert datasets._reuse_refusal(spec, {**marker, "migrations": current}, NOW, current) == ""


def _run_of(cases: int, day: str) -> dict[str, object]:
    return {"dataset": {"cases": cases}, "started_at": f"{day}T10:00:00+00:00", "endpoints": []}


def test_latest_keeps_the_newest_run_of_each_size(tmp_path):
    # A file from before latest.json held several runs: one run at the top level.
    (tmp_path / "latest.json").write_text(json.dumps(_run_of(1_000_000, "2026-11-20")))

    report.write(_run_of(5_000_000, "2026-11-21"), tmp_path)
    newer_1m = _run_of(1_000_000, "2026-11-22")
    report.write(newer_1m, tmp_path)

    document = json.loads((tmp_path / "latest.json").read_text())
    assert document["format"] == report.LATEST_FORMAT
    assert document["newest"] == "1000000"
    assert list(document["runs"]) == ["1000000", "5000000"]
    assert document["runs"]["1000000"] == newer_1m
    assert document["runs"]["5000000"] == _run_of(5_000_000, "2026-11-21")
    dated = sorted(p.name for p in tmp_path.glob("*-2026-*.json"))
    assert dated == ["1000000-2026-11-22.json", "5000000-2026-11-21.json"]
