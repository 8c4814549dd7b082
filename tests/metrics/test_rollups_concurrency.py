"""Concurrent writers and the rollups: no deadlock, no lost count (committed transactions)."""

from __future__ import annotations

import random
import threading
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection, transaction

from cases.models import Case, CaseEvent
from metrics.kpis.backlog import backlog_trend
from metrics.models import RollupBacklogDay, RollupPendingFact
from metrics.rollups import ddl, rollups_check, rollups_compact
from metrics.types import KpiFilter
from tests.metrics.builders import make_case

pytestmark = pytest.mark.django_db(transaction=True)

BASE = datetime(2026, 3, 2, 9, tzinfo=UTC)
WRITERS = 4
TRANSACTIONS = 12


def _writer(
    org, seed: int, pool: list[int], errors: list[BaseException], start: threading.Barrier
) -> None:
    """Transactions of three writes in a random order, touching overlapping rollup rows in
    different orders: new cases, resolutions of stored cases by random reps, and a
    reassignment of a stored case. As the services do, a transaction first locks the stored
    cases it writes (in id order), so the cases alone cannot deadlock."""
    rng = random.Random(seed)
    reps = [org.rep_a1, org.rep_a2, org.rep_b1]

    def new_cases(i: int) -> None:
        Case.objects.bulk_create(
            Case(
                external_id=f"w{seed}-{i}-{k}",
                category=org.category,
                channel="email",
                opened_at=BASE + timedelta(hours=rng.randrange(48)),
                assignee=rep,
                team_id=rep.team_id,
            )
            for k, rep in enumerate(rng.choice(reps) for _ in range(3))
        )

    def resolutions(i: int, resolved: list[int]) -> None:
        CaseEvent.objects.bulk_create(
            CaseEvent(
                case_id=case_id,
                event_type=CaseEvent.Type.RESOLVED,
                occurred_at=BASE + timedelta(hours=48 + rng.randrange(48), seconds=seed * 100 + i),
                actor=rng.choice(reps),
            )
            for case_id in resolved
        )

    def reassignment(moved: int) -> None:
        rep = rng.choice(reps)
        Case.objects.filter(pk=moved).update(assignee=rep, team_id=rep.team_id)

    try:
        start.wait()
        for i in range(TRANSACTIONS):
            resolved, moved = rng.sample(pool, 3), rng.choice(pool)
            steps = [(new_cases, (i,)), (resolutions, (i, resolved)), (reassignment, (moved,))]
            rng.shuffle(steps)
            with transaction.atomic():
                locked = Case.objects.select_for_update().filter(pk__in=[*resolved, moved])
                list(locked.order_by("pk").values_list("pk", flat=True))
                for step, args in steps:
                    step(*args)
    except BaseException as error:
        errors.append(error)
    finally:
        connection.close()


