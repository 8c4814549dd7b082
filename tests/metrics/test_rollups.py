"""The rollup tables: what a row holds, how the triggers keep it, the rebuild and its check."""

from __future__ import annotations

from datetime import UTC, datetime
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from cases.demo import seed_demo
from cases.models import Case, CaseEvent
from metrics import tasks
from metrics.models import (
    RollupBacklogDay,
    RollupCategoryDay,
    RollupOpenedDay,
    RollupRepDay,
    RollupResolvedDay,
)
from metrics.rollups import ddl, rollups_check, rollups_rebuild
from metrics.rollups.every import check_every_rollup
from metrics.rollups.spec import TABLES
from tests.factories import CategoryFactory
from tests.metrics.builders import at, make_case

pytestmark = pytest.mark.django_db


def slots(*counts_before: tuple[int, int]) -> list[int]:
    """25 cumulative slots from (hour, n) pairs: n things at that UTC hour."""
    return [sum(n for hour, n in counts_before if hour < k) for k in range(25)]


def rows(model) -> list[tuple]:
    """A rollup table as (key…, measures…) tuples without all-zero rows, sorted."""
    table = next(t for t in TABLES if t.name == model._meta.db_table)
    fields = [*table.dims, "day", *table.measures]
    return sorted(
        tuple(r)
        for r in model.objects.values_list(*fields)
        if any(any(r[i]) for i in range(len(fields) - len(table.measures), len(fields)))
    )


def everything() -> dict[str, list[tuple]]:
    return {
        m._meta.db_table: rows(m)
        for m in (
            RollupCategoryDay,
            RollupOpenedDay,
            RollupBacklogDay,
            RollupRepDay,
            RollupResolvedDay,
        )
    }


def test_a_row_holds_cumulative_hourly_counts(org):
    """Opened 09:30 and 09:45 and 23:10 UTC: slots 1–10 are 0, 11–24 are 2, slot 25 is 3."""
    make_case(org, "a", "2026-03-02T09:30", org.rep_a1)
    make_case(org, "b", "2026-03-02T09:45", org.rep_a1)
    make_case(org, "c", "2026-03-02T23:10", org.rep_a1)
    expected = [0] * 10 + [2] * 14 + [3]
    assert slots((9, 2), (23, 1)) == expected
    assert rows(RollupCategoryDay) == [(org.category.pk, at("2026-03-02T00:00").date(), expected)]
    assert rows(RollupOpenedDay) == [
        (org.team_a.pk, org.category.pk, at("2026-03-02T00:00").date(), expected)
    ]
    assert rows(RollupBacklogDay) == [
        (org.team_a.pk, at("2026-03-02T00:00").date(), expected, [0] * 25, [0] * 25)
    ]
    assert rows(RollupRepDay) == [
        (org.rep_a1.pk, org.team_a.pk, at("2026-03-02T00:00").date(), expected) + ([0] * 25,) * 3
    ]


def test_events_count_under_their_case_and_move_with_it(org):
    """A resolution counts for the case's team and assignee and, as resolved_by_rep, for its
    actor; reassigning the case to team B moves its history there, the actor's stays."""
    case = make_case(
        org,
        "a",
        "2026-03-02T09:30",
        org.rep_a1,
        [
            (CaseEvent.Type.RESOLVED, "2026-03-03T00:00"),
            (CaseEvent.Type.REOPENED, "2026-03-03T05:59"),
        ],
    )
    day1, day2 = at("2026-03-02T00:00").date(), at("2026-03-03T00:00").date()
    opened, resolved, reopened = slots((9, 1)), slots((0, 1)), slots((5, 1))
    zero = [0] * 25
    assert rows(RollupBacklogDay) == [
        (org.team_a.pk, day1, opened, zero, zero),
        (org.team_a.pk, day2, zero, resolved, reopened),
    ]
    assert rows(RollupRepDay) == [
        (org.rep_a1.pk, org.team_a.pk, day1, opened, zero, zero, zero),
        (org.rep_a1.pk, org.team_a.pk, day2, zero, resolved, reopened, resolved),
    ]

    Case.objects.filter(pk=case.pk).update(assignee=org.rep_b1, team=org.team_b)

    assert rows(RollupBacklogDay) == [
        (org.team_b.pk, day1, opened, zero, zero),
        (org.team_b.pk, day2, zero, resolved, reopened),
    ]
    assert rows(RollupRepDay) == [
        # The resolution stays the actor's (rep A1), now on a case of team B.
        (org.rep_a1.pk, org.team_b.pk, day2, zero, zero, zero, resolved),
        (org.rep_b1.pk, org.team_b.pk, day1, opened, zero, zero, zero),
        (org.rep_b1.pk, org.team_b.pk, day2, zero, resolved, reopened, zero),
    ]
    assert rollups_check() == []


