"""The benchmark's data set: seed it with the demo generator, or reuse the one in place.

The benchmark wipes the case domain when it seeds, so it only seeds a database that is
empty or that it seeded itself. It says so with a marker: a JSON comment on the database
(``COMMENT ON DATABASE``), written after a complete seed and cleared before the next one.
The marker names the case count, seed, ``--now`` and the applied migrations; ``--reuse``
skips seeding only when all of these match and the case count is the marker's.
"""

from __future__ import annotations

import hashlib
import io
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from psycopg import sql

from cases.models import Case, CaseEvent, SurveyResponse, Team
from metrics.rollups.every import compact_every_rollup

MARKER_KIND = "supportmetrics-benchmark"
# Sources of the cases the ingest part writes; deleted after each run (and before, if an
# interrupted run left some behind).
INGEST_SOURCE_PREFIX = "benchmark-"
# Without an explicit --now, a data set seeded up to this long ago is still "the same".
REUSE_MAX_AGE = timedelta(days=7)


class BenchmarkError(Exception):
    """A reason not to run (a database with someone else's data, pending migrations)."""


@dataclass(frozen=True)
class DatasetSpec:
    cases: int
    seed: int
    now: datetime | None  # None: the last 12:00 UTC before the run starts


@dataclass(frozen=True)
class Dataset:
    cases: int
    seed: int
    now: datetime
    seeded: bool
    seed_seconds: float | None
    compact_seconds: float
    analyze_seconds: float
    events: int
    survey_responses: int
    reuse_refused: str | None  # why --reuse seeded anyway


def default_now(moment: datetime) -> datetime:
    """The last 12:00 UTC at or before ``moment``: fixed for a day, so reruns match."""
    noon = moment.astimezone(UTC).replace(hour=12, minute=0, second=0, microsecond=0)
    return noon if noon <= moment else noon - timedelta(days=1)


def migrations_digest() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT app, name FROM django_migrations ORDER BY app, name")
        rows = cursor.fetchall()
    return hashlib.sha256(repr(rows).encode()).hexdigest()[:16]


def pending_migrations() -> list[str]:
    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    return [f"{migration.app_label}.{migration.name}" for migration, _ in plan]


def read_marker() -> dict[str, Any] | None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database "
            "WHERE datname = current_database()"
        )
        row = cursor.fetchone()
    try:
        marker = json.loads(row[0]) if row and row[0] else None
    except ValueError:
        return None
    return marker if isinstance(marker, dict) and marker.get("kind") == MARKER_KIND else None


def _set_comment(text: str | None) -> None:
    name = connection.settings_dict["NAME"]
    statement = sql.SQL("COMMENT ON DATABASE {} IS {}").format(
        sql.Identifier(name), sql.Literal(text)
    )
    with connection.cursor() as cursor:
        cursor.execute(statement.as_string(cursor.cursor))


def write_marker(*, cases: int, seed: int, now: datetime) -> None:
    _set_comment(
        json.dumps(
            {
                "kind": MARKER_KIND,
                "cases": cases,
                "seed": seed,
                "now": now.isoformat(),
                "migrations": migrations_digest(),
            }
        )
    )


def clear_marker() -> None:
    _set_comment(None)


def foreign_data() -> str | None:
    """What the database holds that the benchmark did not put there, or None."""
    tables = set(connection.introspection.table_names())
    if not {Team._meta.db_table, Case._meta.db_table} <= tables:
        return None  # not even the schema yet
    if read_marker() is not None:
        return None
    teams = Team.objects.count()
    cases = Case.objects.count()
    if teams or cases:
        return f"{cases:,} cases and {teams} teams"
    return None


def delete_ingested(log: Callable[[str], None]) -> int:
    """Delete the cases an ingest run wrote (their events and invitations go with them)."""
    started = time.perf_counter()
    deleted, _ = Case.objects.filter(source__startswith=INGEST_SOURCE_PREFIX).delete()
    if deleted:
        log(f"deleted {deleted:,} ingested rows in {time.perf_counter() - started:.1f}s")
    return deleted


