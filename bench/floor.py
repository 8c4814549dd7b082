"""The floor of a request: the bare SQL that computes its figures, timed on a raw connection.

``capture`` runs the request once in this process (Django's test client) under
``CaptureQueriesContext``, and keeps each statement's text exactly as it was sent (Django's
client-side binding sends the parameters inline) and the rows it returned. ``time_floor``
re-runs those statements on a psycopg connection made with Django's own connection
parameters (same type loaders, time zone, ``jit=off``) but without Django: execute and fetch
every row, nothing else. Statements that only read the user, its token or its session
(authentication, not the figure) and transaction control are left out of the floor; every
other statement of the request is in it, including the small look-ups of the caller's scope.

A request slower than the benchmark's time budget is not run again: ``floor_from_capture``
takes its statements' execute-and-fetch times from the capture run instead (recorded as
``floor_method: "capture"``, with no row comparison).
"""

from __future__ import annotations

import functools
import math
import re
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import psycopg
from django.db import connection
from django.db.backends.signals import connection_created
from django.test.utils import CaptureQueriesContext

from bench.transport import Reply

AUTH_TABLES = frozenset(
    {
        "auth_user",
        "auth_group",
        "auth_permission",
        "auth_user_groups",
        "auth_user_user_permissions",
        "auth_group_permissions",
        "authtoken_token",
        "django_content_type",
        "django_session",
    }
)
CONTROL = re.compile(r"^\s*(SAVEPOINT|RELEASE\s+SAVEPOINT|ROLLBACK|BEGIN|COMMIT)\b", re.I)
SAME = ("same", "same within float rounding")  # verdicts that mean the floor is that figure's
TIMEOUT_UID = "bench-statement-timeout"
TABLE = re.compile(r'\b(?:FROM|JOIN|UPDATE|INTO)\s+"?([A-Za-z_][A-Za-z0-9_]*)"?', re.I)


@dataclass(frozen=True)
class Statement:
    sql: str
    rows: list[tuple[Any, ...]] | None  # None: no result set, or not captured
    kind: str  # "figure", "auth" or "control"
    tables: tuple[str, ...]
    captured_ms: float  # execute and fetch during the capture, on Django's connection


@dataclass(frozen=True)
class Floor:
    ms: float  # median over the runs of the summed statement times
    runs_ms: list[float]
    statements: list[dict[str, Any]]  # per figure statement: median ms, tables, SQL head
    # "same", "same within float rounding", "same rows, other order", "differ",
    # "nothing to compare" (no result sets), or "not re-run"
    rows_match: str
    mismatches: list[str]


@functools.cache
def _known_tables() -> frozenset[str]:
    return frozenset(connection.introspection.table_names())


def classify(sql: str) -> tuple[str, tuple[str, ...]]:
    """The statement's kind, and the tables it reads (CTE names and functions left out)."""
    known = _known_tables()
    tables = tuple(dict.fromkeys(t.lower() for t in TABLE.findall(sql) if t.lower() in known))
    if CONTROL.match(sql):
        return "control", tables
    if tables and set(tables) <= AUTH_TABLES:
        return "auth", tables
    return "figure", tables


TRANSACTION_CONTROL = frozenset({"BEGIN", "COMMIT", "ROLLBACK"})