def test_resolved_cases_count_at_their_latest_resolution_with_their_touch_counts(org):
    """A resolved case counts at resolved_at under its team with its folded counts: a second
    agent response moves it from one-touch to touched only; a reopening takes it out until
    it is resolved again, then it counts as reopened; a team change moves it."""
    case = make_case(
        org, "a", "2026-03-02T09:30", org.rep_a1, [(CaseEvent.Type.RESOLVED, "2026-03-03T04:10")]
    )
    cases = Case.objects.filter(pk=case.pk)
    cases.update(agent_response_count=1, first_response_at=at("2026-03-02T10:00"), reopened_count=0)
    day = at("2026-03-03T00:00").date()
    one, zero = slots((4, 1)), [0] * 25
    # resolved_cases, zero_touch, touched, one_touch, reopened_cases
    assert rows(RollupResolvedDay) == [(org.team_a.pk, day, one, zero, one, one, zero)]

    cases.update(agent_response_count=2)
    assert rows(RollupResolvedDay) == [(org.team_a.pk, day, one, zero, one, zero, zero)]

    cases.update(status="open", resolved_at=None, resolved_by=None, reopened_count=1)
    assert rows(RollupResolvedDay) == []

    cases.update(status="resolved", resolved_at=at("2026-03-04T22:00"), resolved_by=org.rep_a2)
    day2, late = at("2026-03-04T00:00").date(), slots((22, 1))
    assert rows(RollupResolvedDay) == [(org.team_a.pk, day2, late, zero, late, zero, late)]

    cases.update(team=org.team_b, agent_response_count=0, first_response_at=None)
    assert rows(RollupResolvedDay) == [(org.team_b.pk, day2, late, late, zero, zero, late)]
    assert rollups_check() == []

    cases.delete()
    assert rows(RollupResolvedDay) == []


def test_a_status_change_writes_no_rollup_row(org):
    case = make_case(org, "a", "2026-03-02T09:30", org.rep_a1)
    with connection.cursor() as cursor:
        cursor.execute("SELECT xmin::text FROM metrics_rollup_backlog_day")
        before = cursor.fetchall()
        Case.objects.filter(pk=case.pk).update(status="pending", subject="changed")
        cursor.execute("SELECT xmin::text FROM metrics_rollup_backlog_day")
        assert cursor.fetchall() == before


