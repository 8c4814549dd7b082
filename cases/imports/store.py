"""The import's SQL: set-based reads and writes, a handful of statements per import.

Rows go in with binary COPY, sent from a writer thread so the server works while Python
formats the next rows: new cases and events straight into their tables, stored cases
through a temporary table, so one INSERT ... ON CONFLICT can tell updated and unchanged
apart. No per-row query, no model instance per row.
Like ``bulk_create``, this bypasses ``save()`` and model signals; database triggers run.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import psycopg
from django.db import connection
from psycopg.copy import QueuedLibpqWriter

from cases.models import Case, CaseEvent
from cases.services.durations import DURATION_FIELDS
from cases.services.snapshots import SNAPSHOT_FIELDS
from cases.state import CaseState

Key = tuple[str, str]

SNAPSHOT_ATTNAMES = {Case._meta.get_field(name).attname for name in SNAPSHOT_FIELDS}
CASE_TABLE = Case._meta.db_table
EVENT_TABLE = CaseEvent._meta.db_table
# The columns an import writes: all but the key and the row's own timestamps (attnames;
# for these models they are also the column names).
CASE_COLUMNS = tuple(
    f.attname
    for f in Case._meta.concrete_fields
    if f.attname not in ("id", "created_at", "updated_at")
)
# What a new case has in the columns neither the file nor the fold sets.
CASE_DEFAULTS = {
    f.attname: f.get_default() for f in Case._meta.concrete_fields if f.attname in CASE_COLUMNS
}
# The columns an import decides, and so updates on a stored case: what a snapshot sets,
# what the fold sets, and what follows from them. Any other column keeps its stored value.
UPDATED_COLUMNS = tuple(
    c
    for c in CASE_COLUMNS
    if c
    in {
        *(Case._meta.get_field(name).attname for name in SNAPSHOT_FIELDS),
        *CaseState.FIELDS,
        *(name for pair in DURATION_FIELDS.values() for name in pair),
        "first_resolved_at",
    }
)
# What the import reads of a stored case named in the cases file: what the snapshot rules,
# first_resolved_at and the durations depend on, and what a snapshot leaves as stored.
STORED_COLUMNS = tuple(
    dict.fromkeys(
        (
            "source",
            "external_id",
            "status",
            "category_id",
            "team_id",
            "opened_at",
            "first_response_at",
            "resolved_at",
            "first_resolved_at",
            *(c for c in UPDATED_COLUMNS if c in CaseState.FIELDS and c not in SNAPSHOT_ATTNAMES),
            *(name for pair in DURATION_FIELDS.values() for name in pair),
        )
    )
)
# An event as compared and written, without its case and recording time.
EVENT_FIELDS = (
    "event_type",
    "occurred_at",
    "actor_id",
    "assignee_id",
    "from_status",
    "to_status",
    "synthetic",
)
EVENT_COLUMNS = ("case_id", *EVENT_FIELDS, "recorded_at")
# Serialises imports, so two imports of the same file cannot race on the same cases.
IMPORT_LOCK_KEY = 0x5E1F_CA5E


class StoredCase(dict[str, Any]):
    """A stored case: ``id`` and the columns read (STORED_COLUMNS, or every CASE_COLUMNS),
    also readable as attributes (``snapshot_errors`` reads ``existing.category_id``)."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