def capture(request: Callable[[], Reply]) -> tuple[Reply, list[Statement]]:
    """Run ``request`` (an in-process request) and return its reply and its statements."""
    results: list[tuple[list[tuple[Any, ...]] | None, float]] = []

    def keep_rows(execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        started = time.perf_counter()
        outcome = execute(sql, params, many, context)
        cursor = context["cursor"]
        rows = None
        # A server-side (named) cursor streams and cannot rewind; its rows are not kept.
        if not many and cursor.description is not None and not getattr(cursor, "name", None):
            rows = cursor.fetchall()
            if rows:
                cursor.scroll(0, mode="absolute")  # the caller reads them again from the start
        results.append((rows, (time.perf_counter() - started) * 1000))
        return outcome

    with CaptureQueriesContext(connection) as captured, connection.execute_wrapper(keep_rows):
        reply = request()
    # Django logs transaction management (BEGIN, COMMIT, ROLLBACK: a KPI runs in a
    # transaction for its statement timeout) without executing a statement through the
    # wrapper; they are not part of the figure.
    queries = [q for q in captured.captured_queries if q["sql"] not in TRANSACTION_CONTROL]
    if len(queries) != len(results):
        raise AssertionError(f"captured {len(queries)} statements but {len(results)} results")
    statements = []
    for query, (rows, ms) in zip(queries, results, strict=True):
        kind, tables = classify(query["sql"])
        statements.append(Statement(query["sql"], rows, kind, tables, ms))
    return reply, statements


def raw_connection(statement_timeout_ms: int = 0) -> psycopg.Connection:
    """A psycopg connection configured as Django configures its own, used without Django."""
    connection.ensure_connection()
    raw: psycopg.Connection = connection.get_new_connection(connection.get_connection_params())
    raw.autocommit = True
    with raw.cursor() as cursor:
        cursor.execute(connection.ops.set_time_zone_sql(), [connection.timezone_name])
        cursor.execute(f"SET statement_timeout = {int(statement_timeout_ms)}")
    return raw


@contextmanager
def statement_timeout(ms: int) -> Iterator[None]:
    """Cap every statement of Django's connection (this one and any it reconnects to)."""

    def apply(sender: Any, connection: Any, **kwargs: Any) -> None:
        with connection.cursor() as cursor:
            cursor.execute(f"SET statement_timeout = {int(ms)}")

    connection_created.connect(apply, dispatch_uid=TIMEOUT_UID)
    if connection.connection is not None:
        apply(None, connection)
    try:
        yield
    finally:
        connection_created.disconnect(dispatch_uid=TIMEOUT_UID)
        # A new session rather than a RESET, which a short timeout could cancel too.
        connection.close()


def _head(sql: str, length: int = 220) -> str:
    flat = " ".join(sql.split())
    return flat if len(flat) <= length else flat[: length - 1] + "…"


def _close(a: Any, b: Any) -> bool:
    """Equal, or floats equal to 1e-9 relative: a float aggregate summed in another order
    (a parallel plan's workers finish in any order) differs in its last bits."""
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(_close(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def _verdict(captured: list[tuple[Any, ...]], rows: list[tuple[Any, ...]] | None) -> str:
    if rows == captured:
        return "same"
    if rows is not None and _close(rows, captured):
        return "same within float rounding"
    if rows is not None and sorted(map(repr, rows)) == sorted(map(repr, captured)):
        return "same rows, other order"
    return "differ"


def _compare(captured: list[Statement], rerun: list[list[tuple[Any, ...]] | None]) -> str:
    verdicts = [
        _verdict(statement.rows, rows)
        for statement, rows in zip(captured, rerun, strict=True)
        if statement.rows is not None
    ]
    if not verdicts:
        return "nothing to compare"
    for verdict in ("differ", "same rows, other order", "same within float rounding"):
        if verdict in verdicts:
            return verdict
    return "same"


def time_floor(
    raw: psycopg.Connection, statements: list[Statement], *, runs: int, warmup: int
) -> Floor:
    """Re-run the figure statements ``warmup + runs`` times; the first run's rows are
    compared with the captured ones."""
    figure = [s for s in statements if s.kind == "figure"]
    per_statement: list[list[float]] = [[] for _ in figure]
    totals: list[float] = []
    first_rows: list[list[tuple[Any, ...]] | None] = []
    for run in range(warmup + runs):
        total = 0.0
        for index, statement in enumerate(figure):
            with raw.cursor() as cursor:
                started = time.perf_counter()
                cursor.execute(statement.sql)  # no parameters: the text is as it was sent
                rows = cursor.fetchall() if cursor.description is not None else None
                ms = (time.perf_counter() - started) * 1000
            if run == 0:
                first_rows.append(rows)
            if run >= warmup:
                per_statement[index].append(ms)
                total += ms
        if run >= warmup:
            totals.append(total)
    mismatches = [
        _head(s.sql, 120)
        for s, rows in zip(figure, first_rows, strict=True)
        if s.rows is not None and _verdict(s.rows, rows) not in SAME
    ]
    return Floor(
        ms=statistics.median(totals) if totals else 0.0,
        runs_ms=totals,
        statements=[
            {
                "ms": round(statistics.median(times), 2) if times else None,
                "rows": len(s.rows) if s.rows is not None else None,
                "tables": list(s.tables),
                "sql": _head(s.sql),
            }
            for s, times in zip(figure, per_statement, strict=True)
        ],
        rows_match=_compare(figure, first_rows),
        mismatches=mismatches,
    )


def floor_from_capture(statements: list[Statement]) -> Floor:
    """The floor of a request too slow to run again: its statements' execute-and-fetch
    times during the capture itself (Django's cursor, no ORM or view work in the timing).
    No re-run, so no rows to compare."""
    figure = [s for s in statements if s.kind == "figure"]
    total = sum(s.captured_ms for s in figure)
    return Floor(
        ms=total,
        runs_ms=[total],
        statements=[
            {
                "ms": round(s.captured_ms, 2),
                "rows": len(s.rows) if s.rows is not None else None,
                "tables": list(s.tables),
                "sql": _head(s.sql),
            }
            for s in figure
        ],
        rows_match="not re-run",
        mismatches=[],
    )