def test_deletes_in_either_order_and_bulk_statements_keep_the_rollups_exact(org):
    billing, shipping = org.category, CategoryFactory(slug="shipping")
    cases = [
        make_case(
            org,
            f"c{i}",
            f"2026-03-0{1 + i % 5}T{i % 24:02d}:15",
            [org.rep_a1, org.rep_a2, org.rep_b1, None][i % 4],
            [(CaseEvent.Type.RESOLVED, f"2026-03-0{6 + i % 3}T{(i * 7) % 24:02d}:00")],
        )
        for i in range(12)
    ]
    assert rollups_check() == []
    # A bulk UPDATE of dimensions and times, in one statement.
    Case.objects.filter(pk__in=[c.pk for c in cases[:6]]).update(
        category=shipping, opened_at=at("2026-02-27T13:00"), team=org.team_b
    )
    assert rollups_check() == []
    # Django deletes a case's events first, then the case.
    Case.objects.filter(pk__in=[cases[6].pk, cases[7].pk]).delete()
    assert rollups_check() == []
    # Raw SQL: the case first, its events later in the same transaction (deferred key).
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM cases_case WHERE id = %s", [cases[8].pk])
        assert rollups_check() == []
        cursor.execute("DELETE FROM cases_caseevent WHERE case_id = %s", [cases[8].pk])
        cursor.execute("DELETE FROM cases_surveyinvitation WHERE case_id = %s", [cases[8].pk])
        assert rollups_check() == []
        # An event moved in time and turned into a reopening; an INSERT … ON CONFLICT.
        cursor.execute(
            "UPDATE cases_caseevent SET occurred_at = occurred_at + interval '90 minutes', "
            "event_type = 'reopened' WHERE case_id = %s AND event_type = 'resolved'",
            [cases[9].pk],
        )
        cursor.execute(
            "INSERT INTO cases_case AS c (source, external_id, category_id, channel, priority, "
            "status, subject, opened_at, agent_response_count, reopened_count, "
            "requester_email, requester_name, team_id, created_at, updated_at) "
            "SELECT source, external_id, %s, channel, priority, 'new', subject, "
            "opened_at - interval '3 hours', 0, 0, '', '', team_id, now(), now() "
            "FROM cases_case WHERE id = ANY(%s) "
            "UNION ALL SELECT 'api', 'brand-new', %s, 'chat', 'normal', 'new', '', "
            "'2026-03-04T08:00Z', 0, 0, '', '', NULL, now(), now() "
            "ON CONFLICT (source, external_id) DO UPDATE SET category_id = excluded.category_id, "
            "opened_at = excluded.opened_at",
            [billing.pk, [cases[10].pk, cases[11].pk], billing.pk],
        )
    assert Case.objects.filter(external_id="brand-new").exists()
    assert rollups_check() == []


def test_truncate_empties_the_rollups(org):
    make_case(
        org, "a", "2026-03-02T09:30", org.rep_a1, [(CaseEvent.Type.RESOLVED, "2026-03-03T00:00")]
    )
    with connection.cursor() as cursor:
        # TRUNCATE refuses tables with foreign-key checks still pending.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("TRUNCATE cases_caseevent")
    day, zero = at("2026-03-02T00:00").date(), [0] * 25
    assert rows(RollupBacklogDay) == [(org.team_a.pk, day, slots((9, 1)), zero, zero)]
    assert len(rows(RollupCategoryDay)) == 1
    assert rollups_check() == []
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE cases_case CASCADE")
    assert everything() == {t.name: [] for t in TABLES}


def test_rebuild_twice_gives_the_same_tables_as_the_triggers(org):
    for i in range(8):
        make_case(
            org,
            f"c{i}",
            f"2026-03-0{1 + i}T{(5 * i) % 24:02d}:00",
            [org.rep_a1, org.rep_b1][i % 2],
            [(CaseEvent.Type.RESOLVED, f"2026-03-{10 + i}T07:30")],
        )
    kept = everything()
    assert all(kept.values())
    first = rollups_rebuild()
    after_first = everything()
    second = rollups_rebuild()
    assert first == second == {t.name: len(kept[t.name]) for t in TABLES}
    assert after_first == everything() == kept


def test_check_finds_a_damaged_row(org):
    make_case(org, "a", "2026-03-02T09:30", org.rep_a1)
    RollupBacklogDay.objects.update(opened=[0] * 24 + [5])
    assert [(d.table, d.stale, d.missing) for d in rollups_check()] == [
        ("metrics_rollup_backlog_day", 1, 1)
    ]
    # The check changed nothing.
    assert RollupBacklogDay.objects.get().opened == [0] * 24 + [5]
    with pytest.raises(CommandError):
        call_command("rollups_rebuild", "--check", stdout=StringIO())
    with pytest.raises(CommandError):  # VACUUM cannot run in the test's transaction
        call_command("rollups_rebuild", "--compact", stdout=StringIO())
    out = StringIO()
    call_command("rollups_rebuild", stdout=out)
    assert "metrics_rollup_backlog_day 1" in out.getvalue()
    assert rollups_check() == []


