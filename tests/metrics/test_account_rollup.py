"""The per-account rollup's machinery: installed as the module generates it, kept equal to a
rebuild through bulk writes and truncations, and read only where it answers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection

from cases.models import Account, Case, CaseEvent, SurveyResponse
from metrics.kpis.accounts import uses_rollup
from metrics.rollups import accounts as rollup
from metrics.types import KpiFilter

pytestmark = pytest.mark.django_db

BASE = datetime(2026, 3, 30, 22, 0, tzinfo=UTC)  # crosses a month's end


def test_installed_functions_are_what_the_module_generates():
    """The migration holds a copy of the SQL: a change here needs a new migration."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT proname, prosrc FROM pg_proc WHERE proname = ANY(%s)",
            [list(rollup.function_bodies())],
        )
        installed = dict(cursor.fetchall())
    assert installed == rollup.function_bodies()


def _totals(table: str) -> tuple[int, ...]:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT coalesce(sum(opened[32]), 0), coalesce(sum(reopened[32]), 0), "
            f"coalesce(sum(responses[32]), 0), coalesce(sum(csat_sum[32]), 0) FROM {table}"
        )
        return tuple(int(x) for x in cursor.fetchone())


def _seed(org) -> list[Case]:
    account = Account.objects.create(external_id="a1", name="A1", annual_value=100)
    cases = Case.objects.bulk_create(
        Case(
            external_id=f"c{i}",
            account=account if i % 4 else None,
            category=org.category,
            channel="email",
            team=org.team_a if i % 2 else org.team_b,
            status="open",
            opened_at=BASE + timedelta(hours=5 * i),
            first_resolved_at=BASE + timedelta(hours=5 * i + 1),
            reopened_count=1,
        )
        for i in range(12)
    )
    CaseEvent.objects.bulk_create(
        [
            CaseEvent(case=c, event_type="resolved", occurred_at=c.opened_at + timedelta(hours=1))
            for c in cases
        ]
        + [
            CaseEvent(case=c, event_type="reopened", occurred_at=c.opened_at + timedelta(hours=2))
            for c in cases[:6]
        ]
    )
    SurveyResponse.objects.bulk_create(
        SurveyResponse(case=c, csat=1 + i % 5, responded_at=c.opened_at + timedelta(hours=3))
        for i, c in enumerate(cases)
    )
    return cases


def test_bulk_writes_and_truncations_keep_it_equal_to_a_rebuild(org):
    cases = _seed(org)
    # 9 cases with the account; 6 reopened with an event, of which 4 have the account;
    # 9 answers for them.
    with_account = [c for c in cases if c.account_id]
    answered = sum(1 + i % 5 for i, c in enumerate(cases) if c.account_id)
    expected = (len(with_account), sum(1 for c in cases[:6] if c.account_id), 9, answered)
    assert _totals(rollup.TABLE) == expected
    assert _totals(rollup.TABLE_ALL) == expected
    assert rollup.account_rollup_check() == (0, 0)

    Case.objects.filter(team=org.team_a).update(team=org.team_b)
    CaseEvent.objects.filter(event_type="reopened", case__in=cases[:3]).delete()
    SurveyResponse.objects.filter(case__in=cases[6:]).update(csat=5)
    Case.objects.filter(pk=cases[7].pk).delete()
    assert rollup.account_rollup_check() == (0, 0)

    with connection.cursor() as cursor:
        # The deferred foreign-key checks first: TRUNCATE refuses pending trigger events.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("TRUNCATE cases_surveyresponse CASCADE")
    assert _totals(rollup.TABLE_ALL)[2:] == (0, 0)
    assert rollup.account_rollup_check() == (0, 0)
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE cases_caseevent CASCADE")
    assert _totals(rollup.TABLE_ALL)[1] == 0
    assert rollup.account_rollup_check() == (0, 0)
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE cases_case CASCADE")
    assert _totals(rollup.TABLE) == _totals(rollup.TABLE_ALL) == (0, 0, 0, 0)


def test_rebuild_is_idempotent_and_repairs_writes_without_triggers(org):
    _seed(org)
    first = rollup.account_rollup_rebuild()
    assert first > 0 and rollup.account_rollup_rebuild() == first
    with connection.cursor() as cursor:  # a restore that bypassed the triggers
        cursor.execute(f"UPDATE {rollup.TABLE_ALL} SET opened[32] = opened[32] + 1")
    assert rollup.account_rollup_check() != (0, 0)
    rollup.account_rollup_rebuild()
    assert rollup.account_rollup_check() == (0, 0)


@pytest.mark.parametrize(
    ("slice_", "answers"),
    [
        ({}, True),
        ({"team_ids": (1,)}, True),
        ({"segments": ("smb",)}, True),
        ({"rep_ids": (1,)}, False),
        ({"category_ids": (1,)}, False),
        ({"channels": ("email",)}, False),
        ({"priorities": ("high",)}, False),
    ],
)
def test_read_only_for_slices_it_has(slice_, answers, settings):
    f = KpiFilter(start=BASE, end=BASE + timedelta(days=3), tz=UTC, **slice_)
    assert uses_rollup(f, BASE) is answers
    settings.SUPPORTMETRICS_ROLLUPS = False
    assert uses_rollup(f, BASE) is False


@pytest.mark.parametrize(
    ("moment", "midnight", "lo", "hi", "sign"),
    [
        ("2026-03-31T00:00", "2026-03-31T00:00", "2026-03-31T00:00", "2026-03-31T00:00", 1),
        ("2026-03-31T11:59", "2026-03-31T00:00", "2026-03-31T00:00", "2026-03-31T11:59", 1),
        ("2026-03-31T12:00", "2026-03-31T00:00", "2026-03-31T00:00", "2026-03-31T12:00", 1),
        ("2026-03-31T22:00", "2026-04-01T00:00", "2026-03-31T22:00", "2026-04-01T00:00", -1),
    ],
)
def test_boundary_takes_the_nearer_midnight(moment, midnight, lo, hi, sign):
    def at(text: str) -> datetime:
        return datetime.fromisoformat(text).replace(tzinfo=UTC)

    b = rollup.boundary(at(moment))
    assert (b.midnight, b.lo, b.hi, b.sign) == (at(midnight), at(lo), at(hi), sign)
    assert b.slot == b.midnight.day and b.month == b.midnight.date().replace(day=1)


def test_the_weekly_rebuild_job_recomputes_it(org):
    from metrics import tasks

    _seed(org)
    with connection.cursor() as cursor:  # as if written with the triggers off
        cursor.execute(f"DELETE FROM {rollup.TABLE}")
        cursor.execute(f"DELETE FROM {rollup.TABLE_ALL}")
    assert rollup.account_rollup_check() != (0, 0)
    counts = tasks.rollups_rebuild()
    assert counts[rollup.TABLE] > 0
    assert rollup.account_rollup_check() == (0, 0)
