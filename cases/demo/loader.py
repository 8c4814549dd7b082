"""Writing the demo data set into PostgreSQL: reset, organisation rows, COPY of the cases.

The whole load is one transaction: a failure leaves the previous data untouched. The big
tables are loaded with their secondary indexes and foreign keys dropped and rebuilt after
(one sorted index build beats millions of index insertions); the definitions are read from
the catalog first, so the rebuilt schema is exactly the migrated one.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from psycopg.types.json import Jsonb
from rest_framework.authtoken.models import Token

from cases.demo.alerts import write_demo_alerts
from cases.demo.generate import generate, prefetch
from cases.demo.pgcopy import HEADER, TRAILER
from cases.demo.rows import CASE_COLUMNS, EVENT_COLUMNS, SURVEY_COLUMNS, Layout
from cases.demo.world import World, build_world
from cases.models import (
    Account,
    Case,
    CaseEvent,
    Category,
    DetractorAlert,
    Representative,
    SurveyResponse,
    Team,
    TeamClosure,
)

ADMIN_USERNAME = "admin"
ADMIN_PASSWORD = "demo-admin"
STAFF_PASSWORD = "demo"
DEMO_USERNAMES = r"^(admin|mgr\.[a-z]+|rep\.[a-z]+\.[0-9]+)$"
DOMAIN_MODELS = (
    DetractorAlert,
    SurveyResponse,
    CaseEvent,
    Case,
    Representative,
    Account,
    Category,
    TeamClosure,
    Team,
)
BULK = ((Case, CASE_COLUMNS), (CaseEvent, EVENT_COLUMNS), (SurveyResponse, SURVEY_COLUMNS))


@dataclass(frozen=True)
class SeedResult:
    created: bool
    cases: int = 0
    events: int = 0
    surveys: int = 0
    token: str = ""
    seconds: float = 0.0


def demo_data_exists() -> bool:
    """True when the case domain already holds data (demo or not)."""
    return Team.objects.exists() or Case.objects.exists()


def admin_token() -> str:
    """The admin's API token, or an empty string."""
    token = Token.objects.filter(user__username=ADMIN_USERNAME).first()
    return token.key if token else ""


def seed_demo(
    *, cases: int, seed: int, now: datetime, reset: bool, log: Callable[[str], None]
) -> SeedResult:
    """Build the demo data set; without ``reset`` an existing data set is left alone."""
    if demo_data_exists() and not reset:
        return SeedResult(created=False, token=admin_token())
    started = time.perf_counter()

    def progress(message: str) -> None:
        log(f"[{time.perf_counter() - started:6.1f}s] {message}")

    # COPY FREEZE needs the TRUNCATE in the same (sub)transaction, with no savepoint
    # between; inside an outer atomic block (tests) we skip it rather than reason about it.
    freeze = not connection.in_atomic_block
    with transaction.atomic(), connection.cursor() as cursor:
        # Demo data: the commit need not wait for the WAL flush (the load is all or nothing).
        cursor.execute("SET LOCAL synchronous_commit = off")
        others = _truncate(cursor)
        progress("domain tables emptied" + (f" (and {', '.join(others)})" if others else ""))
        world = build_world(seed=seed, cases=cases, now=now)
        _write_org(cursor, world)
        token = Token.objects.create(user=get_user_model().objects.get(username=ADMIN_USERNAME))
        progress(
            f"organisation: {len(world.teams)} teams, {len(world.reps)} reps, "
            f"{len(world.accounts)} accounts, {len(world.categories)} categories"
        )
        totals = [0, 0, 0]
        layout = Layout(*(_known_columns(cursor, model, columns) for model, columns in BULK))
        targets = [
            (Case, layout.cases),
            (CaseEvent, layout.events),
            (SurveyResponse, layout.surveys),
        ]
        # The demo data set includes its rollups (metrics depends on cases, not the other
        # way round, except for this one bulk load).
        from metrics.rollups.every import per_case_rollups_deferred

        tables = [model._meta.db_table for model, _ in BULK]
        with (
            per_case_rollups_deferred(cursor, tables),
            _secondary_indexes_dropped(cursor, progress),
        ):
            for payloads in prefetch(generate(world, cases, layout)):
                parts = (payloads.cases, payloads.events, payloads.surveys)
                for (model, columns), data in zip(targets, parts, strict=True):
                    _copy_binary(cursor, model._meta.db_table, columns, data, freeze)
                totals[0] += payloads.n_cases
                totals[1] += payloads.n_events
                totals[2] += payloads.n_surveys
                progress(
                    f"{totals[0]:,}/{cases:,} cases, {totals[1]:,} events, {totals[2]:,} surveys"
                )
        alerts = write_demo_alerts(cursor, now=now)
        progress(f"{alerts:,} detractor alerts")
        _reset_sequences(cursor)
        for model in (*DOMAIN_MODELS, get_user_model()):
            cursor.execute(f"ANALYZE {_table(model)}")
        progress("analyzed")
    return SeedResult(True, *totals, token=token.key, seconds=time.perf_counter() - started)


