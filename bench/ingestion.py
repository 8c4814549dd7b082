"""Ingest rates: the bulk API over HTTP and the CSV import, each beside a bare ``COPY``.

The cases are new (fresh external ids under a source of their own, ``benchmark-…``), as a
help desk back-filling its history sends them: every status, mostly assigned, answered and
closed, opened over the data set's two years. Resolutions are days old, so no survey
invitation (and no email) is due. The floor is PostgreSQL's binary ``COPY`` of exactly the
rows the ingest stored (cases, then their events) into scratch copies of the tables
(``CREATE TEMP TABLE … (LIKE … INCLUDING ALL)``: same columns, defaults, checks and
indexes; no foreign keys, no triggers, no WAL since temporary tables are not logged).
"""

from __future__ import annotations

import csv
import io
import json
import random
import statistics
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
from psycopg import sql

from bench.transport import Auth, HttpTransport, Transport
from cases.models import Account, Case, CaseEvent, Category, Representative

BULK_PATH = "/api/v1/cases/bulk/"
BATCH = 100
STATUSES = (("closed", 80), ("resolved", 3), ("open", 9), ("pending", 4), ("new", 4))
CHANNELS = ("email", "email", "email", "chat", "phone", "web_form", "in_app", "social")
PRIORITIES = ("low", "normal", "normal", "normal", "high", "urgent")
CSV_COLUMNS = (
    "source",
    "external_id",
    "opened_at",
    "channel",
    "category",
    "status",
    "priority",
    "account",
    "assignee",
    "assigned_at",
    "first_response_at",
    "resolved_at",
    "closed_at",
    "agent_response_count",
    "reopened_count",
    "subject",
    "requester_email",
    "requester_name",
)


@dataclass(frozen=True)
class References:
    reps: list[str]  # usernames of active representatives
    categories: list[str]  # slugs of active categories
    accounts: list[str]  # external ids of active accounts


def references() -> References:
    reps = Representative.objects.filter(active=True, role=Representative.Role.REP)
    return References(
        reps=sorted(reps.values_list("user__username", flat=True)),
        categories=sorted(Category.objects.filter(active=True).values_list("slug", flat=True)),
        accounts=sorted(
            Account.objects.filter(status=Account.Status.ACTIVE).values_list(
                "external_id", flat=True
            )
        ),
    )


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def make_cases(
    n: int, *, source: str, refs: References, now: datetime, seed: int
) -> list[dict[str, Any]]:
    """``n`` consistent case snapshots opened 10 days to 2 years before ``now``."""
    rng = random.Random(seed)
    statuses = [status for status, weight in STATUSES for _ in range(weight)]
    span = int(timedelta(days=720).total_seconds())
    items = []
    for i in range(n):
        status = rng.choice(statuses)
        opened = now - timedelta(days=10) - timedelta(seconds=rng.randrange(span))
        item: dict[str, Any] = {
            "source": source,
            "external_id": f"{source}-{i:07d}",
            "opened_at": _iso(opened),
            "channel": rng.choice(CHANNELS),
            "category": rng.choice(refs.categories),
            "status": status,
            "priority": rng.choice(PRIORITIES),
            "subject": f"Benchmark case {i}: invoice question",
            "requester_email": f"requester{rng.randrange(20_000)}@example.org",
            "requester_name": f"Requester {rng.randrange(20_000)}",
        }
        if refs.accounts and rng.random() < 0.9:
            item["account"] = rng.choice(refs.accounts)
        moment = opened
        if status != "new":
            item["assignee"] = rng.choice(refs.reps)
            moment += timedelta(minutes=rng.randrange(1, 120))
            item["assigned_at"] = _iso(moment)
        if (status not in ("new", "open") or rng.random() < 0.5) and "assignee" in item:
            moment += timedelta(minutes=rng.randrange(5, 8 * 60))
            item["first_response_at"] = _iso(moment)
            item["agent_response_count"] = rng.randrange(1, 6)
        if status in ("resolved", "closed"):
            moment += timedelta(minutes=rng.randrange(30, 3 * 24 * 60))
            item["resolved_at"] = _iso(moment)
            item["reopened_count"] = 1 if rng.random() < 0.06 else 0
        if status == "closed":
            item["closed_at"] = _iso(moment + timedelta(days=5))
        items.append(item)
    return items