def test_concurrent_writers_neither_deadlock_nor_lose_a_count(org):
    reps = [org.rep_a1, org.rep_a2, org.rep_b1]
    pool = [
        c.pk
        for c in Case.objects.bulk_create(
            Case(
                external_id=f"pool-{k}",
                category=org.category,
                channel="email",
                opened_at=BASE + timedelta(hours=k),
                assignee=reps[k % 3],
                team_id=reps[k % 3].team_id,
            )
            for k in range(12)
        )
    ]
    errors: list[BaseException] = []
    start = threading.Barrier(WRITERS)
    threads = [
        threading.Thread(target=_writer, args=(org, seed, pool, errors, start))
        for seed in range(WRITERS)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert Case.objects.count() == len(pool) + WRITERS * TRANSACTIONS * 3
    assert rollups_check() == []


@pytest.mark.parametrize("first", ["event", "reassignment"])
def test_an_event_and_a_reassignment_of_its_case_racing(org, first):
    """One transaction records a resolution on a case without locking it first, another
    moves the case to team B; whichever starts first, the other waits for its commit (the
    trigger reads the case FOR SHARE) and the resolution ends up under team B."""
    case = Case.objects.create(
        external_id="race",
        category=org.category,
        channel="email",
        opened_at=BASE,
        assignee=org.rep_a1,
        team=org.team_a,
    )
    started, release = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def record_resolution() -> None:
        try:
            with transaction.atomic():
                CaseEvent.objects.create(
                    case_id=case.pk,
                    event_type=CaseEvent.Type.RESOLVED,
                    occurred_at=BASE + timedelta(hours=5),
                    actor=org.rep_a1,
                )
                started.set()
                release.wait(10)
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    def reassign() -> None:
        try:
            with transaction.atomic():
                Case.objects.filter(pk=case.pk).update(assignee=org.rep_b1, team=org.team_b)
                started.set()
                release.wait(10)
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    order = [record_resolution, reassign] if first == "event" else [reassign, record_resolution]
    threads = [threading.Thread(target=target) for target in order]
    threads[0].start()
    assert started.wait(10)
    threads[1].start()
    threads[1].join(timeout=1)
    assert threads[1].is_alive()  # the second writer waits for the first to commit
    release.set()
    for thread in threads:
        thread.join(timeout=20)
    assert errors == []
    assert rollups_check() == []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT team_id, sum(resolved[25]) FROM metrics_rollup_backlog_day_live "
            "GROUP BY team_id HAVING sum(resolved[25]) <> 0"
        )
        assert cursor.fetchall() == [(org.team_b.pk, 1)]


def test_while_another_writer_holds_the_fold_lock_facts_wait_and_still_count(org, settings):
    """Writes whose transaction cannot fold leave their facts pending; the figures (through
    the _live views) count them all the same, and the next writer that can fold does."""
    holding, release = threading.Event(), threading.Event()

    def hold_the_fold_lock() -> None:
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [ddl.FOLD_LOCK])
                holding.set()
                release.wait(20)
        finally:
            connection.close()

    holder = threading.Thread(target=hold_the_fold_lock)
    holder.start()
    assert holding.wait(10)
    try:
        make_case(
            org,
            "a",
            "2026-03-02T09:30",
            org.rep_a1,
            [(CaseEvent.Type.RESOLVED, "2026-03-03T00:00")],
        )
        make_case(org, "b", "2026-03-02T11:00", org.rep_b1)
        assert RollupPendingFact.objects.exists()
        assert not RollupBacklogDay.objects.exists()
        f = KpiFilter(
            start=datetime(2026, 3, 1, tzinfo=UTC),
            end=datetime(2026, 3, 5, tzinfo=UTC),
            tz=ZoneInfo("UTC"),
        )
        now = datetime(2026, 3, 10, 12, tzinfo=UTC)
        from_rollups = backlog_trend(f=f, now=now)
        settings.SUPPORTMETRICS_ROLLUPS = False
        assert backlog_trend(f=f, now=now) == from_rollups
        assert [(d.day, d.opened, d.resolved, d.open_at_end) for d in from_rollups] == [
            ("2026-03-01", 0, 0, 0),
            ("2026-03-02", 2, 0, 2),
            ("2026-03-03", 0, 1, 1),
            ("2026-03-04", 0, 0, 1),
        ]
    finally:
        release.set()
        holder.join(timeout=20)
    make_case(org, "c", "2026-03-04T08:00", org.rep_a2)
    assert not RollupPendingFact.objects.exists()
    assert rollups_check() == []


def test_compaction_rewrites_the_tables_and_keeps_their_rows(org):
    for i in range(6):
        make_case(org, f"k{i}", f"2026-03-0{1 + i}T10:00", org.rep_a1)
    rows = sorted(RollupBacklogDay.objects.values_list("team_id", "day", "opened"))
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_relation_filenode('metrics_rollup_backlog_day')")
        (before,) = cursor.fetchone()
        assert rollups_compact() is True
        cursor.execute("SELECT pg_relation_filenode('metrics_rollup_backlog_day')")
        (after,) = cursor.fetchone()
    assert after != before  # rewritten
    assert sorted(RollupBacklogDay.objects.values_list("team_id", "day", "opened")) == rows
    assert rollups_check() == []
    with transaction.atomic():
        assert rollups_compact() is False