def _table(model: Any) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _known_columns(cursor: Any, model: Any, columns: tuple[str, ...]) -> tuple[str, ...]:
    """The generator's columns that the table has (a column it does not know gets its default)."""
    present = {
        col.name
        for col in connection.introspection.get_table_description(cursor, model._meta.db_table)
    }
    return tuple(name for name in columns if name in present)


def _truncate(cursor: Any) -> list[str]:
    """Empty the domain tables and drop the demo users.

    Tables that reference the domain (rollups, import logs) are emptied too (CASCADE): they
    describe data that no longer exists. Returns their names.
    """
    tables = [m._meta.db_table for m in DOMAIN_MODELS]
    cursor.execute(
        """
        SELECT DISTINCT conrelid::regclass::text FROM pg_constraint
        WHERE contype = 'f' AND confrelid = ANY(%s::regclass[])
          AND NOT conrelid = ANY(%s::regclass[])
        ORDER BY 1
        """,
        [tables, tables],
    )
    others = [name for (name,) in cursor.fetchall()]
    quoted = ", ".join(connection.ops.quote_name(t) for t in tables)
    # TRUNCATE refuses tables with deferred foreign-key checks still pending (a reseed in
    # the transaction of an earlier one): run them now.
    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    cursor.execute("SET CONSTRAINTS ALL DEFERRED")
    cursor.execute(f"TRUNCATE {quoted} RESTART IDENTITY CASCADE")
    get_user_model().objects.filter(username__regex=DEMO_USERNAMES).delete()
    return others


def _write_org(cursor: Any, world: World) -> None:
    """Teams, users, representatives, categories and accounts, with explicit ids."""
    user_model = get_user_model()
    # Demo users follow whatever other users exist, so their ids are stable across resets.
    first_user_id = (
        user_model.objects.order_by("-id").values_list("id", flat=True).first() or 0
    ) + 1
    joined = world.teams[0].created_at
    users = [
        user_model(
            id=first_user_id,
            username=ADMIN_USERNAME,
            email="admin@demo.example.com",
            first_name="Demo",
            last_name="Admin",
            is_staff=True,
            is_superuser=True,
            date_joined=joined,
            password=make_password(ADMIN_PASSWORD),
        )
    ]
    staff_hash = make_password(STAFF_PASSWORD)  # hashing is slow by design: once for all
    for rep in world.reps:
        users.append(
            user_model(
                id=first_user_id + rep.id,
                username=rep.username,
                email=f"{rep.username}@demo.example.com",
                first_name=rep.first_name,
                last_name=rep.last_name,
                is_active=rep.active,
                date_joined=rep.created_at,
                password=staff_hash,
            )
        )
    user_model.objects.bulk_create(users)

    _copy_rows(
        cursor,
        Team,
        ("id", "name", "timezone", "business_hours", "holiday_country", "holiday_subdivision",
         "created_at"),
        [
            (t.id, t.name, t.timezone, Jsonb(t.business_hours), t.holiday_country,
             t.holiday_subdivision, t.created_at)
            for t in world.teams
        ],
    )  # fmt: skip
    closures = [(t.id, day) for t in world.teams for day in t.closures]
    _copy_rows(
        cursor,
        TeamClosure,
        ("id", "team_id", "date", "reason"),
        [(i + 1, team_id, day, "Team offsite") for i, (team_id, day) in enumerate(closures)],
    )
    _copy_rows(
        cursor,
        Representative,
        ("id", "user_id", "team_id", "role", "display_name", "active", "created_at"),
        [
            (r.id, first_user_id + r.id, r.team_id, r.role, f"{r.first_name} {r.last_name}",
             r.active, r.created_at)
            for r in world.reps
        ],
    )  # fmt: skip
    _copy_rows(
        cursor,
        Category,
        ("id", "name", "slug", "description", "active", "parent_id", "target_resolution_hours"),
        [
            (c.id, c.name, c.slug, c.description, c.active, c.parent_id, c.target_hours)
            for c in world.categories
        ],
    )
    _copy_rows(
        cursor,
        Account,
        ("id", "external_id", "name", "annual_value", "segment", "status", "churned_at",
         "created_at"),
        [
            (a.id, a.external_id, a.name, Decimal(a.annual_value), a.segment,
             "churned" if a.churned_at else "active", a.churned_at, a.created_at)
            for a in world.accounts
        ],
    )  # fmt: skip