def import_lock() -> None:
    """Wait for any other import to finish (released at the end of the transaction)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [IMPORT_LOCK_KEY])


def _keyed(columns: str, keys: Iterable[Key]) -> tuple[str, list[Any]]:
    sources, external_ids = [], []
    for source, external_id in keys:
        sources.append(source)
        external_ids.append(external_id)
    sql = (
        f"SELECT {columns} FROM {CASE_TABLE} c "
        "JOIN unnest(%s::text[], %s::text[]) AS k(source, external_id) "
        "ON c.source = k.source AND c.external_id = k.external_id"
    )
    return sql, [sources, external_ids]


def _copy(cursor: Any, sql: str) -> Any:
    # On the psycopg cursor itself: Django's debug wrapper has its own copy() without
    # the writer argument.
    raw = cursor.cursor
    return raw.copy(sql, writer=QueuedLibpqWriter(raw))


def _column_types(cursor: Any, table: str, columns: Sequence[str]) -> list[int]:
    """The type OIDs of the columns: binary COPY (several times faster than text) needs them."""
    cursor.execute(
        "SELECT attname, atttypid FROM pg_attribute WHERE attrelid = %s::regclass "
        "AND attname = ANY(%s)",
        [table, list(columns)],
    )
    oids = dict(cursor.fetchall())
    return [int(oids[c]) for c in columns]


def stored_cases(keys: Iterable[Key], *, every_column: bool = False) -> dict[Key, StoredCase]:
    """The stored cases among ``keys``, in one query: STORED_COLUMNS, or every column the
    import writes (for a case only the events file names, whose row is rewritten whole)."""
    names = ("id", *(CASE_COLUMNS if every_column else STORED_COLUMNS))
    sql, params = _keyed(", ".join(f"c.{c}" for c in names), keys)
    connection.ensure_connection()
    # Binary results (parsing 100,000 rows of timestamps as text costs seconds) need a
    # server-side binding cursor; Django's are client-side. Same connection, same transaction.
    with psycopg.Cursor(connection.connection) as cursor:
        cursor.execute(sql, params, binary=True)
        rows = [StoredCase(zip(names, row, strict=True)) for row in cursor.fetchall()]
    return {(row["source"], row["external_id"]): row for row in rows}


def cases_insert(rows: Iterable[dict[str, Any]], *, count: int, now: datetime) -> dict[Key, int]:
    """Insert cases that are not stored (the import read them under its lock): ``{key: id}``.

    Their ids are taken from the table's sequence first, so the rows go straight into the
    table with binary COPY (the fastest way in; no staging table to write and read back).
    A case someone else inserted meanwhile is a unique violation: the import is refused
    whole (``import_rejected``) and can simply be run again. ``rows`` (``count`` of them)
    may be a generator: each is made while the server stores the ones before.
    """
    if not count:
        return {}
    columns = ("id", *CASE_COLUMNS, "created_at", "updated_at")
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT nextval(pg_get_serial_sequence('{CASE_TABLE}', 'id')) "
            "FROM generate_series(1, %s)",
            [count],
        )
        ids = [pk for (pk,) in cursor.fetchall()]
        types = _column_types(cursor, CASE_TABLE, columns)
        copy_sql = f"COPY {CASE_TABLE} ({', '.join(columns)}) FROM STDIN (FORMAT BINARY)"
        inserted = {}
        with _copy(cursor, copy_sql) as copy:
            copy.set_types(types)
            for pk, row in zip(ids, rows, strict=True):
                copy.write_row([pk, *(row[c] for c in CASE_COLUMNS), now, now])
                inserted[row["source"], row["external_id"]] = pk
    return inserted


def cases_upsert(rows: Sequence[dict[str, Any]], *, now: datetime) -> dict[Key, tuple[int, bool]]:
    """Insert or update cases by (source, external_id).

    A stored case gets the UPDATED_COLUMNS of its row, and only if one of them differs: a
    row equal to the stored one is not written at all (``updated_at`` included). Returns
    ``{key: (id, created)}`` for the rows that were inserted or changed."""
    if not rows:
        return {}
    columns = ", ".join(CASE_COLUMNS)
    updated = [c for c in UPDATED_COLUMNS if c not in ("source", "external_id")]
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS case_import_rows")
        cursor.execute(
            f"CREATE TEMPORARY TABLE case_import_rows AS SELECT {columns} FROM {CASE_TABLE} "
            "WITH NO DATA"
        )
        types = _column_types(cursor, CASE_TABLE, CASE_COLUMNS)
        copy_sql = f"COPY case_import_rows ({columns}) FROM STDIN (FORMAT BINARY)"
        with _copy(cursor, copy_sql) as copy:
            copy.set_types(types)
            for row in rows:
                copy.write_row([row[c] for c in CASE_COLUMNS])
        cursor.execute(
            f"INSERT INTO {CASE_TABLE} AS c ({columns}, created_at, updated_at) "
            f"SELECT {columns}, %s, %s FROM case_import_rows "
            "ON CONFLICT (source, external_id) DO UPDATE SET "
            + ", ".join(f"{c} = EXCLUDED.{c}" for c in updated)
            + ", updated_at = EXCLUDED.updated_at "
            f"WHERE ({', '.join(f'c.{c}' for c in updated)}) "
            f"IS DISTINCT FROM ({', '.join(f'EXCLUDED.{c}' for c in updated)}) "
            # xmax is 0 on a freshly inserted row version, not on an updated one.
            "RETURNING c.id, c.source, c.external_id, (c.xmax = 0)",
            [now, now],
        )
        changed = {(source, ext): (pk, created) for pk, source, ext, created in cursor.fetchall()}
        cursor.execute("DROP TABLE case_import_rows")
    return changed


def events_of(case_ids: Sequence[int]) -> list[tuple[Any, ...]]:
    """``(id, case_id, *EVENT_FIELDS)`` of every event of these cases."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id, case_id, {', '.join(EVENT_FIELDS)} FROM {EVENT_TABLE} "
            "WHERE case_id = ANY(%s)",
            [list(case_ids)],
        )
        return cursor.fetchall()


def reported_event_times(case_ids: Sequence[int]) -> set[tuple[int, str, datetime]]:
    """``(case_id, event_type, occurred_at)`` of the reported (non-synthetic) events."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT case_id, event_type, occurred_at FROM {EVENT_TABLE} "
            "WHERE case_id = ANY(%s) AND NOT synthetic",
            [list(case_ids)],
        )
        return set(cursor.fetchall())


def events_mark_reported(case_ids: Sequence[int], *, event_type: str) -> None:
    """Make the synthetic events of this type of these cases reported (non-synthetic)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {EVENT_TABLE} SET synthetic = false "
            "WHERE case_id = ANY(%s) AND synthetic AND event_type = %s",
            [list(case_ids), event_type],
        )


def events_delete(*, ids: Sequence[int] = (), synthetic_of: Sequence[int] = ()) -> int:
    """Delete events by id, and the synthetic events of the cases ``synthetic_of``."""
    deleted = 0
    with connection.cursor() as cursor:
        if ids:
            cursor.execute(f"DELETE FROM {EVENT_TABLE} WHERE id = ANY(%s)", [list(ids)])
            deleted += cursor.rowcount
        if synthetic_of:
            cursor.execute(
                f"DELETE FROM {EVENT_TABLE} WHERE case_id = ANY(%s) AND synthetic",
                [list(synthetic_of)],
            )
            deleted += cursor.rowcount
    return deleted


def events_insert(rows: Iterable[Sequence[Any]], *, now: datetime) -> int:
    """COPY events in; each row is ``(case_id, *EVENT_FIELDS)``."""
    count = 0
    sql = f"COPY {EVENT_TABLE} ({', '.join(EVENT_COLUMNS)}) FROM STDIN (FORMAT BINARY)"
    with connection.cursor() as cursor:
        types = _column_types(cursor, EVENT_TABLE, EVENT_COLUMNS)
        with _copy(cursor, sql) as copy:
            copy.set_types(types)
            for row in rows:
                copy.write_row((*row, now))
                count += 1
    return count
