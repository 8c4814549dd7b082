"""A statement that touches more cases than PostgreSQL's shared lock table can hold (an
import, the demo seed) must still write: the rollup triggers take row locks on the cases,
which live in the rows, not one lock-table entry per case."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection

from cases.models import Case, CaseEvent
from metrics.rollups.every import check_every_rollup
from tests.metrics.builders import at

pytestmark = pytest.mark.django_db


def lock_table_size() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_setting('max_locks_per_transaction')::int"
            " * (current_setting('max_connections')::int"
            " + current_setting('max_prepared_transactions')::int)"
        )
        return int(cursor.fetchone()[0])


def test_one_statement_resolving_more_cases_than_the_lock_table_holds(org):
    count = 3 * lock_table_size()  # the table has slack: well past it
    opened = at("2026-03-02T09:30")
    cases = Case.objects.bulk_create(
        Case(
            external_id=f"big-{i}",
            category=org.category,
            channel="email",
            team=org.team_a,
            assignee=org.rep_a1,
            opened_at=opened,
            status="resolved",
            resolved_at=opened + timedelta(hours=2),
            resolved_by=org.rep_a1,
            resolution_seconds=7200,
        )
        for i in range(count)
    )
    CaseEvent.objects.bulk_create(  # one INSERT statement: one trigger call for every case
        CaseEvent(
            case=case,
            event_type=CaseEvent.Type.RESOLVED,
            occurred_at=opened + timedelta(hours=2),
            actor=org.rep_a1,
        )
        for case in cases
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM metrics_csat_fact WHERE NOT is_response")
        assert cursor.fetchone()[0] == count
        cursor.execute("SELECT count(*) FROM metrics_load_fact WHERE resolved")
        assert cursor.fetchone()[0] == count
    assert check_every_rollup() == []
