"""Writes of the rollups: the full rebuild, and the check that compares them with one.

Day to day the triggers keep the rollups current (metrics.rollups.ddl); the rebuild is the
repair and the proof: it recomputes every row from the case and event tables.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connection, transaction

from metrics.rollups.ddl import FOLD, REBUILD, ZERO
from metrics.rollups.spec import PENDING, TABLES, RollupTable


def _lock_rollups(cursor) -> None:  # type: ignore[no-untyped-def]
    # EXCLUSIVE blocks the triggers' writes (ROW EXCLUSIVE) but not readers: a case
    # written during the rebuild waits at its trigger, and its facts land after the
    # rebuild commits, on the rebuilt rows; the rebuild's reads, taken after the lock, see
    # every write committed before it. Readers keep the old rows until the commit. The
    # pending table first: a writer appends there before it folds into the tables.
    names = ", ".join((PENDING, *(t.name for t in TABLES)))
    cursor.execute(f"LOCK TABLE {names} IN EXCLUSIVE MODE")


@transaction.atomic
def rollups_rebuild() -> dict[str, int]:
    """Recompute every rollup row from the case and event tables, in one transaction.

    Idempotent: a second run gives the same rows. Writers of cases wait for it (about
    10 s at 1M cases); readers do not. Returns the number of rows per table.
    """
    with connection.cursor() as cursor:
        _lock_rollups(cursor)
        cursor.execute(f"SELECT {REBUILD}()")
        counts = {}
        for table in TABLES:
            cursor.execute(f"SELECT count(*) FROM {table.name}")
            counts[table.name] = cursor.fetchone()[0]
    return counts


def rollups_compact() -> bool:
    """Rewrite the rollup tables compactly, in key order (``CLUSTER`` on the unique key),
    and the pending table (``VACUUM FULL``).

    A bulk load (``seed_demo``, a large import, a rebuild) updates each row many times in
    one transaction and leaves the tables several times their live size, which the
    unfiltered figures then read; in key order, a team's or a rep's rows are also
    contiguous for the filtered ones. Each table is locked for the seconds its rewrite
    takes. Neither command runs inside a transaction: called inside one (a caller's atomic
    block), this does nothing and returns False.
    """
    if connection.in_atomic_block:
        return False
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM (FULL, ANALYZE) {PENDING}")
        for table in TABLES:
            cursor.execute(f"CLUSTER {table.name} USING {table.key_index}")
            cursor.execute(f"ANALYZE {table.name}")
    return True


@dataclass(frozen=True)
class RollupDifference:
    """How a rollup table differs from a rebuild: rows only in the table as kept by the
    triggers (``stale``) and rows only in the rebuild (``missing``); all-zero rows ignored."""

    table: str
    stale: int
    missing: int


def _nonzero_rows(table: RollupTable, relation: str) -> str:
    columns = ", ".join((*table.key, *table.measures))
    nonzero = " OR ".join(f"{m} <> {ZERO}" for m in table.measures)
    return f"SELECT {columns} FROM {relation} WHERE {nonzero}"


def rollups_check() -> list[RollupDifference]:
    """Compare the rollups with a fresh rebuild and leave them as they were.

    The pending facts are folded first (that changes how the rows are stored, not what
    they add up to); the rebuild runs in a savepoint that is rolled back. An empty list
    means the incrementally kept rows are exactly the rebuilt ones.
    """
    differences = []
    with transaction.atomic(), connection.cursor() as cursor:
        _lock_rollups(cursor)
        cursor.execute(f"SELECT {FOLD}()")
        for table in TABLES:
            cursor.execute(
                f"CREATE TEMPORARY TABLE kept_{table.name} ON COMMIT DROP AS "
                f"{_nonzero_rows(table, table.name)}"
            )
        sid = transaction.savepoint()
        cursor.execute(f"SELECT {REBUILD}()")
        for table in TABLES:
            kept, rebuilt = f"kept_{table.name}", _nonzero_rows(table, table.name)
            cursor.execute(
                f"SELECT (SELECT count(*) FROM (SELECT * FROM {kept} EXCEPT ALL {rebuilt}) s), "
                f"(SELECT count(*) FROM ({rebuilt} EXCEPT ALL SELECT * FROM {kept}) m)"
            )
            stale, missing = cursor.fetchone()
            if stale or missing:
                differences.append(RollupDifference(table.name, stale, missing))
        transaction.savepoint_rollback(sid)
        for table in TABLES:
            cursor.execute(f"DROP TABLE kept_{table.name}")
    return differences