def _copy_rows(cursor: Any, model: Any, columns: tuple[str, ...], rows: list[tuple]) -> None:
    with cursor.copy(f"COPY {_table(model)} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def _copy_binary(
    cursor: Any, table: str, columns: tuple[str, ...], data: memoryview, freeze: bool
) -> None:
    options = "FORMAT BINARY, FREEZE" if freeze else "FORMAT BINARY"
    sql = f"COPY {connection.ops.quote_name(table)} ({', '.join(columns)}) FROM STDIN ({options})"
    with cursor.copy(sql) as copy:
        copy.write(HEADER)
        copy.write(data)
        copy.write(TRAILER)


@contextmanager
def _secondary_indexes_dropped(cursor: Any, progress: Callable[[str], None]) -> Iterator[None]:
    """Drop foreign keys, unique constraints and indexes (not primary keys) of the bulk tables.

    On the way out everything is recreated from the catalog definitions read here. If the
    load fails, the transaction's rollback restores them instead.
    """
    tables = [model._meta.db_table for model, _ in BULK]
    cursor.execute(
        """
        SELECT conrelid::regclass::text, conname, contype, pg_get_constraintdef(oid)
        FROM pg_constraint
        WHERE conrelid = ANY(%s::regclass[]) AND contype IN ('f', 'u')
        ORDER BY contype DESC, conrelid::regclass::text, conname
        """,
        [tables],
    )
    constraints = cursor.fetchall()  # 'u' before 'f': unique constraints are rebuilt first
    cursor.execute(
        """
        SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
        FROM pg_index i
        WHERE i.indrelid = ANY(%s::regclass[]) AND NOT i.indisprimary
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid
                          AND c.contype IN ('p', 'u', 'x'))
        ORDER BY 1
        """,
        [tables],
    )
    indexes = cursor.fetchall()
    quote = connection.ops.quote_name
    # Run the deferred checks of the rows written so far; ALTER TABLE refuses pending ones.
    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    cursor.execute("SET CONSTRAINTS ALL DEFERRED")
    for table, name, _kind, _definition in reversed(constraints):
        cursor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {quote(name)}")
    for name, _definition in indexes:
        cursor.execute(f"DROP INDEX {name}")
    yield
    progress(f"loaded; rebuilding {len(indexes)} indexes and {len(constraints)} constraints")
    cursor.execute("SET LOCAL maintenance_work_mem = '1GB'")
    for _name, definition in indexes:
        cursor.execute(definition)
    for table, name, _kind, definition in constraints:
        cursor.execute(f"ALTER TABLE {table} ADD CONSTRAINT {quote(name)} {definition}")
    progress("indexes and constraints rebuilt")


def _reset_sequences(cursor: Any) -> None:
    """Point each id sequence past the ids we assigned ourselves."""
    for model in (*DOMAIN_MODELS, get_user_model()):
        table = model._meta.db_table
        cursor.execute(
            f"SELECT setval(pg_get_serial_sequence(%s, 'id'), COALESCE(MAX(id), 0) + 1, false) "
            f"FROM {connection.ops.quote_name(table)}",
            [table],
        )