def test_the_nightly_task_is_idempotent(org):
    make_case(
        org, "a", "2026-03-02T09:30", org.rep_a1, [(CaseEvent.Type.RESOLVED, "2026-03-03T00:00")]
    )
    RollupRepDay.objects.all().delete()
    expected = {
        "metrics_rollup_category_day": 1,
        "metrics_rollup_opened_day": 1,
        "metrics_rollup_backlog_day": 2,
        "metrics_rollup_rep_day": 2,
        "metrics_rollup_resolved_day": 1,
        # Its resolution (no first response): its team and every team, per day and month.
        "metrics_duration_rollup": 4,
        # One resolution without a survey response: one fact, one day row.
        "metrics_csat_fact": 1,
        "metrics_rollup_csat_day": 1,
        # Taken on (assigned) and resolved.
        "metrics_load_fact": 2,
        # The case has no account.
        "metrics_rollup_account_month": 0,
    }
    assert tasks.rollups_rebuild.delay().get() == expected
    state = everything()
    assert tasks.rollups_rebuild.delay().get() == expected
    assert everything() == state
    assert check_every_rollup() == []


def test_the_check_of_every_rollup_names_each_damaged_table(org):
    make_case(
        org, "a", "2026-03-02T09:30", org.rep_a1, [(CaseEvent.Type.RESOLVED, "2026-03-03T00:00")]
    )
    assert check_every_rollup() == []
    damaged = ("metrics_duration_rollup", "metrics_csat_fact", "metrics_load_fact")
    with connection.cursor() as cursor:  # as if written with the triggers off
        for table in damaged:
            cursor.execute(f"DELETE FROM {table}")
    found = {(d.table, d.stale, d.missing) for d in check_every_rollup()}
    assert found == {
        ("metrics_duration_rollup", 0, 4),
        ("metrics_csat_fact", 0, 1),
        ("metrics_load_fact", 0, 2),
    }
    call_command("rollups_rebuild", stdout=StringIO())
    assert check_every_rollup() == []


def test_installed_functions_are_what_the_module_generates():
    """The migration holds a copy of the SQL; a change in metrics.rollups.ddl needs a new one."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT proname, prosrc FROM pg_proc WHERE proname = ANY(%s)", [ddl.function_names()]
        )
        installed = dict(cursor.fetchall())
        cursor.execute(
            "SELECT tgrelid::regclass::text, tgname FROM pg_trigger "
            "WHERE tgname LIKE 'metrics_rollups_%%' ORDER BY 1, 2"
        )
        triggers = cursor.fetchall()
    assert installed == ddl.function_bodies()
    assert triggers == [
        (table, f"metrics_rollups_{event}")
        for table in ("cases_case", "cases_caseevent")
        for event in ("delete", "insert", "truncate", "update")
    ]


@pytest.mark.filterwarnings("ignore:Requested Holidays are available only")
def test_seed_demo_ends_with_exact_rollups(db):
    """The demo loader COPYs cases and events with the hourly rollups' triggers on and the
    per-case families deferred to a rebuild: every rollup it leaves is exactly a rebuild's,
    and the deferred triggers are on again afterwards."""
    seed_demo(
        cases=400,
        seed=3,
        now=datetime(2026, 11, 23, 12, tzinfo=UTC),
        reset=True,
        log=lambda m: None,
    )
    assert RollupCategoryDay.objects.exists()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM metrics_csat_fact UNION ALL SELECT count(*) FROM"
            " metrics_load_fact UNION ALL SELECT count(*) FROM metrics_duration_rollup"
            " UNION ALL SELECT count(*) FROM metrics_rollup_account_month"
        )
        assert all(n > 0 for (n,) in cursor.fetchall())
        cursor.execute("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal AND tgenabled = 'D'")
        assert cursor.fetchall() == []
    assert check_every_rollup() == []
