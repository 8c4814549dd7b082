"""Every rollup at once: the weekly rebuild job and ``manage.py rollups_rebuild`` run these.

Each rollup family keeps its own rebuild, check and compaction beside its triggers (the
hourly counts in metrics.rollups.services, resolution and response durations, CSAT, case
load, accounts); a caller that means "all of them" calls these, so a new family is added
in one place.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from metrics.rollups import accounts, csat, durations, load
from metrics.rollups.services import (
    RollupDifference,
    rollups_check,
    rollups_compact,
    rollups_rebuild,
)


def rebuild_every_rollup() -> dict[str, int]:
    """Recompute every rollup from the case tables (one transaction per family); the
    number of rows per table."""
    counts = rollups_rebuild()
    counts[durations.TABLE] = durations.durations_rebuild()
    counts.update(csat.csat_rollup_rebuild())
    counts[load.FACT] = load.load_rollup_rebuild()
    counts[accounts.TABLE] = accounts.account_rollup_rebuild()
    return counts


def compact_every_rollup() -> bool:
    """Rewrite every rollup table compactly; False (and nothing done) inside a transaction."""
    return all((rollups_compact(), load.load_rollup_compact(), accounts.account_rollup_compact()))


def check_every_rollup() -> list[RollupDifference]:
    """Compare every rollup with a recomputation and change nothing; empty means exact."""
    differences = list(rollups_check())
    if (d := durations.durations_check()) is not None:
        differences.append(RollupDifference(durations.TABLE, d.stale, d.missing))
    differences += [RollupDifference(d.table, d.stale, d.missing) for d in csat.csat_rollup_check()]
    if (kept := load.load_rollup_check()) is not None:
        for table, stale, missing in (
            (load.FACT, kept.facts_stale, kept.facts_missing),
            (load.DAY, kept.days_stale, kept.days_missing),
        ):
            if stale or missing:
                differences.append(RollupDifference(table, stale, missing))
    stale, missing = accounts.account_rollup_check()
    if stale or missing:
        differences.append(RollupDifference(accounts.TABLE, stale, missing))
    return differences


# The families whose triggers recompute each touched case's facts from the case tables:
# (trigger-name prefix, rebuild function). Cheap for a request's writes; for a bulk load
# of a million cases with its indexes dropped (the demo seed) each statement would read
# whole tables, so such a load defers them (``per_case_rollups_deferred``).
PER_CASE_FAMILIES = (
    ("metrics_durations_", durations.REBUILD),
    ("metrics_csat_", csat.REBUILD),
    ("metrics_load_", load.REBUILD),
    ("metrics_account_rollup_", accounts.REBUILD),
)


@contextmanager
def per_case_rollups_deferred(cursor: Any, tables: Sequence[str]) -> Iterator[None]:
    """Inside one transaction that holds ``tables`` exclusively (after a ``TRUNCATE``):
    disable those families' triggers on ``tables``, and on the way out recompute the
    families from the tables and enable the triggers again. If the load fails, the
    rollback restores the triggers."""
    prefixes = [prefix for prefix, _ in PER_CASE_FAMILIES]
    cursor.execute(
        "SELECT tgrelid::regclass::text, tgname FROM pg_trigger "
        "WHERE tgrelid = ANY(%s::regclass[]) AND NOT tgisinternal "
        "AND tgname LIKE ANY(%s) ORDER BY 1, 2",
        [list(tables), [f"{p}%" for p in prefixes]],
    )
    triggers = cursor.fetchall()
    for table, name in triggers:
        cursor.execute(f'ALTER TABLE {table} DISABLE TRIGGER "{name}"')
    yield
    for table in tables:  # the rebuilds are planned on the loaded tables' statistics
        cursor.execute(f"ANALYZE {table}")
    for _, rebuild in PER_CASE_FAMILIES:
        cursor.execute(f"SELECT {rebuild}()")
    for table, name in triggers:
        cursor.execute(f'ALTER TABLE {table} ENABLE TRIGGER "{name}"')