def _reuse_refusal(
    spec: DatasetSpec, marker: dict[str, Any] | None, started: datetime, migrated_from: str
) -> str:
    """Why the data set in place is not the one asked for; empty when it is.

    A data set seeded before the migrations this run just applied (``migrated_from`` is the
    digest before them) is still the one asked for: migrations carry the data along (a new
    rollup table is filled from the cases), so 5M cases need not be seeded again for them.
    """
    if marker is None:
        return "no benchmark data set in this database"
    if (marker["cases"], marker["seed"]) != (spec.cases, spec.seed):
        return f"it holds {marker['cases']:,} cases with seed {marker['seed']}"
    if marker["migrations"] not in (migrations_digest(), migrated_from):
        return "migrations were applied since it was seeded"
    seeded_now = datetime.fromisoformat(marker["now"])
    if spec.now is not None and seeded_now != spec.now:
        return f"it was seeded with --now {marker['now']}"
    if spec.now is None and started - seeded_now > REUSE_MAX_AGE:
        return f"it was seeded with --now {marker['now']}, more than a week ago"
    count = Case.objects.count()
    if count != spec.cases:
        return f"it holds {count:,} cases, not {spec.cases:,}"
    return ""


def _refuse_foreign(reset: bool) -> None:
    foreign = foreign_data()
    if foreign and not reset:
        raise BenchmarkError(
            f"The database {connection.settings_dict['NAME']!r} holds data the benchmark "
            f"did not seed ({foreign}); seeding would erase it. Point DATABASE_URL at "
            "another database, or pass --reset to erase it."
        )


def prepare(
    spec: DatasetSpec,
    *,
    reuse: bool,
    reset: bool,
    migrate: bool,
    started: datetime,
    log: Callable[[str], None],
) -> Dataset:
    """Seed the data set (or reuse it), then ANALYZE. Refuses someone else's data, before
    migrating it too."""
    pending = pending_migrations()
    # The migrations the data set in place was last migrated to (none in an empty database).
    fresh = "django_migrations" not in connection.introspection.table_names()
    migrated_from = "" if fresh else migrations_digest()
    if pending:
        if not migrate:
            listed = ", ".join(pending[:3]) + (", …" if len(pending) > 3 else "")
            raise BenchmarkError(
                f"{len(pending)} migrations are not applied ({listed}): "
                "run manage.py migrate first (or pass --migrate)."
            )
        _refuse_foreign(reset)
        log(f"applying {len(pending)} migrations …")
        call_command("migrate", interactive=False, verbosity=0)
    marker = read_marker()
    if marker is not None:
        delete_ingested(log)  # left behind by an interrupted run
    refusal = (
        _reuse_refusal(spec, marker, started, migrated_from) if reuse else "not asked to reuse"
    )
    seed_seconds = None
    if refusal:
        _refuse_foreign(reset)
        if reuse:
            log(f"not reusing the data set in place: {refusal}")
        now = spec.now or default_now(started)
        clear_marker()
        log(f"seeding {spec.cases:,} cases (seed {spec.seed}, --now {now.isoformat()}) …")
        out = io.StringIO()
        began = time.perf_counter()
        call_command(
            "seed_demo",
            "--cases",
            str(spec.cases),
            "--seed",
            str(spec.seed),
            "--now",
            now.isoformat(),
            "--reset",
            stdout=out,
        )
        seed_seconds = time.perf_counter() - began
        log(f"seeded in {seed_seconds:.1f}s")
    else:
        now = datetime.fromisoformat(marker["now"])  # type: ignore[index]
        log(f"reusing the {spec.cases:,}-case data set seeded with --now {now.isoformat()}")
    # seed_demo updates each rollup row many times and leaves those tables several times
    # their live size; the figures served from them would be measured on the bloat. A few
    # seconds, so a reused data set is compacted too (an earlier run may have bloated it).
    began = time.perf_counter()
    if compact_every_rollup():  # not inside a caller's transaction (a test's)
        log(f"rollups compacted in {time.perf_counter() - began:.1f}s")
    compact_seconds = time.perf_counter() - began
    began = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    analyze_seconds = time.perf_counter() - began
    if refusal or (marker and marker["migrations"] != migrations_digest()):
        write_marker(cases=spec.cases, seed=spec.seed, now=now)
    return Dataset(
        cases=Case.objects.count(),
        seed=spec.seed,
        now=now,
        seeded=bool(refusal),
        seed_seconds=seed_seconds,
        compact_seconds=compact_seconds,
        analyze_seconds=analyze_seconds,
        events=CaseEvent.objects.count(),
        survey_responses=SurveyResponse.objects.count(),
        reuse_refused=refusal if reuse and refusal else None,
    )


def vacuum_after_ingest(log: Callable[[str], None]) -> None:
    """Put the tables back as seeded: no dead rows from the deleted ingest (in the case
    tables and the rollup rows its triggers updated), fresh stats."""
    began = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE) cases_case, cases_caseevent")
    compact_every_rollup()
    log(f"VACUUM (ANALYZE) of cases and events in {time.perf_counter() - began:.1f}s")