def cases_csv(items: list[dict[str, Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(items)
    return out.getvalue().encode()


def bulk_api(
    make_transport: Any,
    *,
    token: str,
    items: list[dict[str, Any]],
    warmup_items: list[dict[str, Any]],
    clients: int,
) -> dict[str, Any]:
    """Post ``items`` in 100-case batches from ``clients`` threads; cases/s over wall time.

    Each thread first posts one batch of ``warmup_items`` (untimed), so every worker has
    its calendars and connection ready."""
    auth = Auth(token=token)
    bodies = [json.dumps(items[i : i + BATCH]).encode() for i in range(0, len(items), BATCH)]
    warm = [
        json.dumps(warmup_items[i : i + BATCH]).encode() for i in range(0, len(warmup_items), BATCH)
    ]
    lock = threading.Lock()
    pending = list(reversed(bodies))
    latencies: list[float] = []
    counts: dict[str, int] = {}
    errors: list[str] = []
    ready = threading.Barrier(clients + 1)

    def post(transport: Transport, body: bytes) -> None:
        reply = transport.request("POST", BULK_PATH, auth, body)
        with lock:
            latencies.append(reply.ms)
            if reply.status != 200:
                errors.append(f"HTTP {reply.status}: {reply.body[:300].decode(errors='replace')}")
                return
            for result in json.loads(reply.body)["results"]:
                outcome = result.get("result", "error")
                counts[outcome] = counts.get(outcome, 0) + 1
                if outcome == "error" and len(errors) < 10:
                    errors.append(json.dumps(result)[:300])

    def client(index: int) -> None:
        transport: Transport = make_transport()
        try:
            if index < len(warm):
                transport.request("POST", BULK_PATH, auth, warm[index])
            ready.wait()
            while True:
                with lock:
                    if not pending:
                        break
                    body = pending.pop()
                post(transport, body)
        finally:
            transport.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    ready.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    ordered = sorted(latencies)
    stored = sum(n for outcome, n in counts.items() if outcome != "error")
    return {
        "cases": len(items),
        "batch": BATCH,
        "clients": clients,
        "seconds": round(seconds, 2),
        # Cases the API stored (created, updated or unchanged) per second of wall time; a
        # batch that failed stored none of its cases.
        "cases_per_s": round(stored / seconds),
        "stored": stored,
        "failed_batches": sum(e.startswith("HTTP ") for e in errors),
        "batch_ms_median": round(statistics.median(ordered), 1) if ordered else None,
        "batch_ms_p95": round(ordered[int(0.95 * (len(ordered) - 1))], 1) if ordered else None,
        "results": counts,
        "errors": errors,
    }


def http_transport_factory(port: int) -> Any:
    return lambda: HttpTransport(port)


def csv_import(items: list[dict[str, Any]], *, source: str) -> dict[str, Any]:
    """The import service (what ``manage.py import_cases`` runs), in this process."""
    from cases.imports import case_import

    data = cases_csv(items)
    started, cpu = time.perf_counter(), time.process_time()
    report = case_import(cases=io.BytesIO(data), source=source).as_dict()
    seconds = time.perf_counter() - started
    return {
        "rows": len(items),
        "bytes": len(data),
        "seconds": round(seconds, 2),
        "rows_per_s": round(len(items) / seconds),
        "python_cpu_s": round(time.process_time() - cpu, 2),
        "cases": report["cases"],
        "events_created": report["events"]["created"],
    }


def _dump(cursor: psycopg.Cursor, statement: sql.Composed) -> bytes:
    buffer = bytearray()
    with cursor.copy(statement) as copy:
        for chunk in copy:
            buffer += chunk
    return bytes(buffer)


def _load(cursor: psycopg.Cursor, table: str, data: bytes) -> float:
    started = time.perf_counter()
    statement = sql.SQL("COPY {} FROM STDIN (FORMAT BINARY)").format(sql.Identifier(table))
    with cursor.copy(statement) as copy:
        for offset in range(0, len(data), 1 << 20):
            copy.write(data[offset : offset + (1 << 20)])
    return time.perf_counter() - started


def copy_floor(raw: psycopg.Connection, *, source: str) -> dict[str, Any]:
    """Binary COPY of the cases stored under ``source``, and of their events, into temporary
    copies of the tables (autocommit: each COPY commits, as the ingest does)."""
    case_table, event_table = Case._meta.db_table, CaseEvent._meta.db_table
    scratch_case, scratch_event = "bench_copy_case", "bench_copy_event"
    with raw.cursor() as cursor:
        for scratch, table in ((scratch_case, case_table), (scratch_event, event_table)):
            cursor.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(scratch)))
            cursor.execute(
                sql.SQL("CREATE TEMP TABLE {} (LIKE {} INCLUDING ALL)").format(
                    sql.Identifier(scratch), sql.Identifier(table)
                )
            )
        chosen = sql.SQL("SELECT id FROM {} WHERE source = {}").format(
            sql.Identifier(case_table), sql.Literal(source)
        )
        cases = _dump(
            cursor,
            sql.SQL(
                "COPY (SELECT * FROM {} WHERE id IN ({}) ORDER BY id) TO STDOUT (FORMAT BINARY)"
            ).format(sql.Identifier(case_table), chosen),
        )
        events = _dump(
            cursor,
            sql.SQL(
                "COPY (SELECT * FROM {} WHERE case_id IN ({}) ORDER BY id) TO STDOUT "
                "(FORMAT BINARY)"
            ).format(sql.Identifier(event_table), chosen),
        )
        case_seconds = _load(cursor, scratch_case, cases)
        event_seconds = _load(cursor, scratch_event, events)
        counts = []
        for scratch in (scratch_case, scratch_event):
            cursor.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(scratch)))
            counts.append(cursor.fetchone()[0])  # type: ignore[index]
            cursor.execute(sql.SQL("DROP TABLE {}").format(sql.Identifier(scratch)))
    n_cases, n_events = counts
    return {
        "cases": n_cases,
        "events": n_events,
        "cases_seconds": round(case_seconds, 3),
        "events_seconds": round(event_seconds, 3),
        "cases_rows_per_s": round(n_cases / case_seconds) if case_seconds else None,
        "cases_with_events_per_s": (
            round(n_cases / (case_seconds + event_seconds)) if n_cases else None
        ),
    }
